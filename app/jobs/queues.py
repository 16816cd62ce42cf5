"""RQ queues on the configured Redis, the retry policy every job gets, and what RQ
counts as running.

A process keeps one Redis client per configured URL (``connection``), so the relay, the
sweep and the worker reuse one pooled connection instead of opening one per call; the
relay hands a whole batch of outbox rows over in one pipelined transaction
(``enqueue_batches``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

from flask import current_app
from redis import Redis
from rq import Queue, Retry
from rq.executions import Execution
from rq.job import Job
from rq.registry import StartedJobRegistry
from rq.utils import current_timestamp

from app.core.redis import redis_connection

#: Back-off between attempts; after the last one the job lands in RQ's failed registry.
RETRY = Retry(max=4, interval=[10, 60, 300, 900])
#: The function every job runs: it takes its outbox rows' ids and runs each row.
RUNNER = "app.jobs.runner.run_messages"

_clients: dict[str, Redis] = {}
_queues: dict[tuple[str, str], Queue] = {}
_lock = threading.Lock()


def shared_connection() -> Redis:
    """This process's client for the configured Redis, made on first use.

    A client is a pool: each thread takes a connection from it, and after a fork the pool
    opens new ones (redis-py checks the process id), so one client serves the process.
    """
    url = current_app.config["REDIS_URL"]
    client = _clients.get(url)
    if client is None:
        with _lock:
            client = _clients.setdefault(url, redis_connection())
    return client


def queue(name: str, connection: Redis | None = None) -> Queue:
    """The queue ``name``; on the shared connection, the same object each time (RQ asks the
    server for its version once per queue object, and once is enough)."""
    if connection is not None:
        return Queue(name, connection=connection)
    key = (current_app.config["REDIS_URL"], name)
    found = _queues.get(key)
    if found is None:
        made = Queue(name, connection=shared_connection())
        with _lock:
            found = _queues.setdefault(key, made)
    return found


def enqueue_batches(jobs: Sequence[tuple[str, list[str]]]) -> None:
    """Hand ``(queue name, outbox ids)`` jobs to RQ in one pipelined transaction.

    Each job's id is its first row's id, so a batch handed over again (a lost
    acknowledgement) rewrites the same job rather than adding one; its queue may then
    list the id twice, and the second run finds its rows taken and stops. Either every
    job is stored or, if Redis fails, none is and the caller keeps its rows pending.
    """
    by_queue: dict[str, list[list[str]]] = {}
    for name, ids in jobs:
        by_queue.setdefault(name, []).append(ids)
    with shared_connection().pipeline() as pipeline:
        for name, batches in by_queue.items():
            queue(name).enqueue_many(
                [
                    Queue.prepare_data(
                        RUNNER,
                        (ids,),
                        job_id=ids[0],
                        # Each row keeps the time it would have had as a job of its own.
                        timeout=Queue.DEFAULT_TIMEOUT * len(ids),
                        retry=RETRY,
                        result_ttl=86400,
                        failure_ttl=7 * 86400,
                    )
                    for ids in batches
                ],
                pipeline=pipeline,
            )
        pipeline.execute()


def job_exists(job_id: str) -> bool:
    return Job.exists(job_id, connection=shared_connection())


#: One entry of a StartedJobRegistry: the queue's name and ``job_id:execution_id``.
StartedEntry = tuple[str, str]


def started_jobs(queue_names: Iterable[str]) -> tuple[set[str], dict[str, list[StartedEntry]]]:
    """Jobs RQ counts as started on these queues, split by whether a worker still beats.

    Each queue's StartedJobRegistry is a sorted set of ``job_id:execution_id`` entries
    scored by the time they expire; a worker's heartbeat pushes that time ahead. Returns
    the ids of jobs with a live entry, and for every other job its expired entries.
    """
    redis = shared_connection()
    now = current_timestamp()
    registries = [StartedJobRegistry(name, connection=redis) for name in queue_names]
    with redis.pipeline() as pipeline:
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
    redis = shared_connection()
    with redis.pipeline() as pipeline:
        for name, key in entries:
            StartedJobRegistry(name, connection=redis).remove_execution(
                Execution.from_composite_key(key, redis), pipeline=pipeline
            )
        pipeline.execute()
