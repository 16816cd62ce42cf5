"""Bringing a district's history in from its spreadsheets: all or nothing, idempotent.

Every row is checked before anything is written; any bad row refuses the whole
file with errors by row and column (``rows[3].requested_on``). Re-importing the
same ``external_id`` updates that case instead of adding another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TextIO

from sqlalchemy import select

from app.extensions import db
from app.models.case import Case
from app.models.user import User
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


def _date(value: str, required: bool) -> tuple[date | None, str | None]:
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


def _check_row(number: int, raw: dict[str, str], config: ProgramConfig):
    problems: dict[str, list[str]] = {}
    for column in ("external_id", "teacher_name", "teacher_email", "school", "track"):
        if not raw[column].strip():
            problems[column] = ["is required"]
    track = raw["track"].strip()
    if track and track not in config.tracks:
        problems["track"] = [f"unknown track '{track}' (use {', '.join(config.tracks)})"]
    outcome = raw["outcome"].strip() or None
    if outcome and outcome not in config.outcomes:
        problems["outcome"] = [f"unknown outcome '{outcome}'"]
    emails = {}
    for column in ("teacher_email", "consulting_teacher_email"):
        if raw[column].strip():
            try:
                emails[column] = checked_email(raw[column])
            except InvalidEmail as exc:
                problems[column] = [f"is not a valid e-mail address: {exc}"]
    dates = {}
    for column, required in (("requested_on", True), ("started_on", False), ("ended_on", False)):
        dates[column], problem = _date(raw[column], required)
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


def import_cases(stream: TextIO, actor: Actor) -> ImportResult:
    """Write the checked rows (flushes; the caller commits once, so it is all or nothing)."""
    tenant_id = require_tenant_id()
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
    _add_new_people(tenant_id, rows, people)
    created = updated = 0
    for row in rows:
        case = existing.get(row.external_id)
        if case is None:
            case = Case(
                tenant_id=tenant_id,
                external_id=row.external_id,
                workflow_version_id=version.id,
                track_key=row.track,
                source="self",
            )
            db.session.add(case)
            created += 1
        else:
            updated += 1
        _fill(case, row, config, people)
    db.session.flush()
    audit.record(
        tenant_id,
        "import.cases",
        "case",
        None,
        after={"created": created, "updated": updated, "rows": len(rows)},
        actor=actor,
    )
    return ImportResult(created, updated)


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


def read_upload(data: bytes) -> TextIO:
    """An uploaded CSV as text for the imports (UTF-8, with or without a byte-order mark)."""
    return csv_input.decoded(data)


def import_survey_responses(
    survey_key: str, year: str, sent: int, stream: TextIO, actor: Actor
) -> ImportResult:
    """Answers a district collected before Parley (e.g. on paper): all or nothing, keyed by
    ``response_id`` so a re-import updates. Columns: response_id, submitted_on, one per
    statement key (a scale key, or empty), comment."""
    tenant_id = require_tenant_id()
    from app.models.survey import SurveyResponse
    from app.services import surveys

    row = surveys.imported_round(survey_key, year, sent)
    surveys.ensure_not_linked(row)
    statements = [k for k, _ in row.statements]
    table = csv_input.read(
        stream,
        ("response_id", "submitted_on", *statements, "comment"),
        {"response_id": SurveyResponse.external_id, "comment": SurveyResponse.comment},
    )
    errors = dict(table.errors)
    parsed, seen = [], {}
    for entry in table.rows:
        number, raw = entry.line, {k: v.strip() for k, v in entry.values.items()}
        on, problem = _date(raw["submitted_on"], True)
        if problem:
            errors[f"rows[{number}].submitted_on"] = [problem]
        if not raw["response_id"]:
            errors[f"rows[{number}].response_id"] = ["is required"]
        elif raw["response_id"] in seen:
            errors[f"rows[{number}].response_id"] = [
                f"'{raw['response_id']}' is also on line {seen[raw['response_id']]}"
            ]
        seen.setdefault(raw["response_id"], number)
        for key in statements:
            if raw[key] and raw[key] not in row.scale:
                errors[f"rows[{number}].{key}"] = [
                    f"'{raw[key]}' is not on the scale ({', '.join(row.scale)})"
                ]
        parsed.append((raw, on))
    if errors:
        raise ValidationFailed(errors)
    if len(parsed) > sent:
        raise ValidationFailed({"sent": [f"{len(parsed)} answers but only {sent} sent."]})
    existing = {
        r.external_id: r
        for r in db.session.execute(
            select(SurveyResponse).where(SurveyResponse.round_id == row.id)
        ).scalars()
    }
    created = 0
    for raw, on in parsed:
        response = existing.get(raw["response_id"])
        if response is None:
            response = SurveyResponse(
                tenant_id=tenant_id, round_id=row.id, external_id=raw["response_id"]
            )
            db.session.add(response)
            created += 1
        response.submitted_on = on
        response.answers = {k: raw[k] for k in statements if raw[k]}
        response.comment = raw["comment"] or None
    db.session.flush()
    audit.record(
        tenant_id,
        "import.survey_responses",
        "survey_round",
        row.id,
        after={"rows": len(parsed), "created": created, "sent": sent},
        actor=actor,
    )
    return ImportResult(created, len(parsed) - created)
