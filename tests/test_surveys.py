"""Surveys: personal single-use links, answers without identity, reminders to those who
have not answered, imported history, and the figures in the annual report."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from html import unescape

import pytest
from sqlalchemy import func, inspect, select

from app.core import uow
from app.extensions import db
from app.models.audit import AuditEvent
from app.models.outbox import OutboxMessage
from app.models.survey import SurveyInvitation, SurveyResponse
from app.services import surveys
from app.services.actors import Actor
from app.tenants.context import all_tenants, tenant_scope
from tests.casework import Api, Browser
from tests.factories import csrf_token
from tests.test_imports import HEADER, _post

HISTORY = (
    "B-1,Ann,ann@bps.org,Adams,peer_assistance,ct@bps.org,2009-08-01,2009-09-10,,\n"
    "B-2,Ben,ben@bps.org,Blake,peer_assistance,ct@bps.org,2009-08-01,2009-09-12,,\n"
)
YEAR = "2009-2010"


@pytest.fixture
def pap(app, district):
    d = district("bostonpap", "boston_pap_2007")
    assert _post(app, d, HEADER + HISTORY).status_code == 200
    return d


def _send(app, d, days_ago: int = 8) -> dict[str, str]:
    """Send the year's survey ``days_ago`` days ago (a week and a day by default: the first
    reminders are due); the personal tokens by teacher e-mail."""
    with app.app_context(), tenant_scope(d.tenant.id):
        row = surveys.send("teacher_questionnaire", YEAR, Actor.system())
        row.created_at = row.created_at - timedelta(days=days_ago)
        uow.commit()
        rows = db.session.execute(select(SurveyInvitation)).scalars().all()
        from app.models.user import User

        return {db.session.get(User, r.user_id).email: surveys.token_for(r) for r in rows}


def _answer(client, slug, token, **answers):
    page = client.get(f"/t/{slug}/survey/{token}")
    assert page.status_code == 200
    return client.post(
        f"/t/{slug}/survey/{token}", data={**answers, "csrf_token": csrf_token(page.text)}
    )


def test_a_link_works_once_and_stores_no_identity(app, pap):
    tokens = _send(app, pap)
    client = app.test_client()
    done = _answer(
        client,
        pap.slug,
        tokens["ann@bps.org"],
        values_program="agree",
        advocate="strongly_agree",
        comment="Helpful.",
    )
    assert done.status_code == 200 and "Thank you" in done.text
    again = client.get(f"/t/{pap.slug}/survey/{tokens['ann@bps.org']}")
    assert again.status_code == 410
    assert "Your answers have been received." in again.text
    with app.app_context(), tenant_scope(pap.tenant.id):
        [response] = db.session.execute(select(SurveyResponse)).scalars().all()
        columns = {c.key for c in inspect(SurveyResponse).columns}
        assert not columns & {"user_id", "invitation_id", "email", "created_at"}
        assert len(response.id) == 36  # a random id, not a sequence that orders respondents
        assert response.answers == {"values_program": "agree", "advocate": "strongly_agree"}
        invitation_columns = {c.key for c in inspect(SurveyInvitation).columns}
        assert not invitation_columns & {"used_on", "used_at", "answered_at"}
        assert (
            db.session.execute(
                select(func.count())
                .select_from(SurveyInvitation)
                .where(SurveyInvitation.used.is_(True))
            ).scalar()
            == 1
        )


def test_an_expired_or_unknown_link_says_why_it_opens_nothing(app, pap):
    tokens = _send(app, pap)
    closed_on = date.today() - timedelta(days=1)
    with app.app_context(), tenant_scope(pap.tenant.id):
        for row in db.session.execute(select(SurveyInvitation)).scalars():
            row.expires_on = closed_on
        uow.commit()
    client = app.test_client()
    expired = client.get(f"/t/{pap.slug}/survey/{tokens['ben@bps.org']}")
    assert expired.status_code == 410
    assert f"This survey closed on {closed_on.isoformat()}" in expired.text
    unknown = client.get(f"/t/{pap.slug}/survey/not-a-token")
    assert unknown.status_code == 404
    assert "This link is not valid" in unknown.text


def test_a_blank_questionnaire_is_refused_and_keeps_the_link(app, pap):
    tokens = _send(app, pap)
    client = app.test_client()
    blank = _answer(client, pap.slug, tokens["ann@bps.org"], comment="   ")
    assert blank.status_code == 422
    assert surveys.EMPTY_ANSWER in blank.text
    with app.app_context(), tenant_scope(pap.tenant.id):
        assert db.session.execute(select(func.count()).select_from(SurveyResponse)).scalar() == 0
    done = _answer(client, pap.slug, tokens["ann@bps.org"], advocate="agree")
    assert done.status_code == 200 and "Thank you" in done.text


def test_a_refused_answer_keeps_what_was_chosen(app, pap):
    tokens = _send(app, pap)
    client = app.test_client()
    refused = _answer(
        client, pap.slug, tokens["ann@bps.org"], advocate="agree", values_program="maybe"
    )
    assert refused.status_code == 422
    assert 'value="agree" checked' in refused.text
    assert '<ul class="errors" id="values_program-errors"><li>Choose one of the answers.' in (
        refused.text
    )


def test_reminders_reach_only_those_who_have_not_answered(app, pap):
    tokens = _send(app, pap)
    _answer(app.test_client(), pap.slug, tokens["ann@bps.org"], values_program="agree")
    with app.app_context(), all_tenants():
        assert surveys.remind_due() == 1
        assert surveys.remind_due() == 0  # not again the same week
        uow.commit()
        reminders = (
            db.session.execute(
                select(OutboxMessage).where(OutboxMessage.job == "mail.survey_invitation")
            )
            .scalars()
            .all()
        )
        reminded = [m.payload for m in reminders if m.payload["reminder"]]
        invitation = db.session.get(SurveyInvitation, reminded[0]["invitation_id"])
        from app.models.user import User

        assert db.session.get(User, invitation.user_id).email == "ben@bps.org"
        assert len(reminded) == 1


def test_the_rounds_page_and_the_report_show_the_response_rate(app, pap):
    tokens = _send(app, pap)
    _answer(
        app.test_client(),
        pap.slug,
        tokens["ann@bps.org"],
        values_program="agree",
        adequate_access="disagree",
    )
    api = Api(app, pap, pap.people["coordinator"])
    survey = api.get(f"/reports/annual?year={YEAR}").json["survey"]
    assert (survey["sent"], survey["responses"], survey["response_rate"]) == (2, 1, 0.5)
    statement = next(s for s in survey["statements"] if s["key"] == "values_program")
    assert statement["counts"]["agree"] == 1 and statement["agree_or_better"] == 1


ANSWERS = (
    "response_id,submitted_on,values_program,adequate_access,advocate,"
    "concrete_suggestions,school_culture,understands_situation,comment\n"
)


def _import(app, d, text: str, sent: str = "70"):
    return Api(app, d, d.people["coordinator"]).post(
        "/imports/survey-responses",
        data={
            "file": (io.BytesIO(text.encode()), "answers.csv"),
            "survey": "teacher_questionnaire",
            "year": "2008-2009",
            "sent": sent,
        },
        content_type="multipart/form-data",
    )


def test_survey_answers_import_all_or_nothing_and_update_on_reimport(app, pap):
    good = ANSWERS + "R1,2009-06-01,agree,agree,strongly_agree,agree,agree,agree,Great\n"
    assert _import(app, pap, good).json == {"created": 1, "updated": 0}
    assert _import(app, pap, good).json == {"created": 0, "updated": 1}
    bad = good + "R2,2009-06-02,maybe,agree,agree,agree,agree,agree,\n"
    refused = _import(app, pap, bad)
    assert refused.status_code == 422
    assert refused.json["errors"]["rows[3].values_program"] == [
        "'maybe' is not on the scale (strongly_agree, agree, disagree, strongly_disagree)"
    ]
    too_many = _import(app, pap, good, sent="0")
    assert too_many.status_code == 422 and "sent" in too_many.json["errors"]
    with app.app_context(), tenant_scope(pap.tenant.id):
        assert db.session.execute(select(func.count()).select_from(SurveyResponse)).scalar() == 1


def test_the_report_counts_the_answers_in_the_database_as_each_answer_would(app, pap):
    """The report's survey is counted by PostgreSQL; counting each stored answer gives the
    same figures: blanks in no count, comments in the order the answers came."""
    rows = ANSWERS + (
        "R1,2009-06-01,agree,agree,strongly_agree,agree,agree,agree,Great\n"
        "R2,2009-06-03,disagree,,agree,strongly_disagree,agree,agree,\n"
        "R3,2009-06-02,strongly_agree,agree,,agree,disagree,agree,Helpful CT\n"
    )
    assert _import(app, pap, rows).status_code == 200
    with app.app_context(), tenant_scope(pap.tenant.id):
        counted = surveys.counts_for("2008-2009")
        by_answer = surveys.record_for("2008-2009").counted()
        assert surveys.counts_for("2010-2011") is None
    assert counted == by_answer
    assert counted.responses == 3 and counted.comments == ("Great", "Helpful CT")
    assert counted.counts["adequate_access"] == {"agree": 2}
    assert counted.counts["values_program"] == {"agree": 1, "disagree": 1, "strongly_agree": 1}


def test_the_portable_count_off_postgresql_gives_what_postgresql_counts(app, pap, monkeypatch):
    """Off PostgreSQL (the embedded SQLite of ``make run``) the answers are counted in Python,
    without ``jsonb`` or ``LATERAL``; on the same answers it gives what PostgreSQL counts,
    with and without comments, and the same answers one by one."""
    from app.services import sql_dialect

    rows = ANSWERS + (
        "R1,2009-06-01,agree,agree,strongly_agree,agree,agree,agree,Great\n"
        "R2,2009-06-03,disagree,,agree,strongly_disagree,agree,agree,\n"
        "R3,2009-06-02,strongly_agree,agree,,agree,disagree,agree,Helpful CT\n"
        "R4,2009-06-04,,,,,,,Only a comment\n"
    )
    assert _import(app, pap, rows).status_code == 200
    with app.app_context(), tenant_scope(pap.tenant.id):
        by_postgresql = {c: surveys.counts_for("2008-2009", comments=c) for c in (True, False)}
        record = surveys.record_for("2008-2009")
        for comments, counted in by_postgresql.items():
            assert surveys.portable_counts("2008-2009", comments=comments) == counted
        assert surveys.portable_counts("2010-2011") is None
        monkeypatch.setattr(sql_dialect, "on_postgresql", lambda: False)
        for comments, counted in by_postgresql.items():
            assert surveys.counts_for("2008-2009", comments=comments) == counted
        assert surveys.record_for("2008-2009") == record
        assert surveys.counts_for("2010-2011") is None and surveys.record_for("2010-2011") is None
    assert by_postgresql[True].responses == 4
    assert by_postgresql[True].comments == ("Great", "Helpful CT", "Only a comment")
    assert by_postgresql[False].comments == ()


def test_the_report_page_draws_the_answers_per_statement(app, pap):
    from tests.casework import Browser

    tokens = _send(app, pap)
    _answer(app.test_client(), pap.slug, tokens["ann@bps.org"], values_program="agree")
    coordinator = Browser(app, pap, pap.people["coordinator"])
    page = coordinator.get(f"/reports/annual?year={YEAR}").text
    assert "1 of 2 answered (50%)" in page
    svg = coordinator.get(f"/reports/annual.svg?year={YEAR}&chart=survey")
    assert svg.status_code == 200 and b"<svg" in svg.data


def test_two_submissions_racing_on_one_link_store_one_answer(app, pap, monkeypatch):
    """Both pass the first check; the claim in one UPDATE lets only one through."""
    from app.services.errors import NotFound

    tokens = _send(app, pap)
    token = tokens["ann@bps.org"]
    with app.app_context(), tenant_scope(pap.tenant.id):
        stale = surveys.invitation_for(token)  # what the slower request read before the first
        surveys.answer(token, {"values_program": "agree"}, None)
        uow.commit()
        monkeypatch.setattr(surveys, "invitation_for", lambda _token: stale)
        with pytest.raises(NotFound):
            surveys.answer(token, {"values_program": "disagree"}, None)
        uow.rollback()
        assert db.session.execute(select(func.count()).select_from(SurveyResponse)).scalar() == 1


def _round_card(html: str) -> str:
    """The first round's reminders, as text with its markup."""
    found = re.search(r'data-testid="round-reminders-\d+">(.*?)</section>', html, re.S)
    assert found, "the surveys page shows no round's reminders"
    return unescape(re.sub(r"\s+", " ", found.group(1)))


def _press(browser: Browser):
    page = browser.get("/surveys").text
    action = re.search(r'action="/t/[^/]+(/surveys/\d+/remind)"', page)
    assert action, "the surveys page has no Send reminders now"
    return browser.post("/surveys", action.group(1), {})


def _reminders_queued(app) -> int:
    with app.app_context(), all_tenants():
        rows = db.session.execute(
            select(OutboxMessage).where(OutboxMessage.job == "mail.survey_invitation")
        ).scalars()
        return sum(1 for m in rows if m.payload["reminder"])


def test_the_surveys_page_shows_each_rounds_reminder_schedule_and_last_reminder(app, pap):
    tokens = _send(app, pap)
    _answer(app.test_client(), pap.slug, tokens["ann@bps.org"], values_program="agree")
    card = _round_card(Browser(app, pap, pap.people["coordinator"]).get("/surveys").text)
    closes = (date.today() + surveys.OPEN_FOR).isoformat()
    assert (
        f"Those who have not answered are e-mailed a reminder every "
        f"{surveys.REMIND_EVERY.days} days, at most {surveys.MAX_REMINDERS} times, until the "
        f"survey closes on {closes}."
    ) in card
    assert "None sent yet." in card and "Send reminders now" in card
    with app.app_context(), all_tenants():
        assert surveys.remind_due() == 1  # the weekly job
        uow.commit()
    card = _round_card(Browser(app, pap, pap.people["admin"]).get("/surveys").text)
    assert f"{date.today().isoformat()}, to 1 person." in card


def test_send_reminders_now_queues_the_due_ones_once_and_says_when_none_is_due(app, pap):
    tokens = _send(app, pap)
    _answer(app.test_client(), pap.slug, tokens["ann@bps.org"], values_program="agree")
    coordinator = Browser(app, pap, pap.people["coordinator"])
    first = _press(coordinator)
    assert first.status_code == 302 and "#round-" in first.location
    page = coordinator.get("/surveys").text
    assert "Queued reminders to 1 person for" in page
    assert f"{date.today().isoformat()}, to 1 person." in _round_card(page)
    assert _reminders_queued(app) == 1

    assert _press(coordinator).status_code == 302
    page = unescape(coordinator.get("/surveys").text)
    assert (
        f"none due: everyone was reminded on {date.today().isoformat()}; the next reminders "
        f"are due on {(date.today() + surveys.REMIND_EVERY).isoformat()}."
    ) in page
    with app.app_context(), all_tenants():
        assert surveys.remind_due() == 0  # the weekly job finds nobody due either
    assert _reminders_queued(app) == 1
    with app.app_context(), tenant_scope(pap.tenant.id):
        events = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "survey.reminded")
        ).scalars()
        assert [(e.after["queued"], e.actor_id) for e in events] == [
            (1, pap.people["coordinator"].id)
        ]


def test_when_everyone_answered_the_button_says_so(app, pap):
    tokens = _send(app, pap)
    for email in tokens:
        _answer(app.test_client(), pap.slug, tokens[email], values_program="agree")
    coordinator = Browser(app, pap, pap.people["coordinator"])
    assert _press(coordinator).status_code == 302
    assert "none due: everyone invited has answered." in coordinator.get("/surveys").text
    assert _reminders_queued(app) == 0


def test_only_coordinators_and_admins_send_reminders(app, pap):
    _send(app, pap)
    coordinator = Browser(app, pap, pap.people["coordinator"])
    action = re.search(r'action="/t/[^/]+(/surveys/\d+/remind)"', coordinator.get("/surveys").text)
    ct = Browser(app, pap, pap.people["ct"])
    token = csrf_token(ct.get("/").text)
    refused = ct.client.post(f"/t/{pap.slug}{action.group(1)}", data={"csrf_token": token})
    assert refused.status_code == 403
    assert _reminders_queued(app) == 0


def test_the_command_line_sweep_queues_survey_reminders_too(app, pap):
    """``flask jobs remind`` queues every reminder due, the unanswered surveys' included."""
    from click.testing import CliRunner

    _send(app, pap)
    with app.app_context():
        result = CliRunner().invoke(app.cli, ["jobs", "remind"])
    assert result.exit_code == 0, result.output
    assert "queued 2 survey reminders" in result.output
    with app.app_context():
        again = CliRunner().invoke(app.cli, ["jobs", "remind"])
    assert "queued 0 survey reminders" in again.output  # once a week, not once a run


def test_no_one_is_reminded_in_the_week_the_links_went_out(app, pap):
    """The first reminder waits a week after the invitation, like every later one; the
    page says when it is due rather than pressing on in silence."""
    _send(app, pap, days_ago=6)
    with app.app_context(), all_tenants():
        assert surveys.remind_due() == 0
        assert surveys.remind_due(today=date.today() + timedelta(days=1)) == 2
        db.session.rollback()
    coordinator = Browser(app, pap, pap.people["coordinator"])
    assert _press(coordinator).status_code == 302
    page = unescape(coordinator.get("/surveys").text)
    first = (date.today() + timedelta(days=1)).isoformat()
    assert f"the first reminders are due on {first}" in page
    assert _reminders_queued(app) == 0


def test_the_years_survey_read_alone_is_built_once(app, pap, built_per_request):
    """The export job and the report's pieces read a year's survey on its own: the statement
    comes built with the scope, so nothing is copied and keyed again per read."""
    assert _import(app, pap, ANSWERS + "R1,2009-06-01,agree,agree,agree,agree,agree,agree,\n")
    with app.app_context(), tenant_scope(pap.tenant.id):
        surveys.record_for("2008-2009")
        surveys.counts_for("2008-2009")
        built_per_request.clear()
        record = surveys.record_for("2008-2009")
        counted = surveys.counts_for("2008-2009", comments=False)
    assert record is not None and counted.responses == 1
    assert built_per_request == []
