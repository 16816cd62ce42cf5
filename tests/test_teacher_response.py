"""The teacher's written response to the approved decision: kept with it, never changing it."""

from __future__ import annotations

import copy
import io
import json
import re
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models.base import utcnow
from app.models.panel import FinalDecision
from app.models.response import CaseResponse
from app.tenants.context import tenant_scope
from app.workflows import load_preset
from tests.casework import Browser, errors_beside
from tests.test_exports import _export
from tests.test_panel import _pdf_text
from tests.test_teacher_decision import _approve

RESPONSE = "I took part in every visit and ask that my growth in planning be noted."
HELP = "Your response is kept with the decision; it does not change it."


def _decided(app, awaiting_approval, slug: str, window: int | None = 10):
    """A Boston PAR case the Superintendent approved, under a published program whose par
    track gives the teacher ``window`` days to respond (None: no window)."""
    document = None  # the preset's own program gives no window
    if window is not None:
        document = copy.deepcopy(load_preset("boston_esp"))
        document["tracks"]["par"]["response_window_days"] = window
    return _approve(
        app, awaiting_approval(slug, "boston_esp", "par", "needs_improvement", document)
    )


@pytest.fixture
def decided(app, awaiting_approval):
    return _decided(app, awaiting_approval, "boston")


def _respond(app, decided, user, text: str = RESPONSE):
    page = f"/cases/{decided.case_id}"
    return Browser(app, decided.district, user).post(
        page, f"/cases/{decided.case_id}/response", {"text": text}
    )


def _section(html: str) -> str:
    return html.split('data-testid="decision"', 1)[1].split("</section>", 1)[0]


def _rows(app, decided) -> list[CaseResponse]:
    with app.app_context(), tenant_scope(decided.district.tenant.id):
        query = select(CaseResponse).where(CaseResponse.case_id == decided.case_id)
        return list(db.session.execute(query).scalars())


def test_the_teacher_responds_and_the_ct_reads_it_on_the_page_and_in_the_letter(app, decided):
    teacher = Browser(app, decided.district, decided.teacher)
    form = _section(teacher.get(f"/cases/{decided.case_id}").text)
    closes = (utcnow().date() + timedelta(days=10)).isoformat()
    assert 'data-testid="response-form"' in form and HELP in form and closes in form

    response = _respond(app, decided, decided.teacher)
    assert response.status_code == 302, response.text
    (row,) = _rows(app, decided)
    assert row.text == RESPONSE and row.author_id == decided.teacher.id

    ct = Browser(app, decided.district, decided.district.people["ct"])
    section = _section(ct.get(f"/cases/{decided.case_id}").text)
    assert RESPONSE in section and "The teacher's response" in section
    assert 'data-testid="response-form"' not in section
    letter = ct.get(f"/cases/{decided.case_id}/decision.pdf")
    assert letter.status_code == 200
    words = re.sub(r"\)\s*Tj\s*T\*\s*\(", " ", _pdf_text(letter.data))
    assert "The teacher's response" in words and "growth in planning" in words
    # Kept with the decision, not changing it: the rating stands.
    assert "Final rating: Met standards" in words


def test_the_response_is_audited(app, decided):
    from app.models.audit import AuditEvent

    assert _respond(app, decided, decided.teacher).status_code == 302
    with app.app_context(), tenant_scope(decided.district.tenant.id):
        actions = db.session.execute(
            select(AuditEvent.action).where(AuditEvent.object_id == str(decided.case_id))
        ).scalars()
        assert "case.response_added" in set(actions)


def test_a_second_response_is_a_conflict_shown_on_the_page(app, decided):
    assert _respond(app, decided, decided.teacher).status_code == 302
    again = _respond(app, decided, decided.teacher, "And one more thing.")
    assert again.status_code == 409
    assert "You have already responded to this decision." in again.text
    assert [r.text for r in _rows(app, decided)] == [RESPONSE]


def test_a_response_after_the_window_is_refused_with_the_day_it_closed(app, decided):
    with app.app_context(), tenant_scope(decided.district.tenant.id):
        db.session.execute(
            update(FinalDecision)
            .where(FinalDecision.case_id == decided.case_id)
            .values(decided_at=utcnow() - timedelta(days=11))
        )
        db.session.commit()
    closed = (utcnow().date() - timedelta(days=1)).isoformat()
    page = Browser(app, decided.district, decided.teacher).get(f"/cases/{decided.case_id}")
    assert 'data-testid="response-form"' not in _section(page.text)
    late = _respond(app, decided, decided.teacher)
    assert late.status_code == 409
    assert f"The window to respond closed on {closed}." in late.text
    assert _rows(app, decided) == []


def test_a_track_without_a_window_shows_no_form_and_refuses_a_post(app, awaiting_approval):
    decided = _decided(app, awaiting_approval, "newton", window=None)
    page = Browser(app, decided.district, decided.teacher).get(f"/cases/{decided.case_id}")
    assert 'data-testid="decision"' in page.text
    assert 'data-testid="response-form"' not in page.text
    refused = _respond(app, decided, decided.teacher)
    assert refused.status_code == 409
    assert "This program does not take a response to the decision." in refused.text
    assert _rows(app, decided) == []


def test_the_ct_cannot_respond(app, decided):
    ct = decided.district.people["ct"]
    page = Browser(app, decided.district, ct).get(f"/cases/{decided.case_id}")
    assert 'data-testid="response-form"' not in page.text
    assert _respond(app, decided, ct).status_code in (403, 404)
    assert _rows(app, decided) == []


def test_an_empty_or_overlong_response_is_refused_beside_the_field(app, decided):
    empty = _respond(app, decided, decided.teacher, "   ")
    assert empty.status_code == 400
    assert "Write your response." in errors_beside(empty.text, "response_text")
    overlong = _respond(app, decided, decided.teacher, "x" * 10_001)
    assert overlong.status_code == 400
    assert "10,000 characters" in errors_beside(overlong.text, "response_text")
    assert _rows(app, decided) == []


def test_the_archive_carries_the_response(app, decided):
    assert _respond(app, decided, decided.teacher).status_code == 302
    _, data = _export(app, decided.district, decided.district.people["admin"], "tenant_archive")
    archive = zipfile.ZipFile(io.BytesIO(data))
    lines = archive.read("tables/case_responses.jsonl").splitlines()
    rows = [json.loads(line) for line in lines]
    assert [(r["case_id"], r["text"]) for r in rows] == [(decided.case_id, RESPONSE)]


@pytest.mark.parametrize("days", [0, 61, "ten"])
def test_the_window_is_one_to_sixty_days(days):
    from app.workflows import validate

    document = copy.deepcopy(load_preset("boston_esp"))
    document["tracks"]["par"]["response_window_days"] = days
    errors = validate(document).errors
    assert any("response_window_days" in path for path in errors), errors
