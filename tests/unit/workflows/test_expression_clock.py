"""The expression time limit counts work, not waiting: a loaded server must not fail a step.

(`test_expressions.test_time_limit_holds_on_real_work` pins that it still stops real work.)

Seen while profiling on a shared two-core machine: with the wall clock, `outcome == 'file'`
was refused for running longer than 50 ms, because its thread had waited for a core.
"""

from __future__ import annotations

import time

from workflows.expressions import Evaluator


def test_waiting_for_a_core_or_the_gil_does_not_use_up_the_time_limit() -> None:
    evaluator = Evaluator(time_limit=0.05)
    started = evaluator.clock()
    time.sleep(0.2)  # descheduled: as long as four limits
    assert evaluator.clock() - started < 0.05
