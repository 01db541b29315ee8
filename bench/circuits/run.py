"""Circuit benchmark: task completions per second on the bundled `incoming_mail` circuit.

In memory (this half): through `workflows.engine`, where every step loads the state JSON, completes
the task, runs the engine and writes the state again, as the service layer will; beside raw
SpiffWorkflow on the same circuit in the same run, once purely in memory (the floor the engine is
compared with: the ratio) and once with SpiffWorkflow's default serializer round-tripping the
state at every step (what the engine replaces).

Persistence (the service layer): `Tasks.complete` on SQLite and PostgreSQL, one transaction per
completion (load the state, engine step, optimistic save, task rows, mail status, audit event,
commit), on the same path; the ratio to raw SpiffWorkflow in memory is on CPU time. On SQLite
a second run freezes the heap after start-up first (`gc.freeze()`, see
docs/circuits-performance.md). Then the p95 of the inbox and overdue queries (a page of 25 and
its count) over 1,000,000 task rows bulk inserted with Core; the SQLite file is kept in
bench/.cache/ for the next runs, the PostgreSQL rows go to a fresh schema dropped afterwards.

PostgreSQL: GED_BENCH_DATABASE_URL, default the local test server; --no-postgres to skip it.

Usage: python bench/circuits/run.py [--seconds 8] [--rows 1000000] [--no-postgres]
Prints the figures and writes them to bench/results/circuits.json.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import gc
import json
import os
import platform
import secrets
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from random import Random
from typing import Any

from argon2 import PasswordHasher
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.util.task import TaskState
from sqlalchemy import Engine, bindparam, insert, select, text, update
from sqlalchemy.exc import OperationalError

from ged import bootstrap, migrations
from ged.adapters.db import make_engine
from ged.adapters.orm import CircuitDefinition, CircuitInstance, Mail, Task, Unit, User
from ged.adapters.passwords import Passwords
from ged.bootstrap import Container
from ged.domain.model import Role
from ged.services.admin import UnitData, UserData
from ged.services.audit import Actor
from ged.services.mail import MailInput
from workflows import spiff_logging
from workflows.engine import CircuitEngine, bundled_definition

# The benchmarks share their throwaway instances (bench/instances.py).
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from bench.instances import postgres_schema, settings_for

RESULTS = Path(__file__).resolve().parents[1] / "results" / "circuits.json"
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
CIRCUIT = "incoming_mail"

# Dispatch, ask two opinions, answer, returned once for correction, answer again, visa.
PATH: list[tuple[str, dict[str, Any]]] = [
    (
        "dispatch",
        {"outcome": "dispatch", "addressed_unit": "finance", "processing_deadline": "P10D"},
    ),
    ("process", {"outcome": "consult", "consulted_units": ["legal", "audit"]}),
    ("give_opinion", {"outcome": "opinion", "comment": "No objection"}),
    ("give_opinion", {"outcome": "opinion", "comment": "Agreed"}),
    ("process", {"outcome": "answer"}),
    ("visa", {"outcome": "return", "comment": "Cite the decree"}),
    ("process", {"outcome": "answer"}),
    ("visa", {"outcome": "approve"}),
]


def timed(run_one: Callable[[list[float]], None], seconds: float) -> dict[str, Any]:
    """Run whole instances until `seconds` have passed; figures per completion."""
    run_one([])  # warm-up: imports, caches
    gc.collect()
    latencies: list[float] = []
    instances = 0
    started, cpu_started = time.perf_counter(), time.process_time()
    while time.perf_counter() - started < seconds:
        run_one(latencies)
        instances += 1
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    completions = instances * len(PATH)
    ordered = sorted(latencies)
    return {
        "instances": instances,
        "completions": completions,
        "seconds": round(elapsed, 3),
        "cpu_seconds": round(cpu, 3),
        "completions_per_s": round(completions / elapsed, 1),
        # Per CPU-second: steadier than wall time when other work shares the machine.
        "completions_per_cpu_s": round(completions / cpu, 1),
        "instances_per_s": round(instances / elapsed, 1),
        "completion_ms_p50": round(statistics.median(ordered) * 1000, 3),
        "completion_ms_p95": round(ordered[int(len(ordered) * 0.95)] * 1000, 3),
    }


def engine_run(definition: bytes) -> Callable[[list[float]], None]:
    engine = CircuitEngine()

    def run_one(latencies: list[float]) -> None:
        snapshot = engine.start(definition, {"mail_id": 1}, NOW)
        for bpmn_id, data in PATH:
            task = next(t for t in snapshot.ready_tasks if t.bpmn_id == bpmn_id)
            began = time.perf_counter()
            snapshot = engine.complete(definition, snapshot.state, task.id, data, NOW)
            latencies.append(time.perf_counter() - began)
        if snapshot.end_events != ("answered",):
            raise RuntimeError(f"the path did not end as answered: {snapshot.end_events}")

    return run_one


def raw_spec(definition: bytes) -> Any:
    parser = BpmnParser()
    parser.add_bpmn_str(definition)
    return parser.get_spec(CIRCUIT)


def raw_complete(workflow: Any, bpmn_id: str, data: dict[str, Any]) -> None:
    task = next(
        t
        for t in workflow.get_tasks(state=TaskState.READY, manual=True)
        if t.task_spec.bpmn_id == bpmn_id
    )
    task.data.update(data)
    if bpmn_id == "process":
        # The engine records each task's outcome under <task>_outcome; the closing gateway reads it.
        task.data["process_outcome"] = data["outcome"]
    task.run()
    workflow.do_engine_steps()


def raw_run(definition: bytes) -> Callable[[list[float]], None]:
    spec = raw_spec(definition)

    def run_one(latencies: list[float]) -> None:
        workflow = BpmnWorkflow(spec)
        workflow.do_engine_steps()
        for bpmn_id, data in PATH:
            began = time.perf_counter()
            raw_complete(workflow, bpmn_id, data)
            latencies.append(time.perf_counter() - began)
        if not workflow.is_completed():
            raise RuntimeError("the raw SpiffWorkflow instance did not finish")

    return run_one


def raw_serialized_run(definition: bytes) -> Callable[[list[float]], None]:
    spec = raw_spec(definition)
    serializer = BpmnWorkflowSerializer()

    def run_one(latencies: list[float]) -> None:
        workflow = BpmnWorkflow(spec)
        workflow.do_engine_steps()
        state = serializer.serialize_json(workflow)
        for bpmn_id, data in PATH:
            began = time.perf_counter()
            workflow = serializer.deserialize_json(state)
            raw_complete(workflow, bpmn_id, data)
            state = serializer.serialize_json(workflow)
            latencies.append(time.perf_counter() - began)
        if not workflow.is_completed():
            raise RuntimeError("the raw SpiffWorkflow instance did not finish")

    return run_one


def state_sizes(definition: bytes) -> dict[str, int]:
    """Bytes of one instance's state after dispatch: the engine's vs the default with its spec."""
    engine = CircuitEngine()
    snapshot = engine.start(definition, {"mail_id": 1}, NOW)
    bpmn_id, data = PATH[0]
    task = next(t for t in snapshot.ready_tasks if t.bpmn_id == bpmn_id)
    snapshot = engine.complete(definition, snapshot.state, task.id, data, NOW)
    workflow = BpmnWorkflow(raw_spec(definition))
    workflow.do_engine_steps()
    raw_complete(workflow, bpmn_id, data)
    return {
        "engine_state_bytes": len(snapshot.state.encode()),
        "default_serializer_bytes": len(BpmnWorkflowSerializer().serialize_json(workflow).encode()),
    }


def parse_ms(definition: bytes) -> float:
    CircuitEngine().load(definition)  # the BPMN schemas load once per process
    began = time.perf_counter()
    CircuitEngine().load(definition)
    return round((time.perf_counter() - began) * 1000, 2)


# -- Persistence: the service layer on SQLite and PostgreSQL ---------------------------------------

CACHE = Path(__file__).resolve().parents[1] / ".cache"
PG_SERVER = os.environ.get(
    "GED_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
SYSTEM = Actor.system("bench")
# Cheap Argon2id: the benchmark logs nobody in.
PASSWORDS = Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
QUERY_ROWS = 1_000_000
QUERY_CORPUS_VERSION = 1
QUERY_RUNS = 300


@contextmanager
def container_on(database_url: str) -> Iterator[Container]:
    """A migrated instance in a temporary folder; jobs go to its SQLite queue, as in production
    (the index jobs a status change enqueues are queued, not run inside the step)."""
    with tempfile.TemporaryDirectory(prefix="ged-bench-") as folder:
        settings = settings_for(Path(folder) / "instance", database_url)
        settings.instance.mkdir()
        engine = make_engine(settings.effective_database_url)
        try:
            migrations.upgrade(engine)
            container = bootstrap.build(settings, engine=engine, passwords=PASSWORDS)
            try:
                container.store.ensure()
                yield container
            finally:
                container.dispose()
        finally:
            engine.dispose()


class Agency:
    """The people of the `PATH`: a director, a finance unit with its manager, two consulted units."""

    def __init__(self, container: Container) -> None:
        admin = container.admin
        with container.writer() as uow:
            container.circuits.deploy_bundled(uow.session, SYSTEM)
            uow.commit()
        dg = admin.create_unit(SYSTEM, UnitData("DG", "Direction"))
        units = {
            code: admin.create_unit(SYSTEM, UnitData(code, code.title(), parent_id=dg))
            for code in ("FINANCE", "LEGAL", "AUDIT")
        }

        def person(username: str, role: Role, unit: int) -> Actor:
            user_id = admin.create_user(
                SYSTEM, UserData(username, username, role.value, unit), secrets.token_urlsafe(12)
            )
            return Actor(user_id, username, role, unit)

        self.director = person("director", Role.MANAGER, dg)
        self.manager = person("manager", Role.MANAGER, units["FINANCE"])
        self.clerk = person("clerk", Role.REGISTRAR, dg)
        self.by_unit = {
            unit_id: person(f"agent_{code.lower()}", Role.AGENT, unit_id)
            for code, unit_id in units.items()
        }
        self.by_user = {a.user_id: a for a in (self.director, self.manager, *self.by_unit.values())}
        admin.update_unit(SYSTEM, dg, UnitData("DG", "Direction", manager_id=self.director.user_id))
        admin.update_unit(
            SYSTEM,
            units["FINANCE"],
            UnitData("FINANCE", "Finance", parent_id=dg, manager_id=self.manager.user_id),
        )
        self.units = units
        self.mail_type = container.registry.create_mail_type(SYSTEM, "DEM", "Demande", 10, CIRCUIT)
        self.count = 0

    def holder(self, container: Container, task_id: int) -> Actor:
        """Who does a task: its assignee, or a member of its pool (read outside the timing)."""
        with container.reader() as uow:
            task = uow.session.get_one(Task, task_id)
            if task.assignee_id is not None:
                return self.by_user[task.assignee_id]
            return self.by_unit[task.candidate_unit_id or 0]


# The in-memory `PATH` with the agency's units (by code, as a form may send them) and a deadline
# in working days, which the service layer turns into the timer's date.
SERVICE_PATH: list[tuple[str, dict[str, Any]]] = [
    (
        "dispatch",
        {"outcome": "dispatch", "addressed_unit": "FINANCE", "processing_deadline": 10},
    ),
    ("process", {"outcome": "consult", "consulted_units": ["LEGAL", "AUDIT"]}),
    ("give_opinion", {"outcome": "opinion", "comment": "No objection"}),
    ("give_opinion", {"outcome": "opinion", "comment": "Agreed"}),
    ("process", {"outcome": "answer"}),
    ("visa", {"outcome": "return", "comment": "Cite the decree"}),
    ("process", {"outcome": "answer"}),
    ("visa", {"outcome": "approve"}),
]
assert [b for b, _ in SERVICE_PATH] == [b for b, _ in PATH]


def completions_through_services(
    database_url: str, seconds: float, *, freeze: bool = False
) -> dict[str, Any]:
    """`Tasks.complete` in a loop: load, engine step, optimistic save, task rows, audit, commit.

    `freeze`: move everything alive after start-up out of the collector's reach (`gc.freeze()`),
    as a server process may do once it has built its container: a step's garbage is cyclic
    (SpiffWorkflow tasks and their workflow), and each full collection otherwise walks the
    whole heap of the application.
    """
    with container_on(database_url) as container, _frozen_heap(freeze):
        agency = Agency(container)
        if freeze:
            gc.collect()
            gc.freeze()
        tasks = container.tasks

        def run_one(latencies: list[float], cpu: list[float]) -> None:
            agency.count += 1
            registered = container.registry.register(
                agency.clerk,
                MailInput(
                    "incoming",
                    f"Demande {agency.count}",
                    correspondent_name="Commune",
                    mail_type_id=agency.mail_type,
                    unit_ids=(agency.units["FINANCE"],),
                ),
            )
            with container.reader() as uow:
                ready = list(
                    uow.session.execute(
                        select(Task.id).where(Task.mail_id == registered.id)
                    ).scalars()
                )
            for bpmn_id, data in SERVICE_PATH:
                task_id = next(t for t in ready if _bpmn_id(container, t) == bpmn_id)
                actor = agency.holder(container, task_id)
                payload = {k: v for k, v in data.items() if k not in ("outcome", "comment")}
                began, began_cpu = time.perf_counter(), time.process_time()
                result = tasks.complete(
                    actor, task_id, data["outcome"], payload, str(data.get("comment", ""))
                )
                latencies.append(time.perf_counter() - began)
                cpu.append(time.process_time() - began_cpu)
                ready = [t for t in ready if t != task_id] + list(result.created_task_ids)
            if result.end_events != ("answered",):
                raise RuntimeError(f"the path did not end as answered: {result.end_events}")

        run_one([], [])  # warm-up
        # As `timed` does: start from a collected heap, so that the full collections of a
        # process still growing after start-up are not counted against the steps.
        gc.collect()
        latencies: list[float] = []
        cpu: list[float] = []
        instances = 0
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            run_one(latencies, cpu)
            instances += 1
    ordered = sorted(latencies)
    busy = sum(latencies)
    return {
        "instances": instances,
        "completions": len(latencies),
        # Time inside `complete` only: registering the mails and picking the actors is not counted.
        "seconds_in_complete": round(busy, 3),
        "cpu_seconds_in_complete": round(sum(cpu), 3),
        "completions_per_s": round(len(latencies) / busy, 1),
        "completions_per_cpu_s": round(len(latencies) / sum(cpu), 1),
        "completion_ms_p50": round(statistics.median(ordered) * 1000, 3),
        "completion_ms_p95": round(ordered[int(len(ordered) * 0.95)] * 1000, 3),
    }


@contextmanager
def _frozen_heap(freeze: bool) -> Iterator[None]:
    try:
        yield
    finally:
        if freeze:
            gc.unfreeze()


def _bpmn_id(container: Container, task_id: int) -> str:
    with container.reader() as uow:
        return uow.session.execute(select(Task.bpmn_id).where(Task.id == task_id)).scalar_one()


# -- The inbox at 1,000,000 task rows --------------------------------------------------------------


@dataclass(frozen=True)
class TaskCorpus:
    rows: int
    units: list[int]
    managers: list[int]
    agents: list[tuple[int, int]]  # (user id, unit id)
    now: str


def populate_tasks(engine: Engine, rows: int) -> TaskCorpus:
    """Bulk insert with Core: 500 units under 10 divisions, 5,000 agents, `rows` tasks.

    A third of the tasks are active (half in a unit pool, half held), their deadlines spread over
    ±30 days around `now`: about half of them are late. The rest is history (done, cancelled).
    """
    migrations.upgrade(engine)
    random = Random(20261123)
    now = dt.datetime(2026, 11, 23, 10, 0, tzinfo=dt.UTC)
    with engine.begin() as conn:
        conn.execute(
            insert(Unit),
            [{"id": 1, "code": "DG", "name": "Direction", "parent_id": None}]
            + [
                {"id": 2 + d, "code": f"D{d}", "name": f"Division {d}", "parent_id": 1}
                for d in range(10)
            ]
            + [
                {"id": 100 + u, "code": f"S{u}", "name": f"Service {u}", "parent_id": 2 + u % 10}
                for u in range(500)
            ],
        )
        units = [100 + u for u in range(500)]
        users = []
        for n in range(5000):
            unit = units[n % 500]
            role = Role.MANAGER if n < 500 else Role.AGENT
            users.append(
                {
                    "id": n + 1,
                    "username": f"user{n}",
                    "full_name": f"Personne {n}",
                    "password_hash": "x",
                    "role": role.value,
                    "unit_id": unit,
                }
            )
        conn.execute(insert(User), users)
        conn.execute(
            update(Unit)
            .where(Unit.id == bindparam("unit"))
            .values(manager_id=bindparam("manager")),
            [{"unit": units[n], "manager": n + 1} for n in range(500)],
        )
        definition = CircuitDefinition(
            id=1,
            process_id=CIRCUIT,
            version=1,
            name="Courrier arrivée",
            bpmn=bundled_definition(CIRCUIT),
            sha256="0" * 64,
            lanes=[],
            active=True,
        )
        conn.execute(insert(CircuitDefinition), [_columns(definition)])
        mails = rows // 5
        for first in range(0, mails, 20_000):
            batch = range(first, min(mails, first + 20_000))
            conn.execute(
                insert(Mail),
                [
                    {
                        "id": m + 1,
                        "chrono": f"A-2026-{m + 1:07d}",
                        "direction": "incoming",
                        "year": 2026,
                        "number": m + 1,
                        "status": "in_progress",
                        "subject": f"Demande {m + 1}",
                        "mail_date": dt.date(2026, 11, 1),
                        "confidential": m % 50 == 0,
                    }
                    for m in batch
                ],
            )
            conn.execute(
                insert(CircuitInstance),
                [{"id": m + 1, "definition_id": 1, "mail_id": m + 1, "state": "{}"} for m in batch],
            )
        agents = [(u["id"], u["unit_id"]) for u in users[500:]]
        for first in range(0, rows, 50_000):
            batch_rows = []
            for n in range(first, min(rows, first + 50_000)):
                mail = n // 5 + 1
                unit = units[random.randrange(500)]
                active = random.random() < 1 / 3
                due = now + dt.timedelta(minutes=random.randint(-30 * 1440, 30 * 1440))
                state = "done" if random.random() < 0.9 else "cancelled"
                assignee = None
                if active:
                    state = "open" if random.random() < 0.5 else "claimed"
                if state != "open":
                    assignee, unit = agents[random.randrange(len(agents))]
                batch_rows.append(
                    {
                        "id": n + 1,
                        "instance_id": mail,
                        "mail_id": mail,
                        "kind": "user",
                        "engine_task_id": str(uuid.UUID(int=n + 1)),
                        "bpmn_id": "process",
                        "name": "Traiter le courrier",
                        "lane": "addressed_unit",
                        "unit_id": unit,
                        "candidate_unit_id": unit if state == "open" or not active else None,
                        "assignee_id": assignee,
                        "form_data": {},
                        "due_at": due,
                        "state": state,
                        "lock_version": 1,
                        "comment": "",
                        "completed_by_id": assignee if not active else None,
                        "completed_at": now if not active else None,
                        "created_at": due - dt.timedelta(days=10),
                    }
                )
            conn.execute(insert(Task), batch_rows)
        if engine.dialect.name == "postgresql":
            for table in (
                "unit",
                "users",
                "mail",
                "circuit_instance",
                "task",
                "circuit_definition",
            ):
                sql = (
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table}"  # noqa: S608
                )
                conn.execute(text(sql))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))
    return TaskCorpus(
        rows=rows,
        units=units,
        managers=list(range(1, 501)),
        agents=agents,
        now=now.isoformat(),
    )


def _columns(row: Any) -> dict[str, Any]:
    return {
        c.key: getattr(row, c.key) for c in row.__table__.columns if getattr(row, c.key) is not None
    }


def cached_task_corpus(rows: int) -> tuple[Path, TaskCorpus]:
    """The SQLite database with `rows` tasks, built once per (size, schema revision, generator)."""
    probe = make_engine("sqlite://")
    try:
        head = migrations.head_revision(probe)
    finally:
        probe.dispose()
    path = CACHE / f"circuits-tasks-{rows}-rev{head}-v{QUERY_CORPUS_VERSION}.sqlite3"
    meta = path.with_suffix(".json")
    if path.exists() and meta.exists():
        return path, TaskCorpus(**json.loads(meta.read_text()))
    CACHE.mkdir(parents=True, exist_ok=True)
    for stale in CACHE.glob(f"circuits-tasks-{rows}-*"):
        stale.unlink()
    partial = path.with_suffix(".part")
    partial.unlink(missing_ok=True)
    print(f"  generating {rows:,} task rows into bench/.cache/{path.name} (kept for next runs)…")
    began = time.perf_counter()
    engine = make_engine(f"sqlite:///{partial}")
    try:
        corpus = populate_tasks(engine, rows)
    finally:
        engine.dispose()
    with sqlite3.connect(partial) as conn:
        conn.execute("PRAGMA journal_mode = DELETE")
    partial.replace(path)
    meta.write_text(json.dumps(dataclasses.asdict(corpus)))
    print(f"  generated in {time.perf_counter() - began:.1f} s")
    return path, corpus


def query_percentiles(database_url: str, corpus: TaskCorpus) -> dict[str, Any]:
    """p50/p95 of each inbox query (a page of 25 with its count), random people, warm cache."""
    random = Random(7)
    now = dt.datetime.fromisoformat(corpus.now)
    with tempfile.TemporaryDirectory(prefix="ged-bench-") as folder:
        settings = settings_for(Path(folder) / "instance", database_url)
        settings.instance.mkdir()
        container = bootstrap.build(settings, passwords=PASSWORDS)
        tasks = container.tasks

        def agent() -> Actor:
            user_id, unit_id = corpus.agents[random.randrange(len(corpus.agents))]
            return Actor(user_id, f"user{user_id - 1}", Role.AGENT, unit_id)

        def manager() -> Actor:
            n = random.randrange(len(corpus.managers))
            return Actor(corpus.managers[n], f"user{n}", Role.MANAGER, corpus.units[n])

        calls: dict[str, Callable[[], object]] = {
            "my_tasks": lambda: tasks.my_tasks(agent()),
            "unit_pool": lambda: tasks.unit_pool(agent()),
            "overdue_unit_manager": lambda: tasks.overdue(manager(), now=now),
            "overdue_all_admin": lambda: tasks.overdue(SYSTEM, now=now),
            "counts": lambda: tasks.counts(manager(), now=now),
        }
        try:
            figures = {}
            for name, call in calls.items():
                for _ in range(10):
                    call()
                samples = []
                cpu_started = time.process_time()
                for _ in range(QUERY_RUNS):
                    began = time.perf_counter()
                    call()
                    samples.append((time.perf_counter() - began) * 1000)
                cpu = time.process_time() - cpu_started
                ordered = sorted(samples)
                figures[name] = {
                    "p50_ms": round(statistics.median(ordered), 2),
                    "p95_ms": round(ordered[int(len(ordered) * 0.95)], 2),
                    # This process's CPU per call: wall time under load is mostly waiting.
                    "cpu_ms_mean": round(cpu / QUERY_RUNS * 1000, 2),
                    "runs": QUERY_RUNS,
                }
        finally:
            container.dispose()
    return figures


def persistence_figures(seconds: float, rows: int, postgres: bool) -> dict[str, Any]:
    """Completions through the service layer with commits, and the inbox p95 at `rows` tasks."""
    results: dict[str, Any] = {"task_rows": rows}
    print("  persistence: SQLite completions…")
    results["sqlite"] = completions_through_services("", seconds)
    print("  persistence: SQLite completions, heap frozen after start-up…")
    results["sqlite_gc_frozen"] = completions_through_services("", seconds, freeze=True)
    path, corpus = cached_task_corpus(rows)
    print("  persistence: SQLite queries…")
    results["sqlite_queries"] = query_percentiles(f"sqlite:///{path}", corpus)
    results["postgresql"] = None
    results["postgresql_queries"] = None
    if postgres:
        try:
            with postgres_schema(PG_SERVER) as url:
                print("  persistence: PostgreSQL completions…")
                results["postgresql"] = completions_through_services(url, seconds)
            with postgres_schema(PG_SERVER) as url:
                print(f"  persistence: PostgreSQL, generating {rows:,} task rows…")
                engine = make_engine(url)
                try:
                    pg_corpus = populate_tasks(engine, rows)
                finally:
                    engine.dispose()
                print("  persistence: PostgreSQL queries…")
                results["postgresql_queries"] = query_percentiles(url, pg_corpus)
        except OperationalError as error:
            results["postgresql_error"] = str(error).splitlines()[0]
    inbox = ("my_tasks", "unit_pool")
    overdue = ("overdue_unit_manager", "overdue_all_admin")
    for prefix in ("sqlite", "postgresql"):
        figures = results.get(f"{prefix}_queries")
        if figures:
            results[f"{prefix}_inbox_query_ms_p95"] = max(figures[q]["p95_ms"] for q in inbox)
            results[f"{prefix}_overdue_query_ms_p95"] = max(figures[q]["p95_ms"] for q in overdue)
    found = [
        results[k]
        for k in ("sqlite_inbox_query_ms_p95", "postgresql_inbox_query_ms_p95")
        if k in results
    ]
    results["inbox_query_ms_p95"] = max(found) if found else None
    found = [
        results[k]
        for k in ("sqlite_overdue_query_ms_p95", "postgresql_overdue_query_ms_p95")
        if k in results
    ]
    results["overdue_query_ms_p95"] = max(found) if found else None
    return results


def ratio(engine: dict[str, Any], baseline: dict[str, Any]) -> float:
    """Engine throughput over the baseline's, on CPU time (both ran in this process)."""
    return round(engine["completions_per_cpu_s"] / baseline["completions_per_cpu_s"], 3)


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--seconds", type=float, default=8.0, help="time per variant")
    options.add_argument("--rows", type=int, default=QUERY_ROWS, help="task rows for the queries")
    options.add_argument("--no-postgres", action="store_true", help="SQLite only")
    arguments = options.parse_args()
    seconds = arguments.seconds
    definition = bundled_definition(CIRCUIT)

    engine = timed(engine_run(definition), seconds)
    # The baseline is SpiffWorkflow as released: without the log-record change that
    # `workflows.engine` installs in the process (workflows/spiff_logging.py).
    spiff_logging.uninstall()
    try:
        raw = timed(raw_run(definition), seconds)
        raw_serialized = timed(raw_serialized_run(definition), seconds)
    finally:
        spiff_logging.install()
    environment: dict[str, Any] = {
        "python": platform.python_version(),
        "spiffworkflow": version("SpiffWorkflow"),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }
    results = {
        "benchmark": "circuits",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "environment": environment,
        "circuit": CIRCUIT,
        "path": [bpmn_id for bpmn_id, _ in PATH],
        "in_memory": {
            "engine": engine,
            "raw_spiffworkflow": raw,
            "raw_spiffworkflow_default_serializer": raw_serialized,
            "ratio_engine_to_raw": ratio(engine, raw),
            "ratio_engine_to_raw_serialized": ratio(engine, raw_serialized),
            "parse_ms": parse_ms(definition),
            **state_sizes(definition),
        },
        "persistence": persistence_figures(seconds, arguments.rows, not arguments.no_postgres),
    }
    persistence = results["persistence"]
    # The machine is shared: the load at the end says whether it changed during the run.
    environment["load_average_1min_at_end"] = round(os.getloadavg()[0], 2)
    for database in ("sqlite", "sqlite_gc_frozen", "postgresql"):
        if persistence.get(database):
            persistence[database]["ratio_to_raw_in_memory_cpu"] = ratio(persistence[database], raw)

    print(f"circuit {CIRCUIT}: {len(PATH)} completions per instance ({', '.join(results['path'])})")
    rows = [
        ("workflows.engine (state JSON in/out)", engine),
        ("raw SpiffWorkflow, in memory", raw),
        ("raw SpiffWorkflow + default serializer", raw_serialized),
    ]
    for label, figures in rows:
        print(
            f"  {label:<40} {figures['completions_per_s']:>7,.0f}/s wall "
            f"{figures['completions_per_cpu_s']:>7,.0f}/s CPU  "
            f"p50 {figures['completion_ms_p50']:.3f} ms  p95 {figures['completion_ms_p95']:.3f} ms"
        )
    memory = results["in_memory"]
    print(f"  load average: {results['environment']['load_average_1min']} on {os.cpu_count()} CPUs")
    print(f"  ratio engine / raw in memory (CPU time): {memory['ratio_engine_to_raw']:.2f}")
    print(
        "  ratio engine / raw + default serializer (CPU time): "
        f"{memory['ratio_engine_to_raw_serialized']:.2f}"
    )
    print(
        f"  state after dispatch: {memory['engine_state_bytes']:,} B "
        f"(default serializer with spec: {memory['default_serializer_bytes']:,} B); "
        f"parse {memory['parse_ms']} ms"
    )
    for database in ("sqlite", "sqlite_gc_frozen", "postgresql"):
        figures = persistence.get(database)
        if not figures:
            print(f"  {database}: not measured ({persistence.get('postgresql_error', 'skipped')})")
            continue
        print(
            f"  service layer on {database:<16} {figures['completions_per_s']:>7,.0f}/s wall "
            f"{figures['completions_per_cpu_s']:>7,.0f}/s CPU  "
            f"p50 {figures['completion_ms_p50']:.3f} ms  p95 {figures['completion_ms_p95']:.3f} ms"
            f"  (ratio to raw in memory, CPU: {figures['ratio_to_raw_in_memory_cpu']:.2f})"
        )
        queries = persistence.get(f"{database}_queries") or {}
        for name, query in queries.items():
            print(
                f"    {name:<22} at {persistence['task_rows']:,} tasks: "
                f"p50 {query['p50_ms']:.2f} ms  p95 {query['p95_ms']:.2f} ms  "
                f"CPU {query['cpu_ms_mean']:.2f} ms"
            )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    print(f"written to bench/results/{RESULTS.name}")


if __name__ == "__main__":
    main()
