"""Full-text search benchmark: Whoosh (the product's adapter) against SQLite FTS5, same corpus.

    python bench/search/run.py [--full] [--docs 100000] [--subset 20000] [--queries 200]
                               [--seed 2026]

1. A corpus of 100,000 generated French, Arabic and mixed urban-planning letters (seeded, so
   the same every run), cached in bench/.cache/search/ (git-ignored).
2. Bulk indexing into ``WhooshSearchIndex`` through ``upsert`` in batches of
   ``ged.services.search.BATCH`` (what ``ged reindex`` does): documents per second. By default
   the timed build covers a fixed subset (the first ``--subset`` letters) and the rate is
   extrapolated to 100,000 (a batched build of all 100,000 takes over 10 minutes on 2 busy
   cores); ``--full`` times them all. The 100,000-letter index the queries need is built
   separately with one writer and one commit (also timed, printed when built) and cached in
   bench/.cache/search/ while the corpus and the adapter's code do not change.
3. 200 mixed queries (French and Arabic words, phrases, ``from:``/``type:`` filters, date
   ranges) as an agent of 3 units (the permission filter applies), top 10 with highlights,
   total and the five facets: p50 / p95 per query.
4. The same corpus and queries in SQLite FTS5 (``unicode61 remove_diacritics 2``), the
   permission filter as SQL conditions, ``snippet()`` for highlights, top 10 and the total
   (no facets, no stemming, no Arabic normalisation: the reference, not an equivalent).

Goals: bulk ≥ 450 documents/s, p95 ≤ 50 ms. Figures go to stdout and bench/results/search.json.
Timings are of one run on a shared machine: compare ratios, not single figures.
"""

# SQL below interpolates only placeholders and fixed SQL; every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import inspect
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import whoosh
from corpus import (
    ARABIC_PHRASES,
    FRENCH_PHRASES,
    SURNAMES,
    TYPES,
    load,
    to_item,
)

from ged.adapters import analysis, search_access, search_whoosh
from ged.adapters.search_whoosh import WhooshSearchIndex
from ged.domain.search import SearchIndex, SearchQuery, Visibility
from ged.services.search import BATCH

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "bench" / ".cache" / "search"
RESULTS = ROOT / "bench" / "results" / "search.json"
GOAL_BULK = 450.0
GOAL_P95_MS = 50.0
AGENT = Visibility(units=frozenset({7, 23, 41}), user_id=12)
PER_PAGE = 10


@dataclass(frozen=True)
class BenchQuery:
    kind: str
    text: str  # what a user types (Whoosh, through the product's parser)
    fts: str  # the FTS5 MATCH expression
    mail_type: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def _fts_words(words: Sequence[str]) -> str:
    return " AND ".join(f'"{w}"' for w in words)


def make_queries(n: int, seed: int) -> list[BenchQuery]:
    rng = random.Random(seed + 1)
    french_words = sorted(
        {w for p in FRENCH_PHRASES for w in p.replace("'", " ").split() if len(w) > 4}
    )
    variants = [
        "eclairage",
        "lotissements",
        "reclamation",
        "demolition",
        "facades",
        "regularisation",
    ]
    arabic_words = sorted({w for p in ARABIC_PHRASES for w in p.split() if len(w) > 2})
    arabic_variants = ["رُخْصَة", "بناء", "الاشغال", "والتجزئة", "المطابقه"]
    kinds = ["word", "two_words", "phrase", "arabic", "arabic_phrase", "from", "type", "dates"]
    out: list[BenchQuery] = []
    for i in range(n):
        kind = kinds[i % len(kinds)]
        if kind == "word":
            w = rng.choice(french_words + variants)
            out.append(BenchQuery(kind, w, _fts_words([w])))
        elif kind == "two_words":
            ws = rng.sample(french_words, 2)
            out.append(BenchQuery(kind, " ".join(ws), _fts_words(ws)))
        elif kind == "phrase":
            p = rng.choice([p for p in FRENCH_PHRASES if " " in p])
            out.append(BenchQuery(kind, f'"{p}"', f'"{p}"'))
        elif kind == "arabic":
            w = rng.choice(arabic_words + arabic_variants)
            out.append(BenchQuery(kind, w, _fts_words([w])))
        elif kind == "arabic_phrase":
            p = rng.choice([p for p in ARABIC_PHRASES if " " in p])
            out.append(BenchQuery(kind, f'"{p}"', f'"{p}"'))
        elif kind == "from":
            name, w = rng.choice(SURNAMES), rng.choice(french_words)
            out.append(
                BenchQuery(kind, f"from:{name.lower()} {w}", f'correspondent:"{name}" AND "{w}"')
            )
        elif kind == "type":
            t, w = rng.choice(TYPES), rng.choice(french_words)
            out.append(BenchQuery(kind, f"type:{t} {w}", _fts_words([w]), mail_type=t))
        else:
            start = dt.date(2023, 11, 1) + dt.timedelta(days=rng.randrange(900))
            end = start + dt.timedelta(days=rng.choice((30, 90, 365)))
            w = rng.choice(french_words + arabic_words)
            out.append(BenchQuery(kind, w, _fts_words([w]), date_from=start, date_to=end))
    return out


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(0.95 * (len(ordered) - 1))] * 1000, 2),
        "max_ms": round(ordered[-1] * 1000, 2),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2),
    }


def by_kind(queries: list[BenchQuery], samples: list[float]) -> dict[str, float]:
    groups: dict[str, list[float]] = {}
    for q, s in zip(queries, samples, strict=True):
        groups.setdefault(q.kind, []).append(s)
    return {k: round(statistics.median(v) * 1000, 2) for k, v in groups.items()}


# --- Whoosh ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Backend:
    """A search port implementation under test: how to open one, and what its on-disk index
    depends on (the query index is cached while that is unchanged)."""

    name: str
    open: Callable[[Path], SearchIndex]
    version: str
    index_code: Callable[[], bytes]


def _whoosh_index_code() -> bytes:
    # What is written, not how it is queried: query-side changes reuse the cached index.
    parts = [
        Path(str(analysis.__file__)).read_bytes(),
        *(
            inspect.getsource(obj).encode()
            for obj in (
                search_whoosh.GedTokenizer,
                search_whoosh.make_schema,
                search_access.access_tokens,
                search_whoosh._fields_of,
            )
        ),
        str(search_whoosh.WRITER_LIMIT_MB).encode(),
    ]
    return b"\0".join(parts)


BACKENDS = {
    "whoosh": Backend(
        "whoosh",
        WhooshSearchIndex,
        getattr(whoosh, "versionstring", lambda: "?")(),
        _whoosh_index_code,
    ),
}


class Clock:
    """Wall time and this process's CPU time: on a shared machine the CPU figure is steadier."""

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()

    def elapsed(self) -> tuple[float, float]:
        return time.perf_counter() - self.wall, time.process_time() - self.cpu


def bulk_batches(
    backend: Backend, directory: Path, records: list[dict[str, Any]]
) -> tuple[float, float]:
    """What ``ged reindex`` does: ``upsert`` in batches of ``BATCH``, one commit each.
    Returns (wall, CPU) seconds."""
    if directory.exists():
        shutil.rmtree(directory)
    ix = backend.open(directory)
    ix.recreate()
    clock = Clock()
    for start in range(0, len(records), BATCH):
        ix.upsert(to_item(r) for r in records[start : start + BATCH])
        if (start + BATCH) % 5000 == 0:
            wall, cpu = clock.elapsed()
            print(
                f"  {start + BATCH:,} indexed, {(start + BATCH) / wall:.0f}/s"
                f" ({(start + BATCH) / cpu:.0f}/CPU-s)",
                flush=True,
            )
    elapsed = clock.elapsed()
    ix.close()
    shutil.rmtree(directory)
    return elapsed


def query_index(
    backend: Backend, records: list[dict[str, Any]], seed: int
) -> tuple[SearchIndex, float | None]:
    """The whole corpus in one index for the queries, cached while the corpus and the backend's
    indexing code are unchanged; built with one writer and one commit (timed when built)."""
    code = hashlib.sha256(backend.index_code()).hexdigest()[:12]
    directory = CACHE / f"{backend.name}-{len(records)}-{seed}-{code}"
    complete = directory / "complete"
    if complete.exists():
        print(f"  reusing {directory.relative_to(ROOT)}", flush=True)
        return backend.open(directory), None
    for old in CACHE.glob(f"{backend.name}-{len(records)}-*"):
        shutil.rmtree(old)
    ix = backend.open(directory)
    ix.recreate()
    started = time.perf_counter()
    ix.upsert(to_item(r) for r in records)
    seconds = time.perf_counter() - started
    complete.write_text(f"{seconds:.1f}\n")
    return ix, seconds


def run_index(ix: SearchIndex, queries: list[BenchQuery]) -> tuple[list[float], list[int]]:
    samples, totals = [], []
    for q in queries:
        sq = SearchQuery(
            text=q.text,
            mail_type="",
            date_from=q.date_from,
            date_to=q.date_to,
            per_page=PER_PAGE,
        )
        t = time.perf_counter()
        results = ix.search(sq, AGENT)
        samples.append(time.perf_counter() - t)
        totals.append(results.total)
        assert all(h.highlight for h in results.hits)
    return samples, totals


# --- SQLite FTS5 -------------------------------------------------------------------------


def build_fts(path: Path, records: list[dict[str, Any]]) -> tuple[sqlite3.Connection, float]:
    if path.exists():
        path.unlink()
    db = sqlite3.connect(path)
    db.executescript(
        """
        PRAGMA journal_mode = WAL;
        PRAGMA synchronous = NORMAL;
        CREATE VIRTUAL TABLE fts USING fts5(
            title, correspondent, body, tokenize = 'unicode61 remove_diacritics 2');
        CREATE TABLE meta (id INTEGER PRIMARY KEY, date TEXT, mail_type TEXT, direction TEXT,
                           status TEXT, confidential INTEGER);
        CREATE TABLE mail_unit (mail_id INTEGER, unit INTEGER, PRIMARY KEY (mail_id, unit));
        CREATE TABLE mail_person (mail_id INTEGER, user_id INTEGER,
                                  PRIMARY KEY (mail_id, user_id));
        CREATE INDEX mail_person_user ON mail_person (user_id, mail_id);
        """
    )
    started = time.perf_counter()
    with db:
        for r in records:
            db.execute(
                "INSERT INTO fts (rowid, title, correspondent, body) VALUES (?, ?, ?, ?)",
                (r["id"], r["title"], r["correspondent"], r["body"]),
            )
            db.execute(
                "INSERT INTO meta VALUES (?, ?, ?, ?, ?, ?)",
                (
                    r["id"],
                    r["date"],
                    r["mail_type"],
                    r["direction"],
                    r["status"],
                    int(r["confidential"]),
                ),
            )
            db.executemany(
                "INSERT INTO mail_unit VALUES (?, ?)", [(r["id"], u) for u in r["units"]]
            )
            db.executemany(
                "INSERT INTO mail_person VALUES (?, ?)", [(r["id"], p) for p in r["people"]]
            )
    return db, time.perf_counter() - started


def run_fts(db: sqlite3.Connection, queries: list[BenchQuery]) -> tuple[list[float], list[int]]:
    units = sorted(AGENT.units)
    marks = ",".join("?" * len(units))
    permission = (
        f"((m.confidential = 0 AND EXISTS (SELECT 1 FROM mail_unit u WHERE u.mail_id = m.id"
        f" AND u.unit IN ({marks}))) OR EXISTS (SELECT 1 FROM mail_person p"
        f" WHERE p.mail_id = m.id AND p.user_id = ?))"
    )
    samples, totals = [], []
    for q in queries:
        where = ["fts MATCH ?", permission]
        params: list[Any] = [q.fts, *units, AGENT.user_id]
        if q.mail_type:
            where.append("m.mail_type = ?")
            params.append(q.mail_type)
        if q.date_from:
            where.append("m.date BETWEEN ? AND ?")
            params += [q.date_from.isoformat(), (q.date_to or q.date_from).isoformat()]
        condition = " AND ".join(where)
        t = time.perf_counter()
        top = db.execute(
            "SELECT m.id, snippet(fts, 2, '<mark>', '</mark>', ' … ', 24) FROM fts"
            f" JOIN meta m ON m.id = fts.rowid WHERE {condition} ORDER BY rank LIMIT {PER_PAGE}",
            params,
        ).fetchall()
        (total,) = db.execute(
            f"SELECT count(*) FROM fts JOIN meta m ON m.id = fts.rowid WHERE {condition}", params
        ).fetchone()
        samples.append(time.perf_counter() - t)
        totals.append(int(total))
        assert len(top) == min(total, PER_PAGE)
    return samples, totals


# --- main --------------------------------------------------------------------------------


def timed(label: str, fn: Callable[[], Any]) -> Any:
    started = time.perf_counter()
    out = fn()
    print(f"{label}: {time.perf_counter() - started:.1f} s", flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=sorted(BACKENDS), default="whoosh")
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--subset", type=int, default=20_000)
    parser.add_argument("--full", action="store_true", help="time the build of every document")
    parser.add_argument("--no-bulk", action="store_true", help="skip the bulk indexing timing")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--no-tantivy", action="store_true", help="skip tantivy and the API")
    args = parser.parse_args()
    backend = BACKENDS[args.backend]
    name = backend.name.capitalize()
    load_before = [round(x, 2) for x in os.getloadavg()]

    corpus_path = CACHE / f"corpus-{args.docs}-{args.seed}.jsonl.gz"
    records = timed(
        "corpus (cached after the first run)", lambda: load(corpus_path, args.docs, args.seed)
    )
    queries = make_queries(args.queries, args.seed)
    timed_docs = len(records) if args.full else min(args.subset, len(records))

    bulk: float | None = None
    bulk_cpu: float | None = None
    seconds = cpu_seconds = 0.0
    if not args.no_bulk:
        print(f"{name}: bulk indexing {timed_docs:,} letters in batches of {BATCH}", flush=True)
        seconds, cpu_seconds = bulk_batches(
            backend, CACHE / f"{backend.name}-bulk", records[:timed_docs]
        )
        bulk, bulk_cpu = timed_docs / seconds, timed_docs / cpu_seconds
    print(f"{name}: the {len(records):,}-letter index for the queries", flush=True)
    ix, one_commit_seconds = query_index(backend, records, args.seed)
    one_commit = len(records) / one_commit_seconds if one_commit_seconds else None
    for q in queries[:8]:  # warm the caches (term dictionaries, stored fields)
        ix.search(SearchQuery(text=q.text, per_page=PER_PAGE), AGENT)
    clock = Clock()
    w_samples, w_totals = run_index(ix, queries)
    w = percentiles(w_samples)
    w_cpu_ms = round(clock.elapsed()[1] / len(queries) * 1000, 2)
    ix.close()

    print("SQLite FTS5: indexing", flush=True)
    db, fts_seconds = build_fts(CACHE / f"fts5-{args.docs}.sqlite", records)
    fts_bulk = len(records) / fts_seconds
    run_fts(db, queries[:8])
    f_samples, f_totals = run_fts(db, queries)
    f = percentiles(f_samples)
    db.close()

    label = "measured on all" if args.full else f"measured on the first {timed_docs:,} of"
    report = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": load_before,
            "load_average_after": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(),
            backend.name: backend.version,
            "sqlite": sqlite3.sqlite_version,
        },
        "documents": len(records),
        "queries": len(queries),
        "visibility": {"units": sorted(AGENT.units), "user_id": AGENT.user_id},
        "goals": {"bulk_docs_per_s": GOAL_BULK, "p95_ms": GOAL_P95_MS},
        backend.name: {
            "bulk_docs_per_s": round(bulk, 1) if bulk else None,
            "bulk_docs_per_cpu_s": round(bulk_cpu, 1) if bulk_cpu else None,
            "bulk_timed_docs": timed_docs,
            "bulk_seconds": round(seconds, 1),
            "bulk_cpu_seconds": round(cpu_seconds, 1),
            "bulk_extrapolated_100k_s": None if args.full or not bulk else round(100_000 / bulk),
            "batch": BATCH,
            "one_commit_docs_per_s": round(one_commit, 1) if one_commit else None,
            **w,
            "mean_cpu_ms": w_cpu_ms,
            "p50_ms_by_kind": by_kind(queries, w_samples),
            "hits_total": sum(w_totals),
        },
        "fts5": {
            "bulk_docs_per_s": round(fts_bulk, 1),
            **f,
            "p50_ms_by_kind": by_kind(queries, f_samples),
            "hits_total": sum(f_totals),
            "note": "top 10 + snippet + total; no facets, no stemming, no Arabic normalisation",
        },
        f"ratios_{backend.name}_over_fts5": {
            "bulk": round(bulk / fts_bulk, 3) if bulk else None,
            "p50": round(w["p50_ms"] / f["p50_ms"], 1),
            "p95": round(w["p95_ms"] / f["p95_ms"], 1),
        },
    }
    if not args.no_tantivy:  # tantivy, and the API with each engine: backends.py
        import backends

        report["tantivy"] = backends.compare(records, queries, args.seed, whoosh=lambda: ix)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    results = RESULTS.with_name(f"search-{backend.name}.json")
    results.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")

    def ok(value: float, goal: float, higher: bool) -> str:
        return "meets" if (value >= goal if higher else value <= goal) else "MISSES"

    print()
    print(f"{len(records):,} letters, {len(queries)} queries, agent of 3 units, top {PER_PAGE}")
    print(f"load average before {load_before}, after {report['machine']['load_average_after']}")
    print(f"{'':24}{name:>14}{'FTS5':>14}{'ratio':>9}   goal")
    if bulk and bulk_cpu:
        print(
            f"{'bulk docs/s':24}{bulk:>14,.0f}{fts_bulk:>14,.0f}{bulk / fts_bulk:>9.3f}"
            f"   ≥ {GOAL_BULK:.0f} ({ok(bulk, GOAL_BULK, True)}; {label} {len(records):,})"
        )
        print(f"{'bulk docs/CPU-s':24}{bulk_cpu:>14,.0f}   (one process's CPU time)")
    for key in ("p50_ms", "p95_ms"):
        goal = (
            f"   ≤ {GOAL_P95_MS:.0f} ({ok(w[key], GOAL_P95_MS, False)})" if key == "p95_ms" else ""
        )
        print(
            f"{key.replace('_', ' '):24}{w[key]:>14.2f}{f[key]:>14.2f}{w[key] / f[key]:>9.1f}{goal}"
        )
    print(f"{'mean CPU ms / query':24}{w_cpu_ms:>14.2f}")
    if one_commit:
        print(f"{'one writer, one commit':24}{one_commit:>14,.0f}   docs/s, all {len(records):,}")
    print(f"{'hits (sum of totals)':24}{sum(w_totals):>14,}{sum(f_totals):>14,}")
    print("p50 by kind (ms):")
    wk, fk = by_kind(queries, w_samples), by_kind(queries, f_samples)
    for kind in wk:
        print(f"  {kind:22}{wk[kind]:>14.2f}{fk[kind]:>14.2f}")
    if bulk and not args.full:
        print(
            f"bulk rate {label} the corpus; 100,000 extrapolated: ~{100_000 / bulk:.0f} s at that"
            " rate (optimistic: merges cost more as the index grows; --full times them all)"
        )
    if "tantivy" in report:
        print("\n".join(backends.report_lines(report["tantivy"], len(records))))
        print(f"written to {results.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
