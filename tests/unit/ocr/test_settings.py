from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from ocr import OcrSettings

# The block config/default.toml carries under [ocr]; the defaults must stay equal to it.
TOML_BLOCK = """
[ocr]
languages = "fra+ara"
dpi = 300
max_file_mb = 100
max_pages = 500
max_pixels_per_page = 90_000_000
page_time_limit_s = 120.0
page_memory_limit_mb = 1024
thumbnail_px = 400
workers = 0
"""
DEFAULT_TOML = Path(__file__).resolve().parents[3] / "config" / "default.toml"


def test_defaults_are_the_configuration_block() -> None:
    assert OcrSettings.from_mapping(tomllib.loads(TOML_BLOCK)["ocr"]) == OcrSettings()


def test_the_shipped_configuration_matches_when_it_has_the_block() -> None:
    section = tomllib.loads(DEFAULT_TOML.read_text(encoding="utf-8")).get("ocr")
    expected = OcrSettings() if section is None else OcrSettings.from_mapping(section)
    assert expected == OcrSettings()


def test_environment_strings_are_converted() -> None:
    settings = OcrSettings.from_mapping({"dpi": "200", "page_time_limit_s": "30", "workers": 2})
    assert (settings.dpi, settings.page_time_limit_s, settings.workers) == (200, 30.0, 2)


@pytest.mark.parametrize(
    "values",
    [
        {"colour": True},
        {"dpi": True},
        {"dpi": 12.5},
        {"dpi": "many"},
        {"dpi": 20},
        {"languages": "fra; rm -rf /"},
        {"languages": ""},
        {"max_pages": 0},
        {"page_memory_limit_mb": -1},
        {"workers": -2},
    ],
)
def test_bad_settings_are_refused_at_load(values: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="ocr"):
        OcrSettings.from_mapping(values)


def test_workers_default_to_the_cpus_available() -> None:
    assert OcrSettings().effective_workers >= 1
    assert OcrSettings(workers=3).effective_workers == 3
    assert OcrSettings(max_file_mb=2).max_file_bytes == 2 * 1024 * 1024
