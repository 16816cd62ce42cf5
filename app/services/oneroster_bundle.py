"""Reading a OneRoster 1.2 CSV bundle: the zip (or its CSV files), each file by the one CSV
reader every import uses (``csv_input``), errors named by file, line and column.

A bundle's error keys are ``<file>:rows[<line>].<column>`` for a value, ``<file>:rows[<line>]``
for a line and ``<file>`` for the file as a whole (its header); ``bundle`` is the archive
itself. The vocabulary is OneRoster 1.2's CSV binding (1EdTech, "OneRoster 1.2 CSV
Tables"): ``docs/oneroster.md`` says which columns are read and what is made of them.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath

from app.models.user import User
from app.services import csv_input
from app.services.errors import ValidationFailed

ORGS, USERS, ENROLLMENTS, ROLES, MANIFEST = (
    "orgs.csv",
    "users.csv",
    "enrollments.csv",
    "roles.csv",
    "manifest.csv",
)

#: The columns read from each file (a district's export carries the standard's others too,
#: which are ignored). ``primaryOrgSourcedId`` is read when the file has it.
COLUMNS: dict[str, tuple[str, ...]] = {
    ORGS: ("sourcedId", "status", "name", "type"),
    USERS: ("sourcedId", "status", "givenName", "familyName", "email"),
    ENROLLMENTS: ("sourcedId", "status", "schoolSourcedId", "userSourcedId", "role"),
    ROLES: ("sourcedId", "status", "userSourcedId", "roleType", "role", "orgSourcedId"),
    MANIFEST: ("propertyName", "value"),
}

#: OneRoster's roles: 1.2's ``RoleEnum`` (roles.csv) and its enrollment roles
#: (enrollments.csv, where 1.2 still says ``administrator``).
PERSONNEL_ROLES: tuple[str, ...] = (
    "administrator",
    "aide",
    "counselor",
    "districtAdministrator",
    "principal",
    "proctor",
    "siteAdministrator",
    "systemAdministrator",
    "teacher",
)
#: Roles of people who are not staff: their rows are read and never imported.
OTHER_ROLES: tuple[str, ...] = ("guardian", "parent", "relative", "student")
ORG_TYPES = ("department", "district", "local", "national", "school", "state")
STATUSES = ("", "active", "tobedeleted")
ROLE_TYPES = ("", "primary", "secondary")


@dataclass(frozen=True)
class Record:
    """One line of one file: where it is and its values by column (stripped)."""

    file: str
    line: int
    values: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.values.get(column, "")

    @property
    def deleted(self) -> bool:
        return self["status"] == "tobedeleted"


@dataclass(frozen=True)
class Bundle:
    """The records of each file whose every value can be stored, in file order."""

    orgs: list[Record]
    users: list[Record]
    enrollments: list[Record]
    roles: list[Record]


#: The compression methods the standard library reads (every common zip tool writes one).
_METHODS = frozenset(
    (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA)
)


def key(file: str, line: int | None = None, column: str | None = None) -> str:
    """The error key of a file, one of its lines, or one value."""
    if line is None:
        return file
    return f"{file}:rows[{line}]" + (f".{column}" if column else "")


@dataclass(frozen=True)
class ErrorCell:
    """One row of a refused bundle's error table: file, line (None: the file as a whole),
    column (None: the whole line) and what is wrong."""

    file: str
    line: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file} line {self.line}"
        return (
            f"{where}, {self.column}: {self.message}" if self.column else f"{where}: {self.message}"
        )


_KEY = re.compile(r"(?P<file>[^:]+)(?::rows\[(?P<line>\d+)\](?:\.(?P<column>.+))?)?")


def error_table(errors: Mapping[str, list[str]]) -> list[ErrorCell]:
    """A refusal's errors as table rows, by file (in the bundle's order) then line."""
    order = {
        name: n for n, name in enumerate(("bundle", MANIFEST, ORGS, USERS, ROLES, ENROLLMENTS))
    }
    cells = []
    for error_key, messages in errors.items():
        match = _KEY.fullmatch(error_key)
        file, line, column = (
            (match["file"], int(match["line"]) if match["line"] else None, match["column"])
            if match
            else (error_key, None, None)
        )
        cells += [ErrorCell(file, line, column, message) for message in messages]
    cells.sort(key=lambda c: (order.get(c.file, len(order)), c.line or 0))
    return cells


def split_errors(errors: Mapping[str, list[str]]) -> tuple[list[ErrorCell], dict[str, list[str]]]:
    """A refusal's errors of a bundle (by file) as table rows, and the others as they were
    (the form's own fields, a preview gone stale)."""
    ours = {k for k in errors if k == "bundle" or k.partition(":")[0] in COLUMNS}
    cells = error_table({k: errors[k] for k in ours})
    return cells, {k: v for k, v in errors.items() if k not in ours}


#: The longest ``sourcedId`` kept (the link of a person to their account).
SOURCED_ID_MAX = 255
_STORED_IN = {
    USERS: {"givenName": User.name, "familyName": User.name, "email": User.email},
    ORGS: {"name": User.school},
}


def files_of_zip(data: bytes) -> dict[str, bytes]:
    """The CSV files of a zipped bundle by their names (``Users.csv`` is ``users.csv``; a
    bundle zipped with its folder is read the same); files a bundle may carry that are
    not read here (``classes.csv``...) are left out. Refuses what is not a readable zip."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise ValidationFailed(
            {
                "bundle": [
                    "The file is not a zip archive: upload the bundle's zip, or its CSV files."
                ]
            }
        ) from exc
    wanted = set(COLUMNS)
    files: dict[str, bytes] = {}
    total = 0
    with archive:
        for info in archive.infolist():
            name = PurePosixPath(info.filename).name.lower()
            if info.is_dir() or name not in wanted:
                continue
            if name in files:
                raise ValidationFailed({"bundle": [f"The zip holds {name} twice."]})
            if info.flag_bits & 0x1:
                raise ValidationFailed(
                    {"bundle": ["The zip is encrypted: zip it without a password."]}
                )
            if info.compress_type not in _METHODS:
                raise ValidationFailed(
                    {"bundle": [f"{name} is compressed in a way Parley cannot read: zip it again."]}
                )
            try:
                with archive.open(info) as member:
                    # Read no further than the cap, whatever size the zip declares.
                    files[name] = member.read(csv_input.MAX_BYTES - total + 1)
            except (zipfile.BadZipFile, RuntimeError, OSError) as exc:
                raise ValidationFailed({"bundle": [f"{name} cannot be unzipped ({exc})."]}) from exc
            total += len(files[name])
            if total > csv_input.MAX_BYTES:
                too_big = f"The bundle unzips to more than {csv_input.MAX_BYTES:,} bytes."
                raise ValidationFailed({"bundle": [too_big]})
    return files


def zipped(files: Iterable[tuple[str, bytes]]) -> bytes:
    """CSV files uploaded one by one, as the zip the imports page keeps between its preview
    and its import (so both read exactly the same bundle)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files:
            archive.writestr(PurePosixPath(name.replace("\\", "/")).name or "file.csv", data)
    return buffer.getvalue()


def read(files: Mapping[str, bytes], errors: dict[str, list[str]]) -> Bundle:
    """Every file of the bundle read and checked alone (values, vocabularies, sourcedIds
    unique, every reference to an org or a user found); its problems go into ``errors``,
    for the caller to raise with its own (all at once), and its readable rows are kept."""
    missing = [name for name in (ORGS, USERS) if name not in files]
    if ENROLLMENTS not in files and ROLES not in files:
        missing.append(ENROLLMENTS)
    if missing:
        errors["bundle"] = [f"The bundle has no {', '.join(missing)}."]
    if MANIFEST in files:
        _check_manifest(_records(MANIFEST, files[MANIFEST], errors), errors)
    tables = {
        name: _records(name, files[name], errors)
        for name in (ORGS, USERS, ENROLLMENTS, ROLES)
        if name in files
    }
    bundle = Bundle(*(tables.get(name, []) for name in (ORGS, USERS, ENROLLMENTS, ROLES)))
    _check_values(bundle, errors)
    return bundle


def _records(name: str, data: bytes, errors: dict[str, list[str]]) -> list[Record]:
    """One file's readable lines; its problems go into ``errors`` under its own name."""
    try:
        table = csv_input.read(csv_input.decoded(data), COLUMNS[name], _STORED_IN.get(name, {}))
    except ValidationFailed as exc:
        _merge(errors, name, exc.errors)
        return []
    _merge(errors, name, table.errors)
    return [
        Record(name, row.line, {c: v.strip() for c, v in row.values.items()}) for row in table.rows
    ]


def _merge(errors: dict[str, list[str]], name: str, found: Mapping[str, list[str]]) -> None:
    for found_key, messages in found.items():
        whole = found_key == "file"
        errors.setdefault(name if whole else f"{name}:{found_key}", []).extend(messages)


def _check_manifest(rows: list[Record], errors: dict[str, list[str]]) -> None:
    for row in rows:
        if row["propertyName"] == "oneroster.version" and row["value"] not in ("1.2", "1.2.0"):
            errors[key(MANIFEST, row.line, "value")] = [
                f"the bundle is OneRoster {row['value'] or '(no version)'}; Parley reads 1.2"
            ]


def _check_values(bundle: Bundle, errors: dict[str, list[str]]) -> None:
    orgs = _unique_ids(bundle.orgs, errors)
    users = _unique_ids(bundle.users, errors)
    _unique_ids(bundle.enrollments, errors)
    _unique_ids(bundle.roles, errors)
    for row in bundle.orgs:
        _vocabulary(row, "type", ORG_TYPES, errors, extensible=True)
        if row["type"] == "school" and not row["name"]:
            errors[key(ORGS, row.line, "name")] = ["a school needs its name"]
    for row in bundle.users:
        if "primaryOrgSourcedId" in row.values and row["primaryOrgSourcedId"]:
            _reference(row, "primaryOrgSourcedId", orgs, ORGS, errors)
    for row in (*bundle.roles, *bundle.enrollments):
        _vocabulary(row, "role", (*PERSONNEL_ROLES, *OTHER_ROLES), errors)
        if row.file == ROLES:
            _vocabulary(row, "roleType", ROLE_TYPES, errors)
        if row.deleted:
            continue  # a removal may name what the same delta removes
        _reference(row, "userSourcedId", users, USERS, errors)
        _reference(
            row, "orgSourcedId" if row.file == ROLES else "schoolSourcedId", orgs, ORGS, errors
        )
    for row in (*bundle.orgs, *bundle.users, *bundle.enrollments, *bundle.roles):
        _vocabulary(row, "status", STATUSES, errors)


def _unique_ids(rows: list[Record], errors: dict[str, list[str]]) -> dict[str, Record]:
    seen: dict[str, Record] = {}
    for row in rows:
        sourced_id = row["sourcedId"]
        if not sourced_id:
            errors[key(row.file, row.line, "sourcedId")] = ["is required"]
        elif len(sourced_id) > SOURCED_ID_MAX:
            errors[key(row.file, row.line, "sourcedId")] = [
                f"is {len(sourced_id)} characters long; at most {SOURCED_ID_MAX} fit"
            ]
        elif sourced_id in seen:
            errors[key(row.file, row.line, "sourcedId")] = [
                f"'{sourced_id}' is also on line {seen[sourced_id].line}"
            ]
        else:
            seen[sourced_id] = row
    return seen


def _vocabulary(
    row: Record, column: str, allowed: tuple[str, ...], errors: dict, *, extensible: bool = False
) -> None:
    value = row[column]
    if value in allowed or (extensible and value.startswith("ext:")):
        return
    shown = ", ".join(v for v in allowed if v) + (" (or ext:...)" if extensible else "")
    problem = "is required" if not value else f"'{value}' is not a OneRoster {column}"
    errors.setdefault(key(row.file, row.line, column), []).append(f"{problem} (use {shown})")


def _reference(row: Record, column: str, known: dict, file: str, errors: dict) -> None:
    value = row[column]
    if not value:
        errors[key(row.file, row.line, column)] = ["is required"]
    elif value not in known:
        errors[key(row.file, row.line, column)] = [f"'{value}' is not in {file}"]
