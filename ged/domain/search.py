"""The search port: what the product asks of a full-text index, whatever engine answers.

Backends (Whoosh, tantivy) live in ``ged.adapters``; nothing else knows which one runs.
Permissions are part of every query (``Visibility``): a backend MUST apply them to hits, counts,
facets, highlights and suggestions alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

# A library document without a unit belongs to the whole agency: indexed under this unit id.
AGENCY_UNIT = 0
FACET_FIELDS = ("direction", "mail_type", "unit", "year", "status")
MAX_QUERY_LENGTH = 500


@dataclass(frozen=True)
class IndexedItem:
    """One searchable thing: a mail (with the text of its files) or a library document."""

    key: str  # "mail:42", "document:7"
    kind: str  # "mail" | "document"
    object_id: int
    title: str
    date: dt.date
    chrono: str = ""
    correspondent: str = ""
    body: str = ""
    tags: tuple[str, ...] = ()
    mail_type: str = ""
    direction: str = ""
    status: str = ""
    language: str = ""
    units: tuple[int, ...] = ()
    people: tuple[int, ...] = ()  # user ids who see it by name, confidential or not
    confidential: bool = False
    # Who holds or held a task on it (``permissions.task_holders``): they see it unless it is
    # confidential. Assignees apart, because a delegate also sees what their delegator holds.
    task_assignees: tuple[int, ...] = ()
    task_users: tuple[int, ...] = ()  # named candidates and the people who completed a task
    task_units: tuple[int, ...] = ()  # unit pools a task was offered to


@dataclass(frozen=True)
class Visibility:
    """What one user may see, computed by ``ged.services.permissions``."""

    everything: bool = False  # auditors and the system
    all_open_mail: bool = False  # admin, registrar: every non-confidential mail
    all_open_documents: bool = False  # admin: every non-confidential library document
    units: frozenset[int] = frozenset()
    user_id: int | None = None
    # People this user stands in for today (delegations): their assigned tasks count as theirs.
    delegators: frozenset[int] = frozenset()


@dataclass(frozen=True)
class SearchQuery:
    text: str = ""
    kind: str = ""
    direction: str = ""
    mail_type: str = ""
    unit: int | None = None
    status: str = ""
    year: int | None = None
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    sort: str = "relevance"  # relevance | date | -date
    page: int = 1
    per_page: int = 20

    def term_filters(self) -> list[tuple[str, str]]:
        """The exact-value field filters this query sets, as (index field, term) pairs."""
        pairs = (
            ("kind", self.kind),
            ("direction", self.direction),
            ("mail_type", self.mail_type),
            ("status", self.status),
            ("unit", "" if self.unit is None else str(self.unit)),
            ("year", "" if self.year is None else str(self.year)),
        )
        return [(name, value) for name, value in pairs if value]


@dataclass(frozen=True)
class SearchHit:
    key: str
    kind: str
    object_id: int
    title: str
    chrono: str
    date: dt.date
    score: float
    highlight: str = ""  # HTML: escaped text with <mark> around matches


@dataclass(frozen=True)
class SearchResults:
    hits: Sequence[SearchHit]
    total: int
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    suggestion: str | None = None


class SearchIndex(Protocol):
    def upsert(self, items: Iterable[IndexedItem]) -> int: ...

    def delete(self, keys: Iterable[str]) -> None: ...

    def search(self, query: SearchQuery, visibility: Visibility) -> SearchResults: ...

    def lookup_chrono(
        self, prefix: str, visibility: Visibility, limit: int = 10
    ) -> list[SearchHit]: ...

    def count(self) -> int: ...

    def recreate(self) -> None: ...

    def close(self) -> None: ...
