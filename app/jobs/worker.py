"""The RQ worker process: one app per process, every queue, the scheduler for retries."""

from __future__ import annotations

from functools import cache

from flask import Flask


@cache
def worker_app() -> Flask:
    """The app a worker's jobs run in (built once per process)."""
    from app import create_app

    return create_app()


def run_worker(app: Flask, *, burst: bool = False) -> bool:
    """Work the configured queues. ``--with-scheduler`` is what makes retries happen."""
    from rq import Worker

    from app.jobs.queues import queue, redis_connection

    with app.app_context():
        connection = redis_connection()
        queues = [queue(name, connection) for name in app.config["RQ_QUEUES"]]
        worker = Worker(queues, connection=connection)
        return worker.work(burst=burst, with_scheduler=True)
