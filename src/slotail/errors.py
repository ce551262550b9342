"""Every exception slotail raises on purpose, in one place."""

from __future__ import annotations

import msgspec


class SlotailError(Exception):
    """Base of slotail's own errors; the CLI prints these without a traceback."""

    exit_code = 1


class ConfigIssue(msgspec.Struct, frozen=True):
    """One problem in a config file: where it is and what was expected."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{self.path or '<root>'}: {self.message}"


class ConfigError(SlotailError, ValueError):
    """The config cannot be used; carries every issue found."""

    exit_code = 2

    def __init__(self, source: str, issues: list[ConfigIssue]) -> None:
        self.source = source
        self.issues = issues
        super().__init__(self.render())

    def render(self) -> str:
        head = f"{self.source}: {len(self.issues)} problem(s) in config"
        return "\n".join([head, *(f"  {issue}" for issue in self.issues)])


class SourceError(SlotailError, OSError):
    """A log file cannot be opened or read."""

    exit_code = 2


class UsageError(SlotailError, ValueError):
    """A command-line argument is not usable."""

    exit_code = 2
