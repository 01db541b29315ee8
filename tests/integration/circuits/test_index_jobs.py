"""A step rewrites the mail's search index entry exactly when it changes what the entry says.

The entry lists whoever holds or held a task on the mail and the mail's status. Rewriting it
costs more than the rest of a step, and most steps change neither. Jobs run inline in tests,
so `indexed_at` moves with every rewrite.
"""

from __future__ import annotations

import datetime as dt

import pytest

from ged.adapters.orm import Mail
from ged.domain.search import IndexedItem
from ged.jobs import INDEX_MAIL
from ged.services.search import mail_items
from tests.integration.circuits.conftest import Office
from tests.integration.circuits.test_step_statements import path


def entry(office: Office, mail_id: int) -> tuple[IndexedItem, dt.datetime | None]:
    """What a rewrite would put in the index now, and when the entry was last written."""
    with office.container.reader() as uow:
        mail = uow.session.get_one(Mail, mail_id)
        return mail_items(uow.session, [mail])[0], mail.indexed_at


def test_only_the_steps_that_change_the_entry_rewrite_it(office: Office) -> None:
    mail_id = office.register()
    tasks = office.container.tasks
    rewritten = []
    for bpmn_id, actor, outcome, data, _budget in path(office):
        before, written_before = entry(office, mail_id)
        task = office.task(actor, bpmn_id, mail_id)

        tasks.complete(actor, task.id, outcome, data)

        after, written_after = entry(office, mail_id)
        assert (written_after != written_before) == (after != before), bpmn_id
        rewritten.append(written_after != written_before)
    # Dispatch (the status, a pool), the request for opinions (two pools), each opinion (its
    # giver), the answer (the visa, given to the manager by name) and the end (the status). The
    # correction round changes nobody: the same agent and manager, the same pool.
    assert rewritten == [True, True, True, True, True, False, False, True]


def test_a_task_taken_from_a_pool_and_finished_adds_its_holder(office: Office) -> None:
    mail_id = office.register()
    process = office.dispatch(mail_id)
    before, _ = entry(office, mail_id)
    assert office.agent.user_id not in before.task_users

    office.container.tasks.complete(office.agent, process.id, "answer", {})

    after, written = entry(office, mail_id)
    assert office.agent.user_id in after.task_users
    assert office.agent.user_id in after.task_assignees
    assert written is not None


def test_a_lost_index_job_is_found_again_by_the_sweep(
    office: Office, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The queue may lose a job after the step commits (a crash, a power cut): the step marked
    the mail changed in its own transaction, so the index sweep rewrites the entry."""
    mail_id = office.register()
    process = office.dispatch(mail_id)
    search = office.container.search
    assert mail_id not in search.stale()[0]
    lost: list[tuple[str, tuple[object, ...]]] = []
    monkeypatch.setattr(
        office.container.jobs, "enqueue", lambda name, *args, **_kw: lost.append((name, args))
    )

    # Taken from the pool and answered: a new holder, and no change of status or deadline.
    office.container.tasks.complete(office.agent, process.id, "answer", {})

    assert lost == [(INDEX_MAIL, (mail_id,))]
    assert mail_id in search.stale()[0]
    monkeypatch.undo()
    office.container.jobs.run_now(INDEX_MAIL, mail_id)
    assert mail_id not in search.stale()[0]
