"""SpiffWorkflow's state changes log the same records with our `_set_state`, and build none unheard."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from SpiffWorkflow import task as spiff_task

from tests.unit.workflows.builders import INCOMING_MAIL_PATH, NOW
from workflows import spiff_logging
from workflows.engine import CircuitEngine

# The extras that are the same from one run to the next (timings and task ids are not).
_COMPARED = ("workflow_spec", "task_spec", "task_type", "state", "data")


def _run_path(engine: CircuitEngine, definition: bytes) -> None:
    snapshot = engine.start(definition, {}, NOW)
    for bpmn_id, data in INCOMING_MAIL_PATH:
        task = next(t for t in snapshot.ready_tasks if t.bpmn_id == bpmn_id)
        snapshot = engine.complete(definition, snapshot.state, task.id, data, NOW)
    assert snapshot.finished


def _records(
    caplog: pytest.LogCaptureFixture, engine: CircuitEngine, definition: bytes, level: int
) -> list[tuple[str, str, dict[str, Any]]]:
    caplog.clear()
    with caplog.at_level(level, logger="spiff.task"):
        _run_path(engine, definition)
    return [
        (
            record.levelname,
            record.getMessage(),
            {key: str(getattr(record, key, "-")) for key in _COMPARED}
            # Task ids are random: whether there is one (or a parent) is what can be compared.
            | {key: str(getattr(record, key, None) is None) for key in ("task_id", "parent")},
        )
        for record in caplog.records
        if record.name == "spiff.task"
    ]


@pytest.fixture
def original() -> Iterator[None]:
    spiff_logging.uninstall()
    yield
    assert spiff_logging.install()


def test_the_engine_runs_with_the_replacement_installed() -> None:
    assert spiff_task.Task._set_state is spiff_logging._set_state


@pytest.mark.parametrize("level", [logging.INFO, logging.DEBUG])
def test_the_same_records_as_spiffworkflows_own_method(
    caplog: pytest.LogCaptureFixture, incoming_mail: bytes, level: int
) -> None:
    ours = _records(caplog, CircuitEngine(), incoming_mail, level)
    spiff_logging.uninstall()
    try:
        theirs = _records(caplog, CircuitEngine(), incoming_mail, level)
    finally:
        assert spiff_logging.install()
    assert len(ours) > 50
    assert ours == theirs


def test_nothing_is_built_when_nobody_logs(
    incoming_mail: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_args: Any, **_kwargs: Any) -> dict[str, Any]:
        raise AssertionError("log extras built for a disabled logger")

    monkeypatch.setattr(spiff_task.Task, "collect_log_extras", refuse)
    monkeypatch.setattr(spiff_task.logger, "level", logging.WARNING)
    _run_path(CircuitEngine(), incoming_mail)


def test_spiffworkflows_own_method_builds_them_anyway(
    incoming_mail: bytes, monkeypatch: pytest.MonkeyPatch, original: None
) -> None:
    """The reason for the replacement: SpiffWorkflow 3.2 builds them for nobody."""

    def refuse(*_args: Any, **_kwargs: Any) -> dict[str, Any]:
        raise AssertionError("log extras built for a disabled logger")

    monkeypatch.setattr(spiff_task.Task, "collect_log_extras", refuse)
    monkeypatch.setattr(spiff_task.logger, "level", logging.WARNING)
    with pytest.raises(Exception, match="log extras built"):
        _run_path(CircuitEngine(), incoming_mail)


def test_another_spiffworkflow_release_keeps_its_own_method(
    monkeypatch: pytest.MonkeyPatch, original: None
) -> None:
    monkeypatch.setattr(spiff_logging, "version", lambda _name: "3.3.0")
    assert not spiff_logging.install()
    assert spiff_task.Task._set_state is not spiff_logging._set_state
    monkeypatch.setattr(spiff_logging, "version", lambda _name: spiff_logging.WRITTEN_FOR)
