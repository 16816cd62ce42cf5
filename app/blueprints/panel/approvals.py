"""The final authority's desk: panel decisions waiting for approval."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from sqlalchemy import select

from app.blueprints.cases.forms import choices
from app.blueprints.forms import flash_errors
from app.blueprints.loading import get_or_404
from app.blueprints.panel.forms import FinalDecisionForm
from app.blueprints.panel.routes import bp
from app.extensions import db
from app.models.case import Case
from app.services import final_approval, panel, panel_votes, uow
from app.services import workflow_config as configs
from app.services.errors import ServiceError


def _waiting() -> list[Case]:
    """Open cases whose current state offers the final authority a step."""
    rows = db.session.execute(
        select(Case).where(Case.closed_at.is_(None)).order_by(Case.id)
    ).scalars()
    waiting = []
    for case in rows:
        track = configs.config_of(case.workflow_version).tracks[case.track_key]
        if any("final_authority" in t.actors for t in track.transitions_from(case.state)):
            waiting.append(case)
    return waiting


def _form(case: Case) -> FinalDecisionForm:
    """The approval form: nothing chosen at first, and only outcomes the service accepts."""
    form = FinalDecisionForm(prefix=f"case{case.id}")
    form.outcome.choices = choices(
        [("", "Choose the outcome"), *final_approval.approval_outcomes(case)]
    )
    return form


@bp.get("/approvals")
def approvals():
    cases = _waiting()
    items = panel.latest_items([c.id for c in cases])
    rows = [
        (
            c,
            items.get(c.id),
            _form(c),
            panel_votes.decision_words(items[c.id]) if c.id in items else None,
        )
        for c in cases
    ]
    return render_template("panel/approvals.html", rows=rows)


@bp.post("/approvals/<int:case_id>")
def decide(case_id: int):
    case = get_or_404(Case, case_id)
    form = _form(case)
    if form.validate_on_submit():
        try:
            final_approval.final_decision(
                case,
                current_user.user,
                form.decision.data == "approve",
                form.note.data,
                form.outcome.data or None,
            )
            uow.commit()
            flash("Decision recorded.", "success")
        except ServiceError as exc:
            uow.rollback()
            flash_errors(exc)
    else:
        flash(" ".join(m for messages in form.errors.values() for m in messages), "error")
    return redirect(url_for("panel.approvals"))
