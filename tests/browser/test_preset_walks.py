"""Every shipped preset, walked in a real browser: for each of its tracks, one case from the
teacher's request (or the principal's referral) through the coordinator's intake, the
assignment, the CT's visits and evidence, the recommendation, the panel's vote and the
final authority's approval to its close; the teacher then reads the decision and the
annual report counts the case under its outcome.

The walk reads each step from the configuration (``walks.main_path``): its label is the
button pressed, its guards say what must be done first, its meaning says on which page it
is taken. Nothing here names a preset's wording, so a new preset is walked as it is.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from app.services.panel.ballots import option_label
from app.workflows import Track
from app.workflows.model import Transition
from app.workflows.presets import preset_keys
from tests.browser.walks import (
    Cast,
    Walker,
    backdate_support,
    guard,
    main_path,
    meaning_of,
    more_visits,
    outcome_choices,
    provision,
)

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("preset", preset_keys())
def test_each_track_walks_from_enrollment_to_its_decision(
    app, live_server, shared_browser, make_tenant, make_user, preset
):
    cast = provision(app, make_tenant, make_user, preset)
    walker = Walker(shared_browser, live_server, cast, app)
    closed_in: Counter[str] = Counter()
    try:
        for key, track in cast.config.tracks.items():
            teacher = cast.teachers[key]
            # Review tracks begin with the principal's referral; others with the
            # teacher's own request on the district's public form.
            referrer = cast.principal if track.kind == "review" else None
            case_id = walker.enroll(track, teacher, referred_by=referrer)

            outcome = walk_case(walker, app, case_id, track)

            label = cast.config.outcomes[outcome].label
            home = walker.login(teacher)
            home.goto(walker.url("/"))
            mine = home.get_by_test_id("my-case").inner_text()
            walker.expect_words(mine, track.name, "the teacher's home, their case's track")
            walker.expect_words(
                mine,
                track.states[main_path(track)[-1].to].label,
                "the teacher's home, their case's state",
            )
            page = walker.teachers_case(teacher)
            if track.steps.get("final_approval"):
                decision = page.get_by_test_id("decision")
                assert decision.get_by_test_id("final-rating").inner_text() == label
                acknowledge_decision(walker, case_id, track)
                if track.appeal is not None:
                    appeal_the_decision(walker, case_id, track)
            else:
                assert f"Outcome\n{label}" in page.locator("dl.facts").inner_text()

            group = cast.config.outcome_group(outcome).label
            closed_in[group] += 1
            figures, by_track = walker.report_figures()
            if figures.get(group) != str(closed_in[group]):
                # The report opens on the latest year a case was in; one that does not count
                # the case just closed is a defect (read this year's, to go on walking).
                first, last = cast.config.school_year(date.today())
                year = f"{first.year}-{last.year}"
                walker.defects.append(
                    f"{cast.slug}, annual report: opens on a year where case {case_id} (closed "
                    f"today) is not under '{group}' ({figures}); {year} is not offered"
                )
                figures, by_track = walker.report_figures(year)
            walker.expect_words(by_track, track.name, "annual report, the table by track")
            assert figures["Teachers supported"] == str(sum(closed_in.values())), figures
            assert figures[group] == str(closed_in[group]), figures
        assert not walker.defects, "the walk went through, but:\n" + "\n".join(walker.defects)
    finally:
        walker.close()


def walk_case(walker: Walker, app, case_id: int, track: Track) -> str:
    """Take the case through every step of the track's main path, each by the person and on
    the page the configuration gives it; returns the outcome key it closed with."""
    cast = walker.cast
    outcome = None
    for step in main_path(track):
        prepare(walker, app, case_id, track, step)
        meaning = meaning_of(track, step)
        # Who took the step, on the case page the step left them (None: a page elsewhere).
        by = None
        if meaning == "recommendation":
            walker.recommend(
                case_id, step.label, option_label(cast.config, recommended(cast, track))
            )
            by = cast.ct
        elif meaning == "panel_decision":
            hold_the_panel(walker, case_id, track)
        elif meaning == "final_approval":
            outcome = outcome_choices(step)[0]
            walker.approve(
                case_id,
                cast.config.outcomes[outcome].label,
                option_label(cast.config, recommended(cast, track)),
            )
        else:
            choices = outcome_choices(step)
            outcome = choices[0] if choices else outcome
            by = actor(cast, step)
            said = walker.take_step(
                by,
                case_id,
                step.label,
                outcome=cast.config.outcomes[outcome].label if len(choices) > 1 else None,
            )
            walker.expect_words(said, track.states[step.to].label, f"'{step.label}', message")
        shown = walker.state_shown(by) if by else walker.state_of(cast.coordinator, case_id)
        assert shown == track.states[step.to].label, f"after '{step.label}': {shown}"
    if track.status_reports is not None and case_id not in walker.reported:
        walker.defects.append(f"{cast.slug}, case {case_id}: no status report was ever asked for")
    assert outcome is not None, f"{track.name}: the walk closed the case with no outcome"
    return outcome


def prepare(walker: Walker, app, case_id: int, track: Track, step: Transition) -> None:
    """Do what the step's guards ask for, the way the people concerned do it on the pages;
    a guard the walk does not know fails the test, so a new guard is walked on purpose."""
    cast, config = walker.cast, walker.cast.config
    known = {
        "eligible",  # the enrollment's answers meet the track's rules
        "ct_assigned",
        "committee_consensus",
        "min_visits",
        "min_months_of_support",
        "evidence_tagged_to_all_standards",
        "principal_consulted",
        "has_recommendation",  # written by the recommendation step itself
        "panel_decided",  # the panel's vote carries the step
    }
    unknown = [g.name for g in step.guards if g.name not in known]
    assert not unknown, f"{track.name} '{step.label}': the walk cannot satisfy {unknown}"
    if guard(step, "ct_assigned") is not None:
        walker.propose_ct(case_id)
        if guard(step, "committee_consensus") is not None:
            for member in cast.committee:
                walker.answer_proposal(member, case_id)
    if (months := guard(step, "min_months_of_support")) is not None:
        # Months of support cannot pass in a test: the case gets the dates it would have.
        backdate_support(app, cast, case_id, months["months"])
        walker.changed()
    if (visits := guard(step, "min_visits")) is not None:
        kind = (visits.get("types") or list(config.visit_types))[0]
        # Where the principal must be consulted and is no evaluator on the track, the CT
        # records that the principal took part in a visit.
        walker.log_visits(
            case_id,
            1,
            config.visit_types[kind].label,
            principal_at_first=guard(step, "principal_consulted") is not None
            and not track.principal_secondary_evaluator,
        )
        # The visit form is walked once; the rest are that form's service, as the CT's
        # further visits would be (each page load costs the suite more than it tells).
        more_visits(app, cast, case_id, visits["count"] - 1, config.visit_types[kind].label)
        walker.changed()
        write_status_report(walker, case_id, track)
    if (tagged := guard(step, "evidence_tagged_to_all_standards")) is not None:
        labels = [s.label for s in config.standards if s.key in tagged["standards"]]
        walker.add_evidence(cast.ct, case_id, "Lesson plans and student work samples.", labels)
    if guard(step, "principal_consulted") is not None and track.principal_secondary_evaluator:
        walker.add_evidence(
            cast.principal, case_id, "The principal's walkthrough notes from March.", []
        )


def actor(cast: Cast, step: Transition):
    """Who takes a plain step: the CT where the step is theirs, else the coordinator."""
    if "assigned_ct" in step.actors:
        return cast.ct
    assert "coordinator" in step.actors, f"'{step.label}': the walk has nobody for {step.actors}"
    return cast.coordinator


def recommended(cast: Cast, track: Track) -> str:
    """The CT recommends the first option that meets standard (or the first option)."""
    options = cast.config.recommendation_options(track.key)
    return next((o for o in options if cast.config.meets_standard(o)), options[0])


def hold_the_panel(walker: Walker, case_id: int, track: Track) -> None:
    """Today's session: the case on the agenda, every seated member present (a quorum),
    each casting a sealed ballot for the recommendation, and the chair closing the vote."""
    cast = walker.cast
    rec = recommended(cast, track)
    option = rec if rec in track.ballot_options else track.ballot_options[0]
    label = option_label(cast.config, option)
    walker.put_on_agenda(case_id)
    write_status_report(walker, case_id, track)
    for member in cast.panel:
        walker.vote(member, case_id, label)
    decided = walker.close_vote(case_id)
    assert f"Decided: {label}" in decided, decided


# Due process: the teacher's rights after the decision ---------------------------------------


def write_status_report(walker: Walker, case_id: int, track: Track) -> None:
    """Where the track has ``status_reports``: the CT writes the report asked for next
    (each standard at the first level that meets standard) and the teacher acknowledges
    it. Called during support and again once the case is on a session's agenda (a report
    "before each session" is asked for only then); the first time one is asked for, it is
    written."""
    if track.status_reports is None or case_id in walker.reported:
        return
    config = walker.cast.config
    meets = next(r.label for r in config.rating_scale if r.meets_standard)
    if walker.write_status_report(case_id, {s.label: meets for s in config.standards}):
        walker.reported.add(case_id)
        walker.acknowledge_report(walker.cast.teachers[track.key], case_id)


def acknowledge_decision(walker: Walker, case_id: int, track: Track) -> None:
    """The teacher acknowledges the decision with a typed-name signature."""
    teacher = walker.cast.teachers[track.key]
    signed = walker.acknowledge_decision(teacher, case_id)
    assert teacher.name in signed, signed


def appeal_the_decision(walker: Walker, case_id: int, track: Track) -> None:
    """Where the track allows an appeal: the teacher files it inside the window and the
    appeal's body decides it (denied here, so the outcome the report counts stands)."""
    teacher = walker.cast.teachers[track.key]
    walker.file_appeal(teacher, case_id)
    assert track.appeal.body == "final_authority", f"{track.name}: walk {track.appeal.body}"
    result = walker.decide_appeal(
        walker.cast.final_authority, case_id, "Deny the appeal: the decision stands"
    )
    assert "Denied" in result or "deny" in result.lower(), result
