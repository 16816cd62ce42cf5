"""Forms shared across audiences. CSRF comes with every ``FlaskForm``."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField, SelectMultipleField, StringField, widgets
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, Length, Optional

from app.security.passwords import MIN_PASSWORD_LENGTH
from app.security.roles import TENANT_ROLES


class LoginForm(FlaskForm):
    email = EmailField("E-mail", validators=[DataRequired("Enter your e-mail address."), Email()])
    password = PasswordField("Password", validators=[DataRequired("Enter your password.")])


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


def _role_choices() -> list[SelectChoice]:
    return [SelectChoice(role.key, role.label) for role in TENANT_ROLES]


class UserForm(FlaskForm):
    name = StringField(
        "Name", validators=[DataRequired("Enter the person's name."), Length(max=200)]
    )
    email = EmailField("E-mail", validators=[DataRequired("Enter an e-mail address."), Email()])
    password = PasswordField(
        "Initial password",
        validators=[Optional(), Length(min=MIN_PASSWORD_LENGTH)],
        description="Optional: without one the person signs in after a password reset.",
    )
    roles = MultiCheckboxField("Roles", choices=_role_choices())


class RolesForm(FlaskForm):
    roles = MultiCheckboxField("Roles", choices=_role_choices())


def safe_next(target: str | None, fallback: str) -> str:
    """Only same-site paths: ``next=https://evil.example`` must not redirect off site."""
    if not target:
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target
