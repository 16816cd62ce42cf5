"""The national network: a district's opt-in, its yearly release, and the comparisons.

Inside the tenant, the release job computes the year's aggregates, applies the
privacy rules (noise first when the district chose it, then suppression decided
on the published numbers) and writes one row to a platform table that carries no
tenant id. The network's pages and API read only that table.
"""

from __future__ import annotations

import secrets
import statistics
from datetime import date

from sqlalchemy import select

from app.extensions import db
from app.jobs import outbox
from app.models.case import Case
from app.models.network import NetworkMembership, NetworkRelease, PrivacySpend
from app.models.tenant import Tenant
from app.network import privacy
from app.services import audit
from app.services import workflow_config as configs
from app.services.actors import Actor
from app.services.errors import Conflict, ValidationFailed
from app.workflows.vocabulary import NETWORK_GROUPS

MINIMUM = 10


def membership() -> NetworkMembership | None:
    return db.session.execute(select(NetworkMembership)).scalar_one_or_none()


def join(tenant_id: int, named: bool, noisy: bool, epsilon: float, actor: Actor):
    if not 0.05 <= epsilon <= 10:
        raise ValidationFailed({"epsilon": ["Choose a yearly budget between 0.05 and 10."]})
    row = membership() or NetworkMembership(
        tenant_id=tenant_id, anonymous_label=f"District {secrets.token_hex(2).upper()}"
    )
    row.named, row.noisy, row.epsilon_per_year, row.left_at = named, noisy, epsilon, None
    db.session.add(row)
    db.session.flush()
    audit.record(
        tenant_id,
        "network.joined",
        "network_membership",
        row.id,
        after={"named": named, "noisy": noisy, "epsilon": epsilon},
        actor=actor,
    )
    return row


def leave(tenant_id: int, actor: Actor) -> None:
    """Future releases stop; those already published stay, as published aggregates."""
    from app.models.base import utcnow

    row = membership()
    if row is None or row.left_at is not None:
        raise Conflict({"_schema": ["This district is not in the network."]})
    row.left_at = utcnow()
    audit.record(tenant_id, "network.left", "network_membership", row.id, actor=actor)


def figures(tenant_id: int, year: str) -> dict:
    """The district's true aggregates for the year, per track kind and overall."""
    from app.services.reports import _year_and_records, participants_of

    config, span, records = _year_and_records(tenant_id, year)
    network_group = {k: g.network_group for k, g in config.report_groups.items()}
    # Enrolment dates of the same participants, as plain columns (whole cases would bring
    # their eager relations along, the configuration document of every row among them).
    enrolled = dict(
        db.session.execute(select(Case.id, Case.enrolled_on).where(*participants_of(span))).all()
    )
    out = {}
    for kind in ("all", *sorted({r.track_kind for r in records})):
        chosen = [r for r in records if kind == "all" or r.track_kind == kind]
        chosen = [
            r
            for r in chosen
            if r.started_on <= span.end and (r.ended_on is None or r.ended_on >= span.start)
        ]
        groups = dict.fromkeys(NETWORK_GROUPS, 0)
        months, waits = [], []
        for r in chosen:
            open_at_end = r.ended_on is None or r.ended_on > span.end
            groups["active" if open_at_end else network_group.get(r.report_group, "other")] += 1
            end = min(r.ended_on or span.end, span.end)
            months.append(round((end - r.started_on).days / 30.44, 1))
            enrolled_on = enrolled.get(r.case_id)
            if enrolled_on is not None:
                waits.append((r.started_on - enrolled_on).days)
        out[kind] = {
            "participants": len(chosen),
            "outcomes": groups,
            "months": months,
            "days_to_assignment": waits,
            "panel": _panel_agreement([r.case_id for r in chosen]),
        }
    out["all"]["survey"] = _survey_agreement(year)
    return out


def _panel_agreement(case_ids: list[int]) -> tuple[int, int]:
    """(decisions that followed the CT's recommendation, decisions) for these cases."""
    from app.models.panel import AgendaItem

    if not case_ids:
        return (0, 0)
    rows = db.session.execute(
        select(AgendaItem.option, Case.recommended_rating)
        .join(Case, Case.id == AgendaItem.case_id)
        .where(AgendaItem.case_id.in_(case_ids), AgendaItem.outcome == "decided")
    ).all()
    agreed = sum(1 for option, rec in rows if option == rec or option in ("affirm", "uphold"))
    return (agreed, len(rows))


def _survey_agreement(year: str) -> dict[str, tuple[int, int]]:
    """Per statement key: (answers agreeing, answers) in the year's survey."""
    from app.services.surveys import record_for

    record = record_for(year)
    if record is None:
        return {}
    out = {}
    for key, _ in record.statements:
        answered = [a[key] for a in record.answers if a.get(key)]
        out[key] = (sum(1 for v in answered if v in record.agree_keys), len(answered))
    return out


def _published(true: dict, counter: privacy.NoisyCounter | None) -> tuple[dict, int]:
    """Privacy applied to one year's figures; returns them and how many counts were noised."""
    released, counted = {}, 0
    for kind, row in true.items():
        if counter is not None:
            suppressed = privacy.noisy_then_suppressed(row["outcomes"], 0, MINIMUM, counter)
            counted += len(row["outcomes"])
        else:
            suppressed = privacy.suppress(row["outcomes"], row["participants"], MINIMUM)
        big_enough = suppressed.total is not None and suppressed.total >= MINIMUM
        quart = privacy.quartiles(row["months"]) if big_enough else None
        waits = row["days_to_assignment"]
        released[kind] = {
            "participants": suppressed.total,
            "outcomes": suppressed.cells,
            "months_mean": round(statistics.fmean(row["months"]), 1) if big_enough else None,
            "months_quartiles": list(quart) if quart else None,
            "days_to_assignment_median": statistics.median(waits)
            if big_enough and len(waits) >= MINIMUM
            else None,
            "panel_agreement": _rate(row.get("panel", (0, 0))),
            "survey_agreement": {key: _rate(pair) for key, pair in row.get("survey", {}).items()},
        }
    return released, counted


def _rate(pair: tuple[int, int]) -> float | None:
    """A share published only when it rests on at least ``MINIMUM`` answers or decisions."""
    agreed, total = pair
    return round(agreed / total, 3) if total >= MINIMUM else None


def preview(tenant_id: int, year: str) -> dict:
    """What a release would publish (noise-free: a noisy release differs by its noise)."""
    return _published(figures(tenant_id, year), None)[0]


def request_release(tenant_id: int, year: str, actor: Actor) -> None:
    row = membership()
    if row is None or row.left_at is not None:
        raise Conflict({"_schema": ["Join the network before publishing a release."]})
    outbox.add("network.release", {"year": year}, tenant_id=tenant_id, queue="default")
    audit.record(
        tenant_id,
        "network.release_requested",
        "network_membership",
        row.id,
        after={"year": year},
        actor=actor,
    )


def publish(tenant_id: int, year: str, counter: privacy.NoisyCounter | None = None) -> None:
    """The job: compute, protect, spend the budget when noised, write the release."""
    member = membership()
    if member is None or member.left_at is not None:
        return
    true = figures(tenant_id, year)
    if member.noisy and counter is None:
        counter = privacy.NoisyCounter(epsilon_per_count=0.1)
    released, counted = _published(true, counter if member.noisy else None)
    if member.noisy:
        spend = db.session.execute(
            select(PrivacySpend).where(PrivacySpend.year == year)
        ).scalar_one_or_none() or PrivacySpend(tenant_id=tenant_id, year=year, spent=0.0)
        budget = privacy.Budget(member.epsilon_per_year, spend.spent, scope=year)
        try:
            spend.spent = budget.spend(counter.privacy_cost(counted)).spent
        except privacy.BudgetExceeded as exc:
            # Refused, and said so in the district's trail; nothing is published.
            audit.record(
                tenant_id,
                "network.release_refused",
                "network_membership",
                member.id,
                after={"year": year, "reason": str(exc)},
                actor=Actor.system("network release"),
            )
            return
        db.session.add(spend)
    tenant = db.session.get(Tenant, tenant_id)
    row = db.session.execute(
        select(NetworkRelease).where(
            NetworkRelease.member_key == member.member_key, NetworkRelease.year == year
        )
    ).scalar_one_or_none() or NetworkRelease(member_key=member.member_key, year=year)
    row.display_name = tenant.name if member.named else member.anonymous_label
    row.size_band = privacy.size_band(true["all"]["participants"])
    row.noisy, row.figures, row.minimum = member.noisy, released, MINIMUM
    db.session.add(row)
    db.session.flush()


def releases(
    year: str | None = None, track_kind: str = "all", size_band: str | None = None
) -> list[NetworkRelease]:
    """Network rows for the comparisons: the platform table only."""
    query = select(NetworkRelease).order_by(NetworkRelease.year.desc(), NetworkRelease.display_name)
    if year:
        query = query.where(NetworkRelease.year == year)
    if size_band:
        query = query.where(NetworkRelease.size_band == size_band)
    return [r for r in db.session.execute(query).scalars() if track_kind in r.figures]


def summary(rows: list[NetworkRelease], track_kind: str = "all") -> dict:
    """Median and quartiles across districts of each published figure (None cells skipped)."""

    def spread(values):
        values = [v for v in values if v is not None]
        return privacy.quartiles(values) if values else None

    picked = [r.figures[track_kind] for r in rows]
    out = {
        "districts": len(picked),
        "participants": spread(p["participants"] for p in picked),
        "months_mean": spread(p["months_mean"] for p in picked),
    }
    for group in NETWORK_GROUPS:
        out[group] = spread(p["outcomes"].get(group) for p in picked)
    return out


def years() -> list[str]:
    return sorted(set(db.session.execute(select(NetworkRelease.year)).scalars()), reverse=True)


def current_year(tenant_id: int) -> str:
    start, _ = configs.config_of(configs.latest_published(tenant_id)).school_year(date.today())
    return f"{start.year}-{start.year + 1}"


def seed_synthetic(count: int, years_back: int = 3, seed: int = 7) -> int:
    """Fill the network with ``count`` synthetic districts (labels only, no tenant behind
    them), protected by the same suppression as real releases: for demos and load tests."""
    import random

    rng = random.Random(seed)
    labels = [f"Sample district {n:03d}" for n in range(1, count + 1)]
    start = date.today().year - years_back
    made = 0
    for label in labels:
        size = rng.choice((8, 15, 30, 60, 120, 300))
        for offset in range(years_back):
            year = f"{start + offset}-{start + offset + 1}"
            outcomes = dict.fromkeys(NETWORK_GROUPS, 0)
            for _ in range(size):
                outcomes[rng.choices(list(NETWORK_GROUPS), weights=(40, 5, 25, 5, 25))[0]] += 1
            months = [round(rng.uniform(2, 20), 1) for _ in range(size)]
            true = {
                "all": {
                    "participants": size,
                    "outcomes": outcomes,
                    "months": months,
                    "days_to_assignment": [rng.randint(5, 60) for _ in range(size)],
                }
            }
            figures, _ = _published(true, None)
            key = f"synthetic-{label}"
            row = db.session.execute(
                select(NetworkRelease).where(
                    NetworkRelease.member_key == key, NetworkRelease.year == year
                )
            ).scalar_one_or_none() or NetworkRelease(member_key=key, year=year)
            row.display_name, row.size_band = label, privacy.size_band(size)
            row.noisy, row.figures, row.minimum = False, figures, MINIMUM
            db.session.add(row)
            made += 1
    db.session.flush()
    return made


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
