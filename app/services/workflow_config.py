"""A district's program configuration: the draft, publishing, versions and their diffs.

Only valid documents are stored: a draft that fails validation is refused with
every error by path and nothing changes. Publishing freezes a copy under the
next number; cases keep the version they started under.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import func, select

from app.extensions import db
from app.models.base import utcnow
from app.models.case import Case
from app.models.workflow import DRAFT, PUBLISHED, WorkflowVersion
from app.services import audit
from app.services.actors import Actor, current_actor
from app.services.errors import NotFound, ValidationFailed
from app.tenants.context import require_tenant_id
from app.tenants.scoping import scoped
from app.workflows import (
    ActorFacts,
    CaseFacts,
    Change,
    ProgramConfig,
    diff,
    evaluate,
    load_preset,
    validate,
)
from app.workflows.presets import preset_keys
from app.workflows.validation import DocumentError, load_document


def parse(source: str | dict) -> dict:
    """A document from YAML/JSON text or a dict; unreadable text is a 422 naming the line."""
    try:
        return load_document(source)
    except DocumentError as exc:
        raise ValidationFailed({"(document)": [str(exc)]}) from exc


def check(document: dict) -> ProgramConfig:
    """The validated config, or a 422 with every error by path."""
    result = validate(document)
    if not result.ok:
        raise ValidationFailed(result.errors)
    return result.config


def draft() -> WorkflowVersion | None:
    return db.session.execute(
        select(WorkflowVersion).where(WorkflowVersion.status == DRAFT)
    ).scalar_one_or_none()


def save_draft(document: dict, actor: Actor | None = None) -> WorkflowVersion:
    """Replace the draft with a valid ``document`` (flushes; the caller commits)."""
    check(document)
    tenant_id = require_tenant_id()
    row = draft()
    before = None
    if row is None:
        row = WorkflowVersion(tenant_id=tenant_id, status=DRAFT, document=document)
        db.session.add(row)
    else:
        before = {"changes": len(diff(row.document, document))}
        row.document = document
        row.updated_at = utcnow()
    db.session.flush()
    audit.record(
        tenant_id,
        "workflow.draft_saved",
        "workflow_version",
        row.id,
        before=before,
        after={"program": document.get("program", {}).get("name")},
        actor=actor or current_actor(),
    )
    return row


def publish(actor: Actor | None = None, note: str | None = None) -> WorkflowVersion:
    """Freeze the draft as the next version; new cases start under it."""
    tenant_id = require_tenant_id()
    _forget_wording(tenant_id)
    row = draft()
    if row is None:
        raise ValidationFailed({"draft": ["There is no draft to publish."]})
    check(row.document)
    latest = latest_published()
    if latest is not None and not diff(latest.document, row.document):
        raise ValidationFailed(
            {"draft": [f"The draft is the same as {latest.label}; change something first."]}
        )
    number = (db.session.execute(select(func.max(WorkflowVersion.number))).scalar() or 0) + 1
    version = WorkflowVersion(
        tenant_id=tenant_id,
        number=number,
        status=PUBLISHED,
        document=row.document,
        note=note,
        published_at=utcnow(),
        published_by_id=actor.id if actor and actor.kind == "user" else None,
    )
    db.session.add(version)
    db.session.flush()
    changes = diff(latest.document, version.document) if latest else []
    audit.record(
        tenant_id,
        "workflow.published",
        "workflow_version",
        version.id,
        before={"number": latest.number} if latest else None,
        after={"number": number, "changes": len(changes), "note": note},
        actor=actor or current_actor(),
    )
    return version


def start_from_preset(preset: str, actor: Actor | None = None) -> WorkflowVersion:
    """A new district's first version: the preset as draft, published as version 1."""
    try:
        document = load_preset(preset)
    except KeyError as exc:
        raise ValidationFailed({"preset": [f"Unknown preset '{preset}'."]}) from exc
    save_draft(document, actor)
    return publish(actor, note=f"Started from the {preset} preset")


#: ``g`` key: district id -> its newest published version, as this request (or job) read it.
_CURRENT = "parley_current_versions"


def _forget_wording(tenant_id: int) -> None:
    """What was read of the district's wording this request is stale once it publishes."""
    from flask import g, has_app_context

    from app.services.roster import CT_TITLES

    if has_app_context():
        for key in (CT_TITLES, _CURRENT, "current_labels"):
            g.get(key, {}).pop(tenant_id, None)


def current_version() -> WorkflowVersion | None:
    """The district's newest published version, read once a request (or job) and district:
    every label, title and translation of a page asks here, so a list of fifty rows reads it
    once. Publishing a version forgets it."""
    from flask import g, has_app_context

    from app.tenants.context import require_tenant_id

    if not has_app_context():
        return latest_published()
    versions = g.setdefault(_CURRENT, {})
    tenant_id = require_tenant_id()
    if tenant_id not in versions:
        versions[tenant_id] = latest_published()
    return versions[tenant_id]


#: The id of the district's newest published version, for a statement to join.
NEWEST_PUBLISHED_ID = (
    select(WorkflowVersion.id)
    .where(WorkflowVersion.status == PUBLISHED)
    .order_by(WorkflowVersion.number.desc())
    .limit(1)
    .scalar_subquery()
)

#: Built once: nearly every page reads the district's wording from its newest version.
_LATEST_PUBLISHED = scoped(select(WorkflowVersion).where(WorkflowVersion.id == NEWEST_PUBLISHED_ID))


def note_current(version: WorkflowVersion | None) -> None:
    """The newest published version as a statement that joined ``NEWEST_PUBLISHED_ID`` read
    it (the signed-in person's own, at the start of every request): ``current_version``
    then sends no statement of its own for the rest of the request."""
    from flask import g

    from app.tenants.context import require_tenant_id

    g.setdefault(_CURRENT, {})[require_tenant_id()] = version


def latest_published() -> WorkflowVersion | None:
    """The district's newest published version (its document loads when read)."""
    return db.session.execute(_LATEST_PUBLISHED).scalar_one_or_none()


def published_versions() -> list[WorkflowVersion]:
    return list(
        db.session.execute(
            select(WorkflowVersion)
            .where(WorkflowVersion.status == PUBLISHED)
            .order_by(WorkflowVersion.number.desc())
        ).scalars()
    )


def version(number: int) -> WorkflowVersion:
    row = db.session.execute(
        select(WorkflowVersion).where(WorkflowVersion.number == number)
    ).scalar_one_or_none()
    if row is None:
        raise NotFound({"version": [f"There is no version {number}."]})
    return row


def compare(a: int, b: int) -> list[Change]:
    return diff(version(a).document, version(b).document)


def preset_choices() -> list[tuple[str, str]]:
    """Every preset by key, with the program's own name, for a district's first start."""
    return [(key, load_preset(key)["program"]["name"]) for key in preset_keys()]


def preset_document(key: str) -> dict:
    """A preset's document to start a draft from; 404 for a key that names none."""
    if key not in preset_keys():
        raise NotFound({"preset": [f"No preset '{key}'."]})
    return load_preset(key)


def current() -> ProgramConfig:
    """The district's program as new cases start under it: its latest published version.

    A district that has published nothing yet has no program to act on, so every page
    and operation that needs one answers 404 with this sentence.
    """
    row = latest_published()
    if row is None:
        raise NotFound({"_schema": ["This district has not published its program yet."]})
    return config_of(row)


def version_of(case: Any) -> WorkflowVersion:
    """The version ``case`` follows: a case's own, or for a list's row, the one its
    ``workflow_version_id`` names. Nearly every case is on the district's newest version,
    which the request has read already (``current_version``): then no statement is sent."""
    if isinstance(case, Case):
        return case.workflow_version
    current = current_version()
    if current is not None and current.id == case.workflow_version_id:
        return current
    return db.session.get(WorkflowVersion, case.workflow_version_id)


def config_of(row: WorkflowVersion) -> ProgramConfig:
    """The engine's view of a version; published versions never change, so it is cached."""
    if row.is_published:
        return published_config(row.id, row.published_at)
    return check(row.document)


@lru_cache(maxsize=256)
def published_config(version_id: int, published_at) -> ProgramConfig:
    """A published version's configuration by its id and publication time (a statement that
    read only those columns needs no object for it)."""
    # Keyed by id and publication time: a published row is immutable, so this never goes stale.
    row = db.session.execute(
        select(WorkflowVersion).where(WorkflowVersion.id == version_id)
    ).scalar_one()
    return check(row.document)


@dataclass(frozen=True)
class DryRunStep:
    action: str
    from_state: str
    to_state: str | None
    allowed: bool
    failures: tuple[str, ...]


def dry_run(
    config: ProgramConfig, track_key: str, actions: list[str], facts: CaseFacts
) -> list[DryRunStep]:
    """Walk a pretend case through ``actions``, as someone allowed to take every one.

    The walk stops at the first refused step, showing which guards would stop a case.
    """
    track = config.tracks[track_key]
    state = track.initial_state
    steps = []
    for action in actions:
        transition = track.transition(state, action)
        actor = ActorFacts(
            roles=frozenset(transition.actors if transition else ()),
            relations=frozenset(transition.actors if transition else ()),
        )
        result = evaluate(config, track_key, state, action, actor, facts)
        steps.append(DryRunStep(action, state, result.to_state, result.allowed, result.failures))
        if not result.allowed:
            break
        state = result.to_state
    return steps


def migrate_cases(
    case_ids: list[int],
    to_number: int,
    state_map: dict[str, str],
    actor: Actor | None = None,
) -> list:
    """Move chosen open cases to another published version, mapping their states.

    All or nothing: every case is checked first (open, track present in the target,
    its state mapped or kept to a state that exists there); one audit event per case.
    """
    from app.models.case import Case

    target = version(to_number)
    config = config_of(target)
    rows = list(
        db.session.execute(select(Case).where(Case.id.in_(case_ids)).order_by(Case.id)).scalars()
    )
    errors: dict[str, list[str]] = {}
    missing = sorted(set(case_ids) - {c.id for c in rows})
    if missing:
        errors["case_ids"] = [f"No case {n} in this district." for n in missing]
    for case in rows:
        problem = _migration_problem(case, config, state_map, target)
        if problem:
            errors[f"cases.{case.id}"] = [problem]
    if errors:
        raise ValidationFailed(errors)
    for case in rows:
        before = {"version": case.workflow_version.number, "state": case.state}
        case.workflow_version_id = target.id
        case.workflow_version = target
        case.state = state_map.get(case.state, case.state)
        db.session.flush()
        audit.record(
            case.tenant_id,
            "case.version_migrated",
            "case",
            case.id,
            before=before,
            after={"version": target.number, "state": case.state},
            actor=actor or current_actor(),
        )
    return rows


def _migration_problem(case, config: ProgramConfig, state_map: dict, target) -> str | None:
    if case.closed_at is not None:
        return "is closed; only open cases move to a new version"
    if case.workflow_version_id == target.id:
        return f"already follows {target.label}"
    track = config.tracks.get(case.track_key)
    if track is None:
        return f"its track '{case.track_key}' does not exist in {target.label}"
    state = state_map.get(case.state, case.state)
    if state not in track.states:
        return f"state '{case.state}' maps to '{state}', which {target.label} does not have"
    if track.states[state].terminal:
        return f"state '{state}' is an ending; map it to an open state"
    return None
