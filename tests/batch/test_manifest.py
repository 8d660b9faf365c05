"""Tests for drivercam.batch.manifest: what a rerun reads back after a kill."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivercam.batch.manifest import Manifest

SETTINGS = {"sample_fps": None, "model_sha256": "abc"}


def test_records_read_back_and_a_line_cut_by_a_kill_is_dropped(tmp_path: Path) -> None:
    with Manifest(tmp_path, SETTINGS) as m:
        m.append({"kind": "chunk", "video": "a", "chunk": 0, "file": "a/chunks/chunk_0000.npz"})
        m.append({"kind": "video", "video": "b", "status": "failed", "error": "x"})
        m.append({"kind": "chunk", "video": "c", "chunk": 1, "file": "c/chunks/chunk_0001.npz"})
        m.append({"kind": "video", "video": "c", "status": "ok"})
    path = tmp_path / "manifest.jsonl"
    with open(path, "a", encoding="utf-8") as f:
        f.write('{"kind":"video","video":"a","sta')  # the kill came mid-line
    with Manifest(tmp_path, SETTINGS) as m:
        assert m.chunks == {"a": {0: "a/chunks/chunk_0000.npz"}}  # c's chunks are gone with c done
        assert not m.done("a") and not m.done("b") and m.done("c")
        m.append({"kind": "video", "video": "b", "status": "ok"})  # a failed video done on a rerun
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[-1] == '{"kind":"video","video":"b","status":"ok"}' and len(lines) == 6  # settings once
    assert Manifest(tmp_path, SETTINGS).done("b")


def test_other_settings_are_refused(tmp_path: Path) -> None:
    Manifest(tmp_path, SETTINGS).close()
    with pytest.raises(ValueError, match=r"other settings \(model_sha256 differ\); rerun with the same options"):
        Manifest(tmp_path, {**SETTINGS, "model_sha256": "def"})
