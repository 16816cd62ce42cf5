"""What the health check asks: can the database and the queue's Redis answer, now (and the
replica, which the machine can do without).

A load balancer waits about 2 s for ``/healthz`` and takes silence for a dead machine, so
each probe has its own deadline and together they stay under it. A part that is down
or slower than its deadline is reported as an error under its own name; no probe waits
for the app's connect or statement timeouts, which are made for requests, not for this.
"""

from __future__ import annotations

import asyncio

import psycopg
from flask import current_app
from redis import Redis
from redis.exceptions import TimeoutError as RedisTimeout
from sqlalchemy import text

from app.extensions import db

#: Seconds each probe may take; together they stay under the 2 s a load balancer waits.
DATABASE_DEADLINE = 1.0
REDIS_DEADLINE = 0.5
REPLICA_DEADLINE = 0.4


def database() -> str:
    """``ok``, or the kind of error the database gave, or that it did not answer in time.

    PostgreSQL is asked on a connection of the probe's own, made as the app makes its
    own (the URL, then the configured ``connect_args``), not one from the pool: the pool
    would wait for its connect timeout (libpq's shortest is 2 s) and a pooled connection's
    socket cannot be given a deadline. The probe runs on a small event loop that gives up
    at :data:`DATABASE_DEADLINE` and closes what it opened.
    """
    if db.engine.url.get_backend_name() != "postgresql":
        return _ask_session()
    try:
        _probe(db.engine, "SELECT 1", DATABASE_DEADLINE)
    except TimeoutError:
        return f"error: no answer within {DATABASE_DEADLINE:g} s"
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return "ok"


def _probe(engine, sql: str, deadline: float):
    """The first value ``sql`` answers on a connection of the probe's own to ``engine``."""
    _, params = engine.dialect.create_connect_args(engine.url)
    params.update(current_app.config["SQLALCHEMY_ENGINE_OPTIONS"].get("connect_args", {}))
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(asyncio.wait_for(_ask_postgresql(params, sql), deadline))
    finally:
        # Unlike asyncio.run, close() does not wait for a host name lookup still stuck in
        # its thread: the answer is due now.
        loop.close()


async def _ask_postgresql(params: dict, sql: str):
    conn = await psycopg.AsyncConnection.connect(**params, autocommit=True)
    try:
        cursor = await conn.execute(sql)
        return (await cursor.fetchone())[0]
    finally:
        await conn.close()


def replica() -> str | None:
    """None without a replica; ``ok``; how far it trails; or that it is down and reads go to
    the primary. Not a failure of the machine: its pages still answer, from the primary."""
    from app.tenants import replica as replicas

    if not replicas.configured():
        return None
    engine = db.engines[replicas.REPLICA_BIND]
    try:
        lag = float(_probe(engine, str(replicas.LAG_SQL), REPLICA_DEADLINE))
    except Exception as exc:
        replicas.mark(engine, down=True)
        reason = "no answer" if isinstance(exc, TimeoutError) else type(exc).__name__
        return f"down ({reason}): reads go to the primary"
    replicas.mark(engine, down=False)
    if lag > current_app.config["REPLICA_LAG_NOTICE_SECONDS"]:
        return f"lagging {lag:.0f} s"
    return "ok"


def _ask_session() -> str:
    # SQLite is a local file: it cannot hang on a network, so the session asks it.
    try:
        db.session.execute(text("SELECT 1"))
        return "ok"
    except Exception as exc:
        db.session.rollback()
        return f"error: {type(exc).__name__}"


def redis() -> str:
    """``ok``, or the kind of error Redis gave, or that it did not answer in time.

    The queues' client (``app.core.redis``) waits up to 5 s for a reply, which suits a job;
    the probe's own client waits :data:`REDIS_DEADLINE` for the connection and the reply.
    """
    client = Redis.from_url(
        current_app.config["REDIS_URL"],
        socket_connect_timeout=REDIS_DEADLINE,
        socket_timeout=REDIS_DEADLINE,
    )
    try:
        client.ping()
        return "ok"
    except RedisTimeout:
        return f"error: no answer within {REDIS_DEADLINE:g} s"
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    finally:
        client.close()


def report() -> tuple[dict, bool]:
    """Every part's answer, the parts that are down by name, and whether all are healthy."""
    checks = {"database": database()}
    if current_app.config.get("REDIS_URL"):
        checks["redis"] = redis()
    down = [part for part, answer in checks.items() if answer != "ok"]
    body = {"status": "degraded" if down else "ok", "down": down, **checks}
    found = replica()
    if found is not None:
        body["replica"] = found
    return body, not down
