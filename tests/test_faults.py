"""Faults under the app: connections killed beneath the pool, a database or Redis that
accepts and never answers, a statement that runs too long, an evidence store that is full
or read-only. Each ends in a clear answer within seconds and leaves nothing behind."""

from __future__ import annotations

import errno
import io
import os
import re
import socket
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError

from app.core import uow
from app.extensions import db
from app.models.audit import AuditEvent
from app.models.case import Case
from app.models.support import Evidence
from app.services import storage
from app.tenants.context import tenant_scope
from app.tenants.rls import app_role_name
from config import ConfigurationError, load_settings
from tests.casework import Api, Browser
from tests.conftest import make_app

STORE_REFUSED = "The evidence store is full or read-only; nothing was saved."
PDF_BYTES = b"%PDF-1.4\n1 0 obj <<>> endobj\n%%EOF\n"
#: Well past every deadline under test: a request still running then is hanging.
HANG = 10.0


@pytest.fixture
def own_app(migrated) -> Iterator[Callable]:
    """``own_app(**settings)``: an app of its own (so a fault stays in it), disposed after."""
    made = []

    def _make(**overrides):
        app = make_app(migrated, PROPAGATE_EXCEPTIONS=False, **overrides)
        made.append(app)
        return app

    yield _make
    for app in made:
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def silent_server() -> Iterator[int]:
    """The port of a server that accepts connections and never answers a byte: a database
    or Redis whose process hangs, or a network that swallows replies."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []

    def hold() -> None:
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:  # the listener was closed: the test is over
                return

    thread = threading.Thread(target=hold, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    listener.shutdown(socket.SHUT_RDWR)
    listener.close()
    thread.join(5)
    for conn in held:
        conn.close()


def _timed(call: Callable, limit: float = HANG):
    """``call()``'s result and how long it took; a failure, not a hung suite, past ``limit``."""
    answer: dict = {}

    def run() -> None:
        try:
            answer["value"] = call()
        except BaseException as exc:  # handed to the test below
            answer["error"] = exc

    started = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(limit)
    elapsed = time.monotonic() - started
    assert not worker.is_alive(), f"still waiting after {limit:g} s"
    if "error" in answer:
        raise answer["error"]
    return answer["value"], elapsed


@pytest.fixture
def toledo(district):
    return district("toledo", "toledo")


# Engine options ----------------------------------------------------------------------------


@pytest.mark.parametrize("env_name", ["development", "testing", "production"])
def test_every_environment_tests_pooled_connections_and_bounds_waits(env_name, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://parley_app@db/parley")
    monkeypatch.setenv("PLATFORM_DATABASE_URL", "postgresql://parley_platform@db/parley")
    monkeypatch.setenv("SECRET_KEY", "x" * 64)
    monkeypatch.delenv("DATABASE_CONNECT_TIMEOUT", raising=False)
    monkeypatch.delenv("DATABASE_STATEMENT_TIMEOUT", raising=False)
    options = load_settings(env_name)["SQLALCHEMY_ENGINE_OPTIONS"]
    # Pooled connections are checked by app.core.pooled, without pre-ping's round trip.
    assert "pool_pre_ping" not in options
    assert options["connect_args"] == {
        "connect_timeout": 5,
        "options": "-c statement_timeout=30000",
    }


def test_timeouts_come_from_the_environment_and_keep_other_server_options(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://parley_app@db/parley")
    monkeypatch.setenv("DATABASE_CONNECT_TIMEOUT", "3")
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT", "12")
    given = {"connect_args": {"options": "-c timezone=UTC"}, "pool_size": 2}
    options = load_settings("development", {"SQLALCHEMY_ENGINE_OPTIONS": given})[
        "SQLALCHEMY_ENGINE_OPTIONS"
    ]
    assert options == {
        "pool_size": 2,
        "connect_args": {
            "connect_timeout": 3,
            "options": "-c statement_timeout=12000 -c timezone=UTC",
        },
    }
    assert given == {"connect_args": {"options": "-c timezone=UTC"}, "pool_size": 2}


def test_a_statement_timeout_of_0_leaves_the_roles_own_in_force(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://parley_app@db/parley")
    monkeypatch.setenv("DATABASE_STATEMENT_TIMEOUT", "0")
    monkeypatch.delenv("DATABASE_CONNECT_TIMEOUT", raising=False)
    options = load_settings("development")["SQLALCHEMY_ENGINE_OPTIONS"]
    assert options["connect_args"] == {"connect_timeout": 5}


@pytest.mark.parametrize(
    "name, value, says",
    [
        ("DATABASE_CONNECT_TIMEOUT", "0", "must be at least 1 second"),
        ("DATABASE_STATEMENT_TIMEOUT", "-1", "must be 0 (the app sets none) or more"),
    ],
)
def test_a_timeout_that_cannot_work_is_refused_by_name(monkeypatch, name, value, says):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError, match=rf"^{name}: {re.escape(says)}"):
        load_settings("development")


def test_sqlite_gets_no_engine_options(monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert load_settings("development")["SQLALCHEMY_ENGINE_OPTIONS"] == {}


# Connections killed beneath the pool ---------------------------------------------------------


def test_connections_killed_beneath_the_pool_fail_no_request(own_app, toledo, owner_engine):
    """A failover, a restart or an idle timeout in between closes pooled connections; the
    next requests must get fresh ones, not the dead ones' 500s."""
    app = own_app(SQLALCHEMY_ENGINE_OPTIONS={})  # what production is given: nothing
    coordinator = Browser(app, toledo, toledo.people["coordinator"])
    with app.app_context():
        held = [db.engine.connect() for _ in range(3)]  # a pool of several, as under load
        for conn in held:
            conn.close()
    with owner_engine.connect() as owner:
        killed = owner.execute(
            text(
                "SELECT count(pg_terminate_backend(pid, 5000)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND usename = :role"
            ),
            {"role": app_role_name()},
        ).scalar()
    assert killed >= 3

    statuses = [coordinator.get("/cases/").status_code for _ in range(20)]
    assert [s for s in statuses if s >= 500] == []
    assert set(statuses) == {200}


# A database or Redis that accepts and never answers ------------------------------------------


@pytest.mark.parametrize(
    "hanging",
    [(), ("database",), ("redis",), ("database", "redis")],
    ids=["nothing", "database", "redis", "both"],
)
def test_healthz_names_what_does_not_answer_within_two_seconds(
    own_app, migrated, redis_url, silent_server, hanging
):
    silent = f"127.0.0.1:{silent_server}"
    app = own_app(
        SQLALCHEMY_DATABASE_URI=(
            f"postgresql+psycopg://parley@{silent}/parley"
            if "database" in hanging
            else migrated["app"]
        ),
        REDIS_URL=f"redis://{silent}/0" if "redis" in hanging else redis_url,
    )
    response, elapsed = _timed(lambda: app.test_client().get("/healthz"))
    assert elapsed < 3, f"/healthz took {elapsed:.1f} s"
    down = {part for part in ("database", "redis") if response.json[part] != "ok"}
    assert down == set(hanging), response.json
    assert response.json["down"] == [p for p in ("database", "redis") if p in hanging]
    assert response.status_code == (503 if hanging else 200)
    assert response.json["status"] == ("degraded" if hanging else "ok")


def test_a_request_to_a_database_that_never_answers_is_a_503_at_the_connect_timeout(
    own_app, silent_server
):
    """Without a connect timeout the worker waits minutes (until gunicorn kills it)."""
    app = own_app(
        SQLALCHEMY_DATABASE_URI=f"postgresql+psycopg://parley@127.0.0.1:{silent_server}/parley",
        DATABASE_CONNECT_TIMEOUT=2,
    )
    response, elapsed = _timed(lambda: app.test_client().get("/t/toledo/login"))
    assert response.status_code == 503
    assert "did not answer in time" in response.text
    assert response.headers["Retry-After"] == "5"
    assert elapsed < 5, f"the request took {elapsed:.1f} s"
    api, elapsed = _timed(lambda: app.test_client().get("/api/v1/t/toledo/cases"))
    assert api.status_code == 503
    assert "did not answer in time" in api.json["errors"]["_schema"][0]
    assert elapsed < 5, f"the request took {elapsed:.1f} s"


def test_a_statement_past_the_statement_timeout_is_cancelled_with_a_clear_error(own_app):
    app = own_app(DATABASE_STATEMENT_TIMEOUT=1)

    def sleep_too_long():
        with app.app_context():
            try:
                db.session.execute(text("SELECT pg_sleep(5)"))
            except OperationalError as exc:
                db.session.rollback()
                after = db.session.execute(text("SELECT 1")).scalar()
                return exc, after
            return None, None

    (refused, after), elapsed = _timed(sleep_too_long)
    assert refused is not None, "pg_sleep(5) ran to its end"
    assert refused.orig.sqlstate == "57014"  # query_canceled
    assert "canceling statement due to statement timeout" in str(refused.orig)
    assert elapsed < 4
    assert after == 1  # the connection is fine for the next statement


# An evidence store that is full or read-only -------------------------------------------------


def _ct_case(app, toledo, make_user, make_case) -> int:
    teacher = make_user(toledo.tenant, "teacher")
    case = make_case(toledo.tenant, teacher, "intervention")
    with app.app_context(), tenant_scope(toledo.tenant.id):
        row = db.session.get(Case, case.id)
        row.ct_id, row.state = toledo.people["ct"].id, "support"
        uow.commit()
    return case.id


def _rows(app, toledo) -> tuple[int, int]:
    with app.app_context(), tenant_scope(toledo.tenant.id):
        return (
            db.session.execute(select(func.count(Evidence.id))).scalar(),
            db.session.execute(select(func.count(AuditEvent.id))).scalar(),
        )


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


def _break_store(fault: str, root: Path, monkeypatch) -> None:
    """Make the store refuse writes: a full volume fails mid-write; a read-only one fails
    to create the file (by its mode where that binds; root ignores modes, so then the
    creation fails as a read-only mount would make it)."""
    if fault == "full":

        def fill_up(stream, out, max_bytes):
            out.write(PDF_BYTES[:8])  # some bytes reached the disk before it filled
            out.flush()
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(storage, "_copy", fill_up)
    elif os.geteuid() != 0:
        for path in [root, *root.rglob("*")]:
            if path.is_dir():
                path.chmod(stat.S_IRUSR | stat.S_IXUSR)
    else:

        def read_only(*args, **kwargs):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))

        monkeypatch.setattr(storage, "tempfile", SimpleNamespace(mkstemp=read_only))


@pytest.mark.parametrize("fault", ["full", "read-only"])
@pytest.mark.parametrize("door", ["page", "api"])
def test_a_store_that_cannot_write_refuses_evidence_and_keeps_nothing(
    own_app, toledo, make_user, make_case, tmp_path, monkeypatch, fault, door
):
    root = tmp_path / "uploads"
    app = own_app(UPLOAD_ROOT=str(root))
    case_id = _ct_case(app, toledo, make_user, make_case)
    ct = toledo.people["ct"]
    upload = {"text": "Lesson plan", "file": (io.BytesIO(PDF_BYTES), "plan.pdf")}
    client = Browser(app, toledo, ct) if door == "page" else Api(app, toledo, ct)
    storage.storage_for(app).save(toledo.tenant.id, io.BytesIO(PDF_BYTES), "earlier.pdf", 1024)
    earlier = _files(root)
    before = _rows(app, toledo)
    _break_store(fault, root, monkeypatch)
    try:
        if door == "page":
            response = client.post(
                f"/cases/{case_id}",
                f"/cases/{case_id}/evidence",
                upload,
                content_type="multipart/form-data",
            )
            assert response.status_code == 507, response.text[:2000]
            beside = response.text.split('id="file-errors">', 1)[-1].split("</ul>", 1)[0]
            assert STORE_REFUSED in beside, response.text[:2000]
        else:
            response = client.post(
                f"/cases/{case_id}/evidence", data=upload, content_type="multipart/form-data"
            )
            assert response.status_code == 507, response.text[:2000]
            assert response.json == {"errors": {"file": [STORE_REFUSED]}}
    finally:
        for path in [root, *root.rglob("*")]:
            if path.is_dir():
                path.chmod(stat.S_IRWXU)
    assert _rows(app, toledo) == before
    assert _files(root) == earlier  # no orphan, not even a partial one
