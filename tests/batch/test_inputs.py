"""Tests for drivercam.batch.inputs: files, folders, globs and lists of inputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from drivercam.batch.inputs import VideoInput, expand_inputs


def test_folders_globs_lists_and_urls(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    for name in ("a/x.mp4", "a/b/y.MKV", "a/b/notes.md", "z.avi"):
        (tmp_path / name).write_bytes(b"")
    listing = tmp_path / "list.txt"
    listing.write_text("# trips\nz.avi\n\nrtsp://cam.local/stream\na/x.mp4\n", encoding="utf-8")
    found = expand_inputs(["a", str(tmp_path / "*.avi"), str(listing)], base=tmp_path)
    specs = [v.spec for v in found]
    assert specs == [
        str(tmp_path / "a" / "b" / "y.MKV"),
        str(tmp_path / "a" / "x.mp4"),
        str(tmp_path / "z.avi"),
        "rtsp://cam.local/stream",
    ]  # each once, in order of first mention; notes.md is no video
    keys = [v.key for v in found]
    assert len(set(keys)) == 4 and keys[1].startswith("x-") and keys[3].startswith("stream-")


def test_same_name_in_two_folders_gets_two_keys() -> None:
    assert VideoInput.of("/d1/clip.mp4").key != VideoInput.of("/d2/clip.mp4").key
    assert VideoInput.of("/d1/clip.mp4") == VideoInput.of("/d1/clip.mp4")


def test_a_missing_file_is_kept_to_fail_alone_but_empty_matches_are_errors(tmp_path: Path) -> None:
    (missing,) = expand_inputs(["nope.mp4"], base=tmp_path)
    assert missing.spec == str(tmp_path / "nope.mp4")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds no videos"):
        expand_inputs(["empty"], base=tmp_path)
    with pytest.raises(ValueError, match="matches no videos"):
        expand_inputs(["*.mp4"], base=tmp_path)
