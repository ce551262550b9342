"""Match expressions: the typed tree that `events`, `good`, `bad` and `exclude` parse into."""

from __future__ import annotations

import math
from typing import TypeAlias

import msgspec

from slotail.config.regex import problem as regex_problem
from slotail.paths import parse_path

Scalar: TypeAlias = str | int | float | bool | None

NUMERIC_OPS = ("gte", "gt", "lte", "lt")
VALUE_OPS = (*NUMERIC_OPS, "regex", "exists", "not")

# The tree's nodes are frozen values, compared and hashed by their fields: msgspec Structs, not
# dataclasses, which took 3.4 ms of every command's start-up for these eleven classes (Structs: 0.2).


class Eq(msgspec.Struct, frozen=True):
    """The field equals this scalar (500 and 500.0 are equal; true is not 1)."""

    value: Scalar


class OneOf(msgspec.Struct, frozen=True):
    """The field equals any of these scalars."""

    values: tuple[Scalar, ...]


class Compare(msgspec.Struct, frozen=True):
    """The field is a number and `field <op> bound` holds."""

    op: str
    bound: float


class Regex(msgspec.Struct, frozen=True):
    """The field is a string and the pattern is found in it."""

    pattern: str


class Exists(msgspec.Struct, frozen=True):
    """The field is present (or absent, when `present` is false)."""

    present: bool


class NotValue(msgspec.Struct, frozen=True):
    """The inner value test does not hold."""

    inner: ValueTest


class AllValues(msgspec.Struct, frozen=True):
    """Every test of one operator mapping holds (`{gte: 200, lt: 300}`)."""

    tests: tuple[ValueTest, ...]


ValueTest: TypeAlias = Eq | OneOf | Compare | Regex | Exists | NotValue | AllValues


class FieldTest(msgspec.Struct, frozen=True):
    """A value test applied to the field at a path (its keys, from `parse_path`)."""

    path: tuple[str, ...]
    test: ValueTest


class AllOf(msgspec.Struct, frozen=True):
    """Every expression holds."""

    items: tuple[Expr, ...]


class AnyOf(msgspec.Struct, frozen=True):
    """At least one expression holds."""

    items: tuple[Expr, ...]


class NotExpr(msgspec.Struct, frozen=True):
    """The expression does not hold."""

    inner: Expr


Expr: TypeAlias = FieldTest | AllOf | AnyOf | NotExpr

Problem: TypeAlias = tuple[tuple[str | int, ...], str]


class ExprParser:
    """Parse a YAML match expression, collecting every problem with its sub-path."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def fail(self, where: tuple[str | int, ...], message: str) -> None:
        self.problems.append((where, message))

    def expr(self, raw: object, where: tuple[str | int, ...] = ()) -> Expr:
        if not isinstance(raw, dict) or not raw:
            self.fail(where, "expected a mapping of field paths to values, e.g. {statusCode: 500}")
            return AllOf(())
        items: list[Expr] = []
        for key, value in raw.items():
            items.append(self._entry(str(key), value, (*where, str(key))))
        return items[0] if len(items) == 1 else AllOf(tuple(items))

    def _entry(self, key: str, value: object, where: tuple[str | int, ...]) -> Expr:
        if key == "any":
            if not isinstance(value, list) or not value:
                self.fail(where, "expected a non-empty list of expressions")
                return AnyOf(())
            return AnyOf(tuple(self.expr(item, (*where, i)) for i, item in enumerate(value)))
        if key == "not":
            return NotExpr(self.expr(value, where))
        try:
            path = parse_path(key)
        except ValueError as exc:
            self.fail(where, str(exc))
            path = (key,)
        return FieldTest(path, self.value(value, where))

    def value(self, raw: object, where: tuple[str | int, ...]) -> ValueTest:
        if isinstance(raw, dict):
            return self._operators(raw, where)
        if isinstance(raw, list):
            if not raw:
                self.fail(where, "expected a non-empty list of values")
            return OneOf(tuple(self._scalar(v, (*where, i)) for i, v in enumerate(raw)))
        return Eq(self._scalar(raw, where))

    def _scalar(self, raw: object, where: tuple[str | int, ...]) -> Scalar:
        if raw is None or isinstance(raw, str | bool | int):
            return raw
        if isinstance(raw, float) and math.isfinite(raw):
            return raw
        self.fail(where, f"expected a string, number, boolean or null; got {raw!r}")
        return None

    def _operators(self, raw: dict[object, object], where: tuple[str | int, ...]) -> ValueTest:
        if not raw:
            self.fail(where, f"expected at least one operator of {', '.join(VALUE_OPS)}")
        tests = [self._operator(str(op), arg, (*where, str(op))) for op, arg in raw.items()]
        return tests[0] if len(tests) == 1 else AllValues(tuple(tests))

    def _operator(self, op: str, arg: object, where: tuple[str | int, ...]) -> ValueTest:
        if op in NUMERIC_OPS:
            if isinstance(arg, bool) or not isinstance(arg, int | float) or not math.isfinite(arg):
                self.fail(where, f"expected a number for {op}, got {arg!r}")
                return Compare(op, 0.0)
            return Compare(op, float(arg))
        if op == "regex":
            return Regex(self._pattern(arg, where))
        if op == "exists":
            if not isinstance(arg, bool):
                self.fail(where, f"expected true or false, got {arg!r}")
            return Exists(bool(arg))
        if op == "not":
            return NotValue(self.value(arg, where))
        self.fail(where, f"unknown operator {op!r}; expected one of {', '.join(VALUE_OPS)}")
        return AllValues(())

    def _pattern(self, arg: object, where: tuple[str | int, ...]) -> str:
        if not isinstance(arg, str):
            self.fail(where, f"expected a regular expression string, got {arg!r}")
            return ""
        trouble = regex_problem(arg)
        if trouble is not None:
            self.fail(where, trouble)
        return arg


def fields_read(expr: Expr) -> set[tuple[str, ...]]:
    """Every field path an expression reads."""
    if isinstance(expr, FieldTest):
        return {expr.path}
    if isinstance(expr, NotExpr):
        return fields_read(expr.inner)
    return set().union(*(fields_read(item) for item in expr.items)) if expr.items else set()
