"""The decision on a case as its teacher learns it: on the case page and as a letter (PDF).

The panel's decision reaches the teacher only once the final authority has approved it
and the case is closed with an outcome: before that it is a recommendation to someone
else. What the teacher reads is the outcome's label, the panel's decision sentence (which
rule produced it, never a ballot: ballots are sealed) and who approved it by role. The
consulting teacher's final report is added only where the track shares it with the
teacher. Where the track gives the teacher a window to respond, their written response
travels with the decision: on the case page and at the end of the letter. The letter is
small and rendered when asked for, so no job or stored file is needed and it always says
what the record says now, the acknowledgments of receipt included; it is signed by the
district (PAdES, ``document_signing.sign_pdf``) each time, so any copy can be checked.
The letter speaks the reader's language (English, Spanish or Haitian Creole), with the
program's own labels as its configuration translates them.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from xml.sax.saxutils import escape

from flask_babel import gettext as _
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer
from sqlalchemy import select

from app.extensions import db
from app.models.base import utcnow
from app.models.case import Case
from app.models.panel import AgendaItem, FinalDecision
from app.models.response import CaseResponse
from app.models.tenant import Tenant
from app.models.user import User
from app.security.roles import PROGRAM_STAFF
from app.services import cases, document_signing, labels, signatures, support
from app.services import workflow_config as configs
from app.services.errors import NotFound
from app.services.panel.ballots import decision_words
from app.workflows import Track
from app.workflows.vocabulary import TENANT_ROLES

#: What a track lists to share the consulting teacher's final report with the teacher.
FINAL_REPORT = "recommendation"

#: The decision's key among the documents people acknowledge (``signatures``).
DOCUMENT = "decision"


@dataclass(frozen=True)
class Decision:
    """The approved decision on one case, as its teacher (and the letter) says it."""

    case_id: int
    district: str
    program: str
    teacher: str
    school_year: str
    rating: str
    sentence: str | None  # None where the track has no panel (its authority decides alone)
    decided_on: date
    #: The approving role as the configuration names it ("Superintendent"), never a person.
    approved_by: str
    #: The consulting teacher's final report, only where the track shares it with the teacher.
    final_report: str | None
    #: The last day the teacher may respond (the approval's date plus the track's window);
    #: None where the track gives no window.
    respond_by: date | None = None
    #: Whether this reader may respond now: the case's teacher, inside the window, once.
    may_respond: bool = False
    #: The teacher's written response and the day it was given, once there is one.
    response: str | None = None
    responded_on: date | None = None


def may_read(case: Case, user: User) -> bool:
    """The decision is the teacher's to read, and their CT's and the program staff's; a
    principal reads it only where the track asks the principal to acknowledge it (one
    cannot acknowledge receipt of what one never received); a panel member who sees the
    case otherwise does not get the letter."""
    track = configs.config_of(case.workflow_version).tracks[case.track_key]
    readers = {"case_teacher", "assigned_ct"} | set(track.acknowledged_by)
    return bool(cases.relations(case, user) & readers) or bool(user.roles & PROGRAM_STAFF)


def _reads_final_report(case: Case, reader: User, track: Track) -> bool:
    """The CT and the program staff read the CT's final report; the teacher where the
    track shares it with them, the principal where it shares it with the principal."""
    relations = cases.relations(case, reader)
    if "assigned_ct" in relations or reader.roles & PROGRAM_STAFF:
        return True
    if "case_teacher" in relations:
        return shares_final_report(track)
    return FINAL_REPORT in track.shared_with_principal


def shares_final_report(track: Track) -> bool:
    """Whether the track shares the CT's final report with the teacher.

    A track says what it shares with the teacher in ``shared_with_teacher``; a track that
    says nothing shares nothing, so the teacher never reads evaluation material by default.
    """
    return FINAL_REPORT in track.shared_with_teacher


def decision_for(case: Case, reader: User) -> Decision | None:
    """The approved decision on ``case`` for ``reader``, or None when there is none yet
    (the case is open, was closed without an approval, or the reader may not read it)."""
    if case.closed_at is None or not case.outcome or not may_read(case, reader):
        return None
    approval = approval_of(case)
    if approval is None:
        return None
    item = (
        None
        if approval.item_id is None
        else db.session.execute(
            select(AgendaItem).where(AgendaItem.id == approval.item_id)
        ).scalar_one()
    )
    config = configs.config_of(case.workflow_version)
    track = config.tracks[case.track_key]
    decided_on = approval.decided_at.date()
    first, last = config.school_year(decided_on)
    authority = config.final_authority
    report = None
    if _reads_final_report(case, reader, track):
        recommendation = support.recommendation(case)
        report = recommendation.rationale if recommendation else None
    respond_by = response_closes_on(track, decided_on)
    response = response_of(case)
    return Decision(
        case_id=case.id,
        district=_district(case),
        program=config.program.name,
        teacher=case.teacher.name,
        school_year=f"{first.year}-{last.year}",
        rating=labels.outcome_label(case),
        sentence=decision_words(item) if item is not None else None,
        decided_on=decided_on,
        approved_by=authority.label if authority else _FINAL_AUTHORITY,
        final_report=report,
        respond_by=respond_by,
        may_respond=(
            response is None
            and respond_by is not None
            and utcnow().date() <= respond_by
            and "case_teacher" in cases.relations(case, reader)
        ),
        response=response.text if response else None,
        responded_on=response.submitted_at.date() if response else None,
    )


def response_closes_on(track: Track, decided_on: date) -> date | None:
    """The last day of the track's window to respond, counted in calendar days from the
    approval's date; None where the track gives the teacher no window."""
    if track.response_window_days is None:
        return None
    return decided_on + timedelta(days=track.response_window_days)


def response_of(case: Case) -> CaseResponse | None:
    """The teacher's written response to the decision on ``case``, if they gave one."""
    return db.session.execute(
        select(CaseResponse).where(CaseResponse.case_id == case.id)
    ).scalar_one_or_none()


def letter_for(case: Case, reader: User) -> bytes:
    """The decision letter as a PDF; "not found" for anyone but the teacher, their CT and
    the program staff, and while there is no approved decision (it names no reason, like
    a case of another district)."""
    decision = decision_for(case, reader)
    if decision is None:
        raise NotFound({"case": ["Not found."]})
    letter = render(decision, signatures.signatures_of(case, DOCUMENT))
    return document_signing.sign_pdf(letter, reason=f"Decision letter, case {case.id}")


_FINAL_AUTHORITY = next(r.label for r in TENANT_ROLES if r.key == "final_authority")


def approval_of(case: Case) -> FinalDecision | None:
    """The final authority's latest word on the case, if it was an approval."""
    latest = db.session.execute(
        select(FinalDecision)
        .where(FinalDecision.case_id == case.id)
        .order_by(FinalDecision.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    return latest if latest is not None and latest.approved else None


def _district(case: Case) -> str:
    return db.session.execute(select(Tenant.name).where(Tenant.id == case.tenant_id)).scalar_one()


def render(decision: Decision, acknowledged: Sequence[signatures.Signature] = ()) -> bytes:
    """One page: the district, the teacher, the school year, the final rating, the panel's
    decision and who approved it when; no ballot and no tally. The acknowledgments so far
    close it: who, in which part, the name they typed, when, and what they signed."""
    styles = getSampleStyleSheet()

    def line(text: str, style: str = "Normal") -> Paragraph:
        return Paragraph(escape(text), styles[style])

    story = [
        line(decision.district, "Title"),
        line(_("%(program)s: the decision on your case", program=decision.program), "Heading2"),
        line(_("Teacher: %(name)s", name=decision.teacher)),
        line(_("School year: %(year)s", year=decision.school_year)),
        Spacer(1, 0.2 * inch),
        line(_("Final rating: %(rating)s", rating=decision.rating), "Heading2"),
        *(
            [line(_("Panel: %(sentence)s.", sentence=decision.sentence))]
            if decision.sentence
            else []
        ),
        line(
            _(
                "Approved by: %(who)s, on %(day)s.",
                who=decision.approved_by,
                day=decision.decided_on.isoformat(),
            )
        ),
    ]
    if decision.response is not None:
        story += [
            Spacer(1, 0.2 * inch),
            line(_("The teacher's response"), "Heading2"),
            line(_("Given on %(day)s.", day=decision.responded_on.isoformat())),
            *(line(part) for part in decision.response.splitlines() if part.strip()),
        ]
    story += [
        Spacer(1, 0.2 * inch),
        line(_("Acknowledgments of receipt"), "Heading2"),
        *(
            [line(_(signatures.STATEMENT), "Italic")]
            if acknowledged
            else [line(_("No one has acknowledged receipt of this letter yet."))]
        ),
    ]
    for signed in acknowledged:
        story.append(
            line(
                _(
                    "%(name)s (%(role)s) typed the name \u201c%(typed)s\u201d on %(at)s UTC: "
                    "\u201c%(statement)s\u201d",
                    name=signed.name,
                    role=signed.role,
                    typed=signed.typed_name,
                    at=signed.at.strftime("%Y-%m-%d %H:%M"),
                    statement=_(signed.statement),
                )
            )
        )
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=letter, title=_("Decision letter")).build(story)
    return buffer.getvalue()
