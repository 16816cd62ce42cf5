"""An import in two steps for the imports page: preview a file, then apply those same bytes.

A preview checks the file with the import's own ``plan_*`` and writes nothing of the
district's data. When the file is good its bytes are kept in the upload store, named by an
:class:`~app.models.import_upload.ImportUpload` row that holds their SHA-256, the counts the
preview showed and a random token. Applying takes the token back: the row is found only in
its own district (the tenant layer) and only for the person who previewed it, within
:data:`PREVIEW_LIFE`; the bytes must still hash the same, and the import must still write
what the preview said, or nothing is written. Applying consumes the row (its file goes once
the import has committed), so a preview is imported at most once.

Each person keeps one preview at a time: a new upload replaces their earlier one. A OneRoster
bundle is kept as a zip: CSV files uploaded one by one are zipped first (``preview_files``).
"""

from __future__ import annotations

import hashlib
import io
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import BinaryIO

from flask import current_app
from sqlalchemy import select

from app.core import uow
from app.extensions import db
from app.models.base import utcnow
from app.models.import_upload import ImportUpload
from app.models.survey import SurveyRound
from app.services import imports, oneroster, oneroster_bundle, storage, survey_imports
from app.services.actors import Actor
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.tenants.context import require_tenant_id

#: The imports the page offers, by the key the form posts.
CASES, SURVEY_RESPONSES, ONEROSTER = "cases", "survey_responses", oneroster.KIND
#: The longest school year a survey round keeps ("2008-2009").
YEAR_MAX: int = SurveyRound.year.type.length
KINDS = (CASES, SURVEY_RESPONSES, ONEROSTER)

#: How long a preview can be applied: long enough to read it, short enough that the
#: district it describes is still the district it writes into.
PREVIEW_LIFE = timedelta(hours=1)


@dataclass(frozen=True)
class SurveyTarget:
    """Where survey answers go: the survey's key, the school year and how many were sent."""

    survey: str
    year: str
    sent: int


@dataclass(frozen=True)
class Kept:
    """A good file's preview and the token that applies it."""

    token: str
    preview: imports.Preview | oneroster.RosterPreview
    filename: str
    target: SurveyTarget | None


@dataclass(frozen=True)
class Applied:
    kind: str
    result: imports.ImportResult | oneroster.RosterResult


def preview_files(
    kind: str,
    uploads: list[tuple[BinaryIO, str]],
    target: SurveyTarget | None,
    actor: Actor,
) -> Kept:
    """:func:`preview` of the files of one upload: one CSV file, or for a OneRoster bundle
    its zip or its CSV files chosen together. A bundle is kept as a zip Parley writes
    itself of the files it reads, so the import reads exactly what the preview read."""
    if kind != ONEROSTER:
        if len(uploads) != 1:
            raise ValidationFailed({"file": ["Choose one CSV file."]})
        stream, filename = uploads[0]
        return preview(kind, stream, filename, target, actor)
    read = [(_read_capped(stream), filename) for stream, filename in uploads]
    if len(read) == 1 and read[0][0].startswith(b"PK\x03\x04"):
        data, filename = read[0]
        files = oneroster_bundle.files_of_zip(data)
    else:
        files = {name.rsplit("/", 1)[-1].lower(): data for data, name in read}
        filename = read[0][1] if len(read) == 1 else "oneroster.zip"
    bundle = io.BytesIO(oneroster_bundle.zipped(files.items()))
    return preview(kind, bundle, filename, target, actor)


def preview(
    kind: str, stream: BinaryIO, filename: str, target: SurveyTarget | None, actor: Actor
) -> Kept:
    """Check an uploaded file and keep it for :func:`apply`; raises with every error of a
    bad file (then nothing is kept)."""
    if kind not in KINDS:
        raise ValidationFailed({"kind": ["Choose what the file holds."]})
    if kind == SURVEY_RESPONSES and target is None:
        raise ValidationFailed({"survey": ["Choose the survey the answers belong to."]})
    data = _read_capped(stream)
    shown = _plan_preview(kind, data, target)
    _forget_earlier(actor)
    tenant_id = require_tenant_id()
    stored = _keep(tenant_id, kind, data, filename)
    kept = ImportUpload(
        tenant_id=tenant_id,
        token=secrets.token_urlsafe(32),
        user_id=actor.id,
        kind=kind,
        params=_params(target),
        expected=shown.counts(),
        file_key=stored.key,
        sha256=stored.sha256,
        filename=stored.original_name,
    )
    db.session.add(kept)
    db.session.flush()
    return Kept(kept.token, shown, kept.filename, target)


def apply(token: str, actor: Actor) -> Applied:
    """Import the previewed bytes: all or nothing, audited by the import itself."""
    kept = _kept(token, actor)
    with storage.storage_for(current_app).open(kept.tenant_id, kept.file_key) as file:
        data = file.read()
    if hashlib.sha256(data).hexdigest() != kept.sha256:
        raise Conflict({"upload": ["The kept file changed since its preview; upload it again."]})
    source = {"file": kept.filename, "sha256": kept.sha256}
    if kept.kind == ONEROSTER:
        plan = oneroster.plan_upload(data)
        _same_as_previewed(plan.preview(), kept)
        result = oneroster.write_bundle(plan, actor, source)
    elif kept.kind == CASES:
        plan = imports.plan_cases(imports.read_upload(data))
        _same_as_previewed(plan.preview(), kept)
        result = imports.write_cases(plan, actor, source)
    else:
        target = SurveyTarget(**kept.params)
        plan = survey_imports.plan_survey_responses(
            target.survey, target.year, target.sent, imports.read_upload(data)
        )
        _same_as_previewed(plan.preview(), kept)
        result = survey_imports.write_survey_responses(plan, actor, source)
    _discard(kept)
    return Applied(kept.kind, result)


def _keep(tenant_id: int, kind: str, data: bytes, filename: str) -> storage.StoredFile:
    """Store the checked bytes until they are applied (deleted again on a rollback). A
    bundle is a zip Parley wrote itself (``preview_files``), so its type is known; an
    uploaded CSV is sniffed like every upload."""
    if kind != ONEROSTER:
        return storage.save_upload(current_app, tenant_id, io.BytesIO(data), filename)
    store = storage.storage_for(current_app)
    limit = storage.max_upload_bytes(current_app)
    stored = store.save(tenant_id, io.BytesIO(data), filename, limit, content_type=_ZIP)
    uow.undo_on_rollback(partial(store.delete, tenant_id, stored.key))
    return stored


_ZIP = "application/zip"


def _read_capped(stream: BinaryIO) -> bytes:
    """The whole upload, refused past the store's per-file limit without reading further."""
    limit = storage.max_upload_bytes(current_app)
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise storage.FileTooLarge(limit)
    return data


def _plan_preview(
    kind: str, data: bytes, target: SurveyTarget | None
) -> imports.Preview | oneroster.RosterPreview:
    if kind == ONEROSTER:
        return oneroster.plan_upload(data).preview()
    text = imports.read_upload(data)
    if kind == CASES:
        return imports.preview_cases(text)
    return survey_imports.preview_survey_responses(target.survey, target.year, target.sent, text)


def _params(target: SurveyTarget | None) -> dict:
    if target is None:
        return {}
    return {"survey": target.survey, "year": target.year, "sent": target.sent}


def _kept(token: str, actor: Actor) -> ImportUpload:
    kept = (
        db.session.execute(
            select(ImportUpload).where(ImportUpload.token == token)
        ).scalar_one_or_none()
        if token
        else None
    )
    if kept is None:
        raise NotFound(
            {
                "upload": [
                    "This preview is no longer available: it was imported already or "
                    "replaced by a newer upload. Upload the file again."
                ]
            }
        )
    if actor.kind != "user" or kept.user_id != actor.id:
        raise Conflict(
            {"upload": ["This preview was made by someone else: upload the file yourself."]}
        )
    if utcnow() - kept.created_at > PREVIEW_LIFE:
        hours = PREVIEW_LIFE.total_seconds() / 3600
        raise Conflict(
            {
                "upload": [
                    f"This preview is more than {hours:g} hour old: upload the file again to "
                    "see what it would write now."
                ]
            }
        )
    return kept


def _same_as_previewed(now, kept: ImportUpload) -> None:
    """Someone may have imported or changed cases since the preview: then the file would
    write something else than what was shown, and is refused."""
    if now.counts() != kept.expected:
        raise Conflict(
            {
                "upload": [
                    "The district changed since the preview, so this file would now write "
                    "something else: upload it again to see what."
                ]
            }
        )


def _forget_earlier(actor: Actor) -> None:
    """A person's earlier previews go when they upload another (one kept file each)."""
    earlier = db.session.execute(
        select(ImportUpload).where(ImportUpload.user_id == actor.id)
    ).scalars()
    for kept in earlier:
        _discard(kept)


def _discard(kept: ImportUpload) -> None:
    """Delete the row now and its file once that is committed (a rollback keeps both)."""
    store = storage.storage_for(current_app)
    uow.after_commit(partial(store.delete, kept.tenant_id, kept.file_key))
    db.session.delete(kept)
