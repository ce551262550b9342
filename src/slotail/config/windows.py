"""Alert window sets (policy as data): `google-30d`, `google-28d`, or a YAML file of your own."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

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


def window_set_path(name: str, base_dir: Path | None = None) -> Path:
    """The file of a window set named in a config (in `base_dir`'s `windows/`, or shipped), or ValueError."""
    for path in _candidates(name, base_dir):
        if path.is_file():
            return path
    known = ", ".join(known_window_sets()) or "none found"
    raise ValueError(f"unknown alert window set {name!r}; expected one of {known} or a YAML path")
