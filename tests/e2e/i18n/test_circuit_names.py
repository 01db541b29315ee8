"""The bundled circuits' step names and help texts reach Arabic users translated."""

from __future__ import annotations

from pathlib import Path

import defusedxml.ElementTree as DefusedET
import pytest
from flask import Flask

from web.babel_extract import extract_bpmn
from web.i18n import translate

CIRCUITS = sorted(Path("workflows/circuits").glob("*.bpmn"))


def _texts(path: Path) -> list[str]:
    with path.open("rb") as file:
        return [message for _, _, message, _ in extract_bpmn(file, {}, (), {})]


@pytest.mark.parametrize("path", CIRCUITS, ids=lambda path: path.stem)
def test_every_step_name_and_help_text_is_translated(app: Flask, path: Path) -> None:
    texts = _texts(path)
    assert texts, f"nothing extracted from {path}"
    with app.test_request_context("/", headers={"Accept-Language": "ar"}):
        untranslated = [text for text in texts if translate(text) == text]
    assert not untranslated


@pytest.mark.parametrize("path", CIRCUITS, ids=lambda path: path.stem)
def test_the_extractor_finds_every_user_task(path: Path) -> None:
    root = DefusedET.parse(path).getroot()
    assert root is not None
    names = {
        str(task.get("name"))
        for task in root.iter("{http://www.omg.org/spec/BPMN/20100524/MODEL}userTask")
    }
    assert names <= set(_texts(path))
