"""One example per top-level key for the reference page.

Together they form a complete, valid document (a test validates it), so every
example in the reference is known to be accepted as written.
"""

from __future__ import annotations

from typing import Any

EXAMPLES: dict[str, Any] = {
    "schema_version": 1,
    "program": {
        "name": "Educator Supports Program",
        "short_name": "ESP",
        "wording": {"ct_title": "Consulting Teacher", "welcome": "Welcome to ESP."},
    },
    "rating_scale": [
        {"key": "proficient", "label": "Proficient", "meets_standard": True},
        {"key": "needs_improvement", "label": "Needs Improvement", "meets_standard": False},
    ],
    "standards": [{"key": "teaching_all_students", "label": "Teaching All Students"}],
    "tracks": {
        "par": {
            "kind": "review",
            "name": "Peer Assistance and Review",
            "eligibility": {"latest_ratings": ["needs_improvement"]},
            "ct_evaluates": True,
            "principal_secondary_evaluator": True,
            "shared_with_principal": ["participation", "evidence"],
            "ballot_options": ["proficient", "needs_improvement"],
            "caseload_weight": 2,
            "steps": {
                "recommendation": "submit_recommendation",
                "panel_decision": "approve",
                "final_approval": "approve",
            },
            "initial_state": "support",
            "states": {
                "support": {"label": "Support and evaluation"},
                "panel_review": {"label": "Panel review"},
                "closed": {"label": "Closed", "terminal": True, "outcome_required": True},
            },
            "transitions": [
                {
                    "key": "submit_recommendation",
                    "label": "Recommend a rating",
                    "from": "support",
                    "to": "panel_review",
                    "actors": ["assigned_ct"],
                    "guards": [{"min_visits": {"count": 6, "types": ["observation"]}}],
                    "effects": [
                        {"record_rating": {"source": "ct_recommendation"}},
                        "open_panel_review",
                    ],
                },
                {
                    "key": "approve",
                    "label": "Approve",
                    "from": "panel_review",
                    "to": "closed",
                    "actors": ["final_authority"],
                    "guards": ["panel_decided"],
                    "effects": [{"close_with_outcome": {"choices": ["met_standards", "resigned"]}}],
                },
            ],
        }
    },
    "visit_types": {
        "observation": {
            "label": "Observation",
            "fields": ["date", "duration_minutes", "notes"],
            "required_to_count": ["duration_minutes", "notes"],
        }
    },
    "panel": {
        "constituencies": {
            "teachers": {"label": "Teachers", "seats": 5},
            "administrators": {"label": "Administrators", "seats": 4},
        },
        "chair": "co_chairs",
        "quorum": 7,
        "decision_rule": {"kind": "supermajority", "at_least": 6},
        "per_constituency_minimum": 2,
        "tie_rule": "ct_recommendation_stands",
        "recusal": ["same_school", "declared_conflict"],
        "sealed_ballots": True,
        "invite_principal": True,
    },
    "final_authority": {"role": "final_authority", "label": "Superintendent", "may_return": True},
    "outcomes": {
        "met_standards": {"label": "Met standards", "group": "met_standards"},
        "resigned": {"label": "Resigned", "group": "retirements_resignations_other"},
    },
    "report_groups": {
        "met_standards": {"label": "Met standards"},
        "retirements_resignations_other": {"label": "Retirements/Resignations/Other"},
    },
    "surveys": [
        {
            "key": "participant",
            "title": "Participant questionnaire",
            "statements": [{"key": "advocate", "text": "My CT is a strong advocate for me."}],
            "comment_question": "Any comments?",
        }
    ],
    "notifications": [
        {"on": "par.approve", "to": ["case_teacher", "assigned_ct"], "template": "case_closed"}
    ],
    "deadlines": [
        {
            "key": "recommendation_due",
            "label": "Recommendation due",
            "relative_to": "cycle_end",
            "days": -45,
        }
    ],
    "school_year_start": "09-01",
    "caseload": {"default_limit": 12, "max_limit": 15, "term_years": 3},
    "report": {"open_imported_case_months": 36},
    "translations": {
        "es": {
            "tracks": {
                "par": {"name": "Asistencia y Revisión entre Pares", "states": {"support": "Apoyo"}}
            },
            "surveys": {
                "participant": {"statements": {"advocate": "Mi Maestro Consultor me apoya."}}
            },
        }
    },
}
