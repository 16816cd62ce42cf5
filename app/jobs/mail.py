"""Mail jobs. Each records every message the server accepts, the moment it accepts it.

A job may run more than once (RQ delivers at least once; a worker may die mid-job and
its job run again), so every recipient is looked up in ``sent_mails`` before the send
and recorded right after it, and the record is committed before anything else goes
out: the next recipient's send, the job's end (its row marked done in the same commit,
``app.jobs.runner``), or its failure (``_keeps_records``, before the runner's rollback). A run
again skips everyone already told, and a crash repeats at most the one message in
flight, with the same Message-ID.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import lru_cache, wraps

from flask import current_app, render_template
from flask_babel import force_locale, gettext
from sqlalchemy import Select, and_, bindparam, select

from app import i18n
from app.core import uow
from app.extensions import db
from app.models.case import Case
from app.models.outbox import SentMail
from app.models.tenant import Tenant
from app.models.user import User
from app.services import labels, mailer
from app.services.recipients import recipients_query
from app.tenants.scoping import scoped


def _already_sent(message_id: str, to: str) -> bool:
    return (
        db.session.execute(
            select(SentMail.id).where(SentMail.outbox_id == message_id, SentMail.recipient == to)
        ).first()
        is not None
    )


#: Set on the session while the record of a message that went out is not yet committed.
_UNCOMMITTED_RECORD = "parley_uncommitted_sent_mail"


def _commit_sent_record() -> None:
    """Commit the record of the message that went out last, if it is not committed yet.

    The commit also keeps whatever the job wrote for that message (a reset link's hash):
    what a person was sent is never rolled back by a later recipient's failure.
    """
    if db.session.info.pop(_UNCOMMITTED_RECORD, False):
        uow.commit()


def _keeps_records(handler: Callable[[dict, str], None]) -> Callable[[dict, str], None]:
    """A mail job that fails after a send commits that send's record before the failure
    reaches the runner (whose rollback would otherwise take the record with it)."""

    @wraps(handler)
    def run(payload: dict, message_id: str) -> None:
        try:
            handler(payload, message_id)
        except Exception:
            try:
                _commit_sent_record()
            except Exception:
                current_app.logger.exception("mail %s: a sent mail went unrecorded", message_id)
            raise

    return run


def _send_once(
    message_id: str,
    tenant: Tenant,
    to: str,
    subject: str,
    body: str,
    *,
    already_sent: bool | None = None,
) -> None:
    """Send unless this message already reached ``to``, and record it.

    ``already_sent`` is what the caller read for ``to`` in this run (a run holds its row
    alone, so nobody else records for it meanwhile); without it the record is looked up.
    The previous recipient's record commits before this send; this one's commits with the
    next send, the job's end (one commit with its row done), or its failure.
    """
    if already_sent is None:
        already_sent = _already_sent(message_id, to)
    if already_sent:
        return
    _commit_sent_record()
    header = mailer.message_id_for(message_id, to)
    mailer.send(mailer.build_message(to, subject, body, message_id=header))
    db.session.add(
        SentMail(
            outbox_id=message_id,
            tenant_id=tenant.id,
            recipient=to,
            message_id=header,
            subject=subject,
        )
    )
    db.session.info[_UNCOMMITTED_RECORD] = True
    uow.after_commit(lambda: db.session.info.pop(_UNCOMMITTED_RECORD, None))


@_keeps_records
def send_welcome(payload: dict, message_id: str) -> None:
    """Welcome a new user to their district's portal, with the sign-in address."""
    user = db.session.execute(
        select(User).where(User.id == payload["user_id"])
    ).scalar_one_or_none()
    if user is None:
        return
    tenant = db.session.get(Tenant, user.tenant_id)
    with force_locale(i18n.for_person(user, tenant)):
        subject = gettext("Welcome to %(district)s on Parley", district=tenant.name)
        body = render_template("mail/welcome.txt", user=user, tenant=tenant)
    _send_once(message_id, tenant, user.email, subject, body)


_WORDS = {"ct": "consulting teacher", "pa": "PA", "par": "PAR"}


def step_words(template: str) -> str:
    """A notification key in words for a subject line: ``ct_assigned`` -> "Consulting teacher
    assigned" (keys are a district's own, so they are spelled out, not looked up)."""
    words = [_WORDS.get(word, word) for word in template.split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


@_keeps_records
def send_case_notice(payload: dict, message_id: str) -> None:
    """Tell the people a transition concerns that their case changed (never the content).

    Evaluation details stay in the portal; the e-mail names the step and links there, and
    its template is given the case's number, nothing of the case itself. One statement
    before the first send: the people with whether this message already reached each,
    beside the district (a notice is the busiest job there is).
    """
    case_id = payload["case_id"]
    told = _told(frozenset(payload["to"]))
    rows = db.session.execute(told, {"case_id": case_id, "message_id": message_id}).all()
    if not rows:
        return  # no such case, or nobody it names to tell
    tenant = rows[0].Tenant
    step = step_words(payload["template"])
    subject = f"{tenant.name}: {step}"
    template, extra = _notice_template(payload, case_id)
    for person, _tenant, already_sent in rows:
        with force_locale(i18n.for_person(person, tenant)):
            body = render_template(
                template, user=person, tenant=tenant, step=step, case_id=case_id, **extra
            )
        _send_once(message_id, tenant, person.email, subject, body, already_sent=already_sent)


@lru_cache(maxsize=64)
def _told(names: frozenset[str]) -> Select:
    """``send_case_notice``'s statement for a notice to ``names``, built once per set of
    names (a district's steps name a handful), the case and the message bound: building
    it and computing its cache key for every notice was a tenth of the worker's time."""
    return scoped(
        recipients_query(bindparam("case_id"), names)
        .join_from(Case, Tenant, Tenant.id == Case.tenant_id)
        .outerjoin_from(
            User,
            SentMail,
            and_(SentMail.outbox_id == bindparam("message_id"), SentMail.recipient == User.email),
        )
        .add_columns(Tenant, SentMail.id.is_not(None))
    )


def _notice_template(payload: dict, case_id: int) -> tuple[str, dict]:
    """A step with its own template (``mail/<template>.txt``) uses it, with what the notice
    names (a status report, the day an appeal window closes); every other step uses the one
    generic notice. Either way the mail says that something happened, never its content."""
    from jinja2 import TemplateNotFound

    name = f"mail/{payload['template']}.txt"
    try:
        current_app.jinja_env.get_template(name)
    except TemplateNotFound:
        return "mail/case_notice.txt", {}
    extra: dict = {"closes_on": payload.get("closes_on")}
    report_id = payload.get("status_report_id")
    if report_id is not None:
        from app.models.status_report import StatusReport

        extra["report"] = db.session.execute(
            select(StatusReport).where(
                StatusReport.id == report_id, StatusReport.case_id == case_id
            )
        ).scalar_one_or_none()
    return name, extra


@_keeps_records
def send_survey_invitation(payload: dict, message_id: str) -> None:
    """A personal survey link (or a reminder); the same link however often the job runs."""
    from app.models.survey import SurveyInvitation, SurveyRound
    from app.services.surveys import token_for

    invitation = db.session.execute(
        select(SurveyInvitation).where(SurveyInvitation.id == payload["invitation_id"])
    ).scalar_one_or_none()
    if invitation is None or invitation.used or invitation.expires_on < date.today():
        return
    person = db.session.execute(
        select(User).where(User.id == invitation.user_id)
    ).scalar_one_or_none()
    if person is None:
        return
    tenant = db.session.get(Tenant, invitation.tenant_id)
    survey = db.session.get(SurveyRound, invitation.round_id)
    with force_locale(i18n.for_person(person, tenant)):
        title = f"{tenant.name}: {labels.survey_words(survey, 'title', english=survey.title)}"
        subject = gettext("Reminder: %(title)s", title=title) if payload.get("reminder") else title
        body = render_template(
            "mail/survey.txt",
            user=person,
            tenant=tenant,
            survey=survey,
            token=token_for(invitation),
            invitation=invitation,
        )
    _send_once(message_id, tenant, person.email, subject, body)


@_keeps_records
def send_billing_notice(payload: dict, message_id: str) -> None:
    """Tell the district's program admins that its billing state changed."""
    from app.services.people import holders

    tenant = db.session.get(Tenant, payload["tenant_id"])
    words = {
        "active": "your subscription is active",
        "trialing": "your trial is running",
        "past_due": "a payment failed; the portal becomes read-only after the grace period",
        "canceled": "the subscription is canceled; the portal is closed, your data is kept "
        "and can be exported from the billing page",
    }
    subject = f"{tenant.name}: billing update"
    for admin in db.session.execute(holders("program_admin")).scalars():
        body = render_template(
            "mail/billing.txt",
            user=admin,
            tenant=tenant,
            text=words.get(payload["status"], payload["status"]),
        )
        _send_once(message_id, tenant, admin.email, subject, body)


@_keeps_records
def send_password_reset(payload: dict, message_id: str) -> None:
    """Mail a fresh single-use link; a retry after a lost send makes a new one (the old dies)."""
    from app.models.user import PasswordReset
    from app.services.password_resets import issue_token

    reset = db.session.execute(
        select(PasswordReset).where(PasswordReset.id == payload["reset_id"])
    ).scalar_one_or_none()
    if reset is None or reset.used_at is not None:
        return
    user = reset.user
    if _already_sent(message_id, user.email):
        return
    tenant = db.session.get(Tenant, reset.tenant_id)
    with force_locale(i18n.for_person(user, tenant)):
        if payload.get("invitation"):
            # A teacher the program accepted: the link to choose a first password.
            template = "mail/invitation.txt"
            subject = gettext("%(district)s: choose your password", district=tenant.name)
        else:
            template = "mail/password_reset.txt"
            subject = gettext("%(district)s: choose a new password", district=tenant.name)
        body = render_template(
            template,
            user=user,
            tenant=tenant,
            token=issue_token(reset),
            minutes=current_app.config["PASSWORD_RESET_TTL_MINUTES"],
            expires_on=reset.expires_at.date().isoformat(),
        )
    _send_once(message_id, tenant, user.email, subject, body)


@_keeps_records
def send_account_locked(payload: dict, message_id: str) -> None:
    """Tell a person their account was locked by failed sign-ins (perhaps not theirs)."""
    user = db.session.execute(
        select(User).where(User.id == payload["user_id"])
    ).scalar_one_or_none()
    if user is None or user.locked_until is None:
        return
    tenant = db.session.get(Tenant, user.tenant_id)
    with force_locale(i18n.for_person(user, tenant)):
        subject = gettext("%(district)s: sign-in locked", district=tenant.name)
        body = render_template("mail/account_locked.txt", user=user, tenant=tenant)
    _send_once(message_id, tenant, user.email, subject, body)
