"""The panel over the API: members, sessions, agenda, attendance, sealed ballots, approvals."""

from __future__ import annotations

from flask_login import current_user

from app.blueprints.api import bp
from app.blueprints.api.cases import _detail
from app.blueprints.api.helpers import load
from app.blueprints.api.schemas.cases import CaseDetailSchema
from app.blueprints.api.schemas.panel import (
    AgendaInSchema,
    AttendanceInSchema,
    BallotInSchema,
    FinalDecisionInSchema,
    PanelMemberInSchema,
    PanelMemberListSchema,
    PanelMemberSchema,
    PanelSessionInSchema,
    PanelSessionListSchema,
    PanelSessionSchema,
)
from app.blueprints.api.spec import documented
from app.blueprints.loading import (
    agenda_item_or_404,
    case_or_404,
    panel_member_or_404,
    panel_session_or_404,
    user_or_404,
)
from app.services import panel
from app.services.actors import current_actor
from app.services.panel import eligibility


def _session_body(row) -> dict:
    """A session as its reader may see it: nothing but the date without a seat for it."""
    user = current_user.user
    roster = eligibility.seated_roster(row)
    seen = eligibility.sees_session(user, row, roster)
    items = panel.sessions.visible_items(row, user) if seen else []
    facts = eligibility.facts_for_items(items, roster)
    counts = panel.sessions.ballot_counts([i.id for i in items])
    body = {
        "id": row.id,
        "meets_on": row.meets_on,
        "location": row.location,
        "status": row.status,
        "present": sorted(a.member_id for a in row.attendance if a.present) if seen else [],
        "items": [
            {
                "case_id": i.case_id,
                "status": i.status,
                "ballots_cast": counts.get(i.id, 0),
                "recused": [
                    {"member_id": r.member.id, "rule": r.rule}
                    for r in eligibility.recusals(facts[i.id])
                ],
                "outcome": i.outcome,
                "option": i.option,
                "decided_by": i.decided_by,
                "decision": panel.ballots.decision_words(i),
                "tally": i.tally,
                "tally_by_constituency": i.tally_by_constituency,
                "votes_needed": i.votes_needed,
                "rule_text": i.rule_text,
            }
            for i in items
        ],
    }
    return PanelSessionSchema().dump(body)


@bp.get("/t/<tenant_slug>/panel-members")
@documented(
    "Panel members and where the panel differs from its rules", response=PanelMemberListSchema
)
def panel_members():
    return PanelMemberListSchema().dump(
        {"items": panel.seats.members(), "balance": panel.seats.balance()}
    )


@bp.post("/t/<tenant_slug>/panel-members")
@documented(
    "Seat a person with the panel-member role in a constituency",
    body=PanelMemberInSchema,
    response=PanelMemberSchema,
    status=201,
)
def panel_member_save():
    data = load(PanelMemberInSchema())
    row = panel.seats.save_member(
        user_or_404(data["user_id"]),
        data["constituency"],
        data["is_chair"],
        data["term_start"],
        data["term_end"],
        current_actor(),
        alternate=data["alternate"],
    )
    return PanelMemberSchema().dump(row), 201


@bp.get("/t/<tenant_slug>/panel-sessions")
@documented("Panel sessions, newest first", response=PanelSessionListSchema)
def panel_sessions():
    return {"items": [_session_body(r) for r in panel.sessions.sessions(current_user.user)]}


@bp.post("/t/<tenant_slug>/panel-sessions")
@documented(
    "Schedule a session", body=PanelSessionInSchema, response=PanelSessionSchema, status=201
)
def panel_session_create():
    data = load(PanelSessionInSchema())
    row = panel.sessions.schedule(data["meets_on"], data["location"], current_actor())
    return _session_body(row), 201


@bp.get("/t/<tenant_slug>/panel-sessions/<int:panel_session_id>")
@documented(
    "A session: agenda, attendance, ballots cast (never their content), decisions",
    response=PanelSessionSchema,
)
def panel_session_get(panel_session_id: int):
    return _session_body(panel_session_or_404(panel_session_id))


@bp.post("/t/<tenant_slug>/panel-sessions/<int:panel_session_id>/agenda")
@documented(
    "Put a case in panel review on the agenda",
    body=AgendaInSchema,
    response=PanelSessionSchema,
    status=201,
)
def panel_agenda_add(panel_session_id: int):
    row = panel_session_or_404(panel_session_id)
    data = load(AgendaInSchema())
    panel.sessions.add_to_agenda(row, case_or_404(data["case_id"]), current_actor())
    return _session_body(row), 201


@bp.post("/t/<tenant_slug>/panel-sessions/<int:panel_session_id>/attendance")
@documented(
    "Record a member present or absent", body=AttendanceInSchema, response=PanelSessionSchema
)
def panel_attendance(panel_session_id: int):
    row = panel_session_or_404(panel_session_id)
    data = load(AttendanceInSchema())
    panel.sessions.set_attendance(
        row, panel_member_or_404(data["member_id"]), data["present"], current_actor()
    )
    return _session_body(row)


@bp.post("/t/<tenant_slug>/panel-sessions/<int:panel_session_id>/cases/<int:case_id>/ballots")
@documented(
    "Cast or change your sealed ballot: one of the track's options, or 'abstain' (null also "
    "abstains); 409 when you may not vote now (no seat, a party to the case, recused, absent, "
    "closed, or without quorum)",
    body=BallotInSchema,
    status=204,
)
def panel_ballot(panel_session_id: int, case_id: int):
    _, item = agenda_item_or_404(panel_session_id, case_id)
    data = load(BallotInSchema())
    panel.ballots.cast(item, current_user.user, data["option"])
    return "", 204


@bp.post("/t/<tenant_slug>/panel-sessions/<int:panel_session_id>/cases/<int:case_id>/close")
@documented(
    "Close the vote (the chair, or the coordinator); the configured rule decides",
    response=PanelSessionSchema,
)
def panel_close(panel_session_id: int, case_id: int):
    row, item = agenda_item_or_404(panel_session_id, case_id)
    panel.ballots.close(item, current_user.user)
    return _session_body(row)


@bp.post("/t/<tenant_slug>/cases/<int:case_id>/approvals")
@documented(
    "The final authority approves (closing the case) or returns it to the panel",
    body=FinalDecisionInSchema,
    response=CaseDetailSchema,
)
def case_approval(case_id: int):
    case = case_or_404(case_id)
    data = load(FinalDecisionInSchema())
    panel.approval.final_decision(
        case, current_user.user, data["approve"], data["note"], data["outcome"]
    )
    return _detail(case)
