"""The catalogues match the sources: every string the interface shows is translated into Arabic."""

from __future__ import annotations

import enum
import inspect
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from ged.domain.model import Channel, Direction, MailStatus, Priority, Role
from ged.services import capture, circuits, dashboards, notifications, tasks
from tests.e2e.i18n.conftest import TRANSLATIONS
from web.domain_labels import LABELS
from web.mail.labels import ACTION_LABELS, FIELD_LABELS

ROOT = TRANSLATIONS.parents[1]
KEYWORDS = ("-k", "lazy_gettext", "-k", "_l", "-k", "N_")


def _pybabel() -> str:
    found = Path(sys.executable).with_name("pybabel")
    if found.exists():
        return str(found)
    other = shutil.which("pybabel")
    assert other, "pybabel (Babel) is not installed"
    return other


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    """What `pybabel extract` finds in web/ today, with the project's babel.cfg."""
    target = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run(
        [_pybabel(), "extract", "-F", "babel.cfg", *KEYWORDS, "-o", str(target), "."],
        cwd=ROOT,
        # The extractor of the services' messages is web.babel_extract, from this checkout.
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
        capture_output=True,
    )
    with target.open("rb") as handle:
        return read_po(handle)


def _po(language: str) -> Catalog:
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle)


def _ids(catalogue: Catalog) -> set[object]:
    return {message.id for message in catalogue if message.id}


def test_extraction_finds_the_interface_strings(extracted: Catalog) -> None:
    ids = _ids(extracted)
    assert len(ids) > 500
    assert "Registre du courrier" in ids  # a template
    assert "Courrier enregistré sous le numéro %(chrono)s." in ids  # a flash message
    assert "Objet" in ids  # a form label
    assert "Bureau d'ordre" in ids  # a domain label, listed in web/domain_labels.py
    assert "Tâche introuvable." in ids  # a fixed message of a service (web.babel_extract)
    assert "No secret key" not in " ".join(map(str, ids))  # configuration errors: operators'


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_every_extracted_string_is_in_the_catalogue(extracted: Catalog, language: str) -> None:
    missing = _ids(extracted) - _ids(_po(language))
    assert not missing, (
        f"{len(missing)} string(s) missing from the {language} catalogue "
        "(pybabel update, then translate; docs/i18n.md): "
        + "; ".join(sorted(map(str, missing))[:20])
    )


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_no_catalogue_entry_is_left_over(extracted: Catalog, language: str) -> None:
    stale = _ids(_po(language)) - _ids(extracted)
    assert not stale, f"obsolete entries in {language}: {sorted(map(str, stale))[:20]}"


def test_every_arabic_entry_is_translated_and_not_fuzzy() -> None:
    po = _po("ar")
    assert po.num_plurals == 6
    for message in po:
        if not message.id:
            continue
        assert not message.fuzzy, f"fuzzy: {message.id!r}"
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(form.strip() for form in forms), f"untranslated: {message.id!r}"
        assert len(forms) == (6 if isinstance(message.id, tuple) else 1)


def test_arabic_translations_keep_the_placeholders() -> None:
    placeholder = re.compile(r"%\([a-z_0-9]+\)[sd]")
    for message in _po("ar"):
        if not message.id:
            continue
        source = message.id[0] if isinstance(message.id, tuple) else message.id
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        for form in forms:
            assert set(placeholder.findall(form)) == set(placeholder.findall(source)), source


def test_arabic_translations_are_written_in_arabic() -> None:
    for message in _po("ar"):
        text = message.string[0] if isinstance(message.string, tuple) else message.string
        if message.id and any(c.isalpha() for c in text.replace("BPMN", "")):
            assert any("\u0600" <= c <= "\u06ff" for c in text) or text.startswith("v"), text


@pytest.mark.parametrize("language", ["fr", "ar"])
def test_the_compiled_catalogue_is_present_and_current(language: str) -> None:
    """The app reads the .mo files: `make translations` (part of `make setup`) builds them."""
    mo_path = TRANSLATIONS / language / "LC_MESSAGES" / "messages.mo"
    assert mo_path.exists(), f"{mo_path.name} missing for {language}: run `make translations`"
    with mo_path.open("rb") as handle:
        compiled = {_key(m.id): _key(m.string) for m in read_mo(handle) if m.id}
    source = {_key(m.id): _key(m.string) for m in _po(language) if m.id and not m.fuzzy}
    assert compiled == source, f"{language}: the .mo is older than the .po: run `make translations`"


def _key(value: object) -> object:
    return tuple(value) if isinstance(value, list | tuple) else value


def _enum_labels() -> set[str]:
    labels: set[str] = set()
    for kind in (Role, Direction, MailStatus, Priority, Channel):
        labels.update(member.label for member in kind)
    for module in (dashboards, circuits, notifications, tasks):
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, enum.Enum)
                and value.__module__ == module.__name__
                and isinstance(inspect.getattr_static(value, "label", None), property)
            ):
                labels.update(member.label for member in value)  # type: ignore[attr-defined]
    labels.update(tasks.OUTCOME_LABELS.values())
    states = ("pending", "running", "done", "failed")
    labels.update(capture.TextState(0, state).label for state in states)
    return labels


def test_every_label_of_the_domain_and_services_is_listed_and_translated() -> None:
    listed = set(LABELS)
    missing = _enum_labels() - listed
    assert not missing, f"add to web/domain_labels.py: {sorted(missing)}"
    arabic = {m.id: m.string for m in _po("ar") if m.id}
    for label in [*listed, *ACTION_LABELS.values(), *FIELD_LABELS.values()]:
        assert arabic.get(label), f"no Arabic for {label!r}"
