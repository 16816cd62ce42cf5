"""The teacher's appeal of an approved decision, inside the track's window of working days.

A track that says ``appeal:`` lets the case's teacher appeal the final authority's
approval once, until the ``window_working_days``-th working day after the approval's date
(the district calendar says which days work). Filing puts the case under appeal and
changes nothing else; the body the configuration names then decides:

- ``final_authority``: a person holding the final authority's role grants or denies;
- ``arbiter``: a coordinator records the outside arbiter's award;
- ``appeal_panel``: panel members who did not sit on the decision (no attendance or ballot
  in the session that decided it) and are not recused vote, and a coordinator closes the
  vote; the appeal's own ``decision_rule`` says how many grants carry it.

Granted, the case takes the configured ``granted_outcome`` (and its report group); denied,
the decision stands. Everyone concerned is told through the outbox, in the same
transaction, by a notice that names the step and never the content.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from flask_babel import gettext
from sqlalchemy import bindparam, select

from app.core import outbox
from app.extensions import db
from app.i18n import N_
from app.models.appeal import DENIED, FILED, GRANTED, Appeal, AppealVote
from app.models.base import utcnow
from app.models.case import Case
from app.models.user import User
from app.security.roles import PROGRAM_STAFF
from app.services import audit, calendar, cases, decision_letter, labels
from app.services import workflow_config as configs
from app.services.actors import Actor
from app.services.appeal_panel import appeal_panel, panel_case_ids, vote_refusal, votes_on
from app.services.case_permissions import NotAllowed, require
from app.services.errors import Conflict, ValidationFailed
from app.services.writing import written
from app.tenants.scoping import scoped
from app.workflows import ProgramConfig
from app.workflows.model import AppealRules
from app.workflows.panel import DecisionRule
from app.workflows.vocabulary import TENANT_ROLES

#: The longest grounds kept, in characters.
MAX_LENGTH = 10_000
#: The longest note or arbiter's name kept, in characters.
NOTE_MAX = 4_000
NAME_MAX = 200
#: How many working days before the window closes the teacher is reminded.
REMIND_WORKING_DAYS = 2

#: An appeal's state in words, marked for the catalogues: the page shows them in its reader's
#: language (the teacher reads the section in theirs).
STATUS_WORDS = {
    FILED: N_("Under appeal"),
    GRANTED: N_("Appeal granted"),
    DENIED: N_("Appeal denied"),
}
#: The choice a decision, an award or a vote makes, in words.
CHOICES = (("grant", "Grant the appeal"), ("deny", "Deny the appeal: the decision stands"))


# -- the window ---------------------------------------------------------------------------


def rules_of(case: Case) -> AppealRules | None:
    """The track's appeal rules, or None where the track takes no appeal."""
    return _config(case).tracks[case.track_key].appeal


def window_closes_on(case: Case) -> date | None:
    """The window's last day: the ``window_working_days``-th working day after the date of
    the final authority's approval; None while there is no approved decision, or where the
    track takes no appeal."""
    rules = rules_of(case)
    approval = decision_letter.approval_of(case)
    if rules is None or approval is None or case.closed_at is None or not case.outcome:
        return None
    return calendar.working_days_after(approval.decided_at.date(), rules.window_working_days)


#: Built once (``scoped``): every case page asks whether its decision is under appeal.
_APPEAL_OF = scoped(select(Appeal).where(Appeal.case_id == bindparam("case_id")))


def appeal_of(case: Case) -> Appeal | None:
    """The appeal of the decision on ``case``, if the teacher filed one."""
    return db.session.execute(_APPEAL_OF, {"case_id": case.id}).scalar_one_or_none()


# -- filing --------------------------------------------------------------------------------


def file(case: Case, user: User, grounds: str | None) -> Appeal:
    """The case's teacher appeals the approved decision, once, inside the window."""
    require(case, user, relations=("case_teacher",), what="appeal the decision")
    rules = rules_of(case)
    if rules is None:
        raise Conflict({"grounds": ["This program does not take an appeal of the decision."]})
    closes_on = window_closes_on(case)
    if closes_on is None:
        raise Conflict({"grounds": ["There is no approved decision to appeal yet."]})
    if appeal_of(case) is not None:
        raise Conflict({"grounds": ["You have already appealed this decision."]})
    if utcnow().date() > closes_on:
        raise Conflict({"grounds": [f"The window to appeal closed on {closes_on.isoformat()}."]})
    text = written(
        grounds,
        "grounds",
        limit=MAX_LENGTH,
        empty="Say why you appeal the decision.",
        noun="grounds",
    )
    appeal = Appeal(
        tenant_id=case.tenant_id,
        case_id=case.id,
        filed_by_id=user.id,
        grounds=text,
        closes_on=closes_on,
        body=rules.body,
        status=FILED,
    )
    db.session.add(appeal)
    db.session.flush()
    audit.record(
        case.tenant_id,
        "case.appeal_filed",
        "case",
        case.id,
        after={"appeal_id": appeal.id, "body": rules.body, "closes_on": closes_on.isoformat()},
        actor=Actor.of(user),
    )
    _notify(case, "appeal_filed", ["coordinator", *_BODY_RECIPIENTS[rules.body]])
    return appeal


#: Who is told an appeal waits for them, by the body that decides it.
_BODY_RECIPIENTS = {
    "final_authority": ["final_authority"],
    "appeal_panel": ["panel_member"],
    "arbiter": [],
}


# -- deciding ------------------------------------------------------------------------------


def record_decision(
    case: Case, user: User, choice: str | None, note: str | None, arbiter_name: str | None = None
) -> Appeal:
    """The decision on the appeal by the body it was filed with: the final authority's own
    (:func:`decide`) or the arbiter's award a coordinator records (:func:`record_award`)."""
    appeal = appeal_of(case)
    if appeal is not None and appeal.body == "arbiter":
        return record_award(case, user, arbiter_name, choice, note)
    return decide(case, user, choice, note)


def decide(case: Case, user: User, choice: str | None, note: str | None) -> Appeal:
    """The final authority grants or denies the appeal, saying why."""
    appeal = _pending(case, "final_authority", "appeal_decision")
    if "final_authority" not in user.roles:
        raise NotAllowed({"appeal_decision": [f"Only the {_authority(case)} decides this appeal."]})
    grant = _choice(choice, "appeal_decision")
    text = written(
        note,
        "appeal_note",
        limit=NOTE_MAX,
        empty="Say why, for the record and the teacher.",
        noun="note",
    )
    who = f"the {_authority(case)}"
    words = f"Granted by {who}" if grant else f"Denied by {who}: the decision stands"
    return _conclude(case, appeal, user, grant, text, words)


def record_award(
    case: Case, user: User, arbiter_name: str | None, choice: str | None, note: str | None
) -> Appeal:
    """A coordinator records the outside arbiter's award."""
    appeal = _pending(case, "arbiter", "appeal_decision")
    if "coordinator" not in user.roles:
        raise NotAllowed({"appeal_decision": ["Only a coordinator records the arbiter's award."]})
    name = written(
        arbiter_name,
        "arbiter_name",
        limit=NAME_MAX,
        empty="Name the arbiter who decided.",
        noun="name",
        one_line=True,
    )
    grant = _choice(choice, "appeal_decision")
    text = written(
        note,
        "appeal_note",
        limit=NOTE_MAX,
        empty="Summarize the award, for the record.",
        noun="note",
    )
    words = (
        f"Granted by the arbiter, {name}"
        if grant
        else f"Denied by the arbiter, {name}: the decision stands"
    )
    appeal.arbiter_name = name
    return _conclude(case, appeal, user, grant, text, words)


def vote(case: Case, user: User, choice: str | None) -> AppealVote:
    """A member of the appeal panel votes (or changes their vote) until the vote closes;
    whether they may is worked out now, from live facts."""
    appeal = _pending(case, "appeal_panel", "appeal_vote")
    refusal = vote_refusal(case, user)
    if refusal is not None:
        raise NotAllowed({"appeal_vote": [refusal]})
    grant = _choice(choice, "appeal_vote")
    row = db.session.execute(
        select(AppealVote).where(AppealVote.appeal_id == appeal.id, AppealVote.user_id == user.id)
    ).scalar_one_or_none()
    changed = row is not None
    if row is None:
        row = AppealVote(tenant_id=case.tenant_id, appeal_id=appeal.id, user_id=user.id)
        db.session.add(row)
    row.vote, row.cast_at = ("grant" if grant else "deny"), utcnow()
    db.session.flush()
    # Like the panel's ballots: the audit says that a vote was cast, never how.
    audit.record(
        case.tenant_id,
        "case.appeal_vote_changed" if changed else "case.appeal_vote_cast",
        "case",
        case.id,
        after={"appeal_id": appeal.id, "user_id": user.id},
        actor=Actor.of(user),
    )
    return row


def close_vote(case: Case, user: User) -> Appeal:
    """A coordinator closes the appeal panel's vote: the votes of members still eligible
    count, against the appeal's rule with ``present`` = votes cast and ``seats`` = members
    eligible; an appeal the rule does not carry is denied."""
    appeal = _pending(case, "appeal_panel", "_schema")
    if "coordinator" not in user.roles:
        raise NotAllowed({"_schema": ["Only a coordinator closes the appeal panel's vote."]})
    panel = {m.user_id for m in appeal_panel(case)}
    votes = [v for v in votes_on(appeal) if v.user_id in panel]
    if not votes:
        raise Conflict({"_schema": ["No member of the appeal panel has voted yet."]})
    rule = rules_of(case).decision_rule or DecisionRule("majority")
    grants = sum(1 for v in votes if v.vote == "grant")
    needed = max(rule.votes_needed(present=len(votes), seats=len(panel)), 1)
    grant = grants >= needed
    tally = f"{grants} of {len(votes)} votes to grant; {rule_words(rule, len(panel))}: {needed}"
    words = (
        f"Granted by the appeal panel ({tally})"
        if grant
        else f"Denied by the appeal panel ({tally}): the decision stands"
    )
    return _conclude(case, appeal, user, grant, None, words)


def rule_words(rule: DecisionRule, seats: int) -> str:
    """What the appeal's rule asks for, e.g. "a majority of votes cast needed"."""
    base = f"of the {seats} eligible members" if rule.of == "seats" else "of votes cast"
    if rule.kind == "majority":
        return f"a majority {base} needed"
    if rule.kind == "unanimity":
        return f"every vote {base} needed" if rule.of != "seats" else f"all {seats} needed"
    if rule.at_least is not None:
        return f"at least {rule.at_least} votes needed"
    return f"at least {(rule.fraction or 0):.0%} {base} needed"


def _conclude(
    case: Case, appeal: Appeal, user: User, grant: bool, note: str | None, words: str
) -> Appeal:
    config = _config(case)
    before = {"outcome": case.outcome, "report_group": case.report_group, "appeal": FILED}
    appeal.status = GRANTED if grant else DENIED
    appeal.decided_at, appeal.decided_by_id = utcnow(), user.id
    appeal.decision_note, appeal.decision_words = note, words
    if grant:
        granted = rules_of(case).granted_outcome
        case.outcome, case.report_group = granted, config.outcomes[granted].group
    db.session.flush()
    audit.record(
        case.tenant_id,
        "case.appeal_decided",
        "case",
        case.id,
        before=before,
        after={
            "outcome": case.outcome,
            "report_group": case.report_group,
            "appeal": appeal.status,
            "decided": words,
        },
        actor=Actor.of(user),
    )
    _notify(case, "appeal_decided", ["case_teacher", "coordinator"])
    return appeal


# -- the case page -------------------------------------------------------------------------


@dataclass(frozen=True)
class AppealSection:
    """What the case page's appeal section shows one reader."""

    body: str
    #: Who decides, in the reader's language ("the Superintendent", "an appeal panel", "an
    #: outside arbiter").
    body_words: str
    closes_on: date | None
    #: The window's length in working days, as the track sets it.
    working_days: int | None
    appeal: Appeal | None
    #: The decision appealed, as its outcome's label (the deciding body may not otherwise
    #: read the decision section).
    outcome_label: str | None
    granted_label: str
    may_file: bool
    #: Whether the reader reads the grounds and the decision's note.
    reads_grounds: bool
    may_decide: bool
    may_record_award: bool
    may_vote: bool
    #: Why a panel member who reads the case may not vote on its appeal, in a sentence.
    vote_refusal: str | None
    my_vote: str | None
    may_close: bool
    votes_cast: int
    panel_size: int

    @property
    def under_appeal(self) -> bool:
        return self.appeal is not None and self.appeal.status == FILED

    @property
    def window_open(self) -> bool:
        return self.closes_on is not None and utcnow().date() <= self.closes_on

    @property
    def status(self) -> str | None:
        """The appeal's state (filed, granted, denied); None while none is filed."""
        return self.appeal.status if self.appeal else None

    @property
    def filed_on(self) -> date | None:
        return self.appeal.filed_at.date() if self.appeal else None

    @property
    def decided_on(self) -> date | None:
        decided = self.appeal.decided_at if self.appeal else None
        return decided.date() if decided else None

    @property
    def status_words(self) -> str | None:
        return gettext(STATUS_WORDS[self.appeal.status]) if self.appeal else None


def for_page(case: Case, reader: User) -> AppealSection | None:
    """What the case page shows ``reader`` in the appeal section;
    None while there is nothing to show."""
    rules = rules_of(case)
    appeal = appeal_of(case)
    body = appeal.body if appeal else (rules.body if rules else None)
    if body is None:
        return None
    closes_on = appeal.closes_on if appeal else window_closes_on(case)
    if appeal is None and closes_on is None:
        return None
    relations = cases.relations(case, reader)
    staff = bool(reader.roles & PROGRAM_STAFF)
    teacher = "case_teacher" in relations
    pending = appeal is not None and appeal.status == FILED
    panelist = body == "appeal_panel" and appeal is not None and _on_appeal_panel(case, reader)
    # A panel member who reads the case but may not vote learns why, rather than nothing.
    member = pending and body == "appeal_panel" and "panel_member" in reader.roles
    if not (teacher or staff or panelist or member or "assigned_ct" in relations):
        return None
    refusal = vote_refusal(case, reader) if member else None
    config = _config(case)
    votes = votes_on(appeal) if appeal is not None and body == "appeal_panel" else []
    mine = next((v.vote for v in votes if v.user_id == reader.id), None)
    return AppealSection(
        body=body,
        body_words=_body_words(case, body, gettext),
        closes_on=closes_on,
        working_days=rules.window_working_days if rules else None,
        appeal=appeal,
        outcome_label=labels.outcome_label(case) if case.outcome else None,
        granted_label=config.outcomes[rules.granted_outcome].label if rules else "",
        may_file=(
            teacher
            and appeal is None
            and rules is not None
            and closes_on is not None
            and utcnow().date() <= closes_on
        ),
        reads_grounds=teacher or staff or panelist,
        may_decide=pending and body == "final_authority" and "final_authority" in reader.roles,
        may_record_award=pending and body == "arbiter" and "coordinator" in reader.roles,
        may_vote=member and panelist and refusal is None,
        vote_refusal=refusal,
        my_vote=mine,
        may_close=pending and body == "appeal_panel" and "coordinator" in reader.roles,
        votes_cast=len(votes),
        panel_size=len(appeal_panel(case)) if pending and body == "appeal_panel" else 0,
    )


def waiting_for(body: str) -> list[tuple[Case, Appeal]]:
    """Appeals filed and not yet decided whose deciding body is ``body``, oldest first."""
    return [
        (case, appeal)
        for appeal, case in db.session.execute(
            select(Appeal, Case)
            .join(Case, Case.id == Appeal.case_id)
            .where(Appeal.status == FILED, Appeal.body == body)
            .order_by(Appeal.filed_at, Appeal.id)
        ).all()
    ]


def _on_appeal_panel(case: Case, reader: User) -> bool:
    return (
        db.session.execute(
            select(Appeal.case_id).where(
                Appeal.case_id == case.id, Appeal.case_id.in_(panel_case_ids(reader))
            )
        ).first()
        is not None
    )


def _body_words(case: Case, body: str, say: Callable[..., str] | None = None) -> str:
    """Who decides ``body``'s appeals, in words: in English for a refusal (the API's
    errors are English), in the reader's language for the page (``say=gettext``)."""
    say = say or _english
    if body == "final_authority":
        return say(_THE_AUTHORITY, authority=_authority(case))
    return say(_BODY_WORDS[body])


_THE_AUTHORITY = N_("the %(authority)s")
_BODY_WORDS = {"appeal_panel": N_("an appeal panel"), "arbiter": N_("an outside arbiter")}


def _english(text: str, **values: str) -> str:
    return text % values if values else text


# -- shared --------------------------------------------------------------------------------


_FINAL_AUTHORITY = next(r.label for r in TENANT_ROLES if r.key == "final_authority")


def _authority(case: Case) -> str:
    authority = _config(case).final_authority
    return authority.label if authority else _FINAL_AUTHORITY


def _config(case: Case) -> ProgramConfig:
    return configs.config_of(case.workflow_version)


def _pending(case: Case, body: str, field: str) -> Appeal:
    appeal = appeal_of(case)
    if appeal is None or appeal.status != FILED:
        raise Conflict({field: ["There is no appeal waiting for a decision on this case."]})
    if appeal.body != body:
        raise Conflict({field: [f"This appeal is decided by {_body_words(case, appeal.body)}."]})
    return appeal


def _choice(choice: str | None, field: str) -> bool:
    if choice not in ("grant", "deny"):
        raise ValidationFailed({field: ["Choose to grant or to deny the appeal."]})
    return choice == "grant"


def _notify(case: Case, template: str, to: list[str]) -> None:
    outbox.case_notice(case.id, case.tenant_id, template, to)
