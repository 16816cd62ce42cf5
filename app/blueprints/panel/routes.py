"""Panel pages: the panel and its balance, sessions with agenda, attendance, sealed voting."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.blueprints.cases.forms import choices
from app.blueprints.forms import flash_errors, flash_invalid, fresh, perform
from app.blueprints.loading import (
    agenda_item_or_404,
    case_or_404,
    panel_member_or_404,
    panel_session_or_404,
    user_or_404,
)
from app.blueprints.operation import attempt
from app.blueprints.panel.forms import (
    AgendaForm,
    AttendanceForm,
    BallotForm,
    ConflictForm,
    MemberForm,
    ScheduleForm,
)
from app.services import labels, panel
from app.services import workflow_config as configs
from app.services.actors import current_actor

bp = Blueprint("panel", __name__, url_prefix="/t/<tenant_slug>/panel")


@bp.get("/")
def index():
    config = configs.current()
    form = MemberForm()
    form.user_id.choices = choices((u.id, u.name) for u in panel.seats.candidates())
    form.constituency.choices = choices(
        (k, c.label) for k, c in (config.panel.constituencies.items() if config.panel else ())
    )
    return render_template(
        "panel/index.html",
        config=config,
        sessions=panel.sessions.sessions(current_user.user),
        members=panel.seats.members(),
        balance=panel.seats.balance(),
        schedule_form=ScheduleForm(),
        member_form=form,
    )


@bp.post("/members")
def member_save():
    form = MemberForm()
    config = configs.current()
    form.user_id.choices = choices((u.id, u.name) for u in panel.seats.candidates())
    form.constituency.choices = choices(
        (k, k) for k in (config.panel.constituencies if config.panel else ())
    )
    if form.validate_on_submit():
        perform(
            lambda: panel.seats.save_member(
                user_or_404(form.user_id.data),
                form.constituency.data,
                form.is_chair.data,
                form.term_start.data,
                form.term_end.data,
                current_actor(),
                alternate=form.is_alternate.data,
            ),
            "Panel member saved.",
        )
    else:
        flash("Choose a person and a constituency.", "error")
    return redirect(url_for("panel.index"))


@bp.post("/sessions")
def schedule():
    form = ScheduleForm()
    if not form.validate_on_submit():
        flash_invalid(form)
        return redirect(url_for("panel.index"))
    scheduled = attempt(
        lambda: panel.sessions.schedule(
            form.meets_on.data, form.location.data or None, current_actor()
        )
    )
    if not scheduled.ok:
        flash_errors(scheduled.refusal)
        return redirect(url_for("panel.index"))
    return redirect(url_for("panel.session", panel_session_id=scheduled.result.id))


@bp.get("/sessions/<int:panel_session_id>")
def session(panel_session_id: int):
    user = current_user.user
    page = panel.session_page.session_page(panel_session_or_404(panel_session_id), user)

    def ready(form: AgendaForm) -> None:
        form.case_id.choices = choices(
            (c.id, f"#{c.id} {c.teacher.name} ({labels.track_name(c)})")
            for c in panel.sessions.ready_cases()
        )

    def members(form: AttendanceForm) -> None:
        form.member_id.choices = choices((m.id, m.user.name) for m in page.roster.values())

    # Coordinators alone are shown these two: built when the template reads them.
    agenda_form, attendance_form = fresh(AgendaForm, ready), fresh(AttendanceForm, members)
    return render_template(
        "panel/session.html",
        session=page.session,
        items=page.items,
        # Built when the template draws one: a closed item, or one the reader may not vote
        # on, draws none (a long agenda of closed items built a form for each).
        ballot_forms={row.item.id: _ballot_to_draw(row.item, row.choices) for row in page.items},
        # Items this reader sits out are not shown: the page says so instead of "none".
        not_shown=page.not_shown,
        sees_session=page.sees_session,
        members=list(page.roster.values()),
        present=page.present,
        agenda_form=agenda_form,
        attendance_form=attendance_form,
        is_coordinator="coordinator" in user.roles,
        status_reports=page.status_reports,
    )


def _offer(form: BallotForm, offered: list[tuple[str, str]]) -> None:
    """The ballot starts on no choice: a vote (or an abstention) is always chosen."""
    form.option.choices = choices([("", "Choose your vote"), *offered])


def _ballot_form(item) -> BallotForm:
    """An item's ballot as it was posted."""
    form = BallotForm(prefix=f"item{item.id}")
    _offer(form, panel.ballots.ballot_choices(item))
    return form


def _ballot_to_draw(item, offered: list[tuple[str, str]]) -> BallotForm:
    """An item's empty ballot for the page, built when the template first reads it
    (``fresh``); ``offered`` is the item's ballot choices, which the page has read."""
    return fresh(partial(BallotForm, prefix=f"item{item.id}"), partial(_offer, offered=offered))


@bp.post("/sessions/<int:panel_session_id>/agenda")
def add_case(panel_session_id: int):
    row = panel_session_or_404(panel_session_id)
    form = AgendaForm()
    form.case_id.choices = choices((c.id, str(c.id)) for c in panel.sessions.ready_cases())
    if form.validate_on_submit():
        perform(
            lambda: panel.sessions.add_to_agenda(
                row, case_or_404(form.case_id.data), current_actor()
            ),
            "The case is on the agenda.",
        )
    else:
        flash("Choose a case that is waiting for the panel.", "error")
    return redirect(url_for("panel.session", panel_session_id=row.id))


@bp.post("/sessions/<int:panel_session_id>/attendance")
def attendance(panel_session_id: int):
    row = panel_session_or_404(panel_session_id)
    form = AttendanceForm()
    form.member_id.choices = choices((m.id, str(m.id)) for m in panel.seats.members(row.meets_on))
    if form.validate_on_submit():
        perform(
            lambda: panel.sessions.set_attendance(
                row,
                panel_member_or_404(form.member_id.data),
                form.present.data == "yes",
                current_actor(),
            ),
            "Attendance saved.",
        )
    else:
        flash_invalid(form)
    return redirect(url_for("panel.session", panel_session_id=row.id))


@bp.post("/sessions/<int:panel_session_id>/cases/<int:case_id>/ballot")
def cast(panel_session_id: int, case_id: int):
    row, item = agenda_item_or_404(panel_session_id, case_id)
    form = _ballot_form(item)
    if form.validate_on_submit():
        perform(
            lambda: panel.ballots.cast(item, current_user.user, form.option.data),
            lambda change: change.message(configs.config_of(item.case.workflow_version)),
        )
    else:
        flash("Choose your vote, or Abstain: nothing was recorded.", "error")
    return redirect(url_for("panel.session", panel_session_id=row.id))


@bp.post("/sessions/<int:panel_session_id>/cases/<int:case_id>/conflict")
def declare(panel_session_id: int, case_id: int):
    row, item = agenda_item_or_404(panel_session_id, case_id)
    form = ConflictForm()
    if form.validate_on_submit():
        perform(
            lambda: panel.sessions.declare_conflict(
                item, current_user.user, form.note.data, current_actor()
            ),
            "You are recused from this case.",
        )
    else:
        flash("Say what the conflict is.", "error")
    return redirect(url_for("panel.session", panel_session_id=row.id))


@bp.post("/sessions/<int:panel_session_id>/cases/<int:case_id>/close")
def close(panel_session_id: int, case_id: int):
    row, item = agenda_item_or_404(panel_session_id, case_id)
    perform(lambda: panel.ballots.close(item, current_user.user), "The vote is closed.")
    return redirect(url_for("panel.session", panel_session_id=row.id))


@bp.get("/sessions/<int:panel_session_id>/minutes")
def minutes(panel_session_id: int):
    row = panel_session_or_404(panel_session_id)
    return render_template(
        "panel/minutes.html",
        session=row,
        minutes=panel.minutes.minutes(row, current_user.user),
        requested=request.args.get("requested"),
    )


@bp.post("/sessions/<int:panel_session_id>/minutes.pdf")
def minutes_pdf_request(panel_session_id: int):
    row = panel_session_or_404(panel_session_id)
    if perform(
        lambda: panel.minutes.request_minutes_pdf(row, current_actor()),
        "The PDF is being prepared; it appears here when ready.",
    ):
        return redirect(url_for("panel.minutes", panel_session_id=row.id, requested=1))
    return redirect(url_for("panel.minutes", panel_session_id=row.id))


@bp.get("/sessions/<int:panel_session_id>/minutes.pdf")
def minutes_pdf(panel_session_id: int):
    from flask import send_file

    row = panel_session_or_404(panel_session_id)
    stream = panel.minutes.minutes_file(row)
    return send_file(
        stream,
        mimetype="application/pdf",
        as_attachment=True,
        download_name=f"minutes-{row.meets_on.isoformat()}.pdf",
    )


from app.blueprints.panel import approvals  # noqa: E402,F401 - registers routes
