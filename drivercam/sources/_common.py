"""Context-manager plumbing shared by every frame source."""

from __future__ import annotations

from drivercam._closing import Closing


class _SourceBase(Closing):
    """Context-manager plumbing shared by every source."""
