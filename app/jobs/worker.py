"""The RQ worker process: one app per process, every queue, the scheduler for retries."""

from __future__ import annotations

from functools import cache

from flask import Flask
from rq import SimpleWorker


@cache
def worker_app() -> Flask:
    """The app a worker's jobs run in (built once per process)."""
    from app import create_app

    return create_app()


class AppWorker(SimpleWorker):
    """Runs each job in the worker's own process, inside a fresh app context.

    RQ's default worker forks a child per job, so every job started cold: a new
    database connection, the district's configuration validated again, the mail
    templates compiled again. That cost about 0.4 s per notification (measured by
    ``bench/mail.py``: 1.4 notifications a second). Here the connection pool and
    those caches live as long as the worker, while each job still gets its own app
    context and so its own database session, as it would in a child process.
    """

    def __init__(self, *args, app: Flask, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.app = app

    def perform_job(self, job, queue) -> bool:
        with self.app.app_context():
            return super().perform_job(job, queue)


def run_worker(app: Flask, *, burst: bool = False) -> bool:
    """Work the configured queues. ``--with-scheduler`` is what makes retries happen."""
    from app.core.redis import redis_connection
    from app.jobs.queues import queue

    with app.app_context():
        connection = redis_connection()
        queues = [queue(name, connection) for name in app.config["RQ_QUEUES"]]
        worker = AppWorker(queues, connection=connection, app=app)
        return worker.work(burst=burst, with_scheduler=True)
