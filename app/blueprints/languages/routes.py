"""The language picker in the header: a person stores the language they read in."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, url_for
from flask_login import current_user
from wtforms import HiddenField, SelectField
from wtforms.fields.choices import SelectChoice

from app import i18n
from app.blueprints.forms import Form, flash_errors, safe_next
from app.blueprints.operation import attempt
from app.services import languages
from app.services.actors import current_actor

bp = Blueprint("languages", __name__, url_prefix="/t/<tenant_slug>")


class LanguageForm(Form):
    language = SelectField("Language")
    next = HiddenField()


@bp.post("/language")
def choose():
    form = LanguageForm()
    form.language.choices = [SelectChoice(code, name) for code, name in i18n.choices()]
    back = safe_next(form.next.data, url_for("portal.home"))
    if not form.validate_on_submit():
        flash("Choose one of the district's languages.", "error")
        return redirect(back)
    outcome = attempt(
        lambda: languages.set_preference(current_user.user, form.language.data, current_actor())
    )
    if not outcome.ok:
        flash_errors(outcome.refusal)
    return redirect(back)
