"""RQ queues on the configured Redis, the retry policy every job gets, and what RQ
counts as running."""

from __future__ import annotations

from collections.abc import Iterable

from redis import Redis
from rq import Queue, Retry
from rq.executions import Execution
from rq.job import Job
from rq.registry import StartedJobRegistry
from rq.utils import current_timestamp

from app.core.redis import redis_connection
from app.models.outbox import OutboxMessage

#: Back-off between attempts; after the last one the job lands in RQ's failed registry.
RETRY = Retry(max=4, interval=[10, 60, 300, 900])


def queue(name: str, connection: Redis | None = None) -> Queue:
    return Queue(name, connection=connection or redis_connection())


def enqueue_message(message: OutboxMessage) -> None:
    queue(message.queue).enqueue(
        "app.jobs.runner.run_message",
        message.id,
        job_id=message.id,
        retry=RETRY,
        result_ttl=86400,
        failure_ttl=7 * 86400,
    )


def job_exists(job_id: str) -> bool:
    return Job.exists(job_id, connection=redis_connection())


#: One entry of a StartedJobRegistry: the queue's name and ``job_id:execution_id``.
StartedEntry = tuple[str, str]


def started_jobs(queue_names: Iterable[str]) -> tuple[set[str], dict[str, list[StartedEntry]]]:
    """Jobs RQ counts as started on these queues, split by whether a worker still beats.

    Each queue's StartedJobRegistry is a sorted set of ``job_id:execution_id`` entries
    scored by the time they expire; a worker's heartbeat pushes that time ahead. Returns
    the ids of jobs with a live entry, and for every other job its expired entries.
    """
    connection = redis_connection()
    now = current_timestamp()
    registries = [StartedJobRegistry(name, connection=connection) for name in queue_names]
    with connection.pipeline() as pipeline:
        for registry in registries:
            pipeline.zrangebyscore(registry.key, f"({now}", "+inf")
            pipeline.zrangebyscore(registry.key, 0, now)
        answers = pipeline.execute()
    live: set[str] = set()
    expired: dict[str, list[StartedEntry]] = {}
    for n, registry in enumerate(registries):
        live.update(registry.parse_job_id(entry) for entry in answers[2 * n])
        for entry in answers[2 * n + 1]:
            key = entry.decode() if isinstance(entry, bytes) else entry
            expired.setdefault(registry.parse_job_id(key), []).append((registry.name, key))
    return live, {job_id: entries for job_id, entries in expired.items() if job_id not in live}


def forget_started(entries: Iterable[StartedEntry]) -> None:
    """Take expired entries (from ``started_jobs``) out of their registries, so RQ does not
    retry on its own a job the outbox has already handed over again."""
    connection = redis_connection()
    with connection.pipeline() as pipeline:
        for name, key in entries:
            StartedJobRegistry(name, connection=connection).remove_execution(
                Execution.from_composite_key(key, connection), pipeline=pipeline
            )
        pipeline.execute()
