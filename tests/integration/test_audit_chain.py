"""The hash-chained audit log: appends chain, tampering is found, concurrent writers never fork."""

from __future__ import annotations

import itertools

from sqlalchemy import delete, select, update

from ged.adapters.orm import AuditEvent, AuditHead
from ged.bootstrap import Container
from ged.domain.model import AuditAction
from ged.services.audit import GENESIS_HASH, ChainFault, record, verify_chain
from tests.builders import SYSTEM
from tests.integration.concurrency import append_audit_events, run_together


def append(container: Container, count: int) -> None:
    for n in range(count):
        with container.writer() as uow:
            record(uow.session, SYSTEM, AuditAction.LOGIN_FAILED, "user", n, {"n": n})
            uow.commit()


def events(container: Container) -> list[AuditEvent]:
    with container.reader() as uow:
        return list(uow.session.execute(select(AuditEvent).order_by(AuditEvent.id)).scalars())


def faults(container: Container) -> list[ChainFault]:
    with container.reader() as uow:
        return list(verify_chain(uow.session))


def tamper(container: Container, statement: object) -> None:
    """Change rows behind the service's back, as someone with database access could."""
    with container.writer() as uow:
        uow.session.execute(statement)  # type: ignore[call-overload]
        uow.commit()


def test_events_are_chained_from_the_genesis_hash(container: Container) -> None:
    append(container, 5)

    chain = events(container)
    assert [e.id for e in chain] == [1, 2, 3, 4, 5]
    assert chain[0].prev_hash == GENESIS_HASH
    for previous, event in itertools.pairwise(chain):
        assert event.prev_hash == previous.hash
    assert len({e.hash for e in chain}) == 5


def test_head_names_the_last_event(container: Container) -> None:
    append(container, 3)

    with container.reader() as uow:
        head = uow.session.get(AuditHead, 1)
    assert head is not None
    assert (head.last_event_id, head.last_hash) == (3, events(container)[-1].hash)


def test_event_is_kept_only_when_the_transaction_commits(container: Container) -> None:
    append(container, 1)
    with container.writer() as uow:
        record(uow.session, SYSTEM, AuditAction.LOGIN_FAILED)
        # no commit: rolled back

    append(container, 1)

    assert [e.id for e in events(container)] == [1, 2]
    assert faults(container) == []


def test_intact_log_has_no_fault(container: Container) -> None:
    append(container, 10)

    assert faults(container) == []


def test_empty_log_has_no_fault(container: Container) -> None:
    assert faults(container) == []


def test_edited_details_are_found(container: Container) -> None:
    append(container, 5)

    tamper(container, update(AuditEvent).where(AuditEvent.id == 3).values(details={"n": 99}))

    found = faults(container)
    assert [f.event_id for f in found] == [3]
    assert "altered" in found[0].problem


def test_edited_actor_is_found(container: Container) -> None:
    append(container, 3)

    tamper(container, update(AuditEvent).where(AuditEvent.id == 2).values(actor_name="bob"))

    assert [f.event_id for f in faults(container)] == [2]


def test_deleted_middle_event_is_found(container: Container) -> None:
    append(container, 5)

    tamper(container, delete(AuditEvent).where(AuditEvent.id == 3))

    found = faults(container)
    assert found
    assert found[0].event_id == 4
    assert "missing" in found[0].problem


def test_deleted_last_event_is_found_by_the_head(container: Container) -> None:
    append(container, 5)

    tamper(container, delete(AuditEvent).where(AuditEvent.id == 5))

    found = faults(container)
    assert len(found) == 1
    assert "head" in found[0].problem


def test_deleting_every_event_is_found_by_the_head(container: Container) -> None:
    append(container, 3)

    tamper(container, delete(AuditEvent))

    assert len(faults(container)) == 1


def test_swapped_hashes_are_found(container: Container) -> None:
    append(container, 5)
    chain = events(container)
    h2, h3 = chain[1].hash, chain[2].hash

    # hash is unique: go through a placeholder.
    tamper(container, update(AuditEvent).where(AuditEvent.id == 2).values(hash="x" * 64))
    tamper(container, update(AuditEvent).where(AuditEvent.id == 3).values(hash=h2))
    tamper(container, update(AuditEvent).where(AuditEvent.id == 2).values(hash=h3))

    found = {f.event_id for f in faults(container)}
    assert {2, 3} <= found


def test_rewritten_chain_without_the_head_is_found(container: Container) -> None:
    # Recomputing the last event's hash after an edit still breaks the head.
    append(container, 3)
    tamper(container, update(AuditEvent).where(AuditEvent.id == 3).values(hash="f" * 64))

    found = faults(container)
    assert {f.event_id for f in found} == {3}
    assert len(found) == 2  # its own hash, and the head


def test_four_processes_appending_at_once_make_one_unbroken_chain(container: Container) -> None:
    url = container.settings.effective_database_url
    container.engine.dispose()  # no connection of ours is held while the workers run

    run_together(append_audit_events, [(url, worker, 25) for worker in range(4)])

    chain = events(container)
    assert [e.id for e in chain] == list(range(1, 101))
    assert faults(container) == []
    by_worker: dict[str, int] = {}
    for event in chain:
        by_worker[event.actor_name] = by_worker.get(event.actor_name, 0) + 1
    assert by_worker == {f"worker-{n}": 25 for n in range(4)}
