"""Manifests for bulk archive additions (``firstseen archive import FOLDER --manifest FILE``).

Part of archive. A manifest is CSV (a header row) or JSON (a list of objects, or ``{"items": [...]}``) with a
``file`` column naming a file in the folder and the provenance of each (``MANIFEST_FIELDS``). It is checked
whole before anything is added: an unknown field, a missing file or a bad link in any row refuses it all.
``Pipeline.archive_import`` adds the entries.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from service.errors import BadInput
from service.models import ArchiveMetadata

__all__ = ["MANIFEST_FIELDS", "ManifestEntry", "read_manifest"]

MANIFEST_FIELDS = ("file", "title", "published", "location", "event", "source_url", "notes",
                   "factcheck_url", "platform", "uploader")


@dataclass(frozen=True)
class ManifestEntry:
    """One row: the file to add and its provenance."""

    path: Path
    meta: ArchiveMetadata


def read_manifest(folder: Path, manifest: Path) -> list[ManifestEntry]:
    """Every row of ``manifest`` with its file in ``folder``; BadInput naming the first problem."""
    rows = _rows(manifest)
    missing = [r["file"] for r in rows if not (folder / r["file"]).is_file()]
    if missing:
        raise BadInput(f"manifest lists files not in {folder}: {', '.join(missing[:5])}")
    entries = []
    for row in rows:
        try:
            meta = ArchiveMetadata(**{k: row.get(k) or None for k in MANIFEST_FIELDS if k != "file"})
        except BadInput as exc:
            raise BadInput(f"manifest row {row['file']}: {exc}") from None
        entries.append(ManifestEntry(folder / row["file"], meta))
    return entries


def _rows(path: Path) -> list[dict[str, str]]:
    if not path.is_file():
        raise BadInput(f"no such manifest: {path}")
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(path.read_text())
            rows = data["items"] if isinstance(data, dict) else data
        else:
            with path.open(newline="") as fh:
                rows = list(csv.DictReader(fh))
    except (json.JSONDecodeError, KeyError, csv.Error, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read manifest {path.name}: {exc}") from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise BadInput(f"manifest {path.name} must be a list of objects")
    for n, row in enumerate(rows, 1):
        if not row.get("file"):
            raise BadInput(f"manifest {path.name} row {n} has no 'file'")
        unknown = set(row) - set(MANIFEST_FIELDS)
        if unknown:
            raise BadInput(f"manifest {path.name} row {n} has unknown field(s): {', '.join(sorted(unknown))}")
    return rows
