"""The national network: a district's opt-in, its yearly release, and the comparisons.

Inside the tenant, the release job gathers one record per teacher in the school year,
builds the release (``app.network.release``: a table protected as a table, noised first
when the district chose noise) and writes one row to a platform table that carries no
tenant id. The district's own ledger (``privacy_spends``) records, per year, that the
year was published (a published year is final), the epsilon it spent and under which
name; the network's pages and API read only the platform table.
"""

from __future__ import annotations

import secrets
import statistics
import uuid
from dataclasses import dataclass
from datetime import date
from functools import cache

from flask import current_app
from sqlalchemy import Date, Select, bindparam, select, true
from sqlalchemy.orm import aliased

from app.core import outbox
from app.extensions import db
from app.models.base import utcnow
from app.models.case import Case
from app.models.network import NetworkMembership, NetworkRelease, PrivacySpend
from app.models.panel import AgendaItem
from app.models.tenant import Tenant
from app.network import privacy
from app.network import release as releasing
from app.reports.survey import SurveyCounts
from app.services import audit, sql_dialect
from app.services import workflow_config as configs
from app.services.actors import Actor
from app.services.errors import Conflict, ValidationFailed
from app.services.reports import (
    config_and_year,
    config_year_and_survey,
    open_import_cutoff,
    participants_between,
    plausibly_open,
)
from app.tenants import reads
from app.tenants.context import require_tenant_id
from app.tenants.scoping import scoped
from app.workflows.vocabulary import NETWORK_GROUPS, TRACK_KINDS

MINIMUM = 10
"""The smallest count published (and the smallest group a mean or median describes)."""

MIN_DISTRICTS = 5
"""Default for ``NETWORK_MIN_DISTRICTS``: the fewest districts a comparison shows."""

EARLIER_CHOICES = ("withdraw", "keep")


def min_districts() -> int:
    return int(current_app.config.get("NETWORK_MIN_DISTRICTS", MIN_DISTRICTS))


# ---------------------------------------------------------------------------- membership


def membership() -> NetworkMembership | None:
    return db.session.execute(select(NetworkMembership)).scalar_one_or_none()


def ledger() -> list[PrivacySpend]:
    """The district's years in the network, oldest first."""
    return list(
        db.session.execute(select(PrivacySpend).order_by(PrivacySpend.year)).scalars().all()
    )


def named_releases() -> list[PrivacySpend]:
    """Years published under the district's name and not withdrawn."""
    return [
        y for y in ledger() if y.published_at is not None and y.named and y.withdrawn_at is None
    ]


def join(
    named: bool,
    noisy: bool,
    epsilon: float,
    actor: Actor | None,
    earlier: str | None = None,
) -> NetworkMembership:
    """Join, or change how the district takes part.

    Going anonymous (joining anonymous, or turning anonymous after being named) always gives
    a fresh label and a fresh key, so nothing published later shares a label with anything
    published before. Years already published under the district's name are then either
    withdrawn or kept named, as ``earlier`` says ("withdraw" or "keep"); the district must
    choose when there are any.
    """
    tenant_id = require_tenant_id()
    if not 0.05 <= epsilon <= 10:
        raise ValidationFailed({"epsilon": ["Choose a yearly budget between 0.05 and 10."]})
    row = membership()
    going_anonymous = not named and (row is None or row.named)
    if row is not None and going_anonymous:
        named_years = named_releases()
        if named_years and earlier not in EARLIER_CHOICES:
            years = ", ".join(y.year for y in named_years)
            raise ValidationFailed(
                {
                    "earlier": [
                        f"Your releases for {years} carry your district's name. Choose "
                        "whether to withdraw them or keep them named."
                    ]
                }
            )
        if earlier == "withdraw":
            _withdraw(tenant_id, named_years, actor)
    if row is None or going_anonymous:
        row = row or NetworkMembership(tenant_id=tenant_id)
        row.member_key = str(uuid.uuid4())
        row.anonymous_label = _fresh_label()
    row.named, row.noisy, row.epsilon_per_year, row.left_at = named, noisy, epsilon, None
    db.session.add(row)
    db.session.flush()
    audit.record(
        tenant_id,
        "network.joined",
        "network_membership",
        row.id,
        after={"named": named, "noisy": noisy, "epsilon": epsilon, "earlier": earlier},
        actor=actor,
    )
    return row


def _fresh_label() -> str:
    """A label no release has carried."""
    while True:
        label = f"District {secrets.token_hex(3).upper()}"
        taken = db.session.execute(
            select(NetworkRelease.id).where(NetworkRelease.display_name == label).limit(1)
        ).first()
        if taken is None:
            return label


def _withdraw(tenant_id: int, years: list[PrivacySpend], actor: Actor | None) -> None:
    """Take these years' releases out of the network. The years stay published: final."""
    for year in years:
        for row in db.session.execute(
            select(NetworkRelease).where(
                NetworkRelease.member_key == year.member_key, NetworkRelease.year == year.year
            )
        ).scalars():
            db.session.delete(row)
        year.withdrawn_at = utcnow()
        audit.record(
            tenant_id,
            "network.release_withdrawn",
            "privacy_spend",
            year.id,
            after={"year": year.year},
            actor=actor,
        )
    db.session.flush()


def leave(actor: Actor) -> None:
    """Future releases stop; those already published stay, as published aggregates."""
    tenant_id = require_tenant_id()
    row = membership()
    if row is None or row.left_at is not None:
        raise Conflict({"_schema": ["This district is not in the network."]})
    row.left_at = utcnow()
    audit.record(tenant_id, "network.left", "network_membership", row.id, actor=actor)


# ------------------------------------------------------------------------ what is counted


def teacher_years(
    year: str,
) -> tuple[list[str], list[releasing.TeacherYear], releasing.Survey | None]:
    """The district's track kinds, one record per teacher in the year, and the survey.

    A teacher with several cases overlapping the year counts once, by the case whose support
    started last (the latest id breaks ties); a teacher in several years counts once in
    each. Kinds come from the configuration, never from who took part. The year's cases
    come in one statement with the panel's last decision on each (the cases are the annual
    report's participants, by its rules in ``app.services.reports``); off PostgreSQL, by
    ``portable_cases_with_decisions``.
    """
    config, span, survey = config_year_and_survey(year, comments=False)
    kinds = sorted({t.kind for t in config.tracks.values()} & set(TRACK_KINDS))
    kind_of = {key: track.kind for key, track in config.tracks.items()}
    network_group = {k: g.network_group for k, g in config.report_groups.items()}
    cutoff = open_import_cutoff(span.end, config)
    chosen: dict[int, tuple] = {}  # teacher -> (start of support, case id, the case's row)
    bounds = {"start": span.start, "end": span.end}
    cases = (
        _cases_with_decisions() if sql_dialect.on_postgresql() else portable_cases_with_decisions()
    )
    for case in reads.execute(cases, bounds):
        case_id, teacher_id, track_key, started_on, ended_on, _, external_id, *_ = case
        if kind_of.get(track_key, "") not in kinds:
            continue
        if not plausibly_open(started_on, ended_on, external_id, cutoff):
            continue
        held = chosen.get(teacher_id)
        if held is None or (started_on, case_id) > held[:2]:
            chosen[teacher_id] = (started_on, case_id, case)
    out = []
    for _, _, case in chosen.values():
        _, _, track_key, started_on, ended_on, group, _, enrolled_on, rating, item, option = case
        open_at_end = ended_on is None or ended_on > span.end
        end = min(ended_on or span.end, span.end)
        panel = None
        if item is not None:
            followed = option == rating or option in ("affirm", "uphold")
            panel = "followed" if followed else "overruled"
        out.append(
            releasing.TeacherYear(
                kind=kind_of[track_key],
                group="active" if open_at_end else network_group.get(group, "other"),
                months=round((end - started_on).days / 30.44, 1),
                wait_days=(started_on - enrolled_on).days if enrolled_on else None,
                panel=panel,
            )
        )
    return kinds, out, _agreement(survey)


#: What a teacher-year is built from, on both paths below.
_TEACHER_YEAR_COLUMNS = (
    Case.id,
    Case.teacher_id,
    Case.track_key,
    Case.started_on,
    Case.ended_on,
    Case.report_group,
    Case.external_id,
    Case.enrolled_on,
    Case.recommended_rating,
)
#: The panel's last decision on a case: the last closed, else the last opened.
_LAST_DECISION_FIRST = (
    AgendaItem.closed_at.is_not(None).desc(),
    AgendaItem.closed_at.desc(),
    AgendaItem.id.desc(),
)


@cache
def _cases_with_decisions() -> Select:
    """The year's participants (between the bound ``start`` and ``end``) with what a
    teacher-year needs, each with the panel's last decision on the case if there is one
    (the last closed, else the last opened). Built once: only the year changes."""
    decision = (
        select(AgendaItem.id.label("decision_id"), AgendaItem.option)
        .where(AgendaItem.case_id == Case.id, AgendaItem.outcome == "decided")
        .order_by(*_LAST_DECISION_FIRST)
        .limit(1)
        .lateral("decision")
    )
    return scoped(
        select(
            *_TEACHER_YEAR_COLUMNS,
            decision.c.decision_id,
            decision.c.option,
        )
        .select_from(Case)
        .outerjoin(decision, true())
        .where(*participants_between(bindparam("start", type_=Date), bindparam("end", type_=Date)))
    )


@cache
def portable_cases_with_decisions() -> Select:
    """The rows of ``_cases_with_decisions`` without ``LATERAL``, which SQLite lacks (the
    embedded database of ``make run``; see ``sql_dialect``): the last decision's id is a
    correlated subquery per case, by the same order, and the decision is joined by that
    id. A test compares both on PostgreSQL."""
    last = (
        select(AgendaItem.id)
        .where(AgendaItem.case_id == Case.id, AgendaItem.outcome == "decided")
        .order_by(*_LAST_DECISION_FIRST)
        .limit(1)
        .correlate(Case)
        .scalar_subquery()
    )
    decision = aliased(AgendaItem, name="decision")
    return scoped(
        select(
            *_TEACHER_YEAR_COLUMNS,
            decision.id.label("decision_id"),
            decision.option,
        )
        .select_from(Case)
        .outerjoin(decision, decision.id == last)
        .where(*participants_between(bindparam("start", type_=Date), bindparam("end", type_=Date)))
    )


def _agreement(counted: SurveyCounts | None) -> releasing.Survey | None:
    """The year's survey as a release reads it: per statement, how many respondents agreed
    and how many disagreed (a blank is neither)."""
    if counted is None:
        return None
    keys = tuple(key for key, _ in counted.statements)
    agreement = {}
    for key in keys:
        given = counted.counts.get(key, {})
        agree = sum(n for value, n in given.items() if value and value in counted.agree_keys)
        said = sum(n for value, n in given.items() if value)
        agreement[key] = {"agree": agree, "disagree": said - agree}
    return releasing.Survey(statements=keys, agreement=agreement)


def preview(year: str) -> dict:
    """What an exact release would publish (a noisy one differs by its noise)."""
    kinds, records, survey = teacher_years(year)
    return releasing.build(records, survey, kinds, MINIMUM).figures


# ------------------------------------------------------------------------------ releasing


def _year_row(tenant_id: int, year: str) -> PrivacySpend:
    return db.session.execute(
        select(PrivacySpend).where(PrivacySpend.year == year)
    ).scalar_one_or_none() or PrivacySpend(tenant_id=tenant_id, year=year, spent=0.0)


def _final(row: PrivacySpend) -> str:
    return (
        f"{row.year} was published on {row.published_at:%Y-%m-%d}; a published year is final "
        "and is never published again."
    )


def request_release(year: str, actor: Actor) -> None:
    tenant_id = require_tenant_id()
    row = membership()
    if row is None or row.left_at is not None:
        raise Conflict({"_schema": ["Join the network before publishing a release."]})
    config_and_year(year)  # 422 for a label that is not a school year
    spent = _year_row(tenant_id, year)
    if spent.published_at is not None:
        raise Conflict({"year": [_final(spent)]})
    outbox.add("network.release", {"year": year}, tenant_id=tenant_id, queue="default")
    audit.record(
        tenant_id,
        "network.release_requested",
        "network_membership",
        row.id,
        after={"year": year},
        actor=actor,
    )


def publish(year: str, noise: privacy.Noise | None = None) -> NetworkRelease | None:
    """The job: build, protect, charge the budget when noised, write the release once.

    A year already published is refused (a published year is final, whatever the
    district's settings now are), and so is a noisy release past the year's budget; a
    refusal is kept on the year's ledger row, shown on the district's page, and audited.
    ``noise`` is for tests only (see ``privacy.noisy_histogram``).
    """
    tenant_id = require_tenant_id()
    found = db.session.execute(_member_and_year(), {"year": year}).one_or_none()
    if found is None or found[0].left_at is not None:
        return None
    member, spent, name = found
    spent = spent or PrivacySpend(tenant_id=tenant_id, year=year, spent=0.0)
    if spent.published_at is not None:
        return _refuse(tenant_id, member, spent, _final(spent))
    kinds, records, survey = teacher_years(year)
    built = releasing.build(
        records,
        survey,
        kinds,
        MINIMUM,
        noisy=member.noisy,
        epsilon=member.epsilon_per_year,
        noise=noise,
    )
    if member.noisy:
        budget = privacy.Budget(member.epsilon_per_year, spent.spent or 0.0, scope=year)
        try:
            spent.spent = budget.spend(built.epsilon).spent
        except privacy.BudgetExceeded as exc:
            return _refuse(tenant_id, member, spent, str(exc))
    written = NetworkRelease(
        member_key=member.member_key,
        year=year,
        display_name=name if member.named else member.anonymous_label,
        size_band=built.size_band,
        noisy=member.noisy,
        figures=built.figures,
        minimum=MINIMUM,
    )
    db.session.add(written)
    spent.published_at = utcnow()
    spent.noisy, spent.named, spent.member_key = member.noisy, member.named, member.member_key
    spent.refusal = None
    db.session.add(spent)
    db.session.flush()
    audit.record(
        tenant_id,
        "network.published",
        "privacy_spend",
        spent.id,
        after={"year": year, "noisy": member.noisy, "epsilon": built.epsilon},
        actor=Actor.system("network release"),
    )
    return written


@cache
def _member_and_year() -> Select:
    """The membership, the ledger row of the bound ``year`` (if any) and the district's
    name, in one statement built once."""
    return scoped(
        select(NetworkMembership, PrivacySpend, Tenant.name)
        .select_from(NetworkMembership)
        .outerjoin(PrivacySpend, PrivacySpend.year == bindparam("year"))
        .outerjoin(Tenant, Tenant.id == NetworkMembership.tenant_id)
    )


def _refuse(tenant_id: int, member: NetworkMembership, spent: PrivacySpend, reason: str) -> None:
    spent.refusal = reason
    db.session.add(spent)
    db.session.flush()
    audit.record(
        tenant_id,
        "network.release_refused",
        "network_membership",
        member.id,
        after={"year": spent.year, "reason": reason},
        actor=Actor.system("network release"),
    )
    return None


# -------------------------------------------------------------------------- comparisons


def releases(
    year: str | None = None, track_kind: str = "all", size_band: str | None = None
) -> list[NetworkRelease]:
    """Every release matching the filters (before the minimum number of districts)."""
    query = select(NetworkRelease).order_by(NetworkRelease.year.desc(), NetworkRelease.display_name)
    if year:
        query = query.where(NetworkRelease.year == year)
    if size_band:
        query = query.where(NetworkRelease.size_band == size_band)
    return [r for r in db.session.execute(query).scalars() if track_kind in r.figures]


@dataclass(frozen=True)
class Comparison:
    """What the analysts' page, CSV and API show for one set of filters.

    A school year's releases are shown only when at least ``min_districts()`` districts
    match the filters in that year (a district publishes a year once, so releases are
    districts); ``too_few_districts`` when that leaves nothing.
    """

    rows: list[NetworkRelease]
    summary: dict
    too_few_districts: bool
    minimum_districts: int


def comparison(
    year: str | None = None, track_kind: str = "all", size_band: str | None = None
) -> Comparison:
    least = min_districts()
    by_year: dict[str, list[NetworkRelease]] = {}
    for row in releases(year, track_kind, size_band):
        by_year.setdefault(row.year, []).append(row)
    rows = [
        r for y in sorted(by_year, reverse=True) if len(by_year[y]) >= least for r in by_year[y]
    ]
    return Comparison(rows, summary(rows, track_kind), not rows, least)


def summary(rows: list[NetworkRelease], track_kind: str = "all") -> dict:
    """Median and quartiles across districts of each figure, from at least the minimum
    number of districts' published values (hidden cells skipped)."""
    least = min_districts()

    def spread(values):
        values = [v for v in values if v is not None]
        return privacy.quartiles(values) if len(values) >= least else None

    picked = [r.figures[track_kind] for r in rows]
    out = {
        "districts": len(picked),
        "participants": spread(p["participants"] for p in picked),
        "months_mean": spread(p["months_mean"] for p in picked),
    }
    for group in NETWORK_GROUPS:
        out[group] = spread(p["outcomes"].get(group) for p in picked)
    return out


def trend(rows: list[NetworkRelease], track_kind: str = "all") -> dict:
    """Median participants and months per year across the rows, for the trend chart."""
    by_year: dict[str, list[NetworkRelease]] = {}
    for row in rows:
        by_year.setdefault(row.year, []).append(row)
    years_sorted = sorted(by_year)
    summaries = [summary(by_year[y], track_kind) for y in years_sorted]
    return {
        "years": years_sorted,
        "participants": [s["participants"][1] if s["participants"] else None for s in summaries],
        "average_months_of_support": [
            s["months_mean"][1] if s["months_mean"] else None for s in summaries
        ],
    }


def district_view(year: str) -> dict:
    """A member district beside the network for one year: its own release, the preview of
    what it would publish, and the other districts' medians.

    Only medians, and only over other districts (never including its own values), and only
    when at least ``min_districts()`` others published the year: no quartile or small group
    the district could solve, with its own figures, for another district's.
    """
    member = membership()
    mine_keys = {y.member_key for y in ledger() if y.year == year and y.member_key}
    rows = releases(year=year)
    mine = next((r for r in rows if r.member_key in mine_keys), None)
    others = [r for r in rows if r.member_key not in mine_keys]
    least = min_districts()
    enough = len(others) >= least

    def median(values):
        values = [v for v in values if v is not None]
        return statistics.median(values) if enough and len(values) >= least else None

    picked = [r.figures["all"] for r in others]
    network = {
        "districts": len(others) if enough else None,
        "too_few_districts": not enough,
        "minimum_districts": least,
        "participants": median(p["participants"] for p in picked),
        "months_mean": median(p["months_mean"] for p in picked),
        **{g: median(p["outcomes"].get(g) for p in picked) for g in NETWORK_GROUPS},
    }
    return {
        "year": year,
        "member": member is not None and member.left_at is None,
        "mine": mine.figures if mine else None,
        "preview": preview(year),
        "network": network,
        "others": [r.display_name for r in others] if enough else [],
    }


def years() -> list[str]:
    return sorted(set(db.session.execute(select(NetworkRelease.year)).scalars()), reverse=True)


def current_year() -> str:
    start, _ = configs.current().school_year(date.today())
    return f"{start.year}-{start.year + 1}"


# ------------------------------------------------------------------------------ synthetic

_SYNTHETIC_KINDS = (
    ("assistance", "review"),
    ("induction", "review"),
    ("induction", "review"),
    ("induction", "review"),
    ("assistance",),
    ("induction",),
)


def seed_synthetic(count: int, years_back: int = 3, seed: int = 7) -> int:
    """Fill the network with ``count`` synthetic districts (labels only, no tenant behind
    them), built and protected like exact real releases: for demos and load tests. Their
    years end with the current school year (taken to start in August), so the demo
    districts' own release of this year sits among enough others to be shown. A
    district-year already there is left as published."""
    import random

    rng = random.Random(seed)
    today = date.today()
    current = today.year if today.month >= 8 else today.year - 1
    start = current - years_back + 1
    existing = set(
        db.session.execute(
            select(NetworkRelease.member_key, NetworkRelease.year).where(
                NetworkRelease.member_key.startswith("synthetic-")
            )
        ).all()
    )
    made = 0
    for n in range(1, count + 1):
        label = f"Sample district {n:03d}"
        kinds = _SYNTHETIC_KINDS[(n - 1) % len(_SYNTHETIC_KINDS)]
        size = rng.choice((8, 15, 30, 60, 120, 300))
        for offset in range(years_back):
            year = f"{start + offset}-{start + offset + 1}"
            key = f"synthetic-{label}"
            records = [
                releasing.TeacherYear(
                    kind=rng.choice(kinds),
                    group=rng.choices(list(NETWORK_GROUPS), weights=(40, 5, 25, 5, 25))[0],
                    months=round(rng.uniform(2, 20), 1),
                    wait_days=rng.randint(5, 60),
                )
                for _ in range(size)
            ]
            if (key, year) in existing:
                continue
            built = releasing.build(records, None, kinds, MINIMUM)
            db.session.add(
                NetworkRelease(
                    member_key=key,
                    year=year,
                    display_name=label,
                    size_band=built.size_band,
                    noisy=False,
                    figures=built.figures,
                    minimum=MINIMUM,
                )
            )
            made += 1
    db.session.flush()
    return made
