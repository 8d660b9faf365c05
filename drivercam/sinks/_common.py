"""Context-manager plumbing and error wording shared by every sink."""

from __future__ import annotations

from drivercam._closing import Closing


class _SinkBase(Closing):
    """Context-manager plumbing shared by every sink."""


def _reason(exc: BaseException) -> str:
    strerror = getattr(exc, "strerror", None)
    return str(strerror) if strerror else str(exc)
