"""Import a history, ask for the annual report: the figures a committee counts by hand."""

from __future__ import annotations

from tests.casework import Api, Browser
from tests.test_imports import HEADER, _post

# School years of the 2007-2010 Peer Assistance Program start on September 1st.
HISTORY = (
    # In the year, closed in it: met standards. 2009-09-01 .. 2010-06-30 = 302 days.
    "B-1,Ann,ann@bps.org,Adams,peer_assistance,ct@bps.org,2009-08-01,2009-09-01,2010-06-30,"
    "met_standards\n"
    # Started before the year, still open: active. 2009-01-15 .. 2010-08-31 = 593 days.
    "B-2,Ben,ben@bps.org,Blake,peer_assistance,ct@bps.org,2009-01-02,2009-01-15,,\n"
    # Closed after the year's end: active at the report. 2009-10-01 .. 2010-08-31 = 334 days.
    "B-3,Cy,cy@bps.org,Adams,peer_assistance,,2009-09-20,2009-10-01,2010-09-15,retired\n"
    # Ended the day before the year: not a participant.
    "B-4,Di,di@bps.org,Adams,peer_assistance,,2008-08-01,2008-09-01,2009-08-31,resigned\n"
    # Started the day after the year: not a participant.
    "B-5,Ed,ed@bps.org,Adams,peer_assistance,,2010-08-20,2010-09-01,,\n"
)


def test_the_annual_report_counts_what_a_committee_would(app, district):
    pap = district("bostonpap", "boston_pap_2007")
    assert _post(app, pap, HEADER + HISTORY).status_code == 200
    api = Api(app, pap, pap.people["coordinator"])
    report = api.get("/reports/annual?year=2009-2010").json
    assert report["year"] == "2009-2010"
    assert report["participants"] == 3
    assert report["outcome_groups"] == {
        "met_standards": 1,
        "retirements_resignations_other": 0,
        "active": 2,
    }
    # (302 + 593 + 334) / 3 = 409.67 days = 13.46 months of 30.44 days.
    assert report["average_months_of_support"] == 13.5
    assert report["by_consulting_teacher"]["Ct"]["participants"] == 2
    assert report["by_consulting_teacher"]["unassigned"]["participants"] == 1


def test_a_bad_year_is_a_422_naming_the_field(app, district):
    pap = district("bostonpap", "boston_pap_2007")
    api = Api(app, pap, pap.people["coordinator"])
    assert api.get("/reports/annual?year=2009").status_code == 422
    response = api.get("/reports/annual?year=2009-2011")
    assert response.status_code == 422
    assert "year" in response.json["errors"]


def test_the_report_page_shows_the_figures_and_its_charts(app, district):
    pap = district("bostonpap", "boston_pap_2007")
    _post(app, pap, HEADER + HISTORY)
    coordinator = Browser(app, pap, pap.people["coordinator"])
    page = coordinator.get("/reports/annual?year=2009-2010").text
    assert "Teachers supported</dt><dd>3" in page.replace("\n", "")
    for chart in ("outcomes", "months", "distribution", "trend"):
        svg = coordinator.get(f"/reports/annual.svg?year=2009-2010&chart={chart}")
        assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
        assert b"<svg" in svg.data
    teacher_view = Api(app, pap, pap.people["ct"]).get("/reports/annual?year=2009-2010")
    assert teacher_view.status_code == 403


def test_the_trend_is_two_charts_of_one_measure_each_with_a_table(app, district):
    pap = district("bostonpap", "boston_pap_2007")
    _post(app, pap, HEADER + HISTORY)
    coordinator = Browser(app, pap, pap.people["coordinator"])
    page = coordinator.get("/reports/annual?year=2009-2010").text
    assert "chart=trend&amp;measure=participants" in page
    assert "chart=trend&amp;measure=months" in page
    assert 'data-testid="trend"' in page and 'data-testid="distribution"' in page
    people = coordinator.get("/reports/annual.svg?chart=trend&measure=participants").data
    months = coordinator.get("/reports/annual.svg?chart=trend&measure=months").data
    assert b"Number of teachers" in people and b"Months of support" not in people
    assert b"Months of support" in months and b"Number of teachers" not in months
    assert coordinator.get("/reports/annual.svg?chart=trend&measure=both").status_code == 404


# Open, imported, and begun long before the configured limit: left out of the figures.
LONG_OPEN = "B-6,Flo,flo@bps.org,Adams,peer_assistance,ct@bps.org,2004-01-02,2004-01-15,,\n"


def test_the_database_counts_the_report_as_each_case_would(app, district):
    """The report counts its participants in SQL, in groups; the rules applied case by case
    to the same year give the same report, figure for figure, in every year."""
    from app.reports.annual import annual_report
    from app.services import reports, surveys
    from app.tenants.context import tenant_scope

    pap = district("bostonpap", "boston_pap_2007")
    assert _post(app, pap, HEADER + HISTORY + LONG_OPEN).status_code == 200
    with app.app_context(), tenant_scope(pap.tenant.id):
        labels = reports.years_with_data()
        assert "2009-2010" in labels
        for label in labels:
            report = reports.annual(label)
            config, year, records, left_out = reports._year_records(label)
            groups = list(config.report_groups)
            groups += sorted({r.report_group for r in records if r.report_group} - set(groups))
            by_case = annual_report(year, records, groups, surveys.record_for(label))
            assert report.pop("open_imports_left_out")["count"] == left_out
            assert report == by_case
        assert reports.annual("2009-2010")["open_imports_left_out"]["count"] == 1


def test_the_report_reads_its_figures_in_two_statements(app, district, count_queries):
    """The configuration with the survey, then the participants counted in groups: the same
    two statements for a year of three participants or of thousands."""
    from app.services import reports
    from app.tenants.context import tenant_scope

    pap = district("bostonpap", "boston_pap_2007")
    assert _post(app, pap, HEADER + HISTORY + LONG_OPEN).status_code == 200
    with app.app_context(), tenant_scope(pap.tenant.id), count_queries() as statements:
        assert reports.annual("2009-2010")["participants"] == 3
    assert len(statements) == 2, statements


def test_the_page_reads_each_years_figures_once(app, district, count_queries):
    """The year shown is also a column of the trend: its participants are counted once, the
    trend's other years together in one statement, and the years with data are read once,
    whatever the page shows of them."""
    from app.services import reports
    from app.tenants.context import tenant_scope

    pap = district("bostonpap", "boston_pap_2007")
    assert _post(app, pap, HEADER + HISTORY).status_code == 200
    with app.app_context(), tenant_scope(pap.tenant.id):
        years = reports.years_with_data()
        expected = reports.trend()
    coordinator = Browser(app, pap, pap.people["coordinator"])
    with count_queries() as statements:
        page = coordinator.get("/reports/annual?year=2009-2010")
    assert page.status_code == 200 and len(years) > 1
    grouped = [s for s in statements if "participant.counted" in s]
    ranges = [s for s in statements if "min(cases.started_on)" in s]
    assert len(years) > 2 and len(grouped) == 2, len(grouped)
    assert len(ranges) == 1, len(ranges)
    # The trend shown is the one the service computes alone.
    for participants in expected["participants"]:
        assert f"<td>{participants}</td>" in page.text


def _history_with_survey(app, district):
    """Boston's PAP with its history, a case open too long to count, and two survey
    responses in 2008-2009 (one with a comment)."""
    from tests.test_surveys import ANSWERS, _import

    pap = district("bostonpap", "boston_pap_2007")
    assert _post(app, pap, HEADER + HISTORY + LONG_OPEN).status_code == 200
    answers = ANSWERS + (
        "R1,2009-06-01,agree,agree,strongly_agree,agree,agree,agree,Great\n"
        "R2,2009-06-03,disagree,,agree,strongly_disagree,agree,agree,\n"
    )
    assert _import(app, pap, answers).status_code == 200
    return pap


def test_the_trends_years_read_together_are_each_years_report(app, district):
    """``annuals`` reads every year's groups and survey at once; each year's report is the
    one ``annual`` gives alone, but for the survey's comments (the trend shows none)."""
    from app.services import reports
    from app.tenants.context import tenant_scope

    pap = _history_with_survey(app, district)
    with app.app_context(), tenant_scope(pap.tenant.id):
        labels = reports.years_with_data()
        together = reports.annuals(labels)
        alone = {label: reports.annual(label) for label in labels}
    assert len(labels) > 2 and list(together) == labels
    with_survey = 0
    for label in labels:
        if alone[label]["survey"] is not None:
            with_survey += 1
            alone[label]["survey"]["comments"] = []
        assert together[label] == alone[label], label
    assert with_survey, "no year had a survey to compare"


def test_the_portable_report_off_postgresql_gives_the_same_figures(app, district, monkeypatch):
    """Off PostgreSQL (the embedded SQLite of ``make run``) the report reads the survey and
    the participants without ``LATERAL``, ``jsonb`` or date arithmetic; on the same district
    it gives the same groups and the same report in every year, survey included."""
    from app.services import reports, sql_dialect
    from app.tenants.context import tenant_scope

    pap = _history_with_survey(app, district)
    with app.app_context(), tenant_scope(pap.tenant.id):
        labels = reports.years_with_data()
        assert "2008-2009" in labels and "2009-2010" in labels
        by_postgresql, groups = {}, {}
        for label in labels:
            by_postgresql[label] = reports.annual(label)
            config, year = reports.config_and_year(label)
            groups[label] = reports._year_groups(config, year)
            survey = reports.config_year_and_survey(label, comments=False)[2]
            assert reports.portable_config_year_and_survey(label, comments=False)[2] == survey
        assert by_postgresql["2008-2009"]["survey"] is not None
        assert groups["2009-2010"][0] and groups["2009-2010"][1] == 1
        monkeypatch.setattr(sql_dialect, "on_postgresql", lambda: False)
        for label in labels:
            config, year = reports.config_and_year(label)
            portable, left_out = reports._year_groups(config, year)
            by_group = sorted(groups[label][0], key=repr)
            assert (sorted(portable, key=repr), left_out) == (by_group, groups[label][1])
            assert reports.annual(label) == by_postgresql[label]
