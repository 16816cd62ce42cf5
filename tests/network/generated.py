"""A generated network for the attack tests: real districts with exactly the teacher-years
an attack needs.

Districts are tenants made from presets (the ``district`` fixture); their cases come in
through the case import (the service a district uses for its history); panel decisions and
survey answers are written the way the panel and survey services leave them. Synthetic
districts (``network.seed_synthetic``) fill the years so that the analyst's filters have
enough districts to answer.
"""

from __future__ import annotations

import copy
import io
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from app.core import uow
from app.extensions import db
from app.models.case import Case
from app.models.network import NetworkRelease
from app.models.panel import AgendaItem, PanelSession
from app.reports.annual import school_year
from app.services import imports, network, users
from app.services import workflow_config as configs
from app.services.actors import Actor
from app.tenants.context import all_tenants, tenant_scope
from tests.factories import PASSWORD, csrf_token

#: The last complete school year the synthetic districts cover (``years_back`` 2 or more).
YEAR = f"{date.today().year - 1}-{date.today().year}"
DAYS_PER_MONTH = 30.44
ANALYST = "analyst@parley.org"


def year_back(back: int) -> str:
    """``YEAR`` moved ``back`` years earlier."""
    first = date.today().year - 1 - back
    return f"{first}-{first + 1}"


@dataclass(frozen=True)
class Stint:
    """One case: a teacher in a track for one stretch of support inside a school year."""

    track: str
    months: float | None = 9.0  # support length; None leaves the case open past the year
    outcome: str | None = "renewed"  # the preset's outcome key; None with months=None
    wait_days: int = 20  # request to start of support
    teacher: str | None = None  # an e-mail; two stints with the same one are one teacher
    panel: str | None = None  # "followed" or "overruled": the panel's decision on the case
    start_day: int = 10  # days after the school year starts


def months_of(stint: Stint) -> float:
    """The months of support the release computes for ``stint`` (when it ends in the year)."""
    return round(round(stint.months * DAYS_PER_MONTH) / DAYS_PER_MONTH, 1)


def _span(tenant_id: int, year: str):
    config = configs.config_of(configs.latest_published())
    return school_year(year, config.school_year_start)


def add_stints(app, d, year: str, stints: list[Stint], prefix: str = "G") -> None:
    """Import ``stints`` as cases of district ``d`` in ``year``; then record panel decisions."""
    slug = d.tenant.slug
    with app.app_context(), tenant_scope(d.tenant.id):
        span = _span(d.tenant.id, year)
        lines = [
            "external_id,teacher_name,teacher_email,school,track,consulting_teacher_email,"
            "requested_on,started_on,ended_on,outcome"
        ]
        for n, stint in enumerate(stints, start=1):
            started = span.start + timedelta(days=stint.start_day)
            ended = (
                started + timedelta(days=round(stint.months * DAYS_PER_MONTH))
                if stint.months is not None and stint.outcome
                else None
            )
            email = stint.teacher or f"{prefix.lower()}{n}@{slug}.org"
            lines.append(
                f"{prefix}-{n},Teacher {prefix}{n},{email},Adams,{stint.track},,"
                f"{started - timedelta(days=stint.wait_days)},{started},"
                f"{ended or ''},{stint.outcome or ''}"
            )
        imports.import_cases(io.StringIO("\n".join(lines) + "\n"), Actor.system())
        decided = [(n, s) for n, s in enumerate(stints, start=1) if s.panel]
        if decided:
            session = PanelSession(
                tenant_id=d.tenant.id, meets_on=span.start + timedelta(days=200), status="closed"
            )
            db.session.add(session)
            db.session.flush()
            for n, stint in decided:
                case = db.session.execute(
                    select(Case).where(Case.external_id == f"{prefix}-{n}")
                ).scalar_one()
                case.recommended_rating = "satisfactory"
                followed = stint.panel == "followed"
                db.session.add(
                    AgendaItem(
                        tenant_id=d.tenant.id,
                        session_id=session.id,
                        case_id=case.id,
                        status="closed",
                        outcome="decided",
                        option="satisfactory" if followed else "unsatisfactory",
                    )
                )
        uow.commit()


def add_survey(
    app, d, year: str, answers: list[dict[str, str]], key: str = "teacher_questionnaire"
) -> None:
    """Import survey answers (statement key -> scale key; missing statements are blank).

    Calling it again with more answers adds them to the same round (ids keep counting)."""
    from app.models.survey import SurveyResponse, SurveyRound

    with app.app_context(), tenant_scope(d.tenant.id):
        row = db.session.execute(
            select(SurveyRound).where(SurveyRound.survey_key == key, SurveyRound.year == year)
        ).scalar_one_or_none()
        before = (
            db.session.execute(select(SurveyResponse).where(SurveyResponse.round_id == row.id))
            .scalars()
            .all()
            if row
            else []
        )
        config = configs.config_of(configs.latest_published())
        survey = next(s for s in config.surveys if s.key == key)
        statements = [s.key for s in survey.statements]
        span = _span(d.tenant.id, year)
        lines = [",".join(["response_id", "submitted_on", *statements, "comment"])]
        for n, answer in enumerate([*(b.answers for b in before), *answers], start=1):
            cells = [answer.get(s, "") for s in statements]
            lines.append(",".join([f"R{n}", str(span.start + timedelta(days=250)), *cells, ""]))
        imports.import_survey_responses(
            key,
            year,
            len(before) + len(answers),
            io.StringIO("\n".join(lines) + "\n"),
            Actor.system(),
        )
        uow.commit()


def join(app, d, named: bool = False, noisy: bool = False, epsilon: float = 1.0) -> None:
    with app.app_context(), tenant_scope(d.tenant.id):
        network.join(named=named, noisy=noisy, epsilon=epsilon, actor=Actor.system())
        uow.commit()


def publish(app, d, year: str = YEAR) -> None:
    """The release job, as the outbox runs it, committed."""
    with app.app_context(), tenant_scope(d.tenant.id):
        network.publish(year)
        uow.commit()


def trial_rows(app, d, year: str, trials: int) -> list[tuple[str | None, dict] | None]:
    """Run the release job ``trials`` times, each rolled back after reading what it wrote:
    (size band, figures) of ``trials`` independent releases of the year, None where the
    job wrote nothing."""
    seen = []
    with app.app_context(), tenant_scope(d.tenant.id):
        for _ in range(trials):
            before = {r.id for r in db.session.execute(select(NetworkRelease)).scalars()}
            network.publish(year)
            db.session.flush()
            written = [
                r
                for r in db.session.execute(
                    select(NetworkRelease).where(NetworkRelease.year == year)
                ).scalars()
                if r.id not in before or r in db.session.dirty
            ]
            seen.append(
                (written[0].size_band, copy.deepcopy(written[0].figures)) if written else None
            )
            db.session.rollback()
    return seen


def trial_releases(app, d, year: str, trials: int) -> list[dict | None]:
    """The figures of ``trials`` independent releases of the year (see ``trial_rows``)."""
    return [row[1] if row else None for row in trial_rows(app, d, year, trials)]


def seed_others(app, count: int = 12, years_back: int = 2) -> None:
    """Synthetic districts for ``YEAR`` (and earlier years with ``years_back`` > 2)."""
    with app.app_context(), all_tenants():
        network.seed_synthetic(count, years_back=years_back)
        uow.commit()


def analyst(app):
    """A signed-in network analyst's client (the pages and the network API)."""
    return platform_client(app, ANALYST, "network_analyst")


def platform_client(app, email: str, role: str):
    """A client of a new platform person with ``role``, signed in through the operators'
    sign-in form."""
    with app.app_context():
        users.create_platform_user(email, role.replace("_", " ").capitalize(), role, PASSWORD)
        uow.commit()
    client = app.test_client()
    page = client.get("/ops/login")
    client.post(
        "/ops/login",
        data={"email": email, "password": PASSWORD, "csrf_token": csrf_token(page.text)},
    )
    return client


def outcomes(client, **query) -> dict:
    """The analyst's API answer for the filters in ``query``."""
    response = client.get("/api/v1/network/outcomes", query_string=query)
    assert response.status_code == 200, response.text
    return response.json


def row_of(client, name: str, year: str = YEAR, track_kind: str = "all") -> dict | None:
    """One district's figures as the analyst's API shows them, or None when not shown."""
    items = outcomes(client, year=year, track_kind=track_kind)["items"]
    found = [i["figures"] for i in items if i["district"] == name]
    return found[0] if found else None
