"""The roles of the product, with the words the portals use for them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RoleInfo:
    key: str
    label: str
    purpose: str


TENANT_ROLES: tuple[RoleInfo, ...] = (
    RoleInfo(
        "program_admin",
        "Program administrator",
        "Configure the district's program, its people and its portal.",
    ),
    RoleInfo(
        "coordinator",
        "Coordinator",
        "Take in enrollment requests, assign consulting teachers, schedule panels.",
    ),
    RoleInfo(
        "committee_member",
        "Committee member",
        "Review proposed assignments and the program's progress.",
    ),
    RoleInfo(
        "consulting_teacher",
        "Consulting teacher",
        "Coach and, on evaluative tracks, evaluate the teachers on your caseload.",
    ),
    RoleInfo("teacher", "Teacher", "Request support and follow your own case."),
    RoleInfo(
        "principal",
        "Principal",
        "Follow the cases in your school that the program shares with you; add evidence "
        "where you are the secondary evaluator.",
    ),
    RoleInfo(
        "panel_member",
        "Panel member",
        "Read the case packets of your sessions and cast your ballot.",
    ),
    RoleInfo(
        "final_authority",
        "Final authority",
        "Approve or return the panel's recommendations.",
    ),
)

PLATFORM_ROLES: tuple[RoleInfo, ...] = (
    RoleInfo("operator", "Operator", "Provision districts and watch billing and jobs."),
    RoleInfo(
        "network_analyst",
        "Network analyst",
        "Compare anonymized outcomes across the network's districts.",
    ),
)

TENANT_ROLE_KEYS: frozenset[str] = frozenset(role.key for role in TENANT_ROLES)
PLATFORM_ROLE_KEYS: frozenset[str] = frozenset(role.key for role in PLATFORM_ROLES)
_BY_KEY = {role.key: role for role in (*TENANT_ROLES, *PLATFORM_ROLES)}


def role_info(key: str) -> RoleInfo:
    return _BY_KEY[key]


#: The program's staff: they read every case's whole record and the program's reports.
PROGRAM_STAFF: frozenset[str] = frozenset(
    {"program_admin", "coordinator", "committee_member", "final_authority"}
)

#: Staff who run or oversee the panel and read every session. The assignment committee
#: reviews who coaches whom, not how the panel deliberates, so it is not among them.
PANEL_STAFF: frozenset[str] = PROGRAM_STAFF - {"committee_member"}
