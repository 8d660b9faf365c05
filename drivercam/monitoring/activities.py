"""Activities inside an episode: runs of the most probable distraction class, and the rule that merges short ones.

Consecutive frames with the same activity form a run, which lasts from its
first frame's time to the next run's first frame. Runs shorter than the
minimum are merged away one at a time: the shortest of them (the earlier on
ties) is absorbed by the longer of its two neighbours (the earlier on ties; at
either end, by its only neighbour), taking that neighbour's class, and
neighbours that now share a class join. This stops when every run lasts at
least the minimum or one run is left.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Run", "joined", "merge_runs"]

# As in the episode rule: frame times such as i / 15 are not exact in binary.
_EPS_S = 1e-6


@dataclass
class Run:
    """Consecutive frames with the same activity class, before merging."""

    class_index: int
    start_time_s: float
    frames: int
    prob_sums: np.ndarray  # (C,) smoothed probabilities summed over the frames

    def copy(self) -> Run:
        return Run(self.class_index, self.start_time_s, self.frames, self.prob_sums.copy())


def joined(first: list[Run], second: list[Run]) -> list[Run]:
    """``first`` then ``second`` (copied), the two runs at the seam joined when they share a class."""
    out = [run.copy() for run in first]
    for run in second:
        if out and out[-1].class_index == run.class_index:
            out[-1].frames += run.frames
            out[-1].prob_sums += run.prob_sums
        else:
            out.append(run.copy())
    return out


def merge_runs(
    runs: Sequence[tuple[int, float, float]], min_duration_s: float
) -> list[tuple[int, float, float, list[int]]]:
    """Merge runs shorter than ``min_duration_s`` into their neighbours (the rule in the module docs).

    Neighbouring runs of the same class count as one. A heap keeps the
    shortest run at hand, so an hour-long episode with thousands of runs costs
    milliseconds, not seconds.

    Args:
        runs: ``(class_index, start_time_s, end_time_s)`` in time order, each
            starting where the previous one ends.
        min_duration_s: the shortest run kept on its own.

    Returns:
        ``(class_index, start_time_s, end_time_s, members)`` in time order,
        ``members`` being the indices into ``runs`` that each one covers.
    """
    cls: list[int] = []
    start: list[float] = []
    end: list[float] = []
    members: list[list[int]] = []
    for i, (c, a, b) in enumerate(runs):
        if cls and cls[-1] == c:
            end[-1] = b
            members[-1].append(i)
        else:
            cls.append(c)
            start.append(a)
            end.append(b)
            members.append([i])
    n = len(cls)
    # Survivors keep their index, so index order is time order (the tie-break).
    prev = list(range(-1, n - 1))
    nxt = [*range(1, n), -1]
    alive = [True] * n
    version = [0] * n
    heap = [(end[i] - start[i], i, 0) for i in range(n)]
    heapq.heapify(heap)
    left = n

    def absorb(into: int, gone: int) -> None:
        nonlocal left
        start[into], end[into] = min(start[into], start[gone]), max(end[into], end[gone])
        members[into] = members[gone] + members[into] if gone < into else members[into] + members[gone]
        alive[gone] = False
        left -= 1
        p, q = prev[gone], nxt[gone]
        if p != -1:
            nxt[p] = q
        if q != -1:
            prev[q] = p

    while heap and left > 1:
        duration, k, seen = heapq.heappop(heap)
        if not alive[k] or seen != version[k]:
            continue  # a stale entry: the run has grown or gone since
        if duration + _EPS_S >= min_duration_s:
            break
        p, q = prev[k], nxt[k]
        if p == -1:
            j = q
        elif q == -1:
            j = p
        else:  # the longer neighbour, the earlier on ties
            j = p if end[p] - start[p] >= end[q] - start[q] else q
        other = q if j == p else p  # the run beyond k, now next to j
        absorb(j, k)
        if other != -1 and cls[other] == cls[j]:
            absorb(j, other)
        version[j] += 1
        heapq.heappush(heap, (end[j] - start[j], j, version[j]))
    return [(cls[i], start[i], end[i], members[i]) for i in range(n) if alive[i]]
