"""Tenant users and their roles; platform users."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import current_app
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import undefer_group

from app.core import outbox, uow
from app.extensions import db
from app.models.base import utcnow
from app.models.case import Case
from app.models.user import PlatformUser, RoleGrant, User
from app.security.emails import InvalidEmail, checked_email, lookup_form
from app.security.passwords import hash_password, password_problems, verify_password
from app.security.roles import PLATFORM_ROLE_KEYS, TENANT_ROLE_KEYS
from app.services import audit
from app.services.actors import Actor
from app.services.errors import Conflict, ServiceError, ValidationFailed
from app.services.people import school_principal
from app.tenants.context import tenant_scope


def normalise_email(email: str) -> str:
    """An address as typed, in the form accounts are stored and looked up by (never refuses:
    a lookup of an address no one could have simply finds nobody)."""
    return lookup_form(email)


def listing() -> Select:
    """The district's people by name, for a page of them (``loading.paginate``); the HTML
    list and the API list read the same query."""
    return select(User).order_by(User.name, User.id)


def by_id(user_id: int) -> User | None:
    """One person of the district (the tenant scope hides everyone else's), or None."""
    return db.session.execute(select(User).where(User.id == user_id)).scalar_one_or_none()


def by_email(email: str) -> User | None:
    """The person of the district with this address (as typed), or None."""
    address = normalise_email(email)
    return db.session.execute(select(User).where(User.email == address)).scalar_one_or_none()


def _check_email(email: str) -> tuple[str, dict[str, list[str]]]:
    """The address to store, or the problem with it under ``email``."""
    try:
        return checked_email(email), {}
    except InvalidEmail as exc:
        return email, {"email": [str(exc)]}


def _check_password(password: str | None, *context: str) -> dict[str, list[str]]:
    """Length and guessability; ``context`` is the person's own words (name, e-mail)."""
    if password is None:
        return {}
    whole = [text.lower().partition("@")[0] for text in context]
    words = whole + [part for text in context for part in re.split(r"[^a-z0-9]+", text.lower())]
    problems = password_problems(password, words)
    return {"password": problems} if problems else {}


def _check_roles(roles: list[str], allowed: frozenset[str]) -> dict[str, list[str]]:
    unknown = sorted(set(roles) - allowed)
    if not roles:
        return {"roles": ["Choose at least one role."]}
    if unknown:
        return {"roles": [f"Unknown role: {', '.join(unknown)}."]}
    return {}


def create_user(
    tenant_id: int,
    *,
    email: str,
    name: str,
    roles: list[str],
    password: str | None = None,
    actor: Actor | None = None,
    send_welcome: bool = True,
    school: str | None = None,
) -> User:
    """Add a person to a district with roles (and the school they work in, if given); the
    welcome e-mail commits with the row."""
    email, errors = _check_email(email)
    errors |= {**_check_password(password, email, name), **_check_roles(roles, TENANT_ROLE_KEYS)}
    errors |= _check_school(school)[1]
    if not name.strip():
        errors["name"] = ["Enter the person's name."]
    if errors:
        raise ValidationFailed(errors)
    with tenant_scope(tenant_id):
        exists = db.session.execute(
            select(func.count()).select_from(User).where(User.email == email)
        ).scalar_one()
        if exists:
            raise Conflict({"email": [f"{email} already has an account in this district."]})
        user = _insert(
            tenant_id,
            email,
            name,
            sorted(set(roles)),
            password_hash=hash_password(password) if password else None,
            actor=actor,
        )
        if school:
            set_school(user, school, actor=actor)
        if send_welcome:
            outbox.add("mail.welcome", {"user_id": user.id}, tenant_id=tenant_id, queue="mail")
        _roster_profile(user)
    return user


def create_pending(tenant_id: int, *, email: str, name: str) -> User:
    """Someone the district's identity provider vouches for, with no roles until an admin
    grants some: they can sign in but see nothing but a page that says they wait."""
    email, errors = _check_email(email)
    if errors:
        raise ValidationFailed(errors)
    with tenant_scope(tenant_id):
        return _insert(
            tenant_id,
            email,
            name[:200],
            [],
            actor=Actor.system("single sign-on"),
            pending=True,
        )


def _insert(
    tenant_id: int,
    email: str,
    name: str,
    roles: list[str],
    *,
    password_hash: str | None = None,
    actor: Actor | None,
    **noted: object,
) -> User:
    """The row, its role grants and the audit event every new person gets."""
    user = User(tenant_id=tenant_id, email=email, name=name.strip(), password_hash=password_hash)
    user.role_grants = [RoleGrant(tenant_id=tenant_id, role=r) for r in roles]
    db.session.add(user)
    db.session.flush()
    audit.record(
        tenant_id,
        "user.created",
        "user",
        user.id,
        after={"email": email, "roles": roles, **noted},
        actor=actor,
    )
    return user


def _roster_profile(user: User) -> None:
    if "consulting_teacher" in user.roles:
        from app.services.roster import ensure_profile

        ensure_profile(user)


def set_roles(user: User, roles: list[str], actor: Actor | None = None) -> User:
    """Replace a user's roles. Removing a role ends the user's sessions and tokens."""
    errors = _check_roles(roles, TENANT_ROLE_KEYS)
    if errors:
        raise ValidationFailed(errors)
    before = sorted(user.roles)
    wanted = set(roles)
    if wanted == set(before):
        return user
    user.role_grants = [g for g in user.role_grants if g.role in wanted] + [
        RoleGrant(tenant_id=user.tenant_id, role=r) for r in sorted(wanted - set(before))
    ]
    if set(before) - wanted:
        user.session_version += 1
    db.session.flush()
    _roster_profile(user)
    audit.record(
        user.tenant_id,
        "user.roles_changed",
        "user",
        user.id,
        before={"roles": before},
        after={"roles": sorted(wanted)},
        actor=actor,
    )
    return user


def set_school(user: User, school: str | None, actor: Actor | None = None) -> User:
    """The school a teacher or principal works in. A principal of the school is linked to
    its open cases that have no principal yet, and from then on to those enrolled there;
    what they see of each is still the track's to say (``case_access.seen_as_principal``).
    A principal who leaves a school leaves its open cases: each passes to another
    principal of that school, or to none, so nobody keeps reading a school they left."""
    value, errors = _check_school(school)
    if errors:
        raise ValidationFailed(errors)
    before = user.school
    user.school = value
    unlinked = _unlink_from_cases_elsewhere(user)
    # Also when only the role is new: a person just made principal of their school.
    linked = _link_to_school_cases(user) if value and "principal" in user.roles else []
    if value == before and not linked and not unlinked:
        return user
    db.session.flush()
    audit.record(
        user.tenant_id,
        "user.school_set",
        "user",
        user.id,
        before={"school": before},
        after={"school": value, "cases_linked": linked}
        | ({"cases_unlinked": unlinked} if unlinked else {}),
        actor=actor,
    )
    return user


def _check_school(school: str | None) -> tuple[str | None, dict[str, list[str]]]:
    """The school as stored (trimmed; blank is none), or what is wrong with it."""
    value = (school or "").strip() or None
    limit = User.school.type.length
    if value is not None and len(value) > limit:
        return value, {"school": [f"is {len(value)} characters long; at most {limit} fit"]}
    return value, {}


def _unlink_from_cases_elsewhere(principal: User) -> list[int]:
    """Open cases of another school still linked to ``principal``, handed to that school's
    principal (or to none); returns their ids."""
    cases = db.session.execute(
        select(Case)
        .where(
            Case.principal_id == principal.id,
            Case.closed_at.is_(None),
            or_(Case.school.is_(None), Case.school != (principal.school or "")),
        )
        .order_by(Case.id)
    ).scalars()
    unlinked = []
    for case in cases:
        successor = school_principal(case.school, other_than=principal.id) if case.school else None
        case.principal_id = successor.id if successor else None
        unlinked.append(case.id)
    return unlinked


def _link_to_school_cases(principal: User) -> list[int]:
    cases = db.session.execute(
        select(Case)
        .where(
            Case.school == principal.school,
            Case.principal_id.is_(None),
            Case.closed_at.is_(None),
        )
        .order_by(Case.id)
    ).scalars()
    linked = []
    for case in cases:
        case.principal_id = principal.id
        linked.append(case.id)
    return linked


def set_password(user: User, password: str, actor: Actor | None = None) -> User:
    """A new password ends every session and token the user had."""
    errors = _check_password(password, user.email, user.name)
    if errors:
        raise ValidationFailed(errors)
    user.password_hash = hash_password(password)
    user.session_version += 1
    db.session.flush()
    audit.record(user.tenant_id, "user.password_set", "user", user.id, actor=actor)
    return user


#: One message for every refused sign-in, so the form never tells which accounts exist.
BAD_CREDENTIALS = "E-mail or password is not correct."


def sign_in(tenant_id: int, email: str, password: str, *, channel: str = "form") -> User:
    """The active user of this tenant with this e-mail and password, or a 401.

    A refused attempt is audited and counted, and committed before the error is
    raised: the request fails, but the attempt must be remembered. Enough failures
    in a row lock the account for ``LOGIN_LOCKOUT_MINUTES`` (or until a program
    admin unlocks it) and tell its owner by e-mail; while locked, even the right
    password is refused with the same message.
    """
    from app.services import sso

    with tenant_scope(tenant_id):
        if not sso.passwords_allowed(tenant_id):
            raise ServiceError(
                {"auth": ["This district signs in through its identity provider, not a password."]},
                status=403,
            )
        address = normalise_email(email)
        # What the checks read comes in the same statement: a known address costs no
        # second statement an unknown one would not (no timing tells them apart).
        user = db.session.execute(
            select(User).where(User.email == address).options(undefer_group("sign_in"))
        ).scalar_one_or_none()
        locked = user is not None and is_locked(user)
        ok = verify_password(user.password_hash if user else None, password)
        if locked or not ok or user is None or not user.active:
            _refuse(tenant_id, address, user, channel, "locked" if locked else "credentials")
            raise ServiceError({"auth": [BAD_CREDENTIALS]}, status=401)
        return record_sign_in(user, channel=channel)


def record_sign_in(user: User, **details: object) -> User:
    """A successful sign-in by any way: the failure count starts again, and it is audited."""
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = utcnow()
    audit.record(
        user.tenant_id,
        "auth.login",
        "user",
        user.id,
        after=details,
        actor=Actor.of(user),
    )
    return user


def is_locked(user: User) -> bool:
    return user.locked_until is not None and user.locked_until > utcnow()


def _refuse(tenant_id: int, address: str, user: User | None, channel: str, reason: str) -> None:
    audit.record(
        tenant_id,
        "auth.login_failed",
        "user",
        user.id if user else None,
        after={"email": address, "channel": channel, "reason": reason},
        actor=Actor.system(f"sign-in ({channel})"),
    )
    if user is not None and reason == "credentials":
        user.failed_logins += 1
        if user.failed_logins >= current_app.config["LOGIN_LOCKOUT_THRESHOLD"]:
            minutes = current_app.config["LOGIN_LOCKOUT_MINUTES"]
            user.locked_until = utcnow() + timedelta(minutes=minutes)
            user.failed_logins = 0
            audit.record(
                tenant_id,
                "user.locked",
                "user",
                user.id,
                after={"until": user.locked_until.isoformat()},
                actor=Actor.system("sign-in lockout"),
            )
            outbox.add(
                "mail.account_locked", {"user_id": user.id}, tenant_id=tenant_id, queue="mail"
            )
    uow.commit()


def unlock(user: User, actor: Actor | None = None) -> User:
    """A program admin lifts a lockout before it runs out."""
    if not is_locked(user) and not user.failed_logins:
        return user
    user.locked_until = None
    user.failed_logins = 0
    db.session.flush()
    audit.record(user.tenant_id, "user.unlocked", "user", user.id, actor=actor)
    return user


def end_sessions(user: User, actor: Actor | None = None) -> User:
    """Sign a person out everywhere: every browser session and API token stops working."""
    user.session_version += 1
    db.session.flush()
    audit.record(user.tenant_id, "user.sessions_ended", "user", user.id, actor=actor)
    return user


def set_active(user: User, active: bool, actor: Actor | None = None) -> User:
    """Disable or re-enable a person. Disabling ends their sessions and API tokens at once."""
    if user.active == active:
        return user
    user.active = active
    if not active:
        user.session_version += 1
    db.session.flush()
    audit.record(
        user.tenant_id,
        "user.enabled" if active else "user.disabled",
        "user",
        user.id,
        before={"active": not active},
        after={"active": active},
        actor=actor,
    )
    return user


def create_platform_user(email: str, name: str, role: str, password: str) -> PlatformUser:
    email, errors = _check_email(email)
    errors |= {**_check_password(password, email, name), **_check_roles([role], PLATFORM_ROLE_KEYS)}
    if db.session.execute(select(PlatformUser).where(PlatformUser.email == email)).first():
        errors["email"] = [f"{email} already has a platform account."]
    if errors:
        raise ValidationFailed(errors)
    user = PlatformUser(email=email, name=name, role=role, password_hash=hash_password(password))
    db.session.add(user)
    db.session.flush()
    return user


def change_password(user: User, current: str, new: str) -> User:
    """A person replaces their own password; the current one proves it is them."""
    if not verify_password(user.password_hash, current):
        raise ValidationFailed({"current_password": ["This is not your current password."]})
    return set_password(user, new, actor=Actor.of(user))


def authenticate_platform(email: str, password: str) -> PlatformUser | None:
    user = db.session.execute(
        select(PlatformUser).where(PlatformUser.email == normalise_email(email))
    ).scalar_one_or_none()
    ok = verify_password(user.password_hash if user else None, password)
    return user if ok and user is not None and user.active else None
