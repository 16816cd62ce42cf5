"""The roles of the product: the district's (defined once, in the vocabulary) and the
platform's, with the words the portals use for them."""

from __future__ import annotations

from app.workflows.vocabulary import TENANT_ROLES, RoleInfo

PLATFORM_ROLES: tuple[RoleInfo, ...] = (
    RoleInfo(
        "operator", "Operator", "Provision districts and watch billing and jobs.", "an operator"
    ),
    RoleInfo(
        "network_analyst",
        "Network analyst",
        "Compare anonymized outcomes across the network's districts.",
        "a network analyst",
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
