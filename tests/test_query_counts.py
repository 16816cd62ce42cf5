"""List pages send the same number of queries for 3 cases as for 30: no N+1."""

from __future__ import annotations

import pytest

from app.core import uow
from app.extensions import db
from app.models.case import Case
from app.models.user import User
from app.services import support
from app.tenants.context import tenant_scope
from tests.casework import Api, Browser


def _cases(app, district, make_user, make_case, n: int) -> None:
    for _ in range(n):
        teacher = make_user(district.tenant, "teacher")
        case = make_case(district.tenant, teacher, "pa", latest_rating="needs_improvement")
        with app.app_context(), tenant_scope(district.tenant.id):
            row = db.session.get(Case, case.id)
            row.ct_id = district.people["ct"].id
            ct = db.session.get(User, district.people["ct"].id)
            support.log_visit(row, ct, support.VisitInput("coaching", row.enrolled_on, 30))
            uow.commit()


PAGES = [
    ("coordinator", "html", "/cases/"),
    ("coordinator", "html", "/cases/?track=pa"),
    ("ct", "html", "/"),
    ("coordinator", "api", "/cases"),
]


@pytest.mark.parametrize(("who", "kind", "path"), PAGES)
def test_list_pages_use_a_fixed_number_of_queries(
    app, district, make_user, make_case, count_queries, who, kind, path
):
    boston = district("boston", "boston_esp")
    person = boston.people[who]
    reader = Browser(app, boston, person) if kind == "html" else Api(app, boston, person)
    counts = []
    for batch in (3, 27):
        _cases(app, boston, make_user, make_case, batch)
        with count_queries() as counted:
            response = reader.get(path)
        assert response.status_code == 200
        counts.append(len(counted))
    assert counts[0] == counts[1], f"{path}: {counts[0]} queries for 3 cases, {counts[1]} for 30"
