"""Single sign-on through a district's SAML 2.0 identity provider, end to end.

The provider is real (pysaml2's IdP on loopback, with its own key pair): Parley sends the
browser there with an AuthnRequest, the provider answers with a signed assertion posted
to Parley's ACS, and Parley checks it with xmlsec1 against the provider's metadata.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Iterator

import pytest
from saml2.saml import NAMEID_FORMAT_TRANSIENT
from sqlalchemy import select

from app.core import uow
from app.extensions import db
from app.models.audit import AuditEvent
from app.models.sso import SamlAssertionUse, SsoSettings
from app.models.user import User
from app.services import saml_metadata, saml_sso
from app.services.errors import ValidationFailed
from app.tenants.context import tenant_scope
from tests.factories import csrf_token, login
from tests.saml_idp import IdentityProvider, impostor, request_id_in, start

BASE = "http://127.0.0.1:5000"
COOKIE = "parley-saml"


@pytest.fixture
def saml_idp(tmp_path_factory) -> Iterator[IdentityProvider]:
    yield from start(tmp_path_factory, "saml-idp")


@pytest.fixture
def other_saml_idp(tmp_path_factory) -> Iterator[IdentityProvider]:
    """A second, unrelated provider (another district's)."""
    yield from start(tmp_path_factory, "other-saml-idp")


def _sp(slug: str) -> saml_metadata.ServiceProvider:
    return saml_metadata.ServiceProvider(
        f"{BASE}/t/{slug}/sso/saml/metadata", f"{BASE}/t/{slug}/sso/saml/acs"
    )


def _configure(app, client, tenant, idp: IdentityProvider, **overrides) -> None:
    """The district uses ``idp``, which knows Parley by the metadata Parley serves."""
    idp.trust(client.get(f"/t/{tenant.slug}/sso/saml/metadata").text)
    values = {
        "enabled": True,
        "label": f"{tenant.name} accounts",
        "idp_metadata": idp.metadata(),
        "allowed_domains": f"{tenant.slug}.example.org",
        "passwords_allowed": True,
        "new_users": "refuse",
        **overrides,
    }
    with app.app_context(), tenant_scope(tenant.id):
        saml_sso.save_settings(values)
        uow.commit()


def _start(client, slug: str, next_path: str | None = None) -> str:
    start = client.get(f"/t/{slug}/sso/saml/login" + (f"?next={next_path}" if next_path else ""))
    assert start.status_code == 302, start.text
    return start.location


def _events(app, tenant, action: str) -> list[AuditEvent]:
    with app.app_context(), tenant_scope(tenant.id):
        return list(
            db.session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars()
        )


def _text(response) -> str:
    """The page as a person reads it (the apostrophes unescaped)."""
    return html.unescape(response.get_data(as_text=True))


def _signed_in(client, slug: str) -> bool:
    return client.get(f"/t/{slug}/").status_code == 200


@pytest.fixture
def alpha(app, client, make_tenant, make_user, saml_idp):
    """District alpha on SAML, a teacher in it, and the provider knowing her as ``t-1``."""
    tenant = make_tenant("alpha")
    teacher = make_user(tenant, "teacher", email="t@alpha.example.org")
    _configure(app, client, tenant, saml_idp)
    saml_idp.add_user("t-1", mail=teacher.email, displayName="Tess Teacher")
    return tenant, teacher


def test_a_saml_district_signs_in(app, client, alpha, saml_idp):
    tenant, teacher = alpha
    page = client.get("/t/alpha/login")
    assert "Sign in with Alpha Public Schools accounts" in _text(page)
    assert "/t/alpha/sso/saml/login" in _text(page)
    location = _start(client, "alpha", next_path="/t/alpha/cases")
    assert location.startswith(saml_idp.sso_url + "?SAMLRequest=")
    answer = saml_idp.authorize(location, "t-1")
    assert answer.action == f"{BASE}/t/alpha/sso/saml/acs"
    response = client.post(answer.path, data=answer.form())
    assert response.status_code == 302, response.text
    assert response.location == "/t/alpha/cases"
    assert _signed_in(client, "alpha")
    [event] = _events(app, tenant, "auth.login")
    assert event.after["issuer"] == saml_idp.entity_id
    assert event.after["subject"] == "t-1"
    with app.app_context(), tenant_scope(tenant.id):
        assert db.session.get(User, teacher.id).sso_subject == "t-1"


def test_the_old_door_leads_a_saml_district_to_its_provider(client, alpha, saml_idp):
    start = client.get("/t/alpha/sso/start")
    assert start.status_code == 302
    assert start.location.startswith("/t/alpha/sso/saml/login")


def _altered(saml_response: str) -> str:
    """The same signed answer with the address changed after signing."""
    xml = base64.b64decode(saml_response).decode()
    assert "t@alpha.example.org" in xml
    return base64.b64encode(xml.replace("t@alpha", "admin@alpha").encode()).decode()


@pytest.mark.parametrize("forgery", ["another key", "altered after signing", "unsigned"])
def test_a_forged_assertion_is_refused(app, client, make_user, alpha, saml_idp, forgery):
    tenant, _ = alpha
    make_user(tenant, "program_admin", email="admin@alpha.example.org")
    location = _start(client, "alpha")
    request_id = request_id_in(location)
    sp = _sp("alpha")
    kwargs = {"acs_url": sp.acs_url, "audience": sp.entity_id}
    if forgery == "another key":
        forged = impostor(saml_idp).answer(request_id, "t-1", **kwargs)
    elif forgery == "altered after signing":
        forged = _altered(saml_idp.answer(request_id, "t-1", **kwargs))
    else:
        forged = saml_idp.answer(request_id, "t-1", sign=False, **kwargs)
    response = client.post("/t/alpha/sso/saml/acs", data={"SAMLResponse": forged})
    assert response.status_code == 401, response.text
    assert "not signed by the district's identity provider" in _text(response)
    assert not _signed_in(client, "alpha")
    [event] = _events(app, tenant, "auth.login_failed")
    assert event.after == {"channel": "saml", "reason": "signature", "issuer": saml_idp.entity_id}
    assert _events(app, tenant, "auth.login") == []


def test_a_replayed_assertion_is_refused(app, client, alpha, saml_idp):
    tenant, _ = alpha
    answer = saml_idp.authorize(_start(client, "alpha"), "t-1")
    # Whoever copies the browser's cookie and the posted answer tries them again.
    pending = client.get_cookie(COOKIE, path="/t/alpha/sso/saml/").value
    assert client.post(answer.path, data=answer.form()).status_code == 302
    thief = app.test_client()
    thief.set_cookie(COOKIE, pending, path="/t/alpha/sso/saml/")
    replayed = thief.post(answer.path, data=answer.form())
    assert replayed.status_code == 400
    assert "already used" in _text(replayed)
    assert not _signed_in(thief, "alpha")
    [event] = _events(app, tenant, "auth.login_failed")
    assert event.after["reason"] == "replayed"
    with app.app_context(), tenant_scope(tenant.id):
        assert len(db.session.execute(select(SamlAssertionUse)).all()) == 1


def test_the_cookie_of_a_started_sign_in_is_spent_by_its_answer(client, alpha, saml_idp):
    answer = saml_idp.authorize(_start(client, "alpha"), "t-1")
    assert client.post(answer.path, data=answer.form()).status_code == 302
    assert client.get_cookie(COOKIE, path="/t/alpha/sso/saml/") is None


def test_an_assertion_signed_with_sha1_is_refused(app, client, alpha, saml_idp):
    tenant, _ = alpha
    location = _start(client, "alpha")
    sp = _sp("alpha")
    weak = saml_idp.answer(
        request_id_in(location), "t-1", acs_url=sp.acs_url, audience=sp.entity_id, sha1=True
    )
    response = client.post("/t/alpha/sso/saml/acs", data={"SAMLResponse": weak})
    assert response.status_code == 401
    assert "weak algorithm (SHA-1)" in _text(response)
    assert not _signed_in(client, "alpha")
    [event] = _events(app, tenant, "auth.login_failed")
    assert event.after["reason"] == "weak signature"


def test_an_assertion_for_another_audience_is_refused(app, client, alpha, saml_idp):
    tenant, _ = alpha
    location = _start(client, "alpha")
    other = "https://another-service.example.org/saml"
    forged = saml_idp.answer(
        request_id_in(location), "t-1", acs_url=_sp("alpha").acs_url, audience=other
    )
    response = client.post("/t/alpha/sso/saml/acs", data={"SAMLResponse": forged})
    assert response.status_code == 401
    assert "meant for another service" in _text(response)
    assert not _signed_in(client, "alpha")
    [event] = _events(app, tenant, "auth.login_failed")
    assert event.after["reason"] == "audience"


def test_an_assertion_sent_to_another_address_is_refused(app, client, alpha, saml_idp):
    location = _start(client, "alpha")
    forged = saml_idp.answer(
        request_id_in(location),
        "t-1",
        acs_url="https://elsewhere.example.org/acs",
        audience=_sp("alpha").entity_id,
    )
    response = client.post("/t/alpha/sso/saml/acs", data={"SAMLResponse": forged})
    assert response.status_code == 401
    assert "addressed to another place" in _text(response)
    assert not _signed_in(client, "alpha")


def test_another_districts_assertion_is_refused(
    app, client, make_tenant, make_user, alpha, saml_idp, other_saml_idp
):
    """Beta's provider signs a genuine answer to beta's own sign-in; alpha refuses it, both
    when alpha's browser posts it to alpha and when it answers alpha's request."""
    tenant, _ = alpha
    beta = make_tenant("beta")
    make_user(beta, "teacher", email="t@alpha.example.org")
    beta_browser = app.test_client()
    _configure(app, beta_browser, beta, other_saml_idp, allowed_domains="")
    other_saml_idp.add_user("t-1", mail="t@alpha.example.org")
    betas = other_saml_idp.authorize(_start(beta_browser, "beta"), "t-1")
    _start(client, "alpha")
    refused = client.post("/t/alpha/sso/saml/acs", data={"SAMLResponse": betas.saml_response})
    assert refused.status_code in (400, 401)
    assert not _signed_in(client, "alpha")
    # Even made for alpha's request, audience and address, beta's provider is not alpha's.
    location = _start(client, "alpha")
    sp = _sp("alpha")
    forged = other_saml_idp.answer(
        request_id_in(location), "t-1", acs_url=sp.acs_url, audience=sp.entity_id
    )
    refused = client.post("/t/alpha/sso/saml/acs", data={"SAMLResponse": forged})
    assert refused.status_code == 401
    assert not _signed_in(client, "alpha")
    reasons = [e.after["reason"] for e in _events(app, tenant, "auth.login_failed")]
    assert len(reasons) == 2 and reasons[1] == "signature"
    # Beta's own answer still signs its person in at beta: the refusals were alpha's.
    assert beta_browser.post(betas.path, data=betas.form()).status_code == 302


def test_an_answer_to_a_sign_in_this_browser_never_started_is_refused(app, client, alpha, saml_idp):
    """Login CSRF: an answer pushed into someone else's browser finds no request to match."""
    tenant, _ = alpha
    attacker = app.test_client()
    answer = saml_idp.authorize(_start(attacker, "alpha"), "t-1")
    victim = client.post(answer.path, data=answer.form())
    assert victim.status_code == 400
    assert "not started here" in _text(victim)
    assert not _signed_in(client, "alpha")
    # Another sign-in of the victim's own does not make the attacker's answer fit it.
    _start(client, "alpha")
    mismatched = client.post(answer.path, data=answer.form())
    assert mismatched.status_code == 400
    assert "does not belong to this sign-in" in _text(mismatched)
    reasons = [e.after["reason"] for e in _events(app, tenant, "auth.login_failed")]
    assert reasons == ["unsolicited"]


def test_a_transient_name_cannot_find_the_person_again(app, client, alpha, saml_idp):
    location = _start(client, "alpha")
    sp = _sp("alpha")
    answer = saml_idp.answer(
        request_id_in(location),
        "t-1",
        acs_url=sp.acs_url,
        audience=sp.entity_id,
        name_id_format=NAMEID_FORMAT_TRANSIENT,
    )
    response = client.post("/t/alpha/sso/saml/acs", data={"SAMLResponse": answer})
    assert response.status_code == 401
    assert "transient NameID" in _text(response)


def test_someone_with_no_account_is_refused_as_with_openid_connect(app, client, alpha, saml_idp):
    saml_idp.add_user("new-1", mail="new@alpha.example.org")
    answer = saml_idp.authorize(_start(client, "alpha"), "new-1")
    response = client.post(answer.path, data=answer.form())
    assert response.status_code == 403
    assert "no active account in this district" in _text(response)


def test_garbage_in_place_of_an_answer_is_a_refusal_not_an_error(client, alpha, saml_idp):
    for junk in ("", "not base64 at all", base64.b64encode(b"<nope/>").decode(), "\u00e9" * 50):
        _start(client, "alpha")
        response = client.post("/t/alpha/sso/saml/acs", data={"SAMLResponse": junk})
        assert 400 <= response.status_code < 500, (junk, response.status_code)
        assert not _signed_in(client, "alpha")


def test_parleys_metadata_names_the_district_entity_and_acs(client, make_tenant):
    make_tenant("gamma")
    response = client.get("/t/gamma/sso/saml/metadata")
    assert response.status_code == 200
    assert response.mimetype == "application/samlmetadata+xml"
    assert f'entityID="{BASE}/t/gamma/sso/saml/metadata"' in _text(response)
    assert f'Location="{BASE}/t/gamma/sso/saml/acs"' in _text(response)
    assert 'WantAssertionsSigned="true"' in _text(response)
    assert "md5" not in _text(response)


def test_metadata_is_validated_with_clear_errors(app, make_tenant, saml_idp):
    tenant = make_tenant("delta")
    good = saml_idp.metadata()
    no_key = good.split("<ns0:KeyDescriptor")[0] + good[good.index("</ns0:KeyDescriptor>") + 20 :]
    cases = {
        "": "Paste the identity provider's metadata",
        "<html>nope</html>": "not SAML 2.0 metadata",
        no_key: "no signing certificate",
        "x" * (saml_metadata.MAX_METADATA_BYTES + 10): "larger than 512 KB",
    }
    for metadata, message in cases.items():
        with app.app_context(), tenant_scope(tenant.id), pytest.raises(ValidationFailed) as bad:
            saml_sso.save_settings({"idp_metadata": metadata, "passwords_allowed": True})
        assert message in bad.value.text(), (metadata[:40], bad.value.text())
    with app.app_context(), tenant_scope(tenant.id):
        assert db.session.execute(select(SsoSettings)).first() is None


def test_the_admin_page_sets_saml_up_and_shows_parleys_addresses(
    app, client, make_tenant, make_user, saml_idp
):
    tenant = make_tenant("alpha")
    admin = make_user(tenant, "program_admin")
    login(client, tenant, admin)
    page = client.get("/t/alpha/admin/sso")
    assert page.status_code == 200
    assert f"{BASE}/t/alpha/sso/saml/acs" in _text(page)
    assert f"{BASE}/t/alpha/sso/saml/metadata" in _text(page)
    token = csrf_token(page.text)
    refused = client.post(
        "/t/alpha/admin/sso/saml",
        data={
            "saml-csrf_token": token,
            "saml-idp_metadata": "<md>not metadata</md>",
            "saml-new_users": "refuse",
        },
    )
    assert refused.status_code == 422
    assert "not SAML 2.0 metadata" in _text(refused)
    saved = client.post(
        "/t/alpha/admin/sso/saml",
        data={
            "saml-csrf_token": token,
            "saml-enabled": "y",
            "saml-label": "Alpha ADFS",
            "saml-idp_metadata": saml_idp.metadata(),
            "saml-allowed_domains": "alpha.example.org",
            "saml-passwords_allowed": "y",
            "saml-new_users": "refuse",
        },
    )
    assert saved.status_code == 302, saved.text
    with app.app_context(), tenant_scope(tenant.id):
        settings = db.session.execute(select(SsoSettings)).scalar_one()
    assert (settings.protocol, settings.issuer, settings.label) == (
        "saml",
        saml_idp.entity_id,
        "Alpha ADFS",
    )
    shown = client.get("/t/alpha/admin/sso")
    assert "SAML 2.0, offered on the sign-in page" in _text(shown)
    assert _text(shown).index("SAML 2.0 (ADFS") < _text(shown).index("OpenID Connect (Google")
    assert saml_idp.sso_url in _text(shown)
    [event] = _events(app, tenant, "sso.settings_changed")
    assert event.after["protocol"] == "saml" and event.after["idp"] == saml_idp.entity_id
    assert "Sign in with Alpha ADFS" in app.test_client().get("/t/alpha/login").text


def test_the_metadata_file_may_be_uploaded(app, client, make_tenant, make_user, saml_idp):
    import io

    tenant = make_tenant("alpha")
    login(client, tenant, make_user(tenant, "program_admin"))
    token = csrf_token(client.get("/t/alpha/admin/sso").text)
    saved = client.post(
        "/t/alpha/admin/sso/saml",
        data={
            "saml-csrf_token": token,
            "saml-idp_metadata_file": (io.BytesIO(saml_idp.metadata().encode()), "idp.xml"),
            "saml-passwords_allowed": "y",
            "saml-new_users": "refuse",
        },
        content_type="multipart/form-data",
    )
    assert saved.status_code == 302, saved.text
    with app.app_context(), tenant_scope(tenant.id):
        assert db.session.execute(select(SsoSettings.issuer)).scalar_one() == saml_idp.entity_id


def test_moving_from_saml_to_openid_connect_forgets_saml_and_its_links(
    app, client, make_user, alpha, saml_idp, oidc_provider
):
    tenant, teacher = alpha
    answer = saml_idp.authorize(_start(client, "alpha"), "t-1")
    assert client.post(answer.path, data=answer.form()).status_code == 302
    admin = make_user(tenant, "program_admin")
    browser = app.test_client()
    login(browser, tenant, admin)
    page = browser.get("/t/alpha/admin/sso")
    assert "Saving this form makes OpenID Connect the district's single sign-on" in _text(page)
    refused = browser.post(
        "/t/alpha/admin/sso",
        data={
            "csrf_token": csrf_token(page.text),
            "issuer": oidc_provider.issuer,
            "client_id": "parley-alpha",
            "new_users": "refuse",
        },
    )
    # Moving protocols starts afresh: the client secret is asked for, and nothing changed.
    assert refused.status_code == 422
    assert "Enter the client secret." in _text(refused)
    with app.app_context(), tenant_scope(tenant.id):
        assert db.session.execute(select(SsoSettings.protocol)).scalar_one() == "saml"
        assert db.session.get(User, teacher.id).sso_subject == "t-1"
    moved = browser.post(
        "/t/alpha/admin/sso",
        data={
            "csrf_token": csrf_token(page.text),
            "enabled": "y",
            "issuer": oidc_provider.issuer,
            "client_id": "parley-alpha",
            "client_secret": "alpha-secret",
            "passwords_allowed": "y",
            "new_users": "refuse",
        },
    )
    assert moved.status_code == 302, moved.text
    with app.app_context(), tenant_scope(tenant.id):
        settings = db.session.execute(select(SsoSettings)).scalar_one()
        assert (settings.protocol, settings.saml_idp_metadata) == ("oidc", None)
        assert db.session.get(User, teacher.id).sso_subject is None
    [change] = _events(app, tenant, "sso.protocol_changed")
    assert change.after == {"protocol": "oidc", "links_forgotten": 1}
    assert "/t/alpha/sso/start" in app.test_client().get("/t/alpha/login").text
