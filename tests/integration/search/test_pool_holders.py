"""Search follows a task that a manager puts in another unit's pool."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ged.bootstrap import Container
from ged.config import SearchSettings, Settings
from ged.domain.search import SearchQuery
from ged.services.audit import Actor
from tests.integration.circuits.conftest import Office, make_office


@pytest.fixture
def settings(settings: Settings, search_backend: str) -> Settings:
    return replace(settings, search=SearchSettings(backend=search_backend))


@pytest.fixture
def office(container: Container) -> Office:
    return make_office(container)


def found(office: Office, actor: Actor) -> set[int]:
    results = office.container.search.search(actor, SearchQuery(text="zerktouni", per_page=100))
    return {hit.object_id for hit in results.hits}


def test_the_unit_whose_pool_gets_the_task_finds_its_mail(office: Office) -> None:
    mail_id = office.register("Lotissement Zerktouni", unit=office.sau)
    process = office.dispatch(mail_id)
    assert found(office, office.stranger) == set()

    office.container.tasks.reassign_to_unit(office.admin, process.id, office.other)

    assert found(office, office.stranger) == {mail_id}
    assert found(office, office.legal) == set()
