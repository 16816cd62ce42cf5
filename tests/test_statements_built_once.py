"""The everyday pages run statements built once (``scoping.scoped``).

The scoping event adds the district's criteria to any statement that lacks it, as a new
copy whose cache key SQLAlchemy computes again: a large part of a simple read's time in
Python. The pages people open all day (homes, the case page, a panel session, the annual
report) build their statements once, with the criteria on them; a list's statement depends
on its filters and is built per request. A statement added to one of these pages without
``scoped`` shows up here.
"""

from __future__ import annotations

from tests.casework import Browser, to_support
from tests.panelwork import session_with_case


def test_the_everyday_pages_build_their_statements_once(
    app, toledo_panel, make_user, built_per_request
):
    setup = toledo_panel
    district = setup.district
    _coordinator, sid = session_with_case(app, setup)
    district.people["teacher"] = make_user(district.tenant, "teacher", email="sam@toledo.org")
    in_support = to_support(app, district, "intervention", "unsatisfactory")
    readers = {
        "supported": district.people["teacher"],
        "teacher": setup.teacher,
        "ct": district.people["ct"],
        "coordinator": district.people["coordinator"],
        "chair": setup.members["teacher1"],
        "principal": district.people["principal"],
    }
    pages = [
        ("teacher", "/"),
        ("teacher", f"/cases/{setup.case_id}"),
        ("ct", "/"),
        ("principal", "/"),
        ("ct", f"/cases/{setup.case_id}"),
        ("coordinator", f"/cases/{setup.case_id}"),
        ("supported", "/"),
        ("supported", f"/cases/{in_support}"),
        ("ct", f"/cases/{in_support}"),
        ("coordinator", f"/cases/{in_support}"),
        ("chair", f"/panel/sessions/{sid}"),
        ("coordinator", "/reports/annual"),
    ]
    per_request = {}
    for who, path in pages:
        reader = Browser(app, district, readers[who])
        reader.get(path)  # the first request of a process builds what is built once
        built_per_request.clear()
        assert reader.get(path).status_code == 200, (who, path)
        per_request[who, path] = list(built_per_request)
    assert {k: v for k, v in per_request.items() if v} == {}
