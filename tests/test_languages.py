"""A teacher reads Parley in English, Spanish or Haitian Creole: the catalogues cover every
message, the district decides which languages it offers, the person's choice and the
browser's language pick one of them, and the configuration's own labels are translated."""

from __future__ import annotations

import copy
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from sqlalchemy import select

from app.core import uow
from app.extensions import db
from app.models.audit import AuditEvent
from app.models.survey import SurveyInvitation
from app.models.tenant import Tenant
from app.models.user import User
from app.services import surveys
from app.services.actors import Actor
from app.tenants.context import all_tenants, tenant_scope
from app.workflows import load_preset, validate
from tests.casework import Browser, errors_beside
from tests.conftest import make_app
from tests.factories import csrf_token
from tests.test_appeals import (
    _decide,
    _decided,
    _file,
    _section,
    _today,
    _window_ending,
    _working,
)
from tests.test_panel import _pdf_text
from tests.test_surveys import YEAR, _answer
from tests.test_surveys import pap as pap  # the Boston 2007 district fixture
from tests.test_teacher_decision import _approve

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "app" / "translations"
LANGUAGES = ("es", "ht")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> dict[str, object]:
    """The messages the code marks today, extracted by ``pybabel`` as a translator would."""
    pot = tmp_path_factory.mktemp("catalogue") / "messages.pot"
    pybabel = str(Path(sys.executable).with_name("pybabel"))
    subprocess.run(
        [
            pybabel,
            "extract",
            "-F",
            "app/translations/babel.cfg",
            "--add-comments=Review:",
            "-o",
            str(pot),
            ".",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    with pot.open("rb") as handle:
        return {message.id: message for message in read_po(handle) if message.id}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_marked_message_has_a_translation(extracted, language):
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    assert not catalogue.fuzzy
    missing = []
    for msgid in extracted:
        message = catalogue.get(msgid)
        if message is None or not message.string or message.fuzzy:
            missing.append(msgid)
    assert not missing, f"untranslated in {language}: {missing}"
    # Placeholders survive translation, or the page would fail as it renders.
    assert not [problem for problem in catalogue.check() if problem[1]]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_matches_its_source(language):
    folder = TRANSLATIONS / language / "LC_MESSAGES"
    with (folder / "messages.po").open("rb") as handle:
        source = {m.id: m.string for m in read_po(handle) if m.id and not m.fuzzy}
    with (folder / "messages.mo").open("rb") as handle:
        compiled = {m.id: m.string for m in read_mo(handle) if m.id}
    assert compiled == source, "run: pybabel compile -d app/translations"


def test_legal_wording_is_marked_for_the_district_to_review(extracted):
    reviewed = [m.id for m in extracted.values() if any("Review:" in c for c in m.auto_comments)]
    assert any("does not mean that I agree" in text for text in reviewed)
    assert any("appeal" in text for text in reviewed)


def _offer(app, tenant, languages):
    with app.app_context(), all_tenants():
        row = db.session.get(Tenant, tenant.id)
        row.languages = languages
        uow.commit()


def _prefer(app, tenant, user, language):
    with app.app_context(), tenant_scope(tenant.id):
        db.session.get(User, user.id).preferred_language = language
        uow.commit()


@pytest.fixture
def boston(app, district, make_user):
    d = district("boston", "boston_esp")
    d.people["teacher"] = make_user(d.tenant, "teacher", email="ana@boston.org")
    _offer(app, d.tenant, ["en", "es"])
    return d


def test_the_browsers_language_picks_spanish_for_the_enrollment_form(app, boston):
    page = app.test_client().get(
        f"/t/{boston.slug}/enroll", headers={"Accept-Language": "es-US,es;q=0.9,en;q=0.5"}
    )
    assert page.status_code == 200
    assert '<html lang="es">' in page.text
    assert "Enviar mi solicitud" in page.text and "Su nombre" in page.text
    # The document's own translations: the track and the program's invitation.
    assert "Asistencia entre Pares (PA)" in page.text
    assert "Complete el formulario de inscripción" in page.text
    english = app.test_client().get(f"/t/{boston.slug}/enroll", headers={"Accept-Language": "en"})
    assert "Send my request" in english.text and "Enviar" not in english.text


def test_a_district_that_does_not_offer_creole_never_serves_it(app, boston):
    client = app.test_client()
    for asked in ({"headers": {"Accept-Language": "ht"}}, {"query_string": {"lang": "ht"}}):
        page = client.get(f"/t/{boston.slug}/enroll", **asked)
        assert '<html lang="en">' in page.text and "Voye demann mwen" not in page.text
    _prefer(app, boston.tenant, boston.people["teacher"], "ht")
    home = Browser(app, boston, boston.people["teacher"]).get("/")
    assert '<html lang="en">' in home.text and "Dosye ou" not in home.text
    # Once the district offers it, the same choice is honoured.
    _offer(app, boston.tenant, ["en", "es", "ht"])
    home = Browser(app, boston, boston.people["teacher"]).get("/")
    assert '<html lang="ht">' in home.text and "Dosye ou" in home.text


def test_a_spanish_speaking_teacher_enrolls_in_spanish(app, boston):
    client = app.test_client()
    form = client.get(f"/t/{boston.slug}/enroll?lang=es")
    assert "Inscribirse" in form.text
    sent = client.post(
        f"/t/{boston.slug}/enroll?lang=es",
        data={
            "csrf_token": csrf_token(form.text),
            "name": "Lucía Pérez",
            "email": "lucia@boston.org",
            "school": "Lincoln Elementary",
            "track": "pa",
            "letter": "Quiero mejorar la gestión del aula.",
        },
    )
    assert sent.status_code == 200, sent.text
    assert "Gracias" in sent.text
    assert "Su solicitud llegó a Programa de Apoyo a Educadores" in sent.text
    refused = client.post(
        f"/t/{boston.slug}/enroll?lang=es",
        data={"csrf_token": csrf_token(form.text), "name": "", "track": "pa"},
    )
    assert refused.status_code == 400 and "Escriba su nombre." in refused.text


def test_the_picker_stores_the_persons_choice_and_audits_it(app, boston):
    teacher = boston.people["teacher"]
    browser = Browser(app, boston, teacher)
    assert 'data-testid="language-picker"' in browser.get("/").text
    chosen = browser.post("/", "/language", {"language": "es", "next": f"/t/{boston.slug}/"})
    assert chosen.status_code == 302
    page = browser.get("/")
    assert "Su caso" in page.text  # a teacher with no case: the empty state, in Spanish
    assert "No tiene ningún caso." in page.text and '<html lang="es">' in page.text
    refused = browser.post("/", "/language", {"language": "ht"})
    assert refused.status_code == 302
    with app.app_context(), tenant_scope(boston.tenant.id):
        assert db.session.get(User, teacher.id).preferred_language == "es"
        events = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "user.language_changed")
        ).scalars()
        assert [e.after for e in events] == [{"preferred_language": "es"}]


def test_the_program_admin_chooses_the_districts_languages(app, boston):
    admin = Browser(app, boston, boston.people["admin"])
    base = {
        "name": "Boston Schools",
        "primary_color": "#1f4e79",
        "accent_color": "#c8102e",
        "welcome_text": "",
    }
    refused = admin.post("/admin/branding", "/admin/branding", {**base, "languages": "fr"})
    assert refused.status_code == 400
    saved = admin.post("/admin/branding", "/admin/branding", {**base, "languages": ["ht"]})
    assert saved.status_code == 302
    with app.app_context(), all_tenants():
        assert db.session.get(Tenant, boston.tenant.id).languages == ["en", "ht"]
    with app.app_context(), tenant_scope(boston.tenant.id):
        events = db.session.execute(
            select(AuditEvent).where(AuditEvent.action == "tenant.languages_changed")
        ).scalars()
        assert [e.after for e in events] == [{"languages": ["en", "ht"]}]


@pytest.fixture
def decided_in_spanish(app, awaiting_approval):
    waiting = _approve(app, awaiting_approval("boston", "boston_esp", "par", "needs_improvement"))
    _offer(app, waiting.district.tenant, ["en", "es", "ht"])
    _prefer(app, waiting.district.tenant, waiting.teacher, "es")
    return waiting


def test_the_spanish_teacher_reads_and_signs_the_decision_in_spanish(app, decided_in_spanish):
    d = decided_in_spanish
    browser = Browser(app, d.district, d.teacher)
    home = browser.get("/").text
    assert "Su caso" in home and "Cerrado" in home  # the state, as the document translates it
    page = browser.get(f"/cases/{d.case_id}").text
    assert "La decisión" in page and "Cumplió los estándares" in page
    assert "Se le pide que confirme que recibió esta decisión." in page
    assert "Reconozco que recibí este documento." in page
    wrong = browser.post(
        f"/cases/{d.case_id}", f"/cases/{d.case_id}/acknowledgments", {"typed_name": "x"}
    )
    assert "Marque la casilla para indicar que entiende lo que firma." in wrong.text
    signed = browser.post(
        f"/cases/{d.case_id}",
        f"/cases/{d.case_id}/acknowledgments",
        {"typed_name": d.teacher.name, "understood": "y"},
        follow_redirects=True,
    )
    assert signed.status_code == 200
    assert f"firmó «{d.teacher.name}»" in signed.text
    letter = browser.get(f"/cases/{d.case_id}/decision.pdf")
    assert letter.status_code == 200
    text = _pdf_text(letter.data)
    assert "la decisi" in text and "Calificaci" in text and "Acuses de recibo" in text


def test_the_spanish_teacher_reads_the_appeal_window_and_appeals_in_spanish(app, awaiting_approval):
    """The appeal section speaks the teacher's language: the window and who decides, the
    form and its refusal, then the appeal as filed (the deadline and the right to appeal
    are the wording a teacher must not miss)."""
    d = _decided(app, awaiting_approval, "cincinnati")
    _offer(app, d.district.tenant, ["en", "es"])
    _prefer(app, d.district.tenant, d.teacher, "es")
    closes_on = _today()
    while not _working(closes_on, set()):
        closes_on += timedelta(days=1)
    _window_ending(app, d, closes_on)
    browser = Browser(app, d.district, d.teacher)
    section = _section(browser.get(f"/cases/{d.case_id}").text)
    assert "Apelación de la decisión" in section
    assert f"Puede apelar hasta el {closes_on.isoformat()} (10 días hábiles" in section
    assert "La apelación la resuelve el Superintendent." in section
    assert "Por qué apela la decisión" in section and "Presentar la apelación" in section
    assert "You may appeal" not in section and "File the appeal" not in section

    empty = _file(app, d, grounds="   ")
    assert empty.status_code == 400
    assert "Diga por qué apela la decisión." in errors_beside(empty.text, "grounds")

    assert _file(app, d).status_code == 302
    page = browser.get(f"/cases/{d.case_id}").text
    filed = _section(page)
    assert "En apelación" in filed and "La decisión está en apelación." in filed
    assert "Sigue vigente hasta que el Superintendent resuelva la apelación" in filed
    assert "Presentada" in filed and "Los motivos" in filed
    assert 'data-testid="under-appeal-tag">En apelación<' in page
    assert "under appeal" not in filed.lower()

    # Decided: the result in the teacher's language first; the decision's own words are its
    # record, kept as written and marked as English.
    denied = {"appeal_decision": "deny", "appeal_note": "The record supports the decision."}
    assert _decide(app, d, d.authority, denied).status_code == 302
    result = _section(browser.get(f"/cases/{d.case_id}").text)
    assert "Apelación denegada" in result and "Resolución" in result
    assert '<span lang="en">Denied by the Superintendent' in result


def test_the_survey_reads_in_spanish_with_the_documents_statements(app, pap):
    _offer(app, pap.tenant, ["en", "es"])
    document = copy.deepcopy(load_preset("boston_pap_2007"))
    document["translations"] = {
        "es": {
            "surveys": {
                "teacher_questionnaire": {
                    "statements": {"advocate": "Mi Maestro Consultor me defiende con firmeza."}
                }
            }
        }
    }
    assert validate(document).ok
    with app.app_context(), tenant_scope(pap.tenant.id):
        from app.services import workflow_config

        workflow_config.save_draft(document)
        workflow_config.publish(note="Spanish statements")
        row = surveys.send("teacher_questionnaire", YEAR, Actor.system())
        row.created_at = row.created_at - timedelta(days=1)
        uow.commit()
        invitation = db.session.execute(select(SurveyInvitation)).scalars().first()
        token = surveys.token_for(invitation)
    client = app.test_client()
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "es"
    page = client.get(f"/t/{pap.slug}/survey/{token}")
    assert "Sus respuestas se guardan sin su nombre." in page.text
    assert "Mi Maestro Consultor me defiende con firmeza." in page.text
    assert "De acuerdo" in page.text and "Enviar mis respuestas" in page.text
    done = _answer(client, pap.slug, token, advocate="agree")
    assert "Recibimos sus respuestas." in done.text
    again = client.get(f"/t/{pap.slug}/survey/{token}")
    assert "Este enlace de la encuesta ya no abre el cuestionario" in again.text


def test_the_survey_mail_is_written_in_the_recipients_language(
    migrated, smtp_server, district, make_user
):
    port, inbox = smtp_server
    app = make_app(migrated, MAIL_SUPPRESS_SEND=False, MAIL_PORT=port)
    from tests.test_surveys import HEADER, HISTORY, _post

    d = district("bostonpap", "boston_pap_2007")
    assert _post(app, d, HEADER + HISTORY).status_code == 200
    _offer(app, d.tenant, ["en", "ht"])
    from app.jobs.mail import send_survey_invitation

    with app.app_context(), tenant_scope(d.tenant.id):
        surveys.send("teacher_questionnaire", YEAR, Actor.system())
        uow.commit()
        ann = db.session.execute(select(User).where(User.email == "ann@bps.org")).scalar_one()
        ann.preferred_language = "ht"
        uow.commit()
        invitations = db.session.execute(select(SurveyInvitation)).scalars().all()
        for invitation in invitations:
            send_survey_invitation({"invitation_id": invitation.id}, f"lang-{invitation.id}")
    bodies = {m["To"]: m.get_payload(decode=True).decode() for m in inbox}
    assert "Lyen pèsonèl ou" in bodies["ann@bps.org"]
    assert "Your personal link" in bodies["ben@bps.org"]


def test_translations_in_the_document_are_checked_like_every_other_key():
    document = copy.deepcopy(load_preset("boston_esp"))
    assert validate(document).ok  # the preset's own Spanish and Creole
    document["translations"]["fr"] = {}
    document["translations"]["es"]["tracks"]["nope"] = {"name": "X"}
    document["translations"]["ht"]["tracks"]["pa"]["states"]["limbo"] = "X"
    document["translations"]["es"]["surveys"]["participant"]["statements"]["zz"] = "X"
    document["translations"]["es"]["colours"] = {}
    errors = validate(document).errors
    assert "translations.fr" in errors
    assert "translations.es.tracks.nope" in errors
    assert "translations.ht.tracks.pa.states.limbo" in errors
    assert "translations.es.surveys.participant.statements.zz" in errors
    assert "translations.es.colours" in errors


def test_a_page_in_spanish_reads_the_program_once_however_many_labels_it_shows(
    app, toledo, count_queries
):
    """Each translated label asks for the district's current program; a request reads it once,
    so the teacher's home with six meetings coming sends as many statements as with one."""
    from datetime import date, timedelta

    from app.models.case import Case
    from app.services import support
    from tests.casework import Browser, to_support

    _offer(app, toledo.tenant, ["en", "es"])
    _prefer(app, toledo.tenant, toledo.people["teacher"], "es")
    case_id = to_support(app, toledo, "intervention", "unsatisfactory")
    teacher = Browser(app, toledo, toledo.people["teacher"])
    counts = []
    for more in (1, 5):
        with app.app_context(), tenant_scope(toledo.tenant.id):
            case = db.session.get(Case, case_id)
            ct = db.session.get(User, toledo.people["ct"].id)
            for k in range(more):
                planned = date.today() + timedelta(days=k + 2)
                support.log_visit(
                    case, ct, support.VisitInput("observation", planned, planned=True)
                )
            uow.commit()
        with count_queries() as counted:
            page = teacher.get("/")
        assert page.status_code == 200 and 'lang="es"' in page.text
        counts.append((len(counted), page.text.count("<li>")))
    assert counts[0][0] == counts[1][0], counts
    assert counts[1][1] >= counts[0][1] + 5, counts


def test_the_password_and_lock_mails_are_written_in_the_persons_language(
    migrated, smtp_server, district, make_user
):
    from datetime import timedelta

    from app.jobs.mail import send_account_locked, send_password_reset
    from app.models.base import utcnow
    from app.models.user import PasswordReset
    from app.services import password_resets

    port, inbox = smtp_server
    app = make_app(migrated, MAIL_SUPPRESS_SEND=False, MAIL_PORT=port)
    d = district("boston", "boston_esp")
    ana = make_user(d.tenant, "teacher", email="ana@boston.org")
    ben = make_user(d.tenant, "teacher", email="ben@boston.org")
    _offer(app, d.tenant, ["en", "es"])
    _prefer(app, d.tenant, ana, "es")
    with app.app_context(), tenant_scope(d.tenant.id):
        for person in (ana, ben):
            password_resets.request_reset(d.tenant.id, person.email)
            db.session.get(User, person.id).locked_until = utcnow() + timedelta(minutes=15)
        uow.commit()
        for reset in db.session.execute(select(PasswordReset)).scalars().all():
            send_password_reset({"reset_id": reset.id}, f"reset-{reset.id}")
        for person in (ana, ben):
            send_account_locked({"user_id": person.id}, f"locked-{person.id}")
    from email.header import decode_header, make_header

    mails = {
        (m["To"], str(make_header(decode_header(m["Subject"])))): m.get_payload(
            decode=True
        ).decode()
        for m in inbox
    }
    subjects = sorted(subject for _, subject in mails)
    assert subjects == sorted(
        [
            "Boston Schools: elija una contraseña nueva",
            "Boston Schools: acceso bloqueado",
            "Boston Schools: choose a new password",
            "Boston Schools: sign-in locked",
        ]
    ), subjects
    reset_es = mails[("ana@boston.org", "Boston Schools: elija una contraseña nueva")]
    assert "el enlace funciona una sola vez" in reset_es
    locked_es = mails[("ana@boston.org", "Boston Schools: acceso bloqueado")]
    assert "Se desbloquea sola a las" in locked_es and "locked" not in locked_es
    assert "It unlocks by itself at" in mails[("ben@boston.org", "Boston Schools: sign-in locked")]


def test_a_forms_own_messages_follow_each_requests_language(app, boston):
    """WTForms' messages come from a catalogue read once per language, never the language
    of an earlier request."""
    client = app.test_client()
    for language, message, other in (
        ("es", "No es un valor entero válido.", "Not a valid integer value."),
        ("en", "Not a valid integer value.", "No es un valor entero válido."),
        ("es", "No es un valor entero válido.", "Not a valid integer value."),
    ):
        form = client.get(f"/t/{boston.slug}/enroll?lang={language}")
        refused = client.post(
            f"/t/{boston.slug}/enroll?lang={language}",
            data={"csrf_token": csrf_token(form.text), "years_of_service": "twelve"},
        )
        assert refused.status_code == 400
        assert message in refused.text and other not in refused.text
