"""Survey reminders as people see and send them: each round's schedule in words, its last
reminder, and "Send reminders now".

The button queues exactly what the weekly job would (``surveys.remind_due``, limited to one
round), so pressing it after the job ran, or twice in a week, reminds nobody twice; when
nothing is due it says why instead of a bare 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select

from app.extensions import db
from app.models.survey import SurveyInvitation, SurveyRound
from app.services import audit, surveys
from app.services.actors import Actor
from app.services.surveys import MAX_REMINDERS, REMIND_EVERY


@dataclass(frozen=True)
class Reminders:
    """A round's reminders as the surveys page says them."""

    schedule: str
    last_on: date | None
    last_count: int
    #: Whether "Send reminders now" has anyone it could reach: links were sent and the
    #: survey is still open (imported rounds and closed ones have no one).
    open: bool

    @property
    def last(self) -> str:
        if self.last_on is None:
            return "None sent yet."
        people = "person" if self.last_count == 1 else "people"
        return f"{self.last_on.isoformat()}, to {self.last_count} {people}."


def reminders(today: date | None = None) -> dict[int, Reminders]:
    """Each round's reminder schedule and its last reminder, by round id (the same few
    queries however many rounds)."""
    today = today or date.today()
    per_round = {
        round_id: (invited, last_on)
        for round_id, invited, last_on in db.session.execute(
            select(
                SurveyInvitation.round_id,
                func.count(),
                func.max(SurveyInvitation.last_reminded_on),
            ).group_by(SurveyInvitation.round_id)
        ).all()
    }
    latest = (
        select(
            SurveyInvitation.round_id.label("round_id"),
            func.max(SurveyInvitation.last_reminded_on).label("last_on"),
        )
        .group_by(SurveyInvitation.round_id)
        .subquery()
    )
    last_counts = dict(
        db.session.execute(
            select(SurveyInvitation.round_id, func.count())
            .join(
                latest,
                (latest.c.round_id == SurveyInvitation.round_id)
                & (latest.c.last_on == SurveyInvitation.last_reminded_on),
            )
            .group_by(SurveyInvitation.round_id)
        ).all()
    )
    found = {}
    for row in surveys.rounds():
        invited, last_on = per_round.get(row.id, (0, None))
        found[row.id] = Reminders(
            schedule=_schedule(row, invited, today),
            last_on=last_on,
            last_count=last_counts.get(row.id, 0),
            open=bool(invited) and row.closes_on >= today,
        )
    return found


def _schedule(row: SurveyRound, invited: int, today: date) -> str:
    if not invited:
        return "Imported answers: Parley sent no links for this round, so it reminds no one."
    if row.closes_on < today:
        return f"The survey closed on {row.closes_on.isoformat()}; no more reminders go out."
    return (
        f"Those who have not answered are e-mailed a reminder every {REMIND_EVERY.days} days, "
        f"at most {MAX_REMINDERS} times, until the survey closes on {row.closes_on.isoformat()}."
    )


@dataclass(frozen=True)
class Reminded:
    """What "Send reminders now" did: how many were queued, in words when none were."""

    queued: int
    message: str


def remind_now(row: SurveyRound, actor: Actor, today: date | None = None) -> Reminded:
    """Queue the reminders of ``row`` that are due now, as the weekly job would; audited.

    When none is due the answer says why (everyone answered, the survey closed, everyone
    was reminded this week), never a bare 0.
    """
    today = today or date.today()
    # One press at a time per round: a second waits, then finds everyone just reminded.
    db.session.execute(select(SurveyRound.id).where(SurveyRound.id == row.id).with_for_update())
    queued = surveys.remind_due(today, round_id=row.id)
    name = f"{row.title} ({row.year})"
    if not queued:
        return Reminded(0, f"No reminder queued for {name}: none due: {_why_none(row, today)}")
    audit.record(
        row.tenant_id,
        "survey.reminded",
        "survey_round",
        row.id,
        after={"survey": row.survey_key, "year": row.year, "queued": queued},
        actor=actor,
    )
    people = "person" if queued == 1 else "people"
    return Reminded(queued, f"Queued reminders to {queued} {people} for {name}.")


def _why_none(row: SurveyRound, today: date) -> str:
    """Why no invitation of ``row`` is due a reminder today, in a sentence."""
    waiting = (
        db.session.execute(
            select(SurveyInvitation).where(
                SurveyInvitation.round_id == row.id, SurveyInvitation.used.is_(False)
            )
        )
        .scalars()
        .all()
    )
    invited = db.session.execute(
        select(func.count(SurveyInvitation.id)).where(SurveyInvitation.round_id == row.id)
    ).scalar_one()
    if not invited:
        return "this round's answers were imported; Parley sent no links to remind."
    if not waiting:
        return "everyone invited has answered."
    if all(i.expires_on < today for i in waiting):
        return f"the survey closed on {row.closes_on.isoformat()}."
    open_ = [i for i in waiting if i.expires_on >= today and i.reminders < MAX_REMINDERS]
    if not open_:
        return f"everyone who has not answered was already reminded {MAX_REMINDERS} times."
    dates = sorted({i.last_reminded_on for i in open_ if i.last_reminded_on})
    first = row.created_at.date() + REMIND_EVERY
    if not dates and today < first:
        return (
            f"the links went out on {row.created_at.date().isoformat()}; "
            f"the first reminders are due on {first.isoformat()}."
        )
    if not dates:  # taken by another press at this moment
        return "the reminders are being queued by another request."
    when = f"on {dates[0].isoformat()}" if len(dates) == 1 else f"by {dates[-1].isoformat()}"
    again = (dates[0] + REMIND_EVERY).isoformat()
    return f"everyone was reminded {when}; the next reminders are due on {again}."
