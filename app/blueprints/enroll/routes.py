"""The enrollment form (public, in the district's wording) and the referral door."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from app.blueprints.cases.forms import EnrollmentForm, ReferralForm
from app.blueprints.forms import show_errors
from app.services import enrollment, uow
from app.services import workflow_config as configs
from app.services.errors import ServiceError
from app.tenants.resolution import current_tenant

bp = Blueprint("enroll", __name__, url_prefix="/t/<tenant_slug>")


def _config():
    version = configs.latest_published(current_tenant().id)
    if version is None:
        abort(404)
    return configs.config_of(version)


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
    config = _config()
    form = EnrollmentForm()
    form.fill_choices(config)
    if form.validate_on_submit():
        try:
            enrollment.enroll(current_tenant().id, _request(form, "self"))
            uow.commit()
        except ServiceError as exc:
            uow.rollback()
            show_errors(form, exc.errors)
        else:
            return render_template("enroll/thanks.html", config=config)
    return render_template("enroll/form.html", form=form, config=config, referral=False), (
        400 if form.errors or form.form_errors else 200
    )


@bp.route("/refer", methods=["GET", "POST"])
def refer():
    config = _config()
    form = ReferralForm()
    form.fill_choices(config)
    if form.validate_on_submit():
        try:
            case = enrollment.enroll(
                current_tenant().id, _request(form, form.source.data), referred_by=current_user.user
            )
            uow.commit()
        except ServiceError as exc:
            uow.rollback()
            show_errors(form, exc.errors)
        else:
            flash("The referral is with the coordinator.", "success")
            return redirect(
                url_for("cases.show", case_id=case.id)
                if "coordinator" in current_user.user.roles
                else url_for("portal.home")
            )
    return render_template("enroll/form.html", form=form, config=config, referral=True), (
        400 if form.errors or form.form_errors else 200
    )
