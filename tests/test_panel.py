"""The panel end to end: agenda, recusal, sealed ballots, the rule's decision, approval."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.models.audit import AuditEvent
from app.models.case import Case
from app.tenants.context import tenant_scope
from tests.casework import Api, Browser
from tests.panelwork import session_with_case
from tests.routes import calls, object_args, values_in


def _vote(app, setup, sid, votes: dict[str, str | None]):
    for key, option in votes.items():
        response = Api(app, setup.district, setup.members[key]).post(
            f"/panel-sessions/{sid}/cases/{setup.case_id}/ballots", json={"option": option}
        )
        assert response.status_code == 204, (key, response.json)


def test_a_toledo_case_is_decided_six_of_nine_and_approved(app, toledo_panel):
    setup = toledo_panel
    coordinator, sid = session_with_case(app, setup)
    item = coordinator.get(f"/panel-sessions/{sid}").json["items"][0]
    assert item["recused"] == [{"member_id": setup.member_ids["admin4"], "rule": "same_school"}]

    recused = Api(app, setup.district, setup.members["admin4"]).post(
        f"/panel-sessions/{sid}/cases/{setup.case_id}/ballots", json={"option": "affirm"}
    )
    assert recused.status_code == 409
    assert "recused" in recused.json["errors"]["_schema"][0]

    _vote(
        app,
        setup,
        sid,
        {
            "teacher1": "affirm",
            "teacher2": "affirm",
            "teacher3": "affirm",
            "teacher4": "affirm",
            "admin1": "affirm",
            "admin2": "reject",
            "admin3": "reject",
            "teacher5": "reject",
        },
    )
    _vote(app, setup, sid, {"teacher5": "affirm"})  # a ballot may change until the close
    not_chair = Api(app, setup.district, setup.members["teacher2"]).post(
        f"/panel-sessions/{sid}/cases/{setup.case_id}/close"
    )
    assert not_chair.status_code == 409
    chair = Api(app, setup.district, setup.members["teacher1"])
    closed = chair.post(f"/panel-sessions/{sid}/cases/{setup.case_id}/close")
    assert closed.status_code == 200, closed.json
    decided = closed.json["items"][0]
    assert (decided["outcome"], decided["option"]) == ("decided", "affirm")
    assert decided["tally"] == {"affirm": 6, "reject": 2}
    assert decided["votes_needed"] == 6
    assert "6 of 9" in decided["rule_text"]

    with app.app_context(), tenant_scope(setup.district.tenant.id):
        case = db.session.get(Case, setup.case_id)
        assert case.state == "final_approval"
    authority = Api(app, setup.district, setup.final_authority)
    approved = authority.post(
        f"/cases/{setup.case_id}/approvals",
        json={"approve": True, "outcome": "released", "note": "Approved as recommended."},
    )
    assert approved.status_code == 200, approved.json
    assert approved.json["state"] == "closed"
    assert approved.json["outcome"] == "released"
    with app.app_context(), tenant_scope(setup.district.tenant.id):
        actions = [
            e.action
            for e in db.session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()
        ]
    assert {"panel.ballot_cast", "panel.vote_closed", "case.panel_decides", "case.approve"} <= set(
        actions
    )


def test_without_quorum_no_ballot_is_taken(app, toledo_panel):
    setup = toledo_panel
    coordinator, sid = session_with_case(app, setup)
    for key in ("teacher2", "teacher3", "admin1"):
        coordinator.post(
            f"/panel-sessions/{sid}/attendance",
            json={"member_id": setup.member_ids[key], "present": False},
        )
    response = Api(app, setup.district, setup.members["teacher1"]).post(
        f"/panel-sessions/{sid}/cases/{setup.case_id}/ballots", json={"option": "affirm"}
    )
    assert response.status_code == 409
    assert "No quorum" in response.json["errors"]["_schema"][0]


def test_a_five_four_split_falls_to_the_tie_rule_and_the_recommendation_stands(app, toledo_panel):
    setup = toledo_panel
    _, sid = session_with_case(app, setup)
    _vote(
        app,
        setup,
        sid,
        {
            "teacher1": "affirm",
            "teacher2": "affirm",
            "teacher3": "affirm",
            "teacher4": "affirm",
            "teacher5": "reject",
            "admin1": "reject",
            "admin2": "reject",
            "admin3": "reject",
        },
    )
    closed = (
        Api(app, setup.district, setup.members["teacher1"])
        .post(f"/panel-sessions/{sid}/cases/{setup.case_id}/close")
        .json["items"][0]
    )
    assert closed["tally"] == {"affirm": 4, "reject": 4}
    assert (closed["outcome"], closed["option"]) == ("decided", "affirm")


_OPTION = re.compile(r"\b(affirm|reject)\b", re.IGNORECASE)
_MY_BALLOT = re.compile(r'<p data-testid="my-ballot">.*?</p>', re.S)


def _option_words(app, setup, people) -> dict[tuple[str, str], int]:
    """How often each ballot word appears on every GET page and endpoint, per reader."""
    found = {}
    for who, user in people.items():
        html = Browser(app, setup.district, user)
        api = Api(app, setup.district, user)
        for call in calls(app):
            rule = call.rule
            if call.method != "GET" or "tenant_slug" not in rule.arguments:
                continue
            natural = {
                "number": 1,
                "a": 1,
                "b": 1,
                "track": "intervention",
                "action": "approve",
                "token": "no-such-link",
                "reset_token": "no-such-link",
            }
            values = values_in(app, setup.district.tenant.id, object_args(rule), natural)
            url = call.url(app, {"tenant_slug": setup.district.slug, **values})
            client = api.client if call.is_api else html.client
            headers = api.headers if call.is_api else {}
            response = client.get(url, headers=headers)
            # A member's own ballot is shown to them alone, in its own marked paragraph.
            # Read as bytes first: an image or a file is an answer too.
            text = _MY_BALLOT.sub("", response.get_data().decode("utf-8", "replace"))
            found[(who, url)] = len(_OPTION.findall(text))
    return found


def test_no_page_or_endpoint_shows_a_ballot_before_the_vote_closes(app, toledo_panel):
    setup = toledo_panel
    _, sid = session_with_case(app, setup)
    readers = {
        "coordinator": setup.district.people["coordinator"],
        "chair": setup.members["teacher1"],
        "member": setup.members["teacher2"],
        "teacher": setup.teacher,
        "final_authority": setup.final_authority,
        "admin": setup.district.people["admin"],
    }
    before = _option_words(app, setup, readers)
    _vote(app, setup, sid, {"teacher1": "affirm", "teacher2": "reject", "admin1": "affirm"})
    after = _option_words(app, setup, readers)
    changed = {key: (before[key], after[key]) for key in before if before[key] != after[key]}
    assert changed == {}


def test_a_teacher_never_sees_the_panel(app, toledo_panel):
    setup = toledo_panel
    _, sid = session_with_case(app, setup)
    teacher = Api(app, setup.district, setup.teacher)
    assert teacher.get(f"/panel-sessions/{sid}").status_code == 403
    assert teacher.get("/panel-sessions").status_code == 403
    assert "tally" not in str(teacher.get(f"/cases/{setup.case_id}").json)


def test_minutes_show_attendance_recusal_and_tally_but_no_sealed_ballot(app, toledo_panel):
    setup = toledo_panel
    _, sid = session_with_case(app, setup)
    _vote(
        app,
        setup,
        sid,
        {
            k: "affirm"
            for k in ("teacher1", "teacher2", "teacher3", "teacher4", "teacher5", "admin1")
        },
    )
    Api(app, setup.district, setup.members["teacher1"]).post(
        f"/panel-sessions/{sid}/cases/{setup.case_id}/close"
    )
    page = (
        Browser(app, setup.district, setup.district.people["coordinator"])
        .get(f"/panel/sessions/{sid}/minutes")
        .text
    )
    assert "works in the teacher&#39;s school" in page
    assert "Affirm the consulting teacher&#39;s recommendation 6" in page
    assert "Ballots:" not in page


def _pdf_text(data: bytes) -> str:
    """The text drawn on the pages (ReportLab's ASCII85 + Flate content streams, decoded)."""
    import base64
    import zlib

    text = []
    for chunk in re.findall(rb"stream\r?\n(.*?)~>\s*endstream", data, re.S):
        try:
            raw = base64.a85decode(chunk.strip() + b"~>", adobe=True)
            text.append(zlib.decompress(raw).decode("latin-1"))
        except (ValueError, zlib.error):
            continue
    return "".join(text)


def test_minutes_pdf_is_built_by_the_export_job_and_downloads(app, toledo_panel):
    setup = toledo_panel
    _, sid = session_with_case(app, setup)
    _vote(
        app,
        setup,
        sid,
        {
            k: "affirm"
            for k in ("teacher1", "teacher2", "teacher3", "teacher4", "teacher5", "admin1")
        },
    )
    Api(app, setup.district, setup.members["teacher1"]).post(
        f"/panel-sessions/{sid}/cases/{setup.case_id}/close"
    )
    coordinator = Browser(app, setup.district, setup.district.people["coordinator"])
    assert coordinator.get(f"/panel/sessions/{sid}/minutes.pdf").status_code == 404
    requested = coordinator.post(
        f"/panel/sessions/{sid}/minutes", f"/panel/sessions/{sid}/minutes.pdf", {}
    )
    assert requested.status_code == 302
    pdf = coordinator.get(f"/panel/sessions/{sid}/minutes.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    words = re.sub(r"\)\s*Tj\s*T\*\s*\(", " ", _pdf_text(pdf.data))  # lines, rejoined
    assert "Affirm the consulting teacher's recommendation 6" in words
    assert "works in the teacher's school" in words
    teacher = Browser(app, setup.district, setup.teacher)
    assert teacher.get(f"/panel/sessions/{sid}/minutes.pdf").status_code == 403


def test_minutes_built_again_replace_the_old_file_after_the_commit(app, toledo_panel):
    """The job stores the new PDF and deletes the one it replaces only once the new key has
    committed: two requests leave exactly one minutes file, the one the session names."""
    from pathlib import Path

    from app.models.panel import PanelSession

    setup = toledo_panel
    _, sid = session_with_case(app, setup)
    coordinator = Browser(app, setup.district, setup.district.people["coordinator"])
    root = Path(app.config["UPLOAD_ROOT"])

    def files() -> set[Path]:
        return {p for p in root.rglob("*") if p.is_file()}

    before, keys, added = files(), [], []
    for _ in range(2):
        requested = coordinator.post(
            f"/panel/sessions/{sid}/minutes", f"/panel/sessions/{sid}/minutes.pdf", {}
        )
        assert requested.status_code == 302
        with app.app_context(), tenant_scope(setup.district.tenant.id):
            keys.append(db.session.get(PanelSession, sid).minutes_key)
        added.append(files() - before)
    assert keys[0] and keys[1] and keys[0] != keys[1]
    assert len(added[0]) == 1 and len(added[1]) == 1, added
    assert added[0] != added[1]  # the first file is gone, the second is the one named
    assert coordinator.get(f"/panel/sessions/{sid}/minutes.pdf").data.startswith(b"%PDF")


def test_the_superintendent_returns_a_boston_decision_to_the_panel(app, awaiting_approval):
    """Boston's final authority may return a decision; it goes back to panel review."""
    waiting = awaiting_approval("boston", "boston_esp", "par", "needs_improvement")
    boston, authority, case_id = waiting.district, waiting.authority, waiting.case_id
    authority_api = Api(app, boston, authority)
    refused = authority_api.post(f"/cases/{case_id}/approvals", json={"approve": False})
    assert refused.status_code == 422
    returned = authority_api.post(
        f"/cases/{case_id}/approvals", json={"approve": False, "note": "Weigh the new evidence."}
    )
    assert returned.status_code == 200, returned.json
    assert returned.json["state"] == "panel_review"
    coordinator = Browser(app, boston, boston.people["coordinator"])
    session_page = coordinator.post(
        "/panel/", "/panel/sessions", {"meets_on": date.today().isoformat()}
    )
    assert session_page.status_code == 302
    assert (
        f"#{case_id}"
        in coordinator.get(session_page.headers["Location"].split(f"/t/{boston.slug}")[1]).text
    )


def test_a_member_who_declares_a_conflict_is_told_why_the_agenda_looks_empty(app, toledo_panel):
    setup = toledo_panel
    _, sid = session_with_case(app, setup)
    member = Browser(app, setup.district, setup.members["teacher2"])
    page = f"/panel/sessions/{sid}"
    declared = member.post(page, f"{page}/cases/{setup.case_id}/conflict", {"note": "A cousin."})
    assert declared.status_code == 302
    shown = member.get(page).text
    assert "No cases on the agenda yet." not in shown
    assert "The 1 case on this agenda is one you sit out" in shown
