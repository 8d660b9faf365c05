"""Side-by-side throughput: drivercam vs the ceiling vs the usual do-it-yourself CAM loops.

One run, one network, one clip, the same ONNX Runtime thread count, rounds
interleaved so a noisy machine hits every route alike:

1. ``pipeline``: drivercam annotating the clip to H.264 MP4 (Monitor API, the
   overlay of ``drivercam annotate``, Mp4Sink with the clip's audio);
2. ``ceiling``: ONNX Runtime alone on ready input tensors (inference only), one
   frame at a time with all of the pipeline's threads; ``ceiling-workers``, run
   beside it, lays the threads out as the pipeline does (two callers of one
   intra-op thread each on 2 cores) and is the stricter limit;
3. ``naive``: the classic Keras CAM recipe: cv2.VideoCapture, a classifier ONNX
   returning probs and the last conv features, a Python loop summing the
   channels with the class weights, resize, applyColorMap, blend, cv2.VideoWriter;
4. ``gradcam``: the network in PyTorch with pytorch-grad-cam's GradCAM on the
   last conv layer, ``show_cam_on_image`` and cv2.VideoWriter. grad-cam needs
   torchvision, which does not install beside every torch build, so this route
   runs in a child process with ``--gradcam-python`` (a separate venv).

Also measured: what the all-class CAM output adds to inference (the same network
exported with and without ``cams``), live-mode frame age with a camera faster
than the model, and with ``--long N`` the process RSS over N frames.

The PyTorch network comes from ``--checkpoint`` (a tools/train.py model.pt);
without one, EfficientNet-Lite0 with ImageNet weights and a seeded 10-class
head stands in (speed does not depend on the weights). All ONNX variants are
exported from that one network into ``--workdir``.

Example::

    python benchmarks/compare.py --clip clip.mp4 --frames 300 --rounds 3 \\
        --gradcam-python /work/venv-gradcam/bin/python --json benchmarks/results/compare.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parent.parent
TOOLS = REPO / "tools"
sys.path.insert(0, str(REPO))  # this checkout's drivercam, whatever is installed
log = logging.getLogger("compare")

ROUTES = ("pipeline", "ceiling", "naive", "gradcam")
# "ceiling" also runs "ceiling-workers": the pipeline's inference-thread layout on ready tensors.
# "ceiling" runs with drivercam's session options (pool threads not spinning);
# "ceiling-spin", measured beside it, with ONNX Runtime's defaults, for reference.
INPUT_HW = (192, 256)  # the stand-in's input; a checkpoint brings its own
ALPHA = 0.45


# --------------------------------------------------------------------------- models


def _load_network(checkpoint: Path | None) -> tuple[Any, dict[str, Any]]:
    """The PyTorch network and how it is built (where its weights came from, stride, input size)."""
    sys.path.insert(0, str(TOOLS))
    import effnet_lite
    import torch

    if checkpoint is not None:
        import export_onnx

        net, cfg = export_onnx.load_network(checkpoint)
        return net, {
            "network": f"checkpoint {checkpoint}",
            "stride": int(cfg["output_stride"]),
            "dilate": bool(cfg["dilate"]),
            "classes": int(cfg["num_classes"]),
            "input_hw": [int(v) for v in cfg["input_size"]],
        }
    torch.manual_seed(0)
    net = effnet_lite.EfficientNetLite0(10, output_stride=16)
    effnet_lite.load_imagenet_weights(net)
    return net.eval(), {
        "network": "EfficientNet-Lite0 ImageNet backbone, seeded 10-class head (stand-in)",
        "stride": 16,
        "dilate": False,
        "classes": 10,
        "input_hw": list(INPUT_HW),
    }


def prepare_models(checkpoint: Path | None, workdir: Path) -> dict[str, Any]:
    """Export the CAM, no-CAM and features variants and the PyTorch weights, once per network."""
    key = hashlib.sha256(checkpoint.read_bytes()).hexdigest()[:12] if checkpoint else "standin"
    folder = workdir / key
    files = {
        "cams": folder / "cams.onnx",
        "nocams": folder / "nocams.onnx",
        "features": folder / "features.onnx",
        "state": folder / "state.pt",
        "fc": folder / "fc_weight.npy",
        "about": folder / "about.json",
    }
    if all(p.exists() for p in files.values()):
        info = json.loads(files["about"].read_text())
        return {**{k: str(v) for k, v in files.items()}, **info}
    folder.mkdir(parents=True, exist_ok=True)
    net, info = _load_network(checkpoint)
    import export_onnx as ex  # tools/ is on the path now
    import torch

    hw = tuple(info["input_hw"])
    ex.export(net, files["cams"], input_size=hw, stride=info["stride"], metadata={})
    ex.export(net, files["nocams"], input_size=hw, stride=info["stride"], metadata={}, include_cams=False)
    _export_features(net, files["features"], hw)
    torch.save({"state": net.state_dict(), **info}, files["state"])
    np.save(files["fc"], net._fc.weight.detach().numpy().astype(np.float32))
    files["about"].write_text(json.dumps(info))
    return {**{k: str(v) for k, v in files.items()}, **info}


def _export_features(net: Any, out: Path, hw: tuple[int, int]) -> None:
    """The classifier a Keras-CAM user exports: uint8 frames -> (probs, last conv features)."""
    import export_onnx as ex
    import torch

    class WithFeatures(ex.CamModel):  # type: ignore[misc]
        def forward(self, images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            x = images.to(torch.float32).index_select(3, self.channel_order)
            x = ((x - ex.IMAGENET_MEAN) / ex.IMAGENET_STD).permute(0, 3, 1, 2)
            feats = self.net.features(x)
            return torch.softmax(self.net._fc(feats.mean(dim=(2, 3))), dim=1), feats

    h, w = hw
    torch.onnx.export(
        WithFeatures(net).eval(),
        (torch.zeros(1, h, w, 3, dtype=torch.uint8),),
        str(out),
        input_names=["images"],
        output_names=["probs", "features"],
        dynamic_axes={"images": {0: "N"}, "probs": {0: "N"}, "features": {0: "N"}},
        opset_version=17,
        dynamo=False,
    )


# --------------------------------------------------------------------------- routes


class Rate:
    """Frames per second (wall clock) and CPU milliseconds per frame (all threads of
    this process), from the moment it is created; CPU time tells apart a route that
    works less from one that only waits less on a busy machine."""

    def __init__(self) -> None:
        self.wall = time.perf_counter()
        self.cpu = time.process_time()

    def done(self, frames: int) -> tuple[float, float]:
        wall = time.perf_counter() - self.wall
        cpu = time.process_time() - self.cpu
        return frames / wall, 1000.0 * cpu / max(frames, 1)


def _session(path: str, threads: int | None, *, spinning: bool = True) -> Any:
    """A plain CPU session; ``spinning=False`` matches drivercam's OnnxClassifier options."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    if not spinning:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(path, sess_options=options, providers=["CPUExecutionProvider"])


def route_pipeline(
    clip: Path, model: str, frames: int, threads: int | None, workers: int | None, batch: int, out: Path
) -> tuple[float, float]:
    """drivercam annotate: Monitor + FrameRenderer + Mp4Sink (audio copied); returns FPS."""
    from drivercam.monitoring.monitor import Monitor
    from drivercam.render.frame import FrameRenderer
    from drivercam.sinks.mp4 import Mp4Sink

    monitor = Monitor(
        clip,
        model,
        device="cpu",
        threads=threads,
        workers=workers,
        live=False,
        batch_size=batch,
        queue_size=max(8, 2 * batch),
    )
    source = monitor.source
    render = FrameRenderer(monitor.labels)
    n = 0
    rate = Rate()
    with (
        monitor,
        Mp4Sink(
            out, width=source.width or 640, height=source.height or 480, fps=source.fps, audio_from=source.audio_path
        ) as sink,
    ):
        for result in monitor:
            sink.write(render(result), result.frame.time_s)
            n += 1
            if n >= frames:
                break
    return rate.done(n)


def load_tensors(clip: Path, frames: int, hw: tuple[int, int]) -> np.ndarray:
    """The clip's first ``frames`` frames resized to the model input, as drivercam feeds them."""
    import cv2

    cap = cv2.VideoCapture(str(clip))
    out: list[np.ndarray] = []
    while len(out) < frames:
        ok, frame = cap.read()
        if not ok:
            break
        out.append(cv2.resize(frame, hw[::-1], interpolation=cv2.INTER_AREA))
    cap.release()
    return np.stack(out)


def time_session(session: Any, tensors: np.ndarray, batch: int, outputs: list[str]) -> list[float]:
    """Seconds per call of ``session.run`` over ``tensors`` in batches."""
    times = []
    for i in range(0, len(tensors), batch):
        x = tensors[i : i + batch]
        start = time.perf_counter()
        session.run(outputs, {"images": x})
        times.append(time.perf_counter() - start)
    return times


def route_ceiling(session: Any, tensors: np.ndarray, batch: int) -> tuple[float, float]:
    """ONNX Runtime alone on ready tensors; returns FPS."""
    rate = Rate()
    time_session(session, tensors, batch, ["probs", "cams"])
    return rate.done(len(tensors))


def route_ceiling_workers(session: Any, tensors: np.ndarray, batch: int, workers: int) -> tuple[float, float]:
    """ONNX Runtime alone on ready tensors, ``workers`` threads calling one session side by side."""
    import threading

    chunks = [tensors[i::workers] for i in range(workers)]
    threads = [
        threading.Thread(target=time_session, args=(session, chunk, batch, ["probs", "cams"])) for chunk in chunks
    ]
    rate = Rate()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return rate.done(len(tensors))


def _open_clip_and_writer(clip: Path, out: Path) -> tuple[Any, Any, int, int]:
    """What both do-it-yourself routes start with: cv2.VideoCapture and an mp4v cv2.VideoWriter of its size."""
    import cv2

    cap = cv2.VideoCapture(str(clip))
    fps = cap.get(cv2.CAP_PROP_FPS) or 15.0
    width, height = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"mp4v"), fps, (width, height))
    return cap, writer, width, height


def route_naive(
    clip: Path, features_model: str, fc_path: str, frames: int, threads: int | None, out: Path
) -> tuple[float, float]:
    """The classic Keras CAM loop, one frame at a time; returns FPS."""
    import cv2

    session = _session(features_model, threads)
    hw = tuple(session.get_inputs()[0].shape[1:3])
    weights = np.load(fc_path)  # (C, K)
    cap, writer, width, height = _open_clip_and_writer(clip, out)
    session.run(None, {"images": np.zeros((1, *hw, 3), np.uint8)})
    n = 0
    rate = Rate()
    while n < frames:
        ok, frame = cap.read()
        if not ok:
            break
        x = cv2.resize(frame, hw[::-1])[None]
        probs, features = session.run(None, {"images": x})
        c = int(np.argmax(probs[0]))
        conv = features[0]
        cam = np.zeros(conv.shape[1:], dtype=np.float32)
        for i, w in enumerate(weights[c]):
            cam += w * conv[i]
        cam = np.maximum(cam, 0)
        cam = cam / cam.max() if cam.max() > 0 else cam
        cam = cv2.resize(cam, (width, height))
        heatmap = cv2.applyColorMap((255 * cam).astype(np.uint8), cv2.COLORMAP_JET)
        blended = np.clip(heatmap * ALPHA + frame * (1 - ALPHA), 0, 255).astype(np.uint8)
        cv2.putText(
            blended, f"class {c}: {probs[0, c]:.2f}", (10, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2
        )
        writer.write(blended)
        n += 1
    writer.release()
    cap.release()
    return rate.done(n)


def route_gradcam(clip: Path, state_path: str, frames: int, threads: int | None, out: Path) -> dict[str, Any]:
    """pytorch-grad-cam GradCAM on the last conv layer, show_cam_on_image, cv2.VideoWriter."""
    import cv2
    import torch
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.image import preprocess_image, show_cam_on_image

    sys.path.insert(0, str(TOOLS))
    import effnet_lite

    if threads:
        torch.set_num_threads(threads)
    saved = torch.load(state_path, map_location="cpu", weights_only=True)
    net = effnet_lite.EfficientNetLite0(
        int(saved["classes"]), output_stride=int(saved["stride"]), dilate=bool(saved["dilate"])
    )
    hw = tuple(saved["input_hw"])
    net.load_state_dict(saved["state"])
    net.eval()
    cam = GradCAM(model=net, target_layers=[net._conv_head])
    mean, std = [effnet_lite.IMAGENET_MEAN / 255.0] * 3, [effnet_lite.IMAGENET_STD / 255.0] * 3
    cap, writer, width, height = _open_clip_and_writer(clip, out)
    cam(input_tensor=torch.zeros(1, 3, *hw), targets=None)
    n = 0
    rate = Rate()
    while n < frames:
        ok, frame = cap.read()
        if not ok:
            break
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        small = np.float32(cv2.resize(rgb, hw[::-1])) / 255.0
        grayscale = cam(input_tensor=preprocess_image(small, mean=mean, std=std), targets=None)[0]
        full = cv2.resize(grayscale, (width, height))
        visual = show_cam_on_image(np.float32(rgb) / 255.0, full, use_rgb=True, image_weight=1 - ALPHA)
        writer.write(cv2.cvtColor(visual, cv2.COLOR_RGB2BGR))
        n += 1
    writer.release()
    cap.release()
    fps, cpu_ms = rate.done(n)
    return {"fps": fps, "cpu_ms": cpu_ms, "frames": n, "torch": torch.__version__, "threads": torch.get_num_threads()}


def _gradcam_child(
    python: str, clip: Path, state: str, frames: int, threads: int | None, out: Path
) -> tuple[float, float]:
    cmd = [
        python,
        str(Path(__file__).resolve()),
        "--gradcam-child",
        "--clip",
        str(clip),
        "--state",
        state,
        "--frames",
        str(frames),
        "--output",
        str(out),
    ]
    if threads:
        cmd += ["--threads", str(threads)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=1800, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"gradcam route failed (exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    log.info("gradcam child: %s", result)
    return float(result["fps"]), float(result["cpu_ms"])


# --------------------------------------------------------------------------- extra checks


def cam_cost(models: dict[str, Any], tensors: np.ndarray, threads: int | None, rounds: int) -> dict[str, Any]:
    """Per-frame inference time with and without the ``cams`` output, interleaved in blocks."""
    with_cams = _session(models["cams"], threads, spinning=False)
    without = _session(models["nocams"], threads, spinning=False)
    block = tensors[:20]
    times: dict[str, list[float]] = {"cams": [], "nocams": []}
    ratios = []
    for _ in range(rounds):
        pair = {}
        for name, session, outputs in (("cams", with_cams, ["probs", "cams"]), ("nocams", without, ["probs"])):
            t = time_session(session, block, 1, outputs)
            times[name] += t
            pair[name] = statistics.median(t)
        ratios.append(pair["cams"] / pair["nocams"] - 1.0)
    med = {k: 1000.0 * statistics.median(v) for k, v in times.items()}
    return {
        "median_ms_with_cams": med["cams"],
        "median_ms_without_cams": med["nocams"],
        "overhead": med["cams"] / med["nocams"] - 1.0,
        "overhead_per_round": ratios,
    }


def live_check(model: str, threads: int | None, camera_fps: float, frames: int) -> dict[str, Any]:
    """Live mode with synthetic 640x480 frames paced at ``camera_fps`` (faster than the model)."""
    from drivercam.bench.runner import BenchSettings, run_one
    from drivercam.bench.synthetic import SyntheticSource

    settings = BenchSettings(frames=frames, warmup=10, threads=threads, encode=False)
    run = run_one(model, "cpu", lambda: SyntheticSource(640, 480, fps=camera_fps, live=True), settings, pace=True)
    inference_p95 = run["stages"]["inference"]["p95_ms"]
    age_p95 = run["frame_age"]["p95_ms"]
    interval = 1000.0 / camera_fps
    return {
        "camera_fps": camera_fps,
        "frame_age_p95_ms": age_p95,
        "inference_p95_ms": inference_p95,
        "frame_interval_ms": interval,
        "limit_ms": inference_p95 + interval,
        "ok": age_p95 <= inference_p95 + interval,
        "dropped": run["dropped"],
        "frames_read": run["frames_read"],
        "frame_age": run["frame_age"],
        "inference": run["stages"]["inference"],
    }


def long_run(model: str, frames: int, threads: int | None, batch: int, sample_every: int = 500) -> dict[str, Any]:
    """RSS while annotating ``frames`` synthetic 640x480 frames to MP4 (pipeline + render + encode)."""
    from drivercam.bench import sysinfo
    from drivercam.bench.synthetic import SyntheticSource
    from drivercam.monitoring.monitor import Monitor
    from drivercam.render.frame import FrameRenderer
    from drivercam.sinks.mp4 import Mp4Sink

    source = SyntheticSource(640, 480, fps=15.0, frames=frames)
    monitor = Monitor(source, model, device="cpu", threads=threads, batch_size=batch, queue_size=max(8, 2 * batch))
    render = FrameRenderer(monitor.labels)
    samples: list[tuple[int, float]] = []
    start = time.perf_counter()
    with (
        tempfile.TemporaryDirectory() as tmp,
        monitor,
        Mp4Sink(Path(tmp) / "long.mp4", width=640, height=480, fps=15.0) as sink,
    ):
        for n, result in enumerate(monitor, 1):
            sink.write(render(result), result.frame.time_s)
            if n % sample_every == 0:
                samples.append((n, sysinfo.rss_mb() or 0.0))
    warm = [rss for n, rss in samples if n >= min(1000, frames // 5)]
    growth = max(warm) - warm[0] if warm else None
    return {
        "frames": frames,
        "seconds": time.perf_counter() - start,
        "rss_mb": samples,
        "growth_after_warmup_mb": growth,
        "ok": growth is not None and growth < 20.0,
    }


# --------------------------------------------------------------------------- main


def _summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clip", type=Path, help="input video (640x480 recommended)")
    p.add_argument("--checkpoint", type=Path, help="tools/train.py model.pt (default: ImageNet stand-in)")
    p.add_argument("--model", help="drivercam ONNX for routes 1-2 (default: exported from the network)")
    p.add_argument("--workdir", type=Path, default=REPO / "out" / "compare", help="exported models go here")
    p.add_argument("--frames", type=int, default=300, help="frames per route per round")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds (medians and spread over these)")
    p.add_argument(
        "--threads",
        type=int,
        help="intra-op threads per drivercam inference thread (default: as drivercam decides); "
        "the one-frame-at-a-time routes get that times --workers",
    )
    p.add_argument("--workers", type=int, help="drivercam inference threads (default: as drivercam decides)")
    p.add_argument("--batch", type=int, help="pipeline and ceiling batch size (default: drivercam annotate's)")
    p.add_argument(
        "--routes",
        default=",".join(ROUTES),
        help="comma-separated subset of " + ",".join(ROUTES) + " (ceiling also runs ceiling-spin)",
    )
    p.add_argument("--gradcam-python", help="python of a venv with torch, torchvision and grad-cam (route 4)")
    p.add_argument("--no-cam-cost", action="store_true", help="skip the with/without CAM output comparison")
    p.add_argument("--live", action="store_true", help="also check live-mode frame age")
    p.add_argument("--long", type=int, metavar="N", help="also annotate N synthetic frames and track RSS")
    p.add_argument("--json", type=Path, help="write all figures here")
    p.add_argument("--gradcam-child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--state", help=argparse.SUPPRESS)
    p.add_argument("--output", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.gradcam_child:
        print(json.dumps(route_gradcam(args.clip, args.state, args.frames, args.threads, args.output)))
        return 0

    if args.batch is None:
        from drivercam.cli.annotate import DEFAULT_BATCH

        args.batch = DEFAULT_BATCH
    routes = [r.strip() for r in args.routes.split(",") if r.strip()]
    unknown = set(routes) - set(ROUTES)
    if unknown:
        p.error(f"unknown route(s) {sorted(unknown)}; choose from {', '.join(ROUTES)}")
    if routes and args.clip is None:
        p.error("--clip is required to compare routes")
    models = prepare_models(args.checkpoint, args.workdir)
    model = args.model or models["cams"]
    if "gradcam" in routes and not args.gradcam_python:
        log.warning("no --gradcam-python: skipping the gradcam route")
        routes.remove("gradcam")
    from drivercam.bench import sysinfo
    from drivercam.pipeline.workers import plan_workers

    workers, per_worker = plan_workers(live=False, on_cpu=True, workers=args.workers, threads=args.threads)
    # The same total for the routes that run one frame at a time (None: the library's default, all cores).
    total_threads = workers * per_worker if per_worker else None
    report: dict[str, Any] = {
        "machine": sysinfo.machine_info(),
        "libraries": sysinfo.library_versions(),
        "network": models["network"],
        "model": model,
        "model_sha256": sysinfo.sha256_of(model),
        "clip": str(args.clip) if args.clip else None,
        "frames": args.frames,
        "rounds": args.rounds,
        "threads": args.threads,
        "batch": args.batch,
        "workers": workers,
        "threads_per_worker": per_worker,
        "threads_one_at_a_time": total_threads,
    }
    # Without a clip (no routes to compare) the CAM cost is measured on black frames.
    hw = tuple(models["input_hw"])
    tensors = load_tensors(args.clip, args.frames, hw) if args.clip else np.zeros((20, *hw, 3), np.uint8)
    if "ceiling" in routes:
        routes.insert(routes.index("ceiling") + 1, "ceiling-workers")
        routes.insert(routes.index("ceiling") + 2, "ceiling-spin")
    fps: dict[str, list[float]] = {r: [] for r in routes}
    cpu: dict[str, list[float]] = {r: [] for r in routes}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        sessions = {}
        if "ceiling" in routes:
            sessions = {
                "ceiling": _session(model, total_threads, spinning=False),
                "ceiling-workers": _session(model, per_worker, spinning=False),
                "ceiling-spin": _session(model, total_threads),
            }
            for session in sessions.values():
                time_session(session, tensors[: args.batch], args.batch, ["probs", "cams"])
        for r in range(args.rounds):
            order = routes[r % len(routes) :] + routes[: r % len(routes)] if routes else []
            for route in order:
                if route == "pipeline":
                    value = route_pipeline(
                        args.clip, model, args.frames, args.threads, args.workers, args.batch, out / "p.mp4"
                    )
                elif route == "ceiling-workers":
                    value = route_ceiling_workers(sessions[route], tensors, args.batch, workers)
                elif route in sessions:
                    value = route_ceiling(sessions[route], tensors, args.batch)
                elif route == "naive":
                    value = route_naive(
                        args.clip, models["features"], models["fc"], args.frames, total_threads, out / "n.mp4"
                    )
                else:
                    value = _gradcam_child(
                        args.gradcam_python, args.clip, models["state"], args.frames, total_threads, out / "g.mp4"
                    )
                fps[route].append(value[0])
                cpu[route].append(value[1])
                log.info("round %d %-12s %6.1f fps %6.1f ms CPU/frame", r + 1, route, *value)
    report["fps"] = {r: {"per_round": v, **_summary(v)} for r, v in fps.items()}
    report["cpu_ms_per_frame"] = {r: {"per_round": v, **_summary(v)} for r, v in cpu.items()}
    ratios: dict[str, Any] = {}
    for name, (a, b) in {
        "pipeline/ceiling": ("pipeline", "ceiling"),
        "pipeline/ceiling-workers": ("pipeline", "ceiling-workers"),
        "pipeline/naive": ("pipeline", "naive"),
        "pipeline/gradcam": ("pipeline", "gradcam"),
    }.items():
        if a in fps and b in fps:
            per_round = [x / y for x, y in zip(fps[a], fps[b])]
            ratios[name] = {"per_round": per_round, **_summary(per_round)}
    report["ratios"] = ratios
    # CPU cost: the pipeline's CPU per frame (every thread, decode to encode) over ONNX
    # Runtime's alone on ready tensors in the pipeline's layout (one intra-op thread per
    # caller, so no pool threads spinning inflate the model's figure).
    cpu_ratios: dict[str, Any] = {}
    for base in ("ceiling-workers", "ceiling"):
        if "pipeline" in cpu and base in cpu:
            per_round = [x / y for x, y in zip(cpu["pipeline"], cpu[base])]
            cpu_ratios[f"pipeline/{base}"] = {"per_round": per_round, **_summary(per_round)}
    report["cpu_ratios"] = cpu_ratios
    if not args.no_cam_cost:
        report["cam_cost"] = cam_cost(models, tensors, total_threads, rounds=max(5, args.rounds * 3))
    if args.live:
        # A common camera rate just above what the model manages: the model is slower than the camera.
        model_fps = statistics.median(fps["ceiling"]) if fps.get("ceiling") else 20.0
        camera_fps = next((r for r in (30.0, 60.0, 90.0, 120.0, 240.0) if r > model_fps), 2 * model_fps)
        report["live"] = live_check(model, args.threads, camera_fps=camera_fps, frames=200)
    if args.long:
        report["long"] = long_run(model, args.long, args.threads, args.batch)
    print(format_report(report))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


def format_report(report: dict[str, Any]) -> str:
    m = report["machine"]
    lines = [
        f"{m['cpu']} ({m['cores']} cores), {report['network']}",
        f"inference threads {report.get('workers', 1)} x intra-op {report.get('threads_per_worker') or 'default'}"
        f" batch={report['batch']} frames={report['frames']} "
        f"rounds={report['rounds']}",
        "",
        f"{'route':<13} {'fps median':>10} {'min':>7} {'max':>7} {'CPU ms/frame':>13}",
    ]
    for route, s in report["fps"].items():
        c = report["cpu_ms_per_frame"][route]["median"]
        lines.append(f"{route:<13} {s['median']:>10.1f} {s['min']:>7.1f} {s['max']:>7.1f} {c:>13.1f}")
    for name, s in report["ratios"].items():
        lines.append(f"{name:<18} {s['median']:>6.2f}x (rounds {s['min']:.2f}-{s['max']:.2f})")
    for name, s in report.get("cpu_ratios", {}).items():
        lines.append(f"CPU {name:<14} {s['median']:>6.2f}x (rounds {s['min']:.2f}-{s['max']:.2f})")
    if "cam_cost" in report:
        c = report["cam_cost"]
        lines.append(
            f"CAM output cost: {c['median_ms_with_cams']:.2f} ms vs {c['median_ms_without_cams']:.2f} ms "
            f"without ({100 * c['overhead']:+.1f} %)"
        )
    if "live" in report:
        v = report["live"]
        lines.append(
            f"live @ {v['camera_fps']:.0f} fps: frame age p95 {v['frame_age_p95_ms']:.1f} ms <= "
            f"inference p95 {v['inference_p95_ms']:.1f} + interval {v['frame_interval_ms']:.1f} ms: {v['ok']}"
            f" (dropped {v['dropped']} of {v['frames_read']})"
        )
    if "long" in report:
        v = report["long"]
        lines.append(
            f"long run {v['frames']} frames: RSS growth after warm-up {v['growth_after_warmup_mb']:.1f} MB "
            f"({'ok' if v['ok'] else 'NOT flat'})"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
