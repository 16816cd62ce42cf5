"""Every address stored for a person passes one check: no hidden characters, real syntax.

A right-to-left override (U+202E) or a zero-width space makes an address display as
another one; a name with no dot after the @ cannot receive mail. Imports name the line
and column, forms the field, the API the key; nothing is written.
"""

from __future__ import annotations

import io
import re
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from app.core import uow
from app.extensions import db
from app.models.case import Case
from app.models.user import User
from app.services import sso
from app.tenants.context import tenant_scope
from tests.casework import Api, Browser
from tests.factories import csrf_token

HEADER = (
    "external_id,teacher_name,teacher_email,school,track,consulting_teacher_email,"
    "requested_on,started_on,ended_on,outcome\n"
)
ROW = "{id},Ann Able,{teacher},Adams,peer_assistance,{ct},2009-08-20,2009-09-10,,\n"
GOOD_ROW = ROW.format(id="B-001", teacher="ann@bps.org", ct="")
RLO = "\u202e"
#: Accepted by a bare "has an @" check or by marshmallow's Email field, refused by ours.
BAD = [
    pytest.param(f"gro.spb{RLO}@ann.org", "U+202E", id="rlo-local"),
    pytest.param(f"ann@bps.org{RLO}", "U+202E", id="rlo-after-domain"),
    pytest.param("ann\u2066@bps.org", "U+2066", id="bidi-isolate"),
    pytest.param("ann\u200b@bps.org", "U+200B", id="zero-width-space"),
    pytest.param("ann@localhost", "should have a period", id="no-dot"),
    pytest.param("ann@bps.local", "special-use or reserved name", id="special-use"),
    pytest.param("ann@@bps.org", "", id="two-at-signs"),
]
ENROLLMENT = {
    "name": "Pat Teacher",
    "school": "Lincoln Elementary",
    "track": "pa",
    "letter": "I would like a second set of eyes on my classroom management.",
}


@pytest.fixture
def pap(district):
    return district("bostonpap", "boston_pap_2007")


@pytest.fixture
def boston(district):
    return district("boston", "boston_esp")


def _import(app, d, text: str):
    return Api(app, d, d.people["coordinator"]).post(
        "/imports/cases",
        data={"file": (io.BytesIO(text.encode()), "cases.csv")},
        content_type="multipart/form-data",
    )


def _people(app, d) -> int:
    with app.app_context(), tenant_scope(d.tenant.id):
        return db.session.execute(select(func.count(User.id))).scalar_one()


def _cases(app, d) -> int:
    with app.app_context(), tenant_scope(d.tenant.id):
        return db.session.execute(select(func.count(Case.id))).scalar_one()


@pytest.mark.parametrize(("address", "named"), BAD)
def test_an_import_refuses_a_bad_teacher_email_naming_line_and_column(app, pap, address, named):
    people = _people(app, pap)
    response = _import(app, pap, HEADER + GOOD_ROW + ROW.format(id="B-2", teacher=address, ct=""))
    assert response.status_code == 422, response.json
    [message] = response.json["errors"]["rows[3].teacher_email"]
    assert message.startswith("is not a valid e-mail address: ") and named in message
    assert RLO not in message
    assert (_cases(app, pap), _people(app, pap)) == (0, people)


@pytest.mark.parametrize(("address", "named"), BAD[:3])
def test_an_import_refuses_a_bad_consulting_teacher_email(app, pap, address, named):
    response = _import(
        app, pap, HEADER + GOOD_ROW + ROW.format(id="B-2", teacher="ben@bps.org", ct=address)
    )
    assert response.status_code == 422, response.json
    [message] = response.json["errors"]["rows[3].consulting_teacher_email"]
    assert named in message
    assert _cases(app, pap) == 0


def test_an_import_stores_addresses_in_lower_case(app, pap):
    response = _import(app, pap, HEADER + ROW.format(id="B-1", teacher=" Ann@BPS.org ", ct=""))
    assert response.status_code == 200, response.json
    with app.app_context(), tenant_scope(pap.tenant.id):
        assert db.session.execute(select(User.email).where(User.name == "Ann Able")).scalar() == (
            "ann@bps.org"
        )


@pytest.mark.parametrize(("address", "named"), BAD)
def test_the_user_api_refuses_a_bad_email(app, pap, address, named):
    api = Api(app, pap, pap.people["admin"])
    people = _people(app, pap)
    response = api.post("/users", json={"email": address, "name": "Ann", "roles": ["teacher"]})
    assert response.status_code == 422, response.json
    [message] = response.json["errors"]["email"]
    assert named in message
    assert _people(app, pap) == people


@pytest.mark.parametrize(("address", "named"), BAD[:3])
def test_the_new_user_form_refuses_a_bad_email(app, pap, address, named):
    admin = Browser(app, pap, pap.people["admin"])
    people = _people(app, pap)
    response = admin.post(
        "/admin/users/new",
        "/admin/users/new",
        {"name": "Ann Able", "email": address, "roles": ["teacher"]},
    )
    # The service's one check answers, beside the field, naming what is wrong.
    assert response.status_code == 422
    assert 'id="email-errors"' in response.text and named in response.text
    assert _people(app, pap) == people


@pytest.mark.parametrize(("address", "named"), BAD)
def test_an_enrollment_over_the_api_refuses_a_bad_email(app, boston, address, named):
    api = Api(app, boston, boston.people["coordinator"])
    people = _people(app, boston)
    response = api.post("/enrollments", json={**ENROLLMENT, "email": address})
    assert response.status_code == 422, response.json
    assert named in response.json["errors"]["email"][0]
    assert (_cases(app, boston), _people(app, boston)) == (0, people)


@pytest.mark.parametrize(("address", "named"), BAD[:3])
def test_the_enrollment_form_refuses_a_bad_email(app, boston, address, named):
    client = app.test_client()
    page = client.get(f"/t/{boston.slug}/enroll")
    response = client.post(
        f"/t/{boston.slug}/enroll",
        data={**ENROLLMENT, "email": address, "csrf_token": csrf_token(page.text)},
    )
    assert response.status_code == 422
    assert re.search(r'<ul class="errors" id="email-errors">', response.text)
    assert named in response.text
    assert _cases(app, boston) == 0


def test_the_command_line_refuses_a_bad_email(app, pap):
    command = ["users", "create", "--tenant", pap.slug, "--email", f"ann@bps.org{RLO}"]
    options = ["--name", "Ann", "--role", "teacher", "--password", "correct horse battery"]
    with app.app_context():
        result = CliRunner().invoke(app.cli, [*command, *options])
    assert result.exit_code == 1, result.output
    assert "U+202E" in result.output
    with app.app_context(), tenant_scope(pap.tenant.id):
        assert not db.session.execute(select(User).where(User.name == "Ann")).first()


def test_single_sign_on_never_creates_a_person_with_a_hidden_character(
    app, client, make_tenant, oidc_provider
):
    tenant = make_tenant("alpha")
    with app.app_context():
        sso.save_settings(
            tenant.id,
            {
                "enabled": True,
                "label": "Alpha",
                "issuer": oidc_provider.issuer,
                "client_id": "parley-alpha",
                "client_secret": "alpha-client-secret",
                "allowed_domains": "alpha.example.org",
                "passwords_allowed": True,
                "new_users": "pending",
            },
        )
        uow.commit()
    oidc_provider.add_user("new-1", email=f"gro.elpmaxe.ahpla{RLO}@alpha.example.org")
    start = client.get("/t/alpha/sso/start")
    back = urlsplit(oidc_provider.authorize(start.location, "new-1"))
    response = client.get(f"{back.path}?{back.query}")
    assert response.status_code == 403
    assert "not a valid e-mail address" in response.text
    with app.app_context(), tenant_scope(tenant.id):
        assert db.session.execute(select(User)).first() is None
