"""Tests for drivercam.monitoring.activities: merging short activity runs into their neighbours."""

from __future__ import annotations

import numpy as np

from drivercam.monitoring.activities import merge_runs


def test_merge_runs_absorbs_short_runs_into_the_longer_neighbour() -> None:
    # C (0.2 s) goes to the longer neighbour A (2.4 s > 0.4 s); then B (0.4 s) sits
    # between A (3 s) and A (2.6 s), goes to the earlier, and the two A runs join.
    runs = [(1, 0.0, 3.0), (2, 3.0, 3.4), (3, 3.4, 3.6), (1, 3.6, 6.0)]
    assert merge_runs(runs, 1.0) == [(1, 0.0, 6.0, [0, 1, 2, 3])]
    # Equal neighbours: the earlier one takes it.
    assert merge_runs([(1, 0.0, 2.0), (2, 2.0, 2.5), (3, 2.5, 4.5)], 1.0) == [
        (1, 0.0, 2.5, [0, 1]),
        (3, 2.5, 4.5, [2]),
    ]
    # At either end, the only neighbour; a lone short run stays; 0 keeps every run.
    assert merge_runs([(4, 0.0, 0.5), (1, 0.5, 2.0)], 1.0) == [(1, 0.0, 2.0, [0, 1])]
    assert merge_runs([(1, 0.0, 2.0), (4, 2.0, 2.5)], 1.0) == [(1, 0.0, 2.5, [0, 1])]
    assert merge_runs([(4, 0.0, 0.5)], 1.0) == [(4, 0.0, 0.5, [0])]
    assert merge_runs(runs, 0.0) == [(c, a, b, [i]) for i, (c, a, b) in enumerate(runs)]
    # The shortest goes first: B (0.3 s) before C (0.6 s), so C then joins A, not B.
    assert merge_runs([(1, 0.0, 5.0), (2, 5.0, 5.3), (3, 5.3, 5.9), (1, 5.9, 7.0)], 1.0) == [
        (1, 0.0, 7.0, [0, 1, 2, 3])
    ]


def _merge_reference(runs: list[tuple[int, float, float]], min_s: float) -> list[tuple[int, float, float, list[int]]]:
    """The rule, step by step as the module docs state it, on a plain list."""

    def join(items: list[tuple[int, float, float, list[int]]]) -> list[tuple[int, float, float, list[int]]]:
        out: list[tuple[int, float, float, list[int]]] = []
        for item in items:
            if out and out[-1][0] == item[0]:
                out[-1] = (item[0], out[-1][1], item[2], out[-1][3] + item[3])
            else:
                out.append(item)
        return out

    items = join([(c, a, b, [i]) for i, (c, a, b) in enumerate(runs)])
    while len(items) > 1:
        durations = [b - a for _, a, b, _ in items]
        k = min(range(len(items)), key=lambda i: (durations[i], i))
        if durations[k] + 1e-6 >= min_s:
            break
        if k in (0, len(items) - 1):
            j = 1 if k == 0 else k - 1
        else:
            j = k - 1 if durations[k - 1] >= durations[k + 1] else k + 1
        c, a, b, m = items[j]
        items[j] = (c, min(a, items[k][1]), max(b, items[k][2]), sorted(m + items[k][3]))
        del items[k]
        items = join(items)
    return items


def test_merge_runs_agrees_with_the_rule_stepped_through_on_a_list() -> None:
    rng = np.random.default_rng(7)
    for trial in range(300):
        n = int(rng.integers(1, 40))
        # Frame-grid times (1/15 s) make ties between durations common.
        edges = np.concatenate([[0], np.cumsum(rng.integers(1, 30, n))]) / 15
        classes = rng.integers(1, 4 if trial % 2 else 10, n)
        runs = [(int(c), float(a), float(b)) for c, a, b in zip(classes, edges[:-1], edges[1:])]
        assert merge_runs(runs, 1.0) == _merge_reference(runs, 1.0), runs


def test_merge_runs_is_fast_on_thousands_of_runs() -> None:
    edges = np.arange(20001) / 15  # 20000 one-frame runs: 22 minutes of flicker
    runs = [(1 + i % 3, float(a), float(b)) for i, (a, b) in enumerate(zip(edges[:-1], edges[1:]))]
    merged = merge_runs(runs, 1.0)  # a quadratic merge would run into the test's timeout here
    assert merged[0][1] == 0.0 and merged[-1][2] == edges[-1]
    assert all(b - a >= 1.0 - 1e-6 for _, a, b, _ in merged)
