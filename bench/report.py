"""The annual report's JSON beside the bare aggregate SQL it needs (the floor).

The report is built by the service the API and the export call (``reports.annual``) and
serialised to JSON; the floor is the same figures computed by PostgreSQL alone
(participants by group, track and CT, their mean days of support, and the survey's answer
counts), sent as the app role under the district's row-level security. The two are timed
alternately and compared by median. The whole API request is timed too, for the record:
its bearer-token check is the same for every API call and is not the report's cost.
"""

from __future__ import annotations

import statistics
import time

from flask import Flask
from sqlalchemy import text

from bench.generate import PASSWORD
from bench.targets import Measure, at_most, info

#: The report may take this many times its bare SQL.
MAX_RATIO = 1.5

BARE_SQL = text(
    """
    WITH p AS (
        SELECT c.track_key, u.name AS ct,
               CASE WHEN c.ended_on IS NULL OR c.ended_on > :end THEN 'active'
                    ELSE c.report_group END AS grp,
               LEAST(COALESCE(c.ended_on, :end), :end) - c.started_on AS days
        FROM cases c LEFT JOIN users u ON u.id = c.ct_id
        WHERE c.tenant_id = :tenant AND c.started_on <= :end
          AND (c.ended_on IS NULL OR c.ended_on >= :start)
    )
    SELECT 'group', grp, count(*), avg(days) FROM p GROUP BY grp
    UNION ALL SELECT 'track', track_key, count(*), avg(days) FROM p GROUP BY track_key
    UNION ALL SELECT 'ct', ct, count(*), avg(days) FROM p GROUP BY ct
    UNION ALL SELECT 'all', NULL, count(*), avg(days) FROM p
    """
)
SURVEY_SQL = text(
    """
    SELECT a.key, a.value, count(*)
    FROM survey_rounds s JOIN survey_responses r ON r.round_id = s.id
    CROSS JOIN LATERAL json_each_text(r.answers) a
    WHERE s.tenant_id = :tenant AND s.year = :label GROUP BY a.key, a.value
    """
)


def _year(app: Flask, tenant_id: int, back: int = 1):
    """The school year ``back`` years before the current one (1: the last complete year)."""
    from datetime import date

    from app.reports.annual import school_year
    from app.services import workflow_config as configs
    from app.tenants.context import tenant_scope

    with app.app_context(), tenant_scope(tenant_id):
        config = configs.config_of(configs.latest_published())
        start, _ = config.school_year(date.today())
        label = f"{start.year - back}-{start.year - back + 1}"
        return school_year(label, config.school_year_start)


def bare(app: Flask, tenant_id: int, year) -> float:
    """Seconds for the aggregate SQL alone, as the app role under the tenant's RLS."""
    from app.extensions import db
    from app.tenants.context import tenant_scope

    with app.app_context(), tenant_scope(tenant_id):
        began = time.perf_counter()
        params = {"tenant": tenant_id, "start": year.start, "end": year.end}
        db.session.execute(BARE_SQL, params).all()
        db.session.execute(SURVEY_SQL, {"tenant": tenant_id, "label": year.label}).all()
        elapsed = time.perf_counter() - began
        db.session.rollback()
    return elapsed


def _token(client, slug: str) -> str:
    answer = client.post(
        f"/api/v1/t/{slug}/auth/token",
        json={"email": f"admin@{slug}.example.org", "password": PASSWORD},
    )
    if answer.status_code != 201:
        raise RuntimeError(f"no API token for the admin of {slug}: {answer.status_code}")
    return answer.json["token"]


def run(app: Flask, slug: str, tenant_id: int, repeats: int) -> tuple[list[Measure], dict]:
    """The report's JSON as the service builds it, judged against the floor; the whole API
    request (bearer token, tenant, serialisation) beside it for the record."""
    import json

    from app.services import reports
    from app.tenants.context import tenant_scope

    year = _year(app, tenant_id)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {_token(client, slug)}"}
    url = f"/api/v1/t/{slug}/reports/annual?year={year.label}"

    def build() -> float:
        with app.app_context(), tenant_scope(tenant_id):
            began = time.perf_counter()
            text = json.dumps(reports.annual(year.label))
            elapsed = time.perf_counter() - began
        if '"participants"' not in text:
            raise RuntimeError("the report has no participants")
        return elapsed

    def request() -> float:
        began = time.perf_counter()
        answer = client.get(url, headers=headers)
        elapsed = time.perf_counter() - began
        if answer.status_code != 200:
            raise RuntimeError(f"{url} answered {answer.status_code}")
        return elapsed

    build(), request(), bare(app, tenant_id, year)  # warm all three
    builds, requests_, floors = [], [], []
    for _ in range(repeats):
        builds.append(build())
        floors.append(bare(app, tenant_id, year))
        requests_.append(request())
    build_ms = statistics.median(builds) * 1000
    floor_ms = statistics.median(floors) * 1000
    request_ms = statistics.median(requests_) * 1000
    participants = client.get(url, headers=headers).json["participants"]
    raw = {
        "year": year.label,
        "participants": participants,
        "report_ms": builds,
        "api_request_ms": requests_,
        "bare_sql_ms": floors,
    }
    detail = (
        f"{build_ms:.1f} ms vs {floor_ms:.1f} ms for the bare SQL "
        f"({year.label}, {participants} participants)"
    )
    return [
        at_most(
            "report", "annual report JSON / bare SQL", build_ms / floor_ms, MAX_RATIO, "x", detail
        ),
        info(
            "report",
            "annual report API request / bare SQL",
            request_ms / floor_ms,
            "x",
            f"{request_ms:.1f} ms with the bearer token and the response",
        ),
    ], raw
