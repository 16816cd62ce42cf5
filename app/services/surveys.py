"""Participant surveys: send a round for a school year, take answers without identity,
track the response rate, remind only those who have not answered.

A link is derived from a random nonce and the app's secret (HMAC), so a mail job
that runs twice sends the same working link; only its SHA-256 is stored. An
answer is stored with a random id and the day only, and the invitation keeps
only the day it was used: nothing joins an answer to a person.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from functools import cache

from flask import current_app
from sqlalchemy import ColumnElement, Select, bindparam, cast, func, select, true, update
from sqlalchemy.dialects.postgresql import JSONB, aggregate_order_by
from sqlalchemy.engine import Row

from app.core import outbox
from app.extensions import db
from app.models.case import Case
from app.models.survey import SurveyInvitation, SurveyResponse, SurveyRound
from app.models.user import User
from app.reports.annual import school_year
from app.reports.survey import SurveyCounts, SurveyRecord
from app.security.digests import digest
from app.services import audit, sql_dialect
from app.services import workflow_config as configs
from app.services.actors import Actor
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.tenants.context import current_tenant_id, require_tenant_id
from app.tenants.scoping import scoped

#: How long a link stays open, and how often non-respondents are reminded.
OPEN_FOR = timedelta(days=30)
REMIND_EVERY = timedelta(days=7)
MAX_REMINDERS = 3
AGREEMENT = frozenset({"strongly_agree", "agree"})


def _survey(tenant_id: int, key: str):
    config = configs.current()
    survey = next((s for s in config.surveys if s.key == key), None)
    if survey is None:
        known = ", ".join(s.key for s in config.surveys) or "none"
        raise ValidationFailed({"survey": [f"Unknown survey '{key}' (this program has {known})."]})
    return config, survey


def frozen_questionnaire(survey) -> dict:
    """The questionnaire as a round keeps it: later edits to the configuration do not
    change what was asked (the benchmark generator writes rounds with the same fields)."""
    return {
        "survey_key": survey.key,
        "title": survey.title,
        "scale": list(survey.scale),
        "statements": [[s.key, s.text] for s in survey.statements],
        "comment_question": survey.comment_question,
    }


def _round(tenant_id: int, key: str, year: str, sent: int, closes_on: date) -> SurveyRound:
    config, survey = _survey(tenant_id, key)
    try:
        school_year(year, config.school_year_start)
    except ValueError as exc:
        raise ValidationFailed({"year": [str(exc)]}) from exc
    row = db.session.execute(
        select(SurveyRound).where(SurveyRound.survey_key == key, SurveyRound.year == year)
    ).scalar_one_or_none()
    if row is None:
        row = SurveyRound(
            tenant_id=tenant_id,
            year=year,
            sent=sent,
            closes_on=closes_on,
            **frozen_questionnaire(survey),
        )
        db.session.add(row)
        db.session.flush()
    return row


def token_for(invitation: SurveyInvitation) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(
        key, f"survey:{invitation.id}:{invitation.nonce}".encode(), hashlib.sha256
    ).hexdigest()[:40]


def participants(year: str) -> list[User]:
    """The teachers whose support overlaps the school year (the report's participants)."""
    config = configs.current()
    span = school_year(year, config.school_year_start)
    return list(
        db.session.execute(
            select(User)
            .where(
                User.id.in_(
                    select(Case.teacher_id).where(
                        Case.started_on.is_not(None),
                        Case.started_on <= span.end,
                        (Case.ended_on.is_(None)) | (Case.ended_on >= span.start),
                    )
                )
            )
            .order_by(User.email)
        ).scalars()
    )


def send(key: str, year: str, actor: Actor) -> SurveyRound:
    """Invite every participant of the year once; each gets a personal link by e-mail."""
    tenant_id = current_tenant_id()
    people = [p for p in participants(year) if p.active]
    if not people:
        raise ValidationFailed({"year": [f"No teacher took part in {year}."]})
    closes_on = date.today() + OPEN_FOR
    row = _round(tenant_id, key, year, 0, closes_on)
    # One send at a time per round: a second click waits and then invites nobody twice.
    db.session.execute(select(SurveyRound.id).where(SurveyRound.id == row.id).with_for_update())
    invited = set(
        db.session.execute(
            select(SurveyInvitation.user_id).where(SurveyInvitation.round_id == row.id)
        ).scalars()
    )
    for person in people:
        if person.id in invited:
            continue
        invitation = SurveyInvitation(
            tenant_id=tenant_id,
            round_id=row.id,
            user_id=person.id,
            nonce=secrets.token_hex(16),
            token_hash="pending",
            expires_on=closes_on,
        )
        db.session.add(invitation)
        db.session.flush()
        invitation.token_hash = digest(token_for(invitation))
        outbox.add(
            "mail.survey_invitation",
            {"invitation_id": invitation.id, "reminder": False},
            tenant_id=tenant_id,
            queue="mail",
        )
    row.sent = len(invited) + len([p for p in people if p.id not in invited])
    row.closes_on = closes_on
    db.session.flush()
    audit.record(
        tenant_id,
        "survey.sent",
        "survey_round",
        row.id,
        after={"survey": key, "year": year, "sent": row.sent},
        actor=actor,
    )
    return row


#: What a link that no longer opens a questionnaire says, whichever the reason.
LINK_CLOSED = "This link is no longer valid: it was used or has expired."
#: The reasons told to the holder of the link (it is their secret; naming why tells a
#: stranger nothing, since a guessed link is unknown and says only that).
LINK_USED = "Your answers have been received. Each link works once, so there is nothing more to do."
LINK_UNKNOWN = "This link is not valid. Check that it was copied whole from the e-mail."
EMPTY_ANSWER = "Answer at least one statement, or write a comment, before sending."


@dataclass(frozen=True)
class ClosedLink:
    """Why a link opens no questionnaire, in words for the person holding it."""

    message: str
    status: int  # 410 for a link that was real (used, expired), 404 for an unknown one


def why_closed(token: str) -> ClosedLink:
    """Why ``token`` opens no questionnaire: answered already, past its survey's close, or
    never a link at all."""
    row = db.session.execute(
        select(SurveyInvitation).where(SurveyInvitation.token_hash == digest(token))
    ).scalar_one_or_none()
    if row is None:
        return ClosedLink(LINK_UNKNOWN, 404)
    if row.used:
        return ClosedLink(LINK_USED, 410)
    return ClosedLink(
        f"This survey closed on {row.expires_on.isoformat()}; the link no longer opens it.", 410
    )


def open_invitation(token: str) -> SurveyInvitation | None:
    """The open invitation behind a link, or None for unknown, used or expired ones alike."""
    row = db.session.execute(
        select(SurveyInvitation).where(SurveyInvitation.token_hash == digest(token))
    ).scalar_one_or_none()
    if row is None or row.used or row.expires_on < date.today():
        return None
    return row


def invitation_for(token: str) -> SurveyInvitation:
    """The open invitation behind a link; 404 for unknown, used or expired ones alike."""
    row = open_invitation(token)
    if row is None:
        raise NotFound({"survey": [LINK_CLOSED]})
    return row


def questions(invitation: SurveyInvitation) -> SurveyRound:
    return db.session.get(SurveyRound, invitation.round_id)


def answer(token: str, answers: dict[str, str], comment: str | None) -> None:
    """Store the answers without identity and close the link (flushes; caller commits)."""
    invitation = invitation_for(token)
    survey = questions(invitation)
    keys = {k for k, _ in survey.statements}
    errors = {
        k: ["Choose one of the answers."]
        for k, v in answers.items()
        if k in keys and v and v not in survey.scale
    }
    unknown = set(answers) - keys
    if unknown:
        errors["_schema"] = [f"Unknown statement: {', '.join(sorted(unknown))}."]
    elif not errors and not any(answers.values()) and not (comment or "").strip():
        # A blank form would spend the link and count as a response that says nothing.
        errors["_schema"] = [EMPTY_ANSWER]
    if errors:
        raise ValidationFailed(errors)
    # Claim the link first, in one statement: of two submissions at once, one wins.
    claimed = db.session.execute(
        update(SurveyInvitation)
        .where(SurveyInvitation.id == invitation.id, SurveyInvitation.used.is_(False))
        .values(used=True)
    ).rowcount
    if claimed != 1:
        raise NotFound({"survey": [LINK_CLOSED]})
    db.session.add(
        SurveyResponse(
            tenant_id=invitation.tenant_id,
            round_id=survey.id,
            submitted_on=date.today(),
            answers={k: v for k, v in answers.items() if v},
            comment=(comment or "").strip() or None,
        )
    )
    db.session.flush()


def rounds() -> list[SurveyRound]:
    return list(
        db.session.execute(
            select(SurveyRound).order_by(SurveyRound.year.desc(), SurveyRound.survey_key)
        ).scalars()
    )


@dataclass(frozen=True)
class RoundStatus:
    round: SurveyRound
    responses: int

    @property
    def rate(self) -> float:
        return round(self.responses / self.round.sent, 3) if self.round.sent else 0.0


def statuses() -> list[RoundStatus]:
    counts = dict(
        db.session.execute(
            select(SurveyResponse.round_id, func.count()).group_by(SurveyResponse.round_id)
        ).all()
    )
    return [RoundStatus(r, counts.get(r.id, 0)) for r in rounds()]


def remind_due(today: date | None = None, round_id: int | None = None) -> int:
    """Queue a reminder for each open, unanswered invitation not reminded this week (of
    one round when ``round_id`` is given); returns how many. The periodic job and the
    coordinator's "Send reminders now" both come here, so pressing the button after the
    job ran (or twice) finds nobody due and reminds no one twice. The first reminder waits
    a week after the invitation itself, like every later one."""
    today = today or date.today()
    week_ago = today - REMIND_EVERY
    sent_by = datetime.combine(week_ago + timedelta(days=1), time.min, tzinfo=UTC)
    query = (
        select(SurveyInvitation)
        .join(SurveyRound, SurveyRound.id == SurveyInvitation.round_id)
        .where(
            SurveyInvitation.used.is_(False),
            SurveyInvitation.expires_on >= today,
            SurveyInvitation.reminders < MAX_REMINDERS,
            (SurveyInvitation.last_reminded_on.is_(None) & (SurveyRound.created_at < sent_by))
            | (SurveyInvitation.last_reminded_on <= week_ago),
        )
    )
    if round_id is not None:
        query = query.where(SurveyInvitation.round_id == round_id)
    due = (
        db.session.execute(query.with_for_update(of=SurveyInvitation, skip_locked=True))
        .scalars()
        .all()
    )
    for invitation in due:
        invitation.reminders += 1
        invitation.last_reminded_on = today
        outbox.add(
            "mail.survey_invitation",
            {"invitation_id": invitation.id, "reminder": True},
            tenant_id=invitation.tenant_id,
            queue="mail",
        )
    db.session.flush()
    return len(due)


def round_by_id(survey_round_id: int) -> SurveyRound | None:
    """One round of this district (None for another district's: the caller answers 404)."""
    return db.session.get(SurveyRound, survey_round_id)


#: A round's questionnaire, the first columns of both ways of reading the year's round.
_QUESTIONNAIRE = (
    SurveyRound.id,
    SurveyRound.survey_key,
    SurveyRound.title,
    SurveyRound.sent,
    SurveyRound.statements,
    SurveyRound.scale,
)


@cache
def year_round_query(comments: bool, counts: bool) -> Select:
    """The statement behind ``_year_round``, built once per shape (the ``year`` is bound),
    for a caller that reads the survey beside other figures in one statement."""
    return year_round_of(bindparam("year"), comments, counts)


def year_round_of(year: ColumnElement, comments: bool, counts: bool) -> Select:
    """``year_round_query`` for the school year ``year`` names: a bound parameter, or a
    column of an outer statement that reads several years' rounds at once (``LATERAL``)."""
    answered = [SurveyResponse.round_id == SurveyRound.id]
    stats = [func.count().label("responses")]
    if comments:
        stats.append(
            func.array_agg(
                aggregate_order_by(
                    SurveyResponse.comment, SurveyResponse.submitted_on, SurveyResponse.id
                )
            )
            .filter(SurveyResponse.comment.is_not(None), SurveyResponse.comment != "")
            .label("comments")
        )
    responses = select(*stats).where(*answered).lateral("responses")
    query = (
        select(
            *_QUESTIONNAIRE,
            *responses.c,
        )
        .select_from(SurveyRound)
        .join(responses, true())
        .where(SurveyRound.year == year)
        .order_by(responses.c.responses.desc(), SurveyRound.survey_key)
        .limit(1)
    )
    if counts:
        answer = func.jsonb_each_text(cast(SurveyResponse.answers, JSONB)).table_valued(
            "key", "value"
        )
        grouped = (
            select(answer.c.key, answer.c.value, func.count().label("n"))
            .select_from(SurveyResponse)
            .join(answer, true())
            .where(*answered)
            .group_by(answer.c.key, answer.c.value)
            .correlate(SurveyRound)
            .subquery("grouped")
        )
        tally = select(
            func.json_agg(func.json_build_array(grouped.c.key, grouped.c.value, grouped.c.n)).label(
                "counts"
            )
        ).lateral("tally")
        query = query.add_columns(tally.c.counts).join(tally, true())
    return query


def _year_round(year: str, comments: bool, counts: bool) -> Row | None:
    """The year's round with the most responses (of two with as many, the first survey
    key) in one statement: its questionnaire, how many responses it has, when asked their
    comments in the order they came, and how many responses gave each answer to each
    statement, counted by PostgreSQL (``counts``: a list of [statement, answer, count]).
    Read as ``jsonb``, a response that named a statement twice counts once, with its last
    answer, as it does once loaded into Python."""
    return db.session.execute(_year_round_alone(comments, counts), {"year": year}).first()


@cache
def _year_round_alone(comments: bool, counts: bool) -> Select:
    """``year_round_query`` read on its own, with the scope's criteria on it (``scoped``;
    inside another statement the outer one carries them)."""
    return scoped(year_round_query(comments, counts))


def counts_for(year: str, comments: bool = True) -> SurveyCounts | None:
    """The year's survey for the annual report and the network (the round with the most
    answers), its answers counted by the database: a year's answers are never loaded one
    by one to be counted. ``comments=False`` leaves the comments in the database, for a
    caller that publishes no text. Off PostgreSQL, ``portable_counts`` counts them."""
    if not sql_dialect.on_postgresql():
        return portable_counts(year, comments)
    return counts_of(_year_round(year, comments=comments, counts=True), comments)


def portable_counts(year: str, comments: bool = True) -> SurveyCounts | None:
    """What ``counts_for`` gives, counted in Python from every answer of the year's round,
    for a database without ``jsonb`` and ``LATERAL`` (the embedded SQLite of ``make run``;
    see ``sql_dialect``). Slower on a large year, which that database never holds: one
    answer per statement per response, blanks in no count, comments in the order the
    answers came."""
    record = _record_of(_busiest_round(year))
    if record is None:
        return None
    counted = record.counted()
    return counted if comments else replace(counted, comments=())


def counts_of(row: Sequence | None, comments: bool) -> SurveyCounts | None:
    """The survey in a row of ``year_round_query(comments, counts=True)`` (its columns in
    order); None when the year has no round."""
    if row is None or row[0] is None:
        return None
    if comments:
        _, key, title, sent, statements, scale, responses, said, tally = row
    else:
        _, key, title, sent, statements, scale, responses, tally = row
        said = ()
    counted: dict[str, dict[str, int]] = {}
    for statement, value, count in tally or ():
        counted.setdefault(statement, {})[value] = count
    return SurveyCounts(
        key=key,
        title=title,
        sent=sent,
        statements=tuple((k, t) for k, t in statements),
        scale=tuple(scale),
        agree_keys=AGREEMENT & set(scale),
        responses=responses,
        counts=counted,
        comments=tuple(said or ()),
    )


def record_for(year: str) -> SurveyRecord | None:
    """The year's survey with every answer (the round with the most answers), for a
    caller that needs the answers themselves; the report counts with ``counts_for``."""
    if sql_dialect.on_postgresql():
        return _record_of(_year_round(year, comments=False, counts=False))
    return _record_of(_busiest_round(year))


def _busiest_round(year: str) -> Row | None:
    """The row ``_year_round(year, comments=False, counts=False)`` reads, without
    ``LATERAL`` (the responses counted by a correlated subquery), for ``portable_counts``
    and ``record_for`` off PostgreSQL."""
    responses = (
        select(func.count())
        .where(SurveyResponse.round_id == SurveyRound.id)
        .correlate(SurveyRound)
        .scalar_subquery()
        .label("responses")
    )
    return db.session.execute(
        select(
            *_QUESTIONNAIRE,
            responses,
        )
        .where(SurveyRound.year == year)
        .order_by(responses.desc(), SurveyRound.survey_key)
        .limit(1)
    ).first()


def _record_of(row: Row | None) -> SurveyRecord | None:
    """The round in ``row`` (its id and questionnaire) with every answer, in the order
    they came."""
    if row is None:
        return None
    answers = db.session.execute(_ANSWERS_OF_ROUND, {"round_id": row.id}).all()
    return SurveyRecord(
        key=row.survey_key,
        title=row.title,
        sent=row.sent,
        statements=tuple((k, t) for k, t in row.statements),
        scale=tuple(row.scale),
        agree_keys=AGREEMENT & set(row.scale),
        answers=tuple(dict(a) for a, _ in answers),
        comments=tuple(c for _, c in answers if c),
    )


#: Built once (``scoped``): a round's answers in the order they came.
_ANSWERS_OF_ROUND = scoped(
    select(SurveyResponse.answers, SurveyResponse.comment)
    .where(SurveyResponse.round_id == bindparam("round_id"))
    .order_by(SurveyResponse.submitted_on, SurveyResponse.id)
)


def imported_round(key: str, year: str, sent: int) -> SurveyRound:
    """The round an import writes into; its ``sent`` is what the district says it sent."""
    tenant_id = require_tenant_id()
    if sent < 0:
        raise ValidationFailed({"sent": ["Give how many were sent (0 or more)."]})
    row = _round(tenant_id, key, year, sent, date.today())
    row.sent = sent
    return row


def ensure_not_linked(row: SurveyRound) -> None:
    if db.session.execute(
        select(SurveyInvitation.id).where(SurveyInvitation.round_id == row.id).limit(1)
    ).first():
        raise Conflict({"survey": ["This round was sent by Parley; import into another year."]})
