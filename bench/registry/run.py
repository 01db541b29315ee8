"""Registry benchmark: registrations per second, and the mail list at 100,000 mails.

    python bench/registry/run.py [--mails 100000] [--registrations 200] [--repeat 30]
                                 [--sqlite-only] [--rebuild] [--explain] [--without-new-index]

1. Registrations through ``Registry.register`` (one 20 KB PDF each, checks, store, audit, chrono,
   job enqueued), sequentially, on SQLite and on PostgreSQL: per second and p50/p95 per call.
2. ``Registry.search`` with direction + status + unit + date range, newest first, page 1 and
   the last page, at N generated mails, for a typical list (a division's mail in progress over
   a quarter) and a broad one (a whole direction's closed mail over a year): p50/p95 for an
   agent and a registrar (the permission filter applies) and for the system actor (no
   permission filter: the baseline), and the ratio. Goal: p95 ≤ 50 ms. The SQLite database is
   cached in bench/.cache/ (git-ignored). ``--without-new-index`` drops the index of migration
   0005 first, for before/after figures (written to registry-without-new-index.json).

PostgreSQL: GED_BENCH_DATABASE_URL, default the local test server; a fresh schema is made and
dropped each run. If the server cannot be reached, its part is skipped with a message.
Figures go to stdout and to bench/results/registry.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import io
import json
import os
import platform
import secrets
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy
from corpus import AS_OF, Corpus, generate
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError

from ged import bootstrap, migrations
from ged.adapters.db import make_engine
from ged.bootstrap import Container
from ged.domain.model import Role
from ged.services.admin import UnitData, UserData
from ged.services.audit import Actor
from ged.services.mail import MailFilter, MailInput
from ged.services.uploads import Upload

# The benchmarks share their throwaway instances (bench/instances.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.instances import postgres_schema, settings_for

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / "bench" / ".cache"
RESULTS = ROOT / "bench" / "results" / "registry.json"
PG_SERVER = os.environ.get(
    "GED_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
GOAL_P95_MS = 50.0
CORPUS_VERSION = 1
SYSTEM = Actor.system("bench")


# --- helpers ------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))]


def summary(samples_ms: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(samples_ms, 50), 2),
        "p95_ms": round(percentile(samples_ms, 95), 2),
        "mean_ms": round(statistics.fmean(samples_ms), 2),
        "runs": len(samples_ms),
    }


def timed(call: Callable[[], object], repeat: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return samples


# --- 1. registrations per second ----------------------------------------------------------


def registration_rate(database_url: str, count: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ged-bench-") as folder:
        settings = settings_for(Path(folder) / "instance", database_url)
        settings.instance.mkdir()
        engine = make_engine(settings.effective_database_url)
        container = None
        try:
            migrations.upgrade(engine)
            container = bootstrap.build(settings, engine=engine)
            container.store.ensure()
            unit = container.admin.create_unit(SYSTEM, UnitData("BO", "Bureau d'ordre"))
            service = container.admin.create_unit(SYSTEM, UnitData("S1", "Service", parent_id=unit))
            clerk_id = container.admin.create_user(
                SYSTEM,
                UserData("greffe", "Bureau d'ordre", Role.REGISTRAR.value, unit_id=unit),
                secrets.token_urlsafe(16),
            )
            clerk = Actor(clerk_id, "greffe", Role.REGISTRAR, unit)
            kind = container.registry.create_mail_type(SYSTEM, "DEM", "Demande", 10)
            filler = os.urandom(20_000)

            def register(n: int) -> None:
                container.registry.register(  # type: ignore[union-attr]
                    clerk,
                    MailInput(
                        "incoming",
                        f"Demande d'autorisation n° {n}",
                        correspondent_name=f"Correspondant {n % 50}",
                        mail_type_id=kind,
                        unit_ids=(service,),
                    ),
                    [Upload(io.BytesIO(b"%PDF-1.4\n%" + str(n).encode() + filler), "lettre.pdf")],
                )

            for n in range(5):  # warm caches and create the first correspondents
                register(-n - 1)
            samples = []
            start = time.perf_counter()
            for n in range(count):
                t = time.perf_counter()
                register(n)
                samples.append((time.perf_counter() - t) * 1000)
            elapsed = time.perf_counter() - start
        finally:
            if container is not None:
                container.dispose()
            engine.dispose()
    return {
        "registrations": count,
        "seconds": round(elapsed, 2),
        "per_second": round(count / elapsed, 1),
        **summary(samples),
    }


# --- 2. the mail list at N mails ----------------------------------------------------------


def cached_sqlite(mails: int, rebuild: bool) -> tuple[Path, Corpus]:
    """The generated SQLite database, built once per (size, schema revision, generator)."""
    probe = make_engine("sqlite://")
    try:
        head = migrations.head_revision(probe)
    finally:
        probe.dispose()
    path = CACHE / f"registry-{mails}-rev{head}-v{CORPUS_VERSION}.sqlite3"
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists() and not rebuild:
        return path, Corpus.from_json(json.loads(meta.read_text()))
    CACHE.mkdir(parents=True, exist_ok=True)
    for stale in CACHE.glob(f"registry-{mails}-*"):  # older schema revisions or generators
        stale.unlink()
    partial = path.with_suffix(".part")
    partial.unlink(missing_ok=True)
    print(f"  generating {mails:,} mails into {path.relative_to(ROOT)} (cached for next runs)…")
    start = time.perf_counter()
    engine = make_engine(f"sqlite:///{partial}")
    try:
        corpus = populate(engine, mails)
    finally:
        engine.dispose()
    # Back to a single file before it moves into place.
    with sqlite3.connect(partial) as conn:
        conn.execute("PRAGMA journal_mode = DELETE")
    partial.replace(path)
    meta.write_text(json.dumps(dataclasses.asdict(corpus)))
    print(f"  generated in {time.perf_counter() - start:.1f} s")
    return path, corpus


def populate(engine: Engine, mails: int) -> Corpus:
    migrations.upgrade(engine)
    with engine.begin() as conn:
        corpus = generate(conn, mails)
        if engine.dialect.name == "postgresql":
            # Ids were given explicitly: move the sequences past them. Fixed table names only.
            for table in ("unit", "users", "correspondent", "mail_type", "mail"):
                sql = (
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"  # noqa: S608
                )
                conn.execute(text(sql))
    # Statistics and (PostgreSQL) the visibility map, as autovacuum leaves a live database.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    return corpus


class StatementCapture:
    """The SQL of one call, to EXPLAIN it afterwards."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.statements: list[tuple[str, Any]] = []

    def __call__(self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if not statement.startswith("BEGIN"):
            self.statements.append((statement, parameters))

    def capture(self, call: Callable[[], object]) -> list[tuple[str, Any]]:
        self.statements = []
        event.listen(self.engine, "before_cursor_execute", self)
        try:
            call()
        finally:
            event.remove(self.engine, "before_cursor_execute", self)
        return self.statements


def explain(engine: Engine, call: Callable[[], object]) -> list[str]:
    lines: list[str] = []
    prefix = (
        "EXPLAIN QUERY PLAN "
        if engine.dialect.name == "sqlite"
        else "EXPLAIN (ANALYZE, COSTS OFF) "
    )
    for statement, parameters in StatementCapture(engine).capture(call):
        if not statement.lstrip().upper().startswith("SELECT") or "FROM unit" in statement:
            continue
        lines.append("-- " + " ".join(statement.split())[:160])
        with engine.connect() as conn:
            rows = conn.exec_driver_sql(prefix + statement, parameters).all()
        lines.extend("   " + " | ".join(str(c) for c in row) for row in rows)
    return lines


NEW_INDEX = "ix_mail_direction_status_date"


@dataclasses.dataclass(frozen=True)
class Scenario:
    name: str
    unit_id: int
    agent: Actor
    query: MailFilter


def scenarios(container: Container, corpus: Corpus) -> list[Scenario]:
    """A division's open mail of the last quarter, and a whole direction's closed mail of a year."""
    registry = container.registry
    counts = {
        d: registry.search(SYSTEM, MailFilter(unit_id=d, per_page=1)).total
        for d in corpus.directions
    }
    direction = max(counts, key=lambda d: counts[d])
    division = corpus.divisions[direction][0]
    return [
        Scenario(
            "typical: a division, in progress, 90 days",
            division,
            Actor(corpus.agents[division], "agent", Role.AGENT, division),
            MailFilter(
                direction="incoming",
                status="in_progress",
                unit_id=division,
                date_from=AS_OF - dt.timedelta(days=90),
                date_to=AS_OF,
                sort="-registered",
            ),
        ),
        Scenario(
            "broad: a direction, closed, 365 days",
            direction,
            Actor(corpus.agents[direction], "agent", Role.AGENT, direction),
            MailFilter(
                direction="incoming",
                status="closed",
                unit_id=direction,
                date_from=AS_OF - dt.timedelta(days=365),
                date_to=AS_OF,
                sort="-registered",
            ),
        ),
    ]


def measure_list(
    container: Container, corpus: Corpus, repeat: int, show_plans: bool
) -> dict[str, Any]:
    registry = container.registry
    results: dict[str, Any] = {}
    worst = 0.0
    for scenario in scenarios(container, corpus):
        actors = {
            "agent": scenario.agent,
            "registrar": Actor(corpus.registrars[0], "greffe", Role.REGISTRAR, 1),
            "baseline": SYSTEM,  # the system actor: no permission filter at all
        }
        pages = registry.search(scenario.agent, scenario.query).pages
        print(f"    {scenario.name} ({pages} pages for the agent)")
        runs: dict[str, Any] = {}
        for label, page in (("page 1", 1), (f"page {pages}", pages)):
            query = dataclasses.replace(scenario.query, page=page)
            for name, actor in actors.items():
                found = registry.search(actor, query)
                samples = timed(lambda a=actor, q=query: registry.search(a, q), repeat)
                run = {"total": found.total, "rows": len(found.rows), **summary(samples)}
                runs[f"{name}, {label}"] = run
                print(f"      {name + ', ' + label:24} total {found.total:6}  {fmt(run)}")
                if name != "baseline":
                    worst = max(worst, run["p95_ms"])
                if show_plans and name == "agent":
                    for line in explain(
                        container.engine, lambda a=actor, q=query: registry.search(a, q)
                    ):
                        print("        " + line)
            ratio = runs[f"agent, {label}"]["p95_ms"] / runs[f"baseline, {label}"]["p95_ms"]
            runs[f"p95 ratio agent/baseline, {label}"] = round(ratio, 2)
            print(f"      {'agent/baseline p95':24} ×{ratio:.2f}")
        results[scenario.name] = {
            "filter": {
                "direction": scenario.query.direction,
                "status": scenario.query.status,
                "unit_subtree_of": scenario.unit_id,
                "date_from": str(scenario.query.date_from),
                "date_to": str(scenario.query.date_to),
                "sort": scenario.query.sort,
                "per_page": scenario.query.per_page,
            },
            "pages_for_agent": pages,
            **runs,
        }
    results["worst_p95_ms"] = worst
    results["goal_met"] = worst <= GOAL_P95_MS
    return results


def drop_new_index(engine: Engine) -> None:
    """For the "before" figures: the list without the index added in migration 0005."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f"DROP INDEX IF EXISTS {NEW_INDEX}"))
        conn.execute(text("ANALYZE"))


def fmt(run: dict[str, float]) -> str:
    return f"p50 {run['p50_ms']:7.2f} ms   p95 {run['p95_ms']:7.2f} ms"


def list_on_sqlite(
    mails: int, repeat: int, rebuild: bool, show_plans: bool, without_index: bool
) -> dict[str, Any]:
    path, corpus = cached_sqlite(mails, rebuild)
    with tempfile.TemporaryDirectory(prefix="ged-bench-") as folder:
        if without_index:  # work on a copy: the cache keeps its index
            copy = Path(folder) / path.name
            shutil.copyfile(path, copy)
            path = copy
        settings = settings_for(Path(folder) / "instance", f"sqlite:///{path}")
        settings.instance.mkdir()
        container = bootstrap.build(settings)
        try:
            if without_index:
                drop_new_index(container.engine)
            return measure_list(container, corpus, repeat, show_plans)
        finally:
            container.dispose()


def list_on_postgres(
    url: str, mails: int, repeat: int, show_plans: bool, without_index: bool
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ged-bench-") as folder:
        settings = settings_for(Path(folder) / "instance", url)
        settings.instance.mkdir()
        engine = make_engine(url)
        try:
            start = time.perf_counter()
            corpus = populate(engine, mails)
            print(f"    generated {mails:,} mails in {time.perf_counter() - start:.1f} s")
            if without_index:
                drop_new_index(engine)
            container = bootstrap.build(settings, engine=engine)
            try:
                return measure_list(container, corpus, repeat, show_plans)
            finally:
                container.dispose()
        finally:
            engine.dispose()


# --- main ---------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--mails", type=int, default=100_000)
    parser.add_argument("--registrations", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument(
        "--rebuild", action="store_true", help="regenerate the cached SQLite database"
    )
    parser.add_argument("--explain", action="store_true", help="print the agent's query plans")
    parser.add_argument(
        "--without-new-index",
        action="store_true",
        help=f"drop {NEW_INDEX} before measuring the list (the 'before' figures)",
    )
    args = parser.parse_args()

    began = time.perf_counter()
    report: dict[str, Any] = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "python": platform.python_version(),
            "sqlalchemy": sqlalchemy.__version__,
            "sqlite": sqlite3.sqlite_version,
        },
        "goal_p95_ms": GOAL_P95_MS,
        "mails": args.mails,
        "without_new_index": args.without_new_index,
        "registration": {},
        "mail_list": {},
    }

    print(f"Registrations through the service layer ({args.registrations}, sequential)")
    rate = registration_rate("", args.registrations)
    report["registration"]["sqlite"] = rate
    print(f"  SQLite      {rate['per_second']:7.1f} /s   {fmt(rate)}")
    postgres_ok = not args.sqlite_only
    if postgres_ok:
        try:
            with postgres_schema(PG_SERVER) as url:
                rate = registration_rate(url, args.registrations)
            report["registration"]["postgresql"] = rate
            print(f"  PostgreSQL  {rate['per_second']:7.1f} /s   {fmt(rate)}")
        except OperationalError as exc:
            postgres_ok = False
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            report["postgresql_skipped"] = reason
            print(f"  PostgreSQL  skipped: cannot reach the server ({reason})")

    print(f"Mail list at {args.mails:,} mails (goal: p95 ≤ {GOAL_P95_MS:.0f} ms)")
    print("  SQLite")
    report["mail_list"]["sqlite"] = list_on_sqlite(
        args.mails, args.repeat, args.rebuild, args.explain, args.without_new_index
    )
    if postgres_ok:
        print("  PostgreSQL")
        with postgres_schema(PG_SERVER) as url:
            report["mail_list"]["postgresql"] = list_on_postgres(
                url, args.mails, args.repeat, args.explain, args.without_new_index
            )
        engine = create_engine(PG_SERVER)
        try:
            with engine.connect() as conn:
                report["machine"]["postgresql"] = conn.execute(text("SHOW server_version")).scalar()
        finally:
            engine.dispose()

    for name, result in report["mail_list"].items():
        verdict = "met" if result["goal_met"] else "MISSED"
        print(f"  {name}: worst p95 {result['worst_p95_ms']} ms: goal {verdict}")
    report["seconds"] = round(time.perf_counter() - began, 1)
    results = (
        RESULTS.with_stem(RESULTS.stem + "-without-new-index")
        if args.without_new_index
        else RESULTS
    )
    results.parent.mkdir(parents=True, exist_ok=True)
    results.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"Written {results.relative_to(ROOT)} in {report['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
