"""Sessions and tokens end at once when a person is disabled, loses a role or a password
changes; a password reset link works once; cookies carry the right flags."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from app.core.uow import commit
from app.extensions import db
from app.models.base import utcnow
from app.models.user import PasswordReset, User
from app.services import users
from app.tenants.context import tenant_scope
from tests.conftest import make_app
from tests.factories import PASSWORD, api_token, csrf_token, login


def _change(app, tenant, user, act) -> None:
    with app.app_context(), tenant_scope(tenant.id):
        act(db.session.get(User, user.id))
        commit()


def _signed_in_with_token(client, tenant, user):
    login(client, tenant, user)
    token = api_token(client, tenant, user)
    assert client.get(f"/t/{tenant.slug}/").status_code == 200
    return {"Authorization": f"Bearer {token}"}


def _out(client, tenant, headers) -> bool:
    page = client.get(f"/t/{tenant.slug}/")
    api = client.get(f"/api/v1/t/{tenant.slug}/me", headers=headers)
    return page.status_code == 302 and api.status_code == 401


def test_disabling_a_person_ends_their_sessions_and_tokens_at_once(
    app, client, make_tenant, make_user
):
    tenant = make_tenant("alpha")
    teacher = make_user(tenant, "teacher")
    headers = _signed_in_with_token(client, tenant, teacher)
    _change(app, tenant, teacher, lambda u: users.set_active(u, False))
    assert _out(client, tenant, headers)
    # Enabling again does not bring the old session or token back.
    _change(app, tenant, teacher, lambda u: users.set_active(u, True))
    assert _out(client, tenant, headers)


def test_the_admin_page_disables_a_person(app, client, make_tenant, make_user):
    tenant = make_tenant("alpha")
    teacher = make_user(tenant, "teacher")
    admin = make_user(tenant, "program_admin")
    victim = app.test_client()
    headers = _signed_in_with_token(victim, tenant, teacher)
    login(client, tenant, admin)
    page = client.get(f"/t/alpha/admin/users/{teacher.id}")
    done = client.post(
        f"/t/alpha/admin/users/{teacher.id}/status",
        data={"active": "0", "csrf_token": csrf_token(page.text)},
    )
    assert done.status_code == 302
    assert "Disabled" in client.get(f"/t/alpha/admin/users/{teacher.id}").text
    assert _out(victim, tenant, headers)


def test_removing_a_role_ends_sessions_and_tokens(app, client, make_tenant, make_user):
    tenant = make_tenant("alpha")
    person = make_user(tenant, "teacher", "coordinator")
    headers = _signed_in_with_token(client, tenant, person)
    _change(app, tenant, person, lambda u: users.set_roles(u, ["teacher"]))
    assert _out(client, tenant, headers)


def test_changing_the_password_ends_sessions_and_tokens(app, client, make_tenant, make_user):
    tenant = make_tenant("alpha")
    teacher = make_user(tenant, "teacher")
    headers = _signed_in_with_token(client, tenant, teacher)
    _change(app, tenant, teacher, lambda u: users.set_password(u, "a brand new password"))
    assert _out(client, tenant, headers)


def test_tokens_expire(app, client, make_tenant, make_user):
    from app.models.user import ApiToken

    tenant = make_tenant("alpha")
    teacher = make_user(tenant, "teacher")
    headers = {"Authorization": f"Bearer {api_token(client, tenant, teacher)}"}
    assert client.get("/api/v1/t/alpha/me", headers=headers).status_code == 200
    with app.app_context(), tenant_scope(tenant.id):
        db.session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        commit()
    assert client.get("/api/v1/t/alpha/me", headers=headers).status_code == 401


def _session_cookie(response) -> str:
    cookies = response.headers.getlist("Set-Cookie")
    [cookie] = [c for c in cookies if c.startswith("session=")]
    return cookie


def test_the_session_cookie_is_httponly_and_samesite_lax(client, make_tenant, make_user):
    tenant = make_tenant("alpha")
    teacher = make_user(tenant, "teacher")
    cookie = _session_cookie(login(client, tenant, teacher))
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_in_production_the_cookie_is_secure_and_host_only(migrated, make_tenant, make_user):
    from config import Production

    name = Production.SESSION_COOKIE_NAME
    assert name.startswith("__Host-")
    assert Production.SESSION_COOKIE_SECURE is True
    app = make_app(migrated, SESSION_COOKIE_SECURE=True, SESSION_COOKIE_NAME=name)
    client = app.test_client(use_cookies=True)
    tenant = make_tenant("alpha")
    teacher = make_user(tenant, "teacher")
    response = login(client, tenant, teacher)
    [cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith(f"{name}=")]
    assert "Secure" in cookie
    assert "Path=/" in cookie
    assert "Domain=" not in cookie


def test_the_session_changes_at_sign_in(client, make_tenant, make_user):
    """Whatever session a browser had before signing in (perhaps planted) is replaced."""
    tenant = make_tenant("alpha")
    teacher = make_user(tenant, "teacher")
    with client.session_transaction() as session:
        session["planted"] = "by someone else"
        session["sid"] = "fixed-by-an-attacker"
    login(client, tenant, teacher)
    with client.session_transaction() as session:
        assert "planted" not in session
        assert session["sid"] != "fixed-by-an-attacker"
        first = session["sid"]
    client.post("/t/alpha/logout", data={"csrf_token": csrf_token(client.get("/t/alpha/").text)})
    login(client, tenant, teacher)
    with client.session_transaction() as session:
        assert session["sid"] != first


# --- password reset --------------------------------------------------------------------------


def _mail_app(migrated, smtp_server):
    port, _ = smtp_server
    return make_app(migrated, MAIL_SUPPRESS_SEND=False, MAIL_PORT=port)


def _ask_for_link(client, slug: str, email: str):
    page = client.get(f"/t/{slug}/password/forgot")
    return client.post(
        f"/t/{slug}/password/forgot", data={"email": email, "csrf_token": csrf_token(page.text)}
    )


def _link_in(message) -> str:
    body = message.get_payload(decode=True).decode()
    match = re.search(r"http://\S+/password/reset/(\S+)", body)
    assert match, body
    return match.group(1)


def test_a_reset_link_sets_a_new_password_once_and_ends_other_sessions(
    migrated, smtp_server, make_tenant, make_user
):
    _, inbox = smtp_server
    app = _mail_app(migrated, smtp_server)
    tenant = make_tenant("alpha")
    teacher = make_user(tenant, "teacher")
    elsewhere = app.test_client()
    headers = _signed_in_with_token(elsewhere, tenant, teacher)

    client = app.test_client()
    sent = _ask_for_link(client, "alpha", teacher.email)
    assert "a link to choose a new password is on its way" in sent.text
    [message] = inbox
    token = _link_in(message)
    with app.app_context(), tenant_scope(tenant.id):
        stored = db.session.execute(select(PasswordReset.token_hash)).scalar_one()
    assert token not in stored  # only a digest is kept

    page = client.get(f"/t/alpha/password/reset/{token}")
    assert page.status_code == 200

    def choose(confirm: str):
        return client.post(
            f"/t/alpha/password/reset/{token}",
            data={
                "password": "correct horse battery",
                "confirm": confirm,
                "csrf_token": csrf_token(page.text),
            },
        )

    mismatch = choose("other")
    assert mismatch.status_code == 400
    assert "The two passwords differ." in mismatch.text
    done = choose("correct horse battery")
    assert done.status_code == 302
    assert _out(elsewhere, tenant, headers)
    login(app.test_client(), tenant, teacher, password="correct horse battery")
    # The link is spent.
    assert client.get(f"/t/alpha/password/reset/{token}").status_code == 404


def test_an_expired_link_is_refused(migrated, smtp_server, make_tenant, make_user):
    _, inbox = smtp_server
    app = _mail_app(migrated, smtp_server)
    tenant = make_tenant("alpha")
    teacher = make_user(tenant, "teacher")
    client = app.test_client()
    _ask_for_link(client, "alpha", teacher.email)
    token = _link_in(inbox[0])
    with app.app_context(), tenant_scope(tenant.id):
        db.session.execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1)))
        commit()
    expired = client.get(f"/t/alpha/password/reset/{token}")
    assert expired.status_code == 404
    assert "Ask for a new one" in expired.text
    login(app.test_client(), tenant, teacher, password=PASSWORD)


def test_asking_for_an_unknown_address_answers_the_same_and_sends_nothing(
    migrated, smtp_server, make_tenant
):
    _, inbox = smtp_server
    app = _mail_app(migrated, smtp_server)
    make_tenant("alpha")
    sent = _ask_for_link(app.test_client(), "alpha", "nobody@alpha.example.org")
    assert sent.status_code == 200
    assert "a link to choose a new password is on its way" in sent.text
    assert inbox == []


def test_a_reset_link_of_one_district_means_nothing_in_another(
    migrated, smtp_server, make_tenant, make_user
):
    _, inbox = smtp_server
    app = _mail_app(migrated, smtp_server)
    alpha = make_tenant("alpha")
    make_tenant("bravo")
    teacher = make_user(alpha, "teacher")
    _ask_for_link(app.test_client(), "alpha", teacher.email)
    token = _link_in(inbox[0])
    assert app.test_client().get(f"/t/bravo/password/reset/{token}").status_code == 404


# --- timeouts and signing out everywhere -----------------------------------------------------


def _age(client, **seconds_ago) -> None:
    import time

    with client.session_transaction() as session:
        for key, ago in seconds_ago.items():
            session[key] = int(time.time()) - ago


def test_an_idle_session_ends(app, client, make_tenant, make_user):
    tenant = make_tenant("alpha")
    teacher = make_user(tenant, "teacher")
    login(client, tenant, teacher)
    _age(client, seen_at=app.config["SESSION_IDLE_MINUTES"] * 60 - 30)
    assert client.get("/t/alpha/").status_code == 200  # still within the idle limit
    _age(client, seen_at=app.config["SESSION_IDLE_MINUTES"] * 60 + 1)
    assert client.get("/t/alpha/").status_code == 302


def test_a_busy_session_still_ends_at_its_maximum_age(app, client, make_tenant, make_user):
    tenant = make_tenant("alpha")
    teacher = make_user(tenant, "teacher")
    login(client, tenant, teacher)
    _age(client, signed_in_at=app.config["SESSION_MAX_HOURS"] * 3600 + 1, seen_at=5)
    assert client.get("/t/alpha/").status_code == 302


def test_signing_out_everywhere_ends_other_sessions_and_tokens(app, client, make_tenant, make_user):
    tenant = make_tenant("alpha")
    teacher = make_user(tenant, "teacher")
    laptop = app.test_client()
    headers = _signed_in_with_token(laptop, tenant, teacher)
    login(client, tenant, teacher)
    home = client.get("/t/alpha/")
    assert "Sign out everywhere" in home.text
    client.post("/t/alpha/logout/everywhere", data={"csrf_token": csrf_token(home.text)})
    assert _out(laptop, tenant, headers)
    assert client.get("/t/alpha/").status_code == 302


def test_a_program_admin_signs_someone_out_everywhere(app, client, make_tenant, make_user):
    tenant = make_tenant("alpha")
    teacher = make_user(tenant, "teacher")
    admin = make_user(tenant, "program_admin")
    laptop = app.test_client()
    headers = _signed_in_with_token(laptop, tenant, teacher)
    login(client, tenant, admin)
    page = client.get(f"/t/alpha/admin/users/{teacher.id}")
    client.post(
        f"/t/alpha/admin/users/{teacher.id}/sessions/end",
        data={"csrf_token": csrf_token(page.text)},
    )
    assert _out(laptop, tenant, headers)
    with app.app_context(), tenant_scope(tenant.id):
        from app.models.audit import AuditEvent

        actions = db.session.execute(select(AuditEvent.action)).scalars().all()
    assert "user.sessions_ended" in actions


# --- changing one's own password -------------------------------------------------------------


def _change_password(client, current: str, new: str, confirm: str | None = None):
    page = client.get("/t/alpha/account/password")
    return client.post(
        "/t/alpha/account/password",
        data={
            "current_password": current,
            "password": new,
            "confirm": new if confirm is None else confirm,
            "csrf_token": csrf_token(page.text),
        },
    )


def test_changing_ones_password_needs_the_current_one_and_ends_only_other_sessions(
    app, client, make_tenant, make_user
):
    tenant = make_tenant("alpha")
    teacher = make_user(tenant, "teacher")
    laptop = app.test_client()
    headers = _signed_in_with_token(laptop, tenant, teacher)
    login(client, tenant, teacher)

    wrong = _change_password(client, "not my password", "violet kestrel harbor lamp")
    assert wrong.status_code == 422
    assert "This is not your current password." in wrong.text

    done = _change_password(client, PASSWORD, "violet kestrel harbor lamp")
    assert done.status_code == 302
    assert client.get("/t/alpha/").status_code == 200  # this session goes on
    assert _out(laptop, tenant, headers)
    login(app.test_client(), tenant, teacher, password="violet kestrel harbor lamp")


def test_a_common_or_personal_password_is_refused_with_the_reason(
    app, client, make_tenant, make_user
):
    tenant = make_tenant("alpha")
    teacher = make_user(tenant, "teacher", email="maria.lopez@alpha.example.org")
    login(client, tenant, teacher)
    common = _change_password(client, PASSWORD, "password1234")
    assert common.status_code in (400, 422)
    assert "very common password" in common.text
    personal = _change_password(client, PASSWORD, "maria.lopez1")
    assert personal.status_code in (400, 422)
    assert "easy to guess" in personal.text
    login(app.test_client(), tenant, teacher)  # the old password still works


def test_any_characters_and_long_passwords_are_accepted():
    from app.security.passwords import password_problems

    assert password_problems("é ünïcode 密码 tuesday kettle") == []
    assert password_problems("x" * 20 + " plus some unrelated words to be long " * 3) == []
    assert password_problems("short") == ["Use at least 10 characters."]
