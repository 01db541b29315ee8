"""The `limits` storage kept in our database: same answers as limits' MemoryStorage, shared by
every process."""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from limits.storage import MemoryStorage, Storage, storage_from_string
from sqlalchemy import Engine

from ged.adapters.db import make_engine
from ged.adapters.ratelimit import SqlRateLimitStorage
from ged.bootstrap import Container
from tests.integration.concurrency import increment_rate_limit, run_together

T0 = 1_900_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """One fake clock for both storages (only their modules see it)."""
    clock = Clock()
    fake_time = types.SimpleNamespace(time=clock.time)
    monkeypatch.setattr("ged.adapters.ratelimit.time", fake_time)
    monkeypatch.setattr("limits.storage.memory.time", fake_time)
    return clock


@pytest.fixture
def memory(monkeypatch: pytest.MonkeyPatch) -> MemoryStorage:
    """The reference, with its background expiry thread off: expiry then happens in get(),
    on our clock only, and a thread cannot race the comparison."""
    storage = MemoryStorage()
    storage.timer.cancel()
    storage.timer.join()
    monkeypatch.setattr(storage, "_MemoryStorage__schedule_expiry", lambda: None)
    return storage


@pytest.fixture
def sql(container: Container) -> SqlRateLimitStorage:
    return SqlRateLimitStorage(engine=container.engine)


@pytest.fixture
def second_engine(container: Container) -> Iterator[Engine]:
    """Another engine on the same database, as another web process would have."""
    engine = make_engine(container.settings.effective_database_url)
    yield engine
    engine.dispose()


def replay(storage: Storage, clock: Clock) -> list[Any]:
    """A fixed-window story: hits, a second key, time passing, expiry, clear and reset."""
    out: list[Any] = []
    clock.now = T0
    out.append(("get unknown", storage.get("login:a")))
    out.append(("expiry unknown", storage.get_expiry("login:a")))
    out += [("incr", storage.incr("login:a", 60)) for _ in range(3)]
    out.append(("incr by 2", storage.incr("login:a", 60, amount=2)))
    out.append(("get", storage.get("login:a")))
    out.append(("other key", storage.incr("login:b", 30)))
    clock.now = T0 + 10
    out.append(("later in window", storage.incr("login:a", 60)))
    out.append(("expiry kept from first hit", storage.get_expiry("login:a")))
    out.append(("expiry b", storage.get_expiry("login:b")))
    clock.now = T0 + 31
    out.append(("b expired", storage.get("login:b")))
    out.append(("a still counting", storage.get("login:a")))
    out.append(("b restarts", storage.incr("login:b", 30)))
    out.append(("b new expiry", storage.get_expiry("login:b")))
    clock.now = T0 + 61
    out.append(("a expired", storage.get("login:a")))
    out.append(("a restarts at 1", storage.incr("login:a", 60)))
    out.append(("a new expiry", storage.get_expiry("login:a")))
    storage.clear("login:a")
    out.append(("cleared", storage.get("login:a")))
    out.append(("after clear", storage.incr("login:a", 60)))
    out.append(("reset", storage.reset()))
    out.append(("after reset a", storage.get("login:a")))
    out.append(("after reset b", storage.get("login:b")))
    return out


def test_behaves_like_memory_storage_for_fixed_windows(
    sql: SqlRateLimitStorage, memory: MemoryStorage, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A random sweep would drop the expired counter of the other key before reset() counts it
    # (MemoryStorage keeps it): about one run in fifty. Sweeping has its own test.
    monkeypatch.setattr("ged.adapters.ratelimit.SWEEP_PROBABILITY", 0.0)
    expected = replay(memory, clock)

    assert replay(sql, clock) == expected
    # The story itself, so that a change in MemoryStorage cannot make both wrong together.
    assert dict(expected)["a restarts at 1"] == 1
    assert dict(expected)["later in window"] == 6
    assert dict(expected)["expiry kept from first hit"] == T0 + 60


def test_counters_are_shared_between_storages_on_the_same_database(
    sql: SqlRateLimitStorage, second_engine: Engine
) -> None:
    other = SqlRateLimitStorage(engine=second_engine)

    assert sql.incr("login:alice", 60) == 1
    assert other.incr("login:alice", 60) == 2
    assert sql.incr("login:alice", 60) == 3
    assert other.get("login:alice") == 3

    other.clear("login:alice")

    assert sql.get("login:alice") == 0


def test_expired_window_restarts_at_one(sql: SqlRateLimitStorage, clock: Clock) -> None:
    for _ in range(5):
        sql.incr("login:alice", 60)

    clock.now = T0 + 60

    assert sql.get("login:alice") == 0
    assert sql.incr("login:alice", 60) == 1
    assert sql.get_expiry("login:alice") == T0 + 120


def test_expired_counters_of_other_keys_are_swept_now_and_then(
    sql: SqlRateLimitStorage, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    sql.incr("login:old", 10)
    clock.now = T0 + 11
    monkeypatch.setattr("ged.adapters.ratelimit.random.random", lambda: 0.0)

    sql.incr("login:new", 10)

    # The sweep removed the old row: a reset reports only the live one.
    assert sql.reset() == 1


def test_check_reports_a_reachable_database(sql: SqlRateLimitStorage) -> None:
    assert sql.check() is True


def test_storage_is_found_by_its_uri_scheme(container: Container) -> None:
    storage = storage_from_string("gedsql://", engine=container.engine)

    assert isinstance(storage, SqlRateLimitStorage)
    assert storage.incr("k", 60) == 1


def test_storage_needs_an_engine_or_a_database_url() -> None:
    with pytest.raises(ValueError, match="engine or a database_url"):
        SqlRateLimitStorage()


def test_two_processes_incrementing_one_key_count_every_hit(container: Container) -> None:
    url = container.settings.effective_database_url
    container.engine.dispose()
    worker: Callable[..., None] = increment_rate_limit

    run_together(worker, [(url, "login:alice", 50), (url, "login:alice", 50)])

    assert SqlRateLimitStorage(engine=container.engine).get("login:alice") == 100
