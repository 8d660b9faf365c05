"""What every frame source shares: context-manager support and the optional facts' defaults."""

from __future__ import annotations

from drivercam._closing import Closing


class _SourceBase(Closing):
    """Context-manager support, and None for what a source does not know.

    Sources that know their frame size before the first frame, carry audio, or
    record a problem instead of raising set these (see
    :class:`~drivercam.types.FrameSource`).
    """

    @property
    def width(self) -> int | None:
        """Frame width when known before the first frame."""
        return None

    @property
    def height(self) -> int | None:
        """Frame height when known before the first frame."""
        return None

    @property
    def audio_path(self) -> str | None:
        """A file whose audio track belongs with these frames."""
        return None

    def interrupt(self) -> None:
        """Make a wait in :meth:`read` (on any thread) end at once; a no-op for sources that never wait long."""

    @property
    def error(self) -> str | None:
        """A problem recorded instead of raised; None when the stream ended normally."""
        return None
