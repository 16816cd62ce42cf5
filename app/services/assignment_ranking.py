"""Ranked consulting-teacher (CT) suggestions for a new case, with the reasons shown.

The coordinator proposes a CT for each case (DESIGN §1, step 2: "caseload,
school, subject, language") and the committee approves. This module only
*suggests*: it is a pure function of plain values, so it can be tested without a
database and reused by the HTML page, the API and the CLI alike. Callers load
the profiles; nothing here touches Flask or SQLAlchemy.

Eligibility (hard rules, never traded against points):

- the CT's term is active today;
- taking the case keeps the CT within the caseload limit. Load is counted in
  weights, because programs weigh evaluative cases 2x-3x (Toledo intervention
  counts double, Montgomery underperforming 2x, San Juan 3x), so a CT exactly
  at the limit minus one can take a single-weighted case but not a double one;
- the CT is not from the teacher's own school (DESIGN: "not from the teacher's
  own school"), so the CT never evaluates a colleague from their own staff room.

Score (soft preferences; all weights are whole numbers so sums are exact):

=====================  ======  ==============================================
signal                 points  why
=====================  ======  ==============================================
open capacity          1 per   spreads the work; counted in weight units after
                       unit,   this case. Capped at 8: past 8 open units a CT
                       max 8   has plenty of room, and more room must not drown
                               out the matches below (caseloads run 10-23).
subject match          4       content knowledge is what coaching is made of.
language match         3       the CT must be able to talk with the teacher;
                               only counted when the teacher has a preferred
                               language, so it never penalises anyone otherwise.
grade match            2       a finer fit than subject, but a CT can bridge
                               neighbouring grades more easily than subjects.
closeness              3 - d   d = distance in schools (0 when the CT already
                       (min 0) serves the teacher's school). Travel time eats
                               into visits. Unknown distance scores 0: neutral,
                               neither rewarded nor punished.
=====================  ======  ==============================================

The documented trade-off: a subject *and* language match (7 points) outranks up
to 6 more open units of capacity; a subject match alone (4) outranks up to 3.
So a Spanish-speaking mathematics CT with 4 open units comes before a CT with
no matches and 6 open units.

Order: eligible suggestions first, then ineligible ones (shown so the
coordinator sees *why* someone is missing); within each group by score, highest
first, then by name (case-insensitively) and ct_id. The remaining fields close
the key, so the output never depends on the order of the input.

Matching of subjects, grades, languages and schools ignores case and
surrounding spaces, because these strings are typed by people in different
offices ("Math" vs "math ").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

__all__ = ["CaseProfile", "CtProfile", "Suggestion", "rank"]

CAPACITY_POINT = 1.0
CAPACITY_CAP = 8
SUBJECT_POINTS = 4.0
LANGUAGE_POINTS = 3.0
GRADE_POINTS = 2.0
CLOSENESS_POINTS = 3.0


@dataclass(frozen=True)
class CaseProfile:
    """What the ranking needs to know about the case and its teacher."""

    school: str | None
    subject: str | None
    grade: str | None
    language: str | None
    track_weight: int
    neighbouring_schools: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class CtProfile:
    """What the ranking needs to know about one consulting teacher."""

    ct_id: int
    name: str
    caseload_limit: int
    current_load: int
    schools: frozenset[str]
    subjects: frozenset[str]
    grades: frozenset[str]
    languages: frozenset[str]
    term_active: bool
    home_school: str | None


@dataclass(frozen=True)
class Suggestion:
    """One CT as a candidate for the case, with plain-sentence reasons for the coordinator."""

    ct_id: int
    name: str
    score: float
    open_capacity: int
    eligible: bool
    reasons: tuple[str, ...]


def rank(case: CaseProfile, cts: Iterable[CtProfile]) -> list[Suggestion]:
    """Every CT as a suggestion for ``case``: eligible ones first, best first.

    Ineligible CTs are kept (last) rather than dropped, so the page can say why a
    familiar name is not suggested. Raises ``ValueError`` for a track weight below
    1, since a case that weighs nothing would make every full CT look available.
    """
    if case.track_weight < 1:
        raise ValueError(f"track_weight: must be >= 1 (got {case.track_weight})")
    suggestions = [_suggest(case, ct) for ct in cts]
    return sorted(suggestions, key=_order_key)


def _norm(value: str) -> str:
    return value.strip().casefold()


def _norms(values: Iterable[str]) -> frozenset[str]:
    return frozenset(_norm(v) for v in values)


def _suggest(case: CaseProfile, ct: CtProfile) -> Suggestion:
    open_capacity = ct.caseload_limit - ct.current_load - case.track_weight
    reasons: list[str] = []
    eligible = True

    if not ct.term_active:
        eligible = False
        reasons.append("outside their term dates: not suggested")
    if _same_school(case.school, ct.home_school):
        eligible = False
        reasons.append("from the teacher's own school: not suggested")
    if open_capacity < 0:
        eligible = False
        reasons.append(f"over the caseload limit by {-open_capacity}")
    else:
        reasons.append(f"has room: {open_capacity} of {ct.caseload_limit} open after this case")

    score = CAPACITY_POINT * min(max(open_capacity, 0), CAPACITY_CAP)
    score += _match(case.subject, ct.subjects, SUBJECT_POINTS, "teaches", reasons)
    score += _match(case.grade, ct.grades, GRADE_POINTS, "works with grade", reasons)
    score += _match(case.language, ct.languages, LANGUAGE_POINTS, "speaks", reasons)
    score += _closeness(case, ct, reasons)

    return Suggestion(
        ct_id=ct.ct_id,
        name=ct.name,
        score=score,
        open_capacity=open_capacity,
        eligible=eligible,
        reasons=tuple(reasons),
    )


def _same_school(a: str | None, b: str | None) -> bool:
    return bool(a and b and a.strip() and _norm(a) == _norm(b))


_NEGATED = {"teaches": "teach", "works with grade": "work with grade", "speaks": "speak"}


def _match(
    wanted: str | None, offered: frozenset[str], points: float, verb: str, reasons: list[str]
) -> float:
    """Points for one optional attribute; a case that names nothing scores no one."""
    if not wanted or not wanted.strip():
        return 0.0
    if _norm(wanted) in _norms(offered):
        reasons.append(f"{verb} {wanted.strip()}")
        return points
    reasons.append(f"does not {_NEGATED[verb]} {wanted.strip()}")
    return 0.0


def _closeness(case: CaseProfile, ct: CtProfile, reasons: list[str]) -> float:
    """Points for the nearest school the CT serves; unknown distance is neutral (0)."""
    if not case.school or not case.school.strip():
        return 0.0
    teacher_school = _norm(case.school)
    if _same_school(case.school, ct.home_school):
        # Already disqualified; "serves the teacher's school" would read as praise.
        return 0.0
    ct_schools = _norms(ct.schools | ({ct.home_school} if ct.home_school else set()))
    distances: dict[str, int] = {teacher_school: 0}
    for school, d in case.neighbouring_schools.items():
        # Two spellings of one school may both be listed: trust the nearer one.
        key, d = _norm(school), max(d, 0)
        distances[key] = min(distances.get(key, d), d)
    known = [distances[s] for s in ct_schools if s in distances]
    if not known:
        reasons.append("distance from the teacher's school unknown")
        return 0.0
    nearest = min(known)
    if nearest == 0:
        reasons.append("serves the teacher's school")
    else:
        unit = "school" if nearest == 1 else "schools"
        reasons.append(f"{nearest} {unit} away from the teacher's school")
    return max(CLOSENESS_POINTS - nearest, 0.0)


def _order_key(s: Suggestion) -> tuple[bool, float, str, str, int, int, tuple[str, ...]]:
    # Every field takes part, so equal keys mean equal suggestions and the
    # result cannot depend on the order the CTs came in.
    return (
        not s.eligible,
        -s.score,
        s.name.casefold(),
        s.name,
        s.ct_id,
        s.open_capacity,
        s.reasons,
    )
