"""Turn ``drivercam batch`` inputs (files, folders, globs, lists of paths or URLs) into videos to process."""

from __future__ import annotations

import glob
import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["VIDEO_SUFFIXES", "LIST_SUFFIXES", "VideoInput", "expand_inputs"]

VIDEO_SUFFIXES = frozenset({".mp4", ".mov", ".mkv", ".avi", ".m4v", ".webm", ".ts", ".mts", ".mpg", ".mpeg", ".flv"})
"""File endings taken as videos when searching a folder or a glob."""

LIST_SUFFIXES = frozenset({".txt", ".lst", ".list"})
"""File endings read as a list of inputs, one path or URL a line (``#`` starts a comment)."""

_URL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True)
class VideoInput:
    """One video of a batch.

    Attributes:
        spec: what FFmpeg opens: an absolute path, or a URL as given.
        key: a stable folder name for its outputs: the file's stem and a hash
            of ``spec``, so two ``clip.mp4`` in different folders do not collide.
    """

    spec: str
    key: str

    def __post_init__(self) -> None:
        if not self.spec:
            raise ValueError("spec must name a video file or URL, got ''")
        if not self.key or "/" in self.key or self.key.startswith("."):
            raise ValueError(f"key must be a plain folder name, got {self.key!r}")

    @classmethod
    def of(cls, spec: str) -> VideoInput:
        """The input for ``spec``, with its key."""
        name = spec.rstrip("/").rsplit("/", 1)[-1].split("?", 1)[0]
        stem = _UNSAFE.sub("_", os.path.splitext(name)[0]).strip("._")[:48] or "video"
        digest = hashlib.sha1(spec.encode("utf-8")).hexdigest()[:8]
        return cls(spec, f"{stem}-{digest}")


def _is_url(text: str) -> bool:
    return bool(_URL_RE.match(text)) and not text.lower().startswith("file://")


def _videos_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES)


def expand_inputs(items: Iterable[str], *, base: Path | None = None) -> list[VideoInput]:
    """Every video named by ``items``, in order, each once.

    * a URL (``rtsp://``, ``https://``, ...) is kept as given;
    * a folder is searched recursively for :data:`VIDEO_SUFFIXES` files;
    * a ``.txt``/``.lst``/``.list`` file lists inputs, one a line, relative to its folder;
    * a glob (``'trips/**/*.mp4'``) is expanded (recursively);
    * any other path is taken as a video file, even without a video ending.

    Raises:
        ValueError: an input matches nothing; the message names it.
    """
    base = Path.cwd() if base is None else base
    out: dict[str, VideoInput] = {}

    def add(spec: str) -> None:
        out.setdefault(spec, VideoInput.of(spec))

    def visit(text: str, where: Path, depth: int) -> None:
        text = text.strip()
        if _is_url(text):
            add(text)
            return
        if text.lower().startswith("file://"):
            text = text[len("file://") :]
        path = Path(text).expanduser()
        path = path if path.is_absolute() else where / path
        if path.is_dir():
            found = _videos_under(path)
            if not found:
                raise ValueError(f"folder {text!r} holds no videos ({', '.join(sorted(VIDEO_SUFFIXES))})")
            for p in found:
                add(str(p.resolve()))
        elif path.is_file() and path.suffix.lower() in LIST_SUFFIXES:
            if depth > 4:
                raise ValueError(f"list file {text!r} is nested more than 4 deep; do lists name each other in a loop?")
            lines = path.read_text(encoding="utf-8").splitlines()
            for line in lines:
                line = line.strip()
                if line and not line.startswith("#"):
                    visit(line, path.parent, depth + 1)
        elif path.is_file():
            add(str(path.resolve()))
        elif any(ch in text for ch in "*?["):
            pattern = str(path)
            matches = sorted(Path(m) for m in glob.glob(pattern, recursive=True))
            videos = [m for m in matches if m.is_file() and m.suffix.lower() in VIDEO_SUFFIXES]
            if not videos:
                raise ValueError(f"glob {text!r} matches no videos; quote it so the shell does not expand it")
            for p in videos:
                add(str(p.resolve()))
        else:
            # Not found: kept, so it is reported as one failed video and the others go on.
            add(str(path))

    for item in items:
        visit(item, base, 0)
    if not out:
        raise ValueError("no inputs given; name video files, folders, globs or a .txt list of them")
    return list(out.values())
