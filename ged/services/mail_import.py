"""Importing a legacy paper register (CSV): each valid row becomes a registered mail.

The file is checked as a whole first (encoding, header): a file-level problem stops everything
before any row is written. Rows are then registered one at a time, in file order, each in its
own transaction through ``Registry.register``, so chronos follow the file and a refused row
leaves nothing behind while the rows around it are still imported.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from ged.domain.errors import GedError, ValidationError
from ged.domain.model import Direction, Priority
from ged.services.audit import Actor
from ged.services.mail import MailInput, Registry, _validate_fields

DELIMITERS = (";", ",")

# Canonical column -> accepted header spellings (compared without accents, case or spaces).
COLUMNS: dict[str, tuple[str, ...]] = {
    "direction": ("direction", "sens"),
    "date": ("date", "mail_date", "date_reception", "date_envoi"),
    "correspondent": ("correspondent", "correspondant", "expediteur", "destinataire"),
    "subject": ("subject", "objet"),
    "reference": ("reference", "sender_reference", "reference_expediteur"),
    "type": ("type", "type_code", "code_type"),
    "units": ("units", "unit_codes", "entites", "entite", "services", "unites"),
    "confidential": ("confidential", "confidentiel"),
    "priority": ("priority", "priorite"),
}
REQUIRED_COLUMNS = ("direction", "date", "correspondent", "subject", "units")

_DIRECTIONS = {
    "incoming": Direction.INCOMING,
    "arrivee": Direction.INCOMING,
    "a": Direction.INCOMING,
    "outgoing": Direction.OUTGOING,
    "depart": Direction.OUTGOING,
    "d": Direction.OUTGOING,
    "internal": Direction.INTERNAL,
    "interne": Direction.INTERNAL,
    "i": Direction.INTERNAL,
}
_PRIORITIES = {
    "": Priority.NORMAL,
    "normal": Priority.NORMAL,
    "normale": Priority.NORMAL,
    "urgent": Priority.URGENT,
    "urgente": Priority.URGENT,
    "very_urgent": Priority.VERY_URGENT,
    "tres_urgent": Priority.VERY_URGENT,
    "tres_urgente": Priority.VERY_URGENT,
}
_TRUE = {"oui", "o", "yes", "y", "true", "vrai", "1", "x"}
_FALSE = {"", "non", "n", "no", "false", "faux", "0"}
_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y")
MIN_YEAR = 1900
_UNIT_SEPARATORS = re.compile(r"[\s,;|+]+")


def _key(text: str) -> str:
    """Lower case, no accents, words joined by ``_``: how headers and words are compared."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "_".join(re.split(r"[\s\-_']+", bare.strip().lower())).strip("_")


_HEADER_NAMES = {_key(alias): column for column, aliases in COLUMNS.items() for alias in aliases}


@dataclass(frozen=True)
class RegisterRow:
    """One data row of the file, as text, with the line it starts on (1 is the header)."""

    line: int
    values: dict[str, str]
    extra: int = 0  # cells beyond the header's columns (negative: missing cells)


@dataclass(frozen=True)
class RegisterFile:
    delimiter: str
    columns: tuple[str, ...]
    rows: Sequence[RegisterRow]


@dataclass(frozen=True)
class Rejected:
    line: int
    reason: str


@dataclass(frozen=True)
class Imported:
    line: int
    chrono: str  # empty in a dry run


@dataclass
class ImportReport:
    dry_run: bool
    imported: list[Imported] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)

    @property
    def total(self) -> int:
        return len(self.imported) + len(self.rejected)

    @property
    def ok(self) -> bool:
        return not self.rejected


# --- reading the file ---------------------------------------------------------------------


def read_register(content: bytes, delimiter: str | None = None) -> RegisterFile:
    """Decode and split the file; a ``ValidationError`` here concerns the whole file.

    UTF-8 with or without a byte order mark; ``;`` or ``,`` between cells, guessed from the
    header line unless given.
    """
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = content[: exc.start].count(b"\n") + 1
        raise ValidationError(
            "Le fichier n'est pas en UTF-8 (ligne %(line)s) : enregistrez-le en « CSV UTF-8 ».",
            line=line,
        ) from None
    lines = text.splitlines()
    header_line = next((line for line in lines if line.strip()), "")
    if not header_line:
        raise ValidationError("Le fichier est vide : il manque la ligne d'en-tête.")
    if delimiter is None:
        delimiter = max(DELIMITERS, key=header_line.count)
    elif delimiter not in DELIMITERS:
        raise ValidationError("Séparateur accepté : « ; » ou « , ».")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        records = list(_records(reader))
    except csv.Error as exc:
        raise ValidationError(
            "Fichier CSV illisible à la ligne %(line)s : %(error)s.",
            line=reader.line_num,
            error=exc,
        ) from None
    if not records:
        raise ValidationError("Le fichier est vide : il manque la ligne d'en-tête.")
    _, header = records[0]
    columns = _columns(header)
    rows = []
    for line, cells in records[1:]:
        values = {
            column: cell.strip() for column, cell in zip(columns, cells, strict=False) if column
        }
        rows.append(RegisterRow(line, values, len(cells) - len(columns)))
    return RegisterFile(delimiter, tuple(c for c in columns if c), rows)


def _records(reader: Iterator[list[str]]) -> Iterator[tuple[int, list[str]]]:
    """Non-blank records with the line each starts on (a quoted cell may span lines)."""
    line_num = getattr(reader, "line_num", 0)
    for cells in reader:
        start = line_num + 1
        line_num = getattr(reader, "line_num", line_num + 1)
        if any(cell.strip() for cell in cells):
            yield start, cells


def _columns(header: list[str]) -> list[str]:
    columns: list[str] = []
    unknown = []
    for name in header:
        key = _key(name)
        column = _HEADER_NAMES.get(key, "")
        if not column:
            if key:
                unknown.append(name.strip())
        elif column in columns:
            raise ValidationError(
                "La colonne « %(column)s » apparaît deux fois.", column=name.strip()
            )
        columns.append(column)
    if unknown:
        raise ValidationError(
            "Colonne(s) inconnue(s) : %(unknown)s. Colonnes attendues : %(columns)s.",
            unknown=", ".join(f"« {n} »" for n in unknown),
            columns=", ".join(COLUMNS),
        )
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise ValidationError(
            "Colonne(s) obligatoire(s) manquante(s) : %(columns)s.", columns=", ".join(missing)
        )
    return columns


# --- importing ----------------------------------------------------------------------------


class RegisterImport:
    """Maps rows to ``MailInput`` (codes to ids, French words to values), then registers them."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._units = {u.code.upper(): u.id for u in registry.units()}
        self._types = {t.code.upper(): t.id for t in registry.mail_types()}

    def run(
        self,
        actor: Actor,
        register: RegisterFile,
        dry_run: bool = False,
        on_row: Callable[[RegisterRow], None] | None = None,
    ) -> ImportReport:
        """Register every valid row in file order; collect the others with their reason.

        A dry run checks every row as a real run would, short of writing anything.
        """
        report = ImportReport(dry_run=dry_run)
        for row in register.rows:
            try:
                data = self.to_input(row)
                if dry_run:
                    _validate_fields(data)
                    chrono = ""
                else:
                    chrono = self._registry.register(actor, data).chrono
            except GedError as exc:
                report.rejected.append(Rejected(row.line, exc.message))
            else:
                report.imported.append(Imported(row.line, chrono))
            if on_row is not None:
                on_row(row)
        return report

    def to_input(self, row: RegisterRow) -> MailInput:
        if row.extra > 0:
            raise ValidationError(
                "%(count)s cellule(s) de trop par rapport à l'en-tête.", count=row.extra
            )
        if row.extra < 0:
            raise ValidationError(
                "%(count)s cellule(s) manquante(s) par rapport à l'en-tête.", count=-row.extra
            )
        get = row.values.get
        mail_date = _date(get("date", ""))
        if mail_date > self._registry.today():
            raise ValidationError("La date %(date)s est dans le futur.", date=get("date"))
        type_code = get("type", "").upper()
        mail_type_id = None
        if type_code:
            mail_type_id = self._types.get(type_code)
            if mail_type_id is None:
                raise ValidationError(
                    "Type de courrier inconnu ou désactivé : « %(type)s ».", type=get("type")
                )
        return MailInput(
            direction=_direction(get("direction", "")).value,
            subject=get("subject", ""),
            mail_date=mail_date,
            correspondent_name=get("correspondent", ""),
            sender_reference=get("reference", ""),
            mail_type_id=mail_type_id,
            priority=_priority(get("priority", "")).value,
            confidential=_boolean(get("confidential", "")),
            unit_ids=self._unit_ids(get("units", "")),
        )

    def _unit_ids(self, text: str) -> tuple[int, ...]:
        codes = [c.upper() for c in _UNIT_SEPARATORS.split(text) if c]
        unknown = [c for c in codes if c not in self._units]
        if unknown:
            raise ValidationError(
                "Entité(s) inconnue(s) ou désactivée(s) : %(units)s.", units=", ".join(unknown)
            )
        return tuple(dict.fromkeys(self._units[c] for c in codes))


def _direction(text: str) -> Direction:
    found = _DIRECTIONS.get(_key(text))
    if found is None:
        raise ValidationError(
            "Sens inconnu : « %(text)s » (arrivée, départ ou interne)."
            if text
            else "Le sens du courrier est obligatoire (arrivée, départ ou interne).",
            text=text,
        )
    return found


def _date(text: str) -> dt.date:
    if not text:
        raise ValidationError("La date est obligatoire (JJ/MM/AAAA ou AAAA-MM-JJ).")
    for fmt in _DATE_FORMATS:
        try:
            day = dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        # strptime reads "5/3/24" as the year 24: a year has four digits here.
        if day.year >= MIN_YEAR:
            return day
    raise ValidationError("Date illisible : « %(text)s » (JJ/MM/AAAA ou AAAA-MM-JJ).", text=text)


def _priority(text: str) -> Priority:
    found = _PRIORITIES.get(_key(text))
    if found is None:
        raise ValidationError(
            "Priorité inconnue : « %(text)s » (normale, urgente, très urgente).", text=text
        )
    return found


def _boolean(text: str) -> bool:
    key = _key(text)
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ValidationError("Confidentialité illisible : « %(text)s » (oui ou non).", text=text)
