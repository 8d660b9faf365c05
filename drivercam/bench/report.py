"""The benchmark's figures as a table for the terminal and as a JSON document."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from drivercam.bench import sysinfo
from drivercam.bench.runner import BenchSettings
from drivercam.bench.stats import STAGES

__all__ = ["SCHEMA", "build_report", "format_table"]

SCHEMA = "drivercam-bench/1"


def _ms(stats: dict[str, Any], keys: Sequence[str]) -> str:
    if not stats or not stats.get("count"):
        return "-"
    return " / ".join(f"{stats[k]:.1f}" for k in keys)


def _num(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def format_table(report: dict[str, Any]) -> str:
    """The runs side by side: one column per (model, device), one row per figure."""
    runs = report["runs"]
    heads = [f"{r['model_name']} @ {r['device']}" for r in runs]
    rows: list[tuple[str, list[str]]] = [
        ("session create (ms)", [f"{r['first_run']['session_create_ms']:.0f}" for r in runs]),
        ("first inference (ms)", [f"{r['first_run']['first_inference_ms']:.1f}" for r in runs]),
    ]
    batch = report["settings"]["batch_size"]
    for stage in STAGES:
        if any(stage in r["stages"] for r in runs):
            name = f"{stage}{f' (per {batch})' if batch > 1 and stage == 'inference' else ''}"
            rows.append(
                (
                    f"{name} med/p90/p99",
                    [_ms(r["stages"].get(stage, {}), ("median_ms", "p90_ms", "p99_ms")) for r in runs],
                )
            )
    rows.append(("end-to-end fps", [f"{r['fps']:.1f}" if r["fps"] else "-" for r in runs]))
    rows.append(("frames measured", [str(r["frames"]) for r in runs]))
    cpu = [r.get("cpu") or {} for r in runs]
    rows.append(("CPU ms/frame, whole run", [_num(c.get("run_ms_per_frame"), ".1f") for c in cpu]))
    rows.append(("CPU ms/frame, model in the run", [_num(c.get("inference_in_run_ms_per_frame"), ".1f") for c in cpu]))
    rows.append(("CPU ms/frame, model alone", [_num(c.get("inference_only_ms_per_frame"), ".1f") for c in cpu]))
    rows.append(("CPU ratio run / model", [_num(c.get("ratio"), ".2f") for c in cpu]))
    if any(r["live"] for r in runs):
        rows.append(("dropped / read", [f"{r['dropped']} / {r['frames_read']}" for r in runs]))
        rows.append(
            ("frame age med/p95/p99", [_ms(r["frame_age"] or {}, ("median_ms", "p95_ms", "p99_ms")) for r in runs])
        )
    rows.append(("providers", [",".join(p.replace("ExecutionProvider", "") for p in r["providers"]) for r in runs]))
    rows.append(
        (
            "inference threads x intra-op",
            [f"{r.get('workers', 1)} x {r.get('threads_per_worker') or 'default'}" for r in runs],
        )
    )
    label_w = max(len(name) for name, _ in rows)
    col_w = [max(len(h), *(len(values[i]) for _, values in rows)) for i, h in enumerate(heads)]
    lines = ["  ".join([" " * label_w, *(h.rjust(cw) for h, cw in zip(heads, col_w))])]
    lines += ["  ".join([name.ljust(label_w), *(v.rjust(cw) for v, cw in zip(values, col_w))]) for name, values in rows]
    return "\n".join(lines)


def build_report(
    runs: list[dict[str, Any]], settings: BenchSettings, source: dict[str, Any], arguments: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The JSON document: figures, machine, library versions, settings and source."""
    return {
        "schema": SCHEMA,
        "created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "arguments": json.loads(json.dumps(arguments, default=str)) if arguments is not None else None,
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(settings).items()},
        "source": source,
        "machine": sysinfo.machine_info(),
        "libraries": sysinfo.library_versions(),
        "runs": runs,
    }
