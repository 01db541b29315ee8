"""A pybabel extractor for the messages ged's services raise (babel.cfg, ``[ged_errors: …]``).

The services stay free of Flask-Babel: they raise ``GedError`` subclasses with a French template
and its values (``raise NotFound("Tâche %(id)s introuvable.", id=task_id)``), and the web layer
shows ``translate(exc.message)``. This extractor lists the templates so that the catalogues carry
them; tests/unit/test_i18n_service_errors.py refuses a message built as an f-string, which would
have no msgid.
It also lists what ged writes in a person's language outside a request (e-mails, the cover
sheet): the ``language.gettext("…")`` and ``language.ngettext("…", "…", n)`` calls of
``ged.adapters.catalogues.Language``.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

import defusedxml.ElementTree as DefusedET

# ConfigurationError and StorageError speak to the operator (in the logs), not to a person.
# A ``Message(template, values)`` built ahead of its error is extracted like an error's, and so
# is a ``Label("…")`` written in a service (a sentence a message names, translated with it).
ERRORS = frozenset(
    {
        "GedError",
        "ValidationError",
        "NotFound",
        "PermissionDenied",
        "Conflict",
        "AuthenticationFailed",
    }
)


def extract_service_errors(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[tuple[int, str, str | tuple[str, str], list[str]]]:
    tree = ast.parse(fileobj.read())
    constants = {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            texts = _leading_texts(node.args)
            if node.func.attr == "gettext" and texts:
                yield node.lineno, "gettext", texts[0], []
            elif node.func.attr == "ngettext" and len(texts) >= 2:
                yield node.lineno, "ngettext", (texts[0], texts[1]), []
            continue
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and (node.func.id in ERRORS or node.func.id in ("Message", "Label"))
            and node.args
        ):
            continue
        for text in _texts(node.args[0], constants):
            yield node.lineno, "gettext", text, []


def _texts(node: ast.expr, constants: Mapping[str, str]) -> Iterator[str]:
    """The templates a message argument can be: a literal, a module constant, or either
    branch of ``a if condition else b``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.Name) and node.id in constants:
        yield constants[node.id]
    elif isinstance(node, ast.IfExp):
        yield from _texts(node.body, constants)
        yield from _texts(node.orelse, constants)


def _leading_texts(args: list[ast.expr]) -> list[str]:
    """The string literals a call starts with (its msgid, and a plural's)."""
    texts: list[str] = []
    for arg in args:
        if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
            break
        texts.append(arg.value)
    return texts


BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
# The names and help texts a person reads: circuits, steps, and each one's documentation.
NAMED = ("process", "participant", "userTask")


def extract_bpmn(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[tuple[int, str, str, list[str]]]:
    """Step names and documentation of the bundled circuits (French, like every msgid)."""
    root = DefusedET.parse(fileobj).getroot()
    if root is None:
        return
    named = {BPMN + name for name in NAMED}
    for element in root.iter():
        if element.tag in named and element.get("name"):
            yield 0, "gettext", str(element.get("name")), []
        elif element.tag == BPMN + "documentation" and (element.text or "").strip():
            yield 0, "gettext", (element.text or "").strip(), []
