"""The final authority's desk: panel decisions waiting for approval, and appeals of approved
decisions waiting for the final authority's decision (decided on the case's page)."""

from __future__ import annotations

from flask import redirect, render_template, url_for
from flask_login import current_user

from app.blueprints.cases.forms import choices
from app.blueprints.forms import flash_invalid, perform
from app.blueprints.loading import case_or_404
from app.blueprints.panel.forms import FinalDecisionForm
from app.blueprints.panel.routes import bp
from app.services import appeals, panel


def _form(case) -> FinalDecisionForm:
    """The approval form: nothing chosen at first, and only outcomes the service accepts."""
    form = FinalDecisionForm(prefix=f"case{case.id}")
    form.outcome.choices = choices(
        [("", "Choose the outcome"), *panel.approval.approval_outcomes(case)]
    )
    return form


@bp.get("/approvals")
def approvals():
    cases = panel.approval.waiting()
    items = panel.sessions.latest_items([c.id for c in cases])
    rows = [
        (
            c,
            items.get(c.id),
            _form(c),
            panel.ballots.decision_words(items[c.id]) if c.id in items else None,
        )
        for c in cases
    ]
    return render_template(
        "panel/approvals.html", rows=rows, appeals=appeals.waiting_for("final_authority")
    )


@bp.post("/approvals/<int:case_id>")
def decide(case_id: int):
    case = case_or_404(case_id)
    form = _form(case)
    if form.validate_on_submit():
        perform(
            lambda: panel.approval.final_decision(
                case,
                current_user.user,
                form.decision.data == "approve",
                form.note.data,
                form.outcome.data or None,
            ),
            "Decision recorded.",
        )
    else:
        flash_invalid(form)
    return redirect(url_for("panel.approvals"))
