"""Signing in: each way it can go wrong is refused with a clear message."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from app.extensions import db
from app.models.audit import AuditEvent
from app.models.base import utcnow
from app.models.user import ApiToken
from app.tenants.context import tenant_scope
from tests.factories import PASSWORD, api_token, csrf_token, login


def _post_login(client, slug, email, password):
    page = client.get(f"/t/{slug}/login")
    return client.post(
        f"/t/{slug}/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(page.text)},
    )


def test_right_password_signs_in_and_lands_on_home(client, make_tenant, make_user):
    tenant = make_tenant("boston")
    teacher = make_user(tenant, "teacher")
    response = login(client, tenant, teacher)
    assert response.headers["Location"] == "/t/boston/"
    assert "Teacher" in client.get("/t/boston/").text


def test_wrong_password_is_refused_and_audited(app, client, make_tenant, make_user):
    tenant = make_tenant("boston")
    teacher = make_user(tenant, "teacher")
    response = _post_login(client, "boston", teacher.email, "not the password")
    assert response.status_code == 400
    assert "E-mail or password is not correct." in response.text
    assert client.get("/t/boston/").status_code == 302
    with app.app_context(), tenant_scope(tenant.id):
        actions = db.session.execute(select(AuditEvent.action)).scalars().all()
    assert "auth.login_failed" in actions


def test_unknown_user_gets_the_same_message(client, make_tenant):
    make_tenant("boston")
    response = _post_login(client, "boston", "nobody@example.org", PASSWORD)
    assert response.status_code == 400
    assert "E-mail or password is not correct." in response.text


def test_a_user_of_another_district_cannot_sign_in_here(client, make_tenant, make_user):
    make_tenant("boston")
    toledo = make_tenant("toledo")
    toledo_teacher = make_user(toledo, "teacher")
    response = _post_login(client, "boston", toledo_teacher.email, PASSWORD)
    assert response.status_code == 400
    assert "E-mail or password is not correct." in response.text


def test_a_form_without_its_csrf_token_is_refused(client, make_tenant, make_user):
    tenant = make_tenant("boston")
    teacher = make_user(tenant, "teacher")
    response = client.post("/t/boston/login", data={"email": teacher.email, "password": PASSWORD})
    assert response.status_code == 400
    assert "did not come from this site" in response.text
    assert client.get("/t/boston/").status_code == 302


def test_next_never_leads_off_site(client, make_tenant, make_user):
    tenant = make_tenant("boston")
    teacher = make_user(tenant, "teacher")
    page = client.get("/t/boston/login?next=https://evil.example/")
    response = client.post(
        "/t/boston/login?next=https://evil.example/",
        data={"email": teacher.email, "password": PASSWORD, "csrf_token": csrf_token(page.text)},
    )
    assert response.headers["Location"] == "/t/boston/"


def test_sign_out_ends_the_session(client, make_tenant, make_user):
    tenant = make_tenant("boston")
    teacher = make_user(tenant, "teacher")
    login(client, tenant, teacher)
    home = client.get("/t/boston/")
    client.post("/t/boston/logout", data={"csrf_token": csrf_token(home.text)})
    assert client.get("/t/boston/").status_code == 302


def test_api_token_wrong_password_is_401_with_errors(client, make_tenant, make_user):
    tenant = make_tenant("boston")
    teacher = make_user(tenant, "teacher")
    response = client.post(
        "/api/v1/t/boston/auth/token", json={"email": teacher.email, "password": "nope"}
    )
    assert response.status_code == 401
    assert response.json == {"errors": {"auth": ["E-mail or password is not correct."]}}


def test_an_expired_token_is_refused(app, client, make_tenant, make_user):
    tenant = make_tenant("boston")
    teacher = make_user(tenant, "teacher")
    token = api_token(client, tenant, teacher)
    with app.app_context(), tenant_scope(tenant.id):
        db.session.execute(update(ApiToken).values(expires_at=utcnow() - timedelta(minutes=1)))
        db.session.commit()
    response = client.get("/api/v1/t/boston/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert response.json["errors"]["auth"]


def test_a_revoked_token_is_refused(client, make_tenant, make_user):
    tenant = make_tenant("boston")
    teacher = make_user(tenant, "teacher")
    token = api_token(client, tenant, teacher)
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/t/boston/me", headers=headers).status_code == 200
    assert client.delete("/api/v1/t/boston/auth/token", headers=headers).status_code == 204
    response = client.get("/api/v1/t/boston/me", headers=headers)
    assert response.status_code == 401


def test_tokens_are_stored_hashed(app, client, make_tenant, make_user):
    tenant = make_tenant("boston")
    teacher = make_user(tenant, "teacher")
    token = api_token(client, tenant, teacher)
    with app.app_context(), tenant_scope(tenant.id):
        stored = db.session.execute(select(ApiToken.token_hash)).scalars().all()
    assert stored and token not in stored


def test_removing_a_role_ends_sessions_and_tokens(app, client, make_tenant, make_user):
    from app.core.uow import commit
    from app.models.user import User
    from app.services import users

    tenant = make_tenant("boston")
    person = make_user(tenant, "teacher", "coordinator")
    login(client, tenant, person)
    token = api_token(client, tenant, person)
    with app.app_context(), tenant_scope(tenant.id):
        users.set_roles(db.session.get(User, person.id), ["teacher"])
        commit()
    assert client.get("/t/boston/").status_code == 302
    assert (
        client.get("/api/v1/t/boston/me", headers={"Authorization": f"Bearer {token}"}).status_code
        == 401
    )
