"""The batch folder's manifest: an append-only JSON-lines record of finished work.

Each line is written whole, flushed and synced after the files it names are
complete under their final names, so after a crash, a Ctrl-C or a ``kill -9``
the manifest never claims more than what is on disk. A rerun reads it back,
skips the finished videos and chunks, and appends; the last line about a video
wins (a video that failed may succeed on a rerun). A line cut short by a kill
is dropped, and the file cut back to its last whole line.

Lines: ``{"kind": "settings", ...}`` first (what the batch computes; a rerun
with other settings is refused), ``{"kind": "chunk", "video": KEY, "chunk": I,
"file": PATH}`` per finished chunk of a long video, ``{"kind": "video", ...}``
with the video's summary row once its logs are complete.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import IO, Any

from drivercam._closing import Closing

__all__ = ["MANIFEST", "Manifest"]

logger = logging.getLogger(__name__)

MANIFEST = "manifest.jsonl"


class Manifest(Closing):
    """Open (or create) ``folder/manifest.jsonl`` and read what is already done.

    Args:
        folder: the batch's output folder.
        settings: the batch's settings fingerprint (JSON-ready).

    Raises:
        ValueError: the folder holds a batch made with other settings.
    """

    def __init__(self, folder: Path, settings: dict[str, Any]) -> None:
        self.path = folder / MANIFEST
        self.videos: dict[str, dict[str, Any]] = {}
        self.chunks: dict[str, dict[int, str]] = {}
        stored: dict[str, Any] | None = None
        if self.path.exists():
            stored = self._read()
        if stored is not None and stored != settings:
            changed = sorted(k for k in set(stored) | set(settings) if stored.get(k) != settings.get(k))
            raise ValueError(
                f"{folder} holds a batch made with other settings ({', '.join(changed)} differ); "
                "rerun with the same options, or give another -o folder"
            )
        self._file: IO[str] | None = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed by close()
        if stored is None:
            self.append({"kind": "settings", **settings})

    def _read(self) -> dict[str, Any] | None:
        data = self.path.read_bytes()
        good = data.rfind(b"\n") + 1
        if good < len(data):
            logger.warning("%s: dropping a line cut short by an interrupted run", self.path)
            with open(self.path, "r+b") as f:
                f.truncate(good)
        settings: dict[str, Any] | None = None
        for n, line in enumerate(data[:good].decode("utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{self.path}:{n} is not JSON ({error}); delete the line or the folder") from error
            kind = rec.pop("kind", None)
            if kind == "settings":
                settings = rec
            elif kind == "video":
                self.videos[rec["video"]] = rec
                self.chunks.pop(rec["video"], None)
            elif kind == "chunk":
                self.chunks.setdefault(rec["video"], {})[int(rec["chunk"])] = rec["file"]
        return settings

    def append(self, record: dict[str, Any]) -> None:
        """Write one record as one line, and make it durable before returning."""
        if self._file is None:
            raise ValueError(f"manifest {self.path} is closed")
        self._file.write(json.dumps(record, separators=(",", ":"), allow_nan=False) + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        if record.get("kind") == "video":
            row = {k: v for k, v in record.items() if k != "kind"}
            self.videos[row["video"]] = row
            self.chunks.pop(row["video"], None)
        elif record.get("kind") == "chunk":
            self.chunks.setdefault(record["video"], {})[int(record["chunk"])] = record["file"]

    def done(self, key: str) -> bool:
        """Whether the video finished ``ok`` (a failed one is tried again)."""
        return self.videos.get(key, {}).get("status") == "ok"

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
