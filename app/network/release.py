"""One district-year's release: which figures, from what, protected how, at what cost.

The privacy unit is a **teacher in a school year**. The caller hands over one
:class:`TeacherYear` per teacher (never one per case) and the year's survey answers counted
per statement (one answer per respondent and statement), so one teacher-year is one element
of every count below.

A release is a table per kind of figure, each protected as a table
(:func:`privacy.protect_table`):

* outcomes: track kinds x outcome groups, with each kind's total (its participants) and
  the all-tracks row (their sum);
* panel decisions: track kinds x (followed the CT's recommendation, overruled it);
* survey answers: statements x (agree, disagree).

Exact mode publishes the counts so protected; means, quartiles and medians of a row only
when that row's participants are published (so at least ``minimum`` teachers), and a
rate only when its two counts are published.

Noise mode (:func:`build` with ``noisy=True``) publishes nothing computed from the true
data: every figure is post-processing of OpenDP-noised histograms, one histogram per kind
of figure over all track kinds at once (the all-tracks row is the sum of the noisy kind
rows), and one for the survey's statements. The district's yearly epsilon is split over
them by :data:`SHARES`; months of support and days to assignment come from noisy
histograms of their binned values.
Suppression is then decided on the noisy counts, so whether a row or a figure appears is
itself a function of noisy values. The release costs the sum of the epsilons OpenDP
certifies for its histograms, never more than the year's budget.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from app.network import privacy
from app.network.privacy import ALL, TOTAL
from app.workflows.vocabulary import NETWORK_GROUPS

SHARES = MappingProxyType(
    {"outcomes": 0.4, "months": 0.2, "days": 0.1, "panel": 0.15, "survey": 0.15}
)
"""How a noisy release splits the year's epsilon between its kinds of figure."""

MONTH_EDGES = (0, 3, 6, 9, 12, 15, 18, 21, 24)
"""Bins of months of support for noisy releases (24 months or more fall in the last)."""

DAY_EDGES = (0, 7, 14, 21, 30, 45, 60, 90, 120, 180, 365)
"""Bins of days from request to support for noisy releases (a year or more: the last)."""

PANEL = ("followed", "overruled")
SURVEY = ("agree", "disagree")


@dataclass(frozen=True)
class TeacherYear:
    """One teacher's part in a school year: one case chosen for them (see the service)."""

    kind: str
    group: str  # a network group; "active" when support goes on past the year
    months: float
    wait_days: int | None = None
    panel: str | None = None  # "followed", "overruled" or None (no decision)


@dataclass(frozen=True)
class Survey:
    """The year's survey: statement keys and, per statement, how many respondents agreed
    and how many disagreed (``{"agree": n, "disagree": m}``; a blank answer is neither).

    Counts, not answers, because that is all a release publishes from, and the database
    counts them. Each respondent answers each statement at most once, which is what the
    survey histogram's sensitivity (its number of statements) rests on."""

    statements: tuple[str, ...]
    agreement: Mapping[str, Mapping[str, int]] = field(default_factory=dict)

    @classmethod
    def from_answers(
        cls, statements: Sequence[str], answers: Sequence[Mapping[str, bool | None]]
    ) -> Survey:
        """The survey of these responses: per response, agree (True), disagree (False) or
        blank (None or missing) for each statement."""
        agreement = {}
        for key in statements:
            said = [answer.get(key) for answer in answers]
            agreement[key] = {"agree": said.count(True), "disagree": said.count(False)}
        return cls(tuple(statements), agreement)


@dataclass(frozen=True)
class Release:
    """What a release publishes, and what it cost (0 for an exact release)."""

    figures: dict
    size_band: str | None
    epsilon: float = 0.0
    spent_by: dict[str, float] = field(default_factory=dict)


def build(
    records: Sequence[TeacherYear],
    survey: Survey | None,
    kinds: Sequence[str],
    minimum: int,
    noisy: bool = False,
    epsilon: float | None = None,
    noise: privacy.Noise | None = None,
) -> Release:
    """The release of one district-year. ``kinds`` are the district's configured track
    kinds (so which rows exist never depends on who took part); records of another kind
    are ignored."""
    kinds = list(kinds)
    if not kinds:
        raise ValueError("a release needs at least one track kind")
    records = [r for r in records if r.kind in kinds]
    if noisy:
        if epsilon is None or epsilon <= 0:
            raise ValueError("a noisy release needs a positive epsilon")
        return _noisy(records, survey, kinds, minimum, epsilon, noise)
    return _exact(records, survey, kinds, minimum)


# ------------------------------------------------------------------------------ exact


def _exact(records, survey, kinds, minimum) -> Release:
    outcomes = privacy.protect_table(
        {k: _counts([r.group for r in records if r.kind == k], NETWORK_GROUPS) for k in kinds},
        minimum,
    )
    panel = privacy.protect_table(
        {k: _counts([r.panel for r in records if r.kind == k], PANEL) for k in kinds}, minimum
    )
    answers = _survey_table(survey)
    agreement = privacy.protect_table(answers, minimum, all_row=False) if answers else None
    figures = {}
    for row in (ALL, *kinds):
        chosen = [r for r in records if row == ALL or r.kind == row]
        participants = outcomes.cells[row][TOTAL]
        enough = bool(participants)  # published and not 0: at least ``minimum`` teachers
        months = [r.months for r in chosen]
        waits = [r.wait_days for r in chosen if r.wait_days is not None]
        spread = privacy.quartiles(months) if enough else None
        figures[row] = _row(
            outcomes.cells[row],
            months_mean=round(statistics.fmean(months), 1) if enough else None,
            months_quartiles=list(spread) if spread else None,
            days_median=statistics.median(waits) if enough and len(waits) >= minimum else None,
            panel=_rate(panel.cells[row], PANEL[0]),
            survey=_survey_rates(agreement) if row == ALL else {},
        )
    return Release(figures=figures, size_band=_band(figures))


def _counts(values: Sequence[str | None], columns: Sequence[str]) -> dict[str, int]:
    counts = dict.fromkeys(columns, 0)
    for value in values:
        if value in counts:
            counts[value] += 1
    return counts


def _survey_table(survey: Survey | None) -> dict[str, dict[str, int]]:
    if survey is None:
        return {}
    table = {}
    for key in survey.statements:
        counts = survey.agreement.get(key, {})
        table[key] = {column: int(counts.get(column, 0)) for column in SURVEY}
    return table


# ------------------------------------------------------------------------------ noisy


def _noisy(records, survey, kinds, minimum, epsilon, noise) -> Release:
    spent: dict[str, float] = {}

    def noised(name, counts, sensitivity=1):
        drawn = privacy.noisy_counts(counts, epsilon * SHARES[name], sensitivity, noise)
        spent[name] = drawn.epsilon
        return drawn.counts

    def by_kind(name, columns, value_of):
        categories = [f"{k}/{c}" for k in kinds for c in columns]
        elements = [f"{r.kind}/{value_of(r)}" for r in records]
        counts = iter(noised(name, privacy.histogram(categories, elements)))
        return {k: {c: next(counts) for c in columns} for k in kinds}

    month_bins = [str(n) for n in range(len(MONTH_EDGES) - 1)]
    day_bins = [str(n) for n in range(len(DAY_EDGES) - 1)]
    outcomes = privacy.protect_table(
        by_kind("outcomes", NETWORK_GROUPS, lambda r: r.group), minimum
    )
    months = _with_all(
        by_kind("months", month_bins, lambda r: privacy.bin_of(r.months, MONTH_EDGES))
    )
    days = _with_all(
        by_kind(
            "days",
            day_bins,
            lambda r: "" if r.wait_days is None else privacy.bin_of(r.wait_days, DAY_EDGES),
        )
    )
    panel = privacy.protect_table(by_kind("panel", PANEL, lambda r: r.panel or ""), minimum)
    agreement = None
    if survey is not None and survey.statements:
        # One respondent answers each statement once: the answers move by at most one per
        # statement, so the whole table's sensitivity is the number of statements.
        table = _survey_table(survey)
        counts = iter(
            noised(
                "survey",
                [c for key in survey.statements for c in table[key].values()],
                len(survey.statements),
            )
        )
        agreement = privacy.protect_table(
            {key: {c: next(counts) for c in SURVEY} for key in survey.statements},
            minimum,
            all_row=False,
        )
    figures = {}
    for row in (ALL, *kinds):
        participants = outcomes.cells[row][TOTAL]
        month_counts = list(months[row].values())
        day_counts = list(days[row].values())
        show_months = bool(participants) and sum(month_counts) >= minimum
        show_days = bool(participants) and sum(day_counts) >= minimum
        figures[row] = _row(
            outcomes.cells[row],
            months_mean=_histogram_mean(month_counts, MONTH_EDGES) if show_months else None,
            months_quartiles=[
                round(privacy.histogram_quantile(month_counts, MONTH_EDGES, q), 1)
                for q in (0.25, 0.5, 0.75)
            ]
            if show_months
            else None,
            days_median=round(privacy.histogram_quantile(day_counts, DAY_EDGES, 0.5), 1)
            if show_days
            else None,
            panel=_rate(panel.cells[row], PANEL[0]),
            survey=_survey_rates(agreement) if row == ALL else {},
        )
    # The shares add up to 1, so this is the chosen epsilon (less the survey's share when
    # there is no survey); the caller still checks it against the year's budget.
    cost = sum(spent.values())
    return Release(figures=figures, size_band=_band(figures), epsilon=cost, spent_by=spent)


def _with_all(rows: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
    columns = list(next(iter(rows.values())))
    return {ALL: {c: sum(r[c] for r in rows.values()) for c in columns}, **rows}


def _histogram_mean(counts: list[int], edges: Sequence[float]) -> float:
    return round(privacy.histogram_mean(counts, edges), 1)


# ------------------------------------------------------------------------------ shared


def _row(cells, months_mean, months_quartiles, days_median, panel, survey) -> dict:
    return {
        "participants": cells[TOTAL],
        "outcomes": {group: cells[group] for group in NETWORK_GROUPS},
        "months_mean": months_mean,
        "months_quartiles": months_quartiles,
        "days_to_assignment_median": days_median,
        "panel_agreement": panel,
        "survey_agreement": survey,
    }


def _rate(cells: Mapping[str, int | None], numerator: str) -> float | None:
    """A share published only when its count and its total are (so both its parts are)."""
    part, total = cells[numerator], cells[TOTAL]
    if part is None or not total or any(v is None for v in cells.values()):
        return None
    return round(part / total, 3)


def _survey_rates(table: privacy.ProtectedTable | None) -> dict[str, float | None]:
    if table is None:
        return {}
    return {key: _rate(cells, "agree") for key, cells in table.cells.items()}


def _band(figures: Mapping[str, dict]) -> str | None:
    """The size band of the published all-tracks participants (none when it is hidden)."""
    participants = figures[ALL]["participants"]
    return None if participants is None else privacy.size_band(participants)
