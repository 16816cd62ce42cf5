"""Closed vocabularies shared by the schema, the engine and the reference.

The product fixes these words so that templates, reports and authorization can
rely on them; a district chooses among them but never adds to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class RoleInfo:
    """A role: its key, the label the portals use, what it is for, and the phrase the
    configuration's descriptions use ("a coordinator may ...")."""

    key: str
    label: str
    purpose: str
    phrase: str


TENANT_ROLES: tuple[RoleInfo, ...] = (
    RoleInfo(
        "program_admin",
        "Program administrator",
        "Configure the district's program, its people and its portal.",
        "a program administrator",
    ),
    RoleInfo(
        "coordinator",
        "Coordinator",
        "Take in enrollment requests, assign consulting teachers, schedule panels.",
        "a coordinator",
    ),
    RoleInfo(
        "committee_member",
        "Committee member",
        "Review proposed assignments and the program's progress.",
        "a committee member",
    ),
    RoleInfo(
        "consulting_teacher",
        "Consulting teacher",
        "Coach and, on evaluative tracks, evaluate the teachers on your caseload.",
        "a consulting teacher",
    ),
    RoleInfo(
        "teacher",
        "Teacher",
        "Request support and follow your own case.",
        "a teacher",
    ),
    RoleInfo(
        "principal",
        "Principal",
        "Follow the cases in your school that the program shares with you; add evidence "
        "where you are the secondary evaluator.",
        "a principal",
    ),
    RoleInfo(
        "panel_member",
        "Panel member",
        "Read the case packets of your sessions and cast your ballot.",
        "a panel member",
    ),
    RoleInfo(
        "final_authority",
        "Final authority",
        "Approve or return the panel's recommendations.",
        "the final authority",
    ),
)
"""Tenant roles (DESIGN.md §2); a person may hold several. Defined here once: the
portals, the authorization matrix and the configuration's checks all read this list."""

ROLES = MappingProxyType({role.key: role.phrase for role in TENANT_ROLES})
"""Each tenant role's phrase, by key, for the configuration's descriptions."""

RELATIONS = MappingProxyType(
    {
        "assigned_ct": "the case's consulting teacher",
        "case_teacher": "the teacher the case is about",
        "case_principal": "the principal of the case's school",
        "panel_chair": "the chair of the panel session reviewing the case",
        "seated_panelist": "a panel member seated (and not recused) for the case",
    }
)
"""How a person stands to one case; the service layer works these out per case."""

# Roles that exist in every school but must not act on every case: listing them
# as actors would let any teacher move any colleague's case.
NARROW_ROLES = MappingProxyType(
    {
        "teacher": "case_teacher",
        "principal": "case_principal",
        "consulting_teacher": "assigned_ct",
        "panel_member": "seated_panelist",
    }
)

TRACK_KINDS = ("assistance", "review", "induction")

SHARED_ITEMS = MappingProxyType(
    {
        "participation": "that the teacher takes part in the program",
        "goals": "the teacher's goals",
        "visits_summary": "dates and kinds of visits, without notes",
        "status_reports": "the consulting teacher's status reports",
        "evidence": "evidence gathered for the evaluation",
        "recommendation": "the consulting teacher's recommendation",
    }
)
"""What a track may show the principal."""

# Assistance is confidential coaching: nothing that could feed an evaluation.
ASSISTANCE_SHAREABLE = frozenset({"participation"})

TEACHER_SHAREABLE = MappingProxyType(
    {"recommendation": "the consulting teacher's final report, once the decision is approved"}
)
"""What a track may show the teacher beyond their own case record: nothing of the
evaluation before the decision, and only the final report after it."""

BALLOT_WORDS = MappingProxyType(
    {
        "affirm": "affirm the consulting teacher's recommendation",
        "reject": "reject the consulting teacher's recommendation",
        "uphold": "uphold the recommendation",
        "renew": "renew the teacher's contract",
        "non_renew": "do not renew the teacher's contract",
        "extend": "extend support for another cycle",
    }
)
"""Ballot options that are not rating levels."""

VOTES_ON_RECOMMENDATION = frozenset({"affirm", "reject", "uphold"})
"""Ballot words that judge the CT's recommendation rather than being one: on such tracks
the CT recommends a rating from the district's scale."""

DECISION_KINDS = ("majority", "supermajority", "unanimity")
DECISION_BASES = ("present", "seats")
CHAIR_MODES = ("alternating", "co_chairs")
TIE_RULES = MappingProxyType(
    {
        "chair_casting_vote": "the chair casts the deciding vote",
        "ct_recommendation_stands": "the consulting teacher's recommendation stands",
        "defer": "the case is deferred to the next session",
    }
)
RECUSAL_RULES = MappingProxyType(
    {
        "same_school": "members who work in the teacher's school",
        "supervised_teacher": "members who supervise or evaluate the teacher",
        "declared_conflict": "members who declare a conflict of interest",
    }
)
ACKNOWLEDGERS = MappingProxyType(
    {
        "case_teacher": "the case's teacher",
        "assigned_ct": "the assigned consulting teacher",
        "case_principal": "the principal of the case's school",
    }
)
"""Who may be asked to acknowledge a decision or a status report."""

APPEAL_BODIES = MappingProxyType(
    {
        "final_authority": "the final authority decides the appeal",
        "appeal_panel": "an appeal panel of panel members who did not sit on the decision votes",
        "arbiter": "an outside arbiter decides and the coordinator records the award",
    }
)
"""Who decides an appeal of the approved decision."""

DEADLINE_ANCHORS = ("cycle_start", "cycle_end", "enrolled_on", "state_entered")
VISIT_FIELDS = MappingProxyType(
    {
        "date": "the day of the visit",
        "duration_minutes": "how long it lasted",
        "focus_standards": "the rubric standards it focused on",
        "notes": "what the consulting teacher saw and discussed",
        "next_steps": "what teacher and consulting teacher agreed to do next",
        "attendees": "who else was present",
        "artifacts": "lesson plans or student work attached",
    }
)
VISIT_EVIDENCE_FIELDS = MappingProxyType(
    {
        "duration_minutes": "no duration",
        "focus_standards": "no focus standards",
        "notes": "no notes",
        "next_steps": "no next steps",
    }
)
"""Log fields a visit record keeps, which a visit type may require before a visit counts
toward the guards; each with the words that say a visit lacks it."""
DEFAULT_REQUIRED_TO_COUNT = ("duration_minutes", "notes")
"""What a visit needs to count when its type does not say: how long, and what happened."""
WORDING_KEYS = MappingProxyType(
    {
        "welcome": "the portal's welcome paragraph",
        "enrollment_intro": "shown above the enrollment form",
        "enrollment_done": "shown after an enrollment form is sent",
        "ct_title": "what the program calls a consulting teacher",
        "panel_title": "what the program calls its panel",
        "confidentiality": "the promise made to teachers about their data",
    }
)
RATING_SOURCES = ("ct_recommendation", "panel", "final_authority")
DEFAULT_SURVEY_SCALE = ("strongly_agree", "agree", "disagree", "strongly_disagree")


def actor_words(names: frozenset[str] | tuple[str, ...]) -> str:
    """Say who may act in plain words, e.g. "a coordinator or the case's consulting teacher"."""
    words = [ROLES.get(n) or RELATIONS.get(n) or n for n in sorted(names)]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " or " + words[-1]


NETWORK_GROUPS = MappingProxyType(
    {
        "met_standards": "met standards",
        "non_renewal_or_dismissal": "non-renewal or dismissal",
        "resigned_or_retired": "resigned or retired",
        "other": "other exits (leave, transfers, ...)",
        "active": "still receiving support",
    }
)
"""The network's common outcome vocabulary: each report group maps to one."""
