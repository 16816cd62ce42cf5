"""Private calendar feeds: each person's visits, panel sessions and deadlines as iCalendar.

A person makes a secret feed address on their account page and gives it to their calendar
app, which fetches it without a session: the secret is the credential, so only its digest
is kept, a new address revokes the old one, and a new password, "sign out everywhere" or
a disabled account ends it like every session and token.

What a feed shows, and how its events carry changes, is ``calendar_events``; this module
keeps the address and writes the document.
"""

from __future__ import annotations

from datetime import timedelta

from icalendar import Calendar, Event
from sqlalchemy import select

from app.extensions import db
from app.models.base import utcnow
from app.models.calendar_feed import CalendarFeed
from app.models.user import User
from app.services import audit, calendar_events
from app.services.actors import Actor
from app.tenants.resolution import current_tenant

#: How often a calendar app is asked to fetch the feed again.
REFRESH = timedelta(hours=1)
PRODID = "-//Parley//Calendar feed//EN"


# -- the address -----------------------------------------------------------------------------


def live_feed(user: User) -> CalendarFeed | None:
    """The person's feed address that still works, if they have one."""
    row = db.session.execute(
        select(CalendarFeed)
        .where(CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None))
        .order_by(CalendarFeed.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return row if row is not None and _works(row, user) else None


def _works(row: CalendarFeed, user: User) -> bool:
    return row.revoked_at is None and user.active and row.session_version == user.session_version


def create(user: User) -> str:
    """A new feed address for ``user`` (the old one stops working); the plain secret is
    returned once, to be shown once, and never stored."""
    from app.security.digests import digest, new_secret

    _revoke_all(user)
    secret = new_secret()
    row = CalendarFeed(
        tenant_id=user.tenant_id,
        user_id=user.id,
        token_hash=digest(secret),
        session_version=user.session_version,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        user.tenant_id,
        "calendar_feed.created",
        "calendar_feed",
        row.id,
        after={"user_id": user.id},
        actor=Actor.of(user),
    )
    return secret


def revoke(user: User, calendar_feed_id: int | None = None) -> bool:
    """Stop ``user``'s feed address (only the one ``calendar_feed_id`` names, when given);
    False when there was none to stop."""
    return _revoke_all(user, calendar_feed_id) > 0


def _revoke_all(user: User, calendar_feed_id: int | None = None) -> int:
    query = select(CalendarFeed).where(
        CalendarFeed.user_id == user.id, CalendarFeed.revoked_at.is_(None)
    )
    if calendar_feed_id is not None:
        query = query.where(CalendarFeed.id == calendar_feed_id)
    rows = db.session.execute(query).scalars()
    count = 0
    for row in rows:
        row.revoked_at = utcnow()
        audit.record(
            user.tenant_id,
            "calendar_feed.revoked",
            "calendar_feed",
            row.id,
            after={"user_id": user.id},
            actor=Actor.of(user),
        )
        count += 1
    db.session.flush()
    return count


def owner(secret: str) -> User | None:
    """The person whose live feed address ``secret`` is, in this district; else None. A
    district whose subscription ended shows nothing but billing and its export, and no
    calendar either (its data is kept; a new subscription brings the feeds back)."""
    from app.security.digests import digest
    from app.services.billing import standing

    if standing(current_tenant()).state == "closed":
        return None
    row = db.session.execute(
        select(CalendarFeed).where(CalendarFeed.token_hash == digest(secret))
    ).scalar_one_or_none()
    if row is None or not _works(row, row.user):
        return None
    return row.user


# -- the document ----------------------------------------------------------------------------


def ics(user: User, case_url=None) -> bytes:
    """``user``'s feed as an iCalendar document; ``case_url(case_id)`` links each event to
    its case page where it has one."""
    tenant = current_tenant()
    calendar = Calendar.new(
        prodid=PRODID,
        name=f"{tenant.name}: {user.name}",
        refresh_interval=REFRESH,
        calscale="GREGORIAN",
        uid=calendar_events.uid("calendar", user.id),
    )
    for entry in calendar_events.entries(user):
        event = Event.new(
            uid=entry.uid,
            start=entry.day,
            end=entry.day + timedelta(days=1),
            summary=entry.summary,
            sequence=entry.sequence,
            stamp=entry.modified,
            last_modified=entry.modified,
            status="CANCELLED" if entry.cancelled else "CONFIRMED",
            transparency="TRANSPARENT",
            location=entry.location,
            description=entry.description,
            url=case_url(entry.case_id) if case_url and entry.case_id else None,
        )
        calendar.add_component(event)
    return calendar.to_ical()
