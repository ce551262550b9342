"""Spec files read as YAML streams: each object with where it is (file, document, lines) and its checks."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar, cast

import yaml
from pydantic import BaseModel, ValidationError

from slotail.config.load import Loader, Loc, _issues, _Lines, render_path
from slotail.errors import SlotailError

M = TypeVar("M", bound=BaseModel)


class Lines(Protocol):
    """Line numbers by key path."""

    def line(self, loc: Loc) -> int | None: ...


@dataclass(frozen=True)
class Fixed:
    """One line for every key path: where a YAML error is."""

    at: int | None = None

    def line(self, loc: Loc) -> int | None:
        return self.at


@dataclass(frozen=True)
class Where:
    """One object of a spec file: its file, document (from 1), item of a list document, kind and name."""

    file: str
    document: int
    lines: Lines = field(repr=False, compare=False)
    item: int | None = None
    kind: str = ""
    name: str = ""

    def named(self, kind: str, name: str) -> Where:
        return Where(self.file, self.document, self.lines, self.item, kind, name)

    def line(self, loc: Loc) -> int | None:
        return self.lines.line(loc)

    def __str__(self) -> str:
        if not self.document:  # a file of one document, like a slotail config
            return ""
        item = f" item {self.item}" if self.item is not None else ""
        what = f" ({self.kind} {self.name})" if self.kind else ""
        return f"document {self.document}{item}{what}"


@dataclass(frozen=True)
class Note:
    """Something a spec says that slotail cannot (or a mistake in it): where, which field, what."""

    where: Where
    loc: Loc
    message: str
    slo: str = ""  # the slotail SLO it concerns, when there is one

    def __str__(self) -> str:
        line = self.where.line(self.loc)
        at = f"{self.where.file}:{line}" if line is not None else self.where.file
        what = " → ".join(filter(None, (str(self.where), self.slo and f"SLO {self.slo}")))
        return ": ".join(filter(None, (at, what, render_path(self.loc), self.message)))


class Notes(list[Note]):
    """The notes of one import or export, in the order they were found."""

    def add(self, where: Where, loc: Loc, message: str, slo: str = "") -> None:
        note = Note(where, loc, message, slo)
        if note not in self:  # an object referred to twice is noted once
            self.append(note)


class SpecError(SlotailError, ValueError):
    """Spec files that cannot be read: every mistake found, one line each."""

    exit_code = 2

    def __init__(self, notes: list[Note]) -> None:
        self.notes = notes
        super().__init__("\n".join([f"{len(notes)} problem(s) in the specs", *(f"  {n}" for n in notes)]))


@dataclass(frozen=True)
class Document:
    """One object of a spec file as YAML data, and where it is."""

    where: Where
    data: Any

    def validate(self, model: type[M]) -> M:
        """The object as `model`, or SpecError naming each problem's key path and line."""
        try:
            return model.model_validate(self.data)
        except ValidationError as exc:
            issues = _issues(exc, cast(_Lines, self.where.lines), model)  # it only asks for lines
            raise SpecError([Note(self.where, loc_of(i.path), i.message) for i in issues]) from None


def loc_of(path: str) -> Loc:
    """`spec.objectives[0].target` -> ('spec', 'objectives', 0, 'target')."""
    loc: list[str | int] = []
    for part in path.replace("[", ".[").split("."):
        if part.startswith("[") and part.endswith("]") and part[1:-1].isdigit():
            loc.append(int(part[1:-1]))
        elif part:
            loc.append(part)
    return tuple(loc)


def read_documents(path: Path) -> list[Document]:
    """Every object of a YAML stream: each document, or each item of a document that is a list."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError([Note(Where(str(path), 0, Fixed()), (), f"cannot read: {exc}")]) from None
    loader = Loader(text)
    found: list[Document] = []
    number = 0
    try:
        while loader.check_node():
            number += 1
            node = loader.get_node()
            found += _objects(str(path), number, node, loader.construct_document(node))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = Where(str(path), number, Fixed(mark.line + 1 if mark is not None else None))
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError([Note(where, (), f"not valid YAML: {problem}")]) from None
    finally:
        loader.dispose()
    return found


def _objects(file: str, number: int, node: yaml.Node | None, data: Any) -> list[Document]:
    if node is None or data is None:
        return []
    if isinstance(node, yaml.SequenceNode) and isinstance(data, list):
        return [
            Document(Where(file, number, _Lines(item), i), value)
            for i, (item, value) in enumerate(zip(node.value, data, strict=True))
        ]
    return [Document(Where(file, number, _Lines(node)), data)]
