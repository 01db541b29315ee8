"""Safe evaluation of circuit expressions: gateway conditions, timer values, loop conditions.

This is the only way circuit text is ever evaluated. Python's `eval` is never used: the text is
parsed with `ast`, every node is checked against a small whitelist, and the tree is interpreted
node by node with bounds on numbers, sizes, steps and time. Restricted globals are not enough with
`eval` (`().__class__.__base__.__subclasses__()` needs no global at all), hence an interpreter.

What an expression may use:
- literals (strings, numbers, booleans, None, lists, tuples, sets, dicts) and `x if c else y`;
- names of task data variables (never names starting with an underscore);
- comparisons (`==`, `<`, `in`, `is None`...), `and`, `or`, `not`;
- arithmetic on numbers of bounded magnitude, `+` and `*` on strings and lists of bounded size;
- subscripts of lists, tuples, strings and dicts (`reviewers[0]`, `mail['priority']`);
- the functions in `FUNCTIONS` (`len`, `min`, `max`...).
Everything else (attributes, lambdas, comprehensions, f-strings, statements, other calls) is refused
with an `ExpressionError` saying what was refused.
"""

from __future__ import annotations

import ast
import functools
import keyword
import math
import operator
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

from workflows.errors import ExpressionError, ExpressionTimeout

MAX_LENGTH: Final = 1000
MAX_NODES: Final = 200
MAX_DEPTH: Final = 32
MAX_STEPS: Final = 20_000
MAX_NUMBER: Final = 10**15
MAX_EXPONENT: Final = 64
MAX_SIZE: Final = 10_000
DEFAULT_TIME_LIMIT: Final = 0.05
# The thread's CPU clock is a system call (about 1 µs here, as much as three steps of a
# condition): it is read every CLOCK_EVERY steps, not at each.
CLOCK_EVERY: Final = 8

Value = Any
_SCALARS = (str, int, float, bool, type(None))
_CONTAINERS = (list, tuple, dict, set, frozenset)
_SEQUENCES = (str, list, tuple)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_number(value: Value) -> Value:
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and not math.isfinite(value):
        raise ExpressionError("the result is not a finite number")
    if isinstance(value, int | float) and abs(value) > MAX_NUMBER:
        raise ExpressionError(f"numbers are limited to ±{MAX_NUMBER:.0e}")
    if isinstance(value, complex):
        raise ExpressionError("the result is not a real number")
    return value


def _check_size(value: Value) -> Value:
    if isinstance(value, str | list | tuple | dict | set | frozenset) and len(value) > MAX_SIZE:
        raise ExpressionError(
            f"strings and lists built by expressions are limited to {MAX_SIZE} items"
        )
    return value


def _check_value(value: Value, origin: str) -> Value:
    """Only plain JSON-like values may flow through an expression: no objects, no callables."""
    if isinstance(value, _SCALARS + _CONTAINERS):
        return value
    raise ExpressionError(f"{origin} holds a {type(value).__name__}, which expressions cannot use")


def _iterable(value: Value, function: str) -> Iterable[Value]:
    if not isinstance(value, _CONTAINERS) and not isinstance(value, str):
        raise ExpressionError(f"{function}() needs a list, not a {type(value).__name__}")
    return value


def _len(value: Value) -> int:
    return len(_iterable(value, "len"))  # type: ignore[arg-type]


def _min_max(function: Callable[..., Value], name: str) -> Callable[..., Value]:
    def call(*args: Value) -> Value:
        if not args:
            raise ExpressionError(f"{name}() needs at least one value")
        values = _iterable(args[0], name) if len(args) == 1 else args
        return function(values)

    return call


def _round(value: Value, ndigits: Value = 0) -> Value:
    # A huge ndigits makes CPython compute a huge power of ten.
    if not isinstance(ndigits, int) or isinstance(ndigits, bool) or abs(ndigits) > 15:
        raise ExpressionError("round() takes a number of digits between -15 and 15")
    if not _is_number(value):
        raise ExpressionError("round() needs a number")
    return round(value, ndigits)


def _sum(values: Value) -> Value:
    items = list(_iterable(values, "sum"))
    if not all(_is_number(item) for item in items):
        raise ExpressionError("sum() needs a list of numbers")
    return sum(items)


def _str(value: Value = "") -> str:
    text = str(value)
    if len(text) > MAX_SIZE:
        raise ExpressionError(f"str() results are limited to {MAX_SIZE} characters")
    return text


def _any(values: Value) -> bool:
    return any(_iterable(values, "any"))


def _all(values: Value) -> bool:
    return all(_iterable(values, "all"))


FUNCTIONS: Final[Mapping[str, Callable[..., Value]]] = {
    "len": _len,
    "min": _min_max(min, "min"),
    "max": _min_max(max, "max"),
    "abs": abs,
    "round": _round,
    "int": int,
    "float": float,
    "str": _str,
    "bool": bool,
    "sum": _sum,
    "any": _any,
    "all": _all,
}

_BINARY: Final[Mapping[type[ast.operator], Callable[[Value, Value], Value]]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}

_COMPARE: Final[Mapping[type[ast.cmpop], Callable[[Value, Value], Value]]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
    ast.Is: operator.is_,
    ast.IsNot: operator.is_not,
}

_ALLOWED_NODES: Final = (
    ast.Expression,
    ast.Constant,
    ast.Name,
    ast.Load,
    ast.BoolOp,
    ast.And,
    ast.Or,
    ast.UnaryOp,
    ast.Not,
    ast.USub,
    ast.UAdd,
    ast.BinOp,
    *_BINARY,
    ast.Compare,
    *_COMPARE,
    ast.IfExp,
    ast.Subscript,
    ast.List,
    ast.Tuple,
    ast.Set,
    ast.Dict,
    ast.Call,
)

# Why each refused construct is refused, in words an author of a circuit understands.
_REFUSED: Final[Mapping[type[ast.AST], str]] = {
    ast.Attribute: "attribute access ('.name') is not allowed",
    ast.Lambda: "lambda functions are not allowed",
    ast.ListComp: "comprehensions are not allowed",
    ast.SetComp: "comprehensions are not allowed",
    ast.DictComp: "comprehensions are not allowed",
    ast.GeneratorExp: "generator expressions are not allowed",
    ast.NamedExpr: "assignments (':=') are not allowed",
    ast.JoinedStr: "f-strings are not allowed",
    ast.FormattedValue: "f-strings are not allowed",
    ast.Starred: "'*' unpacking is not allowed",
    ast.Slice: "slices are not allowed; use an index such as items[0]",
    ast.Await: "await is not allowed",
    ast.Yield: "yield is not allowed",
    ast.YieldFrom: "yield is not allowed",
    ast.Invert: "the '~' operator is not allowed",
    ast.MatMult: "the '@' operator is not allowed",
    ast.BitAnd: "bitwise operators are not allowed",
    ast.BitOr: "bitwise operators are not allowed",
    ast.BitXor: "bitwise operators are not allowed",
    ast.LShift: "shift operators are not allowed",
    ast.RShift: "shift operators are not allowed",
}

_STATEMENT_KEYWORDS: Final = frozenset(keyword.kwlist) - {
    "and",
    "or",
    "not",
    "in",
    "is",
    "if",
    "else",
    "True",
    "False",
    "None",
    "lambda",
    "await",
}


def _excerpt(text: str) -> str:
    return repr(text if len(text) <= 80 else text[:77] + "...")


def _refuse(text: str, why: str) -> ExpressionError:
    return ExpressionError(f"Expression {_excerpt(text)} refused: {why}.")


@functools.lru_cache(maxsize=2048)
def compile_expression(text: str) -> ast.Expression:
    """Parse and check `text`; the tree is cached and only ever read.

    Raises `ExpressionError` saying what is refused.
    """
    if not isinstance(text, str):
        raise ExpressionError(f"An expression must be text, not {type(text).__name__}.")
    source = text.strip()
    if not source:
        raise ExpressionError(
            "An expression is empty: write a condition such as outcome == 'approve'."
        )
    if len(source) > MAX_LENGTH:
        raise _refuse(source, f"it is longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as error:
        raise _syntax_error(source, error) from None
    except (ValueError, RecursionError, MemoryError):
        raise _refuse(source, "it cannot be parsed (nested too deeply or contains NUL)") from None
    _check_tree(source, tree)
    return tree


def _syntax_error(source: str, error: SyntaxError) -> ExpressionError:
    first_word = source.split(None, 1)[0].rstrip(":")
    statements = first_word in _STATEMENT_KEYWORDS
    if not statements:
        try:
            ast.parse(source, mode="exec")
            statements = True
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            pass
    if statements:
        return _refuse(
            source,
            "statements (loops, imports, assignments...) are not allowed, only one expression",
        )
    return _refuse(source, f"syntax error at column {error.offset or 0}: {error.msg}")


def _check_tree(source: str, tree: ast.Expression) -> None:
    count = 0

    def visit(node: ast.AST, depth: int) -> None:
        nonlocal count
        count += 1
        if count > MAX_NODES:
            raise _refuse(source, f"it has more than {MAX_NODES} parts")
        if depth > MAX_DEPTH:
            raise _refuse(source, f"it is nested more than {MAX_DEPTH} levels deep")
        refused = _REFUSED.get(type(node))
        if refused is not None:
            raise _refuse(source, refused)
        if not isinstance(node, _ALLOWED_NODES):
            raise _refuse(source, f"{type(node).__name__} is not allowed")
        if isinstance(node, ast.Name):
            if node.id.startswith("_"):
                raise _refuse(
                    source, f"names starting with an underscore ({node.id}) are not allowed"
                )
        elif isinstance(node, ast.Constant):
            _check_constant(source, node.value)
        elif isinstance(node, ast.Call):
            _check_call(source, node)
        elif isinstance(node, ast.Compare):
            for op, right in zip(node.ops, node.comparators, strict=True):
                if isinstance(op, ast.Is | ast.IsNot) and not (
                    isinstance(right, ast.Constant) and right.value in (None, True, False)
                ):
                    raise _refuse(source, "'is' may only compare with None, True or False")
        for child in ast.iter_child_nodes(node):
            visit(child, depth + 1)

    visit(tree, 0)


def _check_constant(source: str, value: object) -> None:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            raise _refuse(source, "numbers must be finite")
        if abs(value) > MAX_NUMBER:
            raise _refuse(source, f"numbers are limited to ±{MAX_NUMBER:.0e}")
        return
    raise _refuse(source, f"{type(value).__name__} literals are not allowed")


def _check_call(source: str, node: ast.Call) -> None:
    if isinstance(node.func, ast.Attribute):
        raise _refuse(source, _REFUSED[ast.Attribute])
    if not isinstance(node.func, ast.Name):
        raise _refuse(source, "only plain function names may be called, such as len(items)")
    name = node.func.id
    if name.startswith("_"):
        raise _refuse(source, f"names starting with an underscore ({name}) are not allowed")
    if name not in FUNCTIONS:
        allowed = ", ".join(sorted(FUNCTIONS))
        raise _refuse(source, f"the function {name}() is not allowed (allowed: {allowed})")
    if node.keywords:
        raise _refuse(source, "keyword arguments are not allowed")


def is_constant(text: str) -> bool:
    """True when the expression reads no variable, so it can be evaluated once at deploy time."""
    tree = compile_expression(text)
    return not any(
        isinstance(node, ast.Name) and not _is_called(tree, node) for node in ast.walk(tree)
    )


def _is_called(tree: ast.AST, name: ast.Name) -> bool:
    return any(isinstance(node, ast.Call) and node.func is name for node in ast.walk(tree))


class Evaluator:
    """Evaluates checked expressions against task data, under a step budget and a time limit.

    The limit is checked between steps, so it holds in any thread (no signals). The bounds on
    numbers and sizes keep each single step short, which is what makes that check sufficient.
    It counts the thread's own CPU time: on a loaded server a thread may wait longer than the
    limit for a core (or for the GIL), and a trivial condition must not fail for that.
    """

    def __init__(
        self,
        *,
        time_limit: float = DEFAULT_TIME_LIMIT,
        max_steps: int = MAX_STEPS,
        clock: Callable[[], float] = time.thread_time,
    ) -> None:
        self.time_limit = time_limit
        self.max_steps = max_steps
        self.clock = clock

    def evaluate(self, text: str, variables: Mapping[str, Any]) -> Value:
        """Evaluate `text` with `variables` as its names; raise `ExpressionError` if refused."""
        tree = compile_expression(text)
        run = _Run(text.strip(), variables, self)
        try:
            return run.eval(tree.body)
        except ExpressionError:
            raise
        except ZeroDivisionError:
            raise _refuse(run.source, "division by zero") from None
        except (
            TypeError,
            ValueError,
            KeyError,
            IndexError,
            OverflowError,
            RecursionError,
        ) as error:
            raise _refuse(run.source, f"{type(error).__name__}: {error}") from None


class _Run:
    """One evaluation: its budget, deadline and variables."""

    def __init__(self, source: str, variables: Mapping[str, Any], evaluator: Evaluator) -> None:
        self.source = source
        self.variables = variables
        self.deadline: float | None = None
        self.clock = evaluator.clock
        self.time_limit = evaluator.time_limit
        self.steps_left = evaluator.max_steps

    def eval(self, node: ast.expr) -> Value:
        self.steps_left -= 1
        if self.steps_left < 0:
            raise _refuse(self.source, "it takes too many steps")
        if self.steps_left % CLOCK_EVERY == 0:
            self._check_time()
        handler = _HANDLERS.get(type(node))
        if handler is None:  # compile_expression refuses these already
            raise _refuse(self.source, f"{type(node).__name__} is not allowed")
        return handler(self, node)

    def _check_time(self) -> None:
        # The limit starts at the first reading: the steps before it are bounded like any other
        # CLOCK_EVERY steps, and a condition shorter than that never reads the clock.
        now = self.clock()
        if self.deadline is None:
            self.deadline = now + self.time_limit
        elif now > self.deadline:
            raise ExpressionTimeout(
                f"Expression {_excerpt(self.source)} ran longer than its time limit "
                f"({self.time_limit * 1000:.0f} ms)."
            )

    def _constant(self, node: ast.Constant) -> Value:
        return node.value

    def _name(self, node: ast.Name) -> Value:
        if node.id not in self.variables:
            known = ", ".join(sorted(k for k in self.variables if isinstance(k, str))[:20])
            raise _refuse(self.source, f"unknown variable '{node.id}' (known: {known or 'none'})")
        return _check_value(self.variables[node.id], f"the variable '{node.id}'")

    def _bool_op(self, node: ast.BoolOp) -> Value:
        value: Value = None
        for operand in node.values:
            value = self.eval(operand)
            if isinstance(node.op, ast.And) and not value:
                return value
            if isinstance(node.op, ast.Or) and value:
                return value
        return value

    def _unary_op(self, node: ast.UnaryOp) -> Value:
        value = self.eval(node.operand)
        if isinstance(node.op, ast.Not):
            return not value
        if not _is_number(value):
            raise _refuse(self.source, "'-' and '+' apply to numbers only")
        return -value if isinstance(node.op, ast.USub) else +value

    def _bin_op(self, node: ast.BinOp) -> Value:
        left = self.eval(node.left)
        right = self.eval(node.right)
        op = type(node.op)
        if _is_number(left) and _is_number(right):
            if op is ast.Pow:
                self._check_power(left, right)
            return _check_number(_BINARY[op](left, right))
        if op is ast.Add and type(left) is type(right) and isinstance(left, str | list | tuple):
            if len(left) + len(right) > MAX_SIZE:
                raise _refuse(self.source, f"results are limited to {MAX_SIZE} items")
            return left + right
        if op is ast.Mult:
            sequence, times = (left, right) if isinstance(left, _SEQUENCES) else (right, left)
            if isinstance(sequence, _SEQUENCES) and isinstance(times, int):
                if isinstance(times, bool) or len(sequence) * max(times, 0) > MAX_SIZE:
                    raise _refuse(self.source, f"results are limited to {MAX_SIZE} items")
                return sequence * times
        raise _refuse(
            self.source,
            f"cannot apply {type(node.op).__name__} to {type(left).__name__} "
            f"and {type(right).__name__}",
        )

    def _check_power(self, base: int | float, exponent: int | float) -> None:
        if abs(exponent) > MAX_EXPONENT:
            raise _refuse(self.source, f"exponents are limited to {MAX_EXPONENT}")
        # Refuse before computing: the size of the result is known from the operands.
        if (
            isinstance(base, int)
            and isinstance(exponent, int)
            and exponent > 0
            and abs(base).bit_length() * exponent > MAX_NUMBER.bit_length() + 1
        ):
            raise _refuse(self.source, f"numbers are limited to ±{MAX_NUMBER:.0e}")

    def _compare(self, node: ast.Compare) -> Value:
        left = self.eval(node.left)
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self.eval(comparator)
            if isinstance(op, ast.In | ast.NotIn) and not isinstance(
                right, str | list | tuple | dict | set | frozenset
            ):
                raise _refuse(self.source, "'in' needs a list, a string or a dict on its right")
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True

    def _if_exp(self, node: ast.IfExp) -> Value:
        return self.eval(node.body) if self.eval(node.test) else self.eval(node.orelse)

    def _subscript(self, node: ast.Subscript) -> Value:
        container = self.eval(node.value)
        key = self.eval(node.slice)
        if isinstance(container, dict):
            if key not in container:
                raise _refuse(self.source, f"there is no key {key!r}")
            return _check_value(container[key], f"the key {key!r}")
        if isinstance(container, _SEQUENCES):
            if not isinstance(key, int) or isinstance(key, bool):
                raise _refuse(self.source, "list and string indexes must be whole numbers")
            if not -len(container) <= key < len(container):
                raise _refuse(self.source, f"index {key} is out of range")
            return _check_value(container[key], f"item {key}")
        raise _refuse(self.source, f"a {type(container).__name__} cannot be indexed")

    def _list(self, node: ast.List) -> Value:
        return [self.eval(item) for item in node.elts]

    def _tuple(self, node: ast.Tuple) -> Value:
        return tuple(self.eval(item) for item in node.elts)

    def _set(self, node: ast.Set) -> Value:
        return {self.eval(item) for item in node.elts}

    def _dict(self, node: ast.Dict) -> Value:
        result = {}
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:
                raise _refuse(self.source, "'**' unpacking is not allowed")
            result[self.eval(key)] = self.eval(value)
        return result

    def _call(self, node: ast.Call) -> Value:
        if not isinstance(node.func, ast.Name):  # compile_expression refuses this already
            raise _refuse(self.source, "only plain function names may be called")
        function = FUNCTIONS[node.func.id]
        args = [self.eval(arg) for arg in node.args]
        result = function(*args)
        return _check_size(_check_number(_check_value(result, f"{node.func.id}()")))


_HANDLERS: Final[Mapping[type[ast.AST], Callable[[_Run, Any], Value]]] = {
    ast.Constant: _Run._constant,
    ast.Name: _Run._name,
    ast.BoolOp: _Run._bool_op,
    ast.UnaryOp: _Run._unary_op,
    ast.BinOp: _Run._bin_op,
    ast.Compare: _Run._compare,
    ast.IfExp: _Run._if_exp,
    ast.Subscript: _Run._subscript,
    ast.List: _Run._list,
    ast.Tuple: _Run._tuple,
    ast.Set: _Run._set,
    ast.Dict: _Run._dict,
    ast.Call: _Run._call,
}

_DEFAULT = Evaluator()


def evaluate(
    text: str, variables: Mapping[str, Any], *, evaluator: Evaluator | None = None
) -> Value:
    """Evaluate one expression with the default limits (see `Evaluator`)."""
    return (evaluator or _DEFAULT).evaluate(text, variables)


def check_expression(text: str) -> None:
    """Refuse `text` now (at deploy time) if it could never be evaluated.

    Expressions that read no variable are evaluated once, so `9**9**9` is refused at upload rather
    than when a mail reaches the gateway.
    """
    compile_expression(text)
    if is_constant(text):
        _DEFAULT.evaluate(text, {})
