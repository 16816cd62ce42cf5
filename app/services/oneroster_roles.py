"""Which Parley role each OneRoster role grants in a district: the program admin's mapping.

A OneRoster role the mapping does not name grants nothing. No mapping can grant the
program-admin or the final-authority (superintendent) role: those give the run of the
program and its decisions, and stay in the program admin's own hands.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from app.extensions import db
from app.models.base import utcnow
from app.models.oneroster import OneRosterRoleMapping
from app.security.roles import TENANT_ROLE_KEYS
from app.services import audit
from app.services.actors import Actor
from app.services.errors import ValidationFailed
from app.services.oneroster_bundle import PERSONNEL_ROLES
from app.tenants.context import require_tenant_id

#: Parley roles an import never grants, whatever the mapping says.
NEVER_MAPPED: frozenset[str] = frozenset({"program_admin", "final_authority"})
#: The Parley roles a OneRoster role may be mapped to.
MAPPABLE: frozenset[str] = TENANT_ROLE_KEYS - NEVER_MAPPED

#: How the page names each OneRoster role (the standard's own word in brackets).
SOURCE_LABELS: dict[str, str] = {
    "administrator": "Administrator",
    "aide": "Aide",
    "counselor": "Counselor",
    "districtAdministrator": "District administrator",
    "principal": "Principal",
    "proctor": "Proctor",
    "siteAdministrator": "School (site) administrator",
    "systemAdministrator": "System administrator",
    "teacher": "Teacher",
}


def mapping() -> dict[str, str]:
    """The district's mapping, OneRoster role -> Parley role; unmapped roles are absent.
    A role that can no longer be mapped (stored before it was refused) is left out."""
    rows = db.session.execute(select(OneRosterRoleMapping)).scalars()
    return {r.source_role: r.role for r in rows if r.role in MAPPABLE}


def save_mapping(choices: Mapping[str, str | None], actor: Actor) -> dict[str, str]:
    """Replace the district's mapping (a OneRoster role with no choice grants nothing);
    audited with the mapping before and after. Refuses a role no mapping may grant."""
    errors: dict[str, list[str]] = {}
    wanted: dict[str, str] = {}
    for source, role in choices.items():
        if source not in PERSONNEL_ROLES:
            errors[source] = [f"'{source}' is not a OneRoster staff role."]
        elif role in NEVER_MAPPED:
            errors[source] = [
                "No OneRoster role can grant the program administrator or final authority "
                "role; grant it to the person on their page."
            ]
        elif role and role not in MAPPABLE:
            errors[source] = [f"'{role}' is not a Parley role."]
        elif role:
            wanted[source] = role
    if errors:
        raise ValidationFailed(errors)
    tenant_id = require_tenant_id()
    rows = {r.source_role: r for r in db.session.execute(select(OneRosterRoleMapping)).scalars()}
    before = {source: row.role for source, row in rows.items()}
    if before == wanted:
        return wanted
    for source, row in rows.items():
        if source not in wanted:
            db.session.delete(row)
        elif row.role != wanted[source]:
            row.role, row.updated_at = wanted[source], utcnow()
    for source, role in wanted.items():
        if source not in rows:
            db.session.add(OneRosterRoleMapping(tenant_id=tenant_id, source_role=source, role=role))
    db.session.flush()
    audit.record(
        tenant_id,
        "oneroster.mapping_saved",
        "oneroster_role_mapping",
        None,
        before={"mapping": dict(sorted(before.items()))},
        after={"mapping": dict(sorted(wanted.items()))},
        actor=actor,
    )
    return wanted
