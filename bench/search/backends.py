"""tantivy beside Whoosh: the same corpus and queries, through the product's adapters and API.

    python bench/search/backends.py [--docs 100000] [--queries 200] [--seed 2026]
                                    [--api whoosh,tantivy]

Also called by ``run.py`` (its ``tantivy`` column). For tantivy, with the corpus of ``run.py``:

1. Full reindex: ``recreate`` then one ``upsert`` of every document (one writer, one commit,
   as ``Search.reindex`` does): seconds and documents/s. This is the index's side of
   ``ged reindex``; reading the rows from the database comes on top. For comparison, the rate
   with one commit per batch (the first 10,000 letters): each commit costs a dozen fsyncs.
2. Queries: the 200 queries of ``run.py`` as the same agent of 3 units (the permission filter),
   top 10 with highlights, the total and the five facets: p50 / p95.
3. One-document update on the full index (``upsert`` of one changed letter, commit included,
   what the worker does after an edit): p50 / p95 of 50.
4. The API end to end: ``GET /api/v1/search?q=…&per_page=10`` through the Flask app (the test
   client: routing, bearer-token check, permissions read from the database, the search, JSON),
   for each engine named in ``--api``, on a SQLite instance whose agent sees the same 3 units.

Goals at 100,000 documents: engine p95 ≤ 10 ms, API p95 ≤ 30 ms, bulk ≥ 5,000 documents/s,
full reindex < 30 s. Figures go to stdout and bench/results/search-backends.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import tantivy
from corpus import load, to_item
from run import AGENT, CACHE, PER_PAGE, ROOT, BenchQuery, by_kind, make_queries, percentiles

from ged import bootstrap, migrations
from ged.adapters.db import make_engine
from ged.adapters.search_tantivy import TantivySearchIndex
from ged.config import load_settings
from ged.domain.search import IndexedItem, SearchIndex, SearchQuery
from ged.services.admin import UnitData, UserData
from ged.services.audit import Actor
from ged.services.search import BATCH, Search

RESULTS = ROOT / "bench" / "results" / "search-backends.json"
GOALS = {"p95_ms": 10.0, "api_p95_ms": 30.0, "bulk_docs_per_s": 5000.0, "reindex_s": 30.0}
UPDATES = 50
BATCHED_DOCS = 10_000


def build_tantivy(
    directory: Path, records: list[dict[str, Any]]
) -> tuple[TantivySearchIndex, float, float, float]:
    """The full reindex, timed, as ``Search.reindex`` does it: a fresh index, then one ``upsert``
    of every item (one writer, one commit), the items converted as they are consumed.
    Returns the index, wall seconds, CPU seconds of every thread and of the Python thread
    (analysis and hand-over to tantivy; tantivy's own threads index beside it)."""
    ix = TantivySearchIndex(directory)
    started = time.perf_counter()
    cpu_started = time.process_time()
    thread_started = time.thread_time()
    ix.recreate()

    def items() -> Iterator[IndexedItem]:
        for n, record in enumerate(records, 1):
            yield to_item(record)
            if n % 20_000 == 0:
                rate = n / (time.perf_counter() - started)
                print(f"  {n:,} indexed, {rate:,.0f}/s", flush=True)

    ix.upsert(items())
    return (
        ix,
        time.perf_counter() - started,
        time.process_time() - cpu_started,
        time.thread_time() - thread_started,
    )


def batched_rate(directory: Path, records: list[dict[str, Any]]) -> float:
    """Documents/s with one commit per ``BATCH`` (the worker's way, many small commits)."""
    ix = TantivySearchIndex(directory)
    ix.recreate()
    started = time.perf_counter()
    for start in range(0, len(records), BATCH):
        ix.upsert(to_item(r) for r in records[start : start + BATCH])
    seconds = time.perf_counter() - started
    ix.close()
    shutil.rmtree(directory)
    return len(records) / seconds


def run_queries(
    ix: SearchIndex, queries: list[BenchQuery], cpu: list[float] | None = None
) -> tuple[list[float], list[int]]:
    """What ``run.py`` measures for Whoosh: top 10, highlights, total and facets, as AGENT.
    ``cpu`` receives each query's CPU time (the process's, every thread)."""
    samples, totals = [], []
    for q in queries:
        sq = SearchQuery(text=q.text, date_from=q.date_from, date_to=q.date_to, per_page=PER_PAGE)
        t, c = time.perf_counter(), time.process_time()
        results = ix.search(sq, AGENT)
        samples.append(time.perf_counter() - t)
        if cpu is not None:
            cpu.append(time.process_time() - c)
        totals.append(results.total)
        assert all(h.highlight for h in results.hits)
        assert len(results.facets) == 5
    return samples, totals


def one_document_updates(ix: SearchIndex, records: list[dict[str, Any]]) -> list[float]:
    samples = []
    for record in records[:: max(1, len(records) // UPDATES)][:UPDATES]:
        item = to_item({**record, "title": record["title"] + " (corrigé)"})
        t = time.perf_counter()
        ix.upsert([item])
        samples.append(time.perf_counter() - t)
    return samples


def api_latency(
    ix: SearchIndex, queries: list[BenchQuery], cpu: list[float] | None = None
) -> list[float]:
    """``GET /api/v1/search`` through the app, with ``ix`` as the search index. ``cpu``
    receives each request's CPU time (the process's, every thread)."""
    from web import create_app

    with tempfile.TemporaryDirectory(prefix="ged-bench-") as tmp:
        settings = load_settings(
            {"instance": Path(tmp), "secret_key": "b" * 48, "redis_url": "", "database_url": ""},
            environ={},
        )
        engine = make_engine(settings.effective_database_url)
        migrations.upgrade(engine)
        ged = bootstrap.build(settings, engine=engine, immediate_jobs=True)
        system = Actor.system("bench")
        # Units 1..60 as in the corpus; 23 and 41 below 7, so the agent of 7 sees AGENT's units.
        for n in range(1, 61):
            parent = 7 if n in (23, 41) else None
            created = ged.admin.create_unit(
                system, UnitData(code=f"U{n}", name=f"Unité {n}", parent_id=parent)
            )
            assert created == n
        ged.admin.create_user(
            system,
            UserData(username="agent", full_name="Agent", role="agent", unit_id=7, locale="fr"),
            "bench-password-0123",
        )
        token = ged.accounts.create_token(system, "agent", "bench")
        ged.search = Search(ged.writer, ged.reader, ix)
        client = create_app({"GED_CONTAINER": ged}).test_client()
        headers = {"Authorization": f"Bearer {token}"}
        timeouts: list[str] = []

        def get(q: BenchQuery) -> None:
            params: dict[str, str | int] = {"q": q.text, "per_page": PER_PAGE}
            if q.date_from:
                params["date_from"] = q.date_from.isoformat()
            if q.date_to:
                params["date_to"] = q.date_to.isoformat()
            response = client.get("/api/v1/search", query_string=params, headers=headers)
            if response.status_code == 400 and "trop de temps" in response.get_data(as_text=True):
                timeouts.append(q.text)  # Whoosh's 5 s limit: counted with the time it took
                return
            assert response.status_code == 200, response.get_data(as_text=True)[:300]

        for q in queries[:8]:
            get(q)
        samples = []
        for q in queries:
            t, c = time.perf_counter(), time.process_time()
            get(q)
            samples.append(time.perf_counter() - t)
            if cpu is not None:
                cpu.append(time.process_time() - c)
        ged.dispose()
        if timeouts:
            print(f"  {len(timeouts)} queries stopped by the time limit", flush=True)
        return samples


def whoosh_index(records: list[dict[str, Any]], seed: int) -> SearchIndex:
    from run import query_index

    return query_index(records, seed)[0]


def compare(
    records: list[dict[str, Any]],
    queries: list[BenchQuery],
    seed: int,
    api: tuple[str, ...] = ("whoosh", "tantivy"),
    whoosh: Callable[[], SearchIndex] | None = None,
    api_queries: int = 0,
) -> dict[str, Any]:
    """tantivy's figures, and the API's for each engine in ``api`` (a dict for the report)."""
    directory = CACHE / f"tantivy-{len(records)}-{seed}"
    subset = records[:BATCHED_DOCS]
    print(f"tantivy: {len(subset):,} letters with a commit every {BATCH}", flush=True)
    batched = batched_rate(CACHE / "tantivy-batched", subset)
    print(f"tantivy: full reindex of {len(records):,} letters, one commit", flush=True)
    ix, seconds, cpu_seconds, thread_seconds = build_tantivy(directory, records)
    for q in queries[:8]:
        ix.search(SearchQuery(text=q.text, per_page=PER_PAGE), AGENT)
    cpu: list[float] = []
    samples, totals = run_queries(ix, queries, cpu)
    updates = percentiles(one_document_updates(ix, records))
    size = sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())
    out: dict[str, Any] = {
        "version": tantivy.__version__,
        "full_reindex_s": round(seconds, 1),
        "bulk_docs_per_s": round(len(records) / seconds, 1),
        "full_reindex_cpu_s": round(cpu_seconds, 1),
        "full_reindex_python_thread_cpu_s": round(thread_seconds, 1),
        "cpu_p50_ms": percentiles(cpu)["p50_ms"],
        "cpu_p95_ms": percentiles(cpu)["p95_ms"],
        "batched_docs_per_s": round(batched, 1),
        "batched_note": f"first {len(subset):,} letters, one commit per {BATCH}",
        **percentiles(samples),
        "p50_ms_by_kind": by_kind(queries, samples),
        "hits_total": sum(totals),
        "update_one_p50_ms": updates["p50_ms"],
        "update_one_p95_ms": updates["p95_ms"],
        "index_mb": round(size / 1e6, 1),
        "api": {},
    }
    api_sample = queries[:api_queries] if api_queries else queries
    out["api_queries"] = len(api_sample)
    for engine in api:
        print(f"API end to end with {engine}, {len(api_sample)} queries", flush=True)
        api_cpu: list[float] = []
        if engine == "tantivy":
            out["api"][engine] = percentiles(api_latency(ix, api_sample, api_cpu))
        else:
            index = whoosh() if whoosh else whoosh_index(records, seed)
            out["api"][engine] = percentiles(api_latency(index, api_sample, api_cpu))
            index.close()
        cpu_percentiles = percentiles(api_cpu)
        out["api"][engine]["cpu_p50_ms"] = cpu_percentiles["p50_ms"]
        out["api"][engine]["cpu_p95_ms"] = cpu_percentiles["p95_ms"]
    ix.close()
    return out


def report_lines(figures: dict[str, Any], documents: int) -> list[str]:
    def ok(value: float, goal: float, higher: bool = False) -> str:
        return "meets" if (value >= goal if higher else value <= goal) else "MISSES"

    g = GOALS
    lines = [
        f"tantivy {figures['version']}, {documents:,} letters, agent of 3 units, top {PER_PAGE}",
        f"  full reindex        {figures['full_reindex_s']:>8.1f} s      "
        f"< {g['reindex_s']:.0f} s ({ok(figures['full_reindex_s'], g['reindex_s'])})",
        f"  bulk                {figures['bulk_docs_per_s']:>8,.0f} docs/s "
        f"≥ {g['bulk_docs_per_s']:,.0f} ({ok(figures['bulk_docs_per_s'], g['bulk_docs_per_s'], True)})",
        f"  query p50 / p95     {figures['p50_ms']:>8.2f} / {figures['p95_ms']:.2f} ms "
        f"≤ {g['p95_ms']:.0f} ({ok(figures['p95_ms'], g['p95_ms'])})",
        f"  commit every {BATCH:<5}  {figures['batched_docs_per_s']:>8,.0f} docs/s "
        f"({figures['batched_note']})",
        f"  CPU time            reindex {figures['full_reindex_cpu_s']:.1f} s (all threads; "
        f"Python thread {figures['full_reindex_python_thread_cpu_s']:.1f} s), "
        f"query p50 / p95 {figures['cpu_p50_ms']:.2f} / {figures['cpu_p95_ms']:.2f} ms",
        f"  one-doc update      {figures['update_one_p50_ms']:>8.2f} / "
        f"{figures['update_one_p95_ms']:.2f} ms (p50 / p95)",
        f"  index size          {figures['index_mb']:>8.1f} MB",
    ]
    for engine, api in figures["api"].items():
        lines.append(
            f"  API {engine:<8} p50 / p95 {api['p50_ms']:>8.2f} / {api['p95_ms']:.2f} ms "
            f"(goal for tantivy ≤ {g['api_p95_ms']:.0f}), "
            f"CPU {api['cpu_p50_ms']:.2f} / {api['cpu_p95_ms']:.2f} ms"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--api", default="whoosh,tantivy", help="engines to time through the API")
    parser.add_argument("--api-queries", type=int, default=0, help="the first N queries (0: all)")
    args = parser.parse_args()
    load_before = [round(x, 2) for x in os.getloadavg()]
    records = load(CACHE / f"corpus-{args.docs}-{args.seed}.jsonl.gz", args.docs, args.seed)
    queries = make_queries(args.queries, args.seed)
    api = tuple(e for e in args.api.split(",") if e)
    figures = compare(records, queries, args.seed, api, api_queries=args.api_queries)
    report = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": load_before,
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(),
        },
        "documents": len(records),
        "queries": len(queries),
        "goals": GOALS,
        "api_client": "Flask test client through the whole app (no network, no WSGI server)",
        "tantivy": figures,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    print()
    print("\n".join(report_lines(figures, len(records))))
    print(
        f"  load average (1, 5, 15 min) before {load_before}, after {report['machine']['load_average']}"
    )
    print(f"written to {RESULTS.relative_to(ROOT)}")
    # The index stays in the cache (git-ignored) for a look at its queries; the next run rebuilds it.


if __name__ == "__main__":
    main()
