"""The RQ worker process: one app per process, every queue, the scheduler for retries.

A worker that dies (``kill -9``, out of memory, a lost machine) cannot say so; RQ learns
it from heartbeats that stop. Ours beat every few seconds while a job runs, with a short
expiry, so the outbox sweep (``app.jobs.relay``) sees within seconds that a job's worker
is gone and runs the job again; and the scheduler process the worker starts ends with it.
"""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from functools import cache

from flask import Flask
from rq import SimpleWorker
from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT
from rq.scheduler import RQScheduler

#: Seconds a job counts as started in RQ's StartedJobRegistry after its worker's last beat.
HEARTBEAT_TTL = 20
#: Beats per expiry: three may be missed (a long pause, a slow Redis) before a job is lost.
BEATS_PER_TTL = 4


@cache
def worker_app() -> Flask:
    """The app a worker's jobs run in (built once per process)."""
    from app import create_app

    return create_app()


class _SchedulerOfWorker(RQScheduler):
    """RQ's scheduler process (it enqueues retries when their time comes), bound to its worker.

    RQ forks it from the worker and stops it when the worker stops, but a worker killed
    outright never does: the scheduler carried on alone, holding the queues' scheduler
    locks, for as long as nobody noticed. It now looks up its parent on each round (once a
    second) and, once the worker is gone, stops the way a stop request would, releasing
    the locks so the next worker's scheduler takes over.
    """

    def start(self):
        self._worker_pid = os.getpid()
        return super().start()

    def heartbeat(self) -> None:
        if os.getppid() != self._worker_pid:
            self.log.warning("Scheduler: worker %s is gone, stopping", self._worker_pid)
            self.request_stop()
            return
        super().heartbeat()


class AppWorker(SimpleWorker):
    """Runs each job in the worker's own process, inside a fresh app context.

    RQ's default worker forks a child per job, so every job started cold: a new
    database connection, the district's configuration validated again, the mail
    templates compiled again. That cost about 0.4 s per notification (measured by
    ``bench/mail.py``: 1.4 notifications a second). Here the connection pool and
    those caches live as long as the worker, while each job still gets its own app
    context and so its own database session, as it would in a child process.

    RQ's forking worker beats for its child while the job runs; a worker that runs the
    job itself cannot, so RQ gives such a job the job's whole timeout plus a minute
    before it counts as abandoned. A thread beats here instead, every
    ``heartbeat_ttl / BEATS_PER_TTL`` seconds, so the expiry can be short.
    """

    def __init__(self, *args, app: Flask, heartbeat_ttl: int = HEARTBEAT_TTL, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.app = app
        self.heartbeat_ttl = heartbeat_ttl
        self._beats: threading.Event | None = None
        self._beater: threading.Thread | None = None

    def get_heartbeat_ttl(self, job) -> int:
        return self.heartbeat_ttl

    def perform_job(self, job, queue) -> bool:
        with self.app.app_context(), self._beating(job):
            return super().perform_job(job, queue)

    def handle_execution_ended(self, job, queue, heartbeat_ttl) -> None:
        # RQ removes the job's execution next: no beat may land after that and bring it back.
        self._stop_beating()
        super().handle_execution_ended(job, queue, heartbeat_ttl)

    @contextmanager
    def _beating(self, job):
        stop = threading.Event()
        self._beats = stop
        self._beater = threading.Thread(
            target=self._beat, args=(job, stop), name=f"heartbeat {job.id}", daemon=True
        )
        self._beater.start()
        try:
            yield
        finally:
            self._stop_beating()

    def _beat(self, job, stop: threading.Event) -> None:
        while not stop.wait(self.heartbeat_ttl / BEATS_PER_TTL):
            try:
                self.maintain_heartbeats(job)
            except Exception as exc:  # a missed beat is survivable; the next one may land
                self.log.warning("Worker %s: heartbeat for %s failed: %s", self.name, job.id, exc)

    def _stop_beating(self) -> None:
        if self._beats is not None:
            self._beats.set()
            self._beater.join()
            self._beats = self._beater = None

    def _start_scheduler(
        self,
        burst: bool = False,
        logging_level: str | None = "INFO",
        date_format: str = DEFAULT_LOGGING_DATE_FORMAT,
        log_format: str = DEFAULT_LOGGING_FORMAT,
    ) -> None:
        """RQ's own start of its scheduler (rq 2.x), with the scheduler that ends with us."""
        self.scheduler = _SchedulerOfWorker(
            self.queues,
            connection=self.connection,
            logging_level=logging_level if logging_level is not None else self.log.level,
            date_format=date_format,
            log_format=log_format,
            serializer=self.serializer,
        )
        self.scheduler.acquire_locks()
        if self.scheduler.acquired_locks:
            if burst:
                try:
                    self.scheduler.register_birth()
                    self.scheduler.enqueue_scheduled_jobs()
                finally:
                    self.scheduler.release_locks()
                    self.scheduler.register_death()
            else:
                self.scheduler.start()


def run_worker(app: Flask, *, burst: bool = False, heartbeat_ttl: int = HEARTBEAT_TTL) -> bool:
    """Work the configured queues. ``--with-scheduler`` is what makes retries happen."""
    from app.core.redis import redis_connection
    from app.jobs.queues import queue

    with app.app_context():
        connection = redis_connection()
        queues = [queue(name, connection) for name in app.config["RQ_QUEUES"]]
        worker = AppWorker(queues, connection=connection, app=app, heartbeat_ttl=heartbeat_ttl)
        return worker.work(burst=burst, with_scheduler=True)
