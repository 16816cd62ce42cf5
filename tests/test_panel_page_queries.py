"""The panel session page reads a fixed number of statements, whatever its agenda's length.

Every agenda item needs the reader's standing on it (seat, recusal, chair), their own
ballot, the count of ballots in and the case's configuration; those are read for all
items at once, so a session of 8 items costs what a session of 2 costs.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from app.core import uow
from app.extensions import db
from app.models.panel import PanelSession
from app.models.user import User
from app.services import cases, panel
from app.services import workflow_config as configs
from app.services.actors import Actor
from app.tenants.context import tenant_scope
from tests.casework import Api, Browser
from tests.panelwork import PanelSetup

#: Who votes "affirm" before a chair closes an item: 6 of Toledo's 9 decide.
VOTERS = ("teacher1", "teacher2", "teacher3", "teacher4", "teacher5", "admin1")
#: What each added item carries, so every kind of row the page reads is on the agenda:
#: closed (a decision, tally, recorded recusals), voted (the readers' own ballots),
#: conflict (declared by both readers, so hidden from them), party (teacher1 referred the
#: teacher: hidden from teacher1, shown to teacher2 as sitting out), open (nothing yet).
FIRST = ("closed", "voted")
MORE = ("conflict", "party", "open", "closed", "voted", "open")
#: Of the 8 items, per reader: (items shown, "Close the vote" buttons, own ballots shown).
#: The coordinator sees and may close every open item; teacher1 chairs and sits out the
#: conflict and the case they referred; teacher2 sits out the conflict only.
SEEN = {"coordinator": (8, 6, 0), "teacher1": (6, 4, 2), "teacher2": (7, 0, 2)}


def _session(app, setup: PanelSetup) -> int:
    """A session scheduled today with every member of the panel present."""
    with app.app_context(), tenant_scope(setup.district.tenant.id):
        session = panel.sessions.schedule(date.today(), "Board room", Actor.system())
        for member_id in setup.member_ids.values():
            member = panel.seats.member_by_id(member_id)
            panel.sessions.set_attendance(session, member, True, Actor.system())
        uow.commit()
        return session.id


def _add_items(app, setup: PanelSetup, sid: int, make_user, kinds: tuple[str, ...]) -> None:
    """Put one new case per kind on session ``sid``, through the services."""
    teachers = [make_user(setup.district.tenant, "teacher") for _ in kinds]
    with app.app_context(), tenant_scope(setup.district.tenant.id):
        session = db.session.get(PanelSession, sid)
        people = {key: db.session.get(User, u.id) for key, u in setup.members.items()}
        principal = db.session.get(User, setup.district.people["principal"].id)
        for teacher, kind in zip(teachers, kinds, strict=True):
            case = cases.open_case(
                teacher=db.session.get(User, teacher.id),
                track_key="intervention",
                school="Lincoln Elementary",
                latest_rating="unsatisfactory",
                principal=principal,
            )
            case.ct_id = setup.district.people["ct"].id
            case.panel_review_open = True
            if kind == "party":
                case.referred_by_id = people["teacher1"].id
            db.session.flush()
            item = panel.sessions.add_to_agenda(session, case, Actor.system())
            if kind == "voted":
                for key in ("teacher1", "teacher2"):
                    panel.ballots.cast(item, people[key], "affirm")
            elif kind == "conflict":
                for key in ("teacher1", "teacher2"):
                    panel.sessions.declare_conflict(
                        item, people[key], "Taught together", Actor.of(people[key])
                    )
            elif kind == "closed":
                for key in VOTERS:
                    panel.ballots.cast(item, people[key], "affirm")
                panel.ballots.close(item, people["teacher1"])
        uow.commit()


@pytest.fixture(params=[True, False], ids=["sealed", "public-ballots"])
def sealed(request, monkeypatch) -> bool:
    """Run under Toledo's sealed ballots, and under a configuration that publishes them
    once a vote closes (the page then lists each closed item's ballots)."""
    if not request.param:
        real = configs.config_of

        def published(row):
            config = real(row)
            return replace(config, panel=replace(config.panel, sealed_ballots=False))

        monkeypatch.setattr(configs, "config_of", published)
    return request.param


@pytest.mark.parametrize("who", ["coordinator", "teacher1", "teacher2"])
def test_the_session_page_reads_as_much_for_8_items_as_for_2(
    app, toledo_panel, make_user, count_queries, sealed, who
):
    """Per item the page needs the reader's standing, own ballot, the chairs and the
    ballots in; none of them is read item by item. The minutes, built from the same
    lines, read a fixed number too."""
    setup = toledo_panel
    sid = _session(app, setup)
    person = setup.district.people.get(who) or setup.members[who]
    reader = Browser(app, setup.district, person)
    counts: dict[str, list[int]] = {"session": [], "minutes": []}
    for more in (FIRST, MORE):
        _add_items(app, setup, sid, make_user, more)
        for name, path in (("minutes", "/minutes"), ("session", "")):
            with count_queries() as counted:
                page = reader.get(f"/panel/sessions/{sid}{path}")
            assert page.status_code == 200
            counts[name].append(len(counted))
    for name, (two, eight) in counts.items():
        assert two == eight, f"{name}: {two} statements for 2 items, {eight} for 8"
    # The same page, not an emptier one: each reader still sees what the rules let them.
    shown, closes, mine = SEEN[who]
    assert page.text.count('data-testid="agenda-item-') == shown
    assert page.text.count("Close the vote") == closes
    assert page.text.count('data-testid="my-ballot"') == mine
    assert page.text.count("Ballots: ") == (0 if sealed else 2)


@pytest.mark.parametrize("who", ["coordinator", "teacher2"])
def test_the_api_session_reads_as_much_for_8_items_as_for_2(
    app, toledo_panel, make_user, count_queries, who
):
    """The API's session body reads each item's recusals with the others, as the page does."""
    setup = toledo_panel
    sid = _session(app, setup)
    person = setup.district.people.get(who) or setup.members[who]
    reader = Api(app, setup.district, person)
    counts = []
    for more in (FIRST, MORE):
        _add_items(app, setup, sid, make_user, more)
        with count_queries() as counted:
            body = reader.get(f"/panel-sessions/{sid}")
        assert body.status_code == 200
        counts.append(len(counted))
    assert counts[0] == counts[1], f"{counts[0]} statements for 2 items, {counts[1]} for 8"
    assert len(body.get_json()["items"]) == SEEN[who][0]


def test_only_a_coordinator_s_session_page_reads_the_cases_ready_for_a_panel(
    app, toledo_panel, make_user, monkeypatch
):
    """The agenda and attendance forms are a coordinator's: a member's page does not read
    the cases ready for a panel to offer them."""
    setup = toledo_panel
    sid = _session(app, setup)
    _add_items(app, setup, sid, make_user, ("open",))
    asked: list[int] = []
    ready = panel.sessions.ready_cases

    def counted():
        asked.append(1)
        return ready()

    monkeypatch.setattr(panel.sessions, "ready_cases", counted)
    member = Browser(app, setup.district, setup.members["teacher2"])
    assert member.get(f"/panel/sessions/{sid}").status_code == 200
    assert not asked
    coordinator = Browser(app, setup.district, setup.district.people["coordinator"])
    page = coordinator.get(f"/panel/sessions/{sid}")
    assert page.status_code == 200 and asked
    assert 'name="member_id"' in page.text
