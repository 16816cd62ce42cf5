"""The roster from the district's system: schools, staff and their roles from a OneRoster 1.2
CSV bundle, all or nothing, in the plan/preview/write shape of every import.

``plan_bundle`` reads the bundle (``oneroster_bundle``), works out each staff member
(a user whose roles.csv or enrollments.csv rows name a staff role; students, guardians,
parents and relatives are read and never imported) and matches them to an account, first
by the ``sourcedId`` an earlier import linked, then by e-mail. Any error refuses the whole
bundle, by file, line and column. ``write_bundle`` writes the plan:

- a new person gets an account (no password, no welcome: they sign in through the
  district's identity provider or "Forgot your password?") only when the program admin's
  mapping (``oneroster_roles``) grants them a role; an unmapped role grants nothing;
- an existing one has their name, e-mail and school updated and gains the mapped roles
  they lack; an import never removes a role, whether granted by hand or by an earlier
  import (the program admin removes roles on the person's page);
- a school (an org of type ``school``) is the school name Parley keeps on its staff (a
  principal of it is then linked to its cases, as on the person's page);
- a person with ``status`` ``tobedeleted`` is never created, and their account, when
  there is one, is disabled (signed out everywhere, nothing deleted), unless it holds the
  program-admin role; rows of enrollments, roles and orgs marked so are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import select

from app.extensions import db
from app.models.oneroster import OneRosterPerson
from app.models.user import User
from app.security.emails import InvalidEmail, checked_email
from app.services import audit, oneroster_roles, users
from app.services import oneroster_bundle as bundles
from app.services.actors import Actor
from app.services.errors import ValidationFailed
from app.services.imports import PREVIEW_ROWS
from app.tenants.context import require_tenant_id

KIND = "oneroster"
#: What an import does to one person of the bundle.
NEW, UPDATED, UNCHANGED, NO_ROLE, DISABLED, LEFT = (
    "new",
    "updated",
    "unchanged",
    "no_role",
    "disabled",
    "left",
)


@dataclass(frozen=True)
class Person:
    """One staff member as the bundle describes them."""

    line: int  # in users.csv
    sourced_id: str
    name: str
    email: str
    school: str | None
    source_roles: tuple[str, ...]
    deleted: bool


@dataclass(frozen=True)
class Change:
    """What importing the bundle does to one person (``action`` is one of NEW...LEFT)."""

    person: Person
    action: str
    user: User | None
    #: Parley roles the person gains.
    grants: tuple[str, ...] = ()
    #: The account is linked to the person's sourcedId now.
    link: bool = False


@dataclass(frozen=True)
class RosterPreview:
    """What a bundle would write, told before anything is."""

    kind: str
    total: int
    created: int
    updated: int
    unchanged: int
    not_imported: int
    disabled: int
    roles_granted: int
    ignored: int
    schools: tuple[str, ...]
    mapping: dict[str, str]
    #: The first :data:`PREVIEW_ROWS` staff members' changes, in users.csv order.
    first: tuple[Change, ...]

    def counts(self) -> dict:
        """What applying must write again (and under the same mapping), or it is refused."""
        return {
            "created": self.created,
            "updated": self.updated,
            "disabled": self.disabled,
            "roles_granted": self.roles_granted,
            "mapping": self.mapping,
        }


@dataclass(frozen=True)
class RosterResult:
    created: int
    updated: int
    disabled: int
    roles_granted: int


@dataclass(frozen=True)
class RosterPlan:
    changes: list[Change]
    schools: list[str]
    ignored: int
    mapping: dict[str, str]

    def preview(self) -> RosterPreview:
        def count(action: str) -> int:
            return sum(1 for c in self.changes if c.action == action)

        return RosterPreview(
            kind=KIND,
            total=len(self.changes),
            created=count(NEW),
            updated=count(UPDATED),
            unchanged=count(UNCHANGED),
            not_imported=count(NO_ROLE),
            disabled=count(DISABLED),
            roles_granted=sum(len(c.grants) for c in self.changes),
            ignored=self.ignored,
            schools=tuple(self.schools),
            mapping=dict(sorted(self.mapping.items())),
            first=tuple(self.changes[:PREVIEW_ROWS]),
        )


def plan_upload(data: bytes) -> RosterPlan:
    """Check a zipped bundle against the district (writes nothing; raises with every error)."""
    return plan_bundle(bundles.files_of_zip(data))


def plan_bundle(files: Mapping[str, bytes]) -> RosterPlan:
    """Check a bundle's files (by name) against the district and the role mapping."""
    errors: dict[str, list[str]] = {}
    bundle = bundles.read(files, errors)
    people, ignored = _people(bundle, errors)
    mapping = oneroster_roles.mapping()
    changes = _changes(people, mapping, errors)
    if errors:
        raise ValidationFailed(errors)
    schools = sorted({o["name"] for o in bundle.orgs if o["type"] == "school" and not o.deleted})
    return RosterPlan(changes, schools, ignored, mapping)


def write_bundle(plan: RosterPlan, actor: Actor, source: dict | None = None) -> RosterResult:
    """Write a checked plan (flushes; the caller commits once, so it is all or nothing)."""
    tenant_id = require_tenant_id()
    for change in plan.changes:
        person, user = change.person, change.user
        if change.action == NEW:
            user = users.create_user(
                tenant_id,
                email=person.email,
                name=person.name,
                roles=list(change.grants),
                actor=actor,
                send_welcome=False,
                school=person.school,
            )
        elif change.action == UPDATED:
            _update(user, person, change.grants, actor)
        elif change.action == DISABLED:
            users.set_active(user, False, actor)
        if change.link:
            db.session.add(
                OneRosterPerson(tenant_id=tenant_id, sourced_id=person.sourced_id, user_id=user.id)
            )
    db.session.flush()
    shown = plan.preview()
    result = RosterResult(shown.created, shown.updated, shown.disabled, shown.roles_granted)
    audit.record(
        tenant_id,
        "import.oneroster",
        "user",
        None,
        after={
            "created": result.created,
            "updated": result.updated,
            "disabled": result.disabled,
            "roles_granted": result.roles_granted,
            "unchanged": shown.unchanged,
            "not_imported": shown.not_imported,
            "schools": len(plan.schools),
            "mapping": shown.mapping,
            **(source or {}),
        },
        actor=actor,
    )
    return result


def import_bundle(files: Mapping[str, bytes], actor: Actor) -> RosterResult:
    """Check and write a bundle at once (the command line and scripts)."""
    return write_bundle(plan_bundle(files), actor)


def _people(bundle: bundles.Bundle, errors: dict[str, list[str]]) -> tuple[list[Person], int]:
    """The bundle's staff members in users.csv order, and how many others it holds."""
    schools = {
        o["sourcedId"]: o["name"] for o in bundle.orgs if o["type"] == "school" and not o.deleted
    }
    roles: dict[str, list[str]] = {}
    # Where each person works, best evidence first: a primary role at a school, the
    # user's primary org, a class at a school, any other role at a school.
    places: dict[str, list[tuple[int, int, str]]] = {}
    for row in (*bundle.roles, *bundle.enrollments):
        if row.deleted:
            continue
        user_id = row["userSourcedId"]
        roles.setdefault(user_id, []).append(row["role"])
        org = row["orgSourcedId"] if row.file == bundles.ROLES else row["schoolSourcedId"]
        if org in schools and row["role"] in bundles.PERSONNEL_ROLES:
            rank = (
                2 if row.file == bundles.ENROLLMENTS else (0 if row["roleType"] == "primary" else 3)
            )
            places.setdefault(user_id, []).append((rank, row.line, schools[org]))
    people, ignored = [], 0
    emails: dict[str, int] = {}
    for row in bundle.users:
        sourced_id = row["sourcedId"]
        staff_roles = tuple(
            dict.fromkeys(r for r in roles.get(sourced_id, []) if r in bundles.PERSONNEL_ROLES)
        )
        if not staff_roles and not row.deleted:
            ignored += 1
            continue
        if row["primaryOrgSourcedId"] in schools:
            places.setdefault(sourced_id, []).append((1, 0, schools[row["primaryOrgSourcedId"]]))
        school = min(places[sourced_id])[2] if places.get(sourced_id) else None
        person = _person(row, staff_roles, school, errors)
        if person is None:
            continue
        if person.email and not person.deleted:
            if person.email in emails:
                errors[bundles.key(bundles.USERS, row.line, "email")] = [
                    f"{person.email} is also on line {emails[person.email]}"
                ]
                continue
            emails[person.email] = row.line
        people.append(person)
    return people, ignored


def _person(
    row: bundles.Record, staff_roles: tuple[str, ...], school: str | None, errors: dict
) -> Person | None:
    given = row["preferredGivenName"] or row["givenName"]
    family = row["preferredFamilyName"] or row["familyName"]
    name = f"{given} {family}".strip()
    email = ""
    problems = {}
    if not row.deleted:  # a person marked to be deleted is found by their sourcedId only
        if not name:
            problems["givenName"] = ["a staff member needs a name (givenName, familyName)"]
        elif len(name) > (limit := User.name.type.length):
            problems["familyName"] = [
                f"the name is {len(name)} characters long; at most {limit} fit"
            ]
        if not row["email"]:
            problems["email"] = ["is required for staff: people sign in to Parley by e-mail"]
        else:
            try:
                email = checked_email(row["email"])
            except InvalidEmail as exc:
                problems["email"] = [f"is not a valid e-mail address: {exc}"]
    for column, messages in problems.items():
        errors[bundles.key(bundles.USERS, row.line, column)] = messages
    if problems:
        return None
    return Person(row.line, row["sourcedId"], name, email, school, staff_roles, row.deleted)


def _changes(
    people: list[Person], mapping: dict[str, str], errors: dict[str, list[str]]
) -> list[Change]:
    links = _all_links()
    linked_ids = {user_id: sourced_id for sourced_id, user_id in links.items()}
    by_id = _users_by(User.id, list(links.values()))
    by_email = _users_by(User.email, [p.email for p in people if p.email])
    changes = []
    for person in people:
        linked = by_id.get(links.get(person.sourced_id))
        if person.deleted:  # only an account an import linked is ever disabled
            changes.append(_change(person, linked, False, mapping))
            continue
        other = by_email.get(person.email)
        where = bundles.key(bundles.USERS, person.line, "email")
        if linked and other and other.id != linked.id:
            errors[where] = [
                f"{person.email} is another person's account in Parley ({other.name}); this "
                f"person ({person.sourced_id}) is {linked.email}"
            ]
            continue
        if not linked and other and other.id in linked_ids:
            errors[where] = [
                f"{person.email} is the account of sourcedId '{linked_ids[other.id]}'; a "
                "person's sourcedId never changes"
            ]
            continue
        changes.append(_change(person, linked or other, linked is None, mapping))
    return changes


def _change(person: Person, user: User | None, unlinked: bool, mapping: dict[str, str]) -> Change:
    if person.deleted:
        if user is None or not user.active or "program_admin" in user.roles:
            return Change(person, LEFT, user)
        return Change(person, DISABLED, user)
    granted = {mapping[r] for r in person.source_roles if r in mapping}
    if user is None:
        return Change(
            person, NEW if granted else NO_ROLE, None, tuple(sorted(granted)), bool(granted)
        )
    grants = tuple(sorted(granted - user.roles))
    differs = (
        user.name != person.name
        or user.email != person.email
        or (person.school is not None and user.school != person.school)
    )
    action = UPDATED if differs or grants or unlinked else UNCHANGED
    return Change(person, action, user, grants, unlinked)


def _update(user: User, person: Person, grants: tuple[str, ...], actor: Actor) -> None:
    before = {"name": user.name, "email": user.email}
    after = {"name": person.name, "email": person.email}
    if before != after:
        user.name, user.email = person.name, person.email
        db.session.flush()
        audit.record(
            user.tenant_id, "user.updated", "user", user.id, before=before, after=after, actor=actor
        )
    if person.school is not None and user.school != person.school:
        users.set_school(user, person.school, actor)
    if grants:
        users.set_roles(user, sorted(user.roles | set(grants)), actor)


def _chunks(values: list, size: int = 5000):
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _all_links() -> dict[str, int]:
    """Every account an import linked, by the sourcedId it is linked to."""
    rows = db.session.execute(select(OneRosterPerson.sourced_id, OneRosterPerson.user_id))
    return dict(rows.all())


def _users_by(column, values: list) -> dict:
    found = {}
    for chunk in _chunks(list(dict.fromkeys(values))):
        for user in db.session.execute(select(User).where(column.in_(chunk))).scalars():
            found[getattr(user, column.key)] = user
    return found
