"""The search engine a test runs on: ``search_backend`` runs it once per engine."""

from __future__ import annotations

import pytest

from ged.config import SEARCH_BACKENDS


@pytest.fixture(params=SEARCH_BACKENDS)
def search_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)
