"""Configuration in plain words, for the admin's review screen and the portals.

The sentences are built from the same dataclasses the engine uses, so what a
committee reads is what the software will do.
"""

from __future__ import annotations

from app.workflows import vocabulary as v
from app.workflows.meanings import MEANINGS
from app.workflows.model import ProgramConfig, Track
from app.workflows.panel import PanelRules


def _minimum_clause(panel: PanelRules) -> str:
    if not panel.per_constituency_minimum:
        return ""
    who = "side" if len(panel.constituencies) == 2 else "constituency"
    return f", at least {panel.per_constituency_minimum} from each {who}"


def describe_decision(panel: PanelRules) -> str:
    """E.g. "Decision needs 6 of 9 seats" or "Decision needs a majority of votes cast"."""
    rule, seats = panel.decision_rule, panel.seats
    if rule.kind == "majority":
        text = (
            f"Decision needs {rule.votes_needed(seats, seats)} of {seats} seats (a majority)"
            if rule.of == "seats"
            else "Decision needs a majority of votes cast"
        )
    elif rule.kind == "unanimity":
        text = (
            f"Decision needs all {seats} seats"
            if rule.of == "seats"
            else "Decision needs every vote cast"
        )
    elif rule.at_least is not None:
        text = f"Decision needs {rule.at_least} of {seats} seats"
    elif rule.of == "seats":
        share = f"{(rule.fraction or 0):.0%}"
        text = f"Decision needs {rule.votes_needed(seats, seats)} of {seats} seats ({share})"
    else:
        text = f"Decision needs at least {(rule.fraction or 0):.0%} of votes cast"
    return text + _minimum_clause(panel)


def describe_quorum(panel: PanelRules) -> str:
    """E.g. "At least 7 of 9 members must be present to vote"."""
    return f"At least {panel.quorum} of {panel.seats} members must be present to vote"


def _chair(panel: PanelRules) -> str:
    if panel.chair == "co_chairs":
        return "Co-chairs, one from each constituency, lead the panel"
    if panel.chair == "alternating":
        return "The chair alternates between the constituencies"
    return f"The chair comes from {panel.constituencies[panel.chair].label}"


def describe_panel(panel: PanelRules) -> list[str]:
    """Every panel rule as a sentence, in the order a committee would ask."""
    seats = ", ".join(f"{c.seats} {c.label}" for c in panel.constituencies.values())
    sentences = [
        f"{panel.seats} seats: {seats}.",
        _chair(panel) + ".",
        describe_decision(panel) + ".",
        describe_quorum(panel) + ".",
        f"When no option carries, {v.TIE_RULES[panel.tie_rule]}.",
    ]
    if panel.recusal:
        recused = "; ".join(v.RECUSAL_RULES[r] for r in sorted(panel.recusal))
        sentences.append(f"Recused from a case: {recused}.")
    sentences.append(
        "Votes stay sealed until the session closes."
        if panel.sealed_ballots
        else "Votes are visible as they are cast."
    )
    guests = [
        w
        for w, on in (("teacher", panel.invite_teacher), ("principal", panel.invite_principal))
        if on
    ]
    if guests:
        sentences.append(f"The {' and the '.join(guests)} may attend.")
    return sentences


def _eligibility(track: Track, config: ProgramConfig) -> str:
    rules = track.eligibility
    clauses = []
    if rules.requires_permanent_status:
        clauses.append("with permanent status")
    if rules.min_years_of_service:
        clauses.append(f"with at least {rules.min_years_of_service} years of service")
    if rules.latest_ratings is not None:
        labels = [r.label for r in config.rating_scale if r.key in rules.latest_ratings]
        clauses.append("whose latest rating is " + " or ".join(labels))
    return "Open to teachers " + " and ".join(clauses) + "." if clauses else "Open to all teachers."


def _key_steps(track: Track) -> str:
    """Which action carries each meaning, named or derived: what the services will take."""
    labels = {t.key: t.label for t in reversed(track.transitions)}
    named = [f"{MEANINGS[m].label} is “{labels[key]}”" for m, key in track.steps.items()]
    return "Key steps: " + "; ".join(named) + "."


def describe_track(track: Track, config: ProgramConfig) -> list[str]:
    """A track's rules as sentences: who evaluates, who sees what, who may join."""
    ct = config.program.wording.get("ct_title", "consulting teacher")
    article = "an" if track.kind[0] in "aeiou" else "a"
    sentences = [f"{track.name}: {article} {track.kind} track.", _eligibility(track, config)]
    if not track.ct_evaluates:
        sentences.append(f"The {ct} coaches and does not evaluate.")
    else:
        second = (
            "; the principal is a secondary evaluator"
            if track.principal_secondary_evaluator
            else ""
        )
        sentences.append(f"The {ct} is the primary evaluator{second}.")
    shared = [
        v.SHARED_ITEMS[item] for item in v.SHARED_ITEMS if item in track.shared_with_principal
    ]
    sentences.append(
        "The principal sees: " + "; ".join(shared) + "."
        if shared
        else "The principal sees nothing of the case."
    )
    ends = ", ".join(track.states[k].label for k in track.terminal_states)
    sentences.append(
        f"A case starts at {track.states[track.initial_state].label} and ends at one of: {ends}."
    )
    if track.steps:
        sentences.append(_key_steps(track))
    if track.ballot_options:
        sentences.append("The panel votes on: " + ", ".join(track.ballot_options) + ".")
    places = "place" if track.caseload_weight == 1 else "places"
    sentences.append(f"Each case takes {track.caseload_weight} caseload {places}.")
    return sentences


def describe_report(config: ProgramConfig) -> str:
    """The annual report's counting rule for imported cases, in the words the report shows
    (people read the rule, never ``report.open_imported_case_months``)."""
    months = config.report.open_imported_case_months
    unit = "month" if months == 1 else "months"
    return (
        "A case imported from the district's records without a closing date counts as active "
        f"for {months} {unit} after its support began; after that the annual report leaves it "
        "out, since a closing date missing from the records is likelier than support that long."
    )
