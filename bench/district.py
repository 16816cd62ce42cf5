"""One district's rows, drawn in a fixed order from the district's own random generator.

Kept as one class, longer than most modules here, because its methods share that
generator: the order of the draws is what makes a seed give the same rows, and splitting
the class would hide that order across files.
"""

from __future__ import annotations

import json
import math
import random
import uuid
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from app.services.surveys import frozen_questionnaire
from bench import words
from bench.rows import Writer

if TYPE_CHECKING:
    from bench.generate import DistrictSpec

_MINUTES = (30, 45, 60, 90)
_VISIT_COLUMNS = (
    "tenant_id",
    "case_id",
    "author_id",
    "visit_type",
    "visited_on",
    "duration_minutes",
    "focus_standards",
    "notes",
    "next_steps",
    "principal_present",
    "planned",
    "shared_with_teacher",
    "created_at",
)
_CURRENT_STATES = (
    ("request", 8, False),
    ("intake", 7, False),
    ("assignment", 5, False),
    ("introduction", 5, True),
    ("support", 55, True),
    ("recommendation", 8, True),
    ("panel_review", 7, True),
    ("final_approval", 5, True),
)


@lru_cache(maxsize=16384)
def _at(day: date, hour: int = 15) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


def school_year_bounds(config, today: date, years_back: int) -> tuple[date, date]:
    """Start and end of the school year ``years_back`` before the current one."""
    month, day = config.school_year_start
    first = today.year if today >= date(today.year, month, day) else today.year - 1
    start = date(first - years_back, month, day)
    return start, date(start.year + 1, month, day) - timedelta(days=1)


class District:
    """Generates one district's rows into the writer, in foreign-key order."""

    def __init__(self, writer: Writer, spec: DistrictSpec, tenant_id: int, ctx, seed: int):
        self.w, self.spec, self.t, self.ctx = writer, spec, tenant_id, ctx
        self.config = ctx.config
        self.rng = random.Random(f"{seed}:{spec.slug}")
        self.today = date.today()
        self.domain = f"{spec.slug}.example.org"
        self.teachers = 0
        self._make_visit = writer.maker("visits", _VISIT_COLUMNS)
        self._visit_types = list(self.config.visit_types)
        self._focus = [json.dumps([s.key]) for s in self.config.standards] or ["[]"]

    # people ---------------------------------------------------------------------------
    def _name(self) -> str:
        return f"{self.rng.choice(words.FIRST)} {self.rng.choice(words.LAST)}"

    def user(self, email: str, roles: tuple[str, ...], school: str | None = None) -> int:
        user_id = self.w.add(
            "users",
            tenant_id=self.t,
            email=email,
            name=self._name(),
            school=school,
            password_hash=self.ctx.password_hash,
            active=True,
            session_version=1,
            created_at=_at(self.today, 8),
        )
        for role in roles:
            self.w.add(
                "role_grants",
                tenant_id=self.t,
                user_id=user_id,
                role=role,
                granted_at=_at(self.today, 8),
            )
        return user_id

    def fill(self) -> None:
        rng, spec = self.rng, self.spec
        n_schools = 3 if spec.shape == "rows" else max(3, min(40, spec.cases // 40))
        self.schools = [
            f"{rng.choice(words.SCHOOL_WORDS)} {kind}"
            for kind in (rng.choice(words.SCHOOL_KINDS) for _ in range(n_schools))
        ]
        self.schools = list(dict.fromkeys(self.schools))
        self.user(f"admin@{self.domain}", ("program_admin",))
        self.coordinator = self.user(f"coordinator@{self.domain}", ("coordinator",))
        self.user(f"committee@{self.domain}", ("committee_member",))
        self.authority = self.user(f"authority@{self.domain}", ("final_authority",))
        self.principals = {
            school: self.user(f"principal{i}@{self.domain}", ("principal",), school)
            for i, school in enumerate(self.schools, 1)
        }
        per_year = math.ceil(spec.cases / spec.years)
        n_ct = 1 if spec.shape == "rows" else max(1, round(per_year / 16))
        self.cts = [self._ct(i) for i in range(1, n_ct + 1)]
        self.members = self._panel_members()
        self.w.add(
            "network_memberships",
            tenant_id=self.t,
            member_key=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            named=False,
            anonymous_label=f"District {rng.getrandbits(16):04X}",
            noisy=False,
            epsilon_per_year=1.0,
            joined_at=_at(self.today, 8),
        )
        if spec.shape == "rows":
            self._rows_shape()
            return
        remaining = spec.cases
        for back in range(spec.years - 1, -1, -1):
            count = min(per_year, remaining)
            remaining -= count
            self._year(back, count)

    def _ct(self, n: int) -> int:
        rng = self.rng
        school = rng.choice(self.schools)
        user_id = self.user(f"ct{n}@{self.domain}", ("consulting_teacher",), school)
        self.w.add(
            "consulting_teachers",
            tenant_id=self.t,
            user_id=user_id,
            term_start=self.today - timedelta(days=rng.randint(200, 1500)),
            term_end=None,
            caseload_limit=20,
            home_school=school,
            schools=rng.sample(self.schools, min(3, len(self.schools))),
            subjects=rng.sample(words.SUBJECTS, 2),
            grades=rng.sample(words.GRADES, 4),
            languages=["English", *rng.sample(words.LANGUAGES[1:], 1)],
            created_at=_at(self.today, 8),
        )
        return user_id

    def _panel_members(self) -> list[int]:
        members = []
        panel = self.config.panel
        for constituency in panel.constituencies.values() if panel else ():
            for seat in range(constituency.seats):
                user_id = self.user(
                    f"panel.{constituency.key}{seat + 1}@{self.domain}", ("panel_member",)
                )
                members.append(
                    self.w.add(
                        "panel_members",
                        tenant_id=self.t,
                        user_id=user_id,
                        constituency=constituency.key,
                        is_chair=seat == 0,
                        term_start=None,
                        term_end=None,
                    )
                )
        return members

    # cases ----------------------------------------------------------------------------
    def _year(self, back: int, count: int) -> None:
        start, end = school_year_bounds(self.config, self.today, back)
        sessions = self._sessions(start, min(end, self.today + timedelta(days=30)))
        survey_year = f"{start.year}-{start.year + 1}"
        started = 0
        cts = self.cts[:]
        self.rng.shuffle(cts)
        for n in range(count):
            ct = cts[n % len(cts)]
            if self._case(start, end, back == 0, ct, sessions):
                started += 1
        self._survey(survey_year, start, end, started)

    def _sessions(self, start: date, last: date) -> list[tuple[int, date, bool]]:
        out = []
        day = start + timedelta(days=60)
        while day <= last:
            closed = day < self.today
            session_id = self.w.add(
                "panel_sessions",
                tenant_id=self.t,
                meets_on=day,
                location="Central office, room 204",
                status="closed" if closed else "scheduled",
                created_at=_at(day - timedelta(days=30)),
            )
            for member in self.members:
                self.w.add(
                    "panel_attendance",
                    tenant_id=self.t,
                    session_id=session_id,
                    member_id=member,
                    present=self.rng.random() < 0.9,
                )
            out.append((session_id, day, closed))
            day += timedelta(days=45)
        return out

    def _track(self):
        tracks = list(self.config.tracks.values())
        weights = [1 if t.ballot_options else 2 for t in tracks]
        return self.rng.choices(tracks, weights=weights)[0]

    def _case(self, start: date, end: date, current: bool, ct: int, sessions) -> bool:
        """One case with its support record; True when support started."""
        rng, today = self.rng, self.today
        track = self._track()
        school = rng.choice(self.schools)
        self.teachers += 1
        teacher = self.user(f"teacher{self.teachers}@{self.domain}", ("teacher",), school)
        enrolled = min(start - timedelta(days=20) + timedelta(days=rng.randint(0, 60)), today)
        case = {
            "track_key": track.key,
            "teacher_id": teacher,
            "school": school,
            "enrolled_on": enrolled,
            "state": "support",
            "started_on": None,
            "ended_on": None,
            "outcome": None,
            "report_group": None,
            "closed_at": None,
        }
        evaluative = bool(track.ballot_options)
        if current:
            states = [s for s in _CURRENT_STATES if s[0] in track.states]
            state, _, has_ct = rng.choices(states, weights=[s[1] for s in states])[0]
            case["state"] = state
            if has_ct:
                case["started_on"] = min(enrolled + timedelta(days=rng.randint(5, 30)), today)
        elif rng.random() < 0.04 and "declined" in track.states:
            case["state"], case["closed_at"] = "declined", _at(enrolled + timedelta(days=12))
        else:
            began = enrolled + timedelta(days=rng.randint(5, 40))
            ended = began + timedelta(days=rng.randint(120, 330))
            case["started_on"] = began
            if ended < today:
                outcome = rng.choice(list(self.config.outcomes.values()))
                case.update(
                    state=next(iter(track.terminal_states))
                    if "closed" not in track.states
                    else "closed",
                    ended_on=ended,
                    outcome=outcome.key,
                    report_group=outcome.group,
                    closed_at=_at(ended),
                )
        ratings = [r.key for r in self.config.rating_scale]
        late = case["state"] in ("recommendation", "panel_review", "final_approval", "closed")
        recommended = rng.choice(ratings) if evaluative and late and case["started_on"] else None
        case_id = self.w.add(
            "cases",
            tenant_id=self.t,
            workflow_version_id=self.ctx.version_id,
            state_entered_at=_at(case["started_on"] or enrolled),
            ct_id=ct if case["started_on"] else None,
            principal_id=self.principals[school],
            subject=rng.choice(words.SUBJECTS),
            grade=rng.choice(words.GRADES),
            preferred_language=rng.choice(words.LANGUAGES),
            request_letter="I would like support with planning and classroom routines.",
            source=rng.choice(("self", "self", "principal", "union")),
            years_of_service=rng.randint(0, 25),
            permanent_status=rng.random() < 0.6,
            latest_rating=rng.choice(ratings),
            recommended_rating=recommended,
            panel_rating=recommended if case["state"] in ("final_approval", "closed") else None,
            final_rating=recommended if case["state"] == "closed" else None,
            panel_review_open=case["state"] == "panel_review",
            principal_can_see=track.kind == "review" and track.principal_secondary_evaluator,
            created_at=_at(enrolled),
            **case,
        )
        if case["started_on"] is None:
            return False
        self._support(case_id, case, ct, current, recommended)
        if recommended and track.ballot_options:
            self._panel(case_id, case, track, recommended, sessions)
        return True

    def _support(self, case_id: int, case: dict, ct: int, current: bool, recommended) -> None:
        rng, today = self.rng, self.today
        began, ended = case["started_on"], case["ended_on"]
        open_case = case["closed_at"] is None
        self.w.add(
            "assignments",
            tenant_id=self.t,
            case_id=case_id,
            ct_id=ct,
            proposed_by_id=self.coordinator,
            status="active" if open_case else "ended",
            reason=None,
            proposed_at=_at(began - timedelta(days=2)),
            started_at=_at(began),
            ended_at=case["closed_at"],
        )
        last = min(ended or today, today)
        span = max((last - began).days, 1)
        for _ in range(rng.randint(10, 40)):
            self._visit(case_id, ct, began + timedelta(days=rng.randint(0, span)), False)
        if open_case and current:
            for _ in range(2):
                self._visit(case_id, ct, today + timedelta(days=rng.randint(0, 13)), True)
            if rng.random() < 0.2:
                self._visit(case_id, ct, today - timedelta(days=rng.randint(1, 5)), True)
            for key, deadline in self.config.deadlines.items():
                _, end = school_year_bounds(self.config, today, 0)
                self.w.add(
                    "case_deadlines",
                    tenant_id=self.t,
                    case_id=case_id,
                    key=key,
                    due_on=max(end + timedelta(days=deadline.days), today + timedelta(days=3)),
                    reminded_at=None,
                )
        for _ in range(rng.randint(1, 3)):
            self.w.add(
                "goals",
                tenant_id=self.t,
                case_id=case_id,
                text=rng.choice(words.GOALS),
                progress=rng.choice((0, 25, 50, 75, 100)),
                created_at=_at(began),
                updated_at=_at(last),
            )
        evidence = [self._evidence(case_id, ct, began, last) for _ in range(rng.randint(1, 4))]
        if recommended:
            self.w.add(
                "recommendations",
                tenant_id=self.t,
                case_id=case_id,
                author_id=ct,
                rating=recommended,
                rationale="The record of visits and evidence supports this rating.",
                evidence_ids=evidence[:2],
                submitted_at=_at(last),
            )

    def _visit(self, case_id: int, ct: int, day: date, planned: bool) -> None:
        # The largest table by far: positional rows, JSON prepared once per district.
        rng = self.rng
        logged = not planned
        self._make_visit(
            self.t,
            case_id,
            ct,
            rng.choice(self._visit_types),
            day,
            rng.choice(_MINUTES) if logged else None,
            rng.choice(self._focus),
            rng.choice(words.NOTES) if logged else None,
            rng.choice(words.NEXT) if logged else None,
            rng.random() < 0.1,
            planned,
            rng.random() < 0.8,
            _at(day),
        )

    def _evidence(self, case_id: int, ct: int, began: date, last: date) -> int:
        rng = self.rng
        standards = [s.key for s in self.config.standards]
        return self.w.add(
            "evidence",
            tenant_id=self.t,
            case_id=case_id,
            author_id=ct,
            author_role="consulting_teacher",
            text=rng.choice(words.EVIDENCE),
            standards=rng.sample(standards, min(2, len(standards))),
            created_at=_at(began + timedelta(days=rng.randint(0, max((last - began).days, 0)))),
        )

    def _panel(self, case_id: int, case: dict, track, recommended: str, sessions) -> None:
        """An agenda item for a case that reached the panel, with its ballots when closed."""
        rng = self.rng
        deciding = [s for s in sessions if s[2]]
        upcoming = [s for s in sessions if not s[2]]
        state = case["state"]
        if state == "panel_review" and upcoming:
            session_id, meets_on, closed = upcoming[0]
        elif state in ("final_approval", "closed") and deciding:
            session_id, meets_on, closed = rng.choice(deciding)
        else:
            return
        option = recommended if recommended in track.ballot_options else track.ballot_options[0]
        votes = {}
        item_id = self.w.add(
            "agenda_items",
            tenant_id=self.t,
            session_id=session_id,
            case_id=case_id,
            status="closed" if closed else "open",
            outcome="decided" if closed else None,
            option=option if closed else None,
            tally=votes,
            votes_needed=len(self.members) // 2 + 1,
            rule_text="A majority of the members present decides.",
            decided_by="vote" if closed else None,
            closed_at=_at(meets_on, 18) if closed else None,
        )
        if not closed:
            return
        for member in self.members:
            choice = option if rng.random() < 0.85 else rng.choice(track.ballot_options)
            votes[choice] = votes.get(choice, 0) + 1
            self.w.add(
                "ballots",
                tenant_id=self.t,
                item_id=item_id,
                member_id=member,
                option=choice,
                cast_at=_at(meets_on, 17),
            )
        if state == "closed":
            self.w.add(
                "final_decisions",
                tenant_id=self.t,
                case_id=case_id,
                item_id=item_id,
                authority_id=self.authority,
                approved=True,
                note=None,
                decided_at=_at(meets_on + timedelta(days=7)),
            )

    def _survey(self, year: str, start: date, end: date, sent: int) -> None:
        if not self.config.surveys or not sent or start > self.today:
            return
        rng = self.rng
        survey = self.config.surveys[0]
        round_id = self.w.add(
            "survey_rounds",
            tenant_id=self.t,
            year=year,
            sent=sent,
            closes_on=end,
            created_at=_at(start),
            **frozen_questionnaire(survey),
        )
        weights = [4, 3, 2, 1][: len(survey.scale)]
        last = min(end, self.today)
        for _ in range(int(sent * 0.55)):
            self.w.add(
                "survey_responses",
                id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                tenant_id=self.t,
                round_id=round_id,
                submitted_on=start + timedelta(days=rng.randint(0, (last - start).days)),
                answers={
                    s.key: rng.choices(survey.scale, weights=weights)[0] for s in survey.statements
                },
                comment=rng.choice((None, None, "My consulting teacher was a great help.")),
                external_id=None,
            )

    # the "rows" shape -----------------------------------------------------------------
    def _rows_shape(self) -> None:
        """``cases`` open cases on ct1; teacher1's case has ``cases`` visits (half of them
        planned), ``cases`` pieces of evidence and ``cases`` goals."""
        rng, today, n = self.rng, self.today, self.spec.cases
        ct = self.cts[0]
        track = next(t for t in self.config.tracks.values() if t.ballot_options)
        for i in range(1, n + 1):
            school = self.schools[i % len(self.schools)]
            teacher = self.user(f"teacher{i}@{self.domain}", ("teacher",), school)
            began = today - timedelta(days=rng.randint(20, 90))
            case_id = self.w.add(
                "cases",
                tenant_id=self.t,
                workflow_version_id=self.ctx.version_id,
                track_key=track.key,
                state="support",
                state_entered_at=_at(began),
                teacher_id=teacher,
                ct_id=ct,
                principal_id=self.principals[school],
                school=school,
                subject=rng.choice(words.SUBJECTS),
                grade=rng.choice(words.GRADES),
                source="self",
                enrolled_on=began - timedelta(days=10),
                started_on=began,
                latest_rating=self.config.rating_scale[-1].key,
                panel_review_open=False,
                principal_can_see=track.principal_secondary_evaluator,
                created_at=_at(began),
            )
            self.w.add(
                "case_deadlines",
                tenant_id=self.t,
                case_id=case_id,
                key=next(iter(self.config.deadlines), "due"),
                due_on=today + timedelta(days=rng.randint(3, 90)),
            )
            visits = n if i == 1 else 1
            for v in range(visits):
                planned = i == 1 and v % 2 == 1
                day = today + timedelta(days=v % 14) if planned else began + timedelta(days=v % 60)
                self._visit(case_id, ct, day, planned)
            if i == 1:
                for _ in range(n):
                    self._evidence(case_id, ct, began, today)
                    self.w.add(
                        "goals",
                        tenant_id=self.t,
                        case_id=case_id,
                        text=rng.choice(words.GOALS),
                        progress=50,
                        created_at=_at(began),
                        updated_at=_at(today),
                    )
