"""An open imported case counts as active only while it is plausibly open: for the
configured number of months after its support began (``report.open_imported_case_months``),
and the annual report says how many it left out and why."""

from __future__ import annotations

import html
from datetime import date

from app.services import workflow_config as configs
from app.tenants.context import tenant_scope
from app.workflows import validate
from app.workflows.presets import load_preset
from tests.casework import Api, Browser
from tests.factories import api_token
from tests.test_imports import HEADER, _post

# School years of the 2007-2010 program start on September 1st.
HISTORY = (
    # Open since 2009-01-15: still plausibly open at the end of 2010-2011 (31 months on
    # 2011-08-31), no longer at the end of 2011-2012 (43 months) with the 36-month default.
    "B-2,Ben,ben@bps.org,Blake,peer_assistance,ct@bps.org,2009-01-02,2009-01-15,,\n"
    # Closed: counted in every year it overlaps, whatever the limit.
    "B-1,Ann,ann@bps.org,Adams,peer_assistance,ct@bps.org,2011-08-01,2011-09-01,2012-06-30,"
    "met_standards\n"
)


def _set_limit(app, d, months: int) -> None:
    """Publish the district's configuration again with another limit."""
    with app.app_context(), tenant_scope(d.tenant.id):
        document = dict(configs.latest_published().document)
        document["report"] = {"open_imported_case_months": months}
        configs.save_draft(document)
        configs.publish(note="report limit")
        from app.core import uow

        uow.commit()


def test_an_open_imported_case_stops_counting_after_the_limit_and_the_report_says_so(app, district):
    pap = district("bostonpap", "boston_pap_2007")
    assert _post(app, pap, HEADER + HISTORY).status_code == 200
    api = Api(app, pap, pap.people["coordinator"])
    within = api.get("/reports/annual?year=2010-2011").json
    assert within["participants"] == 1
    assert within["outcome_groups"]["active"] == 1
    assert within["open_imports_left_out"] == {"count": 0, "months": 36}
    past = api.get("/reports/annual?year=2011-2012").json
    # Only Ann: Ben's 43 months of "support" would be a closing date missing from the file.
    assert past["participants"] == 1
    assert past["outcome_groups"]["active"] == 0
    # 2011-09-01 .. 2012-06-30 = 303 days = 9.95 months of 30.44 days.
    assert past["average_months_of_support"] == 10.0
    assert past["open_imports_left_out"] == {"count": 1, "months": 36}
    page = Browser(app, pap, pap.people["coordinator"]).get("/reports/annual?year=2011-2012")
    text = " ".join(html.unescape(page.text).split())
    assert "1 open case imported from the district's records is left out of this year" in text
    assert "counts as active for 36 months after its support began" in text
    assert "open_imported_case_months" not in page.text


def test_a_longer_limit_counts_the_case_again(app, district):
    pap = district("bostonpap", "boston_pap_2007")
    _post(app, pap, HEADER + HISTORY)
    _set_limit(app, pap, 60)
    report = Api(app, pap, pap.people["coordinator"]).get("/reports/annual?year=2011-2012").json
    assert report["participants"] == 2
    assert report["outcome_groups"]["active"] == 1
    assert report["open_imports_left_out"] == {"count": 0, "months": 60}


def test_stale_open_imports_do_not_stretch_the_years_to_today(app, district):
    pap = district("bostonpap", "boston_pap_2007")
    _post(app, pap, HEADER + HISTORY)
    page = Browser(app, pap, pap.people["coordinator"]).get("/reports/annual").text
    # Ben began in 2008-2009 and Ann closed in 2011-2012: nothing is open after that.
    assert '<option value="2011-2012" selected>' in page
    assert f"{date.today().year}-{date.today().year + 1}" not in page
    assert "2012-2013" not in page


def test_a_case_opened_in_parley_is_never_left_out(app, district, make_user, make_case):
    from app.core import uow
    from app.extensions import db
    from app.models.case import Case

    pap = district("bostonpap", "boston_pap_2007")
    teacher = make_user(pap.tenant, "teacher", email="t@bps.org")
    case = make_case(pap.tenant, teacher, "peer_assistance", enrolled_on=date(2009, 1, 2))
    with app.app_context(), tenant_scope(pap.tenant.id):
        db.session.get(Case, case.id).started_on = date(2009, 1, 15)
        uow.commit()
    report = Api(app, pap, pap.people["coordinator"]).get("/reports/annual?year=2011-2012").json
    assert report["participants"] == 1
    assert report["open_imports_left_out"]["count"] == 0


def test_the_limit_is_validated_with_a_sentence_naming_its_path():
    document = load_preset("boston_pap_2007")
    assert validate(document).config.report.open_imported_case_months == 36
    for bad, message in (
        (0, "must be a whole number of months from 1 to 600"),
        (601, "must be a whole number of months from 1 to 600"),
        ("soon", "must be a whole number"),
    ):
        document["report"] = {"open_imported_case_months": bad}
        assert validate(document).errors == {"report.open_imported_case_months": [message]}
    document["report"] = {"open_imported_months": 12}
    assert validate(document).errors == {"report.open_imported_months": ["unknown key"]}


def test_a_bad_limit_is_refused_where_the_admin_saves_and_nothing_changes(
    client, make_tenant, make_user
):
    tenant = make_tenant("toledo", "Toledo PAR", preset="toledo")
    user = make_user(tenant, "program_admin")
    headers = {"Authorization": f"Bearer {api_token(client, tenant, user)}"}
    url = "/api/v1/t/toledo/workflow/draft"
    document = client.get(url, headers=headers).json["document"]
    document["report"] = {"open_imported_case_months": -3}
    response = client.put(url, json={"document": document}, headers=headers)
    assert response.status_code == 422
    assert response.json["errors"] == {
        "report.open_imported_case_months": ["must be a whole number of months from 1 to 600"]
    }
    assert "report" not in client.get(url, headers=headers).json["document"]


def test_the_pdf_and_the_xlsx_say_what_they_left_out(app, district):
    """The exported report carries the same sentence as the page, through the real export."""
    import io

    import openpyxl
    from pypdf import PdfReader

    from tests.test_exports import _export

    pap = district("bostonpap", "boston_pap_2007")
    assert _post(app, pap, HEADER + HISTORY).status_code == 200
    coordinator = pap.people["coordinator"]
    _, pdf = _export(app, pap, coordinator, "annual_pdf", "2011-2012")
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "1 open case imported from the district's records is left out" in text
    _, xlsx = _export(app, pap, coordinator, "annual_xlsx", "2011-2012")
    summary = openpyxl.load_workbook(io.BytesIO(xlsx))["Summary"]
    cells = [str(c) for row in summary.iter_rows(values_only=True) for c in row if c]
    assert any(c.startswith("1 open case imported from the district's records") for c in cells)
    _, within = _export(app, pap, coordinator, "annual_pdf", "2010-2011")
    assert b"left out" not in within  # nothing left out, nothing said
