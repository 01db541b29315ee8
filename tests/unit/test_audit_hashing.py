"""The audit chain's hashing, on events that never touch a database."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from ged.adapters.orm import AuditEvent
from ged.services.audit import GENESIS_HASH, canonical_content, chain_hash


def make_event(**changes: Any) -> AuditEvent:
    fields: dict[str, Any] = {
        "id": 7,
        "at": dt.datetime(2026, 3, 12, 9, 30, 0, 123456, tzinfo=dt.UTC),
        "actor_id": 3,
        "actor_name": "alice",
        "action": "document.created",
        "object_type": "document",
        "object_id": "42",
        "ip": "192.0.2.1",
        "details": {"title": "Lettre", "sha256": "ab" * 32},
    }
    fields.update(changes)
    return AuditEvent(**fields)


def test_canonical_content_does_not_depend_on_key_order_of_details() -> None:
    a = make_event(details={"a": 1, "b": 2})
    b = make_event(details={"b": 2, "a": 1})

    assert canonical_content(a) == canonical_content(b)


def test_canonical_content_is_the_same_in_any_time_zone() -> None:
    utc = make_event()
    casablanca = make_event(at=utc.at.astimezone(dt.timezone(dt.timedelta(hours=1))))

    assert canonical_content(utc) == canonical_content(casablanca)


@pytest.mark.parametrize(
    "change",
    [
        {"id": 8},
        {"at": dt.datetime(2026, 3, 12, 9, 30, 0, 123457, tzinfo=dt.UTC)},
        {"actor_id": 4},
        {"actor_name": "bob"},
        {"action": "document.deleted"},
        {"object_type": "version"},
        {"object_id": "43"},
        {"ip": "192.0.2.2"},
        {"details": {"title": "Lettre modifiée", "sha256": "ab" * 32}},
    ],
)
def test_any_field_change_changes_the_hash(change: dict[str, Any]) -> None:
    original = chain_hash(GENESIS_HASH, canonical_content(make_event()))

    assert chain_hash(GENESIS_HASH, canonical_content(make_event(**change))) != original


def test_hash_depends_on_the_previous_hash() -> None:
    content = canonical_content(make_event())

    assert chain_hash(GENESIS_HASH, content) != chain_hash("1" * 64, content)


def test_arabic_text_is_kept_as_is_in_the_canonical_form() -> None:
    event = make_event(details={"nom": "مكتب الضبط"})

    assert "مكتب الضبط" in canonical_content(event)


def test_genesis_hash_is_64_zeros() -> None:
    assert GENESIS_HASH == "0" * 64
