"""Survey pages: the rounds and their response rates; the anonymous questionnaire."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Regexp

from app.blueprints.cases.forms import choices
from app.blueprints.forms import Form, show_errors
from app.blueprints.loading import found
from app.blueprints.operation import attempt
from app.services import survey_reminders, surveys
from app.services import workflow_config as configs
from app.services.actors import current_actor

bp = Blueprint("surveys", __name__, url_prefix="/t/<tenant_slug>")


class SendForm(Form):
    survey = SelectField("Survey")
    year = StringField(
        "School year",
        validators=[
            DataRequired(),
            Regexp(r"^\d{4}-\d{4}$", message="Use a label like 2009-2010."),
        ],
    )


class RemindForm(Form):
    """Only the CSRF token: the round is named by the address."""


class AnswerForm(Form):
    """Only the CSRF token; the answers are read from the statement keys of the survey."""


@bp.route("/surveys", methods=["GET", "POST"])
def index():
    form = SendForm()
    form.survey.choices = choices((s.key, s.title) for s in configs.current().surveys)
    if not form.validate_on_submit():
        return _index_page(form, 400 if form.errors else 200)
    outcome = attempt(lambda: surveys.send(form.survey.data, form.year.data, current_actor()))
    if not outcome.ok:
        show_errors(form, outcome.refusal.errors)
        return _index_page(form, outcome.refusal.status)
    flash(f"Sent to {outcome.result.sent} participants of {outcome.result.year}.", "success")
    return redirect(url_for("surveys.index"))


@bp.post("/surveys/<int:survey_round_id>/remind")
def remind_now(survey_round_id: int):
    """Queue the round's reminders that are due now, as the weekly job would; the page
    then says how many went out, or why none was due."""
    row = found(surveys.round_by_id(survey_round_id))
    form = RemindForm()
    if not form.validate_on_submit():
        return _index_page(SendForm(formdata=None), 400, remind_errors={row.id: _messages(form)})
    outcome = attempt(lambda: survey_reminders.remind_now(row, current_actor()))
    if not outcome.ok:
        errors = [m for ms in outcome.refusal.errors.values() for m in ms]
        return _index_page(
            SendForm(formdata=None), outcome.refusal.status, remind_errors={row.id: errors}
        )
    flash(outcome.result.message, "success" if outcome.result.queued else "info")
    return redirect(url_for("surveys.index", _anchor=f"round-{row.id}"))


def _messages(form: Form) -> list[str]:
    return [m for messages in form.errors.values() for m in messages]


def _index_page(form, status: int, remind_errors: dict[int, list[str]] | None = None):
    """The rounds with their response rates and reminders; ``remind_errors`` shows a refused
    "Send reminders now" beside its round."""
    form.survey.choices = choices((s.key, s.title) for s in configs.current().surveys)
    return render_template(
        "surveys/index.html",
        form=form,
        statuses=surveys.statuses(),
        reminders=survey_reminders.reminders(),
        remind_form=RemindForm(formdata=None),
        remind_errors=remind_errors or {},
    ), status


@bp.route("/survey/<token>", methods=["GET", "POST"])
def answer(token: str):
    """The questionnaire behind a personal link; a link used, expired or unknown says so."""
    invitation = surveys.open_invitation(token)
    if invitation is None:
        return _closed(token)
    survey = surveys.questions(invitation)
    form = AnswerForm()
    if not form.validate_on_submit():
        return _answer_page(survey, form, {}, 400 if form.errors else 200)
    given = {key: request.form.get(key, "") for key, _ in survey.statements}
    comment = request.form.get("comment")
    outcome = attempt(lambda: surveys.answer(token, given, comment))
    if not outcome.ok:
        if surveys.open_invitation(token) is None:
            return _closed(token)  # answered from another tab meanwhile
        return _answer_page(
            survey, form, outcome.refusal.errors, outcome.refusal.status, given, comment
        )
    return render_template("surveys/thanks.html")


def _closed(token: str):
    closed = surveys.why_closed(token)
    return render_template("surveys/closed.html", message=closed.message), closed.status


def _answer_page(survey, form, errors, status: int, given=None, comment=None):
    """The questionnaire, with what was chosen kept and each refusal shown where it applies."""
    return render_template(
        "surveys/answer.html",
        survey=survey,
        form=form,
        errors=errors,
        given=given or {},
        comment=comment or "",
    ), status
