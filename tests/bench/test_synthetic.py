"""Tests for drivercam.bench.synthetic."""

from __future__ import annotations

import pytest

from drivercam.bench.synthetic import parse_size

# -- statistics -------------------------------------------------------------------


def test_parse_size() -> None:
    assert parse_size("640x480") == (640, 480)
    assert parse_size("64X48") == (64, 48)
    for bad in ("640", "axb", "8x8", "640x"):
        with pytest.raises(ValueError, match="WIDTHxHEIGHT"):
            parse_size(bad)


# -- devices and machine ------------------------------------------------------------
