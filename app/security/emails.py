"""E-mail addresses: the one check for every address stored for a person.

An address names an account, so it must read as what it is: a control or format
character (a right-to-left override, a zero-width space) makes an address display as
another one in a list, an audit trail or a mail client. Beyond that the check is
``email-validator``'s (syntax only; no DNS lookup at the request's expense).
"""

from __future__ import annotations

import unicodedata

from email_validator import EmailNotValidError, validate_email

#: Control (Cc) and format (Cf) characters: bidirectional overrides and isolates,
#: zero-width spaces and joiners, soft hyphens, line breaks.
_HIDDEN = frozenset({"Cc", "Cf"})


class InvalidEmail(ValueError):
    """An address no person may be stored with; ``str()`` says why, in a sentence."""


def checked_email(text: str) -> str:
    """The address as Parley stores and compares it (lower case, normalized), or raises.

    Surrounding white space is ignored; anything hidden inside is refused by name.
    """
    address = (text or "").strip()
    hidden = dict.fromkeys(f"U+{ord(c):04X}" for c in address if unicodedata.category(c) in _HIDDEN)
    if hidden:
        raise InvalidEmail(
            f"The address contains an invisible or control character ({', '.join(hidden)}); "
            "type it again rather than pasting it."
        )
    if not address:
        raise InvalidEmail("Enter an e-mail address.")
    try:
        return validate_email(address.lower(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise InvalidEmail(str(exc)) from exc


def lookup_form(text: str) -> str:
    """The form to look an address up by (sign-in, password reset): the stored form when
    the address is valid, else as typed, lower case, which then simply matches nobody."""
    try:
        return checked_email(text)
    except InvalidEmail:
        return (text or "").strip().lower()
