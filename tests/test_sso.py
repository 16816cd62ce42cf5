"""Single sign-on through a district's own OpenID Connect provider, end to end.

The provider is real (oidc-provider-mock on loopback): Parley discovers it,
sends the browser there, exchanges the code over HTTP and verifies the ID
token against the provider's published keys.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, text

from app.core import uow
from app.extensions import db
from app.models.audit import AuditEvent
from app.models.sso import SsoSettings
from app.models.user import User
from app.services import sso
from app.services.errors import ServiceError
from app.tenants.context import tenant_scope
from tests.factories import PASSWORD, csrf_token


def _configure(app, tenant, provider, **overrides) -> None:
    values = {
        "enabled": True,
        "label": "Alpha Google",
        "issuer": provider.issuer,
        "client_id": "parley-alpha",
        "client_secret": "alpha-client-secret",
        "allowed_domains": "alpha.example.org",
        "passwords_allowed": True,
        "new_users": "refuse",
        **overrides,
    }
    with app.app_context():
        sso.save_settings(tenant.id, values)
        uow.commit()


def _teacher_known_as_t1(app, tenant, provider) -> None:
    """A teacher of the district, configured for SSO, whom the provider knows as ``t-1``."""
    _configure(app, tenant, provider)
    provider.add_user("t-1", email="t@alpha.example.org")


def _answer_for(client, provider, sub: str = "t-1"):
    """Start a sign-in in ``client`` and let ``sub`` approve it: the provider's answer URL."""
    start = client.get("/t/alpha/sso/start")
    return urlsplit(provider.authorize(start.location, sub))


def _sign_in_through(client, provider, slug: str, sub: str, next_path: str | None = None):
    start = client.get(f"/t/{slug}/sso/start" + (f"?next={next_path}" if next_path else ""))
    assert start.status_code == 302
    assert start.location.startswith(provider.issuer + "/oauth2/authorize")
    back = provider.authorize(start.location, sub)
    parts = urlsplit(back)
    assert parts.path == f"/t/{slug}/sso/callback"
    return client.get(f"{parts.path}?{parts.query}")


def test_a_known_person_signs_in_through_the_district_provider(
    app, client, make_tenant, make_user, oidc_provider
):
    tenant = make_tenant("alpha")
    ct = make_user(tenant, "consulting_teacher", email="ct@alpha.example.org")
    _configure(app, tenant, oidc_provider)
    oidc_provider.add_user("ct-1", email=ct.email, email_verified=True, name="C T")

    page = client.get("/t/alpha/login")
    assert "Sign in with Alpha Google" in page.text
    response = _sign_in_through(client, oidc_provider, "alpha", "ct-1", next_path="/t/alpha/cases")
    assert response.status_code == 302
    assert response.location == "/t/alpha/cases"
    assert client.get("/t/alpha/").status_code == 200
    with app.app_context(), tenant_scope(tenant.id):
        event = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "auth.login")
        ).scalar_one()
    assert event.after["channel"] == "sso"
    assert event.after["subject"] == "ct-1"


def test_the_authorization_request_carries_state_nonce_and_our_client(
    app, client, make_tenant, oidc_provider
):
    tenant = make_tenant("alpha")
    _configure(app, tenant, oidc_provider)
    start = client.get("/t/alpha/sso/start")
    query = parse_qs(urlsplit(start.location).query)
    assert query["client_id"] == ["parley-alpha"]
    assert query["response_type"] == ["code"]
    assert len(query["state"][0]) >= 32
    assert len(query["nonce"][0]) >= 32
    assert "openid" in query["scope"][0].split()


def test_a_forged_state_is_refused(app, client, make_tenant, make_user, oidc_provider):
    tenant = make_tenant("alpha")
    make_user(tenant, "teacher", email="t@alpha.example.org")
    _teacher_known_as_t1(app, tenant, oidc_provider)
    back = _answer_for(client, oidc_provider)
    query = parse_qs(back.query)
    forged = client.get(f"{back.path}?code={query['code'][0]}&state=someone-elses-state")
    assert forged.status_code == 400
    assert "does not belong to this sign-in" in forged.text
    assert client.get("/t/alpha/").status_code == 302


def test_a_callback_without_a_started_sign_in_is_refused(
    app, client, make_tenant, make_user, oidc_provider
):
    """Login CSRF: a code pushed into someone else's browser finds no sign-in to finish."""
    tenant = make_tenant("alpha")
    make_user(tenant, "teacher", email="t@alpha.example.org")
    _teacher_known_as_t1(app, tenant, oidc_provider)
    attacker = app.test_client()
    back = _answer_for(attacker, oidc_provider)
    victim = client.get(f"{back.path}?{back.query}")
    assert victim.status_code == 400
    assert client.get("/t/alpha/").status_code == 302


def test_someone_with_no_account_is_refused_by_default(app, client, make_tenant, oidc_provider):
    tenant = make_tenant("alpha")
    _configure(app, tenant, oidc_provider)
    oidc_provider.add_user("new-1", email="new@alpha.example.org")
    response = _sign_in_through(client, oidc_provider, "alpha", "new-1")
    assert response.status_code == 403
    assert "no active account in this district" in response.text
    with app.app_context(), tenant_scope(tenant.id):
        assert db.session.execute(select(User)).first() is None


def test_with_pending_accounts_a_newcomer_gets_no_role_until_an_admin_grants_one(
    app, client, make_tenant, make_user, oidc_provider
):
    tenant = make_tenant("alpha")
    admin = make_user(tenant, "program_admin")
    _configure(app, tenant, oidc_provider, new_users="pending")
    oidc_provider.add_user("new-1", email="New@Alpha.example.org", name="Nia Newcomer")
    response = _sign_in_through(client, oidc_provider, "alpha", "new-1")
    assert response.location == "/t/alpha/pending"
    waiting = client.get("/t/alpha/pending")
    assert "waiting for a program admin" in waiting.text
    assert client.get("/t/alpha/").status_code == 403
    assert client.get("/t/alpha/cases/").status_code == 403
    with app.app_context(), tenant_scope(tenant.id):
        newcomer = db.session.execute(
            select(User).where(User.email == "new@alpha.example.org")
        ).scalar_one()
        assert newcomer.roles == frozenset()
        assert newcomer.name == "Nia Newcomer"
    assert admin.id != newcomer.id


def test_a_domain_outside_the_list_is_refused(app, client, make_tenant, make_user, oidc_provider):
    tenant = make_tenant("alpha")
    make_user(tenant, "teacher", email="t@gmail.example.com")
    _configure(app, tenant, oidc_provider)
    oidc_provider.add_user("t-1", email="t@gmail.example.com")
    response = _sign_in_through(client, oidc_provider, "alpha", "t-1")
    assert response.status_code == 403
    assert "gmail.example.com may not sign in here" in response.text


def test_a_refused_address_reaches_the_audit_trail_escaped(app, client, make_tenant, oidc_provider):
    """A right-to-left override in the provider's address would make the audit page show
    another address than the one refused; the trail keeps it escaped."""
    tenant = make_tenant("alpha")
    _configure(app, tenant, oidc_provider)
    oidc_provider.add_user("t-9", email="gro.elpmaxe.ahpla\u202e@evil.example.com")
    response = _sign_in_through(client, oidc_provider, "alpha", "t-9")
    assert response.status_code == 403
    with app.app_context(), tenant_scope(tenant.id):
        event = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "auth.login_failed")
        ).scalar_one()
    assert event.after["email"] == "gro.elpmaxe.ahpla\\u202e@evil.example.com"
    assert event.after["reason"] == "domain"


def test_an_unverified_address_is_refused(app, client, make_tenant, make_user, oidc_provider):
    tenant = make_tenant("alpha")
    make_user(tenant, "teacher", email="t@alpha.example.org")
    _configure(app, tenant, oidc_provider)
    oidc_provider.add_user("t-1", email="t@alpha.example.org", email_verified=False)
    response = _sign_in_through(client, oidc_provider, "alpha", "t-1")
    assert response.status_code == 401
    assert client.get("/t/alpha/").status_code == 302


def test_a_disabled_person_cannot_sign_in_through_the_provider(
    app, client, make_tenant, make_user, oidc_provider
):
    from app.services import users

    tenant = make_tenant("alpha")
    teacher = make_user(tenant, "teacher", email="t@alpha.example.org")
    _configure(app, tenant, oidc_provider)
    oidc_provider.add_user("t-1", email=teacher.email)
    with app.app_context(), tenant_scope(tenant.id):
        users.set_active(db.session.get(User, teacher.id), False)
        uow.commit()
    response = _sign_in_through(client, oidc_provider, "alpha", "t-1")
    assert response.status_code == 403


def _verify(app, token: dict, *, keys_of, issuer_of, client_id="parley-alpha", nonce="n-1"):
    with app.app_context():
        return sso.verify_id_token(
            token,
            jwks=keys_of.jwks(),
            issuer=issuer_of.issuer,
            client_id=client_id,
            nonce=nonce,
        )


def test_an_id_token_from_another_issuer_is_refused(
    app, make_tenant, oidc_provider, other_oidc_provider
):
    """A genuine token, correctly signed by its own issuer, for our client id: still not ours."""
    token = other_oidc_provider.id_token_for("parley-alpha", "t@alpha.example.org", "n-1")
    with pytest.raises(ServiceError) as refused:
        _verify(app, token, keys_of=other_oidc_provider, issuer_of=oidc_provider)
    assert "iss" in refused.value.text()
    # Checked against the configured issuer's own keys, the signature fails too.
    with pytest.raises(ServiceError):
        _verify(app, token, keys_of=oidc_provider, issuer_of=oidc_provider)


def test_an_id_token_for_another_audience_is_refused(app, oidc_provider):
    token = oidc_provider.id_token_for("some-other-app", "t@alpha.example.org", "n-1")
    with pytest.raises(ServiceError) as refused:
        _verify(app, token, keys_of=oidc_provider, issuer_of=oidc_provider)
    assert "aud" in refused.value.text()


def test_an_id_token_with_another_nonce_is_refused(app, oidc_provider):
    token = oidc_provider.id_token_for("parley-alpha", "t@alpha.example.org", "replayed")
    with pytest.raises(ServiceError) as refused:
        _verify(app, token, keys_of=oidc_provider, issuer_of=oidc_provider, nonce="this-sign-in")
    assert "nonce" in refused.value.text()


def test_the_control_a_right_token_is_accepted(app, oidc_provider):
    token = oidc_provider.id_token_for("parley-alpha", "t@alpha.example.org", "n-1")
    claims = _verify(app, token, keys_of=oidc_provider, issuer_of=oidc_provider)
    assert claims["sub"] == "t@alpha.example.org"


def test_an_unsigned_token_is_refused(app, oidc_provider):
    import base64
    import json

    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    claims = {"iss": oidc_provider.issuer, "aud": "parley-alpha", "sub": "x", "nonce": "n"}
    forged = f"{part({'alg': 'none'})}.{part(claims)}."
    with app.app_context(), pytest.raises(ServiceError):
        sso.verify_id_token(
            {"id_token": forged},
            jwks=oidc_provider.jwks(),
            issuer=oidc_provider.issuer,
            client_id="parley-alpha",
            nonce="n",
        )


def test_with_passwords_off_only_the_provider_signs_in(
    app, client, make_tenant, make_user, oidc_provider
):
    tenant = make_tenant("alpha")
    teacher = make_user(tenant, "teacher", email="t@alpha.example.org")
    _configure(app, tenant, oidc_provider, passwords_allowed=False)
    page = client.get("/t/alpha/login")
    assert 'name="password"' not in page.text
    token = csrf_token(client.get("/t/alpha/password/forgot").text)
    refused = client.post(
        "/t/alpha/login",
        data={"email": teacher.email, "password": PASSWORD, "csrf_token": token},
    )
    assert refused.status_code == 400
    assert "identity provider" in refused.text
    api = client.post(
        "/api/v1/t/alpha/auth/token", json={"email": teacher.email, "password": PASSWORD}
    )
    assert api.status_code == 403
    assert "identity provider" in api.json["errors"]["auth"][0]
    oidc_provider.add_user("t-1", email=teacher.email)
    assert _sign_in_through(client, oidc_provider, "alpha", "t-1").status_code == 302


def test_the_client_secret_is_stored_encrypted(app, make_tenant, oidc_provider, owner_engine):
    tenant = make_tenant("alpha")
    _configure(app, tenant, oidc_provider)
    with owner_engine.connect() as conn:
        stored = conn.execute(text("SELECT client_secret_encrypted FROM sso_settings")).scalar()
    assert stored and "alpha-client-secret" not in stored


def test_settings_are_validated_and_audited(app, make_tenant):
    tenant = make_tenant("alpha")
    with app.app_context(), pytest.raises(ServiceError) as refused:
        sso.save_settings(
            tenant.id,
            {"issuer": "ftp://idp", "client_id": "", "allowed_domains": "not a domain/x"},
        )
    assert set(refused.value.errors) >= {"issuer", "client_id", "client_secret"}
    with app.app_context(), tenant_scope(tenant.id):
        assert db.session.execute(select(SsoSettings)).first() is None


def test_the_admin_page_saves_the_settings(app, client, make_tenant, make_user, oidc_provider):
    from tests.factories import login

    tenant = make_tenant("alpha")
    admin = make_user(tenant, "program_admin")
    login(client, tenant, admin)
    page = client.get("/t/alpha/admin/sso")
    assert page.status_code == 200
    assert "/t/alpha/sso/callback" in page.text
    saved = client.post(
        "/t/alpha/admin/sso",
        data={
            "csrf_token": csrf_token(page.text),
            "enabled": "y",
            "label": "Alpha Entra",
            "issuer": oidc_provider.issuer,
            "client_id": "parley-alpha",
            "client_secret": "s3cret",
            "allowed_domains": "alpha.example.org",
            "passwords_allowed": "y",
            "new_users": "refuse",
        },
    )
    assert saved.status_code == 302
    with app.app_context(), tenant_scope(tenant.id):
        settings = db.session.execute(select(SsoSettings)).scalar_one()
        actions = db.session.execute(select(AuditEvent.action)).scalars().all()
    assert settings.label == "Alpha Entra"
    assert settings.allowed_domains == ["alpha.example.org"]
    assert "sso.settings_changed" in actions


def test_a_person_is_known_by_the_providers_subject_not_only_the_address(
    app, client, make_tenant, make_user, oidc_provider
):
    """An address the provider later hands to someone else does not open the old account."""
    tenant = make_tenant("alpha")
    make_user(tenant, "teacher", email="t@alpha.example.org")
    _configure(app, tenant, oidc_provider)
    oidc_provider.add_user("first-person", email="t@alpha.example.org")
    assert _sign_in_through(client, oidc_provider, "alpha", "first-person").status_code == 302
    oidc_provider.add_user("second-person", email="t@alpha.example.org")
    stranger = app.test_client()
    refused = _sign_in_through(stranger, oidc_provider, "alpha", "second-person")
    assert refused.status_code == 403
    assert "linked to another identity" in refused.text
    assert stranger.get("/t/alpha/").status_code == 302


def test_an_answer_naming_another_issuer_is_refused(
    app, client, make_tenant, make_user, oidc_provider
):
    tenant = make_tenant("alpha")
    make_user(tenant, "teacher", email="t@alpha.example.org")
    _teacher_known_as_t1(app, tenant, oidc_provider)
    back = _answer_for(client, oidc_provider)
    mixed_up = client.get(f"{back.path}?{back.query}&iss=https://evil.example.com")
    assert mixed_up.status_code == 400
    assert "another identity provider" in mixed_up.text


def test_a_refused_id_token_is_described_in_our_words_never_its_own(app, oidc_provider):
    """The token and the keys come from the provider: a refusal names the check, not their text."""
    import base64
    import json

    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    canary = "PARLEY-CANARY-91c2"
    claims = {"iss": oidc_provider.issuer, "aud": "parley-alpha", "sub": "x", "nonce": "n"}
    forged = f"{part({'alg': canary, 'kid': canary})}.{part(claims)}.c2ln"
    for jwks in (oidc_provider.jwks(), {"keys": [{"kty": canary, "kid": canary}]}):
        with app.app_context(), pytest.raises(ServiceError) as refused:
            sso.verify_id_token(
                {"id_token": forged},
                jwks=jwks,
                issuer=oidc_provider.issuer,
                client_id="parley-alpha",
                nonce="n",
            )
        assert canary not in refused.value.text()
