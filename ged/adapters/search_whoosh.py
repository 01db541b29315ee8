"""Whoosh backend of the search port (``ged.domain.search``), with the shared analysis.

Pitfalls measured on this Whoosh family (docs/decisions.md): date ranges and permission filters
go in ``filter=`` (inside ``And`` some hits were silently dropped), date ranges are built in code,
and one writer at a time (the background worker) keeps the index.
"""

from __future__ import annotations

import datetime as dt
import html
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from whoosh import fields, index, qparser, query, sorting
from whoosh.analysis import Token, Tokenizer
from whoosh.collectors import TimeLimit, TimeLimitCollector
from whoosh.highlight import ContextFragmenter, HtmlFormatter
from whoosh.searching import Searcher

from ged.adapters.analysis import TOKEN_RE, analyse, analyse_word, normalise_name
from ged.domain.errors import Conflict, ValidationError
from ged.domain.search import (
    AGENCY_UNIT,
    MAX_QUERY_LENGTH,
    IndexedItem,
    SearchHit,
    SearchQuery,
    SearchResults,
    Visibility,
)

INDEX_NAME = "ged"
QUERY_TIME_LIMIT = 5.0
# How long a writer waits for the index's write lock before reporting it (``Conflict``).
LOCK_TIMEOUT = 30.0
FIELD_ALIASES = {"correspondent": ["from", "de"], "mail_type": ["type"], "chrono": ["chrono"]}


class GedTokenizer(Tokenizer):  # type: ignore[misc]
    """Whoosh tokenizer emitting the terms of ``ged.adapters.analysis`` with their offsets."""

    def __eq__(self, other: object) -> bool:
        return other.__class__ is self.__class__

    def __hash__(self) -> int:
        return hash(self.__class__)

    def __call__(
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: Any,
    ) -> Iterator[Token]:
        token = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        if not tokenize:
            word = analyse_word(value) or value
            token.original = token.text = word
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = start_pos
            if chars:
                token.startchar, token.endchar = start_char, start_char + len(value)
            yield token
            return
        for term in analyse(value):
            token.text = term.text
            token.boost = 1.0
            token.stopped = False
            if keeporiginal:
                token.original = value[term.start : term.end]
            if positions:
                token.pos = start_pos + term.position
            if chars:
                token.startchar = start_char + term.start
                token.endchar = start_char + term.end
            yield token


class NameTokenizer(Tokenizer):  # type: ignore[misc]
    """Unstemmed, folded words: the dictionary for "did you mean"."""

    def __eq__(self, other: object) -> bool:
        return other.__class__ is self.__class__

    def __hash__(self) -> int:
        return hash(self.__class__)

    def __call__(
        self, value: str, positions: bool = False, chars: bool = False, **kwargs: Any
    ) -> Iterator[Token]:
        token = Token(positions, chars, mode=kwargs.get("mode", ""))
        for pos, word in enumerate(normalise_name(value).split()):
            token.text = word
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = pos
            yield token


def make_schema() -> fields.Schema:
    analyzer = GedTokenizer()
    return fields.Schema(
        key=fields.ID(stored=True, unique=True),
        kind=fields.ID(stored=True),
        object_id=fields.STORED(),
        title=fields.TEXT(analyzer=analyzer, stored=True, field_boost=2.0),
        chrono=fields.ID(stored=True, sortable=True),
        correspondent=fields.TEXT(analyzer=analyzer, stored=True, field_boost=1.5),
        body=fields.TEXT(analyzer=analyzer, stored=True),
        spell=fields.TEXT(analyzer=NameTokenizer(), phrase=False),
        tags=fields.KEYWORD(stored=True, lowercase=True, commas=True),
        mail_type=fields.ID(stored=True),
        direction=fields.ID(stored=True),
        status=fields.ID(stored=True),
        language=fields.ID(stored=True),
        year=fields.ID(stored=True),
        unit=fields.KEYWORD(stored=True),
        people=fields.KEYWORD(),
        confidential=fields.ID(),
        date=fields.DATETIME(stored=True, sortable=True),
    )


class WhooshSearchIndex:
    def __init__(self, directory: Path, lock_timeout: float = LOCK_TIMEOUT) -> None:
        self.directory = directory
        self.lock_timeout = lock_timeout
        self._index: index.Index | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def ix(self) -> index.Index:
        if self._index is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            if index.exists_in(str(self.directory), indexname=INDEX_NAME):
                self._index = index.open_dir(str(self.directory), indexname=INDEX_NAME)
            else:
                self._index = index.create_in(
                    str(self.directory), make_schema(), indexname=INDEX_NAME
                )
        return self._index

    def recreate(self) -> None:
        """Start from an empty index (``ged reindex``): a lost or corrupt index is rebuilt."""
        self.close()
        if self.directory.exists():
            shutil.rmtree(self.directory)
        self.directory.mkdir(parents=True)
        self._index = index.create_in(str(self.directory), make_schema(), indexname=INDEX_NAME)

    def close(self) -> None:
        if self._index is not None:
            self._index.close()
            self._index = None

    def count(self) -> int:
        with self.ix.searcher() as searcher:
            return int(searcher.doc_count())

    # --- writing ------------------------------------------------------------------------------

    def _writer(self) -> Any:
        """The index's only writer. The lock is an ``fcntl.flock`` on ``ged_WRITELOCK``: the
        kernel frees it when its holder dies, even by SIGKILL (the file stays, unlocked), so
        only a live process can keep it (tests/integration/search/test_recovery.py)."""
        try:
            return self.ix.writer(timeout=self.lock_timeout)
        except index.LockError:
            raise Conflict(
                "L'index de recherche est verrouillé par un autre processus qui écrit "
                f"(fichier {INDEX_NAME}_WRITELOCK dans {self.directory}) : un seul worker doit "
                "tourner. Arrêtez l'autre, ou s'il est bloqué, arrêtez-le puis relancez "
                "`ged reindex`."
            ) from None

    def upsert(self, items: Iterable[IndexedItem]) -> int:
        writer = self._writer()
        count = 0
        try:
            for item in items:
                writer.update_document(**_fields_of(item))
                count += 1
        except BaseException:
            writer.cancel()
            raise
        writer.commit()
        return count

    def delete(self, keys: Iterable[str]) -> None:
        writer = self._writer()
        try:
            for key in keys:
                writer.delete_by_term("key", key)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    # --- reading ------------------------------------------------------------------------------

    def search(self, q: SearchQuery, visibility: Visibility) -> SearchResults:
        text = _checked_text(q.text)
        allowed = _permission_filter(visibility)
        with self.ix.searcher() as searcher:
            parsed = self._parse(searcher, text) if text else query.Every()
            conditions = [allowed, *self._field_filters(q)]
            combined = query.And(conditions)
            page = max(1, q.page)
            per_page = min(max(1, q.per_page), 100)
            facets = {
                "direction": sorting.FieldFacet("direction"),
                "mail_type": sorting.FieldFacet("mail_type"),
                "unit": sorting.FieldFacet("unit", allow_overlap=True),
                "year": sorting.FieldFacet("year"),
                "status": sorting.FieldFacet("status"),
            }
            sortedby: Any = None
            reverse = False
            if q.sort in ("date", "-date") or not text:
                sortedby = "date"
                reverse = q.sort != "date"
            collector = searcher.collector(
                limit=page * per_page,
                sortedby=sortedby,
                reverse=reverse,
                groupedby=facets,
                filter=combined,
            )
            timed = TimeLimitCollector(collector, timelimit=QUERY_TIME_LIMIT)
            try:
                searcher.search_with_collector(parsed, timed)
            except TimeLimit:
                raise ValidationError(
                    "La recherche a pris trop de temps : précisez les mots recherchés."
                ) from None
            results = timed.results()
            total = len(results)
            start = (page - 1) * per_page
            formatter = HtmlFormatter(tagname="mark", between=" … ")
            results.formatter = formatter
            results.fragmenter = ContextFragmenter(maxchars=200, surround=60)
            hits = []
            for hit in results[start : start + per_page]:
                snippet = hit.highlights("body", top=2) or hit.highlights("title") if text else ""
                hits.append(
                    SearchHit(
                        key=hit["key"],
                        kind=hit["kind"],
                        object_id=int(hit["object_id"]),
                        title=hit.get("title", ""),
                        chrono=hit.get("chrono", ""),
                        date=hit["date"].date(),
                        score=float(hit.score or 0.0),
                        highlight=snippet or html.escape(hit.get("body", "")[:200]),
                    )
                )
            facet_counts = {
                name: sorted(
                    ((str(value), len(docs)) for value, docs in results.groups(name).items()),
                    key=lambda pair: (-pair[1], pair[0]),
                )
                for name in facets
            }
            suggestion = None
            if text and total == 0:
                suggestion = self._did_you_mean(searcher, text, combined)
            return SearchResults(hits, total, facet_counts, suggestion)

    def lookup_chrono(
        self, prefix: str, visibility: Visibility, limit: int = 10
    ) -> list[SearchHit]:
        prefix = prefix.strip().upper()[:40]
        if len(prefix) < 2:
            return []
        with self.ix.searcher() as searcher:
            results = searcher.search(
                query.Prefix("chrono", prefix),
                filter=_permission_filter(visibility),
                limit=limit,
                sortedby="chrono",
            )
            return [
                SearchHit(
                    key=hit["key"],
                    kind=hit["kind"],
                    object_id=int(hit["object_id"]),
                    title=hit.get("title", ""),
                    chrono=hit.get("chrono", ""),
                    date=hit["date"].date(),
                    score=0.0,
                )
                for hit in results
            ]

    def _parse(self, searcher: Searcher, text: str) -> query.Query:
        parser = qparser.MultifieldParser(
            ["title", "body", "correspondent", "tags"],
            schema=searcher.schema,
            group=qparser.AndGroup,
        )
        # No wildcard or regex syntax: "a*" over a large term list and regexes cost unbounded time.
        parser.remove_plugin_class(qparser.WildcardPlugin)
        parser.add_plugin(qparser.FieldAliasPlugin(FIELD_ALIASES))
        return parser.parse(text)

    @staticmethod
    def _field_filters(q: SearchQuery) -> list[query.Query]:
        out: list[query.Query] = []
        for name, value in (
            ("kind", q.kind),
            ("direction", q.direction),
            ("mail_type", q.mail_type),
            ("status", q.status),
        ):
            if value:
                out.append(query.Term(name, value))
        if q.unit is not None:
            out.append(query.Term("unit", str(q.unit)))
        if q.year is not None:
            out.append(query.Term("year", str(q.year)))
        if q.date_from or q.date_to:
            start = dt.datetime.combine(q.date_from, dt.time.min) if q.date_from else None
            end = dt.datetime.combine(q.date_to, dt.time.max) if q.date_to else None
            out.append(query.DateRange("date", start, end))
        return out

    def _did_you_mean(self, searcher: Searcher, text: str, allowed: query.Query) -> str | None:
        """A corrected query, offered only if it finds something this user may see."""
        corrector = searcher.corrector("spell")
        changed = False
        words = []
        for word in TOKEN_RE.findall(text):
            folded = normalise_name(word)
            if not folded or searcher.reader().frequency("spell", folded) > 0:
                words.append(word)
                continue
            candidates = corrector.suggest(folded, limit=1, maxdist=2)
            if candidates:
                words.append(candidates[0])
                changed = True
            else:
                words.append(word)
        if not changed:
            return None
        suggestion = " ".join(words)
        found = searcher.search(self._parse(searcher, suggestion), filter=allowed, limit=1)
        return suggestion if len(found) else None


def _checked_text(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > MAX_QUERY_LENGTH:
        raise ValidationError(
            f"La recherche est trop longue ({len(text)} caractères, {MAX_QUERY_LENGTH} au plus)."
        )
    return text


def _permission_filter(visibility: Visibility) -> query.Query:
    if visibility.everything:
        return query.Every()
    named = (
        [query.Term("people", str(visibility.user_id))] if visibility.user_id is not None else []
    )
    open_ = query.Term("confidential", "0")
    units = [query.Term("unit", str(u)) for u in sorted(visibility.units)]
    mail_rule: query.Query = (
        open_
        if visibility.all_open_mail
        else query.And([open_, query.Or(units)])
        if units
        else query.NullQuery
    )
    doc_units = [*units, query.Term("unit", str(AGENCY_UNIT))]
    doc_rule: query.Query = (
        open_ if visibility.all_open_documents else query.And([open_, query.Or(doc_units)])
    )
    return query.Or(
        [
            *named,
            query.And([query.Term("kind", "mail"), mail_rule]),
            query.And([query.Term("kind", "document"), doc_rule]),
        ]
    )


def _fields_of(item: IndexedItem) -> dict[str, Any]:
    units = item.units or ((AGENCY_UNIT,) if item.kind == "document" else ())
    return {
        "key": item.key,
        "kind": item.kind,
        "object_id": item.object_id,
        "title": item.title,
        "chrono": item.chrono.upper(),
        "correspondent": item.correspondent,
        "body": item.body,
        "spell": " ".join((item.title, item.correspondent, item.body)),
        "tags": ",".join(item.tags),
        "mail_type": item.mail_type,
        "direction": item.direction,
        "status": item.status,
        "language": item.language,
        "year": str(item.date.year),
        "unit": " ".join(str(u) for u in units),
        "people": " ".join(str(p) for p in item.people),
        "confidential": "1" if item.confidential else "0",
        "date": dt.datetime.combine(item.date, dt.time.min),
    }
