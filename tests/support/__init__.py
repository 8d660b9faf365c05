"""Helpers shared by the test modules: fakes, media writers, tiny models, readers of outputs."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
"""The repository checkout the tests run in."""
