"""A visit sent twice is stored once: the visit form's key, in the service and at the route.

A consulting teacher's device may send the same visit more than once: a double click, or a
queue kept while offline sent again because the first answer was lost. Whatever the timing,
one key stores one visit, and the second sending is answered with the first one's result.
"""

from __future__ import annotations

import re
import threading
import time
import uuid
from datetime import date

import pytest
from sqlalchemy import func, select

from app.core import uow
from app.extensions import db
from app.models.audit import AuditEvent
from app.models.case import Case
from app.models.support import Visit
from app.models.user import User
from app.services import support
from app.services.errors import Conflict
from app.tenants.context import tenant_scope
from tests.casework import Api, Browser, to_support
from tests.factories import csrf_token

TODAY = date.today()
VISIT = {
    "visit_type": "observation",
    "visited_on": TODAY.isoformat(),
    "duration_minutes": "45",
    "notes": "Watched the reading block; agreed one change.",
    "shared_with_teacher": "y",
}


@pytest.fixture
def toledo(district, make_user):
    d = district("toledo", "toledo")
    d.people["teacher"] = make_user(d.tenant, "teacher", email="lee@toledo.org")
    d.people["teacher2"] = make_user(d.tenant, "teacher", email="kim@toledo.org")
    return d


def _visits(app, d, case_id: int) -> list[Visit]:
    with app.app_context(), tenant_scope(d.tenant.id):
        rows = db.session.execute(select(Visit).where(Visit.case_id == case_id)).scalars()
        return list(rows)


def _logged_events(app, d) -> int:
    with app.app_context(), tenant_scope(d.tenant.id):
        return db.session.execute(
            select(func.count()).where(AuditEvent.action == "visit.logged")
        ).scalar_one()


def _log(app, d, case_id: int, key: uuid.UUID | None, hold=None) -> int:
    """Log the standard visit as the case's CT in its own transaction; its visit's id."""
    with app.app_context(), tenant_scope(d.tenant.id):
        case = db.session.get(Case, case_id)
        ct = db.session.get(User, d.people["ct"].id)
        data = support.VisitInput("observation", TODAY, 45, notes=VISIT["notes"])
        visit = support.log_visit(case, ct, data, key=key)
        db.session.flush()
        if hold:
            hold()
        visit_id = visit.id
        uow.commit()
        return visit_id


def _close(app, d, case_id: int) -> None:
    from app.models.base import utcnow

    with app.app_context(), tenant_scope(d.tenant.id):
        case = db.session.get(Case, case_id)
        case.state, case.closed_at = "closed", utcnow()
        uow.commit()


# The service


def test_the_same_key_twice_stores_one_visit_and_answers_with_it(app, toledo):
    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    key = uuid.uuid4()
    first = _log(app, toledo, case_id, key)
    events = _logged_events(app, toledo)
    again = _log(app, toledo, case_id, key)
    assert again == first
    assert [v.id for v in _visits(app, toledo, case_id) if v.idempotency_key == key] == [first]
    assert _logged_events(app, toledo) == events  # nothing happened the second time


def test_different_keys_are_different_visits(app, toledo):
    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    first = _log(app, toledo, case_id, uuid.uuid4())
    second = _log(app, toledo, case_id, uuid.uuid4())
    assert first != second
    assert {first, second} <= {v.id for v in _visits(app, toledo, case_id)}


def test_a_key_sent_again_for_another_case_is_refused(app, toledo):
    first_case = to_support(app, toledo, "intervention", "unsatisfactory")
    key = uuid.uuid4()
    _log(app, toledo, first_case, key)
    toledo.people["teacher"] = toledo.people["teacher2"]
    other_case = to_support(app, toledo, "intervention", "unsatisfactory")
    with pytest.raises(Conflict) as refused:
        _log(app, toledo, other_case, key)
    assert "already used for another visit" in str(refused.value.errors)
    assert all(v.idempotency_key != key for v in _visits(app, toledo, other_case))


def test_a_visit_already_stored_is_answered_even_after_the_case_closed(app, toledo):
    """The first sending was stored, its answer lost; the case closed before the retry."""
    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    key = uuid.uuid4()
    first = _log(app, toledo, case_id, key)
    _close(app, toledo, case_id)
    assert _log(app, toledo, case_id, key) == first
    with pytest.raises(Conflict) as refused:
        _log(app, toledo, case_id, uuid.uuid4())
    assert refused.value.errors == {"case": ["This case is closed and read-only."]}


def test_two_sendings_at_the_same_moment_store_one_visit(app, toledo):
    """The second sending starts while the first has stored but not yet committed: it
    cannot see the first visit, waits at the unique key, and then answers with it."""
    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    key = uuid.uuid4()
    first_flushed = threading.Event()
    results: dict[str, int] = {}
    errors: list[BaseException] = []

    def hold_then_commit():
        first_flushed.set()
        time.sleep(0.5)  # the second sending is now waiting on the key

    def first():
        try:
            results["first"] = _log(app, toledo, case_id, key, hold=hold_then_commit)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    def second():
        try:
            assert first_flushed.wait(10)
            results["second"] = _log(app, toledo, case_id, key)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert results["first"] == results["second"]
    assert [v.id for v in _visits(app, toledo, case_id)].count(results["first"]) == 1
    assert sum(1 for v in _visits(app, toledo, case_id) if v.idempotency_key == key) == 1


def test_without_a_key_every_call_is_a_new_visit(app, toledo):
    """Visits logged elsewhere (the API, the demo, the calendar) carry no key."""
    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    assert _log(app, toledo, case_id, None) != _log(app, toledo, case_id, None)


# The route


def _form_key(html: str) -> str:
    match = re.search(r'name="idempotency_key"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="idempotency_key"', html
    )
    assert match, "the visit form carries no key"
    return match.group(1)


def _one_more_visit_with(app, d, case_id: int, before: int, key: str) -> None:
    stored = _visits(app, d, case_id)
    assert len(stored) == before + 1
    assert sum(1 for v in stored if str(v.idempotency_key) == key) == 1


def _post(browser: Browser, case_id: int, **extra):
    return browser.post(f"/cases/{case_id}", f"/cases/{case_id}/visits", {**VISIT, **extra})


def test_the_visit_form_carries_a_fresh_key_on_each_drawing(app, toledo):
    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    ct = Browser(app, toledo, toledo.people["ct"])
    first, second = (_form_key(ct.get(f"/cases/{case_id}").text) for _ in range(2))
    assert uuid.UUID(first) and uuid.UUID(second)
    assert first != second


def test_the_form_posted_twice_with_its_key_stores_one_visit(app, toledo):
    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    ct = Browser(app, toledo, toledo.people["ct"])
    before = len(_visits(app, toledo, case_id))
    key = str(uuid.uuid4())
    for _ in range(2):
        response = _post(ct, case_id, idempotency_key=key)
        assert response.status_code == 302
        assert response.headers["Location"].endswith(f"/cases/{case_id}")
    _one_more_visit_with(app, toledo, case_id, before, key)


def test_a_form_without_a_key_is_accepted_and_given_one(app, toledo):
    """A page that ran no script, or an older one: the server makes the key."""
    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    ct = Browser(app, toledo, toledo.people["ct"])
    before = {v.id for v in _visits(app, toledo, case_id)}
    assert _post(ct, case_id).status_code == 302
    new = [v for v in _visits(app, toledo, case_id) if v.id not in before]
    assert len(new) == 1 and new[0].idempotency_key is not None


def test_a_damaged_key_is_refused_and_stores_nothing(app, toledo):
    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    ct = Browser(app, toledo, toledo.people["ct"])
    before = len(_visits(app, toledo, case_id))
    response = _post(ct, case_id, idempotency_key="not-a-key")
    assert response.status_code == 400
    assert "This form is damaged; reload the page and log it again." in response.text
    assert len(_visits(app, toledo, case_id)) == before


def test_two_posts_at_once_with_one_key_store_one_visit(app, toledo):
    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    before = len(_visits(app, toledo, case_id))
    key = str(uuid.uuid4())
    browsers = [Browser(app, toledo, toledo.people["ct"]) for _ in range(2)]
    tokens = [csrf_token(b.get(f"/cases/{case_id}").text) for b in browsers]
    start = threading.Barrier(2)
    statuses: list[int] = []

    def send(browser: Browser, token: str) -> None:
        start.wait(10)
        response = browser.client.post(
            f"/t/{toledo.slug}/cases/{case_id}/visits",
            data={**VISIT, "idempotency_key": key, "csrf_token": token},
        )
        statuses.append(response.status_code)

    threads = [
        threading.Thread(target=send, args=pair) for pair in zip(browsers, tokens, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert statuses == [302, 302]
    _one_more_visit_with(app, toledo, case_id, before, key)


def test_a_visit_for_a_case_closed_meanwhile_is_refused_with_the_reason(app, toledo):
    """What a queue sent after the case closed reads back: a 409 and the reason, on the page."""
    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    ct = Browser(app, toledo, toledo.people["ct"])
    token = csrf_token(ct.get(f"/cases/{case_id}").text)
    _close(app, toledo, case_id)
    before = len(_visits(app, toledo, case_id))
    response = ct.client.post(
        f"/t/{toledo.slug}/cases/{case_id}/visits",
        data={**VISIT, "idempotency_key": str(uuid.uuid4()), "csrf_token": token},
    )
    assert response.status_code == 409
    refused = re.search(r'data-testid="visit-refused">(.*?)</div>', response.text, re.S)
    assert refused and "This case is closed and read-only." in refused.group(1)
    assert len(_visits(app, toledo, case_id)) == before


# Sign-out and the worker's script


def test_signing_out_asks_the_browser_to_forget_what_it_kept(app, toledo):
    for endpoint in ("/logout", "/logout/everywhere"):
        ct = Browser(app, toledo, toledo.people["ct"])
        response = ct.post("/", endpoint, {})
        assert response.status_code == 302
        assert response.headers["Clear-Site-Data"] == '"cache", "storage"'


def test_the_worker_is_served_fresh_from_the_districts_root(app, toledo, client):
    response = client.get(f"/t/{toledo.slug}/offline-worker.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    assert "sendOrQueue" in response.text
    assert client.get("/t/nowhere/offline-worker.js").status_code == 404


def test_only_a_consulting_teacher_alone_gets_the_offline_pages(app, toledo, make_user):
    """What the device keeps is the caseload: a person with another role too (whose pages
    show more than their caseload) is not offered it."""
    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    ct = Browser(app, toledo, toledo.people["ct"])
    home, case = ct.get("/").text, ct.get(f"/cases/{case_id}").text
    assert "data-offline-caseload" in home and "offline/page.js" in home
    assert f'href="/t/{toledo.slug}/cases/{case_id}" data-offline-case' in home
    assert "offline/page.js" in case and "data-offline-visit" in case
    coordinator = Browser(app, toledo, toledo.people["coordinator"])
    assert "offline/page.js" not in coordinator.get(f"/cases/{case_id}").text
    assert "data-offline-caseload" not in coordinator.get("/").text


# The API: the same key in the JSON body


def test_the_api_stores_a_visit_sent_twice_with_its_key_once(app, toledo):
    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    api = Api(app, toledo, toledo.people["ct"])
    body = {"visit_type": "observation", "visited_on": TODAY.isoformat(), "notes": "Reading."}
    key = str(uuid.uuid4())
    first = api.post(f"/cases/{case_id}/visits", json={**body, "idempotency_key": key})
    again = api.post(f"/cases/{case_id}/visits", json={**body, "idempotency_key": key})
    assert first.status_code == again.status_code == 201
    assert again.get_json() == first.get_json()
    keyed = [v.id for v in _visits(app, toledo, case_id) if v.idempotency_key == uuid.UUID(key)]
    assert keyed == [first.get_json()["id"]]
    # Without a key each sending is a visit of its own, as before.
    plain = [api.post(f"/cases/{case_id}/visits", json=body).get_json()["id"] for _ in range(2)]
    assert len(set(plain)) == 2


def test_the_api_answers_a_key_sent_again_with_its_visit_and_refuses_a_damaged_one(app, toledo):
    first_case = to_support(app, toledo, "intervention", "unsatisfactory")
    api = Api(app, toledo, toledo.people["ct"])
    body = {"visit_type": "observation", "visited_on": TODAY.isoformat()}
    key = str(uuid.uuid4())
    sent = api.post(f"/cases/{first_case}/visits", json={**body, "idempotency_key": key})
    assert sent.status_code == 201
    before = len(_visits(app, toledo, first_case))
    changed = api.post(
        f"/cases/{first_case}/visits",
        json={**body, "idempotency_key": key, "visit_type": "coaching"},
    )
    # The same key with other contents is the first visit (its contents stay the first's).
    assert changed.status_code == 201 and changed.get_json()["visit_type"] == "observation"
    damaged = api.post(f"/cases/{first_case}/visits", json={**body, "idempotency_key": "12-x"})
    assert damaged.status_code == 422
    assert "idempotency_key" in damaged.get_json()["errors"]
    assert len(_visits(app, toledo, first_case)) == before
