"""Creating a district: the tenant row, its branding, its document signing key and its
starting program.

A service like any other (the platform console, the CLI and the demo call it); the tenant
layer only resolves and scopes districts, it never creates them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.models.tenant import Tenant
from app.services import audit
from app.services.actors import Actor
from app.services.errors import Conflict, ValidationFailed
from app.tenants.resolution import SLUG_PATTERN

COLOR_PATTERN = re.compile(r"^#[0-9a-fA-F]{6}$")
RESERVED_SLUGS = frozenset({"api", "ops", "network", "static", "webhooks", "admin", "www"})


@dataclass(frozen=True)
class Branding:
    primary_color: str = "#1f4e79"
    accent_color: str = "#c8102e"
    logo_url: str | None = None
    welcome_text: str | None = None


def _check(slug: str, name: str, branding: Branding) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not SLUG_PATTERN.match(slug):
        errors["slug"] = [
            "Use 2-63 lower-case letters, digits or hyphens, starting with a letter or digit."
        ]
    elif slug in RESERVED_SLUGS:
        errors["slug"] = [f"'{slug}' is reserved."]
    if not name.strip():
        errors["name"] = ["Enter the district's name."]
    for field in ("primary_color", "accent_color"):
        if not COLOR_PATTERN.match(getattr(branding, field)):
            errors[field] = ["Use a colour like #1f4e79."]
    if branding.logo_url and not branding.logo_url.startswith(("https://", "/static/")):
        errors["logo_url"] = ["Use an https:// address or a /static/ path."]
    return errors


def create_tenant(
    slug: str,
    name: str,
    *,
    branding: Branding | None = None,
    preset: str | None = None,
    timezone: str = "America/New_York",
    actor: Actor | None = None,
) -> Tenant:
    """Create a district (flushes; the caller commits). Errors name the field."""
    branding = branding or Branding()
    slug = slug.strip().lower()
    errors = _check(slug, name, branding)
    if errors:
        raise ValidationFailed(errors)
    if db.session.execute(select(Tenant.id).where(Tenant.slug == slug)).first():
        raise Conflict({"slug": [f"A district with the short name '{slug}' exists already."]})
    tenant = Tenant(
        slug=slug,
        name=name.strip(),
        primary_color=branding.primary_color,
        accent_color=branding.accent_color,
        logo_url=branding.logo_url,
        welcome_text=branding.welcome_text,
        timezone=timezone,
        preset_key=preset,
    )
    db.session.add(tenant)
    db.session.flush()
    audit.record(
        tenant.id,
        "tenant.created",
        "tenant",
        tenant.id,
        after={"slug": slug, "name": tenant.name, "preset": preset},
        actor=actor or Actor.system("provisioning"),
    )
    from app.services.billing import request_customer

    request_customer(tenant)
    from app.services import document_signing
    from app.tenants.context import tenant_scope

    with tenant_scope(tenant.id):
        # The district signs its documents from its first day (``document_signing.sign_pdf``).
        document_signing.current_key()
        if preset:
            from app.services import workflow_config

            workflow_config.start_from_preset(preset, actor or Actor.system("provisioning"))
    return tenant
