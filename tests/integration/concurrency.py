"""Work run in separate processes (spawned, so each builds its own engine from a URL).

The functions live here, not in a test module, so that a spawned interpreter imports only
what it needs.
"""

from __future__ import annotations

import multiprocessing
import traceback
from collections.abc import Callable
from multiprocessing.synchronize import Barrier
from typing import Any

BARRIER_TIMEOUT = 60
JOIN_TIMEOUT = 120


def append_audit_events(database_url: str, worker: int, count: int, barrier: Barrier) -> None:
    from ged.adapters.db import make_engine, make_sessionmakers
    from ged.adapters.uow import UnitOfWork
    from ged.domain.model import AuditAction
    from ged.services.audit import Actor, record

    engine = make_engine(database_url)
    try:
        writer, _ = make_sessionmakers(engine)
        actor = Actor.system(f"worker-{worker}")
        barrier.wait(BARRIER_TIMEOUT)
        for n in range(count):
            with UnitOfWork(writer) as uow:
                record(uow.session, actor, AuditAction.LOGIN_FAILED, details={"n": n})
                uow.commit()
    finally:
        engine.dispose()


def increment_rate_limit(database_url: str, key: str, count: int, barrier: Barrier) -> None:
    from ged.adapters.db import make_engine
    from ged.adapters.ratelimit import SqlRateLimitStorage

    engine = make_engine(database_url)
    try:
        storage = SqlRateLimitStorage(engine=engine)
        barrier.wait(BARRIER_TIMEOUT)
        for _ in range(count):
            storage.incr(key, 3600)
    finally:
        engine.dispose()


def _run(queue: Any, target: Callable[..., None], args: tuple[Any, ...]) -> None:
    try:
        target(*args)
    except BaseException:
        queue.put(traceback.format_exc())
        raise
    queue.put("")


def run_together(target: Callable[..., None], args_per_process: list[tuple[Any, ...]]) -> None:
    """Start one spawned process per argument tuple, released at once by a shared barrier.

    Each tuple gets the barrier appended. Raises with the child's traceback if any failed.
    """
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(args_per_process))
    queue = context.Queue()
    processes = [
        context.Process(target=_run, args=(queue, target, (*args, barrier)))
        for args in args_per_process
    ]
    for process in processes:
        process.start()
    errors = [queue.get(timeout=JOIN_TIMEOUT) for _ in processes]
    for process in processes:
        process.join(JOIN_TIMEOUT)
    queue.close()
    queue.join_thread()
    failures = [e for e in errors if e]
    assert not failures, "\n".join(failures)
    assert [p.exitcode for p in processes] == [0] * len(processes)
