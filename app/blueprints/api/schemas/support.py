"""Enrollment, the CT roster, assignments and the support records of a case."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from app.blueprints.api.schemas.common import FileField, MaxLength, PersonSchema, fits, row_id


class EnrollmentSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.String(required=True, metadata={"format": "email"})  # checked by the service
    school = fields.String(required=True, validate=validate.Length(min=1, max=200))
    track = fields.String(required=True, validate=fits("cases.track_key"))
    letter = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    subject = fields.String(load_default=None, validate=fits("cases.subject"))
    grade = fields.String(load_default=None, validate=fits("cases.grade"))
    preferred_language = fields.String(load_default=None, validate=fits("cases.preferred_language"))
    latest_rating = fields.String(load_default=None, validate=fits("cases.latest_rating"))
    years_of_service = fields.Integer(load_default=None, validate=validate.Range(0, 60))
    permanent_status = fields.Boolean(load_default=None)
    source = fields.String(
        load_default="self", validate=validate.OneOf(["self", "principal", "union"])
    )


class TrainingSchema(Schema):
    workshop = fields.String()
    attended_on = fields.Date()
    hours = fields.Float()


class ConsultingTeacherSchema(Schema):
    id = fields.Integer()
    user = fields.Nested(PersonSchema)
    term_start = fields.Date(allow_none=True)
    term_end = fields.Date(allow_none=True)
    caseload_limit = fields.Integer()
    load = fields.Integer()
    home_school = fields.String(allow_none=True)
    schools = fields.List(fields.String())
    subjects = fields.List(fields.String())
    grades = fields.List(fields.String())
    languages = fields.List(fields.String())
    trainings = fields.List(fields.Nested(TrainingSchema))


class ConsultingTeacherListSchema(Schema):
    items = fields.List(fields.Nested(ConsultingTeacherSchema))


class VisitInSchema(Schema):
    visit_type = fields.String(required=True, validate=fits("visits.visit_type"))
    visited_on = fields.Date(required=True)
    duration_minutes = fields.Integer(load_default=None, validate=validate.Range(1, 600))
    focus_standards = fields.List(fields.String(), load_default=list)
    notes = fields.String(load_default=None, validate=MaxLength(10000))  # as on the visit form
    next_steps = fields.String(load_default=None, validate=MaxLength(5000))
    principal_present = fields.Boolean(load_default=False)
    shared_with_teacher = fields.Boolean(load_default=True)
    planned = fields.Boolean(load_default=False)
    #: As on the visit form: the same key sent again answers with the visit it stored.
    idempotency_key = fields.UUID(
        load_default=None,
        metadata={
            "description": "A UUID the client makes once per visit; sending the visit again "
            "with it (after a lost answer) stores nothing and answers with the stored visit."
        },
    )


class VisitSchema(Schema):
    id = fields.Integer()
    visit_type = fields.String()
    visited_on = fields.Date()
    duration_minutes = fields.Integer(allow_none=True)
    focus_standards = fields.List(fields.String())
    notes = fields.String(allow_none=True)
    next_steps = fields.String(allow_none=True)
    planned = fields.Boolean()
    author = fields.Nested(PersonSchema)


class VisitListSchema(Schema):
    items = fields.List(fields.Nested(VisitSchema))


class EvidenceInSchema(Schema):
    """Evidence as a multipart body: text, standards (repeated) and an optional file."""

    text = fields.String(load_default=None, validate=MaxLength(10000))  # as on the evidence form
    standards = fields.List(fields.String(), load_default=list)
    file = FileField()  # optional; not nullable: a part is a file or absent


class EvidenceSchema(Schema):
    id = fields.Integer()
    text = fields.String(allow_none=True)
    standards = fields.List(fields.String())
    file_name = fields.String(allow_none=True)
    file_size = fields.Integer(allow_none=True)
    author_role = fields.String()
    created_at = fields.DateTime()


class EvidenceListSchema(Schema):
    items = fields.List(fields.Nested(EvidenceSchema))


class GoalInSchema(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=500))


class GoalSchema(Schema):
    id = fields.Integer()
    text = fields.String()
    progress = fields.Integer()


class RecommendationInSchema(Schema):
    rating = fields.String(required=True, validate=fits("recommendations.rating"))
    rationale = fields.String(required=True, validate=MaxLength(10000))  # as on the page
    evidence_ids = fields.List(row_id(), load_default=list)


class RecommendationSchema(Schema):
    id = fields.Integer()
    rating = fields.String()
    rationale = fields.String()
    evidence_ids = fields.List(fields.Integer())
    submitted_at = fields.DateTime()


class SuggestionSchema(Schema):
    ct_id = fields.Integer()
    name = fields.String()
    score = fields.Float()
    open_capacity = fields.Integer()
    eligible = fields.Boolean()
    reasons = fields.List(fields.String())


class AssignmentReviewSchema(Schema):
    member = fields.Nested(PersonSchema)
    approve = fields.Boolean()
    comment = fields.String(allow_none=True)


class AssignmentSchema(Schema):
    id = fields.Integer()
    ct = fields.Nested(PersonSchema)
    status = fields.String()
    reason = fields.String(allow_none=True)
    proposed_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    ended_at = fields.DateTime(allow_none=True)
    reviews = fields.List(fields.Nested(AssignmentReviewSchema))


class AssignmentOverviewSchema(Schema):
    history = fields.List(fields.Nested(AssignmentSchema))
    suggestions = fields.List(fields.Nested(SuggestionSchema))


class ProposeSchema(Schema):
    ct_id = row_id(required=True)
    # Stored as text of any length; the limit is the page's (ProposeForm).
    reason = fields.String(load_default=None, validate=MaxLength(500))


class ReviewInSchema(Schema):
    approve = fields.Boolean(required=True)
    # Stored as text of any length; the limit is the page's (ReviewForm).
    comment = fields.String(load_default=None, validate=MaxLength(1000))
