"""Seeded damage to media files, for the fuzz tests: flipped bits, zeroed or overwritten ranges, cuts."""

from __future__ import annotations

from pathlib import Path

import numpy as np

KINDS = ("flip", "zero", "overwrite", "truncate")


def damaged_copy(src: Path, dst: Path, seed: int) -> str:
    """Write ``src`` to ``dst`` with one seeded kind of damage; return what was done, for messages.

    ``seed`` picks the kind (in turn) and where it strikes; the same seed always
    gives the same bytes. Damage never touches the first 1 % of the file too
    often: the header is hit now and then, the packets mostly.
    """
    data = bytearray(src.read_bytes())
    rng = np.random.default_rng(seed)
    kind = KINDS[seed % len(KINDS)]
    n = len(data)
    if kind == "flip":
        count = int(rng.integers(1, 40))
        for offset in rng.integers(0, n, count):
            data[int(offset)] ^= 1 << int(rng.integers(0, 8))
        what = f"{count} flipped bits"
    elif kind in ("zero", "overwrite"):
        start = int(rng.integers(0, n))
        stop = min(n, start + int(rng.integers(1, 3000)))
        fill = bytes(stop - start) if kind == "zero" else rng.integers(0, 256, stop - start, dtype=np.uint8).tobytes()
        data[start:stop] = fill
        what = f"bytes {start}..{stop} {'zeroed' if kind == 'zero' else 'overwritten'}"
    else:
        cut = int(rng.integers(0, n))
        del data[cut:]
        what = f"cut at byte {cut} of {n}"
    dst.write_bytes(bytes(data))
    return f"seed {seed}: {what}"
