"""Fixtures for the circuit engine: a fresh engine per test and the bundled definitions."""

from __future__ import annotations

import pytest

from workflows.engine import CircuitEngine, bundled_definition


@pytest.fixture
def engine() -> CircuitEngine:
    return CircuitEngine()


@pytest.fixture(scope="session")
def incoming_mail() -> bytes:
    return bundled_definition("incoming_mail")


@pytest.fixture(scope="session")
def outgoing_mail() -> bytes:
    return bundled_definition("outgoing_mail")


@pytest.fixture(scope="session")
def document_approval() -> bytes:
    return bundled_definition("document_approval")
