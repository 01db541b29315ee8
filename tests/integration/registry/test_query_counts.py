"""No N+1: the mail list and the mail page cost a fixed number of SQL statements.

Counted with a ``before_cursor_execute`` listener on the engine; the number must not grow with
the page size or with how many units, files, people and comments a mail has.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from sqlalchemy import event

from ged.bootstrap import Container
from ged.domain.model import Role
from ged.services.audit import Actor
from ged.services.mail import MailFilter, MailInput, MailPage, MailView
from tests.builders import SYSTEM, Builders
from tests.integration.registry.conftest import pdf, upload

T = TypeVar("T")
MAILS = 60
# Upper bounds, not targets. The list: the unit tree (once for the permission, once for a unit
# filter), the count, the rows with correspondent and type joined, the units of the rows.
MAX_LIST_STATEMENTS = 5
MAX_PAGE_STATEMENTS = 12


class StatementLog:
    def __init__(self) -> None:
        self.statements: list[str] = []

    def __call__(self, *args: Any) -> None:
        statement = " ".join(args[2].split())
        # SQLite's explicit BEGIN (ged.adapters.db) has no counterpart on PostgreSQL.
        if not statement.startswith("BEGIN"):
            self.statements.append(statement[:120])

    def count(self, call: Callable[[], T]) -> tuple[T, list[str]]:
        start = len(self.statements)
        result = call()
        return result, self.statements[start:]


@pytest.fixture(scope="module")
def statements(world_container: Container) -> Iterator[StatementLog]:
    log = StatementLog()
    event.listen(world_container.engine, "before_cursor_execute", log)
    yield log
    event.remove(world_container.engine, "before_cursor_execute", log)


class Setup:
    def __init__(self, container: Container) -> None:
        self.container = container
        build = Builders(container)
        self.parent = build.unit()
        self.units = [build.unit(parent_id=self.parent) for _ in range(3)]
        self.clerk = build.actor(build.user(role=Role.REGISTRAR))
        self.agent = build.actor(build.user(role=Role.AGENT, unit_id=self.parent))
        self.auditor = build.actor(build.user(role=Role.AUDITOR))
        self.people = [build.user(unit_id=self.units[0]) for _ in range(3)]
        self.types = [
            container.registry.create_mail_type(SYSTEM, f"QC{n}", f"Type {n}", 10) for n in range(4)
        ]
        for n in range(MAILS):
            container.registry.register(
                self.clerk,
                MailInput(
                    "incoming",
                    f"Courrier {n}",
                    correspondent_name=f"Correspondant {n % 7}",
                    mail_type_id=self.types[n % 4],
                    unit_ids=tuple(self.units[: 1 + n % 3]),
                ),
            )
        self.plain = self.register_rich(files=1, units=1, people=0, comments=0)
        self.rich = self.register_rich(files=5, units=3, people=3, comments=4)

    def register_rich(self, files: int, units: int, people: int, comments: int) -> int:
        registry = self.container.registry
        registered = registry.register(
            self.clerk,
            MailInput(
                "incoming",
                f"Dossier {files}-{units}-{people}",
                correspondent_name="Wilaya",
                mail_type_id=self.types[0],
                unit_ids=tuple(self.units[:units]),
                person_ids=tuple(self.people[:people]),
            ),
            [upload(pdf(f"{files} {n}"), f"piece{n}.pdf") for n in range(files)],
        )
        for n in range(comments):
            registry.comment(self.clerk, registered.id, f"Commentaire {n}")
        for n in range(2 if comments else 0):
            registry.register(
                self.clerk,
                MailInput(
                    "outgoing",
                    f"Réponse {n}",
                    correspondent_name="Wilaya",
                    answer_to_id=registered.id,
                ),
            )
        return registered.id


@pytest.fixture(scope="module")
def setup(world_container: Container) -> Setup:
    return Setup(world_container)


def read_page(page: MailPage) -> list[tuple[str, str, str, str]]:
    """Everything a list row shows: touching a lazy attribute here would cost a statement."""
    return [
        (
            mail.chrono,
            mail.correspondent.name if mail.correspondent else "",
            mail.mail_type.name if mail.mail_type else "",
            " ".join(page.units.get(mail.id, [])),
        )
        for mail in page.rows
    ]


def read_view(view: MailView) -> dict[str, list[str]]:
    """Everything the mail page shows."""
    mail = view.mail
    return {
        "mail": [
            mail.correspondent.name if mail.correspondent else "",
            mail.mail_type.name if mail.mail_type else "",
            view.registered_by,
        ],
        "units": [unit.code for unit in view.units],
        "people": [person.full_name for person in view.people],
        "files": [f"{document.title} {version.sha256}" for document, version in view.documents],
        "comments": [comment.author for comment in view.comments],
        "timeline": [entry.action for entry in view.timeline],
        "answers": [answer.chrono for answer in view.answers],
    }


@pytest.mark.parametrize("who", ["clerk", "agent", "auditor"])
def test_mail_list_costs_the_same_statements_for_5_or_50_rows(
    setup: Setup, statements: StatementLog, who: str
) -> None:
    actor: Actor = getattr(setup, who)
    registry = setup.container.registry

    def page_of(size: int) -> Callable[[], list[tuple[str, str, str, str]]]:
        query = MailFilter(direction="incoming", per_page=size)
        return lambda: read_page(registry.search(actor, query))

    small, few = statements.count(page_of(5))
    large, many = statements.count(page_of(50))

    assert len(small) == 5
    assert len(large) == 50
    assert all(correspondent and kind and units for _, correspondent, kind, units in large)
    assert len(many) == len(few), many
    assert len(many) <= MAX_LIST_STATEMENTS, many


def test_mail_list_with_every_filter_costs_the_same_statements(
    setup: Setup, statements: StatementLog
) -> None:
    registry = setup.container.registry
    day = registry.today()
    query = MailFilter(
        direction="incoming",
        status="registered",
        unit_id=setup.parent,
        mail_type_id=setup.types[1],
        date_from=day,
        date_to=day,
        text="Courrier",
        sort="chrono",
    )

    rows, used = statements.count(lambda: read_page(registry.search(setup.agent, query)))

    assert len(rows) == MAILS // 4
    assert len(used) <= MAX_LIST_STATEMENTS, used


@pytest.mark.parametrize("who", ["clerk", "agent"])
def test_mail_page_costs_the_same_statements_however_much_the_mail_holds(
    setup: Setup, statements: StatementLog, who: str
) -> None:
    actor: Actor = getattr(setup, who)
    registry = setup.container.registry

    plain, few = statements.count(lambda: read_view(registry.get(actor, setup.plain)))
    rich, many = statements.count(lambda: read_view(registry.get(actor, setup.rich)))

    sizes = {key: len(values) for key, values in rich.items()}
    # The agent's unit is not on the (outgoing) answers: they are not shown, nor fetched.
    answers = 2 if who == "clerk" else 0
    assert sizes == sizes | {"units": 3, "people": 3, "files": 5, "comments": 4, "answers": answers}
    assert len(plain["files"]) == 1
    assert len(many) == len(few), many
    assert len(many) <= MAX_PAGE_STATEMENTS, many
