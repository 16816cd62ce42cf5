"""Single sign-on with a district's SAML 2.0 identity provider (ADFS, Shibboleth).

pysaml2 writes the AuthnRequest (HTTP-Redirect) and reads the answer (HTTP-POST), with
Debian's ``xmlsec1`` checking each signature against the certificates in the metadata the
program admin gave, never against a key the answer carries. pysaml2 checks that the
assertion is signed, that it answers a request this browser has outstanding (nothing
unsolicited), its recipient and destination (our ACS address) and its time limits.
Parley adds what pysaml2 leaves loose: the assertion must name us in an audience
restriction (pysaml2 accepts one with none), must come from the configured provider, must
not be signed with SHA-1 or MD5, and must name the person the same way each time (no
transient NameID); and an assertion is accepted once (``SamlAssertionUse``).

The person is then matched exactly as the OpenID Connect flow matches them (``sso``): by
the provider's name for them, then by address, with the district's domains and its rule
for newcomers, so both protocols treat a returning person, a newcomer and a refusal alike.
What the provider sent is never shown: refusals are fixed sentences.
"""

from __future__ import annotations

import binascii
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NoReturn

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.response import StatusError, UnsolicitedResponse
from saml2.saml import (
    NAMEID_FORMAT_EMAILADDRESS,
    NAMEID_FORMAT_TRANSIENT,
)
from saml2.sigver import MissingKey, SigverError
from saml2.validate import ResponseLifetimeExceed, ToEarly
from sqlalchemy import delete, select

from app.core import uow
from app.extensions import db
from app.models.base import utcnow
from app.models.sso import PROTOCOLS as PROTOCOLS  # the pages name the protocols by it
from app.models.sso import SamlAssertionUse, SsoSettings
from app.models.user import User
from app.services import audit, saml_metadata, sso
from app.services.actors import Actor
from app.services.errors import NotFound, ServiceError, ValidationFailed
from app.tenants.context import require_tenant_id

#: How long a started sign-in waits for the provider's answer.
PENDING_MINUTES = 10
#: Kept when an assertion states no end of its own (the answer is refused a day after it
#: was issued anyway).
_DEFAULT_USE_DAYS = 1
_WEAK_ALGORITHMS = ("sha1", "md5")
#: Where providers put the e-mail address and the name (Shibboleth's names are converted by
#: pysaml2 to ``mail`` and ``displayName``; ADFS sends its claim URIs as they are).
_EMAIL_ATTRIBUTES = (
    "mail",
    "email",
    "emailAddress",
    "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
    "urn:oid:0.9.2342.19200300.100.1.3",
)
_NAME_ATTRIBUTES = (
    "displayName",
    "cn",
    "http://schemas.microsoft.com/identity/claims/displayname",
    "urn:oid:2.16.840.1.113730.3.1.241",
)

_log = logging.getLogger(__name__)

#: The sentences a refused answer is shown with, by the reason the audit trail keeps.
REFUSALS = {
    "not started": "This sign-in was not started here or has expired. Start again.",
    "unreadable": "The identity provider's answer could not be read. Start again.",
    "signature": "The answer is not signed by the district's identity provider.",
    "weak signature": "The answer is signed with a weak algorithm (SHA-1); ask the district "
    "to sign with SHA-256.",
    "unsolicited": "The answer does not belong to this sign-in.",
    "audience": "The answer was meant for another service, not this district's Parley.",
    "recipient": "The answer was addressed to another place than this district's Parley.",
    "issuer": "The answer came from another identity provider than the district's.",
    "expired": "The answer has expired (or the identity provider's clock is wrong). Sign in again.",
    "provider refused": "The identity provider did not sign you in.",
    "replayed": "This answer was already used to sign in. Start again.",
    "transient name": "The identity provider names you differently at each sign-in "
    "(a transient NameID); ask the district to send a persistent one or your e-mail address.",
    "no address": "The identity provider did not send an e-mail address.",
    "invalid": "The answer is not a valid sign-in.",
}


@dataclass(frozen=True)
class Pending:
    """A sign-in this browser started: the AuthnRequest its answer must respond to."""

    tenant_id: int
    request_id: str

    def as_dict(self) -> dict:
        return {"tenant_id": self.tenant_id, "request_id": self.request_id}


class SignInRefused(ServiceError):
    status = 401


# --- settings -------------------------------------------------------------------------------


def settings() -> SsoSettings | None:
    """The district's single sign-on settings, whichever protocol they are for."""
    return db.session.execute(select(SsoSettings)).scalar_one_or_none()


def active() -> SsoSettings | None:
    """The district's settings if it signs in through a SAML provider now."""
    current = settings()
    if current is None or not current.enabled or current.protocol != "saml":
        return None
    return current


def identity_provider(
    current: SsoSettings | None,
) -> saml_metadata.saml_metadata.IdentityProvider | None:
    """The provider a SAML district's stored metadata describes (for its settings page)."""
    if current is None or current.protocol != "saml" or not current.saml_idp_metadata:
        return None
    try:
        return saml_metadata.read_metadata(current.saml_idp_metadata)
    except ValidationFailed:
        return None


def save_settings(data: Mapping, actor: Actor | None = None) -> SsoSettings:
    """Make SAML the district's single sign-on with this provider (validated, audited).

    A district uses one protocol: an OpenID Connect client it had is forgotten, and when
    the provider changes, so are the links between its people and the former provider's
    names for them (the new provider names them its own way).
    """
    tenant_id = require_tenant_id()
    errors: dict[str, list[str]] = {}
    provider = None
    upload = data.get("idp_metadata_file")
    try:
        provider = saml_metadata.read_metadata(upload if upload else data.get("idp_metadata") or "")
    except ValidationFailed as exc:
        errors.update(exc.errors)
    if saml_metadata.xmlsec_binary() is None:
        errors.setdefault("idp_metadata", []).append(
            "This server cannot check SAML signatures: install xmlsec1 (Debian's package)."
        )
    common = sso.common_fields(data, errors)
    if errors:
        raise ValidationFailed(errors)
    current = settings()
    before = _public(current) if current else None
    if current is None:
        current = SsoSettings(tenant_id=tenant_id, client_id="")
        db.session.add(current)
    relinked = (before or {}).get("idp") != provider.entity_id
    current.protocol = "saml"
    common.apply(current)
    current.label = str(data.get("label") or "").strip()[:80] or "your district"
    current.issuer = provider.entity_id
    current.client_id = ""
    current.client_secret_encrypted = None
    current.saml_idp_metadata = saml_metadata.metadata_text(
        upload if upload else data.get("idp_metadata")
    )
    db.session.flush()
    forgotten = _forget_links() if relinked and before is not None else 0
    audit.record(
        tenant_id,
        "sso.settings_changed",
        "sso_settings",
        current.id,
        before=before,
        after={**_public(current), "links_forgotten": forgotten},
        actor=actor,
    )
    return current


def save_oidc_settings(data: Mapping, actor: Actor | None = None) -> SsoSettings:
    """Save the OpenID Connect form; a SAML district moves to OpenID Connect with it.

    The SAML settings are removed first (audited), so the OpenID Connect settings start
    afresh: the client secret is asked for, and no link to a SAML name is kept.
    """
    tenant_id = require_tenant_id()
    current = settings()
    if current is not None and current.protocol == "saml":
        audit.record(
            tenant_id,
            "sso.protocol_changed",
            "sso_settings",
            current.id,
            before=_public(current),
            after={"protocol": "oidc", "links_forgotten": _forget_links()},
            actor=actor,
        )
        db.session.delete(current)
        db.session.flush()
    return sso.save_settings(tenant_id, data, actor)


def _public(current: SsoSettings) -> dict:
    shown = {
        "protocol": current.protocol,
        "enabled": current.enabled,
        "label": current.label,
        "allowed_domains": list(current.allowed_domains or []),
        "passwords_allowed": current.passwords_allowed,
        "new_users": current.new_users,
    }
    if current.protocol == "saml":
        digest = hashlib.sha256((current.saml_idp_metadata or "").encode()).hexdigest()
        return {**shown, "idp": current.issuer, "metadata_sha256": digest}
    return {**shown, "issuer": current.issuer, "client_id": current.client_id}


def _forget_links() -> int:
    """Unlink every person of the district from the provider's former names for them."""
    linked = db.session.execute(select(User).where(User.sso_subject.is_not(None))).scalars()
    count = 0
    for user in linked:
        user.sso_subject = None
        count += 1
    return count


# --- the sign-in flow -----------------------------------------------------------------------


def begin(sp: saml_metadata.ServiceProvider) -> tuple[str, Pending]:
    """The provider's address with our AuthnRequest, and the request the answer must match."""
    current = _require()
    provider = _provider(current)
    client = _client(sp, current)
    request_id, info = client.prepare_for_authenticate(
        entityid=provider.entity_id, binding=BINDING_HTTP_REDIRECT
    )
    location = dict(info["headers"])["Location"]
    return location, Pending(current.tenant_id, request_id)


def complete(
    sp: saml_metadata.ServiceProvider, pending: Mapping | None, saml_response: str
) -> User:
    """Check the provider's answer and return the person it signs in (the caller commits)."""
    current = _require()
    tenant_id = current.tenant_id
    if not pending or pending.get("tenant_id") != tenant_id or not pending.get("request_id"):
        # Nobody started a sign-in in this browser: nothing to audit but noise.
        _log.info("SAML tenant %s: an answer came with no sign-in started", tenant_id)
        raise SignInRefused({"saml": [REFUSALS["not started"]]}, 400)
    client = _client(sp, current)
    try:
        response = client.parse_authn_request_response(
            saml_response,
            BINDING_HTTP_POST,
            outstanding={str(pending["request_id"]): ""},
        )
    except Exception as exc:  # pysaml2 raises bare Exceptions for some checks
        _log.info("SAML tenant %s: the answer was refused: %r", tenant_id, exc)
        _refuse(current, _reason(exc))
    if response is None or response.assertion is None:
        _refuse(current, _loose_reason(response, sp))
    reason = _checked(response, current, sp)
    if reason:
        _refuse(current, reason)
    _use_once(current, response)
    claims = _claims(response)
    if claims is None:
        _refuse(current, "transient name")
    if not claims["email"]:
        _refuse(current, "no address")
    return sso.person_for(current, claims)


def _reason(exc: Exception) -> str:
    """Which check an answer failed, from what pysaml2 raised."""
    text = str(exc)
    if isinstance(exc, (MissingKey, SigverError)) or "ignature" in text:
        return "signature"
    if isinstance(exc, UnsolicitedResponse) or "don't recall" in text or "Came from" in text:
        return "unsolicited"
    if isinstance(exc, (ResponseLifetimeExceed, ToEarly)):
        return "expired"
    if isinstance(exc, StatusError):
        return "provider refused"
    if "AudienceRestrictions" in text:
        return "audience"
    if "recipient" in text.lower():
        return "recipient"
    if isinstance(exc, (binascii.Error, ValueError)) or "not well-formed" in text:
        return "unreadable"
    return "invalid"


def _loose_reason(response, sp: saml_metadata.ServiceProvider) -> str:
    """pysaml2 answers without an assertion (rather than raising) when the destination or
    the time of issue is wrong."""
    if response is None or response.response is None:
        return "unreadable"
    if response.response.destination and response.response.destination != sp.acs_url:
        return "recipient"
    return "expired"


def _checked(response, current: SsoSettings, sp: saml_metadata.ServiceProvider) -> str | None:
    """What pysaml2 leaves to us: the issuer, an audience naming us, the algorithms, and the
    response itself addressed to us when it says where it goes."""
    assertion = response.assertion
    issuer = (assertion.issuer.text or "").strip() if assertion.issuer is not None else ""
    if issuer != current.issuer:
        return "issuer"
    restrictions = assertion.conditions.audience_restriction if assertion.conditions else []
    audiences = {(a.text or "").strip() for r in restrictions for a in r.audience}
    if sp.entity_id not in audiences:
        return "audience"
    if response.response.destination not in (None, sp.acs_url):
        return "recipient"
    if assertion.signature is None:
        return "signature"
    info = assertion.signature.signed_info
    algorithms = [info.signature_method.algorithm] + [
        r.digest_method.algorithm for r in info.reference
    ]
    if any(weak in (a or "").lower() for a in algorithms for weak in _WEAK_ALGORITHMS):
        return "weak signature"
    return None


def _use_once(current: SsoSettings, response) -> None:
    """Remember the assertion until it expires; refuse it if it was used before."""
    now = utcnow()
    db.session.execute(delete(SamlAssertionUse).where(SamlAssertionUse.expires_at < now))
    key = hashlib.sha256(f"{current.issuer}\n{response.assertion.id}".encode()).hexdigest()
    if db.session.execute(
        select(SamlAssertionUse.id).where(SamlAssertionUse.assertion_key == key)
    ).first():
        _refuse(current, "replayed")
    ends = response.not_on_or_after or 0
    expires = (
        datetime.fromtimestamp(ends, UTC) + timedelta(seconds=saml_metadata.CLOCK_SKEW)
        if ends
        else now + timedelta(days=_DEFAULT_USE_DAYS)
    )
    db.session.add(
        SamlAssertionUse(
            tenant_id=current.tenant_id, assertion_key=key, expires_at=max(expires, now)
        )
    )
    db.session.flush()


def _claims(response) -> dict | None:
    """The provider's statement in the terms ``sso`` matches people by, or None when the
    NameID changes at every sign-in (it could not find the person again)."""
    name_id = response.name_id
    if name_id is None or name_id.format == NAMEID_FORMAT_TRANSIENT or not name_id.text:
        return None
    attributes = response.ava or {}
    email = _first(attributes, _EMAIL_ATTRIBUTES)
    if not email and name_id.format == NAMEID_FORMAT_EMAILADDRESS:
        email = name_id.text
    return {
        "sub": name_id.text.strip(),
        "email": (email or "").strip(),
        "name": _first(attributes, _NAME_ATTRIBUTES) or None,
    }


def _first(attributes: Mapping, names: tuple[str, ...]) -> str:
    for name in names:
        values = attributes.get(name) or []
        if values and str(values[0]).strip():
            return str(values[0]).strip()
    return ""


def _refuse(current: SsoSettings, reason: str) -> NoReturn:
    """Audit a refused answer and commit it: the request fails, the attempt is kept."""
    audit.record(
        current.tenant_id,
        "auth.login_failed",
        "user",
        after={"channel": "saml", "reason": reason, "issuer": current.issuer},
        actor=Actor.system("single sign-on (SAML)"),
    )
    uow.commit()
    status = 400 if reason in ("not started", "unreadable", "unsolicited", "replayed") else 401
    raise SignInRefused({"saml": [REFUSALS[reason]]}, status)


def _require() -> SsoSettings:
    current = active()
    if current is None:
        raise NotFound({"saml": ["This district does not sign in through a SAML provider."]})
    return current


def _provider(current: SsoSettings) -> saml_metadata.IdentityProvider:
    try:
        return saml_metadata.read_metadata(current.saml_idp_metadata or "")
    except ValidationFailed as exc:
        raise ServiceError(
            {"saml": ["The district's SAML settings are no longer usable; ask its program admin."]},
            status=503,
        ) from exc


def _client(sp: saml_metadata.ServiceProvider, current: SsoSettings) -> Saml2Client:
    if saml_metadata.xmlsec_binary() is None:
        raise ServiceError(
            {"saml": ["This server cannot check SAML signatures (xmlsec1 is missing)."]}, 503
        )
    return Saml2Client(saml_metadata.config(sp, current.saml_idp_metadata))
