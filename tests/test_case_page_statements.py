"""The case page sends few statements, and the same number however long its sections grow.

Signing in reads the person and their roles in one statement; the teacher's page reads
nothing of what only guards or evaluators read; the sections are read in one statement
each, whether a case has one piece of evidence or ten.
"""

from __future__ import annotations

import io
import re
from datetime import date

import pytest

from app.core import uow
from app.extensions import db
from app.models.case import Case
from app.models.user import User
from app.services import assignments, cases, support
from app.tenants.context import tenant_scope
from tests.casework import Browser, to_support

TODAY = date.today()
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _grow(app, d, case_id: int, n: int) -> None:
    """``n`` more of every section's rows: visits (one withheld from the teacher), goals,
    evidence with a file."""
    with app.app_context(), tenant_scope(d.tenant.id):
        case = db.session.get(Case, case_id)
        ct = db.session.get(User, d.people["ct"].id)
        for k in range(n):
            visit = support.VisitInput(
                "observation", TODAY, 45, notes=f"Notes {k}", shared_with_teacher=bool(k % 2)
            )
            support.log_visit(case, ct, visit)
            support.add_goal(case, ct, f"Goal {k}")
            support.add_evidence(case, ct, f"Evidence {k}", [], (io.BytesIO(PDF), f"e{k}.pdf"))
        uow.commit()


def _grown_case_page(app, d, who: str, n: int, count_queries):
    """A case in support grown by ``n`` rows of each section, and its page as ``who`` reads
    it: the case's id, the page and the statements it sent."""
    case_id = to_support(app, d, "intervention", "unsatisfactory")
    _grow(app, d, case_id, n)
    reader = Browser(app, d, d.people[who])
    with count_queries() as counted:
        page = reader.get(f"/cases/{case_id}")
    assert page.status_code == 200
    return case_id, page, counted


def _tables(statement: str) -> set[str]:
    return {t for pair in re.findall(r"\bFROM (\w+)|\bJOIN (\w+)", statement) for t in pair if t}


def _first_table(statement: str) -> str:
    return re.search(r"\bFROM (\w+)", statement).group(1)


def test_the_signed_in_person_and_their_roles_are_one_statement(app, toledo, count_queries):
    """The person, their roles and the district's newest published version (every page's
    labels and titles read it) come in one statement; no page reads the version again."""
    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    for who, path in (("teacher", f"/cases/{case_id}"), ("ct", "/"), ("coordinator", "/cases/")):
        reader = Browser(app, toledo, toledo.people[who])
        with count_queries() as counted:
            assert reader.get(path).status_code == 200
        reading_roles = [s for s in counted if "role_grants" in _tables(s)]
        assert len(reading_roles) == 1, reading_roles
        assert _tables(reading_roles[0]) == {"users", "role_grants", "workflow_versions"}
        versions = [s for s in counted if _first_table(s) == "workflow_versions"]
        assert versions == [], (who, path)


def test_the_teachers_page_reads_nothing_only_guards_or_evaluators_read(app, toledo, count_queries):
    """No step of the teacher's has a guard, and the teacher sees no evidence,
    recommendation, assignment or panel: none of those tables is read for their page."""
    _, page, counted = _grown_case_page(app, toledo, "teacher", 2, count_queries)
    read = set().union(*(_tables(s) for s in counted))
    assert read & {"evidence", "recommendations", "assignments", "agenda_items"} == set()
    visits = [s for s in counted if "visits" in _tables(s)]
    assert len(visits) == 1, visits
    # What the teacher is shown is unchanged: shared notes only.
    assert "Notes 1" in page.text and "Notes 0" not in page.text


@pytest.mark.parametrize("who", ["coordinator", "ct", "teacher", "principal"])
def test_the_case_page_sends_as_many_statements_for_ten_rows_as_for_one(
    app, toledo, count_queries, who
):
    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    reader = Browser(app, toledo, toledo.people[who])
    counts = []
    for batch in (1, 9):
        _grow(app, toledo, case_id, batch)
        with count_queries() as counted:
            assert reader.get(f"/cases/{case_id}").status_code == 200
        counts.append(len(counted))
    assert counts[0] == counts[1], f"{who}: {counts[0]} statements for 1 row, {counts[1]} for 10"


def test_a_pending_proposal_shows_the_committees_answers(app, district, make_user):
    """Boston's committee must agree to a CT: the page reads the answers of the proposal
    waiting (and only of that one), each with the member's name."""
    d = district("boston", "boston_esp")
    teacher = make_user(d.tenant, "teacher", email="kim@boston.org")
    with app.app_context(), tenant_scope(d.tenant.id):
        case = cases.open_case(
            teacher=db.session.get(User, teacher.id),
            track_key="pa",
            latest_rating="needs_improvement",
        )
        proposal = assignments.propose(
            case,
            db.session.get(User, d.people["ct"].id),
            db.session.get(User, d.people["coordinator"].id),
            reason="Same grade",
        )
        assert proposal.status == "proposed"
        member = db.session.get(User, d.people["committee1"].id)
        assignments.review(proposal, member, False, "Too far away")
        uow.commit()
        case_id = case.id
    page = Browser(app, d, d.people["coordinator"]).get(f"/cases/{case_id}").text
    assert "Proposed: <strong>Person ct</strong> (Same grade)" in page
    assert "Person c1: objects, “Too far away”" in page
    assert re.search(r"<li>Person ct: proposed \(proposed \d{4}-\d\d-\d\d\)</li>", page)


def test_a_panelists_standing_is_worked_out_once_per_page(app, toledo_panel, count_queries):
    """A seated panelist's relation to the case comes from the panel's agenda and its
    eligibility rules; the page's sections and buttons share one answer."""
    from tests.panelwork import session_with_case

    session_with_case(app, toledo_panel)
    member = Browser(app, toledo_panel.district, toledo_panel.members["teacher2"])
    with count_queries() as counted:
        page = member.get(f"/cases/{toledo_panel.case_id}")
    assert page.status_code == 200
    # The case's own statement names the agenda in its packet rule; the others read it.
    agenda = [s for s in counted if _first_table(s) == "agenda_items"]
    assert len(agenda) == 1, [_first_table(s) for s in counted]


def test_the_coordinators_page_ranks_any_roster_in_the_same_statements(app, toledo, count_queries):
    """The CT suggestions read every CT's roles with the roster, not one person at a time."""
    from app.services import users

    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    coordinator = Browser(app, toledo, toledo.people["coordinator"])
    counts = []
    for more in (0, 5):
        with app.app_context(), tenant_scope(toledo.tenant.id):
            for n in range(more):
                users.create_user(
                    toledo.tenant.id,
                    email=f"ct-extra{n}@toledo.example.org",
                    name=f"Extra CT {n}",
                    roles=["consulting_teacher"],
                )
            uow.commit()
        with count_queries() as counted:
            page = coordinator.get(f"/cases/{case_id}")
        assert page.status_code == 200
        counts.append(len(counted))
    assert "Extra CT 4" in page.text  # the ranking lists them
    assert counts[0] == counts[1], f"{counts[0]} statements for the roster, {counts[1]} with 5 more"


def test_a_case_page_builds_only_the_forms_its_reader_is_shown(app, toledo, monkeypatch):
    """Each section's form is built when the page draws it: the teacher's page builds none
    of the coordinator's forms (proposing a CT, asking for information, reopening), the
    coordinator's does."""
    from flask_wtf import FlaskForm

    built: list[str] = []
    build = FlaskForm.__init__

    def counted(self, *args, **kwargs):
        built.append(type(self).__name__)
        build(self, *args, **kwargs)

    monkeypatch.setattr(FlaskForm, "__init__", counted)
    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    coordinators = {"ProposeForm", "InformationRequestForm", "ReopenForm"}
    teacher = Browser(app, toledo, toledo.people["teacher"])
    built.clear()
    assert teacher.get(f"/cases/{case_id}").status_code == 200
    assert built and not coordinators & set(built), built
    coordinator = Browser(app, toledo, toledo.people["coordinator"])
    built.clear()
    assert coordinator.get(f"/cases/{case_id}").status_code == 200
    assert {"ProposeForm", "InformationRequestForm"} <= set(built), built
    # Only the CT logs visits: nobody else's page builds the visit form to ask whether it
    # was refused.
    assert "VisitForm" not in built
    ct = Browser(app, toledo, toledo.people["ct"])
    built.clear()
    assert ct.get(f"/cases/{case_id}").status_code == 200
    assert "VisitForm" in built


def test_pages_do_not_read_password_hashes(app, toledo, count_queries):
    """A case's people come with its rows, but what only signing in reads (the password
    hash, failed sign-ins, the lock) stays in the database unless signing in asks."""
    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    for who, path in (
        ("coordinator", f"/cases/{case_id}"),
        ("ct", "/"),
        ("coordinator", "/cases/"),
        ("teacher", "/"),
    ):
        reader = Browser(app, toledo, toledo.people[who])  # signs in: reads them
        with count_queries() as sent:
            assert reader.get(path).status_code == 200
        assert sent and not [sql for sql in sent if "password_hash" in sql], (who, path)


def test_the_ranking_offers_only_active_people_who_hold_the_role(app, toledo):
    """A CT who was disabled, or whose role was taken away, keeps a roster profile but is
    not offered a case; the others are."""
    from app.services import users

    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    with app.app_context(), tenant_scope(toledo.tenant.id):
        made = {
            name: users.create_user(
                toledo.tenant.id,
                email=f"{name.lower()}@toledo.example.org",
                name=f"{name} Rankable",
                roles=["consulting_teacher"],
            )
            for name in ("Kept", "Disabled", "Former")
        }
        users.set_active(made["Disabled"], False)
        users.set_roles(made["Former"], ["teacher"])
        uow.commit()
    page = Browser(app, toledo, toledo.people["coordinator"]).get(f"/cases/{case_id}").text
    ranked = page[page.index("<h3>Suggestions</h3>") :]
    ranked = ranked[: ranked.index("</table>")]
    assert "Kept Rankable" in ranked
    assert "Disabled Rankable" not in ranked and "Former Rankable" not in ranked


def test_the_cts_page_reads_visits_and_evidence_once_for_sections_and_buttons(
    app, toledo, count_queries
):
    """The CT sees the visits and the evidence, and the guards of the CT's steps count
    both: one read of each serves the sections and the buttons, and the buttons still
    count every visit (the refusal names the count)."""
    case_id, page, counted = _grown_case_page(app, toledo, "ct", 3, count_queries)
    firsts = [_first_table(s) for s in counted]
    assert firsts.count("visits") == 1, counted
    assert firsts.count("evidence") == 1, counted
    with app.app_context(), tenant_scope(toledo.tenant.id):
        case = db.session.get(Case, case_id)
        (own,) = cases.options(case, db.session.get(User, toledo.people["ct"].id))
    assert not own.enabled and own.reasons
    for reason in own.reasons:
        assert reason in page.text
    assert "Evidence 2" in page.text and "Notes 2" in page.text
