"""Bringing a district's history in from its spreadsheets: all or nothing, idempotent.

Every row is checked before anything is written; any bad row refuses the whole
file with errors by row and column (``rows[3].requested_on``). Re-importing the
same ``external_id`` updates that case instead of adding another.

Each import is a plan and its writing: ``plan_*`` checks everything and writes nothing
a preview could not take back, ``write_*`` writes the plan. The command line and the API
run both at once (``import_*``); the imports page shows ``preview_*`` first and writes
later, from the same bytes (``app.services.import_uploads``). Survey answers follow the
same shape in ``app.services.survey_imports``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TextIO

from sqlalchemy import select

from app.extensions import db
from app.models.case import Case
from app.models.user import User
from app.models.workflow import WorkflowVersion
from app.security.emails import InvalidEmail, checked_email
from app.services import audit, csv_input, users
from app.services import workflow_config as configs
from app.services.actors import Actor
from app.services.case_permissions import principal_sees
from app.services.errors import ValidationFailed
from app.tenants.context import require_tenant_id
from app.workflows import ProgramConfig
from app.workflows.effects import closes_with

CASE_COLUMNS = (
    "external_id",
    "teacher_name",
    "teacher_email",
    "school",
    "track",
    "consulting_teacher_email",
    "requested_on",
    "started_on",
    "ended_on",
    "outcome",
)


@dataclass(frozen=True)
class CaseRow:
    line: int
    external_id: str
    teacher_name: str
    teacher_email: str
    school: str
    track: str
    ct_email: str | None
    requested_on: date
    started_on: date | None
    ended_on: date | None
    outcome: str | None


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    #: Accounts an import created for the people its rows name (history imports only).
    new_people: int = 0


#: How many of a file's rows a preview shows (the counts cover them all).
PREVIEW_ROWS = 20


@dataclass(frozen=True)
class Preview:
    """What an import would write, told before anything is: counts, then the first rows."""

    kind: str  # "cases" or "survey_responses"
    total: int
    created: int
    updated: int
    new_people: int
    #: The first :data:`PREVIEW_ROWS` rows (``CaseRow`` or ``ResponseRow``), in file order.
    first: tuple
    #: The ids among ``first`` that would be added rather than updated.
    new_ids: frozenset[str]

    def counts(self) -> dict[str, int]:
        """What applying must write again: the same counts, or it is refused."""
        return {"created": self.created, "updated": self.updated, "new_people": self.new_people}


@dataclass(frozen=True)
class ErrorCell:
    """One row of a refused file's error table: its line, its column (None: the whole
    line) and what is wrong."""

    line: int
    column: str | None
    message: str


_ROW_KEY = re.compile(r"rows\[(?P<line>\d+)\](?:\.(?P<column>.+))?")


def error_table(errors: dict[str, list[str]]) -> tuple[list[ErrorCell], dict[str, list[str]]]:
    """A refusal's errors by line and column, as table rows in line order, and the others
    (the file as a whole, a survey's ``year`` or ``sent``), left for the form's fields."""
    cells, rest = [], {}
    for key, messages in errors.items():
        match = _ROW_KEY.fullmatch(key)
        if match:
            cells += [ErrorCell(int(match["line"]), match["column"], m) for m in messages]
        else:
            rest[key] = messages
    cells.sort(key=lambda c: c.line)
    return cells, rest


def current_program() -> ProgramConfig | None:
    """The program whose tracks, outcomes and surveys a file names (None: none published)."""
    version = configs.latest_published()
    return configs.config_of(version) if version else None


def parse_date(value: str, required: bool) -> tuple[date | None, str | None]:
    """A YYYY-MM-DD value, or why it is not one: every import dates its rows alike."""
    value = value.strip()
    if not value:
        return None, ("is required (YYYY-MM-DD)" if required else None)
    try:
        return date.fromisoformat(value), None
    except ValueError:
        return None, f"'{value}' is not a date (use YYYY-MM-DD)"


#: The model column each value is stored in: its length bounds the value.
_STORED_IN = {
    "external_id": Case.external_id,
    "teacher_name": User.name,
    "teacher_email": User.email,
    "school": Case.school,
    "track": Case.track_key,
    "consulting_teacher_email": User.email,
    "outcome": Case.outcome,
}


def parse_cases(stream: TextIO, config: ProgramConfig) -> list[CaseRow]:
    """Every row checked against the configuration; raises with all errors at once."""
    table = csv_input.read(stream, CASE_COLUMNS, _STORED_IN)
    errors = dict(table.errors)
    rows, seen = [], {}
    for entry in table.rows:
        number = entry.line
        row, problems = _check_row(number, entry.values, config)
        if row and row.external_id in seen:
            problems["external_id"] = [
                f"'{row.external_id}' is also on line {seen[row.external_id]}"
            ]
        for column, messages in problems.items():
            errors[f"rows[{number}].{column}"] = messages
        if row and not problems:
            seen[row.external_id] = number
            rows.append(row)
    if errors:
        raise ValidationFailed(errors)
    if not rows:
        raise ValidationFailed({"file": ["The file has no rows."]})
    return rows


def _key_of(value: str, labels: Mapping[str, str]) -> str | None:
    """The key a value names: the key itself (as files exported by Parley hold), or the
    label people read in Parley, in any case; None when it names nothing."""
    value = value.strip()
    if value in labels:
        return value
    folded = value.casefold()
    return next((key for key, label in labels.items() if label.casefold() == folded), None)


def _check_row(number: int, raw: dict[str, str], config: ProgramConfig):
    problems: dict[str, list[str]] = {}
    for column in ("external_id", "teacher_name", "teacher_email", "school", "track"):
        if not raw[column].strip():
            problems[column] = ["is required"]
    track = _key_of(raw["track"], {k: t.name for k, t in config.tracks.items()})
    if raw["track"].strip() and track is None:
        names = ", ".join(f"{t.name} ({k})" for k, t in config.tracks.items())
        problems["track"] = [f"unknown track '{raw['track'].strip()}' (use {names})"]
    outcome = _key_of(raw["outcome"], {k: o.label for k, o in config.outcomes.items()})
    if raw["outcome"].strip() and outcome is None:
        problems["outcome"] = [f"unknown outcome '{raw['outcome'].strip()}'"]
    emails = {}
    for column in ("teacher_email", "consulting_teacher_email"):
        if raw[column].strip():
            try:
                emails[column] = checked_email(raw[column])
            except InvalidEmail as exc:
                problems[column] = [f"is not a valid e-mail address: {exc}"]
    dates = {}
    for column, required in (("requested_on", True), ("started_on", False), ("ended_on", False)):
        dates[column], problem = parse_date(raw[column], required)
        if problem:
            problems[column] = [problem]
    if bool(dates["ended_on"]) != bool(outcome) and "outcome" not in problems:
        problems["outcome"] = ["ended_on and outcome go together (both empty for an open case)"]
    if dates["started_on"] and dates["ended_on"] and dates["ended_on"] < dates["started_on"]:
        problems["ended_on"] = ["is before started_on"]
    if problems:
        return None, problems
    return CaseRow(
        number,
        raw["external_id"].strip(),
        raw["teacher_name"].strip(),
        emails["teacher_email"],
        raw["school"].strip(),
        track,
        emails.get("consulting_teacher_email"),
        dates["requested_on"],
        dates["started_on"],
        dates["ended_on"],
        outcome,
    ), {}


@dataclass(frozen=True)
class CasePlan:
    """A checked history file and what it meets in the district: all an import writes."""

    version: WorkflowVersion
    config: ProgramConfig
    rows: list[CaseRow]
    existing: dict[str, Case]  # by external_id
    people: dict[str, User]  # the accounts the rows name that exist, by e-mail

    def new_people(self) -> list[str]:
        """The addresses an import would create an account for, each once."""
        named = (email for row in self.rows for _, email in _named(row))
        return list(dict.fromkeys(e for e in named if e not in self.people))

    def preview(self) -> Preview:
        created = {r.external_id for r in self.rows if r.external_id not in self.existing}
        first = tuple(self.rows[:PREVIEW_ROWS])
        return Preview(
            kind="cases",
            total=len(self.rows),
            created=len(created),
            updated=len(self.rows) - len(created),
            new_people=len(self.new_people()),
            first=first,
            new_ids=frozenset(r.external_id for r in first if r.external_id in created),
        )


def plan_cases(stream: TextIO) -> CasePlan:
    """Check a history file against the configuration and the district (writes nothing;
    raises with every error at once)."""
    version = configs.latest_published()
    if version is None:
        raise ValidationFailed({"file": ["Publish the program's configuration first."]})
    config = configs.config_of(version)
    rows = parse_cases(stream, config)
    existing = {
        c.external_id: c
        for chunk in _chunks([r.external_id for r in rows])
        for c in db.session.execute(select(Case).where(Case.external_id.in_(chunk))).scalars()
    }
    people = _existing_people(rows)
    errors = _update_problems(rows, existing)
    for key, messages in _role_problems(rows, people).items():
        errors.setdefault(key, []).extend(messages)
    if errors:
        raise ValidationFailed(errors)
    return CasePlan(version, config, rows, existing, people)


def preview_cases(stream: TextIO) -> Preview:
    """What importing this history file would write, without writing it."""
    return plan_cases(stream).preview()


def write_cases(plan: CasePlan, actor: Actor, source: dict | None = None) -> ImportResult:
    """Write a checked plan (flushes; the caller commits once, so it is all or nothing).
    ``source`` (the file's name and digest, when it was kept) goes into the audit event."""
    tenant_id = require_tenant_id()
    people = dict(plan.people)
    new_people = len(plan.new_people())
    _add_new_people(tenant_id, plan.rows, people)
    created = updated = 0
    for row in plan.rows:
        case = plan.existing.get(row.external_id)
        if case is None:
            case = Case(
                tenant_id=tenant_id,
                external_id=row.external_id,
                workflow_version_id=plan.version.id,
                track_key=row.track,
                source="self",
            )
            db.session.add(case)
            created += 1
        else:
            updated += 1
        _fill(case, row, plan.config, people)
    db.session.flush()
    audit.record(
        tenant_id,
        "import.cases",
        "case",
        None,
        after={
            "created": created,
            "updated": updated,
            "new_people": new_people,
            "rows": len(plan.rows),
            **(source or {}),
        },
        actor=actor,
    )
    return ImportResult(created, updated, new_people)


def import_cases(stream: TextIO, actor: Actor) -> ImportResult:
    """Check and write a history file at once (the command line and the API)."""
    return write_cases(plan_cases(stream), actor)


def _update_problems(rows: list[CaseRow], existing: dict[str, Case]) -> dict[str, list[str]]:
    """A re-import corrects history; it never moves a case to another teacher, nor changes
    the CT of a case whose assignment was made (and agreed) in Parley."""
    from app.models.assignment import Assignment

    assigned = set()
    ids = [c.id for c in existing.values()]
    for chunk in _chunks(ids):
        assigned |= set(
            db.session.execute(
                select(Assignment.case_id).where(Assignment.case_id.in_(chunk))
            ).scalars()
        )
    errors: dict[str, list[str]] = {}
    for row in rows:
        case = existing.get(row.external_id)
        if case is None:
            continue
        if case.teacher.email != row.teacher_email:
            errors[f"rows[{row.line}].teacher_email"] = [
                f"case {row.external_id} belongs to {case.teacher.email}; an import cannot "
                "move it to another teacher"
            ]
        current_ct = case.ct.email if case.ct else None
        if case.id in assigned and current_ct != row.ct_email:
            errors[f"rows[{row.line}].consulting_teacher_email"] = [
                f"case {row.external_id} has an assignment made in Parley; change it there"
            ]
    return errors


def _chunks(values: list, size: int = 5000):
    """IN lists of bounded length (drivers cap the number of parameters of a statement)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


#: The role each e-mail column names. An import gives it to the people it creates and
#: never to an existing account: roles come from the program admin.
_ROLE_OF = {"teacher_email": "teacher", "consulting_teacher_email": "consulting_teacher"}


def _named(row: CaseRow) -> list[tuple[str, str]]:
    """The (column, e-mail) pairs a row names people by."""
    pairs = [("teacher_email", row.teacher_email)]
    return pairs + ([("consulting_teacher_email", row.ct_email)] if row.ct_email else [])


def _existing_people(rows: list[CaseRow]) -> dict[str, User]:
    emails = list(dict.fromkeys(email for row in rows for _, email in _named(row)))
    return {
        u.email: u
        for chunk in _chunks(emails)
        for u in db.session.execute(select(User).where(User.email.in_(chunk))).scalars()
    }


def _role_problems(rows: list[CaseRow], people: dict[str, User]) -> dict[str, list[str]]:
    """Each address holds its column's role already, or is new and takes only that one."""
    errors: dict[str, list[str]] = {}
    first: dict[str, tuple[int, str]] = {}  # a new address: where the file first names it
    for row in rows:
        for column, email in _named(row):
            role, person = _ROLE_OF[column], people.get(email)
            line, first_column = first.setdefault(email, (row.line, column))
            if person is not None and role not in person.roles:
                errors[f"rows[{row.line}].{column}"] = [
                    f"{email} has an account that does not hold the {role} role; an import "
                    "never grants a role (the program admin does)"
                ]
            elif person is None and first_column != column:
                errors[f"rows[{row.line}].{column}"] = [
                    f"{email} is new and is the {first_column} on line {line}; an import gives "
                    "a new person one role (the program admin adds others)"
                ]
    return errors


def _add_new_people(tenant_id: int, rows: list[CaseRow], people: dict[str, User]) -> None:
    """Create (without a password or welcome) each person the file names who is new, with
    the role of the column that names them; a new CT gets a roster profile with it."""
    for row in rows:
        for column, email in _named(row):
            if email in people:
                continue
            name = (
                row.teacher_name
                if column == "teacher_email"
                else email.split("@")[0].replace(".", " ").title()
            )
            people[email] = users.create_user(
                tenant_id, email=email, name=name, roles=[_ROLE_OF[column]], send_welcome=False
            )


def _fill(case: Case, row: CaseRow, config: ProgramConfig, people: dict[str, User]) -> None:
    track = config.tracks[row.track]
    case.track_key, case.school = row.track, row.school
    case.teacher_id = people[row.teacher_email].id
    case.ct_id = people[row.ct_email].id if row.ct_email else None
    case.enrolled_on, case.started_on, case.ended_on = (
        row.requested_on,
        row.started_on,
        row.ended_on,
    )
    case.principal_can_see = principal_sees(track)
    if row.outcome:
        case.outcome, case.report_group = row.outcome, config.outcomes[row.outcome].group
        case.state = _closing_state(track, row.outcome, config)
        from datetime import UTC, datetime, time

        case.closed_at = datetime.combine(row.ended_on, time(12), tzinfo=UTC)
    else:
        case.outcome = case.report_group = case.closed_at = None
        case.state = _support_state(track)


def _closing_state(track, outcome: str, config: ProgramConfig) -> str:
    """The ending a case with this outcome reaches (the first step that can close with it)."""
    step = next((t for t in track.transitions if outcome in closes_with(t, config)), None)
    return step.to if step else next(k for k, s in track.states.items() if s.terminal)


def _support_state(track) -> str:
    """Where an open historical case stands: the state the support work happens in, the
    first state other than the initial one that the track's ``end_support`` step leaves."""
    sources = (s for t in track.steps_for("end_support") for s in t.sources)
    return next((s for s in sources if s != track.initial_state), track.initial_state)


#: What a file that is not CSV text starts with, and what to tell its sender.
_NOT_CSV = (
    (b"PK\x03\x04", "The file is a spreadsheet or another zipped document, not CSV"),
    (b"\xd0\xcf\x11\xe0", "The file is an old Excel or Word document, not CSV"),
    (b"%PDF-", "The file is a PDF, not CSV"),
)


def read_upload(data: bytes) -> TextIO:
    """An uploaded CSV as text for the imports (UTF-8, with or without a byte-order mark);
    an empty file, or a spreadsheet sent as it is, is refused with what to do instead."""
    if not data.strip():
        raise ValidationFailed({"file": ["The file is empty: it has no header and no rows."]})
    for magic, what in _NOT_CSV:
        if data.startswith(magic):
            raise ValidationFailed(
                {"file": [f'{what}: save it as "CSV UTF-8" and import it again.']}
            )
    return csv_input.decoded(data)


def import_survey_responses(
    survey_key: str, year: str, sent: int, stream: TextIO, actor: Actor
) -> ImportResult:
    """Survey answers collected before Parley, checked and written at once (the command line
    and the API); ``app.services.survey_imports`` holds that import."""
    from app.services import survey_imports  # it builds on this module's reading and results

    return survey_imports.import_survey_responses(survey_key, year, sent, stream, actor)
