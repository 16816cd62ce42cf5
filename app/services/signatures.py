"""Acknowledgments: who acknowledged which document of a case, and when.

A document of a case is named by a key: ``"decision"`` for the approved decision (its
letter), ``"status_report:<id>"`` for a consulting teacher's status report. Whoever the
track's ``acknowledged_by`` lists (the teacher always) acknowledges each document once, by
typing their name under a statement that receipt is not agreement. The PDFs that carry
the acknowledgments are signed by the district (``document_signing``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models.case import Case
from app.models.signing import Acknowledgment
from app.models.user import User
from app.services import audit, cases
from app.services import workflow_config as configs
from app.services.actors import Actor
from app.services.case_permissions import NotAllowed
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.workflows.vocabulary import RELATIONS

#: What every acknowledgment says, and what the letter prints beside each signature.
STATEMENT = (
    "I acknowledge that I received this document. My signature does not mean that I agree with it."
)

#: The relations that may acknowledge, in the order the page and the letter list them.
ACKNOWLEDGING = ("case_teacher", "assigned_ct", "case_principal")

#: Whether a document exists for this reader: ``exists(case, reader, reference)``, where
#: ``reference`` is what follows the colon of the document key ("12" in "status_report:12").
DocumentExists = Callable[[Case, User, str | None], bool]

_DOCUMENTS: dict[str, DocumentExists] = {}


def register_document(kind: str, exists: DocumentExists) -> None:
    """Name a kind of document people acknowledge (``status_report``) and how to tell
    whether one exists for its reader; the decision is registered here."""
    _DOCUMENTS[kind] = exists


def _decision_exists(case: Case, reader: User, reference: str | None) -> bool:
    from app.services import decision_letter

    return reference is None and decision_letter.decision_for(case, reader) is not None


register_document("decision", _decision_exists)


# --- Acknowledgments -------------------------------------------------------------------


def acknowledge(
    case: Case,
    user: User,
    document: str,
    typed_name: str | None,
    *,
    exists: Callable[[], bool] | None = None,
) -> Acknowledgment:
    """Record that ``user`` received ``document`` of ``case``, signed with their typed name.

    Only someone the track's ``acknowledged_by`` names (the teacher always), only for a
    document that exists for them, and once. ``exists`` overrides the registered lookup
    for a document kind that is not registered.
    """
    relation = _acknowledging_relation(case, user)
    if relation is None:
        raise NotAllowed({"_schema": ["You are not asked to acknowledge this document."]})
    if not _document_exists(case, user, document, exists):
        raise NotFound({"_schema": ["There is no such document on this case."]})
    if _existing(case, user, document) is not None:
        raise Conflict({"_schema": ["You have already acknowledged this document."]})
    if _normalized(typed_name) != _normalized(user.name) or not _normalized(user.name):
        raise ValidationFailed(
            {"typed_name": [f"Type your name as the district has it: {user.name}."]}
        )
    row = Acknowledgment(
        tenant_id=case.tenant_id,
        case_id=case.id,
        document=document,
        relation=relation,
        user_id=user.id,
        typed_name=(typed_name or "").strip(),
        statement=STATEMENT,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        case.tenant_id,
        "case.document_acknowledged",
        "case",
        case.id,
        after={"acknowledgment_id": row.id, "document": document, "relation": relation},
        actor=Actor.of(user),
    )
    return row


def acknowledgments_of(case: Case, document: str) -> list[Acknowledgment]:
    """Every acknowledgment of ``document`` of ``case``, oldest first."""
    return list(
        db.session.execute(
            select(Acknowledgment)
            .where(Acknowledgment.case_id == case.id, Acknowledgment.document == document)
            .order_by(Acknowledgment.acknowledged_at, Acknowledgment.id)
        ).scalars()
    )


def pending_for(
    case: Case, user: User, document: str, *, exists: Callable[[], bool] | None = None
) -> bool:
    """Whether ``user`` is asked to acknowledge ``document`` of ``case`` and has not yet."""
    return (
        _acknowledging_relation(case, user) is not None
        and _document_exists(case, user, document, exists)
        and _existing(case, user, document) is None
    )


@dataclass(frozen=True)
class Signature:
    """One acknowledgment as a page or a letter prints it."""

    name: str
    role: str
    typed_name: str
    at: datetime
    statement: str


def signatures_of(case: Case, document: str) -> list[Signature]:
    """The acknowledgments of ``document`` with who signed, in which role, and when."""
    rows = acknowledgments_of(case, document)
    names = _names({r.user_id for r in rows})
    return [
        Signature(
            name=names.get(r.user_id, ""),
            role=relation_label(r.relation),
            typed_name=r.typed_name,
            at=r.acknowledged_at,
            statement=r.statement,
        )
        for r in rows
    ]


def relation_label(relation: str) -> str:
    """How a signature names the signer's part in the case ("the teacher the case is about"),
    the consulting teacher by the program's own title ("the case's Lead Teacher")."""
    if relation == "assigned_ct":
        from app.services import roster

        return f"the case's {roster.ct_title()}"
    return RELATIONS.get(relation, relation)


@dataclass(frozen=True)
class Section:
    """The acknowledgment part of the decision section, for one reader."""

    document: str
    signatures: list[Signature]
    #: Whether the reader is asked to acknowledge and has not yet.
    pending: bool
    #: The name the reader must type.
    name_to_type: str
    statement: str = STATEMENT


def for_page(case: Case, reader: User) -> Section | None:
    """What the case page shows ``reader`` in the acknowledgment section of the decision;
    None while there is nothing to show."""
    if not _document_exists(case, reader, "decision", None):
        return None
    return Section(
        document="decision",
        signatures=signatures_of(case, "decision"),
        pending=pending_for(case, reader, "decision"),
        name_to_type=reader.name,
    )


def _acknowledging_relation(case: Case, user: User) -> str | None:
    track = configs.config_of(case.workflow_version).tracks[case.track_key]
    asked = (set(track.acknowledged_by) | {"case_teacher"}) & cases.relations(case, user)
    return next((r for r in ACKNOWLEDGING if r in asked), None)


def _document_exists(
    case: Case, user: User, document: str, exists: Callable[[], bool] | None
) -> bool:
    if exists is not None:
        return exists()
    kind, _, reference = document.partition(":")
    lookup = _DOCUMENTS.get(kind)
    return lookup is not None and lookup(case, user, reference or None)


def _existing(case: Case, user: User, document: str) -> Acknowledgment | None:
    return db.session.execute(
        select(Acknowledgment).where(
            Acknowledgment.case_id == case.id,
            Acknowledgment.document == document,
            Acknowledgment.user_id == user.id,
        )
    ).scalar_one_or_none()


def _normalized(name: str | None) -> str:
    """A name compared as people type it: case and spaces do not matter."""
    return "".join((name or "").split()).casefold()


def _names(user_ids: set[int]) -> dict[int, str]:
    if not user_ids:
        return {}
    return dict(db.session.execute(select(User.id, User.name).where(User.id.in_(user_ids))).all())
