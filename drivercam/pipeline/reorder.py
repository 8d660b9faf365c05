"""Put batches that finish out of order back in frame order, and know where the stream ends."""

from __future__ import annotations

from collections import deque

from drivercam.pipeline.messages import Done, End
from drivercam.types import Result


class Reorderer:
    """Collects :class:`Done` batches numbered by their first frame and releases results in order.

    With several inference threads a later batch can finish first; its results
    wait here until every frame before it has been released. An :class:`End`
    says after how many frames the stream ends (or fails); the earliest one wins.
    """

    def __init__(self) -> None:
        self._pending: dict[int, list[Result]] = {}
        self._ready: deque[Result] = deque()
        self._released = 0  # results handed out by pop()
        self.end: End | None = None

    def receive(self, item: Done | End) -> None:
        """File a batch's results, releasing those now in frame order, or note where the stream ends."""
        if isinstance(item, End):
            if self.end is None or item.seq < self.end.seq:
                self.end = item
            return
        self._pending[item.seq] = item.results
        expected = self._released + len(self._ready)
        while expected in self._pending:
            batch = self._pending.pop(expected)
            self._ready.extend(batch)
            expected += len(batch)

    @property
    def has_ready(self) -> bool:
        """Whether the next result in frame order is here."""
        return bool(self._ready)

    @property
    def ended(self) -> bool:
        """Whether every result before the end of the stream has been handed out."""
        return self.end is not None and self._released >= self.end.seq

    def pop(self) -> Result:
        """The next result in frame order (check :attr:`has_ready` first)."""
        result = self._ready.popleft()
        self._released += 1
        return result
