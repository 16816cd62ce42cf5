"""The CT roster: profiles with terms, caseloads, schools, subjects, languages and training."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for

from app.blueprints.forms import flash_errors, show_errors
from app.blueprints.loading import get_or_404
from app.blueprints.roster.forms import ProfileForm, TrainingForm, split
from app.models.roster import ConsultingTeacher
from app.services import roster, uow
from app.services.actors import current_actor
from app.services.errors import ServiceError

bp = Blueprint("roster", __name__, url_prefix="/t/<tenant_slug>/roster")


@bp.get("/")
def index():
    return render_template("roster/index.html", profiles=roster.profiles(), loads=roster.loads())


@bp.route("/<int:consulting_teacher_id>", methods=["GET", "POST"])
def edit(consulting_teacher_id: int):
    row = get_or_404(ConsultingTeacher, consulting_teacher_id)
    user = row.user
    form = ProfileForm(obj=row)
    if not form.is_submitted():
        for field in ("schools", "subjects", "grades", "languages"):
            getattr(form, field).data = ", ".join(getattr(row, field))
    if form.validate_on_submit():
        try:
            roster.save_profile(
                user,
                roster.ProfileInput(
                    term_start=form.term_start.data,
                    term_end=form.term_end.data,
                    caseload_limit=form.caseload_limit.data,
                    home_school=form.home_school.data or None,
                    schools=split(form.schools.data),
                    subjects=split(form.subjects.data),
                    grades=split(form.grades.data),
                    languages=split(form.languages.data),
                ),
                current_actor(),
            )
            uow.commit()
        except ServiceError as exc:
            uow.rollback()
            show_errors(form, exc.errors)
        else:
            flash("Profile saved.", "success")
            return redirect(url_for("roster.edit", consulting_teacher_id=row.id))
    return render_template(
        "roster/edit.html", user=user, row=row, form=form, training_form=TrainingForm()
    ), 400 if form.errors else 200


@bp.post("/<int:consulting_teacher_id>/training")
def training(consulting_teacher_id: int):
    row = get_or_404(ConsultingTeacher, consulting_teacher_id)
    form = TrainingForm()
    if form.validate_on_submit():
        try:
            roster.add_training(
                row,
                form.workshop.data,
                form.attended_on.data,
                float(form.hours.data),
                current_actor(),
            )
            uow.commit()
            flash("Training recorded.", "success")
        except ServiceError as exc:
            uow.rollback()
            flash_errors(exc)
    else:
        flash("Give the workshop, its date and the hours.", "error")
    return redirect(url_for("roster.edit", consulting_teacher_id=row.id))
