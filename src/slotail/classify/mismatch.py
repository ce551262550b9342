"""Field mismatches: on an event, the fields an SLI reads and finds missing or of a type it never compares.

A test on a field that is missing, or holds a JSON type the test never compares
(a string under `gte`, a number under `regex`, a number where the config writes
a string), can say neither yes nor no: the line is classified as if it said no.
Reading an expression in three values (yes, no, unknown) tells when the answer
depended on such a field: `{a: 1, b: {gte: 5}}` is no, not unknown, when `a` is
not 1, whatever `b` holds; an `any` is yes when one branch is. Those fields are
what `slotail_field_mismatch_total` counts. `exists` reads presence, never a
type; `not` reads what its test reads; a list compares the types of its values.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable
from typing import Any

from slotail.classify.match import compile_value
from slotail.config.expr import (
    AllOf,
    AllValues,
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
    Scalar,
    ValueTest,
)
from slotail.config.model import SLO, SLIKind
from slotail.parse.lines import field_getter
from slotail.parse.record import MISSING, NOT_A_NUMBER
from slotail.paths import format_path

MISSING_FIELD = "missing"
WRONG_TYPE = "wrong_type"
REASONS = (MISSING_FIELD, WRONG_TYPE)

Mismatch = tuple[str, str]  # (field path, reason)
Verdict = tuple[bool | None, frozenset[Mismatch]]  # None: unknown, for the mismatches given
Reading = Callable[[Any], Verdict]
Diagnosis = Callable[[Any], frozenset[Mismatch]]
ValueReading = Callable[[Any], bool | None]

KINDS = {str: "string", int: "number", float: "number", bool: "boolean", type(None): "null"}
KINDS |= {list: "array", dict: "object"}
ANY_KIND: frozenset[str] | None = None  # a test that reads presence only
_NOT_A_NUMBER_BITS = struct.pack("<d", NOT_A_NUMBER)
_CLEAN_NO: Verdict = (False, frozenset())
_CLEAN_YES: Verdict = (True, frozenset())


def kind(value: Any) -> str:
    """The JSON type of a field's value: string, number, boolean, null, array, object, or missing."""
    return "missing" if value is MISSING else KINDS.get(type(value), "object")


def _scalar_kind(value: Scalar) -> str:
    return KINDS[type(value)]


def compared_kinds(test: ValueTest) -> frozenset[str] | None:
    """The JSON types a value test compares (None: it reads presence, any type will do)."""
    if isinstance(test, Eq):
        return frozenset({_scalar_kind(test.value)})
    if isinstance(test, OneOf):
        return frozenset(map(_scalar_kind, test.values))
    if isinstance(test, Compare):
        return frozenset({"number"})
    if isinstance(test, Regex):
        return frozenset({"string"})
    if isinstance(test, NotValue):
        return compared_kinds(test.inner)
    if isinstance(test, AllValues):
        found = [k for k in map(compared_kinds, test.tests) if k is not None]
        return frozenset.intersection(*found) if found else None
    return ANY_KIND  # Exists


def _value_reading(test: ValueTest) -> ValueReading:
    """A value test in three values: None where it cannot compare the value's type."""
    if isinstance(test, Exists):
        return compile_value(test)
    if isinstance(test, NotValue):
        inner = _value_reading(test.inner)
        return lambda v: None if (found := inner(v)) is None else not found
    if isinstance(test, AllValues):
        return _kleene_all([_value_reading(t) for t in test.tests])
    kinds, holds = compared_kinds(test) or frozenset(), compile_value(test)
    return lambda v: holds(v) if kind(v) in kinds else None


def _kleene_all(readings: list[ValueReading]) -> ValueReading:
    return lambda v: _combine([(r(v), frozenset()) for r in readings], decisive=False)[0]


def compile_reading(expr: Expr) -> Reading:
    """An expression read in three values, with the fields that left it unknown."""
    if isinstance(expr, FieldTest):
        path = format_path(expr.path)  # the field as the config names it, for counts and messages
        get, test = field_getter(expr.path), _value_reading(expr.test)
        missing, wrong = frozenset({(path, MISSING_FIELD)}), frozenset({(path, WRONG_TYPE)})

        def field(obj: Any) -> Verdict:
            value = get(obj)
            found = test(value)
            if found is None:
                return None, missing if value is MISSING else wrong
            return _CLEAN_YES if found else _CLEAN_NO

        return field
    if isinstance(expr, NotExpr):
        inner = compile_reading(expr.inner)
        return lambda obj: _negate(inner(obj))
    items = [compile_reading(item) for item in expr.items]
    decisive = isinstance(expr, AnyOf)  # the answer that settles it: yes for `any`, no for `all`
    assert isinstance(expr, AnyOf | AllOf)
    return lambda obj: _combine([item(obj) for item in items], decisive)


def _negate(verdict: Verdict) -> Verdict:
    found, why = verdict
    return (None, why) if found is None else (not found, why)


def _combine(verdicts: list[Verdict], decisive: bool) -> Verdict:
    """`any` (decisive yes) or `all` (decisive no) of verdicts: unknown only when no item settles it."""
    if any(found is decisive for found, _ in verdicts):
        return decisive, frozenset()
    unknown = [why for found, why in verdicts if found is None]
    if unknown:
        return None, frozenset().union(*unknown)
    return not decisive, frozenset()


def _reading_or_none(expr: Expr | None) -> Reading | None:
    return compile_reading(expr) if expr is not None else None


def compile_diagnosis(slo: SLO) -> Diagnosis:
    """The mismatches of an SLO's event: `exclude`, then (unless it holds) `bad`, else `good`.

    In an event pair `good` and `bad` say which lines are events, and only `exclude` is read
    this way; a latency is read by `latency_mismatch`, in a batch's column or line by line."""
    sli = slo.sli
    exclude = _reading_or_none(sli.exclude)
    decide = (
        None if sli.kind is not SLIKind.RATIO else _reading_or_none(sli.good if sli.bad is None else sli.bad)
    )

    def diagnose(obj: Any) -> frozenset[Mismatch]:
        why: frozenset[Mismatch] = frozenset()
        if exclude is not None:
            excluded, why = exclude(obj)
            if excluded:
                return why
        return why | decide(obj)[1] if decide is not None else why

    return diagnose


def latency_mismatch(value: Any) -> str | None:
    """Why an event's latency value is no number (None when it is one, usable or not).

    A record that reads the field as a float holds NaN where it was missing, and NOT_A_NUMBER,
    a NaN of other bits, where it held something else; null reads as None."""
    if type(value) is float and math.isnan(value):
        return WRONG_TYPE if struct.pack("<d", value) == _NOT_A_NUMBER_BITS else MISSING_FIELD
    if type(value) is int or type(value) is float:
        return None
    return MISSING_FIELD if value is MISSING else WRONG_TYPE
