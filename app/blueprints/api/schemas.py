"""API schemas, one per audience: fields are listed, never excluded."""

from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.datastructures import FileStorage

from app.models.base import MAX_ID
from app.security.roles import TENANT_ROLE_KEYS
from app.workflows.vocabulary import TRACK_KINDS

#: The largest id or version number a row can have (PostgreSQL ``integer``).


def _id(**kwargs) -> fields.Integer:
    """An id (or version number) sent by the caller: a number a row can have.

    A larger number would be refused by PostgreSQL when compared with an id column, ending
    the request in a 500; the range makes it a 422 that names the field.
    """
    return fields.Integer(validate=validate.Range(min=1, max=MAX_ID), **kwargs)


class TokenRequestSchema(Schema):
    email = fields.Email(required=True)
    password = fields.String(required=True, load_only=True)


class TokenSchema(Schema):
    token = fields.String()
    expires_at = fields.DateTime()


class UserSchema(Schema):
    """A user as a program admin (or the user themself) sees them."""

    id = fields.Integer()
    email = fields.Email()
    name = fields.String()
    roles = fields.Method("_roles")
    active = fields.Boolean()

    def _roles(self, user) -> list[str]:
        return sorted(user.roles)


class UserCreateSchema(Schema):
    email = fields.String(required=True, metadata={"format": "email"})  # checked by the service
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    roles = fields.List(
        fields.String(validate=validate.OneOf(sorted(TENANT_ROLE_KEYS))),
        required=True,
        validate=validate.Length(min=1),
    )
    password = fields.String(load_only=True, load_default=None)


class RolesSchema(Schema):
    roles = fields.List(
        fields.String(validate=validate.OneOf(sorted(TENANT_ROLE_KEYS))),
        required=True,
        validate=validate.Length(min=1),
    )


class PageSchema(Schema):
    page = fields.Integer()
    pages = fields.Integer()
    total = fields.Integer()


class UserPageSchema(PageSchema):
    items = fields.List(fields.Nested(UserSchema))


class ErrorSchema(Schema):
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class PersonSchema(Schema):
    id = fields.Integer()
    name = fields.String()


class DeadlineSchema(Schema):
    key = fields.String()
    due_on = fields.Date()


class ActionOptionSchema(Schema):
    key = fields.String()
    label = fields.String()
    to_state = fields.String()
    enabled = fields.Boolean()
    reasons = fields.List(fields.String())
    choices = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class CaseSchema(Schema):
    """A case as anyone entitled to see it sees it: no ballots, no deliberation."""

    id = fields.Integer()
    track = fields.String(attribute="track_key")
    state = fields.String()
    version = fields.Integer(attribute="workflow_version.number")
    teacher = fields.Nested(PersonSchema)
    consulting_teacher = fields.Nested(PersonSchema, attribute="ct", allow_none=True)
    principal = fields.Nested(PersonSchema, allow_none=True)
    school = fields.String(allow_none=True)
    enrolled_on = fields.Date()
    outcome = fields.String(allow_none=True)
    report_group = fields.String(allow_none=True)
    deadlines = fields.List(fields.Nested(DeadlineSchema))


class CaseDetailSchema(CaseSchema):
    """The detail adds the actions, and the ratings for readers who see the recommendation."""

    actions = fields.List(fields.Nested(ActionOptionSchema))
    recommended_rating = fields.String(allow_none=True)
    panel_rating = fields.String(allow_none=True)
    final_rating = fields.String(allow_none=True)


class CasePageSchema(PageSchema):
    items = fields.List(fields.Nested(CaseSchema))


class CaseOpenSchema(Schema):
    teacher_id = _id(required=True)
    track = fields.String(required=True)
    school = fields.String(load_default=None)
    latest_rating = fields.String(load_default=None)
    principal_id = _id(load_default=None, allow_none=True)


class ActionRequestSchema(Schema):
    action = fields.String(required=True, validate=validate.Length(min=1, max=64))
    payload = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)


class WorkflowDocumentSchema(Schema):
    """A program configuration: ``document`` as an object, or ``text`` in YAML or JSON."""

    document = fields.Dict(load_default=None)
    text = fields.String(load_default=None)


class WorkflowVersionSchema(Schema):
    number = fields.Integer(allow_none=True)
    status = fields.String()
    note = fields.String(allow_none=True)
    published_at = fields.DateTime(allow_none=True)
    updated_at = fields.DateTime()
    document = fields.Dict()


class WorkflowVersionSummarySchema(Schema):
    number = fields.Integer()
    note = fields.String(allow_none=True)
    published_at = fields.DateTime()


class WorkflowVersionListSchema(Schema):
    items = fields.List(fields.Nested(WorkflowVersionSummarySchema))


class ValidationReportSchema(Schema):
    ok = fields.Boolean()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class PublishSchema(Schema):
    note = fields.String(load_default=None, validate=validate.Length(max=500))


class ChangeSchema(Schema):
    path = fields.String()
    kind = fields.String()
    text = fields.String()


class DiffSchema(Schema):
    changes = fields.List(fields.Nested(ChangeSchema))


class CaseMigrationSchema(Schema):
    to_version = _id(required=True)
    case_ids = fields.List(_id(), required=True, validate=validate.Length(min=1))
    state_map = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)


class CaseListSchema(Schema):
    items = fields.List(fields.Nested(CaseSchema))


class EnrollmentSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.String(required=True, metadata={"format": "email"})  # checked by the service
    school = fields.String(required=True, validate=validate.Length(min=1, max=200))
    track = fields.String(required=True)
    letter = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    subject = fields.String(load_default=None)
    grade = fields.String(load_default=None)
    preferred_language = fields.String(load_default=None)
    latest_rating = fields.String(load_default=None)
    years_of_service = fields.Integer(load_default=None, validate=validate.Range(0, 60))
    permanent_status = fields.Boolean(load_default=None)
    source = fields.String(
        load_default="self", validate=validate.OneOf(["self", "principal", "union"])
    )


class VisitInSchema(Schema):
    visit_type = fields.String(required=True)
    visited_on = fields.Date(required=True)
    duration_minutes = fields.Integer(load_default=None, validate=validate.Range(1, 600))
    focus_standards = fields.List(fields.String(), load_default=list)
    notes = fields.String(load_default=None)
    next_steps = fields.String(load_default=None)
    principal_present = fields.Boolean(load_default=False)
    shared_with_teacher = fields.Boolean(load_default=True)
    planned = fields.Boolean(load_default=False)


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
    rating = fields.String(required=True)
    rationale = fields.String(required=True)
    evidence_ids = fields.List(_id(), load_default=list)


class RecommendationSchema(Schema):
    id = fields.Integer()
    rating = fields.String()
    rationale = fields.String()
    evidence_ids = fields.List(fields.Integer())
    submitted_at = fields.DateTime()


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
    ct_id = _id(required=True)
    reason = fields.String(load_default=None)


class ReviewInSchema(Schema):
    approve = fields.Boolean(required=True)
    comment = fields.String(load_default=None)


class PageQuerySchema(Schema):
    """``?page=``: which page of a list (pages past the last are empty)."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_ID))


class CaseFilterSchema(PageQuerySchema):
    track = fields.String(load_default=None)
    state = fields.String(load_default=None)
    ct_id = _id(load_default=None)
    school = fields.String(load_default=None)
    year = fields.Integer(load_default=None, validate=validate.Range(2000, 2100))
    open_only = fields.Boolean(load_default=False, data_key="open")


class PanelMemberSchema(Schema):
    id = fields.Integer()
    user = fields.Nested(PersonSchema)
    constituency = fields.String()
    is_chair = fields.Boolean()
    term_start = fields.Date(allow_none=True)
    term_end = fields.Date(allow_none=True)


class PanelMemberInSchema(Schema):
    user_id = _id(required=True)
    constituency = fields.String(required=True)
    is_chair = fields.Boolean(load_default=False)
    term_start = fields.Date(load_default=None)
    term_end = fields.Date(load_default=None)


class PanelMemberListSchema(Schema):
    items = fields.List(fields.Nested(PanelMemberSchema))
    balance = fields.List(fields.String())


class AgendaItemSchema(Schema):
    """An agenda item: the decision and tally once closed, never a ballot."""

    case_id = fields.Integer()
    status = fields.String()
    ballots_cast = fields.Integer()
    recused = fields.List(fields.Dict())
    outcome = fields.String(allow_none=True)
    option = fields.String(allow_none=True)
    decided_by = fields.String(
        allow_none=True,
        metadata={"description": "rule, chair_casting_vote or ct_recommendation_stands"},
    )
    decision = fields.String(
        metadata={"description": "the decision in words, with the rule that made it"}
    )
    tally = fields.Dict(allow_none=True)
    tally_by_constituency = fields.Dict(allow_none=True)
    votes_needed = fields.Integer(allow_none=True)
    rule_text = fields.String(allow_none=True)


class PanelSessionSchema(Schema):
    id = fields.Integer()
    meets_on = fields.Date()
    location = fields.String(allow_none=True)
    status = fields.String()
    present = fields.List(fields.Integer())
    items = fields.List(fields.Nested(AgendaItemSchema))


class PanelSessionListSchema(Schema):
    items = fields.List(fields.Nested(PanelSessionSchema))


class PanelSessionInSchema(Schema):
    meets_on = fields.Date(required=True)
    location = fields.String(load_default=None)


class AgendaInSchema(Schema):
    case_id = _id(required=True)


class AttendanceInSchema(Schema):
    member_id = _id(required=True)
    present = fields.Boolean(required=True)


class BallotInSchema(Schema):
    option = fields.String(required=True, allow_none=True)


class FinalDecisionInSchema(Schema):
    approve = fields.Boolean(required=True)
    note = fields.String(load_default=None)
    outcome = fields.String(load_default=None)


class FileField(fields.Field):
    """A file part of a multipart body: documented as binary, loaded as the upload itself.

    A part without a file name arrives as plain text, which no handler can read as a file.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(metadata={"type": "string", "format": "binary"}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> FileStorage:
        if not isinstance(value, FileStorage) or not value.filename:
            raise ValidationError("Attach a file (a multipart part with a file name).")
        return value


class EvidenceInSchema(Schema):
    """Evidence as a multipart body: text, standards (repeated) and an optional file."""

    text = fields.String(load_default=None)
    standards = fields.List(fields.String(), load_default=list)
    file = FileField()  # optional; not nullable: a part is a file or absent


_ATTACH_CSV = {"required": "Attach the CSV as the multipart field 'file'."}


class CaseImportInSchema(Schema):
    file = FileField(required=True, error_messages=_ATTACH_CSV)


class SurveyImportInSchema(Schema):
    file = FileField(required=True, error_messages=_ATTACH_CSV)
    survey = fields.String(required=True)
    year = fields.String(required=True)
    sent = fields.Integer(required=True, validate=validate.Range(min=0, max=MAX_ID))


class ImportResultSchema(Schema):
    created = fields.Integer()
    updated = fields.Integer()


def _school_year() -> fields.String:
    """``?year=2009-2010``: a school year by its label (absent means the current one)."""
    return fields.String(
        load_default=None,
        validate=validate.Regexp(r"^\d{4}-\d{4}$", error="Use a label like 2009-2010."),
    )


class AnnualReportQuerySchema(Schema):
    year = _school_year()


class NetworkQuerySchema(Schema):
    year = _school_year()
    track_kind = fields.String(load_default="all", validate=validate.OneOf(["all", *TRACK_KINDS]))
    size_band = fields.String(load_default=None)


class DistrictNetworkQuerySchema(Schema):
    year = _school_year()


class AnnualReportSchema(Schema):
    year = fields.String()
    participants = fields.Integer()
    outcome_groups = fields.Dict(keys=fields.String(), values=fields.Integer())
    average_months_of_support = fields.Float()
    survey = fields.Dict(allow_none=True)
    by_track = fields.Dict()
    by_consulting_teacher = fields.Dict()
