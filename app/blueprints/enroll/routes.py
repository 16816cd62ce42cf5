"""The enrollment form (public, in the district's wording) and the referral door."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user

from app.blueprints.cases.forms import EnrollmentForm, ReferralForm
from app.blueprints.forms import show_errors
from app.blueprints.operation import attempt
from app.services import enrollment
from app.services import workflow_config as configs

bp = Blueprint("enroll", __name__, url_prefix="/t/<tenant_slug>")


def _request(form, source: str) -> enrollment.EnrollmentRequest:
    return enrollment.EnrollmentRequest(
        name=form.name.data,
        email=form.email.data,
        school=form.school.data,
        track=form.track.data,
        letter=form.letter.data,
        subject=form.subject.data or None,
        grade=form.grade.data or None,
        preferred_language=form.preferred_language.data or None,
        latest_rating=form.latest_rating.data or None,
        years_of_service=form.years_of_service.data,
        permanent_status=form.permanent_status.data,
        source=source,
    )


@bp.route("/enroll", methods=["GET", "POST"])
def form():
    config = configs.current()
    form = EnrollmentForm()
    form.fill_choices(config)
    if not form.validate_on_submit():
        return _form_page(form, config, False, 400 if form.errors else 200)
    outcome = attempt(lambda: enrollment.enroll(_request(form, "self")))
    if not outcome.ok:
        show_errors(form, outcome.refusal.errors)
        return _form_page(form, config, False, outcome.refusal.status)
    return render_template("enroll/thanks.html", config=config)


@bp.route("/refer", methods=["GET", "POST"])
def refer():
    config = configs.current()
    form = ReferralForm()
    form.fill_choices(config)
    if not form.validate_on_submit():
        return _form_page(form, config, True, 400 if form.errors else 200)
    outcome = attempt(
        lambda: enrollment.enroll(_request(form, form.source.data), referred_by=current_user.user)
    )
    if not outcome.ok:
        show_errors(form, outcome.refusal.errors)
        return _form_page(form, config, True, outcome.refusal.status)
    flash("The referral is with the coordinator.", "success")
    return redirect(
        url_for("cases.show", case_id=outcome.result.id)
        if "coordinator" in current_user.user.roles
        else url_for("portal.home")
    )


def _form_page(form, config, referral: bool, status: int):
    return render_template("enroll/form.html", form=form, config=config, referral=referral), status
