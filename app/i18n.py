"""Which language a page or an e-mail speaks, and the words shared forms need translated.

A teacher reads the portal in English, Spanish or Haitian Creole. The language is chosen in
this order: the signed-in person's stored preference, a ``?lang=`` choice on an anonymous page
(the enrollment form, a survey link), the best match of the browser's ``Accept-Language``,
and the district's first language. Whatever is asked for, only a language the district
offers is ever served: a district that offers English and Spanish never shows Creole.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, g, has_request_context, request
from flask_babel import get_locale, gettext
from flask_login import current_user
from wtforms import Form
from wtforms.fields.choices import SelectChoice

from app.extensions import babel

#: Every language Parley has catalogues for, by code, named in itself (a picker's words).
LANGUAGES: dict[str, str] = {"en": "English", "es": "Español", "ht": "Kreyòl ayisyen"}
DEFAULT = "en"


def init_app(app: Flask) -> None:
    """Flask-Babel with the catalogues under ``app/translations``, and the picker's globals."""
    babel.init_app(
        app, locale_selector=select_locale, default_translation_directories="translations"
    )
    from app.services import labels

    app.jinja_env.globals.update(
        current_language=lambda: str(get_locale() or DEFAULT),
        language_choices=choices,
        translate_form=translate_form,
        track_words=labels.track_words,
        program_wording=labels.program_wording,
        survey_words=labels.survey_words,
        scale_label=labels.scale_label,
        ct_title_words=labels.ct_title_words,
        translated_label=labels.translated,
    )


def N_(text: str) -> str:
    """Mark a message for the catalogue whose translation is looked up later, at render."""
    return text


def offered(tenant=None) -> list[str]:
    """The district's languages, English first and always among them."""
    if tenant is None and has_request_context():
        tenant = g.get("tenant")
    chosen = list(getattr(tenant, "languages", None) or [])
    return [DEFAULT, *(code for code in chosen if code in LANGUAGES and code != DEFAULT)]


def best(asked: str | None, tenant=None) -> str | None:
    """``asked`` if the district offers it, else None."""
    return asked if asked in offered(tenant) else None


def for_person(user, tenant) -> str:
    """The language to write to ``user`` in: their choice if their district offers it."""
    return best(getattr(user, "preferred_language", None), tenant) or offered(tenant)[0]


def select_locale() -> str:
    """Flask-Babel's locale selector for a request (see the module's docstring)."""
    if not has_request_context():
        return DEFAULT
    tenant = g.get("tenant")
    person = getattr(current_user, "user", None) if current_user else None
    chosen = best(getattr(person, "preferred_language", None), tenant) or best(
        request.args.get("lang"), tenant
    )
    if chosen:
        return chosen
    return request.accept_languages.best_match(offered(tenant)) or offered(tenant)[0]


def choices(tenant=None) -> list[tuple[str, str]]:
    """(code, name) of the district's languages, for a picker."""
    return [(code, LANGUAGES[code]) for code in offered(tenant)]


def translate_form(form: Form) -> Form:
    """Translate a shared form's labels, help and errors for the current locale.

    The enrollment form's words live on a form class the referral door shares; their
    messages are declared in :data:`FORM_WORDS` so the catalogues carry them.
    """
    for item in form:
        item.label.text = gettext(item.label.text)
        if item.description:
            item.description = gettext(item.description)
        item.errors = [gettext(message) for message in item.errors]
        if getattr(item, "choices", None) and item.type == "SelectField":
            item.choices = [
                SelectChoice(value, _choice(item.name, value, text))
                for value, text in _pairs(item.choices)
            ]
    return form


def _choice(field: str, value: str, text: str) -> str:
    """A choice in the reader's language: a track by the document's translations, any
    other by the catalogue."""
    from app.services import labels

    return labels.track_words(value, "name", text) if field == "track" else gettext(text)


def _pairs(choices_: Iterable) -> Iterable[tuple[str, str]]:
    for choice in choices_:
        yield (choice[0], choice[1]) if isinstance(choice, tuple) else (choice.value, choice.label)


#: Words the teacher reads that are written where they are shared with other pages (the
#: enrollment form's class, the acknowledgment, response and appeal forms, the survey service's
#: messages): declared here so the catalogues carry them; pages translate them at render.
FORM_WORDS = (
    N_("Type your full name"),
    N_("Type your name."),
    # Review: legal wording: a typed name as a signature.
    N_("Your typed name is your signature. Case and spaces do not matter."),
    # Review: legal wording: receipt is not agreement.
    N_("I understand that acknowledging receipt does not mean I agree"),
    N_("Tick the box to say you understand what you sign."),
    # Review: legal wording: the statement every acknowledgment signs.
    N_(
        "I acknowledge that I received this document. My signature does not mean that I agree "
        "with it."
    ),
    N_("Your response"),
    N_("Write your response."),
    N_("Your response is kept with the decision; it does not change it."),
    N_("Why you appeal the decision"),
    N_("Say why you appeal the decision."),
    # Review: legal wording: what filing an appeal does to the decision.
    N_("Filing puts the decision under appeal; it stands until the appeal is decided."),
    N_("Your answers have been received. Each link works once, so there is nothing more to do."),
    N_("This link is not valid. Check that it was copied whole from the e-mail."),
    N_("Answer at least one statement, or write a comment, before sending."),
    N_("Choose one of the answers."),
    N_("Consulting teacher"),
    N_("Strongly agree"),
    N_("Agree"),
    N_("Disagree"),
    N_("Strongly disagree"),
    N_("Your name"),
    N_("Your school e-mail"),
    N_("School"),
    N_("Subject"),
    N_("Grade"),
    N_("Preferred language"),
    N_("What you are asking for"),
    N_("Your latest evaluation rating"),
    N_("Not rated / prefer not to say"),
    N_("Years of service"),
    N_("I have permanent (professional) status"),
    N_("In your own words"),
    N_(
        "What is going well, what you want help with, and anything the program should know. "
        "Only the program's coordinator and committee read this."
    ),
    N_("Enter your name."),
    N_("Enter your e-mail."),
    N_("Enter your school."),
    N_("Tell the program what support you want."),
    N_("This field is required."),
    N_("Invalid email address."),
)
