"""Importing a district's history: every bad row named, nothing written, re-import updates."""

from __future__ import annotations

import io

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from app.extensions import db
from app.models.case import Case
from app.models.user import User
from app.tenants.context import tenant_scope
from tests.casework import Api

HEADER = (
    "external_id,teacher_name,teacher_email,school,track,consulting_teacher_email,"
    "requested_on,started_on,ended_on,outcome\n"
)
GOOD = (
    "B-001,Ann Able,ann@bps.org,Adams,peer_assistance,ct.one@bps.org,"
    "2009-08-20,2009-09-10,2010-05-30,met_standards\n"
    "B-002,Ben Bell,ben@bps.org,Blake,peer_assistance,ct.one@bps.org,"
    "2009-08-21,2009-09-15,,\n"
    "B-003,Cy Cole,cy@bps.org,Adams,peer_assistance,,2009-10-01,2009-10-20,2010-01-15,retired\n"
)


@pytest.fixture
def pap(district):
    return district("bostonpap", "boston_pap_2007")


def _post(app, d, text: str):
    api = Api(app, d, d.people["coordinator"])
    return api.post(
        "/imports/cases",
        data={"file": (io.BytesIO(text.encode()), "cases.csv")},
        content_type="multipart/form-data",
    )


def _count(app, d) -> int:
    with app.app_context(), tenant_scope(d.tenant.id):
        return db.session.execute(select(func.count(Case.id))).scalar()


def test_a_good_file_imports_and_reimporting_updates_instead_of_adding(app, pap):
    first = _post(app, pap, HEADER + GOOD)
    assert first.status_code == 200, first.json
    assert first.json == {"created": 3, "updated": 0}
    again = _post(
        app, pap, HEADER + GOOD.replace("2010-05-30,met_standards", "2010-06-01,resigned")
    )
    assert again.json == {"created": 0, "updated": 3}
    assert _count(app, pap) == 3
    with app.app_context(), tenant_scope(pap.tenant.id):
        closed = db.session.execute(select(Case).where(Case.external_id == "B-001")).scalar_one()
        assert (closed.state, closed.outcome, closed.report_group) == (
            "closed",
            "resigned",
            "retirements_resignations_other",
        )
        open_case = db.session.execute(select(Case).where(Case.external_id == "B-002")).scalar_one()
        assert open_case.closed_at is None and open_case.ended_on is None
        assert open_case.state == "support"
        ct = db.session.execute(select(User).where(User.email == "ct.one@bps.org")).scalar_one()
        assert "consulting_teacher" in ct.roles


@pytest.mark.parametrize(
    ("bad_line", "key", "message"),
    [
        (
            "B-9,Dee,dee@bps.org,Adams,peer_assistance,,2009-13-01,,,\n",
            "rows[5].requested_on",
            "'2009-13-01' is not a date (use YYYY-MM-DD)",
        ),
        (
            "B-9,Dee,dee@bps.org,Adams,evaluation,,2009-10-01,,,\n",
            "rows[5].track",
            "unknown track 'evaluation' (use Peer Assistance (peer_assistance))",
        ),
        (
            "B-9,Dee,dee@bps.org,Adams,peer_assistance,,2009-10-01,2009-10-02,2010-01-01,vanished\n",
            "rows[5].outcome",
            "unknown outcome 'vanished'",
        ),
        (
            "B-001,Dee,dee@bps.org,Adams,peer_assistance,,2009-10-01,,,\n",
            "rows[5].external_id",
            "'B-001' is also on line 2",
        ),
        (
            "B-9,Dee,dee\u202e@bps.org,Adams,peer_assistance,,2009-10-01,,,\n",
            "rows[5].teacher_email",
            "is not a valid e-mail address: The address contains an invisible or control "
            "character (U+202E); type it again rather than pasting it.",
        ),
        (
            "B-9,Dee,admin@bostonpap.org,Adams,peer_assistance,,2009-10-01,,,\n",
            "rows[5].teacher_email",
            "admin@bostonpap.org has an account that does not hold the teacher role; an import "
            "never grants a role (the program admin does)",
        ),
    ],
)
def test_one_bad_row_refuses_the_file_naming_row_and_column(app, pap, bad_line, key, message):
    response = _post(app, pap, HEADER + GOOD + bad_line)
    assert response.status_code == 422
    assert response.json["errors"][key] == [message]
    assert _count(app, pap) == 0


def test_a_missing_column_is_named(app, pap):
    response = _post(
        app, pap, HEADER.replace(",outcome", "") + "B-1,A,a@b.org,X,pa,,2009-01-01,,\n"
    )
    assert response.status_code == 422
    assert response.json["errors"]["file"] == ["Missing column: outcome."]
    assert _count(app, pap) == 0


def test_the_command_line_imports_the_same_way(app, pap, tmp_path):
    path = tmp_path / "cases.csv"
    path.write_text(HEADER + GOOD)
    with app.app_context():
        result = CliRunner().invoke(app.cli, ["import", "cases", "--tenant", pap.slug, str(path)])
    assert result.exit_code == 0, result.output
    assert "Imported 3 new and 0 updated cases" in result.output
    path.write_text(HEADER + "X,A,a@b.org,X,peer_assistance,,someday,,,\n")
    with app.app_context():
        bad = CliRunner().invoke(app.cli, ["import", "cases", "--tenant", pap.slug, str(path)])
    assert bad.exit_code == 1
    assert "rows[2].requested_on: 'someday' is not a date" in bad.output
    assert _count(app, pap) == 3


def test_a_reimport_never_moves_a_case_to_another_teacher(app, pap):
    assert _post(app, pap, HEADER + GOOD).status_code == 200
    moved = GOOD.replace("B-001,Ann Able,ann@bps.org", "B-001,Ann Able,someone.else@bps.org")
    response = _post(app, pap, HEADER + moved)
    assert response.status_code == 422
    assert (
        "cannot move it to another teacher" in response.json["errors"]["rows[2].teacher_email"][0]
    )


def test_tracks_and_outcomes_may_be_named_as_people_read_them(app, pap):
    by_label = GOOD.replace("peer_assistance", "peer assistance").replace(
        "met_standards", "Met standards"
    )
    assert _post(app, pap, HEADER + by_label).json == {"created": 3, "updated": 0}
    with app.app_context(), tenant_scope(pap.tenant.id):
        closed = db.session.execute(select(Case).where(Case.external_id == "B-001")).scalar_one()
        assert (closed.track_key, closed.outcome) == ("peer_assistance", "met_standards")
