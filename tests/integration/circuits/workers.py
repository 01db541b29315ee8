"""Steps run in spawned processes, each with its own container (engine, pool, sessions).

Kept out of the test modules so that a spawned interpreter imports only what it needs.
"""

from __future__ import annotations

from multiprocessing.synchronize import Barrier
from pathlib import Path

BARRIER_TIMEOUT = 60


def complete_task(
    instance: str,
    database_url: str,
    secret_key: str,
    user_id: int,
    task_id: int,
    outcome: str,
    result_file: str,
    barrier: Barrier,
) -> None:
    """Complete a task as soon as every process is ready; write `ok` or `conflict: …`."""
    from ged import bootstrap
    from ged.config import load_settings
    from ged.domain.errors import Conflict
    from ged.services.audit import Actor

    settings = load_settings(
        {
            "instance": Path(instance),
            "database_url": database_url,
            "secret_key": secret_key,
            "redis_url": "",
        },
        environ={},
    )
    container = bootstrap.build(settings, immediate_jobs=True)
    try:
        user = container.admin.get_user(Actor.system("worker"), user_id)
        actor = Actor.of(user)
        barrier.wait(BARRIER_TIMEOUT)
        try:
            container.tasks.complete(actor, task_id, outcome, comment=f"par {user.username}")
            result = "ok"
        except Conflict as conflict:
            result = f"conflict: {conflict.message}"
    finally:
        container.dispose()
    Path(result_file).write_text(result, encoding="utf-8")
