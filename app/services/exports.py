"""Exports: a request row, a job that builds the file, a download link that expires.

The annual report as PDF and XLSX, the case list as CSV and XLSX, and the full
tenant archive (every row of the district as JSON Lines, with its files) for a
district that leaves. Each is built by the ``exports`` queue, in constant memory.
On PostgreSQL the archive's lines are written by the database (``COPY``); on the embedded
SQLite of ``make run`` the same rows are read in batches and encoded in Python.
"""

from __future__ import annotations

import io
import json
import tempfile
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from functools import partial
from typing import Any

from flask import current_app
from sqlalchemy import ColumnCollection, ColumnElement, Table, select

from app.core import outbox, uow
from app.exports.cells import append_row, csv_writer
from app.extensions import db
from app.models.base import TenantScoped, utcnow
from app.models.export import EXPORT_KINDS, ExportJob
from app.models.user import User
from app.reports.annual import school_year
from app.services import audit
from app.services.actors import Actor
from app.services.errors import NotFound, ValidationFailed
from app.services.sql_dialect import on_postgresql
from app.tenants.replica import replica_reads

#: How long a finished export can be downloaded.
KEEP_FOR = timedelta(days=2)
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_LABELS = {
    "annual_pdf": "Annual report (PDF)",
    "annual_xlsx": "Annual report (XLSX)",
    "cases_csv": "Case list (CSV)",
    "cases_xlsx": "Case list (XLSX)",
    "visits_csv": "Visit logs (CSV)",
    "survey_csv": "Survey results (CSV)",
    "tenant_archive": "Everything (ZIP of JSON Lines and files)",
}


def label(kind: str) -> str:
    return _LABELS[kind]


def kinds() -> list[tuple[str, str]]:
    """What can be exported, as (kind, label) for a picker."""
    return [(kind, label(kind)) for kind in EXPORT_KINDS]


def request(user: User, kind: str, params: dict) -> ExportJob:
    if kind not in EXPORT_KINDS:
        raise ValidationFailed({"kind": [f"Choose one of: {', '.join(EXPORT_KINDS)}."]})
    if kind.startswith("annual"):
        _check_year(params.get("year"))
    if kind == "tenant_archive" and "program_admin" not in user.roles:
        raise ValidationFailed({"kind": ["Only a program admin exports everything."]})
    row = ExportJob(tenant_id=user.tenant_id, kind=kind, params=params, requested_by_id=user.id)
    db.session.add(row)
    db.session.flush()
    outbox.add("exports.build", {"export_id": row.id}, tenant_id=user.tenant_id, queue="exports")
    audit.record(
        user.tenant_id,
        "export.requested",
        "export_job",
        row.id,
        after={"kind": kind, "params": params},
        actor=Actor.of(user),
    )
    return row


def _check_year(label: str | None) -> None:
    """The annual report's year is a label such as 2009-2010: refused here, not by the job."""
    if not label:
        raise ValidationFailed({"year": ["Give the school year, e.g. 2009-2010."]})
    try:
        school_year(label)
    except ValueError as exc:
        raise ValidationFailed({"year": [str(exc)]}) from exc


def mine(user: User) -> list[ExportJob]:
    return list(
        db.session.execute(
            select(ExportJob)
            .where(ExportJob.requested_by_id == user.id)
            .order_by(ExportJob.id.desc())
            .limit(50)
        ).scalars()
    )


def downloadable(export_id: int, user: User) -> ExportJob:
    """The requester's finished, unexpired export (404 otherwise, never 403)."""
    row = db.session.execute(
        select(ExportJob).where(ExportJob.id == export_id, ExportJob.requested_by_id == user.id)
    ).scalar_one_or_none()
    if row is not None and row.kind == "tenant_archive" and "program_admin" not in user.roles:
        row = None
    if (
        row is None
        or row.status != "ready"
        or row.expires_at is None
        or (row.expires_at < utcnow())
    ):
        raise NotFound({"export": ["This export is not available (not ready, or expired)."]})
    return row


def build(export_id: int) -> None:
    """The job: build the file, store it per tenant, mark it ready (idempotent by row)."""
    from app.services.storage import storage_for

    row = db.session.execute(
        select(ExportJob).where(ExportJob.id == export_id)
    ).scalar_one_or_none()
    if row is None or row.status == "ready":
        return
    row.status, row.progress = "running", 1
    _checkpoint()
    # The district's data is read where reads that may be a few seconds old go (the
    # replica, when there is one); the row itself, just written on the primary, is read
    # there once and handed to the builder as it is.
    db.session.refresh(row)
    db.session.expunge(row)
    try:
        with replica_reads():
            data, filename, content_type = _BUILDERS[row.kind](row)
            store = storage_for(current_app)
            with data:
                stored = store.save(
                    row.tenant_id,
                    data,
                    filename,
                    max_bytes=50 * 1024**3,
                    content_type=content_type,
                )
        uow.undo_on_rollback(partial(store.delete, row.tenant_id, stored.key))
    except Exception as exc:
        uow.rollback()
        failed = db.session.get(ExportJob, export_id)
        failed.status, failed.error = "failed", f"{type(exc).__name__}: {exc}"[:2000]
        uow.commit()
        raise
    row = db.session.get(ExportJob, export_id)
    row.file_key, row.filename, row.content_type = stored.key, filename, content_type
    row.status, row.progress, row.expires_at = "ready", 100, utcnow() + KEEP_FOR
    db.session.flush()


def _checkpoint() -> None:
    """Show progress to the requester while the job goes on (its own small commit)."""
    uow.commit()


def _tenant_name(tenant_id: int) -> str:
    from app.models.tenant import Tenant

    return db.session.get(Tenant, tenant_id).name


def _annual(row: ExportJob, fmt: str):
    """The annual report as PDF or XLSX, tracks by their names; the XLSX with a native chart
    over each of its tables and the note on open imported cases the year left out."""
    from app.reports import render, xlsx_charts
    from app.services import reports
    from app.services import workflow_config as configs

    report = reports.annual(row.params["year"])
    config = configs.current()
    labels = {k: g.label for k, g in config.report_groups.items()} | {"active": "Active"}
    names = {key: track.name for key, track in config.tracks.items()}
    report["by_track"] = {names.get(k, k): v for k, v in report["by_track"].items()}
    district = _tenant_name(row.tenant_id)
    if fmt == "pdf":
        kind = "application/pdf"
        data = render.to_pdf(
            report, district=district, group_labels=labels, note=reports.left_out_note(report)
        )
    else:
        data = xlsx_charts.add_charts(
            render.to_xlsx(report, district=district, group_labels=labels),
            report,
            note=reports.left_out_note(report),
        )
        kind = _XLSX
    return io.BytesIO(data), f"annual-report-{row.params['year']}.{fmt}", kind


def _cases(row: ExportJob, fmt: str):
    from app.services import case_lists

    user = db.session.get(User, row.requested_by_id)
    cases = case_lists.in_batches(case_lists.filtered(user, case_lists.CaseFilters()))
    if fmt == "csv":
        return _csv_spool(case_lists.table_rows(cases)), "cases.csv", "text/csv"
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Cases")
    for record in case_lists.table_rows(cases):
        append_row(sheet, record)
    # Handed back to ``build``, which stores it and closes it.
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    book.save(spool)
    spool.seek(0)
    return spool, "cases.xlsx", _XLSX


def _csv_spool(rows):
    """The rows as a CSV file, each cell through the safe writer."""
    spool = tempfile.TemporaryFile("w+b")  # noqa: SIM115 - handed back to ``build``
    text = io.TextIOWrapper(spool, encoding="utf-8", newline="", write_through=True)
    csv_writer(text).writerows(rows)
    text.detach()
    spool.seek(0)
    return spool


def _visits(row: ExportJob):
    """Every visit of the cases the requester may see, a batch of cases at a time."""
    from app.models.support import Visit
    from app.services import case_lists

    user = db.session.get(User, row.requested_by_id)
    cases = case_lists.in_batches(case_lists.filtered(user, case_lists.CaseFilters()))

    def lines():
        yield [
            "case_id",
            "teacher",
            "author",
            "date",
            "type",
            "minutes",
            "planned",
            "focus_standards",
            "notes",
            "next_steps",
        ]
        for case in cases:
            for visit in db.session.execute(
                select(Visit).where(Visit.case_id == case.id).order_by(Visit.visited_on)
            ).scalars():
                yield [
                    case.id,
                    case.teacher.name,
                    visit.author.name,
                    visit.visited_on.isoformat(),
                    visit.visit_type,
                    visit.duration_minutes or "",
                    visit.planned,
                    " ".join(visit.focus_standards or []),
                    visit.notes or "",
                    visit.next_steps or "",
                ]

    return _csv_spool(lines()), "visits.csv", "text/csv"


def _survey_results(row: ExportJob):
    """Counts per statement and answer for every round (never a respondent)."""
    from app.services import surveys

    def lines():
        yield ["survey", "year", "sent", "responses", "statement", "answer", "count"]
        for status in surveys.statuses():
            record = surveys.record_for(status.round.year)
            if record is None or record.key != status.round.survey_key:
                continue
            for key, text in record.statements:
                for option in record.scale:
                    count = sum(1 for a in record.answers if a.get(key) == option)
                    yield [
                        record.key,
                        status.round.year,
                        record.sent,
                        status.responses,
                        text,
                        option,
                        count,
                    ]

    return _csv_spool(lines()), "survey-results.csv", "text/csv"


#: Never in an export: they would let a district's copy act as its accounts, its sign-on
#: or its signature (a signing key's certificate travels; its private key stays).
_SECRET_COLUMNS = frozenset(
    {
        "password_hash",
        "token_hash",
        "nonce",
        "client_secret_encrypted",
        "sso_subject",
        "private_key_encrypted",
    }
)
_LEFT_OUT = frozenset({"api_tokens", "survey_invitations"})
_WITHHELD = {
    "ballots.option": (
        "Sealed ballots (every open vote, and every closed vote whose configuration seals "
        "ballots) say who cast them and when, never how: agenda_items holds each vote's "
        "tally and panel_attendance who was present."
    )
}


def _archive(row: ExportJob):
    """Every row of every tenant table, a table at a time and a batch at a time, and every
    evidence file: what a district takes with it when it leaves, less what is sealed."""
    from app.exports.archive import JsonLines, write_archive
    from app.models.support import Evidence
    from app.services.storage import storage_for

    store = storage_for(current_app)
    # PostgreSQL writes the lines itself; any other database (the embedded SQLite of
    # ``make run``, where COPY does not exist) gives rows the archive writer encodes.
    portable = not on_postgresql()
    contents = [
        (
            t.name,
            _rows(t, row.tenant_id, *w) if portable else JsonLines(_lines(t, row.tenant_id, *w)),
        )
        for t, w in _archived_tables(row.tenant_id)
    ]
    files = [
        (f"evidence/{id_}-{name}", partial(store.open, row.tenant_id, key))
        for id_, name, key in db.session.execute(
            select(Evidence.id, Evidence.file_name, Evidence.file_key).where(
                Evidence.file_key.is_not(None)
            )
        )
    ]
    # Handed back to ``build``, which stores it and closes it.
    spool = tempfile.SpooledTemporaryFile(max_size=8 * 1024 * 1024)  # noqa: SIM115
    write_archive(
        spool,
        contents,
        files,
        manifest={
            "district": _tenant_name(row.tenant_id),
            "exported_at": utcnow().isoformat(),
            "withheld": _WITHHELD,
        },
        compresslevel=_COMPRESSLEVEL,
    )
    spool.seek(0)
    return spool, "parley-export.zip", "application/zip"


#: A table's withheld keys, and given its columns when a row shows them (see ``_lines``).
_Withheld = tuple[Sequence[str], Callable[[ColumnCollection], ColumnElement[bool]] | None]


def _archived_tables(tenant_id: int) -> list[tuple[Table, _Withheld]]:
    """The tables of the archive, by name, each with what it withholds; one list for both
    ways of reading them, so they leave out the same tables and keys."""
    from app.models.panel import Ballot

    # Secrets and the survey link table stay behind: they would give a district a way into
    # accounts, or a way to join an anonymous answer to a person.
    tables = sorted(
        (
            m.class_.__table__
            for m in db.Model.registry.mappers
            if issubclass(m.class_, TenantScoped) and m.class_.__tablename__ not in _LEFT_OUT
        ),
        key=lambda t: t.name,
    )
    # A sealed ballot's row leaves out its option: the key, not just the value, since a
    # null option is an abstention.
    withheld = {Ballot.__tablename__: (("option",), _public_ballot(tenant_id))}
    return [(t, withheld.get(t.name, ((), None))) for t in tables]


def _archived_keys(table: Table) -> list[str]:
    return [c.key for c in table.columns if c.key not in _SECRET_COLUMNS]


#: Rows per COPY statement: each statement stays short (far below the statement timeout)
#: however large the district, and a batch costs one more statement, not a round trip per
#: row.
_BATCH_ROWS = 50_000
#: Lines go to the archive in chunks of about this size: one compressor call per chunk.
_CHUNK_BYTES = 1024 * 1024
#: zlib's level for the archive. Its default (6) spent 0.70 s of CPU on the 138 MB of
#: lines of a 10,000-case district, as much as PostgreSQL spends writing them; level 3
#: spends 0.30 s for an archive of 7.6 MB instead of 5.7 MB.
_COMPRESSLEVEL = 3


def _lines(
    table: Table,
    tenant_id: int,
    withheld: Sequence[str] = (),
    shown_when: Callable[[ColumnCollection], ColumnElement[bool]] | None = None,
) -> Iterator[bytes]:
    """Every row of one table of the district as JSON Lines written by PostgreSQL (see
    ``app.exports.pg_json``), without secret columns, in chunks of whole lines.

    The COPY runs on the session's own connection, so it reads under the transaction's
    tenant scope and row-level security like every other query of the export.
    """
    from app.exports import pg_json

    keys = _archived_keys(table)
    connection = db.session.connection().connection.driver_connection
    if connection.info.encoding != "utf-8":
        raise RuntimeError(f"the archive is UTF-8; the connection is {connection.info.encoding}")
    chunk, after = bytearray(), None
    with connection.cursor() as cursor:
        cursor.execute(pg_json.SETUP)
        while True:
            statement = pg_json.copy_statement(
                table,
                keys,
                table.c.tenant_id == tenant_id,
                after_id=after,
                limit=_BATCH_ROWS,
                withheld=withheld,
                shown_when=shown_when,
            )
            rows, last = 0, b""
            with cursor.copy(statement) as copy:
                for last in copy:
                    chunk += last
                    rows += 1
                    if len(chunk) >= _CHUNK_BYTES:
                        yield bytes(chunk)
                        chunk.clear()
            if rows < _BATCH_ROWS:
                break
            after = json.loads(bytes(last))["id"]
    if chunk:
        yield bytes(chunk)


#: Rows per statement of the portable read: each batch is held as row objects until it
#: is encoded, so it stays small.
_PORTABLE_BATCH_ROWS = 1000


def _rows(
    table: Table,
    tenant_id: int,
    withheld: Sequence[str] = (),
    shown_when: Callable[[ColumnCollection], ColumnElement[bool]] | None = None,
) -> Iterator[dict[str, Any]]:
    """Every row of one table of the district as a mapping for the archive writer's encoder
    (:func:`app.exports.archive.write_archive`), read in ``id`` order a batch at a time
    with portable statements: the archive on a database without ``COPY``.

    The same rows, keys and values as the lines PostgreSQL writes in ``_lines`` (the tests
    compare the two): secret columns left out, and the ``withheld`` keys left out of rows
    where ``shown_when`` does not hold.
    """
    keys = _archived_keys(table)
    columns: list[ColumnElement] = [table.c[key] for key in keys]
    if withheld:
        if shown_when is None:
            raise ValueError(f"{table.name}: say when the withheld {list(withheld)} are shown")
        columns.append(shown_when(table.c))
    query = (
        select(*columns)
        .where(table.c.tenant_id == tenant_id)
        .order_by(table.c.id)
        .limit(_PORTABLE_BATCH_ROWS)
    )
    after = None
    while True:
        batch = db.session.execute(
            query if after is None else query.where(table.c.id > after)
        ).all()
        for values in batch:
            row = dict(zip(keys, values, strict=False))
            if withheld and not values[-1]:
                for key in withheld:
                    del row[key]
            yield row
        if len(batch) < _PORTABLE_BATCH_ROWS:
            return
        after = batch[-1][keys.index("id")]


def _public_ballot(tenant_id: int) -> Callable[[ColumnCollection], ColumnElement[bool]]:
    """When a ballot's option goes into the archive: only for the ballots the panel's own
    pages show by name, those of closed votes whose configuration makes ballots public
    (``panel.ballots.public_ballots``). Every other ballot is sealed."""
    from app.models.case import Case
    from app.models.panel import AgendaItem
    from app.models.workflow import WorkflowVersion
    from app.services import workflow_config as configs

    items, cases = AgendaItem.__table__, Case.__table__
    closed = (items.c.tenant_id == tenant_id) & (items.c.status == "closed")
    versions = db.session.execute(
        select(WorkflowVersion).where(
            WorkflowVersion.id.in_(
                select(cases.c.workflow_version_id)
                .join(items, items.c.case_id == cases.c.id)
                .where(closed)
            )
        )
    ).scalars()
    unsealed = [v.id for v in versions if not configs.config_of(v).panel.sealed_ballots]
    public_items = (
        select(items.c.id)
        .join(cases, cases.c.id == items.c.case_id)
        .where(closed, cases.c.workflow_version_id.in_(unsealed))
    )
    return lambda ballot: ballot.item_id.in_(public_items)


_BUILDERS = {
    "annual_pdf": lambda row: _annual(row, "pdf"),
    "annual_xlsx": lambda row: _annual(row, "xlsx"),
    "cases_csv": lambda row: _cases(row, "csv"),
    "cases_xlsx": lambda row: _cases(row, "xlsx"),
    "visits_csv": _visits,
    "survey_csv": _survey_results,
    "tenant_archive": _archive,
}


def remove_expired() -> int:
    """Delete the files of expired exports (across districts); the rows stay as a record."""
    from app.services.storage import storage_for

    store = storage_for(current_app)
    rows = (
        db.session.execute(
            select(ExportJob).where(
                ExportJob.file_key.is_not(None), ExportJob.expires_at < utcnow()
            )
        )
        .scalars()
        .all()
    )
    for row in rows:
        store.delete(row.tenant_id, row.file_key)
        row.file_key, row.status = None, "expired"
    db.session.flush()
    return len(rows)
