"""Tests for drivercam.model.classes: a class named by index, class id or label."""

from __future__ import annotations

import pytest

from drivercam.model.classes import resolve_class

LABELS = ("safe", "texting", "phone")


def test_resolve_class_by_index_id_or_label() -> None:
    ids, labels = ("c0", "c1", "c2"), ("safe driving", "texting", "Drinking")
    assert resolve_class("2", labels, ids) == 2
    assert resolve_class(1, labels, ids) == 1
    assert resolve_class("C1", labels, ids) == 1
    assert resolve_class("drinking", labels, ids) == 2
    with pytest.raises(ValueError, match=r"'3' is not a class of this model; choose one of 0=c0 \(safe driving\)"):
        resolve_class("3", labels, ids)
    with pytest.raises(ValueError, match="yawning"):
        resolve_class("yawning", labels, ids)
