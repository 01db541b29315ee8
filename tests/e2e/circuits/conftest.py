"""The circuits agency of the integration tests (bundled circuits, two mail types), in a browser."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from ged.bootstrap import Container
from tests.conftest import AuthActions
from tests.integration.circuits.conftest import PASSWORD, Office, make_office


@pytest.fixture
def office(container: Container) -> Office:
    return make_office(container)


@pytest.fixture
def login(new_client: Callable[[], AuthActions]) -> Callable[[str], FlaskClient]:
    """A browser logged in as ``username`` (its own cookie jar)."""

    def make(username: str) -> FlaskClient:
        browser = new_client()
        response = browser.login(username, PASSWORD)
        assert response.status_code in (302, 303), f"login of {username} failed"
        return browser.client

    return make
