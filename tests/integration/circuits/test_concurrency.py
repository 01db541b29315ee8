"""Two people completing at the same moment, each in a process of their own (spawned).

On PostgreSQL (GED_TEST_DATABASE_URL) the optimistic lock decides; on SQLite the write lock
serialises the two steps. Either way exactly one completion of a task wins.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from ged.adapters.orm import AuditEvent, Task
from ged.config import Settings
from ged.domain.model import AuditAction
from ged.services.tasks import TaskState
from tests.integration.circuits.conftest import Office
from tests.integration.circuits.workers import complete_task
from tests.integration.concurrency import run_together


def race(
    office: Office, settings: Settings, tmp_path: Path, steps: list[tuple[int, int, str]]
) -> list[str]:
    """Run (user id, task id, outcome) steps at once; their results in the same order."""
    results = [tmp_path / f"result-{n}.txt" for n in range(len(steps))]
    run_together(
        complete_task,
        [
            (
                str(settings.instance),
                settings.effective_database_url,
                settings.secret_key,
                user_id,
                task_id,
                outcome,
                str(result),
            )
            for (user_id, task_id, outcome), result in zip(steps, results, strict=True)
        ],
    )
    return [result.read_text(encoding="utf-8") for result in results]


def test_two_people_completing_the_same_task_at_once_one_wins_the_other_is_told(
    office: Office, settings: Settings, tmp_path: Path
) -> None:
    mail_id = office.register()
    process = office.dispatch(mail_id)

    results = race(
        office,
        settings,
        tmp_path,
        [
            (office.agent.user_id or 0, process.id, "answer"),
            (office.colleague.user_id or 0, process.id, "close"),
        ],
    )

    assert sorted(r.split(":")[0] for r in results) == ["conflict", "ok"], results
    [conflict] = [r for r in results if r.startswith("conflict")]
    assert "avant vous" in conflict or "déjà été traitée" in conflict
    with office.container.reader() as uow:
        session = uow.session
        row = session.get_one(Task, process.id)
        assert row.state == TaskState.DONE
        visas = session.execute(
            select(Task).where(Task.mail_id == mail_id, Task.bpmn_id == "visa")
        ).all()
        assert len(visas) == 1
        completions = session.execute(
            select(AuditEvent).where(AuditEvent.action == AuditAction.TASK_COMPLETED)
        ).all()
        assert len(completions) == 2  # the dispatch and the one winner


def test_two_opinions_given_at_once_on_one_mail_both_count(
    office: Office, settings: Settings, tmp_path: Path
) -> None:
    mail_id = office.register()
    process = office.dispatch(mail_id)
    office.container.tasks.complete(
        office.agent, process.id, "consult", {"consulted_units": ["SJ", "AUT"]}
    )
    legal = office.task(office.legal, "give_opinion", mail_id)
    other = office.task(office.stranger, "give_opinion", mail_id)

    results = race(
        office,
        settings,
        tmp_path,
        [
            (office.legal.user_id or 0, legal.id, "opinion"),
            (office.stranger.user_id or 0, other.id, "opinion"),
        ],
    )

    assert results == ["ok", "ok"]
    with office.container.reader() as uow:
        processing = uow.session.execute(
            select(Task.state).where(Task.mail_id == mail_id, Task.bpmn_id == "process")
        ).all()
    # The first processing, then exactly one more once both opinions are in.
    assert sorted(state for (state,) in processing) == ["done", "open"]
