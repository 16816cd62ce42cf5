"""Random sequences of panel operations against a model of who may vote.

A hypothesis state machine seats and unseats people, grants and revokes the panel
role (the case's own teacher, CT and principal among them), takes the roll call,
declares conflicts, votes, changes votes and closes, all through the real services
on PostgreSQL. After every step the service's eligible voters must equal the
model's; every vote must be accepted exactly when the model says the member may
vote; and at the close the recorded tally and decision must equal the configured
rule applied to the ballots of members eligible at that moment.

CI runs a quick profile; ``make fuzz`` sets ``PARLEY_STATEFUL_EXAMPLES`` for a long run.
"""

from __future__ import annotations

import os
from collections import Counter
from datetime import date, timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete, select

from app.core import uow
from app.extensions import db
from app.models.case import Case
from app.models.panel import AgendaItem, PanelMember, PanelSession
from app.models.user import User
from app.services import case_access, panel, users
from app.services import workflow_config as configs
from app.services.actors import Actor
from app.services.errors import ServiceError
from app.services.panel import eligibility
from app.tenants.context import tenant_scope
from app.workflows import decision as rules_engine
from tests.fuzzing import EXPLORE

EXAMPLES = int(os.environ.get("PARLEY_STATEFUL_EXAMPLES", "8"))
STEPS = int(os.environ.get("PARLEY_STATEFUL_STEPS", "20"))
SYSTEM = Actor.system()
OPTIONS = ("affirm", "reject", "abstain")


def _machine(app, setup, people: dict[str, int], parties: set[str], same_school: set[str]):
    initial_seats = {
        key: ("teachers" if key.startswith("teacher") else "administrators")
        for key in setup.members
    }
    names = sorted(people)

    class PanelMachine(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            self.closed = False
            self.roles = {k: k in initial_seats for k in names}
            self.seats = dict(initial_seats)  # person -> constituency, while the term runs
            self.present: set[str] = set(initial_seats)
            self.conflicts: set[str] = set()
            self.ballots: dict[str, str] = {}
            self._reset_world()
            self.quorum = configs.config_of(self.item.case.workflow_version).panel.quorum

        # The world ----------------------------------------------------------------------

        def _user(self, key: str) -> User:
            return db.session.get(User, people[key])

        def _member(self, key: str) -> PanelMember | None:
            return db.session.execute(
                select(PanelMember).where(PanelMember.user_id == people[key])
            ).scalar_one_or_none()

        def _reset_world(self) -> None:
            db.session.execute(delete(PanelSession))
            db.session.execute(delete(PanelMember).where(PanelMember.user_id.in_(people.values())))
            for key in names:
                user = self._user(key)
                # Everyone also teaches, so the panel role can be taken away on its own.
                roles = (set(user.roles) - {"panel_member"}) | {"teacher"}
                users.set_roles(
                    user, sorted(roles | ({"panel_member"} if self.roles[key] else set()))
                )
            for key, side in self.seats.items():
                panel.seats.save_member(
                    self._user(key), side, key == "teacher1", None, None, SYSTEM
                )
            case = db.session.get(Case, setup.case_id)
            case.state, case.panel_review_open, case.closed_at = "panel_review", True, None
            uow.commit()
            session = panel.sessions.schedule(date.today(), None, SYSTEM)
            self.item_id = panel.sessions.add_to_agenda(session, case, SYSTEM).id
            for key in self.present:
                panel.sessions.set_attendance(session, self._member(key), True, SYSTEM)
            uow.commit()

        @property
        def item(self) -> AgendaItem:
            return db.session.get(AgendaItem, self.item_id)

        def _attempt(self, act) -> bool:
            try:
                act()
                uow.commit()
                return True
            except ServiceError:
                uow.rollback()
                return False

        # The model ----------------------------------------------------------------------

        def eligible(self) -> set[str]:
            return {
                k
                for k in self.seats
                if self.roles[k]
                and k in self.present
                and k not in parties
                and k not in same_school
                and k not in self.conflicts
            }

        # Steps --------------------------------------------------------------------------

        @precondition(lambda self: not self.closed)
        @rule(key=st.sampled_from(names))
        def grant_role(self, key):
            user = self._user(key)
            assert self._attempt(
                lambda: users.set_roles(user, sorted({*user.roles, "panel_member"}))
            )
            self.roles[key] = True

        @precondition(lambda self: not self.closed)
        @rule(key=st.sampled_from(names))
        def revoke_role(self, key):
            user = self._user(key)
            assert self._attempt(
                lambda: users.set_roles(user, sorted(user.roles - {"panel_member"}))
            )
            self.roles[key] = False

        @precondition(lambda self: not self.closed)
        @rule(key=st.sampled_from(names), side=st.sampled_from(["teachers", "administrators"]))
        def seat(self, key, side):
            done = self._attempt(
                lambda: panel.seats.save_member(self._user(key), side, False, None, None, SYSTEM)
            )
            assert done == self.roles[key]
            if done:
                self.seats[key] = side

        @precondition(lambda self: not self.closed)
        @rule(key=st.sampled_from(names))
        def unseat(self, key):
            """The term ends yesterday (the seat's row stays, as the record does)."""
            member = self._member(key)
            if member is None or not self.roles[key]:
                return
            ended = date.today() - timedelta(days=1)
            assert self._attempt(
                lambda: panel.seats.save_member(
                    self._user(key), member.constituency, False, None, ended, SYSTEM
                )
            )
            self.seats.pop(key, None)

        @precondition(lambda self: not self.closed)
        @rule(key=st.sampled_from(names), present=st.booleans())
        def roll_call(self, key, present):
            member = self._member(key)
            if member is None:
                return
            session = self.item.session
            done = self._attempt(
                lambda: panel.sessions.set_attendance(session, member, present, SYSTEM)
            )
            assert done == (key in self.seats and self.roles[key])
            if done:
                (self.present.add if present else self.present.discard)(key)

        @precondition(lambda self: not self.closed)
        @rule(key=st.sampled_from(names))
        def declare_conflict(self, key):
            done = self._attempt(
                lambda: panel.sessions.declare_conflict(
                    self.item, self._user(key), "I know them", SYSTEM
                )
            )
            assert done == (key in self.seats and self.roles[key])
            if done:
                self.conflicts.add(key)
                self.ballots.pop(key, None)

        @precondition(lambda self: not self.closed)
        @rule(key=st.sampled_from(names), option=st.sampled_from(OPTIONS))
        def vote(self, key, option):
            done = self._attempt(lambda: panel.ballots.cast(self.item, self._user(key), option))
            may = key in self.eligible() and len(self.eligible()) >= self.quorum
            assert done == may, (key, option, self.eligible())
            if done:
                self.ballots[key] = option

        @precondition(lambda self: not self.closed)
        @rule()
        def close(self):
            coordinator = db.session.get(User, setup.district.people["coordinator"].id)
            assert self._attempt(lambda: panel.ballots.close(self.item, coordinator))
            self.closed = True
            item = self.item
            rules = configs.config_of(item.case.workflow_version).panel
            voters = self.eligible()
            ids = {k: self._member(k).id for k in self.seats}
            counted = {k: o for k, o in self.ballots.items() if k in voters}
            expected = Counter(o for o in counted.values() if o != "abstain")
            assert item.tally == {"affirm": expected["affirm"], "reject": expected["reject"]}
            oracle = rules_engine.decide(
                rules,
                {
                    ids[k]: rules_engine.Ballot(
                        ids[k], self.seats[k], None if o == "abstain" else o
                    )
                    for k, o in counted.items()
                },
                rules_engine.Attendance(
                    present=frozenset(ids[k] for k in voters),
                    constituency_of={ids[k]: self.seats[k] for k in voters},
                ),
                ct_recommendation="affirm",
                chair_id=None,
                options=("affirm", "reject"),
            )
            assert (item.outcome, item.option) == (oracle.outcome, oracle.option)
            assert item.votes_needed == oracle.votes_needed

        @precondition(lambda self: self.closed)
        @rule(key=st.sampled_from(names), option=st.sampled_from(OPTIONS))
        def vote_after_the_close(self, key, option):
            """A closed vote takes no ballot, and its record does not move."""
            tally = dict(self.item.tally)
            assert not self._attempt(lambda: panel.ballots.cast(self.item, self._user(key), option))
            assert self.item.tally == tally

        # After every step ---------------------------------------------------------------

        @invariant()
        def the_service_agrees_with_the_model(self):
            if self.closed:
                return
            facts = eligibility.facts_for(self.item)
            by_member = {m.id: k for k, m in ((k, self._member(k)) for k in names) if m}
            assert {by_member[m] for m in eligibility.eligible(facts)} == self.eligible()
            recused = {by_member[r.member.id] for r in eligibility.recusals(facts)}
            on_roster = {k for k in self.seats if self.roles[k]}
            assert recused == on_roster & (parties | same_school | self.conflicts)
            # The case list's query form of the same rules reads the packet for the same people.
            case = self.item.case
            readers = {k for k in names if case_access.has_packet(case, self._user(k))}
            assert readers == on_roster - parties - same_school - self.conflicts

    return PanelMachine


def test_every_counted_ballot_is_from_an_eligible_voter(app, toledo_panel, make_user):
    setup = toledo_panel
    tenant = setup.district.tenant
    people = {key: user.id for key, user in setup.members.items()}
    people |= {
        "case_teacher": setup.teacher.id,
        "case_ct": setup.district.people["ct"].id,
        "case_principal": setup.district.people["principal"].id,
        "outsider": make_user(tenant, "teacher", email="outsider@toledo.org").id,
    }
    with app.app_context(), tenant_scope(tenant.id):
        case = db.session.get(Case, setup.case_id)
        case.principal_id = people["case_principal"]
        uow.commit()
        machine = _machine(
            app,
            setup,
            people,
            parties={"case_teacher", "case_ct", "case_principal"},
            same_school={"admin4", "case_principal"},
        )
        run_state_machine_as_test(
            machine,
            settings=settings(
                max_examples=EXAMPLES,
                stateful_step_count=STEPS,
                deadline=None,
                derandomize=not EXPLORE,
                suppress_health_check=[HealthCheck.too_slow],
            ),
        )
