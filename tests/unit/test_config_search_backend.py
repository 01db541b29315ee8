"""``[search] backend`` / GED_SEARCH_BACKEND picks the engine; nothing else knows which runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from ged import bootstrap
from ged.adapters.search_tantivy import TantivySearchIndex
from ged.adapters.search_whoosh import WhooshSearchIndex
from ged.config import load_settings
from ged.domain.errors import ConfigurationError


def test_tantivy_is_the_default() -> None:
    assert load_settings(environ={}).search.backend == "tantivy"


@pytest.mark.parametrize(
    ("value", "adapter"), [("tantivy", TantivySearchIndex), (" Whoosh ", WhooshSearchIndex)]
)
def test_the_environment_chooses_the_adapter_and_its_own_folder(
    tmp_path: Path, value: str, adapter: type
) -> None:
    settings = load_settings({"instance": tmp_path}, environ={"GED_SEARCH_BACKEND": value})
    index = bootstrap.make_search_index(settings)
    assert isinstance(index, adapter)
    assert settings.index_dir == tmp_path / "index" / value.strip().lower()


def test_an_unknown_engine_is_refused_by_name() -> None:
    with pytest.raises(ConfigurationError, match="whoosh, tantivy, not 'elastic'"):
        load_settings(environ={"GED_SEARCH_BACKEND": "elastic"})
