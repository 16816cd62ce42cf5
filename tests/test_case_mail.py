"""Every step's e-mail goes out once, through a real RQ worker to a real SMTP server."""

from __future__ import annotations

import re
from collections import Counter

from sqlalchemy import select, text

from app.extensions import db
from app.models.outbox import OutboxMessage, SentMail
from app.tenants.context import all_tenants
from tests.casework import Api
from tests.conftest import make_app
from tests.test_jobs import _work


def test_each_step_of_a_case_mails_its_people_once(
    migrated, redis_url, smtp_server, district, built_per_request
):
    port, inbox = smtp_server
    app = make_app(migrated, REDIS_URL=redis_url, MAIL_SUPPRESS_SEND=False, MAIL_PORT=port)
    with app.app_context():
        from app.core.redis import redis_connection

        redis_connection().flushdb()
    boston = district("boston", "boston_esp")
    p = boston.people
    coordinator = Api(app, boston, p["coordinator"])
    created = coordinator.post(
        "/enrollments",
        json={
            "name": "Pat",
            "email": "pat@boston.org",
            "school": "Lincoln Elementary",
            "track": "pa",
            "latest_rating": "needs_improvement",
            "letter": "Please help.",
        },
    )
    case_id = created.json["id"]
    for action in ("begin_intake", "accept"):
        assert (
            coordinator.post(f"/cases/{case_id}/transitions", json={"action": action}).status_code
            == 200
        )
    proposal = coordinator.post(f"/cases/{case_id}/assignment", json={"ct_id": p["ct"].id})
    for member in ("committee1", "committee2"):
        Api(app, boston, p[member]).post(
            f"/cases/{case_id}/assignment/{proposal.json['id']}/reviews", json={"approve": True}
        )
    assert (
        coordinator.post(f"/cases/{case_id}/transitions", json={"action": "assign_ct"}).status_code
        == 200
    )
    built_per_request.clear()
    _work(app)
    _work(app)  # a second pass finds nothing left to send
    # A case notice (the busiest job there is) is claimed, sent and marked done with
    # statements built once.
    notices = ("send_case_notice", "_claim", "_finish")
    assert not [where for where in built_per_request if where.startswith(notices)]

    subjects = Counter((m["To"], m["Subject"].split(": ", 1)[1]) for m in inbox)
    assert max(subjects.values()) == 1, subjects
    expected = {
        ("pat@boston.org", "Enrollment received"),
        ("coord@boston.org", "Enrollment received"),
        ("c1@boston.org", "Assignment review"),
        ("c2@boston.org", "Assignment review"),
        ("ct@boston.org", "Introduction scheduled"),
        ("pat@boston.org", "Introduction scheduled"),
        ("principal@boston.org", "Introduction scheduled"),
        ("ct@boston.org", "Consulting teacher assigned"),
        ("pat@boston.org", "Consulting teacher assigned"),
        # Accepted at intake: the teacher who enrolled gets a link to choose a password.
        ("pat@boston.org", "choose your password"),
    }
    assert set(subjects) == expected
    [invitation] = [m for m in inbox if m["Subject"].endswith("choose your password")]
    body = invitation.get_payload(decode=True).decode()
    [link] = re.findall(r"/t/boston/password/reset/\S+", body)
    assert app.test_client().get(link).status_code == 200
    for message in inbox:
        assert "Please help." not in message.get_payload()  # notices never carry the case
    with app.app_context(), all_tenants():
        statuses = set(db.session.execute(select(OutboxMessage.status)).scalars())
        sent = db.session.execute(select(SentMail.recipient, SentMail.message_id)).all()
    assert statuses == {"done"}
    # Every message is recorded with the Message-ID it carried, and no two share one.
    assert sorted((m["To"], m["Message-ID"]) for m in inbox) == sorted(sent)
    assert len({m["Message-ID"] for m in inbox}) == len(inbox)


def test_a_notice_reads_its_people_and_district_in_one_statement_planned_once(
    migrated, redis_url, smtp_server, district, make_user, count_queries
):
    """A case notice sends one read before its sends (its people, its district and whom it
    reached already), and PostgreSQL keeps one plan for that read: the statement is the same
    whatever the case, so once prepared (its fifth run) and tried five times, it is planned
    no more (``generic_plans``)."""
    from app.core import outbox
    from app.core.uow import commit
    from app.jobs.runner import run_messages
    from app.tenants.context import tenant_scope
    from tests.casework import to_support

    port, inbox = smtp_server
    app = make_app(
        migrated,
        REDIS_URL=redis_url,  # queued for a worker, which the test runs itself
        MAIL_SUPPRESS_SEND=False,
        MAIL_PORT=port,
        SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 1, "max_overflow": 0},
    )
    toledo = district("toledo", "toledo")
    toledo.people["teacher"] = make_user(toledo.tenant, "teacher", email="lee@toledo.org")
    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    with app.app_context(), tenant_scope(toledo.tenant.id):
        ids = [
            outbox.case_notice(case_id, toledo.tenant.id, "ct_assigned", ["assigned_ct"]).id
            for _ in range(16)
        ]
        commit()
    with app.app_context():
        from app.core.redis import redis_connection

        redis_connection().flushdb()
        run_messages(ids[:1])
        with count_queries(app) as sent:
            run_messages(ids[1:])
        with db.engine.connect() as conn:
            plans = conn.execute(
                text(
                    "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                    "WHERE statement LIKE '%FROM users JOIN cases%sent_mails%'"
                )
            ).all()
    reads = [s for s in sent if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 15, reads  # one read a notice
    assert Counter(m["To"] for m in inbox) == {toledo.people["ct"].email: 16}
    assert plans and plans[0].generic_plans >= 1, plans
