"""Context-manager plumbing shared by every sink."""

from __future__ import annotations

from drivercam._closing import Closing


class _SinkBase(Closing):
    """Context-manager plumbing shared by every sink."""
