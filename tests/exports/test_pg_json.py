"""The district archive's lines, written by PostgreSQL, say what Python's encoder said.

On PostgreSQL the archive does not serialise rows in Python: PostgreSQL writes each line
(``app.exports.pg_json``). On any other database (the embedded SQLite of ``make run``) the
portable path reads the rows with plain selects and the archive writer's own encoder
writes them. A district here holds the values that are easy to get wrong (quotes,
backslashes, control characters, emoji, JSON stored with line breaks, whole and
fractional floats, a decimal, microseconds with trailing zeros); every table of its
archive must equal what the portable path gives for it, in the same order, with the same
keys in the same order and values of the same JSON types. Only a datetime's text may
differ, in the trailing zeros of its fraction of a second, so datetimes are compared as
instants.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Column, Integer, Interval, MetaData, Table, text, true

from app.core import uow
from app.exports.archive import iter_table, write_archive
from app.exports.pg_json import copy_statement
from app.extensions import db
from app.models.base import UTCDateTime
from app.models.network import PrivacySpend
from app.models.user import User
from app.services import exports, roster
from app.services.actors import Actor
from app.tenants.context import tenant_scope
from tests.test_annual_report import HISTORY
from tests.test_exports import _export
from tests.test_imports import HEADER, _post

TRICKY = 'Zoë "Q" \\ back\\slash \x01\x1f\t\n\r 東京 😀 \u2028 </script> \\u0041'
#: Stored as written, line breaks and all: the archive must still hold it on one line.
BROKEN_JSON = '[\n  "Lincoln",\r\n  "Adams \\"A\\"\\n",\n  {"b": 1.50, "a": [true, null]}\n]'
FLOATS = {"2021-2022": 3.0, "2022-2023": 0.1, "2023-2024": 1e-7, "2024-2025": 2.5e15}
MOMENTS = [
    datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=UTC),
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
]


def _fill(app, d) -> int:
    """Tricky values in every kind of column the archive writes; returns the CT's profile."""
    with app.app_context(), tenant_scope(d.tenant.id):
        admin = db.session.get(User, d.people["admin"].id)
        ct = db.session.get(User, d.people["ct"].id)
        ct.name = TRICKY
        ct.school = ""
        for user, moment in zip(
            (ct, admin, db.session.get(User, d.people["principal"].id)), MOMENTS, strict=True
        ):
            user.last_login_at = moment
        profile = roster.ensure_profile(ct)
        roster.add_training(profile, TRICKY, date(2024, 2, 29), 12.5, Actor.of(admin))
        roster.add_training(profile, "Whole hours", date(2024, 3, 1), 3.0, Actor.of(admin))
        for year, spent in FLOATS.items():
            db.session.add(PrivacySpend(tenant_id=d.tenant.id, year=year, spent=spent))
        db.session.flush()
        db.session.execute(
            text("UPDATE consulting_teachers SET schools = CAST(:v AS json) WHERE id = :id"),
            {"v": BROKEN_JSON, "id": profile.id},
        )
        uow.commit()
        return profile.id


def _reference(app, tenant_id: int) -> io.BytesIO:
    """The district's tables as the archive's portable path reads them (``exports._rows``),
    written by the archive writer's own encoder: what the archive held before PostgreSQL
    wrote its lines, and what it holds on a database without ``COPY``."""
    buffer = io.BytesIO()
    with app.app_context(), tenant_scope(tenant_id):
        tables = [
            (table.name, exports._rows(table, tenant_id, *withheld))
            for table, withheld in exports._archived_tables(tenant_id)
        ]
        write_archive(buffer, tables)
    buffer.seek(0)
    return buffer


def _comparable(table: Table, row: dict[str, Any]) -> str:
    """The row as one string: key order and JSON types count, a datetime's text does not."""
    moments = {c.key for c in table.columns if isinstance(c.type, UTCDateTime)}
    return json.dumps(
        {
            key: (datetime.fromisoformat(value).isoformat() if key in moments and value else value)
            for key, value in row.items()
        }
    )


@pytest.mark.parametrize("batch_rows", [3, 50_000], ids=["many-batches", "one-batch"])
def test_every_table_of_the_archive_says_what_the_portable_path_says(
    app, district, monkeypatch, batch_rows
):
    pap = district("bostonpap", "boston_pap_2007")
    district("other", "toledo")
    _post(app, pap, HEADER + HISTORY)
    profile_id = _fill(app, pap)
    # Small batches and chunks: many statements on both paths, lines split across chunks.
    monkeypatch.setattr(exports, "_BATCH_ROWS", batch_rows)
    monkeypatch.setattr(exports, "_PORTABLE_BATCH_ROWS", batch_rows)
    monkeypatch.setattr(exports, "_CHUNK_BYTES", 256)
    export_id, data = _export(app, pap, pap.people["admin"], "tenant_archive")
    expected = _reference(app, pap.tenant.id)
    archive = io.BytesIO(data)
    tables = {t.name: t for t in db.Model.metadata.sorted_tables}
    names = sorted(n for n in zipfile.ZipFile(archive).namelist() if n.startswith("tables/"))
    assert names == sorted(n for n in zipfile.ZipFile(expected).namelist() if n != "manifest.json")
    checked = set()
    for name in names:
        table = tables[name.removeprefix("tables/").removesuffix(".jsonl")]
        got = list(iter_table(archive, table.name))
        want = list(iter_table(expected, table.name))
        if table.name == "export_jobs":  # this export's own row was "running" when written
            got = [r for r in got if r["id"] != export_id]
            want = [r for r in want if r["id"] != export_id]
        assert [_comparable(table, r) for r in got] == [_comparable(table, r) for r in want]
        checked |= {table.name} if got else set()
    # The tricky values were there to compare.
    assert {"users", "training_records", "privacy_spends", "consulting_teachers"} <= checked
    assert {"cases", "role_grants", "audit_events"} <= checked
    users = {u["id"]: u for u in iter_table(archive, "users")}
    assert users[pap.people["ct"].id]["name"] == TRICKY
    assert users[pap.people["ct"].id]["last_login_at"] == "2026-01-02T03:04:05.12+00:00"
    profiles = {p["id"]: p for p in iter_table(archive, "consulting_teachers")}
    assert profiles[profile_id]["schools"] == json.loads(BROKEN_JSON)
    spent = {row["year"]: row["spent"] for row in iter_table(archive, "privacy_spends")}
    assert spent == FLOATS and all(isinstance(v, float) for v in spent.values())
    hours = sorted(row["hours"] for row in iter_table(archive, "training_records"))
    assert hours == ["12.5", "3.0"]


def test_a_column_without_a_json_form_is_refused_when_the_statement_is_built():
    table = Table("spans", MetaData(), Column("id", Integer), Column("length", Interval))
    with pytest.raises(TypeError, match=r"spans\.length: no JSON form"):
        copy_statement(table, ["id", "length"], true(), after_id=None, limit=10)
    with pytest.raises(ValueError, match="keep id"):
        copy_statement(table, ["length"], true(), after_id=None, limit=10)


def test_the_archive_reads_under_its_districts_row_level_security(app, district):
    """A COPY that asked for another district's rows would still get none of them."""
    pap = district("bostonpap", "boston_pap_2007")
    other = district("other", "toledo")
    users = User.__table__
    with app.app_context(), tenant_scope(pap.tenant.id):
        assert b"".join(exports._lines(users, pap.tenant.id)).count(b"\n") == 6
        assert b"".join(exports._lines(users, other.tenant.id)) == b""
