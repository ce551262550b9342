"""`slotail import`: OpenSLO v1 and Sloth prometheus/v1 spec files into one slotail config."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from slotail.config.load import Loader, _Lines, load_config_text
from slotail.errors import ConfigError
from slotail.interop.documents import Document, Fixed, Note, Notes, SpecError, Where, loc_of, read_documents
from slotail.interop.newconfig import NewSLO, config_data
from slotail.interop.openslo_in import Catalog, OpenSLOImport
from slotail.interop.openslo_spec import API_VERSION, KINDS, SLO, Object
from slotail.interop.shared import UniqueNames, dump_yaml
from slotail.interop.sloth_in import import_sloth
from slotail.interop.sloth_spec import VERSION, SlothSpec


@dataclass(frozen=True)
class Imported:
    """The config's YAML text, and every note on what did not carry over."""

    text: str
    notes: list[Note]
    slos: int
    placeholders: int  # SLIs to fill in


def import_specs(paths: list[Path]) -> Imported:
    """Read every spec file, or raise SpecError listing every mistake in them."""
    objects: list[tuple[Object | SlothSpec, Where]] = []
    errors: list[Note] = []
    for path in paths:
        try:
            documents = read_documents(path)
        except SpecError as exc:
            errors += exc.notes
            continue
        for document in documents:
            try:
                objects.append(_typed(document))
            except SpecError as exc:
                errors += exc.notes
    if errors:
        raise SpecError(errors)
    return _convert(objects, [str(p) for p in paths])


def _typed(document: Document) -> tuple[Object | SlothSpec, Where]:
    """The document as an OpenSLO object or a Sloth spec, named for the notes about it."""
    data, where = document.data, document.where
    if not isinstance(data, dict):
        raise SpecError([Note(where, (), "expected a mapping: an OpenSLO object or a Sloth spec")])
    if "version" in data and "apiVersion" not in data:
        named = Document(where.named("Sloth spec", str(data.get("service", ""))), data)
        return named.validate(SlothSpec), named.where
    api, kind = data.get("apiVersion"), data.get("kind")
    if api != API_VERSION:
        message = f"expected apiVersion {API_VERSION} (or a Sloth spec, version: {VERSION}); got {api!r}"
        raise SpecError([Note(where, ("apiVersion",), message)])
    if kind not in KINDS:
        message = f"expected a kind of {', '.join(KINDS)}; got {kind!r}"
        raise SpecError([Note(where, ("kind",), message)])
    metadata = data.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    named = Document(where.named(str(kind), str(name or "")), data)
    return named.validate(KINDS[kind]), named.where


def _convert(objects: list[tuple[Object | SlothSpec, Where]], files: list[str]) -> Imported:
    notes, names, catalog = Notes(), UniqueNames(), Catalog()
    for obj, where in objects:
        if isinstance(obj, Object):
            catalog.add(obj, where)
    openslo = OpenSLOImport(catalog, names, notes)
    openslo.services()
    slos: list[NewSLO] = []
    for obj, where in objects:  # in the order read, whatever the spec
        if isinstance(obj, SlothSpec):
            slos += import_sloth(obj, where, names, notes)
        elif isinstance(obj, SLO):
            slos += openslo.slo(obj, where)
    openslo.unused()
    if catalog.errors:
        raise SpecError(catalog.errors)
    if not slos:
        raise SpecError([Note(Where(", ".join(files), 0, Fixed()), (), "no SLO found to import")])
    placeholders = sum(slo.placeholder for slo in slos)
    text = _header(files, placeholders) + dump_yaml([config_data(openslo.top, slos)])
    return Imported(text, [*notes, *_unfinished(text)], len(slos), placeholders)


def _header(files: list[str], placeholders: int) -> str:
    lines = [f"# slotail config written by `slotail import` from {', '.join(files)}."]
    if placeholders:
        lines += [
            f"# {placeholders} SLI(s) are placeholders (`sli: {{placeholder: ...}}`, holding the query they",
            "# came from): replace each with log matchers, events and bad (or events and latency.field for",
            "# a latency SLI); `slotail check` lists them until then.",
        ]
    return "\n".join(lines) + "\n\n"


def _unfinished(text: str) -> list[Note]:
    """What `slotail check` will say of the config besides its placeholders."""
    try:
        load_config_text(text, "<imported config>")
    except ConfigError as exc:
        root: Any = yaml.compose(text, Loader=Loader)
        where = Where("<imported config>", 1, _Lines(root))
        return [
            Note(where, loc_of(issue.path), f"the config will need this fixed too: {issue.message}")
            for issue in exc.issues
            if not issue.path.endswith(".sli.placeholder")
        ]
    return []
