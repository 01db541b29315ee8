"""Files the registry pages send: the register as CSV, and the header that names a download."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from urllib.parse import quote

# Column order and French headings of the legal register (keys of ``Registry.export`` rows).
REGISTER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("chrono", "N° d'ordre"),
    ("date", "Date"),
    ("letter_date", "Date de la lettre"),
    ("correspondent", "Correspondant"),
    ("subject", "Objet"),
    ("reference", "Référence"),
    ("type", "Type"),
    ("units", "Entités"),
    ("status", "Statut"),
    ("due_on", "Échéance"),
)

# A spreadsheet runs a cell that starts with one of these as a formula (OWASP "CSV injection").
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_UNSAFE_ASCII = re.compile(r"[^A-Za-z0-9._-]+")


def neutralise_formula(cell: str) -> str:
    """Prefix a would-be formula with an apostrophe: the spreadsheet shows it as text."""
    return "'" + cell if cell.startswith(_FORMULA_STARTS) else cell


def register_csv(rows: Sequence[Mapping[str, str]]) -> bytes:
    """The register as CSV for French Excel.

    Semicolons, because French Windows uses the comma as decimal separator and Excel splits
    CSV on the regional list separator, which is then ``;``: a comma-separated file opens as one
    column. A UTF-8 byte order mark, because without it Excel reads the file as Windows-1252 and
    garbles accents and Arabic. CRLF line ends, as RFC 4180 and Excel expect.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([heading for _key, heading in REGISTER_COLUMNS])
    for row in rows:
        writer.writerow(
            [neutralise_formula(row.get(key, "")) for key, _heading in REGISTER_COLUMNS]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def content_disposition(kind: str, filename: str) -> str:
    """``inline`` or ``attachment`` with an ASCII fallback and the exact UTF-8 name (RFC 6266)."""
    folded = unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
    fallback = _UNSAFE_ASCII.sub("_", folded).strip("._") or "document"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
