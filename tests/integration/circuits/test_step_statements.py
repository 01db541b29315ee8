"""What one step costs the database: its statements and its single transaction.

A completion runs about ten statements; each one the hot path gains is paid at every step of
every mail. The budgets below are today's counts: a change that adds a round trip to the hot
path fails here and has to say why (and raise the budget).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection

from ged.adapters.db import WRITE_OPTION
from ged.bootstrap import Container
from ged.services.audit import Actor
from tests.integration.circuits.conftest import Office


@dataclass
class Writes:
    """Writing transactions and their statements, up to the first commit: what runs after it
    (the index jobs a status change queues, run inline in tests) is not the step's."""

    statements: list[str] = field(default_factory=list)
    transactions: int = 0
    committed: bool = False


@contextmanager
def counting(container: Container) -> Iterator[Writes]:
    writes = Writes()

    def writing(conn: Connection) -> bool:
        return bool(conn.get_execution_options().get(WRITE_OPTION)) and not writes.committed

    def on_begin(conn: Connection) -> None:
        if writing(conn):
            writes.transactions += 1

    def on_execute(conn: Connection, _cursor: Any, statement: str, *_args: Any) -> None:
        if writing(conn) and not statement.startswith("BEGIN"):
            writes.statements.append(" ".join(statement.split()[:3]))

    def on_commit(conn: Connection) -> None:
        if writing(conn):
            writes.committed = True

    engine = container.engine
    listeners = (
        ("begin", on_begin),
        ("before_cursor_execute", on_execute),
        ("commit", on_commit),
    )
    for name, listener in listeners:
        event.listen(engine, name, listener)
    try:
        yield writes
    finally:
        for name, listener in listeners:
            event.remove(engine, name, listener)


# The `incoming_mail` path of the benchmark: (step, who, outcome, data, statement budget).
# A budget counts: the step's read (task, instance, mail in one), the instance's optimistic
# save, the task row, the instance's rows, holder lookups and new rows, the mail's
# status or deadline when they change, a notification and an e-mail for a task given by name
# (the mail's chrono and subject come with the first read), the mail marked as changed when
# the holders of its tasks change (so that the index sweep finds a lost index job; folded into
# the status or deadline update when there is one), and the audit event with its chain head
# (three statements).
def path(office: Office) -> list[tuple[str, Actor, str, dict[str, Any], int]]:
    return [
        (
            "dispatch",
            office.director,
            "dispatch",
            {"addressed_unit": "SAU", "processing_deadline": 10},
            12,
        ),
        ("process", office.agent, "consult", {"consulted_units": ["SJ", "AUT"]}, 12),
        ("give_opinion", office.legal, "opinion", {}, 8),
        ("give_opinion", office.stranger, "opinion", {}, 10),
        ("process", office.agent, "answer", {}, 13),
        ("visa", office.chef, "return", {}, 9),
        ("process", office.agent, "answer", {}, 12),
        ("visa", office.chef, "approve", {}, 8),
    ]


def test_each_step_is_one_transaction_within_its_statement_budget(office: Office) -> None:
    mail_id = office.register()
    tasks = office.container.tasks
    spent = []
    for bpmn_id, actor, outcome, data, budget in path(office):
        task = office.task(actor, bpmn_id, mail_id)
        with counting(office.container) as writes:
            tasks.complete(actor, task.id, outcome, data)
        spent.append((bpmn_id, len(writes.statements), budget, writes.statements))
        assert writes.committed, bpmn_id
        assert writes.transactions == 1, bpmn_id
    over = [(step, used, budget, ran) for step, used, budget, ran in spent if used > budget]
    assert not over, f"steps over their statement budget (step, used, budget, statements): {over}"


def test_a_refused_step_commits_nothing(office: Office) -> None:
    mail_id = office.register()
    dispatch = office.task(office.director, "dispatch", mail_id)
    with counting(office.container) as writes, pytest.raises(Exception, match="suite"):
        office.container.tasks.complete(office.director, dispatch.id, "nonsense", {})
    assert not writes.committed
