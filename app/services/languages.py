"""The languages a district offers and the one each person reads in, both audited.

A district offers English always, and Spanish or Haitian Creole when its program admin
says so; a person picks among the district's languages. Both are choices about what
people read, so each change leaves an audit event like any other setting.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.extensions import db
from app.i18n import DEFAULT, LANGUAGES, best
from app.models.tenant import Tenant
from app.models.user import User
from app.services import audit
from app.services.actors import Actor
from app.services.errors import ValidationFailed
from app.tenants.context import require_tenant_id


def set_offered(codes: Iterable[str], actor: Actor) -> list[str]:
    """Offer ``codes`` (English is always added, first); unknown codes are refused."""
    asked = list(dict.fromkeys(codes))
    unknown = [code for code in asked if code not in LANGUAGES]
    if unknown:
        raise ValidationFailed(
            {"languages": [f"Parley has no translation for: {', '.join(sorted(unknown))}."]}
        )
    chosen = [DEFAULT, *(code for code in LANGUAGES if code in asked and code != DEFAULT)]
    tenant = db.session.get(Tenant, require_tenant_id())
    _change(tenant, "languages", chosen, "tenant.languages_changed", "tenant", actor)
    return chosen


def set_preference(user: User, code: str, actor: Actor) -> str:
    """Store the language ``user`` reads the portal and their mail in."""
    if best(code, db.session.get(Tenant, require_tenant_id())) is None:
        raise ValidationFailed({"language": ["Choose one of the district's languages."]})
    _change(user, "preferred_language", code, "user.language_changed", "user", actor)
    return code


def _change(row, key: str, value, action: str, object_type: str, actor: Actor) -> None:
    """Set one column and audit it, unless it already holds ``value``."""
    before = getattr(row, key)
    if before == value:
        return
    setattr(row, key, value)
    db.session.flush()
    audit.record(
        require_tenant_id(),
        action,
        object_type,
        row.id,
        before={key: before},
        after={key: value},
        actor=actor,
    )
