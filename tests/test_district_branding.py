"""A program admin gives the district its look in the portal: name, colours checked for
contrast, welcome text and an uploaded logo, each change audited."""

from __future__ import annotations

import io
import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.audit import AuditEvent
from app.models.tenant import Tenant
from app.services import branding
from app.tenants.context import tenant_scope
from tests.casework import Browser, errors_beside

#: The smallest valid PNG: one transparent pixel.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)
PAGE = "/admin/branding"


@pytest.fixture
def boston(district):
    return district("boston", "boston_esp")


def _tenant(app, d) -> Tenant:
    with app.app_context():
        row = db.session.get(Tenant, d.tenant.id)
        db.session.expunge(row)
        return row


def _events(app, d, action: str) -> list[AuditEvent]:
    with app.app_context(), tenant_scope(d.tenant.id):
        return list(
            db.session.execute(select(AuditEvent).where(AuditEvent.action == action)).scalars()
        )


def _look(**values) -> dict:
    return {
        "name": "Boston Public Schools",
        "primary_color": "#00447c",
        "accent_color": "#c8102e",
        "welcome_text": "",
        **values,
    }


def test_the_admin_saves_name_colours_and_welcome_and_every_page_wears_them(app, boston):
    admin = Browser(app, boston, boston.people["admin"])
    response = admin.post(PAGE, PAGE, _look(welcome_text="Coaching that feels fair."))
    assert response.status_code == 302, response.text
    tenant = _tenant(app, boston)
    assert (tenant.name, tenant.primary_color, tenant.welcome_text) == (
        "Boston Public Schools",
        "#00447c",
        "Coaching that feels fair.",
    )
    css = app.test_client().get(f"/t/{boston.slug}/theme.css").text
    assert "--brand: #00447c" in css
    [event] = _events(app, boston, "tenant.branding_changed")
    assert event.after["primary_color"] == "#00447c"


def test_a_colour_too_light_for_white_text_is_refused_beside_it_and_nothing_changes(app, boston):
    before = _tenant(app, boston)
    admin = Browser(app, boston, boston.people["admin"])
    response = admin.post(PAGE, PAGE, _look(primary_color="#fdb913", accent_color="#ffff00"))
    assert response.status_code == 422
    brand = errors_beside(response.text, "primary_color")
    assert "#fdb913 has a contrast of 1.7:1 with white" in brand
    assert "at least 4.5:1" in brand
    assert "at least 3:1" in errors_beside(response.text, "accent_color")
    after = _tenant(app, boston)
    assert (after.name, after.primary_color) == (before.name, before.primary_color)
    assert _events(app, boston, "tenant.branding_changed") == []


def test_an_uploaded_logo_shows_in_the_header_and_a_new_one_replaces_it(app, boston):
    admin = Browser(app, boston, boston.people["admin"])
    uploaded = admin.post(
        PAGE,
        f"{PAGE}/logo",
        {"file": (io.BytesIO(PNG), "logo.png")},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302, uploaded.text
    home = admin.get("/").text
    [src] = re.findall(r'<img src="([^"]+)" alt="" class="brand-logo">', home)
    logo = app.test_client().get(src)
    assert logo.status_code == 200 and logo.mimetype == "image/png" and logo.data == PNG
    first_key = _tenant(app, boston).logo_key

    admin.post(
        PAGE,
        f"{PAGE}/logo",
        {"file": (io.BytesIO(PNG), "new.png")},
        content_type="multipart/form-data",
    )
    assert _tenant(app, boston).logo_key != first_key
    assert len(_events(app, boston, "tenant.logo_changed")) == 2

    removed = admin.post(PAGE, f"{PAGE}/logo/remove", {})
    assert removed.status_code == 302
    assert _tenant(app, boston).logo_key is None
    assert app.test_client().get(f"/t/{boston.slug}/logo").data == branding.NO_LOGO
    assert 'class="brand-logo"' not in admin.get("/").text


def test_a_logo_that_is_not_an_image_is_refused_beside_the_field(app, boston):
    admin = Browser(app, boston, boston.people["admin"])
    response = admin.post(
        PAGE,
        f"{PAGE}/logo",
        {"file": (io.BytesIO(b"%PDF-1.4\n%%EOF\n"), "logo.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "PNG or JPEG" in errors_beside(response.text, "file")
    assert _tenant(app, boston).logo_key is None


def test_only_the_program_admin_changes_the_look(app, boston):
    coordinator = Browser(app, boston, boston.people["coordinator"])
    assert coordinator.get(PAGE).status_code == 403
