"""Floods get 429 with Retry-After, as a page or as JSON; failed sign-ins lock an account."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from app.extensions import db
from app.models.audit import AuditEvent
from app.models.base import utcnow
from app.models.user import User
from app.tenants.context import tenant_scope
from tests.conftest import make_app
from tests.factories import PASSWORD, csrf_token, login


def _attempt(client, slug: str, email: str, password: str, address: str = "10.0.0.1"):
    environ = {"REMOTE_ADDR": address}
    page = client.get(f"/t/{slug}/login", environ_base=environ)
    return client.post(
        f"/t/{slug}/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(page.text)},
        environ_base=environ,
    )


def test_a_sign_in_flood_for_one_account_gets_429_with_retry_after(client, make_tenant, make_user):
    tenant = make_tenant("alpha")
    teacher = make_user(tenant, "teacher")
    statuses = [_attempt(client, "alpha", teacher.email, "wrong").status_code for _ in range(5)]
    assert statuses == [400] * 5
    flooded = _attempt(client, "alpha", teacher.email, "wrong")
    assert flooded.status_code == 429
    assert int(flooded.headers["Retry-After"]) > 0
    assert "Too many attempts" in flooded.text
    assert flooded.mimetype == "text/html"


def test_the_per_account_limit_holds_across_addresses(client, make_tenant, make_user):
    tenant = make_tenant("alpha")
    teacher = make_user(tenant, "teacher")
    for n in range(5):
        _attempt(client, "alpha", teacher.email, "wrong", address=f"10.0.1.{n}")
    assert _attempt(client, "alpha", teacher.email, "wrong", "10.0.9.9").status_code == 429


def test_the_per_address_limit_holds_across_accounts(client, make_tenant):
    make_tenant("alpha")
    for n in range(30):
        response = _attempt(client, "alpha", f"guess{n}@alpha.example.org", "wrong")
        assert response.status_code == 400
    assert _attempt(client, "alpha", "guess99@alpha.example.org", "x").status_code == 429


def test_a_schools_shared_address_signs_everyone_in(client, make_tenant, make_user):
    """Forty teachers behind one address sign in within the minute, one of them on six
    devices: successes never count, so nobody is refused."""
    tenant = make_tenant("alpha")
    teachers = [make_user(tenant, "teacher", email=f"t{n}@alpha.example.org") for n in range(40)]
    for teacher in teachers:
        assert _attempt(client, "alpha", teacher.email, PASSWORD).status_code == 302
        client.post(
            "/t/alpha/logout", data={"csrf_token": csrf_token(client.get("/t/alpha/").text)}
        )
    for _ in range(6):
        assert _attempt(client, "alpha", teachers[0].email, PASSWORD).status_code == 302


def test_failures_still_count_after_successes(client, make_tenant, make_user):
    tenant = make_tenant("alpha")
    teacher = make_user(tenant, "teacher")
    for _ in range(6):
        assert _attempt(client, "alpha", teacher.email, PASSWORD).status_code == 302
    statuses = [_attempt(client, "alpha", teacher.email, "wrong").status_code for _ in range(5)]
    assert statuses == [400] * 5
    assert _attempt(client, "alpha", teacher.email, PASSWORD).status_code == 429


def test_the_token_endpoint_answers_a_flood_in_json(client, make_tenant, make_user):
    tenant = make_tenant("alpha")
    teacher = make_user(tenant, "teacher")
    url = "/api/v1/t/alpha/auth/token"
    for _ in range(5):
        assert client.post(url, json={"email": teacher.email, "password": "x"}).status_code == 401
    flooded = client.post(url, json={"email": teacher.email, "password": PASSWORD})
    assert flooded.status_code == 429
    assert flooded.is_json
    assert "errors" in flooded.json
    assert int(flooded.headers["Retry-After"]) > 0


def test_password_reset_requests_are_limited_per_account(client, make_tenant, make_user):
    tenant = make_tenant("alpha")
    teacher = make_user(tenant, "teacher")
    for _ in range(3):
        page = client.get("/t/alpha/password/forgot")
        sent = client.post(
            "/t/alpha/password/forgot",
            data={"email": teacher.email, "csrf_token": csrf_token(page.text)},
        )
        assert sent.status_code == 200
    page = client.get("/t/alpha/password/forgot")
    flooded = client.post(
        "/t/alpha/password/forgot",
        data={"email": teacher.email, "csrf_token": csrf_token(page.text)},
    )
    assert flooded.status_code == 429


def test_guessing_survey_links_is_limited(client, make_tenant):
    make_tenant("alpha")
    statuses = [client.get("/t/alpha/survey/guess-a-link").status_code for _ in range(21)]
    assert statuses[:20] == [404] * 20
    assert statuses[20] == 429


def test_imports_are_limited_per_user(client, make_tenant, make_user):
    from tests.factories import api_token

    tenant = make_tenant("alpha")
    coordinator = make_user(tenant, "coordinator")
    headers = {"Authorization": f"Bearer {api_token(client, tenant, coordinator)}"}
    url = "/api/v1/t/alpha/imports/cases"
    statuses = [client.post(url, headers=headers, data={}).status_code for _ in range(11)]
    assert all(status == 400 or status == 422 for status in statuses[:10]), statuses
    assert statuses[10] == 429


def test_counts_live_in_redis_so_every_worker_shares_them(
    migrated, redis_url, make_tenant, make_user
):
    """Two app processes (as two gunicorn workers) behind one Redis see one count."""
    first = make_app(migrated, REDIS_URL=redis_url)
    second = make_app(migrated, REDIS_URL=redis_url)
    assert first.config["RATELIMIT_STORAGE_URI"] == redis_url
    tenant = make_tenant("alpha")
    teacher = make_user(tenant, "teacher")
    for n in range(5):
        app = first if n % 2 else second
        _attempt(app.test_client(), "alpha", teacher.email, "wrong")
    assert _attempt(first.test_client(), "alpha", teacher.email, "x").status_code == 429
    assert _attempt(second.test_client(), "alpha", teacher.email, "x").status_code == 429


# --- lockout ---------------------------------------------------------------------------------


def _locking_app(migrated, smtp_server):
    port, _ = smtp_server
    return make_app(
        migrated,
        LOGIN_LOCKOUT_THRESHOLD=3,
        RATELIMIT_ENABLED=False,
        MAIL_SUPPRESS_SEND=False,
        MAIL_PORT=port,
    )


def test_repeated_failures_lock_the_account_and_tell_its_owner(
    migrated, smtp_server, make_tenant, make_user
):
    _, inbox = smtp_server
    app = _locking_app(migrated, smtp_server)
    client = app.test_client()
    tenant = make_tenant("alpha")
    teacher = make_user(tenant, "teacher")
    for _ in range(3):
        assert _attempt(client, "alpha", teacher.email, "wrong").status_code == 400
    # Locked: even the right password is refused, with the same message as any failure.
    locked = _attempt(client, "alpha", teacher.email, PASSWORD)
    assert locked.status_code == 400
    assert "E-mail or password is not correct." in locked.text
    [mail] = [m for m in inbox if "sign-in locked" in m["Subject"]]
    assert mail["To"] == teacher.email
    with app.app_context(), tenant_scope(tenant.id):
        events = db.session.execute(select(AuditEvent.action, AuditEvent.after)).all()
    actions = [action for action, _ in events]
    assert actions.count("auth.login_failed") == 4
    assert "user.locked" in actions
    assert [after["reason"] for action, after in events if action == "auth.login_failed"][
        -1
    ] == "locked"


def test_a_lockout_ends_by_itself(migrated, smtp_server, make_tenant, make_user):
    app = _locking_app(migrated, smtp_server)
    client = app.test_client()
    tenant = make_tenant("alpha")
    teacher = make_user(tenant, "teacher")
    for _ in range(3):
        _attempt(client, "alpha", teacher.email, "wrong")
    with app.app_context(), tenant_scope(tenant.id):
        db.session.execute(
            update(User)
            .where(User.id == teacher.id)
            .values(locked_until=utcnow() - timedelta(seconds=1))
        )
        db.session.commit()
    assert _attempt(client, "alpha", teacher.email, PASSWORD).status_code == 302


def test_a_program_admin_unlocks_an_account(migrated, smtp_server, make_tenant, make_user):
    app = _locking_app(migrated, smtp_server)
    client = app.test_client()
    tenant = make_tenant("alpha")
    teacher = make_user(tenant, "teacher")
    admin = make_user(tenant, "program_admin")
    for _ in range(3):
        _attempt(client, "alpha", teacher.email, "wrong")
    admin_client = app.test_client()
    login(admin_client, tenant, admin)
    page = admin_client.get(f"/t/alpha/admin/users/{teacher.id}")
    assert "sign-in locked until" in page.text
    unlocked = admin_client.post(
        f"/t/alpha/admin/users/{teacher.id}/unlock", data={"csrf_token": csrf_token(page.text)}
    )
    assert unlocked.status_code == 302
    assert _attempt(client, "alpha", teacher.email, PASSWORD).status_code == 302
    with app.app_context(), tenant_scope(tenant.id):
        actions = db.session.execute(select(AuditEvent.action)).scalars().all()
    assert "user.unlocked" in actions
