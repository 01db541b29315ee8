"""Search shows whoever holds or held a task on a mail the same mail its page shows them.

The registry's rule (``permissions.visible_mail``) is the reference: for every person of the
office, the mail search finds is exactly the mail the registry lists, and nothing of the rest
leaks through a hit, a count, a facet, a suggestion or the chrono lookup.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from ged.bootstrap import Container
from ged.config import SearchSettings, Settings
from ged.domain.search import SearchQuery
from ged.services.audit import Actor
from ged.services.mail import MailFilter
from tests.integration.circuits.conftest import Office, make_office

PEOPLE = ("director", "chef", "agent", "colleague", "legal", "stranger", "clerk", "admin")


@pytest.fixture
def settings(settings: Settings, search_backend: str) -> Settings:
    """Every engine answers the same: each test runs on Whoosh and on tantivy."""
    return replace(settings, search=SearchSettings(backend=search_backend))


@pytest.fixture
def office(container: Container) -> Office:
    return make_office(container)


def found(office: Office, actor: Actor, text: str = "zerktouni") -> set[int]:
    results = office.container.search.search(actor, SearchQuery(text=text, per_page=100))
    ids = {hit.object_id for hit in results.hits}
    assert results.total == len(ids)
    assert sum(n for _, n in results.facets["direction"]) == len(ids)
    return ids


def listed(office: Office, actor: Actor) -> set[int]:
    rows = office.container.registry.search(actor, MailFilter(per_page=200)).rows
    return {m.id for m in rows}


def chrono(office: Office, mail_id: int) -> str:
    return office.container.registry.get(office.auditor, mail_id).mail.chrono


def assert_hidden(office: Office, actor: Actor, mail_id: int) -> None:
    """Nothing of the mail reaches this person: no hit, count, suggestion or chrono."""
    search = office.container.search
    assert mail_id not in found(office, actor)
    typo = search.search(actor, SearchQuery(text="zerktoumi"))
    assert typo.total == 0
    assert typo.suggestion is None or found(office, actor, typo.suggestion)
    assert mail_id not in {
        h.object_id for h in search.lookup_chrono(actor, chrono(office, mail_id))
    }


def test_a_unit_consulted_for_its_opinion_finds_the_mail_it_holds_and_held(
    office: Office,
) -> None:
    mail_id = office.register("Lotissement Zerktouni", unit=office.sau)
    tasks = office.container.tasks
    assert_hidden(office, office.legal, mail_id)

    tasks.complete(
        office.agent, office.dispatch(mail_id).id, "consult", {"consulted_units": ["SJ"]}
    )

    assert found(office, office.legal) == {mail_id}  # the SJ pool holds an opinion task
    [hit] = office.container.search.search(office.legal, SearchQuery(text="zerktouni")).hits
    assert "<mark" in hit.highlight
    assert [
        h.object_id
        for h in office.container.search.lookup_chrono(office.legal, chrono(office, mail_id))
    ] == [mail_id]
    assert_hidden(office, office.stranger, mail_id)
    opinion = office.task(office.legal, "give_opinion", mail_id)
    tasks.complete(office.legal, opinion.id, "opinion", comment="Favorable.")
    assert found(office, office.legal) == {mail_id}  # held


def test_a_mail_reassigned_to_someone_else_is_found_by_them(office: Office) -> None:
    mail_id = office.register("Lotissement Zerktouni", unit=office.sau)
    process = office.dispatch(mail_id)
    assert_hidden(office, office.stranger, mail_id)

    office.container.tasks.reassign(office.admin, process.id, office.stranger.user_id or 0)

    assert found(office, office.stranger) == {mail_id}


def test_a_delegate_finds_the_mail_of_the_task_they_stand_in_for(office: Office) -> None:
    mail_id = office.register("Lotissement Zerktouni", unit=office.sau)
    tasks = office.container.tasks
    tasks.complete(office.agent, office.dispatch(mail_id).id, "answer")
    assert_hidden(office, office.legal, mail_id)
    today = tasks.today()

    office.container.delegations.create(
        office.chef, office.chef.user_id or 0, office.legal.user_id or 0, today, today
    )

    assert found(office, office.legal) == {mail_id}


def test_holding_a_task_never_opens_a_confidential_mail(office: Office) -> None:
    mail_id = office.register("Enquête Zerktouni", unit=office.sau, confidential=True)
    dispatch = office.task(office.director, "dispatch", mail_id)

    office.container.tasks.complete(
        office.director, dispatch.id, "dispatch", {"addressed_unit": "AUT"}
    )

    assert_hidden(office, office.stranger, mail_id)
    assert_hidden(office, office.director, mail_id)


def test_search_and_the_registry_agree_for_everyone(office: Office) -> None:
    """The matrix: open, consulted, reassigned, confidential and named mail, every person."""
    tasks = office.container.tasks
    plain = office.register("Zerktouni voirie", unit=office.sau)
    office.register("Zerktouni contentieux", unit=office.sj)
    consulted = office.register("Zerktouni consultation", unit=office.sau)
    tasks.complete(
        office.agent, office.dispatch(consulted).id, "consult", {"consulted_units": ["SJ"]}
    )
    moved = office.register("Zerktouni réattribué", unit=office.sau)
    tasks.reassign(office.admin, office.dispatch(moved).id, office.stranger.user_id or 0)
    secret = office.register("Zerktouni enquête", unit=office.sau, confidential=True)
    tasks.complete(
        office.director,
        office.task(office.director, "dispatch", secret).id,
        "dispatch",
        {"addressed_unit": "AUT"},
    )
    office.register(
        "Zerktouni nominatif",
        unit=office.sau,
        confidential=True,
        person_ids=(office.legal.user_id or 0,),
    )
    assert plain in found(office, office.agent)

    for name in PEOPLE:
        actor = getattr(office, name)
        assert found(office, actor) == listed(office, actor), name
