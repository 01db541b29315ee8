"""A pybabel extractor for the messages ged's services raise (babel.cfg, ``[ged_errors: …]``).

The services stay free of Flask-Babel: they raise ``GedError`` subclasses with French text, and
the web layer shows ``translate(exc.message)``. This extractor lists the fixed texts so that the
catalogues carry them; a message built with values (an f-string) has no msgid and stays French.
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
            and node.func.id in ERRORS
            and node.args
        ):
            continue
        first = node.args[0]
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            yield node.lineno, "gettext", first.value, []
        elif isinstance(first, ast.Name) and first.id in constants:
            yield node.lineno, "gettext", constants[first.id], []


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
