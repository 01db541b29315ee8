"""tantivy backend of the search port (``ged.domain.search``), with the shared analysis.

tantivy (a Rust library, embedded through its Python wheel) indexes what
``ged.adapters.analysis`` produces: the text fields hold the analysed terms joined by spaces,
split again by tantivy's ``whitespace`` tokenizer, so French and Arabic match exactly as they do
with Whoosh. The original text is kept in stored-only byte fields, and highlights are cut from
it in Python with the same analysis, so they mark the words the user typed as they were written.

Permissions are one keyword field, ``access``, holding a token per way of seeing an item
(``mu7``: open mail of unit 7, ``du0``: open library document of the whole agency, ``p12``:
named user 12, ``mopen``/``dopen``: any open mail/document); a ``Visibility`` becomes one
term-set query, applied to hits, totals, facets, highlights and suggestions alike.

One writer at a time: each write opens tantivy's writer (its lock is an ``flock`` on
``.tantivy-writer.lock``, released by the kernel when its holder dies), commits and lets go,
waiting for the segment merges it started so the index stays compact.
"""

from __future__ import annotations

import datetime as dt
import html
import re
import shutil
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import chain, islice
from pathlib import Path
from typing import Any

import tantivy

from ged.adapters.analysis import (
    TOKEN_RE,
    analyse_word,
    fold_name_word,
    normalise_name,
    words,
)
from ged.adapters.search_access import access_tokens, visibility_tokens
from ged.domain.errors import Conflict, StorageError, ValidationError
from ged.domain.search import (
    AGENCY_UNIT,
    FACET_FIELDS,
    MAX_QUERY_LENGTH,
    IndexedItem,
    SearchHit,
    SearchQuery,
    SearchResults,
    Visibility,
)

# Bumped when the fields change: an index of another layout is refused with a clear message.
SCHEMA_VERSION = "1"
SCHEMA_MARKER = "ged-schema"
WRITER_LOCK = ".tantivy-writer.lock"
LOCK_TIMEOUT = 30.0
WRITER_HEAP = 256_000_000
WRITER_THREADS = 2
# One item (the worker after an edit) or a few: one indexing thread, a small memory budget.
SMALL_WRITER_HEAP = 40_000_000
BULK_ITEMS = 64
# Longer "words" are OCR noise; tantivy refuses terms over 65,530 bytes anyway.
MAX_TERM_CHARS = 60
CHUNK_CACHE = 131_072
TEXT_FIELDS = {"title": 2.0, "body": 1.0, "correspondent": 1.5}
FIELD_ALIASES = {"from": "correspondent", "de": "correspondent", "type": "mail_type"}
# ``field:value`` a user may type; values of the keyword fields are matched exactly.
KEYWORD_FIELDS = ("kind", "mail_type", "direction", "status", "language", "year", "unit")
SNIPPET_CHARS = 200
SNIPPET_SURROUND = 60
SNIPPET_FRAGMENTS = 2
SUGGESTION_DOCS = 20
LEXER = re.compile(
    r"\s*(?:(?P<open>\()|(?P<close>\))|(?P<field>[A-Za-z_]+):(?=[^\s()])"
    r'|(?P<phrase>"[^"]*"?)|(?P<word>[^\s()"]+))'
)


def make_schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field("key", stored=True, tokenizer_name="raw")
    builder.add_text_field("kind", stored=True, fast=True, tokenizer_name="raw")
    builder.add_integer_field("object_id", stored=True)
    for name in TEXT_FIELDS:
        builder.add_text_field(name, tokenizer_name="whitespace")
        builder.add_bytes_field(f"{name}_text", stored=True)
    builder.add_text_field("chrono", stored=True, fast=True, tokenizer_name="raw")
    builder.add_text_field("spell", tokenizer_name="whitespace", index_option="basic")
    builder.add_text_field("tags", tokenizer_name="raw", index_option="basic")
    for name in KEYWORD_FIELDS:
        if name != "kind":
            builder.add_text_field(name, fast=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("access", tokenizer_name="raw", index_option="basic")
    builder.add_date_field("date", stored=True, indexed=True, fast=True)
    return builder.build()


class TantivySearchIndex:
    def __init__(self, directory: Path, lock_timeout: float = LOCK_TIMEOUT) -> None:
        self.directory = directory
        self.lock_timeout = lock_timeout
        self.schema = make_schema()
        self._index: tantivy.Index | None = None
        self._lock = threading.Lock()
        self._seen_meta: tuple[int, int, int] | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def ix(self) -> tantivy.Index:
        with self._lock:
            if self._index is None:
                self._index = self._open()
            return self._index

    def _open(self) -> tantivy.Index:
        path = str(self.directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        marker = self.directory / SCHEMA_MARKER
        if not tantivy.Index.exists(path):
            if any(self.directory.iterdir()):
                raise self._unreadable("des fichiers sans table des segments (meta.json)")
            created = tantivy.Index(self.schema, path=path, reuse=False)
            marker.write_text(SCHEMA_VERSION + "\n", encoding="utf-8")
            return created
        try:
            version = marker.read_text(encoding="utf-8").strip()
        except OSError:
            version = ""
        if version != SCHEMA_VERSION:
            raise self._unreadable(f"un index d'une autre version (schéma {version or '?'})")
        try:
            return tantivy.Index.open(path)
        except ValueError as exc:
            raise self._unreadable(str(exc)) from None

    def _unreadable(self, why: str) -> StorageError:
        return StorageError(
            f"L'index de recherche tantivy dans {self.directory} est illisible ({why}) : "
            "reconstruisez-le depuis la base avec `ged reindex`."
        )

    def recreate(self) -> None:
        """Start from an empty index (``ged reindex``): a lost or corrupt index is rebuilt."""
        self.close()
        if self.directory.exists():
            shutil.rmtree(self.directory)
        self.directory.mkdir(parents=True)
        with self._lock:
            self._index = self._open()

    def close(self) -> None:
        with self._lock:
            self._index = None

    def count(self) -> int:
        if self._index is not None and not (self.directory / "meta.json").exists():
            # The folder was deleted under this process, whose reader still sees the deleted
            # files: start again from what is there, so the sweep sees an empty index.
            self.close()
        return int(self._searcher().num_docs)

    def _searcher(self) -> tantivy.Searcher:
        ix = self.ix
        # A commit (by this process or the worker) replaces meta.json. Tantivy's own watcher
        # notices it only about half a second later, which a page opened right after the OCR
        # of its scan would pay: one stat per search (a few µs) sees it at once.
        try:
            meta = (self.directory / "meta.json").stat()
            seen = (meta.st_ino, meta.st_mtime_ns, meta.st_size)
        except OSError:
            seen = None
        if seen != self._seen_meta:
            self._seen_meta = seen
            ix.reload()
        return ix.searcher()

    # --- writing ------------------------------------------------------------------------------

    @contextmanager
    def _writer(self, bulk: bool) -> Iterator[tantivy.IndexWriter]:
        ix = self.ix
        deadline = time.monotonic() + self.lock_timeout
        heap, threads = (WRITER_HEAP, WRITER_THREADS) if bulk else (SMALL_WRITER_HEAP, 1)
        while True:
            try:
                writer = ix.writer(heap_size=heap, num_threads=threads)
                break
            except ValueError as exc:
                if "LockBusy" not in str(exc):
                    raise self._unreadable(str(exc)) from None
                if time.monotonic() >= deadline:
                    raise Conflict(
                        "L'index de recherche est verrouillé par un autre processus qui écrit "
                        f"(fichier {WRITER_LOCK} dans {self.directory}) : un seul worker doit "
                        "tourner. Arrêtez l'autre, ou s'il est bloqué, arrêtez-le puis relancez "
                        "`ged reindex`."
                    ) from None
                time.sleep(0.05)
        try:
            yield writer
        except BaseException:
            writer.rollback()
            raise
        else:
            writer.commit()
            # Merges started by this commit finish before the lock is let go (a merge is
            # started once every several commits; dropping the writer would abandon it).
            writer.wait_merging_threads()
        finally:
            del writer

    def upsert(self, items: Iterable[IndexedItem]) -> int:
        pending = iter(items)
        head = list(islice(pending, BULK_ITEMS))
        bulk = len(head) == BULK_ITEMS
        count = 0
        with self._writer(bulk) as writer:
            seen: set[str] | None = None
            if bulk:
                # Into an empty index (a rebuild) only a key met twice has an older copy to
                # drop: a delete per document costs a term lookup in every segment at commit.
                self.ix.reload()  # what another process committed before this writer got the lock
                if self.ix.searcher().num_docs == 0:
                    seen = set()
            for item in chain(head, pending):
                if seen is None or item.key in seen:
                    writer.delete_documents_by_term("key", item.key)
                else:
                    seen.add(item.key)
                writer.add_document(self._document(item))
                count += 1
        return count

    def delete(self, keys: Iterable[str]) -> None:
        with self._writer(bulk=False) as writer:
            for key in keys:
                writer.delete_documents_by_term("key", key)

    @staticmethod
    def _document(item: IndexedItem) -> tantivy.Document:
        doc = tantivy.Document()
        doc.add_text("key", item.key)
        doc.add_text("kind", item.kind)
        doc.add_integer("object_id", item.object_id)
        chunks: set[str] = set()
        for name in TEXT_FIELDS:
            text: str = getattr(item, name)
            parts = text.split()
            doc.add_text(name, " ".join(filter(None, map(_chunk_terms, parts))))
            doc.add_bytes(f"{name}_text", text.encode("utf-8"))
            chunks.update(parts)
        doc.add_text("chrono", item.chrono.upper())
        # "Did you mean" needs the words, not their frequencies (the field keeps no counts, so
        # a word given twice, as in "Ville" and "ville", costs nothing).
        doc.add_text("spell", " ".join(map(_chunk_spelling, chunks)))
        for tag in item.tags:
            doc.add_text("tags", tag.lower())
        for name in ("mail_type", "direction", "status", "language"):
            value: str = getattr(item, name)
            if value:
                doc.add_text(name, value)
        doc.add_text("year", str(item.date.year))
        units = item.units or ((AGENCY_UNIT,) if item.kind == "document" else ())
        for unit in units:
            doc.add_text("unit", str(unit))
        for token in access_tokens(item):
            doc.add_text("access", token)
        doc.add_date("date", dt.datetime.combine(item.date, dt.time.min, tzinfo=dt.UTC))
        return doc

    # --- reading ------------------------------------------------------------------------------

    def search(self, q: SearchQuery, visibility: Visibility) -> SearchResults:
        text = _checked_text(q.text)
        searcher = self._searcher()
        filters = [f for f in (self._permission(visibility), *self._field_filters(q)) if f]
        parsed = (
            _Parser(self.schema, filters).parse(text)
            if text
            else _Parsed(tantivy.Query.all_query())
        )
        page = max(1, q.page)
        per_page = min(max(1, q.per_page), 100)
        if parsed.query is None:  # only stop words
            return SearchResults([], 0, {name: [] for name in FACET_FIELDS}, None)
        final = _with_filters(parsed.query, filters)
        order: dict[str, Any] = {}
        if q.sort in ("date", "-date") or not text:
            order = {
                "order_by_field": "date",
                "order": tantivy.Order.Asc if q.sort == "date" else tantivy.Order.Desc,
            }
        found = searcher.search(
            final, limit=per_page, offset=(page - 1) * per_page, count=True, **order
        )
        hits = []
        for score, address in found.hits:
            doc = searcher.doc(address)
            hits.append(self._hit(doc, 0.0 if order else float(score), parsed if text else None))
        total = int(getattr(found, "count", 0) or 0)  # absent from the stubs, set by count=True
        facets = self._facets(searcher, final) if total else {n: [] for n in FACET_FIELDS}
        suggestion = None
        if text and total == 0:
            suggestion = self._did_you_mean(searcher, text, filters)
        return SearchResults(hits, total, facets, suggestion)

    def lookup_chrono(
        self, prefix: str, visibility: Visibility, limit: int = 10
    ) -> list[SearchHit]:
        prefix = prefix.strip().upper()[:40]
        if len(prefix) < 2 or limit < 1:  # tantivy panics on a limit of 0
            return []
        searcher = self._searcher()
        query = tantivy.Query.regex_query(self.schema, "chrono", _regex_literal(prefix) + ".*")
        allowed = self._permission(visibility)
        final = _with_filters(query, [allowed] if allowed else [])
        found = searcher.search(
            final, limit=limit, count=False, order_by_field="chrono", order=tantivy.Order.Asc
        )
        return [self._hit(searcher.doc(address), 0.0, None) for _, address in found.hits]

    @staticmethod
    def _hit(doc: tantivy.Document, score: float, parsed: _Parsed | None) -> SearchHit:
        title = _text(doc, "title_text")
        body = _text(doc, "body_text")
        snippet = ""
        if parsed is not None:
            snippet = highlight(body, parsed.marks("body"), SNIPPET_FRAGMENTS) or highlight(
                title, parsed.marks("title"), 1
            )
        date: Any = doc.get_first("date")
        object_id: Any = doc.get_first("object_id")
        return SearchHit(
            key=str(doc.get_first("key")),
            kind=str(doc.get_first("kind")),
            object_id=int(object_id),
            title=title,
            chrono=str(doc.get_first("chrono") or ""),
            date=date.date(),
            score=score,
            highlight=snippet or html.escape(body[:SNIPPET_CHARS]),
        )

    @staticmethod
    def _facets(
        searcher: tantivy.Searcher, query: tantivy.Query
    ) -> dict[str, list[tuple[str, int]]]:
        aggregations = {name: {"terms": {"field": name, "size": 1000}} for name in FACET_FIELDS}
        found = searcher.aggregate(query, aggregations)
        return {
            name: sorted(
                ((str(b["key"]), int(b["doc_count"])) for b in found[name]["buckets"]),
                key=lambda pair: (-pair[1], pair[0]),
            )
            for name in FACET_FIELDS
        }

    def _permission(self, visibility: Visibility) -> tantivy.Query | None:
        tokens = visibility_tokens(visibility)
        if tokens is None:
            return None
        return tantivy.Query.term_set_query(self.schema, "access", tokens)

    def _field_filters(self, q: SearchQuery) -> list[tantivy.Query]:
        out: list[tantivy.Query] = []
        for name, value in q.term_filters():
            out.append(tantivy.Query.term_query(self.schema, name, value))
        if q.date_from or q.date_to:
            out.append(
                tantivy.Query.range_query(
                    self.schema,
                    "date",
                    tantivy.FieldType.Date,
                    _midnight(q.date_from),
                    _midnight(q.date_to),
                )
            )
        return out

    def _did_you_mean(
        self, searcher: tantivy.Searcher, text: str, filters: Sequence[tantivy.Query]
    ) -> str | None:
        """A corrected query, offered only if it finds something this user may see.

        Candidates come from the words of documents the user may see that lie within two edits
        of the typed word, so a correction never reveals a word of a hidden document."""
        changed = False
        corrected = []
        for word in TOKEN_RE.findall(text):
            folded = fold_name_word(word)
            if not folded or searcher.doc_freq("spell", folded) > 0:
                corrected.append(word)
                continue
            candidate = self._nearest_word(searcher, folded, filters)
            if candidate:
                corrected.append(candidate)
                changed = True
            else:
                corrected.append(word)
        if not changed:
            return None
        suggestion = " ".join(corrected)
        parsed = _Parser(self.schema, filters).parse(suggestion)
        if parsed.query is None:
            return None
        found = searcher.search(_with_filters(parsed.query, filters), limit=1, count=False)
        return suggestion if found.hits else None

    def _nearest_word(
        self, searcher: tantivy.Searcher, folded: str, filters: Sequence[tantivy.Query]
    ) -> str | None:
        for distance in (1, 2):
            fuzzy = tantivy.Query.fuzzy_term_query(
                self.schema, "spell", folded, distance=distance, transposition_cost_one=True
            )
            found = searcher.search(_with_filters(fuzzy, filters), limit=SUGGESTION_DOCS)
            candidates: set[str] = set()
            for _, address in found.hits:
                doc = searcher.doc(address)
                for name in TEXT_FIELDS:
                    for word in normalise_name(_text(doc, f"{name}_text")).split():
                        if word != folded and _edits(folded, word) <= distance:
                            candidates.add(word)
            if candidates:
                return min(candidates, key=lambda w: (-searcher.doc_freq("spell", w), w))
        return None


# --- query parsing ------------------------------------------------------------------------


@dataclass
class _Parsed:
    query: tantivy.Query | None
    # Terms to mark in highlights, by field ("*": the default fields).
    terms: dict[str, set[str]] = field(default_factory=dict)

    def marks(self, name: str) -> set[str]:
        return self.terms.get("*", set()) | self.terms.get(name, set())


class _Parser:
    """Words, "phrases", ``field:value``, AND / OR / NOT and parentheses, as with Whoosh's
    parser (words are ANDed; no wildcard or regex syntax: they cost unbounded time)."""

    def __init__(self, schema: tantivy.Schema, filters: Sequence[tantivy.Query] = ()) -> None:
        self.schema = schema
        self.filters = filters
        self.tokens: list[tuple[str, str]] = []
        self.at = 0
        self.marks: dict[str, set[str]] = {}

    def parse(self, text: str) -> _Parsed:
        self.tokens = [
            (kind, value)
            for match in LEXER.finditer(text)
            for kind, value in match.groupdict().items()
            if value is not None
        ]
        self.at = 0
        clauses = []
        while self.at < len(self.tokens):
            if self._peek() == ("close", ")"):  # a stray ")" is ignored, as Whoosh does
                self.at += 1
                continue
            clauses.append(self._or())
        return _Parsed(_all_of(clauses), self.marks)

    def _peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def _operator(self, name: str) -> bool:
        if self._peek() == ("word", name):
            self.at += 1
            return True
        return False

    def _or(self) -> tantivy.Query | None:
        options = [self._and()]
        while self._operator("OR"):
            options.append(self._and())
        kept = [o for o in options if o is not None]
        if len(kept) <= 1:
            return kept[0] if kept else None
        return tantivy.Query.boolean_query([(tantivy.Occur.Should, o) for o in kept])

    def _and(self) -> tantivy.Query | None:
        parts: list[_Clause] = [self._unary()]
        while True:
            token = self._peek()
            if token is None or token == ("close", ")") or token == ("word", "OR"):
                break
            self._operator("AND")
            parts.append(self._unary())
        return _all_of(parts)

    def _unary(self, negated: bool = False) -> _Clause:
        if self._operator("NOT"):
            inner = self._unary(negated=not negated)
            if inner is None or isinstance(inner, _Not):
                return None if inner is None else inner.query
            return _Not(inner)
        return self._primary(negated)

    def _primary(self, negated: bool) -> _Clause:
        token = self._peek()
        if token is None:
            return None
        self.at += 1
        kind, value = token
        if kind == "open":
            inner = self._or()
            if self._peek() == ("close", ")"):
                self.at += 1
            return inner
        if kind == "field":
            name = FIELD_ALIASES.get(value.lower(), value.lower())
            target = self._peek()
            if target is None or target[0] not in ("word", "phrase"):
                return self._text_query(value, None, negated)
            self.at += 1
            if name in TEXT_FIELDS or name in ("chrono", "tags") or name in KEYWORD_FIELDS:
                return self._field_query(name, _unquoted(target[1]), negated)
            return self._text_query(f"{value} {_unquoted(target[1])}", None, negated)
        if kind == "phrase":
            return self._text_query(_unquoted(value), None, negated, phrase=True)
        return self._text_query(value, None, negated)

    def _field_query(self, name: str, value: str, negated: bool) -> tantivy.Query | None:
        if name in TEXT_FIELDS:
            return self._text_query(value, name, negated, phrase=" " in value)
        value = value.strip()
        if not value:
            return None
        if name == "chrono":
            value = value.upper()
        elif name == "tags":
            value = value.lower()
        return tantivy.Query.term_query(self.schema, name, value)

    def _text_query(
        self, text: str, only: str | None, negated: bool, phrase: bool = False
    ) -> tantivy.Query | None:
        found = _index_terms(words(text))
        if not found:
            return None
        if not negated:
            self.marks.setdefault(only or "*", set()).update(found)
        fields = {only: TEXT_FIELDS[only]} if only else TEXT_FIELDS
        if phrase and len(found) > 1:
            # The filters again inside each field's phrase: a union of phrase queries is not
            # narrowed by an enclosing filter and checked positions in every document (5 ms
            # instead of 0.7 on 100,000 letters).
            return _any_of(
                [
                    _with_filters(
                        _boosted(
                            tantivy.Query.phrase_query(
                                self.schema, name, list[str | tuple[int, str]](found)
                            ),
                            boost,
                        ),
                        self.filters,
                    )
                    for name, boost in fields.items()
                ]
            )
        per_term = []
        for term in found:
            options = [
                _boosted(tantivy.Query.term_query(self.schema, name, term), boost)
                for name, boost in fields.items()
            ]
            per_term.append(_any_of(options))
        query = _all_of(per_term)
        if only is None and " " not in text.strip():
            # A tag is a whole keyword: it matches the word as typed, lower-cased.
            tag = tantivy.Query.term_query(self.schema, "tags", text.strip().lower())
            query = _any_of([q for q in (query, tag) if q is not None])
        return query


class _Not:
    """A clause to exclude, resolved by the enclosing conjunction."""

    def __init__(self, query: tantivy.Query) -> None:
        self.query = query


_Clause = tantivy.Query | _Not | None


def _all_of(parts: Sequence[_Clause]) -> tantivy.Query | None:
    clauses: list[tuple[tantivy.Occur, tantivy.Query]] = []
    for part in parts:
        if part is None:
            continue
        if isinstance(part, _Not):
            clauses.append((tantivy.Occur.MustNot, part.query))
        else:
            clauses.append((tantivy.Occur.Must, part))
    if not clauses:
        return None
    if all(occur == tantivy.Occur.MustNot for occur, _ in clauses):
        # "NOT x" alone means everything but x.
        clauses.append((tantivy.Occur.Must, tantivy.Query.all_query()))
    if len(clauses) == 1:
        return clauses[0][1]
    return tantivy.Query.boolean_query(clauses)


def _any_of(options: Sequence[tantivy.Query]) -> tantivy.Query:
    if len(options) == 1:
        return options[0]
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, o) for o in options])


def _boosted(query: tantivy.Query, boost: float) -> tantivy.Query:
    return query if boost == 1.0 else tantivy.Query.boost_query(query, boost)


def _with_filters(query: tantivy.Query, filters: Sequence[tantivy.Query]) -> tantivy.Query:
    """``query`` restricted by ``filters``, which do not change the scores."""
    if not filters:
        return query
    return tantivy.Query.boolean_query(
        [
            (tantivy.Occur.Must, query),
            *((tantivy.Occur.Must, tantivy.Query.const_score_query(f, 0.0)) for f in filters),
        ]
    )


def _unquoted(value: str) -> str:
    return value.strip('"')


def _regex_literal(text: str) -> str:
    return "".join(f"\\{c}" if c.isascii() and not c.isalnum() else c for c in text)


# --- helpers ------------------------------------------------------------------------------


def _checked_text(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > MAX_QUERY_LENGTH:
        raise ValidationError(
            f"La recherche est trop longue ({len(text)} caractères, {MAX_QUERY_LENGTH} au plus)."
        )
    return text


def _index_terms(tokens: list[str]) -> list[str]:
    """The terms of ``tokens``, without the overlong ones (OCR noise; tantivy limits terms)."""
    if max(map(len, tokens), default=0) > MAX_TERM_CHARS:
        tokens = [t for t in tokens if len(t) <= MAX_TERM_CHARS]
    return list(filter(None, map(analyse_word, tokens)))


# Indexing and highlighting work on whitespace-separated chunks ("l'éclairage," is one): letters
# repeat a small vocabulary, so each distinct chunk is analysed once and the per-token work of a
# letter is one cache lookup in C (building a letter's document: about a third less CPU than
# analysing token by token; docs/search-performance.md).
@lru_cache(maxsize=CHUNK_CACHE)
def _chunk_pairs(chunk: str) -> tuple[tuple[str, str], ...]:
    """(token, index term) of each token of ``chunk`` that is not a stop word or overlong."""
    tokens = words(chunk)
    return tuple(
        (token, term)
        for token in tokens
        if len(token) <= MAX_TERM_CHARS and (term := analyse_word(token))
    )


@lru_cache(maxsize=CHUNK_CACHE)
def _chunk_terms(chunk: str) -> str:
    """The index terms of ``chunk`` joined by spaces ("" for none)."""
    return " ".join(term for _, term in _chunk_pairs(chunk))


@lru_cache(maxsize=CHUNK_CACHE)
def _chunk_spelling(chunk: str) -> str:
    """The folded words of ``chunk`` that "did you mean" may suggest (stop words too)."""
    return " ".join(fold_name_word(t) for t in words(chunk) if len(t) <= MAX_TERM_CHARS)


def _midnight(day: dt.date | None) -> dt.datetime | None:
    return None if day is None else dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


def _text(doc: tantivy.Document, name: str) -> str:
    value = doc.get_first(name)
    return bytes(value).decode("utf-8") if value else ""


def _edits(a: str, b: str) -> int:
    """Levenshtein distance with adjacent transpositions counted as one edit."""
    if abs(len(a) - len(b)) > 2:
        return 3
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, previous2[j - 2] + 1)
            current.append(value)
        previous2, previous = previous, current
    return previous[-1]


def highlight(text: str, wanted: set[str], fragments: int) -> str:
    """Escaped ``text`` around the words whose index term is in ``wanted``, each in <mark>.

    The words are found with the analysis that indexed them, so "eclairage" marks
    "éclairage" and "بناء" marks "والبِنَاء"; at most ``fragments`` passages of about
    ``SNIPPET_CHARS`` characters, the ones with most matches, in text order."""
    if not wanted or not text:
        return ""
    # The distinct chunks of the text, then one regular expression for the wanted words among
    # them: a Python loop over every token of every hit cost more than the search itself.
    surfaces = {
        token
        for chunk in set(text.split())
        for token, term in _chunk_pairs(chunk)
        if term in wanted
    }
    if not surfaces:
        return ""
    # The alternation alone, whole-word checks on its few matches: a look-behind at every
    # position of the text cost more than the rest of the highlight.
    spans = [
        m.span()
        for m in _surface_re(frozenset(surfaces)).finditer(text)
        if not (m.start() and _LETTER.match(text, m.start() - 1))
        and not _LETTER.match(text, m.end())
    ]
    if not spans:
        return ""
    groups: list[list[tuple[int, int]]] = []
    for span in spans:
        if groups and span[1] - groups[-1][0][0] <= SNIPPET_CHARS - 2 * SNIPPET_SURROUND:
            groups[-1].append(span)
        else:
            groups.append([span])
    best = sorted(groups, key=lambda g: (-len(g), g[0][0]))[:fragments]
    parts = []
    for group in sorted(best, key=lambda g: g[0][0]):
        start = _word_start(text, max(0, group[0][0] - SNIPPET_SURROUND), group[0][0])
        end = _word_end(text, min(len(text), group[-1][1] + SNIPPET_SURROUND), group[-1][1])
        out, at = [], start
        for a, b in group:
            out.append(html.escape(text[at:a]))
            out.append(f"<mark>{html.escape(text[a:b])}</mark>")
            at = b
        out.append(html.escape(text[at:end]))
        parts.append("".join(out).strip())
    return " … ".join(parts)


@lru_cache(maxsize=4096)
def _surface_re(surfaces: frozenset[str]) -> re.Pattern[str]:
    """Any of ``surfaces``, longest first (whole tokens are checked with ``_LETTER``)."""
    return re.compile("|".join(re.escape(s) for s in sorted(surfaces, key=len, reverse=True)))


# One character of a token (the class of ``TOKEN_RE``).
_LETTER = re.compile(TOKEN_RE.pattern.removesuffix("+"))


def _word_start(text: str, at: int, limit: int) -> int:
    """``at`` moved forward past a word cut in two (fragments start on a whole word)."""
    if at == 0 or text[at - 1].isspace():
        return at
    space = text.find(" ", at, limit)
    return at if space == -1 else space + 1


def _word_end(text: str, at: int, limit: int) -> int:
    if at >= len(text) or text[at].isspace():
        return at
    space = text.rfind(" ", limit, at)
    return at if space == -1 else space
