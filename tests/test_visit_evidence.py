"""What counts toward a guard is complete and dated inside the case's support period.

Visits are logged through the pages and the API, and the guarded step is tried
through the same doors; a visit that does not count says why on the case page.
"""

from __future__ import annotations

import copy
import re
from datetime import date, timedelta

import pytest

from app.core import uow
from app.extensions import db
from app.models.case import Case
from app.models.support import Visit
from app.services import support
from app.tenants.context import tenant_scope
from app.workflows import validate
from app.workflows.presets import load_preset
from tests.casework import Api, Browser, to_support

TODAY = date.today()
COMPLETE = {"duration_minutes": "45", "notes": "Watched the reading block; agreed one change."}


def _config(preset: str):
    return validate(load_preset(preset)).config


@pytest.fixture
def montgomery(district, make_user):
    d = district("montgomery", "montgomery")
    d.people["teacher"] = make_user(d.tenant, "teacher", email="sam@mcps.org")
    return d


def _log(browser: Browser, case_id: int, visit_type: str, on: date, **fields):
    data = {"visit_type": visit_type, "visited_on": on.isoformat(), "shared_with_teacher": "y"}
    return browser.post(f"/cases/{case_id}", f"/cases/{case_id}/visits", {**data, **fields})


def _act(browser: Browser, case_id: int, action: str):
    return browser.post(f"/cases/{case_id}", f"/cases/{case_id}/actions/{action}", {})


def _state(app, d, case_id: int) -> str:
    with app.app_context(), tenant_scope(d.tenant.id):
        return db.session.get(Case, case_id).state


def _date_errors(html: str) -> str:
    match = re.search(r'id="visited_on-errors">(.*?)</ul>', html, re.S)
    return match.group(1) if match else ""


def test_an_empty_observation_does_not_count_toward_the_minimum_visits(app, toledo):
    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    ct = Browser(app, toledo, toledo.people["ct"])
    for _ in range(8):  # accepted as a record, but no evidence of an observation
        assert _log(ct, case_id, "observation", TODAY).status_code == 302
    for _ in range(7):
        assert _log(ct, case_id, "observation", TODAY, **COMPLETE).status_code == 302
    assert _log(ct, case_id, "observation", TODAY, duration_minutes="40").status_code == 302

    refused = _act(ct, case_id, "end_support")
    assert refused.status_code == 409
    assert "needs at least 8 observation visits (has 7)" in refused.text
    assert _state(app, toledo, case_id) == "support"

    assert _log(ct, case_id, "observation", TODAY, **COMPLETE).status_code == 302
    assert _act(ct, case_id, "end_support").status_code == 302
    assert _state(app, toledo, case_id) == "recommendation"


@pytest.mark.parametrize("door", ["html", "api"])
def test_a_visit_dated_before_support_began_is_refused_at_logging(app, toledo, door):
    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    before = TODAY - timedelta(days=30)
    if door == "html":
        response = _log(Browser(app, toledo, toledo.people["ct"]), case_id, "observation", before)
        assert response.status_code == 422
        assert f"before support began ({TODAY.isoformat()})" in _date_errors(response.text)
    else:
        response = Api(app, toledo, toledo.people["ct"]).post(
            f"/cases/{case_id}/visits",
            json={"visit_type": "observation", "visited_on": before.isoformat(), "planned": True},
        )
        assert response.status_code == 422
        assert "before support began" in response.json["errors"]["visited_on"][0]
    with app.app_context(), tenant_scope(toledo.tenant.id):
        dates = db.session.query(Visit.visited_on).filter(Visit.case_id == case_id).all()
    assert before not in {d for (d,) in dates}


def test_a_logged_visit_in_the_future_is_refused_and_a_planned_one_is_not(app, toledo):
    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    ct = Browser(app, toledo, toledo.people["ct"])
    tomorrow = TODAY + timedelta(days=1)
    refused = _log(ct, case_id, "observation", tomorrow, **COMPLETE)
    assert refused.status_code == 422
    assert "cannot be in the future" in _date_errors(refused.text)
    assert _log(ct, case_id, "observation", tomorrow, planned="y").status_code == 302


def test_montgomery_months_of_support_run_from_the_support_start(app, montgomery):
    """The audit's case: one informal visit dated months earlier passed the guard."""
    case_id = to_support(app, montgomery, "underperforming", "below_standard")
    ct = Browser(app, montgomery, montgomery.people["ct"])
    for n in range(8):
        extra = {"principal_present": "y"} if n == 0 else {}
        response = _log(ct, case_id, "formal_observation", TODAY, **COMPLETE, **extra)
        assert response.status_code == 302
    with app.app_context(), tenant_scope(montgomery.tenant.id):
        case = db.session.get(Case, case_id)
        standards = [s.key for s in _config("montgomery").standards]
        support.add_evidence(case, case.ct, "Lesson plans and student work", standards)
        uow.commit()

    refused = _act(ct, case_id, "end_support")
    assert refused.status_code == 409
    assert "needs at least 6 months of support (has 0)" in refused.text

    months_ago = TODAY - timedelta(days=214)
    backdated = _log(ct, case_id, "informal_visit", months_ago, **COMPLETE)
    assert backdated.status_code == 422
    assert "before support began" in _date_errors(backdated.text)

    # A visit written before logging checked dates still sits in the record: it neither
    # counts nor stretches the months of support.
    with app.app_context(), tenant_scope(montgomery.tenant.id):
        case = db.session.get(Case, case_id)
        db.session.add(
            Visit(
                tenant_id=case.tenant_id,
                case_id=case.id,
                author_id=case.ct_id,
                visit_type="informal_visit",
                visited_on=months_ago,
                duration_minutes=30,
                notes="Dropped in before the referral.",
            )
        )
        uow.commit()
    refused = _act(ct, case_id, "end_support")
    assert refused.status_code == 409
    assert "needs at least 6 months of support (has 0)" in refused.text
    page = ct.get(f"/cases/{case_id}").text
    assert f"Does not count: dated before support began ({TODAY.isoformat()})" in page

    with app.app_context(), tenant_scope(montgomery.tenant.id):
        case = db.session.get(Case, case_id)  # seven months later, support began in the past
        case.enrolled_on = case.started_on = TODAY - timedelta(days=220)
        uow.commit()
    assert _act(ct, case_id, "end_support").status_code == 302
    assert _state(app, montgomery, case_id) == "recommendation"


def _visit_rows(html: str) -> list[str]:
    table = re.search(r'data-testid="visits">(.*?)</table>', html, re.S)
    assert table, "the case page lists no visits"
    return re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S)[1:]


def test_the_case_page_says_why_a_visit_does_not_count(app, toledo):
    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    ct = Browser(app, toledo, toledo.people["ct"])
    assert _log(ct, case_id, "observation", TODAY, **COMPLETE).status_code == 302
    assert _log(ct, case_id, "observation", TODAY).status_code == 302
    empty = "Does not count: no duration, no notes"
    planned = "Does not count: planned, not logged"
    for reader in (ct, Browser(app, toledo, toledo.people["teacher"])):
        rows = _visit_rows(reader.get(f"/cases/{case_id}").text)
        assert len(rows) == 3  # the introduction meeting on the calendar, and two visits
        notes = sorted(
            re.sub(r"\s+", " ", m) for r in rows for m in re.findall(r"Does not count: [^<]*", r)
        )
        assert notes == [empty, planned]
        assert sum("Does not count" not in r for r in rows) == 1


def test_the_case_page_reads_visits_in_a_fixed_number_of_queries(app, toledo, count_queries):
    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    ct = Browser(app, toledo, toledo.people["ct"])
    counts = []
    for batch in (2, 10):
        for n in range(batch):
            fields = COMPLETE if n % 2 else {}
            assert _log(ct, case_id, "observation", TODAY, **fields).status_code == 302
        with count_queries() as counted:
            assert ct.get(f"/cases/{case_id}").status_code == 200
        counts.append(len(counted))
    assert counts[0] == counts[1], f"{counts[0]} queries for 3 visits, {counts[1]} for 13"


def _document():
    return copy.deepcopy(load_preset("toledo"))


def test_required_to_count_names_only_fields_a_visit_records(app):
    document = _document()
    document["visit_types"]["observation"]["required_to_count"] = ["notes", "mood"]
    document["visit_types"]["demonstration"]["required_to_count"] = ["notes", "next_steps"]
    assert validate(document).errors == {
        "visit_types.observation.required_to_count[1]": [
            "must be one of: duration_minutes, focus_standards, notes, next_steps"
        ],
        "visit_types.demonstration.required_to_count[1]": [
            "'next_steps' is not among this visit type's fields"
        ],
    }


def test_required_to_count_defaults_to_duration_and_notes_the_type_logs(app):
    document = _document()
    document["visit_types"]["conference"] = {"label": "Conference", "fields": ["date", "notes"]}
    document["visit_types"]["demonstration"]["required_to_count"] = ["notes"]
    config = validate(document).config
    assert config.visit_types["observation"].required_to_count == ("duration_minutes", "notes")
    assert config.visit_types["conference"].required_to_count == ("notes",)
    assert config.visit_types["demonstration"].required_to_count == ("notes",)


class _V:
    def __init__(self, visit_type="observation", on=TODAY, planned=False, **fields):
        self.visit_type, self.visited_on, self.planned = visit_type, on, planned
        self.duration_minutes = fields.get("duration_minutes")
        self.notes = fields.get("notes")
        self.focus_standards = fields.get("focus_standards", [])
        self.next_steps = fields.get("next_steps")


def test_one_function_says_whether_a_visit_counts_and_why_not():
    from app.workflows.facts import SupportPeriod, visit_shortfalls

    config = _config("toledo")
    period = SupportPeriod(TODAY - timedelta(days=10), TODAY, ended=False)
    ok = {"duration_minutes": 30, "notes": "Saw it."}
    assert visit_shortfalls(_V(**ok), config.visit_types, period) == ()
    assert visit_shortfalls(_V(notes="  "), config.visit_types, period) == (
        "no duration",
        "no notes",
    )
    assert visit_shortfalls(_V(planned=True, **ok), config.visit_types, period) == (
        "planned, not logged",
    )
    early = TODAY - timedelta(days=11)
    assert visit_shortfalls(_V(on=early, **ok), config.visit_types, period) == (
        f"dated before support began ({period.start.isoformat()})",
    )
    later = TODAY + timedelta(days=1)
    assert visit_shortfalls(_V(on=later, **ok), config.visit_types, period) == (
        "dated in the future",
    )
    closed = SupportPeriod(TODAY - timedelta(days=10), TODAY - timedelta(days=2), ended=True)
    assert visit_shortfalls(_V(on=TODAY, **ok), config.visit_types, closed) == (
        f"dated after support ended ({closed.end.isoformat()})",
    )
    assert visit_shortfalls(_V("picnic", **ok), config.visit_types, period) == (
        "not a visit type of this program",
    )
    assert closed.months == round(8 / 30.44, 1)


def test_saving_the_simple_form_keeps_what_a_visit_needs_to_count(
    app, client, make_tenant, make_user
):
    from app.services import workflow_config as configs
    from tests.factories import login
    from tests.test_workflow_pages import _form_data

    tenant = make_tenant("toledo", "Toledo PAR", preset="toledo")
    login(client, tenant, make_user(tenant, "program_admin"))
    with app.app_context(), tenant_scope(tenant.id):
        document = configs.latest_published().document
        document["visit_types"]["observation"]["required_to_count"] = ["notes"]
        configs.save_draft(document)
        uow.commit()
    page = client.get("/t/toledo/admin/workflow/edit")
    response = client.post("/t/toledo/admin/workflow/edit", data=_form_data(page.text))
    assert response.status_code == 302, response.text
    with app.app_context(), tenant_scope(tenant.id):
        saved = configs.draft().document["visit_types"]["observation"]
    assert saved["required_to_count"] == ["notes"]


# --- A refused upload is seen where it was made -----------------------------------------------

TYPED = "Watched the reading block; the exit tickets show the change."


def _add_evidence(browser: Browser, case_id: int, **data):
    return browser.post(
        f"/cases/{case_id}",
        f"/cases/{case_id}/evidence",
        data,
        content_type="multipart/form-data",
    )


def _tag(html: str, element_id: str) -> str:
    found = re.search(rf'<[a-z]+\b[^>]*\sid="{element_id}"[^>]*>', html)
    assert found, f"the page has no element with id {element_id!r}"
    return found.group(0)


def _details_of(html: str, testid: str) -> str:
    found = re.search(rf'<details\b[^>]*data-testid="{testid}"[^>]*>', html)
    assert found, f"the page has no {testid} section"
    return found.group(0)


def _repeated_ids(html: str) -> set[str]:
    ids = re.findall(r'\sid="([^"]+)"', html)
    return {i for i in ids if ids.count(i) > 1}


def test_a_refused_file_opens_the_evidence_section_at_the_error_and_keeps_the_text(app, toledo):
    import io

    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    ct = Browser(app, toledo, toledo.people["ct"])
    assert " open" not in _details_of(ct.get(f"/cases/{case_id}").text, "evidence-details")
    refused = _add_evidence(
        ct, case_id, text=TYPED, file=(io.BytesIO(b"MZ\x90\x00\x03\x00\x00\x00"), "tool.exe")
    )
    assert refused.status_code == 422
    html = refused.text
    assert " open" in _details_of(html, "evidence-details")
    file_input = _tag(html, "file")
    assert 'aria-invalid="true"' in file_input and 'aria-describedby="file-errors"' in file_input
    assert "autofocus" in file_input
    errors = re.search(r'<ul class="errors" id="file-errors">(.*?)</ul>', html, re.S)
    assert errors and "This file type is not accepted" in errors.group(1)
    assert html.count("autofocus") == 1
    # What was typed stays in the evidence field, and in no other form's field.
    typed = re.search(r'<textarea[^>]*id="evidence_text"[^>]*>\s*(.*?)</textarea>', html, re.S)
    assert typed and typed.group(1).strip() == TYPED
    assert html.count(TYPED) == 1
    assert not _repeated_ids(html)
    with app.app_context(), tenant_scope(toledo.tenant.id):
        assert support.evidence(db.session.get(Case, case_id)) == []


def test_empty_evidence_is_refused_beside_the_text_with_the_focus_there(app, toledo):
    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    ct = Browser(app, toledo, toledo.people["ct"])
    refused = _add_evidence(ct, case_id, text="   ")
    assert refused.status_code == 422
    field = _tag(refused.text, "evidence_text")
    assert "autofocus" in field and 'aria-invalid="true"' in field
    assert 'aria-describedby="evidence_text-errors"' in field
    assert "Describe the evidence or attach a file." in refused.text
    assert " open" in _details_of(refused.text, "evidence-details")


def test_a_refused_goal_keeps_its_text_out_of_the_evidence_field(app, toledo):
    """The other way round: a form posted back is the only one that shows what was sent."""
    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    ct = Browser(app, toledo, toledo.people["ct"])
    refused = ct.post(f"/cases/{case_id}", f"/cases/{case_id}/goals", {"text": "x" * 501})
    assert refused.status_code == 400
    assert "autofocus" in _tag(refused.text, "goal_text")
    empty = re.search(
        r'<textarea[^>]*id="evidence_text"[^>]*>\s*(.*?)</textarea>', refused.text, re.S
    )
    assert empty and empty.group(1).strip() == ""
    assert not _repeated_ids(refused.text)


def test_no_two_forms_on_the_case_page_share_an_id(app, toledo, make_user):
    """Every form a case page can draw at once, for someone who holds every role."""
    from app.security.roles import TENANT_ROLE_KEYS

    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    everyone = make_user(toledo.tenant, *sorted(TENANT_ROLE_KEYS), email="all@toledo.org")
    for person in (everyone, toledo.people["ct"], toledo.people["coordinator"]):
        html = Browser(app, toledo, person).get(f"/cases/{case_id}").text
        assert html.count("<form") >= 2
        assert not _repeated_ids(html), f"{person.email}: {_repeated_ids(html)}"
