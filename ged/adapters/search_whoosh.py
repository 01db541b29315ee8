"""Whoosh backend of the search port (``ged.domain.search``), with the shared analysis.

Pitfalls measured on this Whoosh family (docs/decisions.md): date ranges and permission filters
never go inside ``And`` with the text query (some hits were silently dropped), and one writer at
a time (the background worker) keeps the index.

Speed (docs/search-performance.md): Whoosh is pure Python, so the work per query is kept to
what the text query itself must walk. Permissions are one indexed ``access`` keyword per item
(a few tokens such as ``mu7``: open mail of unit 7), so a user's visibility is a small union of
short posting lists; those document sets, the facet values' sets and the dates are read once per
index generation by a long-lived searcher and reused until the index changes. Filters, facet
counts and date sorting are then set operations; only the shown page is highlighted.
"""

from __future__ import annotations

import datetime as dt
import heapq
import html
import shutil
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from operator import itemgetter
from pathlib import Path
from typing import Any

from whoosh import columns, fields, index, qparser, query
from whoosh.analysis import Token, Tokenizer
from whoosh.highlight import ContextFragmenter, HtmlFormatter, highlight
from whoosh.matching import IntersectionMatcher, ListMatcher
from whoosh.searching import Searcher

from ged.adapters.analysis import TOKEN_RE, analyse, analyse_word, normalise_name
from ged.adapters.search_access import access_tokens, visibility_tokens
from ged.domain.errors import Conflict, ValidationError
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

INDEX_NAME = "ged"
# How long a writer waits for the index's write lock before reporting it (``Conflict``).
LOCK_TIMEOUT = 30.0
FIELD_ALIASES = {"correspondent": ["from", "de"], "mail_type": ["type"], "chrono": ["chrono"]}
WRITER_LIMIT_MB = 256  # RAM a writer fills before it flushes a segment (Whoosh's default: 128)
# Highlights analyse the stored text again: a 100-page scan is cut here (the title stands in).
HIGHLIGHT_CHARS = 20_000
# Below this share of the index, a text query is walked only at the documents the user may see
# (skip_to), not over its whole posting lists.
NARROW_SHARE = 0.25
CACHED_VISIBILITIES = 256
# Document numbers of searched words kept per index generation (~45 bytes each in a set).
CACHED_WORD_POSTINGS = 1_000_000


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
        correspondent=fields.TEXT(analyzer=analyzer, field_boost=1.5),
        body=fields.TEXT(analyzer=analyzer, stored=True),
        # The "did you mean" dictionary: each folded word of the item once (``_fields_of``).
        spell=fields.KEYWORD(scorable=False),
        tags=fields.KEYWORD(lowercase=True, commas=True),
        mail_type=fields.ID(),
        direction=fields.ID(),
        status=fields.ID(),
        language=fields.ID(),
        year=fields.ID(),
        unit=fields.KEYWORD(),
        # Who may see the item, as tokens (``access_tokens``): the permission filter's field.
        access=fields.KEYWORD(scorable=False),
        # A column, not terms: date filters and sorting read it (``_Generation.dates``).
        date=fields.COLUMN(columns.NumericColumn("i")),
    )


class _Generation:
    """What one index generation's searcher knows beyond Whoosh: document sets per term, per
    visibility, and each document's date. Read lazily; dropped when the index changes."""

    def __init__(self, searcher: Searcher) -> None:
        self.searcher = searcher
        self.size = int(searcher.doc_count_all())
        self._terms: dict[tuple[str, str], frozenset[int]] = {}
        self._visible: OrderedDict[Visibility, frozenset[int] | None] = OrderedDict()
        self._all: frozenset[int] | None = None
        self._dates: list[int] | None = None
        self._facets: dict[str, list[tuple[str, frozenset[int]]]] = {}
        self._words: OrderedDict[tuple[str, str], frozenset[int]] = OrderedDict()
        self._words_size = 0

    def all_docs(self) -> frozenset[int]:
        if self._all is None:
            self._all = frozenset(self.searcher.reader().all_doc_ids())
        return self._all

    def term(self, field: str, text: str) -> frozenset[int]:
        found = self._terms.get((field, text))
        if found is None:
            found = frozenset(self.searcher.docs_for_query(query.Term(field, text)))
            self._terms[field, text] = found
        return found

    def word(self, field: str, text: str) -> frozenset[int]:
        """A searched word's documents, kept (least recently used out) within a budget."""
        key = (field, text)
        found = self._words.get(key)
        if found is not None:
            self._words.move_to_end(key)
            return found
        found = frozenset(self.searcher.docs_for_query(query.Term(field, text)))
        self._words[key] = found
        self._words_size += len(found)
        while self._words_size > CACHED_WORD_POSTINGS and len(self._words) > 1:
            _, dropped = self._words.popitem(last=False)
            self._words_size -= len(dropped)
        return found

    def visible(self, visibility: Visibility) -> frozenset[int] | None:
        """The documents this user may see (None: all of them)."""
        if visibility in self._visible:
            self._visible.move_to_end(visibility)
            return self._visible[visibility]
        tokens = visibility_tokens(visibility)
        found = (
            None if tokens is None else frozenset().union(*(self.term("access", t) for t in tokens))
        )
        self._visible[visibility] = found
        if len(self._visible) > CACHED_VISIBILITIES:
            self._visible.popitem(last=False)
        return found

    def dates(self) -> list[int]:
        """Each document's date (``date.toordinal()``), by document number."""
        if self._dates is None:
            self._dates = list(self.searcher.reader().column_reader("date"))
        return self._dates

    def facet(self, field: str) -> list[tuple[str, frozenset[int]]]:
        values = self._facets.get(field)
        if values is None:
            reader = self.searcher.reader()
            values = [
                (text, self.term(field, text))
                for text in (b.decode("utf-8") for b in reader.lexicon(field))
            ]
            self._facets[field] = values
        return values


class WhooshSearchIndex:
    def __init__(self, directory: Path, lock_timeout: float = LOCK_TIMEOUT) -> None:
        self.directory = directory
        self.lock_timeout = lock_timeout
        self._index: index.Index | None = None
        self._generation: _Generation | None = None
        # A Whoosh searcher is not made for concurrent use: requests of one process take turns.
        self._lock = threading.RLock()

    # --- lifecycle ----------------------------------------------------------------------------

    @property
    def ix(self) -> index.Index:
        if self._index is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            if index.exists_in(str(self.directory), indexname=INDEX_NAME):
                opened = index.open_dir(str(self.directory), indexname=INDEX_NAME)
                if set(opened.schema.names()) != set(make_schema().names()):
                    opened.close()
                    raise Conflict(
                        "L'index de recherche a été écrit par une version précédente de ged "
                        f"({self.directory}) : reconstruisez-le avec `ged reindex`."
                    )
                self._index = opened
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
        with self._lock:
            if self._generation is not None:
                self._generation.searcher.close()
                self._generation = None
            if self._index is not None:
                self._index.close()
                self._index = None

    def _current(self) -> _Generation:
        """The searcher of the latest committed generation, kept open between queries."""
        generation = self._generation
        if generation is None:
            generation = _Generation(self.ix.searcher())
        elif not generation.searcher.up_to_date():
            # A new searcher, not refresh(): refresh() reuses the reader of a segment whose
            # deletions changed (an updated item then shows twice) and fails on an empty index.
            generation.searcher.close()
            generation = _Generation(self.ix.searcher())
        self._generation = generation
        return generation

    def count(self) -> int:
        with self._lock:
            if self._index is not None and not index.exists_in(
                str(self.directory), indexname=INDEX_NAME
            ):
                # The folder was deleted under this process: start again from what is there
                # (an empty index), so the sweep sees it empty and rebuilds it.
                self.close()
            return int(self._current().searcher.doc_count())

    # --- writing ------------------------------------------------------------------------------

    def _writer(self) -> Any:
        """The index's only writer. The lock is an ``fcntl.flock`` on ``ged_WRITELOCK``: the
        kernel frees it when its holder dies, even by SIGKILL (the file stays, unlocked), so
        only a live process can keep it (tests/integration/search/test_backends.py)."""
        try:
            return self.ix.writer(timeout=self.lock_timeout, limitmb=WRITER_LIMIT_MB)
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
        written: set[str] = set()
        try:
            for item in items:
                if item.key in written:
                    # update_document cannot replace a document this same writer added: commit
                    # what came before, so the new writer replaces it (a rare case).
                    writer.commit()
                    writer = self._writer()
                    written.clear()
                writer.update_document(**_fields_of(item))
                written.add(item.key)
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
        with self._lock:
            generation = self._current()
            searcher = generation.searcher
            allowed = _filtered(generation, q, generation.visible(visibility))
            parsed = self._parse(searcher, text) if text else None
            by_relevance = parsed is not None and q.sort not in ("date", "-date")
            scores: dict[int, float] | None = None
            if parsed is None:
                docs = allowed if allowed is not None else generation.all_docs()
            else:
                docs, scores = _matches(generation, parsed, allowed, by_relevance)
            page = max(1, q.page)
            per_page = min(max(1, q.per_page), 100)
            start, wanted = (page - 1) * per_page, page * per_page
            if by_relevance and scores is not None:
                shown = heapq.nlargest(wanted, scores.items(), key=itemgetter(1))[start:]
            elif by_relevance and parsed is not None:
                shown = self._by_relevance(searcher, parsed, docs, wanted)[start:]
            else:
                dates = generation.dates()
                pick = heapq.nsmallest if q.sort == "date" else heapq.nlargest
                shown = [(d, 0.0) for d in pick(wanted, docs, key=dates.__getitem__)[start:]]
            terms = _highlight_terms(parsed) if parsed is not None else set()
            hits = [self._hit(generation, docnum, score, terms) for docnum, score in shown]
            facets = {
                name: sorted(
                    (
                        (value, n)
                        for value, members in generation.facet(name)
                        if (n := len(docs & members))
                    ),
                    key=lambda pair: (-pair[1], pair[0]),
                )
                for name in FACET_FIELDS
            }
            suggestion = None
            if text and not docs:
                suggestion = self._did_you_mean(generation, text, allowed)
            return SearchResults(hits, len(docs), facets, suggestion)

    def lookup_chrono(
        self, prefix: str, visibility: Visibility, limit: int = 10
    ) -> list[SearchHit]:
        prefix = prefix.strip().upper()[:40]
        if len(prefix) < 2:
            return []
        with self._lock:
            generation = self._current()
            searcher = generation.searcher
            allowed = generation.visible(visibility)
            if allowed is not None and not allowed:
                return []  # Whoosh reads an empty filter as no filter at all
            results = searcher.search(
                query.Prefix("chrono", prefix),
                filter=None if allowed is None else set(allowed),
                limit=limit,
                sortedby="chrono",
            )
            return [self._hit(generation, hit.docnum, 0.0, set()) for hit in results]

    @staticmethod
    def _by_relevance(
        searcher: Searcher, parsed: query.Query, docs: frozenset[int], wanted: int
    ) -> list[tuple[int, float]]:
        if not docs:
            return []  # Whoosh reads an empty filter as no filter at all
        # The filter is a set: Whoosh tests membership per match and keeps its block skipping.
        results = searcher.search(parsed, filter=set(docs), limit=wanted)
        return [(hit.docnum, float(hit.score or 0.0)) for hit in results]

    @staticmethod
    def _hit(generation: _Generation, docnum: int, score: float, terms: set[str]) -> SearchHit:
        searcher = generation.searcher
        stored = searcher.stored_fields(docnum)
        title, body = stored.get("title", ""), stored.get("body", "")
        snippet = ""
        if terms:
            analyzer = searcher.schema["body"].analyzer
            fragmenter = ContextFragmenter(maxchars=200, surround=60)
            formatter = HtmlFormatter(tagname="mark", between=" … ")
            snippet = highlight(
                body[:HIGHLIGHT_CHARS], terms, analyzer, fragmenter, formatter, top=2
            ) or highlight(title, terms, analyzer, fragmenter, formatter, top=1)
        return SearchHit(
            key=stored["key"],
            kind=stored["kind"],
            object_id=int(stored["object_id"]),
            title=title,
            chrono=stored.get("chrono", ""),
            date=dt.date.fromordinal(generation.dates()[docnum]),
            score=score,
            highlight=snippet or html.escape(body[:200]),
        )

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

    def _did_you_mean(
        self, generation: _Generation, text: str, allowed: frozenset[int] | None
    ) -> str | None:
        """A corrected query, offered only if it finds something this user may see."""
        searcher = generation.searcher
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
        found, _ = _matches(generation, self._parse(searcher, suggestion), allowed, False)
        return suggestion if found else None


def _filtered(
    generation: _Generation, q: SearchQuery, allowed: frozenset[int] | None
) -> frozenset[int] | None:
    """The visible documents narrowed by the query's field filters and dates (None: all)."""
    sets = []
    for name, value in q.term_filters():
        sets.append(generation.term(name, value))
    if allowed is not None:
        sets.append(allowed)
    docs = frozenset.intersection(*sorted(sets, key=len)) if sets else None
    if q.date_from or q.date_to:
        low = (q.date_from or dt.date.min).toordinal()
        high = (q.date_to or dt.date.max).toordinal()
        dates = generation.dates()
        docs = frozenset(
            d for d in (generation.all_docs() if docs is None else docs) if low <= dates[d] <= high
        )
    return docs


def _matches(
    generation: _Generation, parsed: query.Query, allowed: frozenset[int] | None, scored: bool
) -> tuple[frozenset[int], dict[int, float] | None]:
    """The documents the query matches among ``allowed`` (None: all), and their scores when
    ``scored`` and they are few enough to score one by one (else None: Whoosh ranks them).

    Words, ``AND`` and ``OR`` are set operations on each word's documents (cached); a phrase is
    first the documents holding all its words, then its positions are checked there only.
    """
    searcher, size = generation.searcher, generation.size
    bound = _superset(generation, parsed)
    if bound is None:  # a query shape the set algebra does not cover: Whoosh walks it
        return _matching(searcher, parsed, allowed, size), None
    candidates, exact = bound
    if allowed is not None:
        candidates = allowed & candidates
    few = len(candidates) <= NARROW_SHARE * size
    if exact and scored and few:
        return candidates, _term_scores(generation, parsed, candidates)
    if exact:
        return candidates, None
    if few:
        scores = _narrow(searcher, parsed, candidates, scored)
        return frozenset(scores), scores if scored else None
    return candidates.intersection(searcher.docs_for_query(parsed)), None


def _term_scores(
    generation: _Generation, parsed: query.Query, docs: frozenset[int]
) -> dict[int, float]:
    """Whoosh's score of words joined by AND/OR: the sum of each word's score where it occurs.
    Each word's matcher visits only the documents that hold it (its set), not its whole list."""
    searcher = generation.searcher
    context = searcher.context()
    scores = dict.fromkeys(docs, 0.0)
    leaves = searcher.leaf_searchers()
    for field, text in set(parsed.iter_all_terms()):
        term = query.Term(field, text)
        holding = docs & generation.word(field, str(text))
        for i, (leaf, offset) in enumerate(leaves):
            end = leaves[i + 1][1] if i + 1 < len(leaves) else generation.size
            local = sorted(d - offset for d in holding if offset <= d < end)
            if not local:
                continue
            matcher = term.matcher(leaf, context)
            for d in local:
                matcher.skip_to(d)
                scores[offset + d] += float(matcher.score())
    return scores


def _superset(generation: _Generation, q: query.Query) -> tuple[frozenset[int], bool] | None:
    """Documents that may match ``q`` and whether they all do, from the words' sets alone."""
    # Exact types: subclasses (FuzzyTerm, Variations…) match more than their words.
    kind = type(q)
    if kind is query.Term:
        return generation.word(q.fieldname, str(q.text)), True
    if kind is query.Phrase:
        words = [generation.word(q.fieldname, str(w)) for w in q.words]
        return frozenset.intersection(*sorted(words, key=len)), len(words) == 1
    if q is query.NullQuery:
        return frozenset(), True
    if kind in (query.And, query.Or):
        parts = [_superset(generation, sub) for sub in q.subqueries]
        if any(part is None for part in parts):
            return None
        sets = [part[0] for part in parts if part is not None]
        exact = all(part[1] for part in parts if part is not None)
        if not sets:
            return frozenset(), True
        if kind is query.And:
            return frozenset.intersection(*sorted(sets, key=len)), exact
        return frozenset().union(*sets), exact
    return None


def _matching(
    searcher: Searcher, parsed: query.Query, allowed: frozenset[int] | None, size: int
) -> frozenset[int]:
    """The documents of ``allowed`` (None: all) the text query matches."""
    if allowed is None:
        return frozenset(searcher.docs_for_query(parsed))
    if len(allowed) > NARROW_SHARE * size:
        return allowed.intersection(searcher.docs_for_query(parsed))
    return frozenset(_narrow(searcher, parsed, allowed, scored=False))


def _narrow(
    searcher: Searcher, parsed: query.Query, allowed: frozenset[int], scored: bool
) -> dict[int, float]:
    """The documents of a small ``allowed`` set the query matches, with their scores.

    The query's matcher jumps (skip_to) from one allowed document to the next instead of
    decoding every posting, phrases check positions only there, and only those are scored.
    """
    found: dict[int, float] = {}
    context = searcher.context() if scored else searcher.boolean_context()
    leaves = searcher.leaf_searchers()
    size = searcher.doc_count_all()
    for i, (leaf, offset) in enumerate(leaves):
        end = leaves[i + 1][1] if i + 1 < len(leaves) else size
        local = sorted(d - offset for d in allowed if offset <= d < end)
        if not local:
            continue
        matcher = parsed.matcher(leaf, context)
        if not matcher.is_active():
            continue
        # Stepped, not all_ids(): that would decode the query's whole posting lists. The list
        # adds its constant weight (1.0) to every score: taken off, scores are Whoosh's own.
        both = IntersectionMatcher(ListMatcher(local, all_weights=1.0), matcher)
        while both.is_active():
            found[offset + both.id()] = float(both.score()) - 1.0 if scored else 0.0
            both.next()
    return found


def _highlight_terms(parsed: query.Query) -> set[str]:
    return {
        text.decode("utf-8") if isinstance(text, bytes) else str(text)
        for field, text in parsed.iter_all_terms()
        if field in ("body", "title")
    }


def _checked_text(text: str) -> str:
    text = " ".join(text.split())
    if len(text) > MAX_QUERY_LENGTH:
        raise ValidationError(
            f"La recherche est trop longue ({len(text)} caractères, {MAX_QUERY_LENGTH} au plus)."
        )
    return text


def _fields_of(item: IndexedItem) -> dict[str, Any]:
    units = item.units or ((AGENCY_UNIT,) if item.kind == "document" else ())
    # The spelling dictionary needs each word once, not its frequency or position.
    words = dict.fromkeys(
        normalise_name(" ".join((item.title, item.correspondent, item.body))).split()
    )
    return {
        "key": item.key,
        "kind": item.kind,
        "object_id": item.object_id,
        "title": item.title,
        "chrono": item.chrono.upper(),
        "correspondent": item.correspondent,
        "body": item.body,
        "spell": " ".join(words),
        "tags": ",".join(item.tags),
        "mail_type": item.mail_type,
        "direction": item.direction,
        "status": item.status,
        "language": item.language,
        "year": str(item.date.year),
        "unit": " ".join(str(u) for u in units),
        "access": " ".join(access_tokens(item)),
        "date": item.date.toordinal(),
    }
