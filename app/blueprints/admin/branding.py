"""The district's look: name, colours, welcome text and logo, for the program admin."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_wtf.file import FileField
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from app import i18n
from app.blueprints.admin.routes import bp
from app.blueprints.forms import Form, MultiCheckboxField, show_errors
from app.blueprints.operation import attempt
from app.services import branding, languages
from app.services.actors import current_actor


class BrandingForm(Form):
    name = StringField(
        "District name",
        validators=[DataRequired("Enter the district's name."), Length(max=branding.MAX_NAME)],
        description="Shown in the header of every page and on letters and reports.",
    )
    primary_color = StringField(
        "Brand colour",
        validators=[DataRequired("Choose the brand colour.")],
        description=(
            "The header and buttons, with white text on it; links in this colour. It needs a "
            f"contrast of at least {branding.TEXT_CONTRAST:g}:1 with white."
        ),
        render_kw={"type": "color"},
    )
    accent_color = StringField(
        "Accent colour",
        validators=[DataRequired("Choose the accent colour.")],
        description=(
            "The line under the header and the ring around whatever has keyboard focus; it "
            f"needs a contrast of at least {branding.ACCENT_CONTRAST:g}:1 with white."
        ),
        render_kw={"type": "color"},
    )
    welcome_text = TextAreaField(
        "Welcome text",
        validators=[Optional(), Length(max=branding.MAX_WELCOME)],
        description="A sentence or two for the portal's front page; leave it empty for none.",
        render_kw={"rows": 3},
    )
    languages = MultiCheckboxField(
        "Languages teachers may read the portal in",
        # Pairs, not SelectChoice: the form walker of the test suite reads choices by index.
        choices=list(i18n.LANGUAGES.items()),
        description=(
            "English is always offered. Teachers choose among these; the enrollment form and "
            "survey links follow each browser's language."
        ),
    )


class LogoForm(Form):
    file = FileField(
        "Logo (PNG or JPEG)",
        description=f"Drawn 2rem high in the header; at most {branding.MAX_LOGO_BYTES // 1024} KB.",
        render_kw={"accept": "image/png,image/jpeg"},
    )


@bp.route("/branding", methods=["GET", "POST"])
def branding_page():
    tenant = branding.district()
    form = BrandingForm(obj=tenant)
    if not form.validate_on_submit():
        return _page(form, LogoForm(), 400 if form.errors else 200)
    outcome = attempt(
        lambda: (
            branding.save(
                branding.BrandingInput(
                    name=form.name.data,
                    primary_color=form.primary_color.data,
                    accent_color=form.accent_color.data,
                    welcome_text=form.welcome_text.data,
                ),
                current_actor(),
            ),
            languages.set_offered(form.languages.data or [], current_actor()),
        )
    )
    if not outcome.ok:
        show_errors(form, outcome.refusal.errors)
        return _page(form, LogoForm(), outcome.refusal.status)
    flash("The district's look is saved.", "success")
    return redirect(url_for("admin.branding_page"))


@bp.post("/branding/logo")
def branding_logo():
    form = LogoForm()
    upload = form.file.data
    if not form.validate_on_submit() or not upload:
        if not upload:
            form.file.errors = [*form.file.errors, "Choose an image to upload."]
        return _page(BrandingForm(obj=branding.district()), form, 400)
    outcome = attempt(lambda: branding.set_logo(upload.stream, upload.filename, current_actor()))
    if not outcome.ok:
        show_errors(form, outcome.refusal.errors)
        return _page(BrandingForm(obj=branding.district()), form, outcome.refusal.status)
    flash("The logo is saved.", "success")
    return redirect(url_for("admin.branding_page"))


@bp.post("/branding/logo/remove")
def branding_logo_remove():
    form = LogoForm()
    if form.validate_on_submit():
        outcome = attempt(lambda: branding.remove_logo(current_actor()))
        if not outcome.ok:
            show_errors(form, outcome.refusal.errors)
            return _page(BrandingForm(obj=branding.district()), form, outcome.refusal.status)
        flash("The logo is removed.", "success")
    return redirect(url_for("admin.branding_page"))


def _page(form: BrandingForm, logo_form: LogoForm, status: int):
    return render_template("admin/branding.html", form=form, logo_form=logo_form), status
