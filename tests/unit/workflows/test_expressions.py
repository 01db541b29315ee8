"""The safe evaluator: what circuit expressions may do, and everything they may not."""

from __future__ import annotations

import itertools
import time

import pytest

from workflows.errors import ExpressionError, ExpressionTimeout
from workflows.expressions import (
    CLOCK_EVERY,
    MAX_LENGTH,
    Evaluator,
    check_expression,
    compile_expression,
    evaluate,
)

DATA = {
    "outcome": "approve",
    "amount": 1200,
    "units": ["finance", "legal"],
    "mail": {"priority": "high", "pages": 3},
    "reply": None,
}


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("outcome == 'approve'", True),
        ("outcome in ('answer', 'close')", False),
        ("'legal' in units", True),
        ("'audit' not in units", True),
        ("len(units) > 1 and amount >= 1000", True),
        ("mail['priority'] == 'high'", True),
        ("units[0]", "finance"),
        ("units[-1]", "legal"),
        ("reply is None", True),
        ("amount * 2 + 1 - 3 / 3", 2400.0),
        ("amount // 7 % 5", 1),
        ("2 ** 10", 1024),
        ("-amount < 0", True),
        ("not reply", True),
        ("min(units)", "finance"),
        ("max(3, mail['pages'], 2)", 3),
        ("sum([1, 2, 3])", 6),
        ("abs(-2.5)", 2.5),
        ("round(2.567, 2)", 2.57),
        ("str(amount) + 'D'", "1200D"),
        ("'P' + str(mail['pages']) + 'D'", "P3D"),
        ("int('42') + float('0.5')", 42.5),
        ("any([reply, outcome])", True),
        ("all([])", True),
        ("'high' if amount > 1000 else 'low'", "high"),
        ("{'a': 1}['a']", 1),
        ("1 < 2 < 3", True),
        ("'P3D'", "P3D"),
    ],
)
def test_allowed_expressions_evaluate_like_python(expression: str, expected: object) -> None:
    assert evaluate(expression, DATA) == expected


def test_conditions_short_circuit_so_a_missing_branch_is_not_evaluated() -> None:
    assert evaluate("outcome == 'file' and missing > 1", DATA) is False


# RELIABILITY.md item 7, one test each.


def test_import_through_dunder_import_is_refused() -> None:
    with pytest.raises(ExpressionError, match="underscore"):
        evaluate("__import__('os')", DATA)


def test_class_hierarchy_walk_to_subclasses_is_refused() -> None:
    with pytest.raises(ExpressionError, match="attribute access"):
        evaluate("().__class__.__base__.__subclasses__()", DATA)


def test_tower_of_powers_is_refused_before_it_is_computed() -> None:
    started = time.process_time()
    with pytest.raises(ExpressionError, match="exponents are limited"):
        evaluate("9**9**9", DATA)
    # Computing it would take minutes of CPU; CPU time ignores other load on the machine.
    assert time.process_time() - started < 0.5


def test_tower_of_powers_is_refused_at_deploy_time() -> None:
    with pytest.raises(ExpressionError, match="exponents are limited"):
        check_expression("9**9**9")


@pytest.mark.parametrize("statement", ["while True: pass", "while True"])
def test_while_loops_are_refused_as_statements(statement: str) -> None:
    with pytest.raises(ExpressionError, match="statements"):
        compile_expression(statement)


# Other refusals.


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("import os", "statements"),
        ("x = 1", "statements"),
        ("__builtins__", "underscore"),
        ("_private", "underscore"),
        ("units.pop()", "attribute access"),
        ("'{0.__class__}'.format(1)", "attribute access"),
        ("(lambda: 1)()", "lambda"),
        ("[u for u in units]", "comprehensions"),
        ("{u: 1 for u in units}", "comprehensions"),
        ("sum(x for x in [1])", "generator"),
        ("(y := 3)", "assignments"),
        ("f'{outcome}'", "f-strings"),
        ("units[0:1]", "slices"),
        ("open('/etc/passwd')", "function open"),
        ("eval('1')", "function eval"),
        ("getattr(units, 'pop')", "function getattr"),
        ("len(units, key=1)", "keyword arguments"),
        ("units[0](1)", "plain function names"),
        ("~amount", "'~'"),
        ("amount << 2", "shift"),
        ("b'bytes'", "bytes literals"),
        ("1j", "complex literals"),
        ("amount is 3", "'is' may only compare"),
        ("", "empty"),
        ("1 +", "syntax error"),
    ],
)
def test_forbidden_constructs_are_refused_with_the_reason(expression: str, reason: str) -> None:
    with pytest.raises(ExpressionError, match=reason):
        evaluate(expression, DATA)


def test_dunder_names_are_refused_even_when_the_data_holds_them() -> None:
    with pytest.raises(ExpressionError, match="underscore"):
        evaluate("__class__", {"__class__": 1})


def test_very_long_expressions_are_refused() -> None:
    expression = " or ".join(["outcome == 'approve'"] * (MAX_LENGTH // 20 + 1))
    with pytest.raises(ExpressionError, match="longer than"):
        evaluate(expression, DATA)


def test_deeply_nested_expressions_are_refused() -> None:
    with pytest.raises(ExpressionError):
        evaluate("(" * 300 + "1" + ")" * 300, DATA)
    with pytest.raises(ExpressionError, match=r"nested|parsed"):
        evaluate("[" * 40 + "1" + "]" * 40, DATA)


def test_string_multiplication_bomb_is_refused() -> None:
    with pytest.raises(ExpressionError, match="limited to"):
        evaluate("'x' * 10**9", DATA)


def test_huge_products_are_refused() -> None:
    with pytest.raises(ExpressionError, match="numbers are limited"):
        evaluate("999999999999 * 999999999999", DATA)


def test_large_constants_are_refused() -> None:
    with pytest.raises(ExpressionError, match="numbers are limited"):
        compile_expression("10000000000000000000")


def test_round_with_absurd_precision_is_refused() -> None:
    with pytest.raises(ExpressionError, match="digits"):
        evaluate("round(5, -1000000000)", DATA)


def test_unknown_variables_are_named_in_the_error() -> None:
    with pytest.raises(ExpressionError, match="unknown variable 'missing'"):
        evaluate("missing > 1", DATA)


def test_objects_in_the_data_cannot_be_reached() -> None:
    with pytest.raises(ExpressionError, match="which expressions cannot use"):
        evaluate("thing == 1", {"thing": object()})


def test_type_errors_become_expression_errors() -> None:
    with pytest.raises(ExpressionError, match="TypeError"):
        evaluate("outcome < 3", DATA)


def test_division_by_zero_is_reported_as_such() -> None:
    with pytest.raises(ExpressionError, match="division by zero"):
        evaluate("amount / 0", DATA)


def test_missing_keys_and_indexes_are_reported() -> None:
    with pytest.raises(ExpressionError, match="no key 'colour'"):
        evaluate("mail['colour']", DATA)
    with pytest.raises(ExpressionError, match="out of range"):
        evaluate("units[5]", DATA)


# Limits on time and work.


def test_time_limit_stops_an_expression_between_steps() -> None:
    ticks = itertools.count()
    # The clock is read every CLOCK_EVERY steps; this clock jumps a second per read.
    assert CLOCK_EVERY == 8
    evaluator = Evaluator(time_limit=2.5, clock=lambda: float(next(ticks)))
    long_sum = " + ".join(["amount"] * 20)  # 39 steps: the clock is read at 8, 16, 24, 32
    with pytest.raises(ExpressionTimeout, match="time limit"):
        evaluator.evaluate(long_sum, DATA)
    assert next(ticks) == 4  # the fourth reading (3 s) stopped it


def test_a_short_condition_does_not_read_the_clock() -> None:
    def no_clock() -> float:
        raise AssertionError("the clock was read")

    evaluator = Evaluator(clock=no_clock)
    assert evaluator.evaluate("outcome == 'approve' and amount > 10", DATA) is not None


def test_time_limit_holds_on_real_work() -> None:
    items = list(range(1_000_000))
    started = time.process_time()
    assert -1 not in items
    one_scan = time.process_time() - started
    evaluator = Evaluator(time_limit=0.005)

    started = time.process_time()
    with pytest.raises(ExpressionTimeout):
        evaluator.evaluate(" or ".join(["-1 in items"] * 25), {"items": items})

    # Without the limit all 25 scans would run.
    assert time.process_time() - started < 12 * one_scan + 0.05


def test_step_budget_stops_expressions_with_too_much_work() -> None:
    evaluator = Evaluator(max_steps=10)
    with pytest.raises(ExpressionError, match="too many steps"):
        evaluator.evaluate("1 + 1 + 1 + 1 + 1 + 1 + 1", DATA)


def test_compiled_expressions_are_cached() -> None:
    assert compile_expression("outcome == 'x'") is compile_expression("outcome == 'x'")
