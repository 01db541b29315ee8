"""The mail list: filters, sort, pagination, overdue rows, unit codes, and a constant query count."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import event
from werkzeug.test import TestResponse

from ged.bootstrap import Container
from tests.builders import Builders
from tests.conftest import AuthActions
from tests.e2e.conftest import text
from tests.e2e.mail.conftest import Office, days_ago, mail_id, register

ROW_RE = re.compile(r'<tr( class="table-danger")? data-mail="([^"]+)">')


@dataclass(frozen=True)
class Registry:
    """Five mails, by role in the tests."""

    late: str  # incoming to URB, "Demande", received 40 days ago: overdue
    fresh: str  # incoming to JUR, "Urgent", received today
    answer: str  # outgoing
    permit: str  # incoming to PRM (under URB), reference REF-XYZ-9
    note: str  # internal, to JUR


@pytest.fixture
def mails(office: Office, build: Builders, container: Container) -> Registry:
    def reg(**fields: Any) -> str:
        return register(container, build, office.registrar, **fields).chrono

    return Registry(
        late=reg(
            subject="Permis de construire d'une villa",
            unit_ids=(office.urba,),
            mail_type_id=office.request_type,
            mail_date=days_ago(container, 40),
        ),
        fresh=reg(
            subject="Plainte pour nuisances",
            unit_ids=(office.legal,),
            mail_type_id=office.quick_type,
        ),
        answer=reg(direction="outgoing", subject="Réponse au cabinet"),
        permit=reg(
            subject="Demande de lotissement",
            unit_ids=(office.permits,),
            sender_reference="REF-XYZ-9",
            mail_date=days_ago(container, 3),
        ),
        note=reg(direction="internal", subject="Note de service", unit_ids=(office.legal,)),
    )


def rows(response: TestResponse) -> list[str]:
    return [chrono for _late, chrono in ROW_RE.findall(response.get_data(as_text=True))]


def flagged(response: TestResponse) -> list[str]:
    return [chrono for late, chrono in ROW_RE.findall(response.get_data(as_text=True)) if late]


@pytest.fixture
def registrar(office: Office, auth: AuthActions) -> AuthActions:
    auth.login("registrar")
    return auth


def test_list_shows_every_visible_mail_newest_first_with_count(
    mails: Registry, registrar: AuthActions
) -> None:
    page = registrar.client.get("/mail/")

    assert page.status_code == 200
    assert rows(page) == [mails.note, mails.permit, mails.answer, mails.fresh, mails.late]
    assert "5 courriers" in text(page)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"direction": "outgoing"}, ["answer"]),
        ({"direction": "internal"}, ["note"]),
        ({"unit": "URB"}, ["permit", "late"]),  # sub-units included
        ({"unit": "JUR"}, ["note", "fresh"]),
        ({"type": "quick"}, ["fresh"]),
        ({"q": "lotissement"}, ["permit"]),
        ({"q": "ref-xyz"}, ["permit"]),
        ({"overdue": "y"}, ["late"]),
        ({"from": -5, "direction": "incoming"}, ["permit", "fresh"]),
        ({"to": -10}, ["late"]),
    ],
)
def test_list_filters(
    query: dict[str, Any],
    expected: list[str],
    mails: Registry,
    office: Office,
    registrar: AuthActions,
    container: Container,
) -> None:
    args = dict(query)
    if "unit" in args:
        args["unit"] = {"URB": office.urba, "JUR": office.legal}[args["unit"]]
    if "type" in args:
        args["type"] = office.quick_type
    for key in ("from", "to"):
        if key in args:
            args[key] = days_ago(container, -args[key]).isoformat()

    page = registrar.client.get("/mail/", query_string=args)

    assert page.status_code == 200
    assert rows(page) == [getattr(mails, name) for name in expected]


def test_status_filter_follows_answers(
    mails: Registry, registrar: AuthActions, office: Office, build: Builders, container: Container
) -> None:
    container.registry.link_answer(
        build.actor(office.registrar),
        mail_id(container, mails.answer),
        mail_id(container, mails.fresh),
    )

    page = registrar.client.get("/mail/?status=answered")

    assert rows(page) == [mails.fresh]


def test_overdue_rows_are_flagged_and_rows_show_unit_codes(
    mails: Registry, registrar: AuthActions
) -> None:
    page = registrar.client.get("/mail/")

    assert flagged(page) == [mails.late]
    assert "En retard" in text(page)
    html = page.get_data(as_text=True)
    permit_row = html[html.index(f'data-mail="{mails.permit}"') :].split("</tr>", 1)[0]
    assert "<td>PRM</td>" in permit_row


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        # By direction (incoming, internal, outgoing), then year and number.
        ("chrono", ["late", "fresh", "permit", "note", "answer"]),
        ("-chrono", ["answer", "note", "permit", "fresh", "late"]),
        ("registered", ["late", "fresh", "answer", "permit", "note"]),
        ("-registered", ["note", "permit", "answer", "fresh", "late"]),
    ],
)
def test_list_sorts(
    sort: str, expected: list[str], mails: Registry, registrar: AuthActions
) -> None:
    page = registrar.client.get("/mail/", query_string={"sort": sort})

    assert rows(page) == [getattr(mails, name) for name in expected]


def test_due_date_sort_puts_the_nearest_deadline_first(
    mails: Registry, registrar: AuthActions
) -> None:
    nearest = rows(registrar.client.get("/mail/?sort=due&overdue=&direction=incoming&type="))
    latest = rows(registrar.client.get("/mail/?sort=-due&direction=incoming"))

    with_due = [mails.late, mails.fresh]
    assert [c for c in nearest if c in with_due] == with_due
    assert [c for c in latest if c in with_due] == list(reversed(with_due))


def test_pagination_links_keep_the_filters(mails: Registry, registrar: AuthActions) -> None:
    first = registrar.client.get("/mail/?direction=incoming&per_page=1&sort=chrono")
    html = first.get_data(as_text=True)

    assert rows(first) == [mails.late]
    assert "3 courriers · page 1 sur 3" in text(first)
    links = re.findall(r'class="page-link" href="([^"]+)"[^>]*>2<', html)
    assert links, "no link to page 2"
    second = registrar.client.get(links[0].replace("&amp;", "&"))
    assert rows(second) == [mails.fresh]
    for kept in ("direction=incoming", "per_page=1", "sort=chrono", "page=2"):
        assert kept in links[0]


def test_sort_links_keep_the_filters(mails: Registry, registrar: AuthActions) -> None:
    html = registrar.client.get("/mail/?direction=incoming&q=de").get_data(as_text=True)

    link = re.search(r'<a href="(/mail/\?[^"]*sort=chrono[^"]*)"', html)
    assert link
    assert "direction=incoming" in link.group(1)
    assert "q=de" in link.group(1)


def test_invalid_filter_values_answer_400_with_a_message(
    mails: Registry, registrar: AuthActions
) -> None:
    bad_date = registrar.client.get("/mail/?from=hier")
    bad_direction = registrar.client.get("/mail/?direction=sideways")

    assert bad_date.status_code == bad_direction.status_code == 400
    assert "Du :" in text(bad_date)


@pytest.fixture
def queries(container: Container) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(container.engine, "before_cursor_execute", count)
    yield seen
    event.remove(container.engine, "before_cursor_execute", count)


def test_list_runs_as_many_queries_for_thirty_rows_as_for_two(
    office: Office,
    build: Builders,
    container: Container,
    registrar: AuthActions,
    queries: list[str],
) -> None:
    def reg(n: int) -> None:
        for i in range(n):
            register(
                container,
                build,
                office.registrar,
                subject=f"Courrier {i}",
                correspondent_name=f"Correspondant {i}",
                unit_ids=(office.urba, office.legal),
                mail_type_id=office.request_type,
            )

    reg(2)
    registrar.client.get("/mail/")  # warm caches (session check, mapper configuration)
    queries.clear()
    registrar.client.get("/mail/?per_page=50")
    few = len(queries)
    reg(28)
    queries.clear()
    page = registrar.client.get("/mail/?per_page=50")

    assert len(rows(page)) == 30
    assert len(queries) == few
