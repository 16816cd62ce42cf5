"""Sealed means sealed everywhere: no export, archive or audit payload says who voted how.

A sealed vote leaves the program as its tally and its attendance only. The test casts
ballots a member can be recognised by, then downloads every export kind the code knows
(and the minutes PDF), unpacks each one, reads every audit payload, and looks for a
record that names a member who voted next to a ballot option.
"""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import openpyxl
import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.extensions import db
from app.jobs.registry import JOBS
from app.models.audit import AuditEvent
from app.models.case import Case
from app.models.export import EXPORT_KINDS, ExportJob
from app.models.panel import AgendaItem
from app.models.user import User
from app.services import exports, panel
from app.services import workflow_config as configs
from app.tenants.context import tenant_scope
from tests.casework import Browser
from tests.panelwork import session_with_case
from tests.test_panel import _vote

OPTIONS = frozenset({"affirm", "reject", "abstain"})
#: Six affirm (the rule's 6 of 9 decides), one reject and one abstention: the reject and
#: the abstention belong to one member each, so any record pairing them gives a member away.
VOTES = {
    "teacher1": "affirm",
    "teacher2": "affirm",
    "teacher3": "affirm",
    "teacher4": "affirm",
    "admin1": "affirm",
    "admin2": "affirm",
    "teacher5": "reject",
    "admin3": None,
}
#: Jobs that build a document someone downloads; a new one must be walked here too.
EXPORT_JOBS = {"exports.build", "exports.minutes"}


@dataclass(frozen=True)
class Voters:
    """Every way a record could name a member who cast a ballot."""

    member_ids: frozenset[int]
    user_ids: frozenset[int]
    words: frozenset[str]  # e-mail addresses and names

    def named_in_text(self, text: str) -> bool:
        return any(word in text for word in self.words)


def _voters(app, setup) -> Voters:
    with app.app_context(), tenant_scope(setup.district.tenant.id):
        users = [db.session.get(User, setup.members[key].id) for key in VOTES]
        return Voters(
            member_ids=frozenset(setup.member_ids[key] for key in VOTES),
            user_ids=frozenset(u.id for u in users),
            words=frozenset({u.email for u in users} | {u.name for u in users}),
        )


def _leaves(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    """(nearest key, value) for every scalar in a JSON document."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, str(k))
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _leaves(v, key)
    else:
        yield key, value


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _names_a_voter(key: str, value: Any, voters: Voters) -> bool:
    if key.endswith("member_id") and _as_int(value) in voters.member_ids:
        return True
    if (key.endswith("user_id") or key == "actor_id") and _as_int(value) in voters.user_ids:
        return True
    return isinstance(value, str) and voters.named_in_text(value)


_OPTION_WORD = re.compile(r"\b(" + "|".join(sorted(OPTIONS)) + r")\b", re.IGNORECASE)


def _discloses_a_choice(record: Any, voters: Voters) -> bool:
    """Whether one record names a member who voted and carries a ballot option.

    A JSON record counts options only as values: tallies use them as keys with counts.
    A row of cells or a line of text counts any option word next to a voter's name.
    """
    if isinstance(record, dict):
        leaves = list(_leaves(record))
        named = any(_names_a_voter(k, v, voters) for k, v in leaves)
        chose = any(isinstance(v, str) and v.strip().lower() in OPTIONS for _, v in leaves)
        return named and chose
    text = " ".join("" if cell is None else str(cell) for cell in record)
    return voters.named_in_text(text) and bool(_OPTION_WORD.search(text))


# Readers: every downloaded document as records (rows, lines or JSON objects) ---------------


def _zip_records(data: bytes) -> Iterator[Any]:
    archive = zipfile.ZipFile(io.BytesIO(data))
    for name in archive.namelist():
        if name.startswith("tables/") and name.endswith(".jsonl"):
            for line in archive.read(name).splitlines():
                yield json.loads(line)
        elif name == "manifest.json":
            yield json.loads(archive.read(name))
        else:
            # files/: the evidence people uploaded, byte for byte; nothing the app wrote.
            assert name.startswith("files/"), f"the archive holds {name}, which no reader reads"


def _csv_records(data: bytes) -> Iterator[Any]:
    yield from csv.reader(io.StringIO(data.decode("utf-8")))


def _xlsx_records(data: bytes) -> Iterator[Any]:
    book = openpyxl.load_workbook(io.BytesIO(data))
    for sheet in book.worksheets:
        yield from sheet.iter_rows(values_only=True)


def _pdf_records(data: bytes) -> Iterator[Any]:
    for page in PdfReader(io.BytesIO(data)).pages:
        for line in page.extract_text().splitlines():
            yield [line]


_READERS = {
    ".zip": _zip_records,
    ".csv": _csv_records,
    ".xlsx": _xlsx_records,
    ".pdf": _pdf_records,
}


def _records(filename: str, data: bytes) -> list[Any]:
    suffix = filename[filename.rfind(".") :]
    assert suffix in _READERS, f"no reader for {filename}: teach this test to unpack it"
    return list(_READERS[suffix](data))


def _filename(response) -> str:
    match = re.search(r'filename="?([^";]+)"?', response.headers["Content-Disposition"])
    assert match, response.headers
    return match.group(1)


def _export_kind(app, setup, browser: Browser, kind: str) -> tuple[str, bytes]:
    """Ask for one export on the exports page and download it."""
    d = setup.district
    year = date.today().year
    label = f"{year}-{year + 1}" if date.today().month >= 7 else f"{year - 1}-{year}"
    params = {"kind": kind, "year": label if kind.startswith("annual") else ""}
    response = browser.post("/exports/", "/exports/", params)
    assert response.status_code == 302, response.text
    with app.app_context(), tenant_scope(d.tenant.id):
        row = db.session.execute(select(ExportJob).order_by(ExportJob.id.desc())).scalars().first()
        assert (row.kind, row.status) == (kind, "ready"), row.error
        export_id = row.id
    download = browser.get(f"/exports/{export_id}/download")
    assert download.status_code == 200, kind
    return _filename(download), download.data


def _minutes_pdf(browser: Browser, sid: int) -> tuple[str, bytes]:
    page = f"/panel/sessions/{sid}/minutes"
    assert browser.post(page, f"{page}.pdf", {}).status_code == 302
    download = browser.get(f"{page}.pdf")
    assert download.status_code == 200
    return _filename(download), download.data


def _audit_payloads(app, setup) -> list[dict]:
    with app.app_context(), tenant_scope(setup.district.tenant.id):
        return [
            {
                "action": e.action,
                "actor_id": e.actor_id,
                "actor_label": e.actor_label,
                "before": e.before,
                "after": e.after,
            }
            for e in db.session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()
        ]


@pytest.mark.parametrize("closed", [False, True], ids=["open-vote", "closed-sealed-vote"])
def test_no_export_archive_or_audit_payload_says_who_voted_how(
    app, toledo_panel, monkeypatch, closed
):
    setup = toledo_panel
    coordinator, sid = session_with_case(app, setup)
    _vote(app, setup, sid, VOTES)
    if closed:
        # The coordinator closes, so no record pairs a voter with the decision.
        response = coordinator.post(f"/panel-sessions/{sid}/cases/{setup.case_id}/close")
        assert response.status_code == 200, response.json
        assert response.json["items"][0]["tally"] == {"affirm": 6, "reject": 1}
    with app.app_context(), tenant_scope(setup.district.tenant.id):
        case = db.session.get(Case, setup.case_id)
        assert configs.config_of(case.workflow_version).panel.sealed_ballots
    voters = _voters(app, setup)
    # The check can fail: a ballot row, or a line naming a member and their choice, is caught.
    assert _discloses_a_choice(
        {"member_id": setup.member_ids["teacher5"], "option": "reject"}, voters
    )
    assert _discloses_a_choice(["Ballots: Person pt5: reject"], voters)

    assert {name for name in JOBS if name.startswith("exports.")} == EXPORT_JOBS
    admin = Browser(app, setup.district, setup.district.people["admin"])
    documents = {kind: _export_kind(app, setup, admin, kind) for kind in EXPORT_KINDS}
    documents["minutes"] = _minutes_pdf(admin, sid)
    # The archive as a database without COPY (the embedded SQLite of ``make run``) builds it.
    with monkeypatch.context() as patched:
        patched.setattr(exports, "on_postgresql", lambda: False)
        documents["portable_archive"] = _export_kind(app, setup, admin, "tenant_archive")
    leaks = [
        (what, record)
        for what, (filename, data) in documents.items()
        for record in _records(filename, data)
        if _discloses_a_choice(record, voters)
    ]
    leaks += [
        ("audit_events", payload)
        for payload in _audit_payloads(app, setup)
        if _discloses_a_choice(payload, voters)
    ]
    assert leaks == []

    # What the archive does carry, on either path: who cast a ballot and when, the tally
    # (once closed) and the attendance.
    for kind in ("tenant_archive", "portable_archive"):
        _check_what_the_archive_carries(documents[kind][1], setup, closed)


def _check_what_the_archive_carries(data: bytes, setup, closed: bool) -> None:
    archive = zipfile.ZipFile(io.BytesIO(data))
    ballots = [json.loads(x) for x in archive.read("tables/ballots.jsonl").splitlines()]
    assert sorted(b["member_id"] for b in ballots) == sorted(setup.member_ids[k] for k in VOTES)
    assert not any("option" in b for b in ballots)
    assert "ballots.option" in json.loads(archive.read("manifest.json"))["withheld"]
    [item] = [json.loads(x) for x in archive.read("tables/agenda_items.jsonl").splitlines()]
    assert item["tally"] == ({"affirm": 6, "reject": 1} if closed else None)
    present = [json.loads(x) for x in archive.read("tables/panel_attendance.jsonl").splitlines()]
    assert sorted(a["member_id"] for a in present if a["present"]) == sorted(
        setup.member_ids.values()
    )


@pytest.mark.parametrize("portable", [False, True], ids=["postgresql", "portable"])
def test_the_archive_names_ballots_only_where_the_configuration_makes_them_public(
    app, toledo_panel, monkeypatch, portable
):
    """A closed vote under a configuration that publishes ballots: the archive carries each
    ballot's option, the same pairs the panel's own pages show; an open vote's stay sealed.
    The same whether PostgreSQL writes the lines or the portable path reads the rows."""
    setup = toledo_panel
    if portable:
        monkeypatch.setattr(exports, "on_postgresql", lambda: False)
    coordinator, sid = session_with_case(app, setup)
    _vote(app, setup, sid, VOTES)
    real = configs.config_of

    def published(row):
        config = real(row)
        return replace(config, panel=replace(config.panel, sealed_ballots=False))

    monkeypatch.setattr(configs, "config_of", published)
    admin = Browser(app, setup.district, setup.district.people["admin"])

    def archived_ballots() -> dict[int, Any]:
        _, data = _export_kind(app, setup, admin, "tenant_archive")
        lines = zipfile.ZipFile(io.BytesIO(data)).read("tables/ballots.jsonl").splitlines()
        return {b["member_id"]: b.get("option", "sealed") for b in map(json.loads, lines)}

    # Still open: nobody's choice is public yet, whatever the configuration says.
    assert set(archived_ballots().values()) == {"sealed"}
    response = coordinator.post(f"/panel-sessions/{sid}/cases/{setup.case_id}/close")
    assert response.status_code == 200, response.json
    expected = {setup.member_ids[key]: option for key, option in VOTES.items()}
    assert archived_ballots() == expected
    with app.app_context(), tenant_scope(setup.district.tenant.id):
        [item] = db.session.execute(select(AgendaItem)).scalars()
        shown = {member.id: option for member, option in panel.ballots.public_ballots(item)}
    assert shown == expected
