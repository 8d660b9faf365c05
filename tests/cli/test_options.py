"""Tests for drivercam.cli.options: overlay options from the command line."""

from __future__ import annotations

import argparse

import pytest

from drivercam.cli.options import common_options, overlay_options


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(parents=[common_options()])
    return parser.parse_args(list(argv))


def test_heatmap_style_defaults_to_evidence_and_can_be_full() -> None:
    assert overlay_options(_parse()).heatmap_style == "evidence"
    options = overlay_options(_parse("--heatmap-style", "full", "--alpha", "0.3", "--colormap", "Turbo"))
    assert (options.heatmap_style, options.alpha, options.colormap) == ("full", 0.3, "turbo")
    with pytest.raises(SystemExit):
        _parse("--heatmap-style", "soft")
