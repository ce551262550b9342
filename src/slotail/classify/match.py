"""Compile match expressions once into plain Python predicates over parsed objects."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from slotail.config.expr import (
    AllOf,
    AnyOf,
    Compare,
    Eq,
    Exists,
    Expr,
    FieldTest,
    NotExpr,
    NotValue,
    OneOf,
    Regex,
    ValueTest,
)
from slotail.config.regex import searcher
from slotail.parse.lines import field_getter
from slotail.parse.record import MISSING

Predicate = Callable[[dict[str, Any]], bool]
ValuePredicate = Callable[[Any], bool]

_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "gte": operator.ge,
    "gt": operator.gt,
    "lte": operator.le,
    "lt": operator.lt,
}


def is_number(value: Any) -> bool:
    """A JSON number: int or float, never a boolean."""
    kind = type(value)
    return kind is int or kind is float


def _eq(expected: Any) -> ValuePredicate:
    if expected is None or isinstance(expected, bool):
        return lambda v: v is expected
    if isinstance(expected, str):
        return lambda v: v == expected and type(v) is str
    return lambda v: (type(v) is int or type(v) is float) and v == expected


def _one_of(values: tuple[Any, ...]) -> ValuePredicate:
    strings = frozenset(v for v in values if isinstance(v, str))
    numbers = frozenset(v for v in values if is_number(v))
    flags = frozenset(v for v in values if isinstance(v, bool))
    with_null = any(v is None for v in values)

    def test(v: Any) -> bool:
        kind = type(v)
        if kind is str:
            return v in strings
        if kind is int or kind is float:
            return v in numbers
        if kind is bool:
            return v in flags
        return with_null and v is None

    return test


def _compare(op: str, bound: float) -> ValuePredicate:
    compare = _OPS[op]
    return lambda v: (type(v) is int or type(v) is float) and compare(v, bound)


def compile_value(test: ValueTest) -> ValuePredicate:
    """A predicate over a field's value (the sentinel for a missing field matches only `exists: false`)."""
    if isinstance(test, Eq):
        return _eq(test.value)
    if isinstance(test, OneOf):
        return _one_of(test.values)
    if isinstance(test, Compare):
        return _compare(test.op, test.bound)
    if isinstance(test, Regex):
        found = searcher(test.pattern)
        return lambda v: type(v) is str and found(v)
    if isinstance(test, Exists):
        present = test.present
        return lambda v: (v is not MISSING) is present
    if isinstance(test, NotValue):
        inner = compile_value(test.inner)
        return lambda v: not inner(v)
    tests = tuple(compile_value(t) for t in test.tests)
    return lambda v: all(t(v) for t in tests)


def compile_expr(expr: Expr) -> Predicate:
    """A predicate over a parsed object."""
    if isinstance(expr, FieldTest):
        get, test = field_getter(expr.path), compile_value(expr.test)
        return lambda obj: test(get(obj))
    if isinstance(expr, NotExpr):
        inner = compile_expr(expr.inner)
        return lambda obj: not inner(obj)
    items = tuple(compile_expr(item) for item in expr.items)
    if isinstance(expr, AllOf):
        if len(items) == 2:
            first, second = items
            return lambda obj: first(obj) and second(obj)
        return lambda obj: all(p(obj) for p in items)
    assert isinstance(expr, AnyOf)
    return lambda obj: any(p(obj) for p in items)
