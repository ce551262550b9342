"""Parse: raw line bytes -> JSON objects with an event time; bad lines counted by reason."""

from slotail.parse.lines import ParsedBatch, Parser

__all__ = ["ParsedBatch", "Parser"]
