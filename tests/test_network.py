"""The network: opt-in, releases of aggregates only (a table protected as a table, a
published year final, noise charged to the year's budget), the comparisons each audience
sees, and pages that never read a district's tables."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from app.core import uow
from app.extensions import db
from app.models.audit import AuditEvent
from app.models.base import TenantScoped
from app.models.network import NetworkRelease, PrivacySpend
from app.services import network, users
from app.services.actors import Actor
from app.services.errors import ValidationFailed
from app.tenants.context import all_tenants, tenant_scope
from app.workflows.vocabulary import NETWORK_GROUPS
from tests.factories import PASSWORD
from tests.network import solver
from tests.network.generated import YEAR as RECENT
from tests.network.generated import (
    Stint,
    add_stints,
    analyst,
    seed_others,
    year_back,
)
from tests.test_imports import HEADER, _post

YEAR = "2009-2010"


def _history(met: int, retired: int, open_: int) -> str:
    lines, n = [], 0
    for outcome, count in (("met_standards", met), ("retired", retired), ("", open_)):
        for _ in range(count):
            n += 1
            ended = "2010-06-01" if outcome else ""
            lines.append(
                f"N-{n},T{n},t{n}@bps.org,Adams,peer_assistance,,2009-08-01,"
                f"2009-09-15,{ended},{outcome}"
            )
    return HEADER + "\n".join(lines) + "\n"


@pytest.fixture
def member(app, district):
    d = district("bostonpap", "boston_pap_2007")
    assert _post(app, d, _history(met=15, retired=3, open_=12)).status_code == 200
    with app.app_context(), tenant_scope(d.tenant.id):
        network.join(named=True, noisy=False, epsilon=1.0, actor=Actor.system())
        uow.commit()
    return d


@pytest.fixture
def few_districts(app, monkeypatch):
    """One district is enough for a comparison (the default is five)."""
    monkeypatch.setitem(app.config, "NETWORK_MIN_DISTRICTS", 1)


def _publish(app, d, year=YEAR, **kwargs):
    with app.app_context(), tenant_scope(d.tenant.id):
        network.publish(year, **kwargs)
        uow.commit()


def _release(app):
    with app.app_context(), all_tenants():
        return db.session.execute(select(NetworkRelease)).scalars().all()


def _ledger(app, d):
    with app.app_context(), tenant_scope(d.tenant.id):
        rows = network.ledger()
        db.session.expunge_all()
        return rows


# ----------------------------------------------------------------------------- releases


def test_three_retirements_are_suppressed_and_cannot_be_recovered(app, member):
    _publish(app, member)
    [release] = _release(app)
    row = release.figures["all"]
    assert row["participants"] == 30
    assert row["outcomes"]["resigned_or_retired"] is None
    kinds = [k for k in release.figures if k != "all"]
    published = solver.published_cells(release.figures, list(NETWORK_GROUPS))
    assert solver.recovered(kinds, list(NETWORK_GROUPS), published) == {}
    assert release.display_name == "Bostonpap Schools"
    assert release.size_band == "25-99"


def test_the_survey_is_published_from_the_counted_answers(app, member):
    """The release counts the year's answers in the database: per statement, agree and
    disagree (a blank is neither), each table protected as before."""
    from tests.casework import Api
    from tests.test_surveys import ANSWERS

    answers = [
        ("strongly_agree" if n < 6 else "agree" if n < 11 else "disagree")  # valued: 11 / 1
        + ",agree"  # access: 12 / 0
        + ("," if n >= 10 else ",agree")  # advocate: 10 / 0, two blanks
        + (",agree" if n % 2 else ",disagree")  # suggestions: 6 / 6
        + ",strongly_disagree"  # culture: 0 / 12
        + ","  # understands: all blank
        for n in range(12)
    ]
    rows = "".join(f"R{n},2010-05-0{1 + n % 9},{a},\n" for n, a in enumerate(answers))
    imported = Api(app, member, member.people["coordinator"]).post(
        "/imports/survey-responses",
        data={
            "file": (io.BytesIO((ANSWERS + rows).encode()), "answers.csv"),
            "survey": "teacher_questionnaire",
            "year": YEAR,
            "sent": "30",
        },
        content_type="multipart/form-data",
    )
    assert imported.status_code == 200, imported.json
    _publish(app, member)
    [release] = _release(app)
    assert release.figures["all"]["survey_agreement"] == {
        "values_program": None,  # one disagreement: hidden, and so is its complement
        "adequate_access": 1.0,
        "advocate": 1.0,
        "concrete_suggestions": None,
        "school_culture": 0.0,
        "understands_situation": None,
    }


def test_a_release_reads_the_district_in_three_statements(app, member, count_queries):
    """The membership with the year's ledger row, the configuration with the survey, and
    the year's cases with their panel decisions; then it writes."""
    with app.app_context(), tenant_scope(member.tenant.id):
        with count_queries() as statements:
            assert network.publish(YEAR) is not None
        uow.commit()
    reads = [
        s for s in statements if s.lstrip().upper().startswith("SELECT") and "audit_events" not in s
    ]
    reads = [s for s in reads if "FOR UPDATE" not in s.upper()]  # the audit's lock
    assert len(reads) == 3, reads


def test_an_anonymous_member_is_shown_by_its_label(app, member):
    with app.app_context(), tenant_scope(member.tenant.id):
        network.join(named=False, noisy=False, epsilon=1.0, actor=Actor.system())
        uow.commit()
    _publish(app, member)
    [release] = _release(app)
    assert release.display_name.startswith("District ")


def test_a_published_year_is_final_and_the_refusal_is_kept(app, member):
    _publish(app, member)
    _publish(app, member)
    assert len(_release(app)) == 1
    [year] = _ledger(app, member)
    assert year.published_at is not None and "final" in year.refusal
    with app.app_context(), tenant_scope(member.tenant.id):
        refused = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "network.release_refused")
        ).scalar_one()
    assert "final" in refused.after["reason"]


def test_a_noisy_release_past_what_is_left_of_the_budget_is_refused(app, member):
    """A year's ledger may hold epsilon spent before (a release of an earlier version)."""
    with app.app_context(), tenant_scope(member.tenant.id):
        network.join(named=True, noisy=True, epsilon=0.5, actor=Actor.system())
        db.session.add(PrivacySpend(tenant_id=member.tenant.id, year=YEAR, spent=0.4))
        uow.commit()
    _publish(app, member)
    assert _release(app) == []
    [year] = _ledger(app, member)
    assert year.published_at is None
    assert "epsilon" in year.refusal


def test_a_noisy_release_spends_what_opendp_certifies_and_records_it(app, member):
    calls = []

    def noise(counts, scale):
        calls.append(scale)
        return counts

    with app.app_context(), tenant_scope(member.tenant.id):
        network.join(named=True, noisy=True, epsilon=0.8, actor=Actor.system())
        uow.commit()
    _publish(app, member, noise=noise)
    [release] = _release(app)
    [year] = _ledger(app, member)
    assert release.noisy and year.noisy
    assert year.spent == pytest.approx(0.8 * (1 - 0.15))  # no survey: its share unspent
    assert min(calls) == pytest.approx(1 / (0.8 * 0.4))  # the outcomes' scale


def test_a_noisy_release_is_a_function_of_the_noise_alone(app, district):
    """Two districts a teacher apart, drawn with noise that ignores the counts, publish
    the same figures and band: nothing in a noisy release comes from the true data."""
    made = []
    for slug, extra in (("one", []), ("two", [Stint("intervention", 7.3, "released")])):
        d = district(slug, "toledo")
        add_stints(app, d, RECENT, [Stint("intern", 4 + n % 7) for n in range(40)] + extra)
        with app.app_context(), tenant_scope(d.tenant.id):
            network.join(named=False, noisy=True, epsilon=1.0, actor=Actor.system())
            uow.commit()
        _publish(app, d, RECENT, noise=lambda counts, scale: [11] * len(counts))
        made.append(d)
    first, second = sorted(_release(app), key=lambda r: r.display_name)
    assert first.figures == second.figures
    assert first.size_band == second.size_band


def test_a_teacher_counts_once_per_year_and_once_in_each_year(app, district):
    toledo = district("toledo", "toledo")
    twice = [
        Stint("intern", 3, "non_renewed", teacher="twice@toledo.org"),
        Stint("intervention", None, None, teacher="twice@toledo.org", start_day=120),
    ]
    add_stints(app, toledo, RECENT, twice)
    with app.app_context(), tenant_scope(toledo.tenant.id):
        kinds, records, _ = network.teacher_years(RECENT)
        _, next_year, _ = network.teacher_years(f"{int(RECENT[:4]) + 1}-{int(RECENT[:4]) + 2}")
    assert kinds == ["induction", "review"]
    assert [(r.kind, r.group) for r in records] == [("review", "active")]
    assert [r.kind for r in next_year] == ["review"]  # the open case, again, next year


def test_the_portable_release_off_postgresql_reads_the_same_teacher_years(
    app, district, monkeypatch
):
    """Off PostgreSQL (the embedded SQLite of ``make run``) the panel's last decision on each
    case is found without ``LATERAL`` and the survey is counted in Python; on the same
    district (cases decided more than once, closed and not, an undecided item) both read the
    same rows and the same teacher-years."""
    from datetime import UTC, datetime, timedelta

    from app.models.case import Case
    from app.models.panel import AgendaItem, PanelSession
    from app.services import sql_dialect
    from tests.network.generated import add_survey

    pap = district("bostonpap", "boston_pap_2007")
    stints = [
        Stint(
            "peer_assistance", outcome="met_standards", panel="followed" if n % 3 else "overruled"
        )
        for n in range(12)
    ]
    add_stints(app, pap, RECENT, [*stints, Stint("peer_assistance", None, None)])
    add_survey(app, pap, RECENT, [{"values_program": "agree"}, {"advocate": "disagree"}])
    with app.app_context(), tenant_scope(pap.tenant.id):
        cases = db.session.execute(select(Case).order_by(Case.id)).scalars().all()
        closed = datetime(2020, 1, 1, tzinfo=UTC)
        # Later sessions: a closed decision outranks an open one, the latest closed wins, the
        # latest id breaks a tie, and an item that was not decided is never the decision.
        later = [
            (cases[0], "decided", "satisfactory", closed),
            (cases[1], "decided", "satisfactory", closed),
            (cases[1], "decided", "unsatisfactory", closed + timedelta(days=1)),
            (cases[2], "decided", "satisfactory", closed),
            (cases[2], "decided", "unsatisfactory", closed),
            (cases[3], "deferred", "satisfactory", closed + timedelta(days=9)),
            (cases[12], "decided", "uphold", None),
        ]
        for n, (case, outcome, option, closed_at) in enumerate(later):
            session = PanelSession(
                tenant_id=pap.tenant.id, meets_on=closed.date() + timedelta(days=n)
            )
            db.session.add(session)
            db.session.flush()
            db.session.add(
                AgendaItem(
                    tenant_id=pap.tenant.id,
                    session_id=session.id,
                    case_id=case.id,
                    status="closed",
                    outcome=outcome,
                    option=option,
                    closed_at=closed_at,
                )
            )
        uow.commit()
        _, span = network.config_and_year(RECENT)
        bounds = {"start": span.start, "end": span.end}
        rows = sorted(db.session.execute(network._cases_with_decisions(), bounds).all())
        portable = db.session.execute(network.portable_cases_with_decisions(), bounds).all()
        assert sorted(portable) == rows and len(rows) == 13
        assert sum(row[-2] is not None for row in rows) == 13
        by_postgresql = network.teacher_years(RECENT)
        monkeypatch.setattr(sql_dialect, "on_postgresql", lambda: False)
        assert network.teacher_years(RECENT) == by_postgresql
    _, records, survey = by_postgresql
    assert sorted(r.panel for r in records) == ["followed"] * 8 + ["overruled"] * 5
    assert survey is not None and survey.agreement["advocate"] == {"agree": 0, "disagree": 1}


# ----------------------------------------------------------------------------- anonymity


def test_going_anonymous_asks_what_to_do_with_named_releases(app, member):
    _publish(app, member)
    from tests.casework import Browser

    admin = Browser(app, member, member.people["admin"])
    page = admin.get("/network").text
    assert "If you stop showing your name" in page and "Withdraw them" in page
    with app.app_context(), tenant_scope(member.tenant.id):
        with pytest.raises(ValidationFailed, match="withdraw them or keep them"):
            network.join(False, False, 1.0, Actor.system())
        before = network.membership().member_key
        network.join(False, False, 1.0, Actor.system(), earlier="keep")
        assert network.membership().member_key != before
        uow.commit()
    [kept] = _release(app)
    assert kept.display_name == "Bostonpap Schools"


def test_withdrawing_named_releases_deletes_them_and_the_year_stays_final(app, member):
    _publish(app, member)
    with app.app_context(), tenant_scope(member.tenant.id):
        network.join(False, False, 1.0, Actor.system(), earlier="withdraw")
        uow.commit()
    assert _release(app) == []
    _publish(app, member)
    assert _release(app) == []
    [year] = _ledger(app, member)
    assert year.withdrawn_at is not None


# ---------------------------------------------------------------------------- audiences


def test_network_pages_read_only_network_tables(app, member, count_queries, few_districts):
    _publish(app, member)
    with app.app_context():
        users.create_platform_user("an@parley.org", "Analyst", "network_analyst", PASSWORD)
        uow.commit()
        tenant_tables = {
            m.class_.__tablename__
            for m in db.Model.registry.mappers
            if issubclass(m.class_, TenantScoped)
        } | {"tenants"}
    from tests.factories import csrf_token

    client = app.test_client()
    page = client.get("/ops/login")
    client.post(
        "/ops/login",
        data={"email": "an@parley.org", "password": PASSWORD, "csrf_token": csrf_token(page.text)},
    )
    with count_queries() as statements:
        for path in (
            "/network/",
            f"/network/?year={YEAR}&track_kind=assistance",
            "/network/comparison.csv",
            f"/api/v1/network/outcomes?year={YEAR}",
        ):
            response = client.get(path)
            assert response.status_code == 200, path
            assert "Bostonpap Schools" in response.text
    touched = {
        t for s in statements for t in re.findall(r"\bFROM (\w+)|\bJOIN (\w+)", s) for t in t if t
    }
    assert touched and not touched & tenant_tables, touched & tenant_tables


def _analyst_over_toledo_and_others(app, district):
    """An analyst's client over Toledo's published year (named, exact) and eight synthetic
    districts over four years."""
    toledo = district("toledo", "toledo")
    add_stints(app, toledo, RECENT, [Stint("intern", 5)] * 30)
    with app.app_context(), tenant_scope(toledo.tenant.id):
        network.join(named=True, noisy=False, epsilon=1.0, actor=Actor.system())
        uow.commit()
    _publish(app, toledo, RECENT)
    seed_others(app, count=8, years_back=3)
    return analyst(app)


def test_the_page_csv_and_api_agree_and_say_when_too_few_districts_match(app, district):
    client = _analyst_over_toledo_and_others(app, district)
    for query in (
        {"year": RECENT},
        {"year": RECENT, "track_kind": "induction"},
        {"year": year_back(1), "track_kind": "assistance", "size_band": "250+"},
    ):
        api = client.get("/api/v1/network/outcomes", query_string=query).json
        page = client.get("/network/", query_string=query).text
        rows = list(
            csv.reader(io.StringIO(client.get("/network/comparison.csv", query_string=query).text))
        )
        names = [i["district"] for i in api["items"]]
        assert [r[0] for r in rows[1:]] == names
        for item in api["items"]:
            assert item["district"] in page
        if api["too_few_districts"]:
            assert names == [] and "Too few districts" in page
        else:
            assert len(set(names)) >= 5
    assert client.get("/api/v1/network/outcomes", query_string={"year": "1999-2000"}).json[
        "too_few_districts"
    ]


def test_a_district_user_cannot_use_the_network_pages(app, member):
    from tests.casework import Browser

    coordinator = Browser(app, member, member.people["coordinator"])
    assert coordinator.client.get("/network/").status_code == 302
    assert coordinator.get("/network").status_code == 403  # program admins only
    admin = Browser(app, member, member.people["admin"])
    page = admin.get("/network")
    assert page.status_code == 200 and "What the network would see" in page.text


def test_the_admin_publishes_through_the_release_job_once(app, member):
    from tests.casework import Browser

    admin = Browser(app, member, member.people["admin"])
    response = admin.post(f"/network?year={YEAR}", "/network/releases", {"year": YEAR})
    assert response.status_code == 302
    [release] = _release(app)
    assert release.year == YEAR and release.figures["all"]["participants"] == 30
    page = admin.get(f"/network?year={YEAR}").text
    assert "Yours: 30 participants" in page
    assert "Publish the" not in page and "is never published again" in page
    again = admin.post(
        f"/network?year={YEAR}", "/network/releases", {"year": YEAR}, follow_redirects=True
    )
    assert "a published year is final" in again.text


def test_a_district_sees_only_medians_of_enough_other_districts(app, member):
    from tests.casework import Api

    _publish(app, member)
    api = Api(app, member, member.people["admin"])
    body = api.get(f"/network/outcomes?year={YEAR}").json
    assert body["member"] is True
    assert body["mine"]["all"]["participants"] == 30
    assert body["network"]["too_few_districts"] is True
    assert body["network"]["participants"] is None and body["others"] == []
    assert body["mine"]["all"]["panel_agreement"] is None
    assert body["mine"]["all"]["survey_agreement"] == {}

    with app.app_context(), all_tenants():
        for n in range(6):  # six other districts with 20, 30, ... 70 participants
            figures = {
                "all": {
                    "participants": 20 + 10 * n,
                    "months_mean": 5.0 + n,
                    "outcomes": dict.fromkeys(NETWORK_GROUPS, 0),
                }
            }
            db.session.add(
                NetworkRelease(
                    member_key=f"other-{n}",
                    year=YEAR,
                    display_name=f"Other {n}",
                    size_band="25-99",
                    figures=figures,
                )
            )
        uow.commit()
    body = api.get(f"/network/outcomes?year={YEAR}").json
    assert body["network"]["districts"] == 6
    assert body["network"]["participants"] == 45  # the others' median: its own 30 is not in it
    assert body["network"]["months_mean"] == 7.5
    assert not any(isinstance(v, list) for v in body["network"].values())
    from tests.casework import Browser

    page = Browser(app, member, member.people["admin"]).get(f"/network?year={YEAR}").text
    assert "6 other districts" in page and "Their median participants: 45" in page


def test_the_membership_form_shows_the_saved_budget(app, member):
    from tests.casework import Browser

    admin = Browser(app, member, member.people["admin"])
    saved = admin.post("/network", "/network", {"noisy": "y", "epsilon": "0.35"})
    assert saved.status_code == 302
    page = admin.get("/network").text
    [field] = re.findall(r'<input[^>]*name="epsilon"[^>]*>', page)
    assert 'value="0.35"' in field


def test_a_refused_release_is_shown_where_the_admin_asked(app, member):
    from tests.casework import Browser

    admin = Browser(app, member, member.people["admin"])
    admin.post(f"/network?year={YEAR}", "/network/releases", {"year": YEAR})
    again = admin.post(
        f"/network?year={YEAR}", "/network/releases", {"year": YEAR}, follow_redirects=True
    )
    assert "is being published" not in again.text
    assert "a published year is final" in again.text


def test_the_trend_is_one_chart_per_measure(app, district):
    """Participants and months never share an axis: the page shows one chart for each, and
    a measure the network does not chart is not found."""
    client = _analyst_over_toledo_and_others(app, district)
    page = client.get("/network/").text
    assert "measure=participants" in page and "measure=months" in page
    participants = client.get("/network/trend.svg?measure=participants")
    months = client.get("/network/trend.svg?measure=months")
    assert participants.mimetype == months.mimetype == "image/svg+xml"
    assert "onths" not in participants.text and "onths" in months.text
    assert client.get("/network/trend.svg?measure=everything").status_code == 404
