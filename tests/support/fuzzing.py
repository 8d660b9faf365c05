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


def _encode_timestamp(prefix: int, ticks: int) -> bytes:
    """A PES header's 5-byte PTS or DTS field (33 bits of 90 kHz ticks and marker bits)."""
    ticks %= 1 << 33
    return bytes(
        [
            (prefix << 4) | ((ticks >> 29) & 0x0E) | 1,
            (ticks >> 22) & 0xFF,
            ((ticks >> 14) & 0xFE) | 1,
            (ticks >> 7) & 0xFF,
            ((ticks << 1) & 0xFE) | 1,
        ]
    )


def ts_with_broken_timestamps(src: Path, dst: Path, seed: int, *, count: int = 3) -> str:
    """Copy an MPEG-TS file with the timestamps of ``count`` video packets rewritten, the data untouched.

    What a dashcam with a glitching clock writes: each chosen packet's PTS (and
    DTS) becomes a random time, a time in the past, or the previous packet's
    time again. Every frame still decodes; only its time is wrong.

    Returns:
        What was done, for messages.
    """
    data = bytearray(src.read_bytes())
    headers = []  # offsets of video PES headers with a PTS
    for offset in range(0, len(data) - 188 + 1, 188):
        packet = data[offset : offset + 188]
        if packet[0] != 0x47 or not packet[1] & 0x40:
            continue
        start = 4 + (1 + packet[4] if (packet[3] >> 4) & 2 else 0)
        pes = packet[start:]
        if len(pes) > 14 and pes[:3] == b"\x00\x00\x01" and 0xE0 <= pes[3] <= 0xEF and pes[7] & 0x80:
            headers.append(offset + start)
    rng = np.random.default_rng(seed)
    chosen = sorted(int(i) for i in rng.choice(len(headers), size=min(count, len(headers)), replace=False))
    kinds = []
    previous = 0
    for index in chosen:
        at = headers[index]
        has_dts = bool(data[at + 7] & 0x40)
        kind = ("random", "past", "repeat")[int(rng.integers(0, 3))]
        ticks = int(rng.integers(0, 1 << 33)) if kind == "random" else 0 if kind == "past" else previous
        data[at + 9 : at + 14] = _encode_timestamp(3 if has_dts else 2, ticks)
        if has_dts:
            data[at + 14 : at + 19] = _encode_timestamp(1, ticks)
        previous = ticks
        kinds.append(f"{kind} at packet {index}")
    dst.write_bytes(bytes(data))
    return f"seed {seed}: timestamps {', '.join(kinds)}"
