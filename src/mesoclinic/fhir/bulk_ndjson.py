"""NDJSON files of a bulk export: one file per resource type, one resource per line, written
as the export goes (never held in memory), in a `.part` folder renamed when the export is done.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import TracebackType
from typing import IO, Any

PART_SUFFIX = ".part"


class NdjsonWriter:
    """Appends resources to `<folder>.part/<Type>.ndjson`; `finish()` moves the folder into place.

    Leaving the `with` block by an exception removes the partial folder.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.part = folder.with_name(folder.name + PART_SUFFIX)
        self.counts: dict[str, int] = {}
        self._files: dict[str, IO[str]] = {}

    def __enter__(self) -> NdjsonWriter:
        shutil.rmtree(self.part, ignore_errors=True)
        self.part.mkdir(parents=True)
        return self

    def write(self, resource: dict[str, Any]) -> None:
        kind = resource["resourceType"]
        handle = self._files.get(kind)
        if handle is None:
            handle = self._files[kind] = (self.part / f"{kind}.ndjson").open("w", encoding="utf-8")
            self.counts[kind] = 0
        handle.write(json.dumps(resource, separators=(",", ":"), ensure_ascii=False))
        handle.write("\n")
        self.counts[kind] += 1

    def _close(self) -> None:
        for handle in self._files.values():
            handle.close()
        self._files.clear()

    def finish(self, order: tuple[str, ...]) -> list[dict[str, Any]]:
        """Close the files, move them into place; the manifest's output in `order` of types."""
        self._close()
        shutil.rmtree(self.folder, ignore_errors=True)
        self.part.rename(self.folder)
        return [
            {"type": kind, "file": f"{kind}.ndjson", "count": self.counts[kind]}
            for kind in order
            if kind in self.counts
        ]

    def abandon(self) -> None:
        self._close()
        shutil.rmtree(self.part, ignore_errors=True)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is not None:
            self.abandon()
        else:
            self._close()


def read_ndjson(path: Path) -> list[dict[str, Any]]:
    """Every resource of one NDJSON file (for imports and tests of small exports)."""
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
