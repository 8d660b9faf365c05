"""Batch throughput: ``drivercam batch`` (predictions only) against ONNX Runtime alone in the same layout.

Copies of the real clips are processed by the local engine and by Ray, with 1
and 2 workers, and with ``--sample-fps``; each against the inference-only
ceiling of the same layout: as many processes as workers, each with the
workers' intra-op threads, running the model on ready input tensors (frames of
the same clips, already resized). Workers are started and their models loaded
before the clock starts (a batch of hours pays that once); the figure is frames
of video per second of wall time, from the first task to the last table.

Example::

    python benchmarks/batch.py --clips ../shared/data/clips --copies 1 --json benchmarks/results/batch.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))  # this checkout's drivercam, whatever is installed

from drivercam.batch.engines import LocalEngine, RayEngine  # noqa: E402
from drivercam.batch.inputs import expand_inputs  # noqa: E402
from drivercam.batch.runner import run_batch  # noqa: E402
from drivercam.batch.settings import BatchSettings  # noqa: E402
from drivercam.batch.tasks import WorkerConfig  # noqa: E402
from drivercam.model import OnnxClassifier, default_model_path  # noqa: E402
from drivercam.pipeline.workers import available_cores  # noqa: E402
from drivercam.sources.video import VideoFileSource  # noqa: E402


def ready_tensors(clip: Path, model: Path, count: int) -> np.ndarray:
    """``count`` frames of ``clip`` resized into the model input, (count, H, W, 3) uint8."""
    classifier = OnnxClassifier(model, device="cpu", warmup=False)
    source = VideoFileSource(clip)
    out = []
    while len(out) < count and (frame := source.read()) is not None:
        out.append(classifier.prepare_frame(frame))
    source.close()
    return np.stack(out)


def _ceiling_worker(model: str, threads: int, tensors: np.ndarray, frames: int, start: Any, done: Any) -> None:
    classifier = OnnxClassifier(model, device="cpu", intra_op_threads=threads)
    for i in range(8):
        classifier.run_batch(tensors[i : i + 1])
    start.wait()
    cpu = time.process_time()
    for i in range(frames):
        j = i % len(tensors)
        classifier.run_batch(tensors[j : j + 1])
    done.put((time.perf_counter(), time.process_time() - cpu))


def ceiling_fps(model: Path, tensors: np.ndarray, workers: int, threads: int, frames: int) -> tuple[float, float]:
    """ONNX Runtime alone: ``workers`` processes of ``threads`` intra-op threads, ``frames`` frames in all."""
    ctx = multiprocessing.get_context("spawn")
    start, done = ctx.Barrier(workers + 1), ctx.Queue()
    share = frames // workers
    procs = [
        ctx.Process(target=_ceiling_worker, args=(str(model), threads, tensors, share, start, done))
        for _ in range(workers)
    ]
    for p in procs:
        p.start()
    start.wait()
    began = time.perf_counter()
    ends = [done.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    total = share * workers
    return total / (max(e[0] for e in ends) - began), 1000 * sum(e[1] for e in ends) / total


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of processes, from /proc (Linux)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def batch_fps(
    engine_name: str, videos: list[Path], model: Path, workers: int, threads: int, sample_fps: float | None, out: Path
) -> tuple[float, int, float]:
    """One predictions-only batch; workers started and models loaded before the clock starts."""
    classifier = OnnxClassifier(model, device="cpu", warmup=False)
    config = WorkerConfig(str(model), "cpu", threads)
    inputs = expand_inputs([str(v) for v in videos])
    engine: LocalEngine | RayEngine
    if engine_name == "ray":
        engine = RayEngine(config, workers, init_kwargs={"num_cpus": available_cores()})
        import ray

        ray.get([a.ready.remote() for a in engine.actors])
    else:
        engine = LocalEngine(config, workers)
        list(engine.map([("ready", None)] * workers))  # spawn every worker and load its model
    with engine:
        pids = engine.pids()
        cpu = cpu_seconds(pids) + time.process_time()
        began = time.perf_counter()
        outcome = run_batch(
            inputs,
            engine,
            BatchSettings(sample_fps=sample_fps),
            out,
            labels=classifier.labels,
            class_ids=classifier.class_ids,
        )
        elapsed = time.perf_counter() - began
        cpu = cpu_seconds(pids) + time.process_time() - cpu
    assert outcome.failed == 0, outcome.rows
    frames = sum(int(r["frames"]) for r in outcome.rows)
    return frames / elapsed, frames, 1000 * cpu / frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=Path, default=REPO.parent / "shared" / "data" / "clips")
    parser.add_argument("--copies", type=int, default=1, help="copies of each clip in the batch")
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--runs", default="local:1,local:2,ray:1,ray:2,local:2:5,ray:2:5")
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds; medians are reported")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    model = args.model or default_model_path()
    cores = available_cores()
    work = Path(tempfile.mkdtemp(prefix="drivercam-batch-bench-"))
    try:
        clips = sorted(args.clips.glob("*.mp4"))
        videos = []
        for k in range(args.copies):
            for clip in clips:
                dst = work / "videos" / f"{clip.stem}_copy{k}.mp4"
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(clip, dst)
                videos.append(dst)
        tensors = ready_tensors(clips[0], model, 64)
        results: list[dict[str, Any]] = []
        runs = [spec.split(":") for spec in args.runs.split(",")]
        measured: dict[int, list[tuple[float, float, int, float, float]]] = {n: [] for n in range(len(runs))}
        # Rounds interleave every run with its own ceiling, measured just before it: a busy
        # machine then slows a run and the ceiling it is compared with alike.
        for round_ in range(args.rounds):
            for n, parts in enumerate(runs):
                engine_name, workers = parts[0], int(parts[1])
                sample = float(parts[2]) if len(parts) > 2 else None
                threads = max(1, cores // workers)
                ceiling, ceiling_cpu = ceiling_fps(model, tensors, workers, threads, 1200)
                out = work / f"out{round_}_{n}"
                fps, frames, cpu = batch_fps(engine_name, videos, model, workers, threads, sample, out)
                shutil.rmtree(out, ignore_errors=True)
                measured[n].append((fps, ceiling, frames, cpu, ceiling_cpu))
                print(
                    f"round {round_ + 1}: {':'.join(parts)} {fps:.1f} fps ({cpu:.1f} CPU ms/frame), "
                    f"ceiling {ceiling:.1f} fps ({ceiling_cpu:.1f} CPU ms/frame)",
                    flush=True,
                )
        for n, parts in enumerate(runs):
            fps = statistics.median(m[0] for m in measured[n])
            ceiling = statistics.median(m[1] for m in measured[n])
            workers = int(parts[1])
            row = {
                "engine": parts[0],
                "workers": workers,
                "threads": max(1, cores // workers),
                "sample_fps": float(parts[2]) if len(parts) > 2 else None,
                "frames": measured[n][0][2],
                "fps": round(fps, 1),
                "ceiling_fps": round(ceiling, 1),
                "of_ceiling": round(fps / ceiling, 3),
                "cpu_ms_per_frame": round(statistics.median(m[3] for m in measured[n]), 2),
                "ceiling_cpu_ms_per_frame": round(statistics.median(m[4] for m in measured[n]), 2),
                "rounds": [[round(m[0], 1), round(m[1], 1), round(m[3], 2), round(m[4], 2)] for m in measured[n]],
            }
            results.append(row)
            print(json.dumps(row), flush=True)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            meta = {"machine": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version()}
            args.json.write_text(json.dumps({"meta": meta, "results": results}, indent=2) + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
