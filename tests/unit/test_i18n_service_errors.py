"""Service errors are French templates with named values, so the interface can translate them."""

from __future__ import annotations

import ast
import copy
import datetime as dt
import io
import re
from pathlib import Path

import pytest

from ged.domain.errors import (
    Conflict,
    GedError,
    Label,
    Message,
    NotFound,
    PermissionDenied,
    ValidationError,
)
from web.babel_extract import ERRORS, extract_service_errors

SERVICES = Path(__file__).resolve().parents[2] / "ged" / "services"
ERROR_CLASSES = ERRORS | {"ConfigurationError", "StorageError", "Message"}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _error_calls(source: str) -> list[ast.Call]:
    return [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ERROR_CLASSES
        and node.args
    ]


def _built(message: ast.expr) -> bool:
    """A message put together at run time: it would have no msgid in the catalogue."""
    return any(
        isinstance(node, ast.JoinedStr | ast.BinOp)
        or (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"
        )
        for node in ast.walk(message)
    )


def _literals(message: ast.expr) -> list[str]:
    if isinstance(message, ast.Constant) and isinstance(message.value, str):
        return [message.value]
    if isinstance(message, ast.IfExp):
        return _literals(message.body) + _literals(message.orelse)
    return []


def _service_sources() -> list[tuple[str, str]]:
    return [(path.name, path.read_text(encoding="utf-8")) for path in sorted(SERVICES.glob("*.py"))]


def test_the_scan_sees_the_services_errors() -> None:
    calls = [call for _, source in _service_sources() for call in _error_calls(source)]
    assert len(calls) > 150
    assert sum(bool(call.keywords) for call in calls) > 50


def test_no_service_error_is_built_from_an_f_string() -> None:
    built = [
        f"{name}:{call.lineno}"
        for name, source in _service_sources()
        for call in _error_calls(source)
        if _built(call.args[0])
    ]
    assert not built, (
        "write the message as a template with named values, "
        '`raise NotFound("Tâche %(id)s introuvable.", id=task_id)` (docs/i18n.md): '
        + ", ".join(built)
    )


# Helpers that raise the message they are given (a Conflict after a failed flush).
MESSAGE_HELPERS = frozenset({"_flush_unique", "_flush_or_conflict"})


def test_messages_given_to_raising_helpers_are_extractable_templates() -> None:
    """A helper's message is a ``Message(...)`` literal: extracted, and translated on screen."""
    given = [
        (name, node)
        for name, source in _service_sources()
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name | ast.Attribute)
        and (node.func.id if isinstance(node.func, ast.Name) else node.func.attr) in MESSAGE_HELPERS
        and len(node.args) == 2
    ]
    assert len(given) >= 6
    wrong = [
        f"{name}:{node.lineno}"
        for name, node in given
        if not (
            isinstance(node.args[1], ast.Call)
            and isinstance(node.args[1].func, ast.Name)
            and node.args[1].func.id == "Message"
            and isinstance(node.args[1].args[0], ast.Constant)
        )
    ]
    assert not wrong, wrong


def test_the_scan_refuses_a_message_built_with_values() -> None:
    for source in (
        'raise NotFound(f"Tâche {task_id} introuvable.")',
        'raise ValidationError("Le fichier " + name + " est vide.", "files")',
        'raise Conflict("La rubrique {} existe déjà.".format(code))',
        'raise ValidationError(f"« {key} »" if key else "Vide.")',
    ):
        (call,) = _error_calls(source)
        assert _built(call.args[0]), source
    (fixed,) = _error_calls('raise NotFound("Tâche %(id)s introuvable.", id=task_id)')
    assert not _built(fixed.args[0])


def test_every_template_is_given_the_values_it_names() -> None:
    wrong = []
    for name, source in _service_sources():
        for call in _error_calls(source):
            given = {k.arg for k in call.keywords if k.arg not in (None, "field")}
            if isinstance(call.func, ast.Name) and call.func.id == "Message" and call.args[1:]:
                values = call.args[1]
                assert isinstance(values, ast.Dict), f"{name}:{call.lineno}: a dict literal"
                given = {k.value for k in values.keys if isinstance(k, ast.Constant)}
            templates = _literals(call.args[0])
            named = {p for text in templates for p in PLACEHOLDER.findall(text)}
            if named - given or (templates and given - named):
                wrong.append(f"{name}:{call.lineno} names {sorted(named)}, given {sorted(given)}")
    assert not wrong, wrong


def test_the_message_reads_as_french_text_and_keeps_its_template() -> None:
    error = NotFound("Tâche %(id)s introuvable.", id=42)
    assert str(error) == error.message == "Tâche 42 introuvable."
    assert error.message.template == "Tâche %(id)s introuvable."
    assert error.message.params == {"id": 42}
    assert error.status == 404


def test_dates_in_the_french_text_are_written_the_agency_s_way() -> None:
    day = ValidationError("Le %(day)s est déjà un jour férié.", "day", day=dt.date(2026, 5, 1))
    assert str(day) == "Le 01/05/2026 est déjà un jour férié."
    assert day.field == "day"
    assert day.message.params == {"day": dt.date(2026, 5, 1)}
    moment = dt.datetime(2026, 3, 9, 14, 5, tzinfo=dt.UTC)
    done = Conflict("Traitée le %(when)s.", when=moment)
    assert str(done) == "Traitée le 09/03/2026 à 14:05."


def test_a_fixed_message_is_not_formatted() -> None:
    """Only a template given values is %-formatted: a fixed message may hold a bare %."""
    assert str(ValidationError("Respect (%) inconnu.")) == "Respect (%) inconnu."
    assert ValidationError("Mot de passe trop court.", field="password").field == "password"


def test_a_message_passed_on_keeps_its_template() -> None:
    first = NotFound("Utilisateur inconnu : %(username)s", username="said")
    again = PermissionDenied(first.message)
    assert str(again) == "Utilisateur inconnu : said"
    assert again.message.template == "Utilisateur inconnu : %(username)s"
    assert again.message.params == {"username": "said"}


def test_a_copied_error_keeps_its_text_and_template() -> None:
    """Copying (and pickling) rebuilds the error from its args: the Message itself."""
    error = NotFound("Tâche %(id)s introuvable.", id=7)
    copied = copy.deepcopy(error)
    assert str(copied) == "Tâche 7 introuvable."
    assert isinstance(copied.message, Message)
    assert copied.message.template == "Tâche %(id)s introuvable."
    assert copied.message.params == {"id": 7}


def test_labels_are_plain_text() -> None:
    error = ValidationError(
        "La suite « %(outcome)s » demande : %(f)s.", outcome=Label("Répondre"), f="x"
    )
    assert str(error) == "La suite « Répondre » demande : x."
    assert isinstance(error.message.params["outcome"], Label)
    assert isinstance(error, GedError)


def test_the_extractor_lists_templates_and_both_branches_of_a_choice() -> None:
    source = b"""
FIXED = "Courrier introuvable."
def f(text, day):
    raise NotFound(FIXED)
    raise NotFound("Le %(day)s n'est pas un jour f\xc3\xa9ri\xc3\xa9.", day=day)
    raise ValidationError(
        "Sens inconnu : %(text)s." if text else "Le sens est obligatoire.", text=text
    )
    raise ConfigurationError("registry.chrono_format: %(error)s", error=text)
    raise _Unresolved(Message("Entit\xc3\xa9 %(unit)s absente.", {"unit": text}), True)
"""
    found = [m for _, _, m, _ in extract_service_errors(io.BytesIO(source), {}, (), {})]
    assert found == [
        "Courrier introuvable.",
        "Le %(day)s n'est pas un jour férié.",
        "Sens inconnu : %(text)s.",
        "Le sens est obligatoire.",
        "Entité %(unit)s absente.",
    ]


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_every_error_a_person_reads_is_extracted(name: str) -> None:
    source = f'raise {name}("Message %(x)s.", x=1)'.encode()
    found = [m for _, _, m, _ in extract_service_errors(io.BytesIO(source), {}, (), {})]
    assert found == ["Message %(x)s."]
