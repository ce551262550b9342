"""Alert window sets (policy as data): `google-30d`, `google-28d`, or a YAML file of your own."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from slotail.config.load import Loader

_SOURCE_TREE = Path(__file__).resolve().parents[3] / "config" / "windows"


def _candidates(name: str, base_dir: Path | None) -> list[Path]:
    if "/" in name or name.endswith((".yaml", ".yml")):
        path = Path(name)
        return [path if path.is_absolute() or base_dir is None else base_dir / path]
    found = []
    if base_dir is not None:
        found.append(base_dir / "windows" / f"{name}.yaml")
    packaged = resources.files("slotail").joinpath("windows", f"{name}.yaml")
    found.append(Path(str(packaged)))
    found.append(_SOURCE_TREE / f"{name}.yaml")
    return found


def known_window_sets() -> list[str]:
    """Names of the window sets shipped with slotail."""
    names: set[str] = set()
    for folder in (Path(str(resources.files("slotail").joinpath("windows"))), _SOURCE_TREE):
        if folder.is_dir():
            names.update(p.stem for p in folder.glob("*.yaml"))
    return sorted(names)


def load_window_set(name: str, base_dir: Path | str | None = None) -> list[dict[str, Any]]:
    """The alert list of a window set, as raw mappings for the config model to validate."""
    base = Path(base_dir) if base_dir is not None else None
    for path in _candidates(name, base):
        if path.is_file():
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=Loader)
            alerts = data.get("alerts") if isinstance(data, dict) else None
            if not isinstance(alerts, list):
                raise ValueError(f"window set {path} has no `alerts:` list")
            return alerts
    known = ", ".join(known_window_sets()) or "none found"
    raise ValueError(f"unknown alert window set {name!r}; expected one of {known} or a YAML path")
