"""A district's look in its portal: its name, its two colours, its welcome text and its logo.

The program admin changes these in the portal (they used to need the command line). The
colours are checked for contrast as they are saved, because the portal draws white text
on the brand colour (the header, every button) and uses the brand colour for link text on
white, and the accent marks keyboard focus: a colour that fails there makes the portal
unreadable or unusable for someone, whatever the district's style guide says. Contrast is
computed by ``coloraide`` (WCAG 2.1 relative luminance).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import BinaryIO

from coloraide import Color
from flask import current_app

from app.core import uow
from app.extensions import db
from app.models.tenant import Tenant
from app.services import audit, storage
from app.services.actors import Actor
from app.services.errors import NotFound, ValidationFailed
from app.services.provisioning import COLOR_PATTERN
from app.tenants.context import require_tenant_id

#: White text on the brand colour, and the brand colour as text on white: WCAG AA text.
TEXT_CONTRAST = 4.5
#: The accent draws focus rings and borders against the white page: WCAG AA non-text.
ACCENT_CONTRAST = 3.0
#: A logo is drawn 2rem high in the header: it never needs to be large.
MAX_LOGO_BYTES = 512 * 1024
LOGO_TYPES = {"image/png": "PNG", "image/jpeg": "JPEG"}
MAX_WELCOME = 2000
MAX_NAME = Tenant.name.type.length


@dataclass(frozen=True)
class BrandingInput:
    name: str | None
    primary_color: str | None
    accent_color: str | None
    welcome_text: str | None


def contrast_with_white(color: str) -> float:
    """The WCAG 2.1 contrast ratio of ``color`` against white, e.g. 8.66 for #1f4e79."""
    return Color(color).contrast("white", method="wcag21")


def district() -> Tenant:
    """The district whose portal this is."""
    return db.session.get(Tenant, require_tenant_id())


def save(data: BrandingInput, actor: Actor) -> Tenant:
    """Change the district's name, colours and welcome text, all or nothing."""
    tenant = district()
    values, errors = _checked(data)
    if errors:
        raise ValidationFailed(errors)
    before = {key: getattr(tenant, key) for key in values}
    changed = {key: value for key, value in values.items() if before[key] != value}
    if not changed:
        return tenant
    for key, value in changed.items():
        setattr(tenant, key, value)
    db.session.flush()
    audit.record(
        tenant.id,
        "tenant.branding_changed",
        "tenant",
        tenant.id,
        before={key: before[key] for key in changed},
        after=changed,
        actor=actor,
    )
    return tenant


def _checked(data: BrandingInput) -> tuple[dict, dict[str, list[str]]]:
    errors: dict[str, list[str]] = {}
    name = (data.name or "").strip()
    if not name:
        errors["name"] = ["Enter the district's name."]
    elif len(name) > MAX_NAME:
        errors["name"] = [f"Keep the name to {MAX_NAME} characters."]
    colors = {}
    for key, minimum, where in (
        ("primary_color", TEXT_CONTRAST, "white text on it and as link text"),
        ("accent_color", ACCENT_CONTRAST, "focus rings and borders on the white page"),
    ):
        value = (getattr(data, key) or "").strip().lower()
        if not COLOR_PATTERN.match(value):
            errors[key] = ["Use a colour like #1f4e79."]
            continue
        ratio = contrast_with_white(value)
        if ratio < minimum:
            errors[key] = [
                f"{value} has a contrast of {ratio:.1f}:1 with white; the portal uses it for "
                f"{where}, which needs at least {minimum:g}:1. Choose a darker colour."
            ]
        colors[key] = value
    welcome = (data.welcome_text or "").strip() or None
    if welcome and len(welcome) > MAX_WELCOME:
        errors["welcome_text"] = [f"Keep the welcome text to {MAX_WELCOME:,} characters."]
    return {"name": name, **colors, "welcome_text": welcome}, errors


def set_logo(stream: BinaryIO, filename: str, actor: Actor) -> Tenant:
    """Store a PNG or JPEG as the district's logo; the one it replaces is deleted once the
    change is committed (and the new file again if it is not)."""
    tenant = district()
    stored = storage.save_upload(current_app, tenant.id, stream, filename)
    if stored.content_type not in LOGO_TYPES:
        raise ValidationFailed({"file": ["Upload the logo as a PNG or JPEG image."]})
    if stored.size > MAX_LOGO_BYTES:
        raise ValidationFailed(
            {"file": [f"Keep the logo under {MAX_LOGO_BYTES // 1024} KB; it is drawn small."]}
        )
    return _replace_logo(tenant, stored.key, stored.content_type, actor, bytes=stored.size)


def remove_logo(actor: Actor) -> Tenant:
    tenant = district()
    if tenant.logo_key is None:
        raise NotFound({"file": ["There is no logo to remove."]})
    return _replace_logo(tenant, None, None, actor)


def _replace_logo(
    tenant: Tenant, key: str | None, content_type: str | None, actor: Actor, **noted
) -> Tenant:
    """Point the district at another logo (or none), audited; the old file goes after the
    commit."""
    _forget_after_commit(tenant)
    before = tenant.logo_key
    tenant.logo_key, tenant.logo_type = key, content_type
    db.session.flush()
    audit.record(
        tenant.id,
        "tenant.logo_changed",
        "tenant",
        tenant.id,
        before={"logo": before},
        after={"logo": key, **noted},
        actor=actor,
    )
    return tenant


def _forget_after_commit(tenant: Tenant) -> None:
    if tenant.logo_key is None:
        return
    store, tenant_id, key = storage.storage_for(current_app), tenant.id, tenant.logo_key
    uow.after_commit(lambda: store.delete(tenant_id, key))


#: One transparent pixel: what the logo address shows while the district has none (an
#: image address always answers with an image, and a cached page never shows a broken one).
NO_LOGO = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
)


def logo() -> tuple[BinaryIO, str]:
    """The district's uploaded logo and its type; one transparent pixel when it has none."""
    tenant = district()
    if tenant.logo_key is None:
        return io.BytesIO(NO_LOGO), "image/png"
    stream = storage.storage_for(current_app).open(tenant.id, tenant.logo_key)
    return stream, tenant.logo_type or "application/octet-stream"
