"""The worker that `ged serve` and `ged worker` run looks at an idle queue often enough."""

from __future__ import annotations

from ged.bootstrap import Container
from web.cli import IDLE_POLL_SECONDS, make_consumer


def test_an_idle_worker_looks_at_the_queue_every_second_at_most(container: Container) -> None:
    consumer = make_consumer(container, workers=2)

    # Huey backs off from its initial delay up to max_delay while the queue stays empty.
    assert consumer.max_delay == IDLE_POLL_SECONDS <= 1.0
    assert consumer.periodic
    assert len(consumer.worker_threads) == 2
