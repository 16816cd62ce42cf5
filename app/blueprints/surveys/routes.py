"""Survey pages: the rounds and their response rates; the anonymous questionnaire."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Regexp

from app.blueprints.cases.forms import choices
from app.services import surveys, uow
from app.services import workflow_config as configs
from app.services.actors import current_actor
from app.services.errors import NotFound, ServiceError
from app.tenants.resolution import current_tenant

bp = Blueprint("surveys", __name__, url_prefix="/t/<tenant_slug>")


class SendForm(FlaskForm):
    survey = SelectField("Survey")
    year = StringField(
        "School year",
        validators=[
            DataRequired(),
            Regexp(r"^\d{4}-\d{4}$", message="Use a label like 2009-2010."),
        ],
    )


class AnswerForm(FlaskForm):
    """Only the CSRF token; the answers are read from the statement keys of the survey."""


@bp.route("/surveys", methods=["GET", "POST"])
def index():
    config = configs.config_of(configs.latest_published(current_tenant().id))
    form = SendForm()
    form.survey.choices = choices((s.key, s.title) for s in config.surveys)
    if form.validate_on_submit():
        try:
            row = surveys.send(
                current_tenant().id, form.survey.data, form.year.data, current_actor()
            )
            uow.commit()
            flash(f"Sent to {row.sent} participants of {row.year}.", "success")
            return redirect(url_for("surveys.index"))
        except ServiceError as exc:
            uow.rollback()
            for field, messages in exc.errors.items():
                getattr(form, field, form.year).errors = list(messages)
    return render_template("surveys/index.html", form=form, statuses=surveys.statuses()), (
        400 if form.errors else 200
    )


@bp.route("/survey/<token>", methods=["GET", "POST"])
def answer(token: str):
    try:
        invitation = surveys.invitation_for(token)
    except NotFound:
        abort(404)
    survey = surveys.questions(invitation)
    form, errors = AnswerForm(), {}
    if form.validate_on_submit():
        given = {key: request.form.get(key, "") for key, _ in survey.statements}
        try:
            surveys.answer(token, given, request.form.get("comment"))
            uow.commit()
            return render_template("surveys/thanks.html")
        except ServiceError as exc:
            uow.rollback()
            errors = exc.errors
    return render_template("surveys/answer.html", survey=survey, form=form, errors=errors), (
        422 if errors else 200
    )
