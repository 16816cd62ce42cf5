"""Forms shared across audiences. Every form derives from ``Form`` (CSRF comes with it)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from babel.support import Translations
from flask import current_app
from flask_babel import get_locale
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import CombinedMultiDict, MultiDict
from werkzeug.local import LocalProxy
from wtforms import (
    BooleanField,
    DecimalField,
    EmailField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.fields.choices import SelectChoice
from wtforms.i18n import messages_path
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional
from wtforms.widgets import HiddenInput

from app.security.passwords import MIN_PASSWORD_LENGTH
from app.security.roles import TENANT_ROLES
from app.workflows import vocabulary


@cache
def wtforms_messages(locale: str) -> Translations:
    """WTForms' own messages ("Not a valid integer value.") in one language, read from disk
    once per process. Flask-WTF reads and parses the catalogue again on every request that
    builds a form, a few percent of a page with forms."""
    return Translations.load(messages_path(), [locale], domain="wtforms")


class Form(FlaskForm):
    """The base of every form: an uploaded file reaches only a file field.

    Flask-WTF hands every field the request's files and form values together, so a
    file posted under a text field's name reached its validators as a file and
    ``Length`` failed with a 500. Here a text field sees only text: a file sent in
    its place leaves the field empty and the form says so.
    """

    class Meta(FlaskForm.Meta):
        def wrap_formdata(self, form, formdata):
            data = super().wrap_formdata(form, formdata)
            if not isinstance(data, CombinedMultiDict):
                return data
            from flask import request

            file_fields = {f.name for f in form if isinstance(f, FileField)}
            files = MultiDict(
                [(k, v) for k, v in request.files.items(multi=True) if k in file_fields]
            )
            return CombinedMultiDict((files, request.form))

        def get_translations(self, form):
            """Flask-WTF's choice of language (the request's), from the catalogue read once."""
            if not current_app.config.get("WTF_I18N_ENABLED", True):
                return super().get_translations(form)
            return wtforms_messages(str(get_locale() or "en"))

        def render_field(self, field, render_kw):
            """Hidden fields are drawn without an ``id``: a page with several forms would
            otherwise repeat ``id="csrf_token"``, and nothing labels a hidden field."""
            if isinstance(field.widget, HiddenInput):
                render_kw = {"id": False, **render_kw}
            return super().render_field(field, render_kw)


def fresh(form_class, fill: Callable[[Any], None] | None = None) -> Any:
    """A form drawn empty beside the one that was posted. Flask-WTF would fill every form
    from the request, so a refused evidence form's ``text`` reappeared in the goal form
    and the teacher's response; only the posted form keeps what was typed.

    Built (and given its choices by ``fill``) the first time the page's template reads it:
    a reader sees only the sections they may use, and building every section's form for
    every reader was a tenth of the case page's time (and the panel session's agenda form,
    shown to coordinators alone, read every case ready for a panel).
    """

    @cache
    def build():
        form = form_class(formdata=None)
        if fill is not None:
            fill(form)
        return form

    return LocalProxy(build)


class FiniteDecimalField(DecimalField):
    """A number that is a number: "NaN", "sNaN" and "Infinity" are a field error here
    (``NumberRange`` would raise on "sNaN", and a 500 follows)."""

    def process_formdata(self, valuelist) -> None:
        super().process_formdata(valuelist)
        if isinstance(self.data, Decimal) and not self.data.is_finite():
            self.data = None
            raise ValueError(self.gettext("Not a valid decimal value."))


class LoginForm(Form):
    email = EmailField("E-mail", validators=[DataRequired("Enter your e-mail address."), Email()])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])


class ForgotPasswordForm(Form):
    email = EmailField("E-mail", validators=[DataRequired("Enter your e-mail address."), Email()])


class NewPasswordForm(Form):
    password = PasswordField(
        "New password",
        validators=[
            DataRequired("Choose a password."),
            Length(
                min=MIN_PASSWORD_LENGTH, message=f"Use at least {MIN_PASSWORD_LENGTH} characters."
            ),
        ],
        description=f"At least {MIN_PASSWORD_LENGTH} characters; a few unrelated words work well.",
    )
    confirm = PasswordField("Type it again", validators=[DataRequired("Type the password again.")])

    def validate_confirm(self, field) -> None:
        from wtforms import ValidationError

        if field.data != self.password.data:
            raise ValidationError("The two passwords differ.")


class ChangePasswordForm(NewPasswordForm):
    current_password = PasswordField(
        "Current password", validators=[DataRequired("Enter your current password.")]
    )


class SsoSettingsForm(Form):
    enabled = BooleanField("Offer single sign-on on the sign-in page")
    label = StringField(
        "Button label",
        validators=[Optional(), Length(max=80)],
        description='Shown as "Sign in with …", e.g. "Boston Public Schools Google".',
    )
    issuer = StringField(
        "Issuer",
        validators=[DataRequired("Enter the issuer address.")],
        description="e.g. https://accounts.google.com or "
        "https://login.microsoftonline.com/<tenant id>/v2.0",
    )
    client_id = StringField("Client id", validators=[DataRequired("Enter the client id.")])
    client_secret = PasswordField(
        "Client secret",
        description="Stored encrypted and never shown again; leave empty to keep the current one.",
    )
    allowed_domains = StringField(
        "Allowed e-mail domains",
        description="Separated by spaces, e.g. bostonpublicschools.org. Empty: any domain.",
    )
    passwords_allowed = BooleanField("Passwords stay allowed beside single sign-on")
    new_users = SelectField(
        "Someone with no account here",
        choices=[
            SelectChoice("refuse", "is refused (accounts are created by a program admin)"),
            SelectChoice("pending", "gets an account with no roles, waiting for a program admin"),
        ],
    )


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _role_choices() -> list[SelectChoice]:
    return [SelectChoice(role.key, role.label) for role in TENANT_ROLES]


class UserForm(Form):
    name = StringField(
        "Name", validators=[DataRequired("Enter the person's name."), Length(max=200)]
    )
    # The service checks the address (``app.security.emails``) and names what is wrong.
    email = EmailField("E-mail", validators=[DataRequired("Enter an e-mail address.")])
    password = PasswordField(
        "Initial password",
        validators=[Optional(), Length(min=MIN_PASSWORD_LENGTH)],
        description="Optional: without one the person signs in after a password reset.",
    )
    roles = MultiCheckboxField("Roles", choices=_role_choices())
    # The service checks the length against the column and says what fits.
    school = StringField(
        "School",
        description="Optional. A principal is linked to the cases of this school.",
    )


class RolesForm(Form):
    roles = MultiCheckboxField("Roles", choices=_role_choices())


def show_errors(form, errors: dict[str, list[str]], field_for=None) -> None:
    """Put a service's errors beside the form's fields; the rest go on top of the form.

    ``field_for`` maps an error key (e.g. a configuration path) to a field name.
    """
    for key, messages in errors.items():
        name = field_for(key) if field_for else key
        field = getattr(form, name, None) if name else None
        if field is not None and hasattr(field, "errors"):
            prefix = f"{key}: " if field_for else ""
            field.errors = [*field.errors, *(prefix + m for m in messages)]
        else:
            form.form_errors.extend(f"{key}: {m}" if field_for else m for m in messages)


def flash_invalid(form: FlaskForm) -> None:
    """A form posted from a list page that did not validate: its messages as one error
    flash (``forms.flash_errors`` says the same of a refused operation)."""
    from flask import flash

    flash(" ".join(m for messages in form.errors.values() for m in messages), "error")


def flash_errors(exc) -> None:
    """A refused operation's messages as one error flash (for forms posted from a list)."""
    from flask import flash

    flash(exc.text(), "error")


def perform(act, done) -> bool:
    """Run one operation posted from a list page; flash what happened.

    ``done`` is the success message, or a function of the operation's result that says it.
    On a refusal the work is rolled back and its messages flashed where the person acted;
    the request's unit of work (``operation``) commits a success. Returns whether it ran.
    """
    from flask import flash

    from app.blueprints.operation import attempt

    outcome = attempt(act)
    if not outcome.ok:
        flash_errors(outcome.refusal)
        return False
    flash(done(outcome.result) if callable(done) else done, "success")
    return True


def safe_next(target: str | None, fallback: str) -> str:
    """Only same-site paths: ``next=https://evil.example`` must not redirect off site."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target


_LINES_HELP = "One per line, parts separated by '|'."


class WorkflowCommonForm(Form):
    """The common parts of the program configuration, edited without YAML."""

    program_name = StringField("Program name", validators=[DataRequired(), Length(max=200)])
    rating_scale = TextAreaField(
        "Rating scale",
        description=f"Highest first: key | label | meets standard (yes/no). {_LINES_HELP}",
        render_kw={"rows": 5},
    )
    outcomes = TextAreaField(
        "Outcomes", description=f"key | label | report group. {_LINES_HELP}", render_kw={"rows": 6}
    )
    visit_types = TextAreaField(
        "Visit types",
        description=f"key | label | fields, comma separated. {_LINES_HELP}",
        render_kw={"rows": 5},
    )
    quorum = IntegerField("Panel quorum", validators=[Optional(), NumberRange(min=1)])
    decision_kind = SelectField(
        "Decision rule",
        choices=[SelectChoice(k, k.capitalize()) for k in vocabulary.DECISION_KINDS],
    )
    at_least = IntegerField(
        "Supermajority: at least this many seats",
        validators=[Optional(), NumberRange(min=1)],
    )
    fraction = FiniteDecimalField(
        "Supermajority: or this fraction", places=3, validators=[Optional(), NumberRange(0, 1)]
    )
    fraction_of = SelectField(
        "Fraction of", choices=[SelectChoice(k, k) for k in vocabulary.DECISION_BASES]
    )
    per_constituency_minimum = IntegerField(
        "At least this many votes from each side",
        validators=[Optional(), NumberRange(min=1)],
    )
    tie_rule = SelectField(
        "When no option carries",
        choices=[SelectChoice(k, text) for k, text in vocabulary.TIE_RULES.items()],
    )


class WorkflowYamlForm(Form):
    text = TextAreaField("Configuration (YAML)", render_kw={"rows": 30, "spellcheck": "false"})


class PublishForm(Form):
    note = StringField("What changed (optional)", validators=[Optional(), Length(max=500)])


def _yes_no() -> list[SelectChoice]:
    return [SelectChoice("yes", "Yes"), SelectChoice("no", "No")]


class DryRunForm(Form):
    class Meta:
        csrf = False  # a read-only preview submitted with GET

    track = SelectField("Track")
    actions = StringField(
        "Actions", description="Action keys in order, separated by commas or spaces."
    )
    visits = IntegerField("Visits logged", default=0, validators=[Optional(), NumberRange(min=0)])
    months = FiniteDecimalField("Months of support", default=0, validators=[Optional()])
    has_recommendation = SelectField("CT recommendation made", choices=_yes_no(), default="no")
    ct_assigned = SelectField("CT assigned", choices=_yes_no())
    consensus = SelectField("Committee consensus", choices=_yes_no())
    panel_decided = SelectField("Panel decided", choices=_yes_no())
