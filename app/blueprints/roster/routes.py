"""The CT roster: profiles with terms, caseloads, schools, subjects, languages and training."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for

from app.blueprints.forms import perform, show_errors
from app.blueprints.loading import consulting_teacher_or_404
from app.blueprints.operation import attempt
from app.blueprints.roster.forms import ProfileForm, TrainingForm, split
from app.services import roster
from app.services.actors import current_actor

bp = Blueprint("roster", __name__, url_prefix="/t/<tenant_slug>/roster")


@bp.get("/")
def index():
    return render_template(
        "roster/index.html",
        profiles=roster.profiles(),
        loads=roster.loads(),
        ct_title=roster.ct_title(),
    )


@bp.route("/<int:consulting_teacher_id>", methods=["GET", "POST"])
def edit(consulting_teacher_id: int):
    row = consulting_teacher_or_404(consulting_teacher_id)
    form = ProfileForm(obj=row)
    if not form.is_submitted():
        for field in ("schools", "subjects", "grades", "languages"):
            getattr(form, field).data = ", ".join(getattr(row, field))
    if not form.validate_on_submit():
        return _edit_page(row, form, 400 if form.errors else 200)
    outcome = attempt(
        lambda: roster.save_profile(
            row.user,
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
    )
    if not outcome.ok:
        show_errors(form, outcome.refusal.errors)
        return _edit_page(row, form, outcome.refusal.status)
    flash("Profile saved.", "success")
    return redirect(url_for("roster.edit", consulting_teacher_id=consulting_teacher_id))


def _edit_page(row, form, status: int):
    return render_template(
        "roster/edit.html",
        user=row.user,
        row=row,
        form=form,
        training_form=TrainingForm(),
        ct_title=roster.ct_title(),
    ), status


@bp.post("/<int:consulting_teacher_id>/training")
def training(consulting_teacher_id: int):
    row = consulting_teacher_or_404(consulting_teacher_id)
    form = TrainingForm()
    if form.validate_on_submit():
        perform(
            lambda: roster.add_training(
                row,
                form.workshop.data,
                form.attended_on.data,
                float(form.hours.data),
                current_actor(),
            ),
            "Training recorded.",
        )
    else:
        flash("Give the workshop, its date and the hours.", "error")
    return redirect(url_for("roster.edit", consulting_teacher_id=consulting_teacher_id))
