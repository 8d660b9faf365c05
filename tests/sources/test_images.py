"""Tests for drivercam.sources.images: image folders and globs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support import media
from support.decoding import read_all

from drivercam.errors import SourceError
from drivercam.sources import (
    ImageFolderSource,
    natural_key,
)

# --------------------------------------------------------------------------- video files


def test_image_folder_natural_order_and_sources(tmp_path: Path) -> None:
    paths = media.write_image_folder(tmp_path / "imgs", count=12)  # img_1 .. img_12
    (tmp_path / "imgs" / "readme.txt").write_text("not an image")
    with ImageFolderSource(tmp_path / "imgs", fps=10) as source:
        assert source.frame_count == 12 and not source.is_live and source.fps == 10
        frames = read_all(source)
    assert [f.source for f in frames] == [str(p) for p in paths]
    assert [Path(f.source or "").name for f in frames][:3] == ["img_1.png", "img_2.png", "img_3.png"]
    assert [media.frame_index_of(f.image) for f in frames] == list(range(12))
    np.testing.assert_allclose([f.time_s for f in frames], np.arange(12) / 10)


def test_natural_key_orders_numbers_numerically() -> None:
    names = ["img_10.jpg", "img_2.jpg", "IMG_1.jpg", "img_2b.jpg"]
    assert sorted(names, key=natural_key) == ["IMG_1.jpg", "img_2.jpg", "img_2b.jpg", "img_10.jpg"]


def test_image_glob_mixed_sizes_and_unreadable_skipped(tmp_path: Path) -> None:
    media.write_image_folder(tmp_path, count=2, width=64, height=48, ext="jpg", prefix="a_")
    media.write_image_folder(tmp_path, count=1, width=32, height=32, ext="png", prefix="b_")
    (tmp_path / "a_3.jpg").write_bytes(b"broken jpeg")
    with ImageFolderSource(str(tmp_path / "*_*.*")) as source:
        frames = read_all(source)
        assert [p.name for p in source.skipped] == ["a_3.jpg"]
    assert [Path(f.source or "").name for f in frames] == ["a_1.jpg", "a_2.jpg", "b_1.png"]
    assert [f.index for f in frames] == [0, 1, 2]
    assert frames[2].image.shape == (32, 32, 3)


def test_empty_folder_and_glob_matching_nothing(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match=r"folder '.*' has no images \(.bmp .jpeg .jpg .png .webp\)"):
        ImageFolderSource(tmp_path)
    with pytest.raises(SourceError, match=r"glob '.*\*\.jpg' has no images"):
        ImageFolderSource(str(tmp_path / "*.jpg"))


# --------------------------------------------------------------------------- pacing
