"""Load a YAML config: every problem reported at once, with key path and line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from slotail.config.expr import Problem
from slotail.config.model import Config, _duplicates, _raw_names
from slotail.config.windows import window_set_path
from slotail.errors import ConfigError, ConfigIssue

Loc = tuple[str | int, ...]
M = TypeVar("M", bound=BaseModel)
Prepare = Callable[[dict[str, Any]], list[Problem]]  # fills in raw data before validation; its problems
# libyaml's parser where PyYAML was built with it (its wheels are): the pure-Python one took 14 ms of
# every command's start-up to read the example config twice; libyaml reads it once in 1 ms.
Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def render_path(loc: Loc) -> str:
    """`('slos', 1, 'objective')` -> `slos[1].objective`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class _Lines:
    """Line numbers of every key and item in a YAML document, and its duplicate keys."""

    def __init__(self, root: yaml.Node | None) -> None:
        self.lines: dict[Loc, int] = {}
        self.duplicates: list[ConfigIssue] = []
        if root is not None:
            self._walk(root, ())

    def _walk(self, node: yaml.Node, loc: Loc) -> None:
        self.lines.setdefault(loc, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                child = (*loc, str(key.value))
                if child in self.lines:
                    self.duplicates.append(
                        ConfigIssue(render_path(child), key.start_mark.line + 1, "duplicate key")
                    )
                self.lines[child] = key.start_mark.line + 1
                self._walk(value, child)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                self._walk(item, (*loc, i))

    def line(self, loc: Loc) -> int | None:
        while loc not in self.lines and loc:
            loc = loc[:-1]
        return self.lines.get(loc)


def _model_at(loc: Loc, root: type[BaseModel]) -> type[BaseModel] | None:
    """The model class that holds the key at `loc` (to list what keys it accepts)."""
    model: Any = root
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part) if model is not None else None
        if field is None:
            return None
        model = _inner_model(field.annotation)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _inner_model(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _inner_model(arg)
        if found is not None:
            return found
    return None


def _message(error: Any, root: type[BaseModel]) -> str:
    kind, loc = error["type"], error["loc"]
    if kind == "extra_forbidden":
        model = _model_at(loc, root)
        keys = sorted(f.alias or n for n, f in model.model_fields.items()) if model else []
        return f"unknown key {loc[-1]!r}" + (f"; expected one of: {', '.join(keys)}" if keys else "")
    if kind == "missing":
        return "required key is missing"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def _clean_loc(loc: Loc) -> Loc:
    # pydantic adds the union member or validator name to some locations.
    return tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function-"))))


def _issues(exc: ValidationError, lines: _Lines, root: type[BaseModel]) -> list[ConfigIssue]:
    issues = []
    for error in exc.errors():
        loc = tuple("for" if p == "for_" else p for p in _clean_loc(error["loc"]))
        if "problems" in error.get("ctx", {}):  # located below `loc`: match expressions, duplicate names
            for sub, message in error["ctx"]["problems"]:
                full = (*loc, *sub)
                issues.append(ConfigIssue(render_path(full), lines.line(full), message))
            continue
        issues.append(ConfigIssue(render_path(loc), lines.line(loc), _message(error, root)))
    return issues


def _parse(text: str) -> tuple[yaml.Node | None, Any]:
    """A YAML document's node tree (for line numbers) and the data it holds, read once."""
    loader = Loader(text)
    try:
        root = loader.get_single_node()
        return root, None if root is None else loader.construct_document(root)
    finally:
        loader.dispose()


def load_config_text(text: str, source: str = "<config>", base_dir: Path | None = None) -> Config:
    """Validate YAML text into a Config, or raise ConfigError listing every problem."""
    return load_model_text(text, Config, source, lambda raw: with_window_sets(raw, base_dir))


def load_model_text(text: str, model: type[M], source: str, prepare: Prepare | None = None) -> M:
    """Validate YAML text into `model`, or raise ConfigError listing every problem with key path and line."""
    try:
        root, raw = _parse(text)
    except yaml.YAMLError as exc:
        raise ConfigError(
            source, [ConfigIssue("", _yaml_line(exc), f"not valid YAML: {_yaml_problem(exc)}")]
        ) from None
    lines = _Lines(root)
    if not isinstance(raw, dict):
        expected = "with at least `slos:`" if model is Config else "of keys"
        raise ConfigError(source, [ConfigIssue("", 1, f"expected a mapping {expected}")])
    issues = list(lines.duplicates)
    problems = prepare(raw) if prepare is not None else []
    issues += [ConfigIssue(render_path(loc), lines.line(loc), message) for loc, message in problems]
    try:
        config = model.model_validate(raw)
    except ValidationError as exc:
        issues.extend(_issues(exc, lines, model))
        config = None
    if issues or config is None:
        issues.sort(key=lambda i: (i.line or 0, i.path))
        raise ConfigError(source, issues)
    return config


def _yaml_line(exc: yaml.YAMLError) -> int | None:
    mark = getattr(exc, "problem_mark", None)
    return mark.line + 1 if mark is not None else None


def _yaml_problem(exc: yaml.YAMLError) -> str:
    return getattr(exc, "problem", None) or str(exc)


def with_window_sets(raw: dict[str, Any], base_dir: Path | None) -> list[Problem]:
    """Replace each `alerts: <window set>` (of the config and of its SLOs) by the set's alerts, in place;
    a set that cannot be loaded is left out and its problem returned, located at its `alerts` key."""
    problems: list[Problem] = []
    slos = raw.get("slos")
    holders: list[tuple[Loc, Any]] = [((), raw)]
    holders += [(("slos", i), slo) for i, slo in enumerate(slos)] if isinstance(slos, list) else []
    for loc, holder in holders:
        if isinstance(holder, dict) and isinstance(holder.get("alerts"), str):
            try:
                holder["alerts"] = load_window_set(holder["alerts"], base_dir)
            except ValueError as exc:
                problems.append(((*loc, "alerts"), str(exc)))
                del holder["alerts"]
    return problems


def load_window_set(name: str, base_dir: Path | str | None = None) -> list[dict[str, Any]]:
    """The alert list of a window set, as raw mappings for the config model to validate; or ValueError."""
    path = window_set_path(name, Path(base_dir) if base_dir is not None else None)
    try:
        data = _parse(path.read_text(encoding="utf-8"))[1]
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read window set {path}: {exc}") from None
    except yaml.YAMLError as exc:
        where = f" (its line {_yaml_line(exc)})" if _yaml_line(exc) else ""
        raise ValueError(f"window set {path} is not valid YAML: {_yaml_problem(exc)}{where}") from None
    alerts = data.get("alerts") if isinstance(data, dict) else None
    if not isinstance(alerts, list):
        raise ValueError(f"window set {path} has no `alerts:` list")
    for _, message in _duplicates(_raw_names(alerts), "alert"):  # its lines are not the config's
        raise ValueError(f"window set {name!r}: {message}")
    return alerts


def read_text(path: Path) -> str:
    """A config file's text, or ConfigError saying why it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), [ConfigIssue("", None, f"cannot read config: {exc}")]) from None


def load_config(path: str | Path) -> Config:
    """Read and validate a config file."""
    path = Path(path)
    return load_config_text(read_text(path), str(path), path.parent)
