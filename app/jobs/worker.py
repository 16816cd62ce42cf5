"""The RQ worker process: one app per process, every queue, the scheduler for retries.

A worker that dies (``kill -9``, out of memory, a lost machine) cannot say so; RQ learns
it from heartbeats that stop. Ours beat every few seconds while a job runs, with a short
expiry, so the outbox sweep (``app.jobs.relay``) sees within seconds that a job's worker
is gone and runs the job again; and the scheduler process the worker starts ends with it.
"""

from __future__ import annotations

import os
import threading
import time
from contextlib import contextmanager
from functools import cache

from flask import Flask
from rq import SimpleWorker
from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT
from rq.scheduler import RQScheduler
from rq.worker import WorkerStatus

from app.services import mailer

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
    before it counts as abandoned. One thread per worker beats here instead, every
    ``heartbeat_ttl / BEATS_PER_TTL`` seconds, for the job running then, so the expiry
    can be short (a thread started per job cost more than a notification's SQL).

    RQ also beats for the worker itself three times per job, two commands each, besides the
    beat its suspension check sends: a beat is skipped while the worker's key still lives as
    long as it would set (``heartbeat``), the idle state goes with the beat after a job
    (``execute_job``), and a state the worker already holds is not written again. Each round
    trip to Redis cost about as much as one of the job's SQL statements.
    """

    def __init__(self, *args, app: Flask, heartbeat_ttl: int = HEARTBEAT_TTL, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.app = app
        self.heartbeat_ttl = heartbeat_ttl
        #: Held while a beat is sent, and to change the job beaten for.
        self._beat_lock = threading.Lock()
        self._beat_job = None
        self._beater: threading.Thread | None = None
        self._closing = threading.Event()
        #: When (``time.monotonic``) the worker's key expires, as the latest beat set it.
        self._key_expires_at = 0.0

    def get_heartbeat_ttl(self, job) -> int:
        return self.heartbeat_ttl

    def perform_job(self, job, queue) -> bool:
        with self.app.app_context(), self._beating(job):
            return super().perform_job(job, queue)

    def execute_job(self, job, queue) -> None:
        """RQ's own steps (SimpleWorker's), with the idle state and the worker's beat that
        follow a job sent together: the beat RQ sends next then finds its work done."""
        self.prepare_execution(job)
        self.perform_job(job, queue)
        with self.connection.pipeline(transaction=False) as pipeline:
            self.set_state(WorkerStatus.IDLE, pipeline=pipeline)
            self.heartbeat(pipeline=pipeline)
            pipeline.execute()

    def handle_execution_ended(self, job, queue, heartbeat_ttl) -> None:
        # RQ removes the job's execution next: no beat may land after that and bring it back.
        self._stop_beating()
        super().handle_execution_ended(job, queue, heartbeat_ttl)

    def heartbeat(self, timeout: int | None = None, pipeline=None) -> None:
        """Keep the worker's key alive ``timeout`` seconds, in one round trip, unless it
        already lives that long (a beat a moment ago). Pipelined beats always go out."""
        timeout = timeout or self.worker_ttl + 60
        now = time.monotonic()
        if pipeline is not None:
            super().heartbeat(timeout, pipeline=pipeline)
        elif self._key_expires_at - now >= timeout - 1:
            return
        else:
            with self.connection.pipeline(transaction=False) as beat:
                super().heartbeat(timeout, pipeline=beat)
                beat.execute()
        # The latest EXPIRE wins, even a shorter one.
        self._key_expires_at = now + timeout

    def set_state(self, state: str, pipeline=None) -> None:
        if pipeline is None and state == self._state:
            return
        super().set_state(state, pipeline=pipeline)

    def teardown(self) -> None:
        self._closing.set()
        if self._beater is not None:
            self._beater.join()
        self._beater = None
        self._closing.clear()
        mailer.close_session()
        super().teardown()

    @contextmanager
    def _beating(self, job):
        if self._beater is None:
            self._beater = threading.Thread(
                target=self._beat, name=f"heartbeat {self.name}", daemon=True
            )
            self._beater.start()
        with self._beat_lock:
            self._beat_job = job
        try:
            yield
        finally:
            self._stop_beating()

    def _beat(self) -> None:
        while not self._closing.wait(self.heartbeat_ttl / BEATS_PER_TTL):
            with self._beat_lock:
                job = self._beat_job
                if job is None:
                    continue
                try:
                    self.maintain_heartbeats(job)
                except Exception as exc:  # a missed beat is survivable; the next one may land
                    self.log.warning(
                        "Worker %s: heartbeat for %s failed: %s", self.name, job.id, exc
                    )

    def _stop_beating(self) -> None:
        # Waits for a beat in flight: none lands once this returns.
        with self._beat_lock:
            self._beat_job = None

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


def run_worker(
    app: Flask,
    *,
    burst: bool = False,
    heartbeat_ttl: int = HEARTBEAT_TTL,
    queue_names: tuple[str, ...] = (),
) -> bool:
    """Work ``queue_names`` (every configured queue when empty). A worker per queue keeps a
    long export from holding up a notice. ``with_scheduler`` is what makes retries happen."""
    from app.jobs.queues import queue, shared_connection

    names = queue_names or tuple(app.config["RQ_QUEUES"])
    unknown = sorted(set(names) - set(app.config["RQ_QUEUES"]))
    if unknown:
        raise ValueError(
            f"no queue named {', '.join(unknown)} (queues: {', '.join(app.config['RQ_QUEUES'])})"
        )
    with app.app_context():
        connection = shared_connection()
        queues = [queue(name, connection) for name in names]
        worker = AppWorker(queues, connection=connection, app=app, heartbeat_ttl=heartbeat_ttl)
        return worker.work(burst=burst, with_scheduler=True)
