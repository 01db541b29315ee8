"""The [ocr] and [capture] sections: defaults from config/default.toml, GED_* overrides."""

from __future__ import annotations

import pytest

from ged.config import load_settings
from ged.domain.errors import ConfigurationError
from ocr import OcrSettings


def test_the_shipped_defaults_are_the_pipeline_defaults() -> None:
    settings = load_settings(environ={})
    assert settings.ocr == OcrSettings()
    assert (settings.capture.sweep_minutes, settings.capture.stale_minutes) == (5, 60)


def test_environment_variables_override_the_ocr_section() -> None:
    settings = load_settings(
        environ={
            "GED_OCR_LANGUAGES": "ara",
            "GED_OCR_DPI": "200",
            "GED_OCR_PAGE_TIME_LIMIT_S": "30",
            "GED_CAPTURE_STALE_MINUTES": "90",
        }
    )
    assert (settings.ocr.languages, settings.ocr.dpi) == ("ara", 200)
    assert settings.ocr.page_time_limit_s == 30.0
    assert settings.capture.stale_minutes == 90


@pytest.mark.parametrize(
    "environ",
    [{"GED_OCR_DPI": "many"}, {"GED_OCR_LANGUAGES": "fra; rm -rf /"}, {"GED_OCR_WORKERS": "-1"}],
)
def test_bad_ocr_settings_stop_the_start(environ: dict[str, str]) -> None:
    with pytest.raises(ConfigurationError):
        load_settings(environ=environ)
