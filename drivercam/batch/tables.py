"""The batch's tables: ``summary.csv`` (one row per input) and ``episodes.csv`` (one row per episode), plus Parquet.

Both are rebuilt whole from the manifest and the per-video event logs at the
end of every run, and written under a temporary name then renamed, so a rerun
never leaves a duplicate or a half-written row.
"""

from __future__ import annotations

import csv
import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from drivercam.batch.finish import EVENTS

__all__ = ["EPISODE_COLUMNS", "episode_rows", "write_table"]

logger = logging.getLogger(__name__)

EPISODE_COLUMNS = [
    "video",
    "path",
    "episode",
    "start_s",
    "end_s",
    "duration_s",
    "class_id",
    "label",
    "peak_confidence",
    "mean_confidence",
    "first_frame",
    "last_frame",
    "peak_time_s",
    "alerts",
    "snapshot",
]
# Episode fields that the columns above already carry (under their own names) or leave out.
_MAPPED = {
    "id",
    "start_time_s",
    "end_time_s",
    "duration_s",
    "class_index",
    "label",
    "peak_confidence",
    "mean_confidence",
    "first_frame",
    "last_frame",
    "peak_frame_index",
    "peak_time_s",
    "alerts",
    "alert_times_s",
    "snapshot",
    "type",
}


def episode_rows(
    out_dir: Path, summary: Sequence[dict[str, Any]], class_ids: Sequence[str]
) -> tuple[list[dict[str, Any]], list[str]]:
    """One row per episode of every ``ok`` video, read back from its ``events.jsonl``.

    Episode fields beyond the known ones (such as the activities inside an
    episode) become extra columns, lists as JSON text.

    Returns:
        (rows, columns).
    """
    rows: list[dict[str, Any]] = []
    extra: list[str] = []
    for video in summary:
        if video.get("status") != "ok":
            continue
        folder = out_dir / video["video"]
        with open(folder / EVENTS, encoding="utf-8") as f:
            records = [json.loads(line) for line in f if line.strip()]
        for rec in records:
            if rec.get("type") != "episode":
                continue
            index = int(rec["class_index"])
            snapshot = rec.get("snapshot")
            row: dict[str, Any] = {
                "video": video["video"],
                "path": video["path"],
                "episode": rec["id"],
                "start_s": rec["start_time_s"],
                "end_s": rec["end_time_s"],
                "duration_s": rec["duration_s"],
                "class_id": class_ids[index] if 0 <= index < len(class_ids) else str(index),
                "label": rec["label"],
                "peak_confidence": rec["peak_confidence"],
                "mean_confidence": rec["mean_confidence"],
                "first_frame": rec["first_frame"],
                "last_frame": rec["last_frame"],
                "peak_time_s": rec["peak_time_s"],
                "alerts": rec["alerts"],
                "snapshot": f"{video['video']}/{snapshot}" if snapshot else "",
            }
            for key, value in rec.items():
                if key in _MAPPED:
                    continue
                if key not in extra:
                    extra.append(key)
                row[key] = json.dumps(value) if isinstance(value, (list, dict)) else value
            rows.append(row)
    return rows, EPISODE_COLUMNS + extra


def write_table(
    path: Path, rows: Sequence[dict[str, Any]], columns: Sequence[str], *, parquet: bool = True
) -> list[Path]:
    """Write ``rows`` as CSV at ``path`` (and Parquet beside it when pyarrow is installed).

    Returns:
        The files written.
    """
    part = path.with_name(path.name + ".part")
    with open(part, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: "" if row.get(k) is None else row.get(k) for k in columns})
    os.replace(part, path)
    written = [path]
    if parquet:
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            return written
        target = path.with_suffix(".parquet")
        schema = _schema(pa, rows, columns)
        records = []
        for row in rows:
            record: dict[str, Any] = {}
            for field in schema:
                value = row.get(field.name)
                value = None if value == "" else value
                record[field.name] = str(value) if value is not None and field.type == pa.string() else value
            records.append(record)
        table = pa.Table.from_pylist(records, schema=schema)
        part = target.with_name(target.name + ".part")
        pq.write_table(table, part)
        os.replace(part, target)
        written.append(target)
    return written


def _schema(pa: Any, rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> Any:
    """Column types from the values (a column of failed videos' None stays typed)."""
    fields = []
    for name in columns:
        values = [row.get(name) for row in rows if row.get(name) is not None and row.get(name) != ""]
        if values and all(isinstance(v, bool) for v in values):
            kind = pa.bool_()
        elif values and all(isinstance(v, int) and not isinstance(v, bool) for v in values):
            kind = pa.int64()
        elif values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            kind = pa.float64()
        else:
            kind = pa.string()
        fields.append(pa.field(name, kind))
    return pa.schema(fields)
