"""The final authority's step: approve the panel's decision (closing the case) or return it.

What the approval form offers and what this service accepts come from one function,
:func:`approval_outcomes`, read from the approving step of the case's own track: an
outcome that belongs to another step (a resignation the coordinator records, say) is
never offered, so it is never refused after being offered.
"""

from __future__ import annotations

from sqlalchemy import select, tuple_

from app.extensions import db
from app.models.case import Case
from app.models.panel import FinalDecision
from app.models.user import User
from app.services import cases
from app.services import workflow_config as configs
from app.services.case_lists import configs_in_use
from app.services.errors import Conflict, ValidationFailed
from app.services.panel import sessions
from app.workflows.effects import chosen_outcomes
from app.workflows.model import Track, Transition


def _steps(case: Case) -> tuple[Transition | None, Transition | None]:
    """The final authority's approving step and returning step from the case's state, as
    the track's configuration names them (``final_approval``, ``final_return``)."""
    track, state = configs.config_of(case.workflow_version).tracks[case.track_key], case.state
    return track.step_for("final_approval", state), track.step_for("final_return", state)


def _desk_states(track: Track) -> set[str]:
    """States where the final authority has a step to take on the approvals page."""
    steps = track.steps_for("final_approval") + track.steps_for("final_return")
    return {state for step in steps for state in step.sources}


def waiting() -> list[Case]:
    """Open cases whose current state offers the final authority a step, by id: the
    configuration of each version in use names those (version, track, state) triples,
    and the database filters the open cases by them."""
    triples = [
        (version_id, track_key, state)
        for version_id, config in configs_in_use().items()
        for track_key, track in config.tracks.items()
        for state in _desk_states(track)
    ]
    if not triples:
        return []
    at = tuple_(Case.workflow_version_id, Case.track_key, Case.state)
    return list(
        db.session.execute(
            select(Case).where(Case.closed_at.is_(None), at.in_(triples)).order_by(Case.id)
        ).scalars()
    )


def approval_outcomes(case: Case) -> list[tuple[str, str]]:
    """The outcomes the final authority chooses among when approving, labelled; empty when
    the approving step fixes the outcome itself."""
    config = configs.config_of(case.workflow_version)
    approve, _ = _steps(case)
    if approve is None:
        return []
    return [(k, config.outcomes[k].label) for k in chosen_outcomes(approve, config)]


def final_decision(
    case: Case, user: User, approve: bool, note: str | None, outcome: str | None = None
) -> FinalDecision:
    """The final authority approves (closing the case) or returns it to the panel."""
    config = configs.config_of(case.workflow_version)
    approving, returning = _steps(case)
    step = approving if approve else returning
    if step is None:
        what = "approve" if approve else "return"
        raise Conflict({"_schema": [f"There is no step to {what} the case from here."]})
    if not approve and not (note or "").strip():
        raise ValidationFailed({"note": ["Say why the decision goes back to the panel."]})
    offered = approval_outcomes(case) if approve else []
    if offered and not outcome:
        raise ValidationFailed({"outcome": ["Choose the outcome that closes the case."]})
    if offered and outcome not in dict(offered):
        labels = ", ".join(label for _, label in offered)
        raise ValidationFailed({"outcome": [f"Choose one of: {labels}."]})
    item = sessions.item_for_case(case)
    if approve and (item is None or item.outcome != "decided"):
        raise Conflict({"_schema": ["There is no panel decision to approve."]})
    payload = {"outcome": outcome} if approve and outcome else {}
    if item is not None and item.option:
        rating = (
            item.option
            if item.option in {r.key for r in config.rating_scale}
            else (case.panel_rating or case.recommended_rating)
        )
        if rating:
            payload["rating"] = rating
    row = FinalDecision(
        tenant_id=case.tenant_id,
        case_id=case.id,
        item_id=item.id if item else None,
        authority_id=user.id,
        approved=approve,
        note=(note or "").strip() or None,
    )
    db.session.add(row)
    db.session.flush()
    cases.apply(case, step.key, user, payload, internal=True)
    return row
