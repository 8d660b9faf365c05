"""One benchmark run: warm-up, then per-stage timings of the real threaded pipeline.

One run per (model, device) pair goes through the same path as ``drivercam
annotate`` / ``live``: capture thread -> frames queue -> inference thread ->
main thread, which draws the heatmap and encodes an H.264 MP4. The source and
the classifier are wrapped so every stage is timed where it really runs:

* ``capture``: ``source.read()`` (decoding; for a camera also the wait for the sensor);
* ``preprocess``: resize each frame into a model input (on the capture thread);
* ``inference``: one ONNX Runtime run, probabilities and every class's CAM;
* ``cam``: pick, normalise and upsample the shown class's map (uint8 levels);
* ``render``: colour and blend the heatmap, draw banner, bars and HUD;
* ``encode``: H.264 encoding and muxing.

Reported per stage: median, p90, p99 in milliseconds, after ``--warmup``
frames. Also end-to-end FPS over the measured frames, and for live sources the
frames dropped as stale and the frame age (capture to the moment the annotated
frame is ready to show). Loading the model (session creation, a TensorRT
engine build) and its first run are reported apart, as the first-run cost.
"""

from __future__ import annotations

import logging
import math
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from drivercam.bench import sysinfo
from drivercam.bench.stats import StageStats
from drivercam.bench.timing import StageTimer, TimedClassifier, TimedSource
from drivercam.model import (
    DEVICES,
    OnnxClassifier,
    available_providers,
    provider_works,
    runs_on_cpu,
)
from drivercam.pipeline import Pipeline, plan_workers
from drivercam.pipeline.stats import Clock
from drivercam.render.frame import FrameRenderer
from drivercam.render.overlay import OverlayOptions
from drivercam.sinks.mp4 import Mp4Sink
from drivercam.sources import PacedSource
from drivercam.types import FrameSource

__all__ = ["BenchSettings", "inference_cpu_ms_per_frame", "run_one", "usable_devices"]

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------- devices


def usable_devices(
    available: Sequence[str] | None = None,
    works: Callable[[str], bool] | None = None,
) -> list[str]:
    """Short names (``cpu``, ``cuda``, ``tensorrt``, ...) of the execution providers that run here.

    Args:
        available: provider names the ONNX Runtime build lists (default: ask it).
        works: whether a provider really loads (default :func:`drivercam.model.provider_works`).
    """
    listed = set(available_providers() if available is None else available)
    check = provider_works if works is None else works
    return [short for short, name in DEVICES.items() if name in listed and check(name)]


# --------------------------------------------------------------------------- one run


@dataclass(frozen=True)
class BenchSettings:
    """What every run of one benchmark shares.

    Attributes:
        frames: frames measured after the warm-up.
        warmup: frames run first and left out of every figure.
        threads: ONNX Runtime intra-op threads per inference thread; None
            decides as ``annotate`` does (:func:`drivercam.pipeline.workers.plan_workers`).
        workers: inference threads (file policy only); None decides as ``annotate`` does.
        batch_size: frames per inference call (file policy only).
        encode: encode the annotated frames to H.264, as ``annotate`` does.
        output: where to keep the MP4 (each run overwrites it); None encodes
            into a temporary file that is deleted.
        colormap: heatmap colormap.
        alpha: heatmap opacity.
    """

    frames: int = 300
    warmup: int = 20
    threads: int | None = None
    workers: int | None = None
    batch_size: int = 1
    encode: bool = True
    output: Path | None = None
    colormap: str = "jet"
    alpha: float = 0.45

    def __post_init__(self) -> None:
        if self.frames < 1:
            raise ValueError(f"frames must be >= 1, got {self.frames!r}")
        if self.warmup < 0:
            raise ValueError(f"warmup must be >= 0, got {self.warmup!r}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size!r}")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be >= 1 or None, got {self.threads!r}")
        if self.workers is not None and self.workers < 1:
            raise ValueError(f"workers must be >= 1 or None, got {self.workers!r}")


def run_one(
    model_path: str | Path,
    device: str,
    make_source: Callable[[], FrameSource],
    settings: BenchSettings,
    *,
    pace: bool = False,
    live: bool | None = None,
    clock: Clock = time.monotonic,
    cpu_clock: Clock = time.process_time,
) -> dict[str, Any]:
    """Benchmark one model on one device over a fresh source; return the figures as a dict.

    Args:
        model_path: a drivercam ONNX model.
        device: an ONNX Runtime device name (see :func:`drivercam.model.resolve_providers`).
        make_source: opens the source for this run (called once, after the model loads).
        settings: shared settings.
        pace: release frames in real time (a file or synthetic frames played as a camera).
        live: whether the source is live (a camera), for planning threads
            before it is opened; None assumes live exactly when ``pace``.
        clock: monotonic clock in seconds; must be the one the source stamps
            ``captured_at`` with (``time.monotonic`` for drivercam's sources).
        cpu_clock: CPU seconds used by the whole process, every thread
            (``time.process_time``), for the CPU cost per frame.
    """
    timer = StageTimer(clock)
    workers, threads = plan_workers(
        live=pace if live is None else live,
        on_cpu=runs_on_cpu(device),
        workers=settings.workers,
        threads=settings.threads,
    )
    start = clock()
    classifier = OnnxClassifier(
        model_path, device=device, intra_op_threads=threads, max_batch=settings.batch_size, warmup=False
    )
    create_ms = 1000.0 * (clock() - start)
    h, w = classifier.input_size
    start = clock()
    classifier.run_batch(np.zeros((1, h, w, 3), np.uint8))
    first_ms = 1000.0 * (clock() - start)
    render = FrameRenderer(classifier.labels, OverlayOptions(alpha=settings.alpha, colormap=settings.colormap))
    total = settings.warmup + settings.frames
    ages: list[float] = []
    shown = 0
    t_start = t_end = clock()
    cpu_start = cpu_end = cpu_clock()
    dropped_start = read_start = 0
    with ExitStack() as stack:
        timed: FrameSource = TimedSource(make_source(), timer)
        source: FrameSource = PacedSource(timed, clock=clock) if pace else timed
        try:
            pipeline = Pipeline(
                source,
                TimedClassifier(classifier, timer),
                batch_size=settings.batch_size,
                workers=workers,
                result_timeout_s=60.0,
                clock=clock,
            )
        except BaseException:
            source.close()  # the pipeline owns the source only once it exists
            raise
        stack.enter_context(pipeline)
        video_path = settings.output
        if video_path is None:
            video_path = Path(stack.enter_context(tempfile.TemporaryDirectory())) / "bench.mp4"
        sink: Mp4Sink | None = None
        for result in pipeline:
            frame = result.frame
            with timer.measure("cam"):
                heat = render.heatmap(result)
            with timer.measure("render"):
                stats = pipeline.stats
                image = render.draw(result, heat, fps=stats.fps, dropped=stats.dropped if pipeline.drop_stale else None)
            if pipeline.drop_stale and shown >= settings.warmup:
                ages.append(1000.0 * (clock() - frame.captured_at))
            if settings.encode:
                if sink is None:
                    sink = stack.enter_context(
                        Mp4Sink(video_path, width=image.shape[1], height=image.shape[0], fps=source.fps or 30.0)
                    )
                with timer.measure("encode"):
                    sink.write(image, frame.time_s)
            shown += 1
            if shown == settings.warmup:
                t_start, cpu_start = clock(), cpu_clock()
                dropped_start, read_start = pipeline.stats.dropped, pipeline.stats.frames_read
            if shown >= total:
                break
        t_end, cpu_end = clock(), cpu_clock()
        final = pipeline.stats
    measured = max(0, shown - settings.warmup)
    elapsed = t_end - t_start
    run_cpu_ms = 1000.0 * (cpu_end - cpu_start) / measured if measured else None
    inference_cpu_ms = inference_cpu_ms_per_frame(classifier, min(settings.frames, 60), settings.batch_size, cpu_clock)
    # One inference sample per batch; every other stage (preprocessing too, done
    # frame by frame on the capture thread) has one sample per frame.
    stages = timer.summary(skip=settings.warmup)
    stages["inference"] = StageStats.of(timer.samples("inference")[math.ceil(settings.warmup / settings.batch_size) :])
    if not settings.encode:
        stages.pop("encode")
    path = Path(model_path)
    return {
        "model": str(path),
        "model_name": path.name,
        "model_sha256": sysinfo.sha256_of(path),
        "model_bytes": path.stat().st_size,
        "device": device,
        "providers": list(classifier.providers),
        "workers": pipeline.workers,
        "threads_per_worker": threads,
        "first_run": {"session_create_ms": create_ms, "first_inference_ms": first_ms},
        "stages": {name: asdict(s) for name, s in stages.items()},
        "frames": measured,
        "wall_s": elapsed,
        "fps": measured / elapsed if measured and elapsed > 0 else None,
        "live": pipeline.drop_stale,
        "frames_read": final.frames_read - read_start,
        "dropped": final.dropped - dropped_start,
        "frame_age": asdict(StageStats.of(ages)) if pipeline.drop_stale else None,
        "cpu": {
            "run_ms_per_frame": run_cpu_ms,
            "inference_only_ms_per_frame": inference_cpu_ms,
            "inference_in_run_ms_per_frame": final.inference_cpu_ms,
            "ratio": run_cpu_ms / inference_cpu_ms if run_cpu_ms and inference_cpu_ms else None,
        },
    }


def inference_cpu_ms_per_frame(
    classifier: OnnxClassifier, frames: int, batch_size: int = 1, cpu_clock: Clock = time.process_time
) -> float | None:
    """CPU milliseconds per frame of ONNX Runtime alone on ready input tensors, in this thread.

    The same session (and so the same intra-op thread count) as the run, fed
    batches of ``batch_size`` already-resized inputs, after one warm-up call:
    what the model itself costs, for comparison with the whole run's CPU.
    """
    if frames < 1:
        return None
    h, w = classifier.input_size
    tensor = np.random.default_rng(0).integers(0, 256, (batch_size, h, w, 3), dtype=np.uint8)
    classifier.run_batch(tensor)
    calls = max(1, math.ceil(frames / batch_size))
    start = cpu_clock()
    for _ in range(calls):
        classifier.run_batch(tensor)
    return 1000.0 * (cpu_clock() - start) / (calls * batch_size)
