"""Options several subcommands share, their checks, and the objects built from them.

Every option value is checked here, before a model loads or a file opens, and
a bad value is a ``ValueError`` naming the option and what it takes (exit 1).
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from drivercam.model.classes import resolve_class
from drivercam.monitoring.episodes import EPISODE_PRESETS, EpisodeConfig
from drivercam.monitoring.session import RunSession
from drivercam.monitoring.smoothing import DEFAULT_CAM_TAU_S, DEFAULT_PROBS_TAU_S
from drivercam.render.overlay import OverlayOptions

MODEL_ENV = "DRIVERCAM_MODEL"
"""The environment variable that gives ``--model`` its default."""


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not value > 0 or not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def common_options() -> argparse.ArgumentParser:
    """The model, overlay and verbosity options of ``live``, ``annotate`` and ``info``."""
    common = argparse.ArgumentParser(add_help=False)
    model = common.add_argument_group("model")
    model.add_argument(
        "--model",
        metavar="PATH",
        help=f"drivercam ONNX model (default: ${MODEL_ENV}, else models/drivercam.onnx)",
    )
    model.add_argument(
        "--device",
        default="auto",
        help="ONNX Runtime device: auto, cpu, cuda, tensorrt, openvino, coreml, directml, rocm, "
        "or a provider name (default: auto)",
    )
    model.add_argument(
        "--threads",
        type=positive_int,
        metavar="N",
        help="ONNX Runtime intra-op threads per inference thread (default: decided from the cores)",
    )
    overlay = common.add_argument_group("overlay")
    overlay.add_argument("--alpha", type=float, help="heatmap opacity in [0, 1]")
    overlay.add_argument("--colormap", help="OpenCV colormap name, e.g. jet, turbo, inferno")
    overlay.add_argument("--no-heatmap", action="store_true", help="draw labels only, no class activation map")
    overlay.add_argument(
        "--cam-class",
        metavar="CLASS",
        help="show the map of this class (index, class id or label) instead of the predicted one",
    )
    overlay.add_argument("--top-k", type=positive_int, metavar="K", help="number of class bars to draw")
    common.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="show warnings and progress details (-vv: debug); tracebacks on errors",
    )
    return common


def model_path(args: argparse.Namespace, explicit: str | None = None) -> Path:
    """The model to load: ``explicit``, else ``--model``, else ``$DRIVERCAM_MODEL``, else the bundled one."""
    from drivercam.model import default_model_path

    chosen = explicit or args.model or os.environ.get(MODEL_ENV)
    return Path(chosen) if chosen else default_model_path()


def overlay_options(args: argparse.Namespace, cam_class: int | None = None) -> OverlayOptions:
    """Drawing options from ``--alpha``, ``--colormap``, ``--no-heatmap``, ``--top-k``."""
    kwargs: dict[str, Any] = {"show_heatmap": not args.no_heatmap, "cam_class": cam_class}
    if args.alpha is not None:
        if not 0.0 <= args.alpha <= 1.0:  # also rejects nan
            raise ValueError(f"--alpha must be in [0, 1], got {args.alpha!r}; e.g. --alpha 0.45")
        kwargs["alpha"] = args.alpha
    if args.colormap is not None:
        kwargs["colormap"] = args.colormap
    if args.top_k is not None:
        kwargs["top_k"] = args.top_k
    return OverlayOptions(**kwargs)


def cam_class_option(spec: str | None, labels: Sequence[str], class_ids: Sequence[str]) -> int | None:
    """``--cam-class`` as a class index (None: show the predicted class)."""
    if spec is None:
        return None
    try:
        return resolve_class(spec, labels, class_ids)
    except ValueError as error:
        raise ValueError(f"--cam-class {error}") from error


def add_episode_arguments(parser: argparse.ArgumentParser, *, outputs: bool = True) -> None:
    """Add the smoothing, episode, alert and report options to a subcommand's parser.

    ``outputs=False`` leaves out the options that name one run's outputs
    (``--no-alerts``, ``--events``, ``--snapshots``, ``--report``, ``--on-alert``).
    """
    group = parser.add_argument_group("smoothing, distraction episodes and alerts")
    group.add_argument(
        "--smooth",
        type=float,
        default=DEFAULT_PROBS_TAU_S,
        metavar="S",
        help=f"probability smoothing time constant in seconds, 0 = off (default: {DEFAULT_PROBS_TAU_S})",
    )
    group.add_argument(
        "--cam-smooth",
        type=float,
        default=DEFAULT_CAM_TAU_S,
        metavar="S",
        help=f"heatmap smoothing time constant in seconds, 0 = off (default: {DEFAULT_CAM_TAU_S})",
    )
    group.add_argument(
        "--preset",
        choices=sorted(EPISODE_PRESETS),
        default="eu-high-speed",
        help="alert timing: EU ADDW rules, 3.5 s above 50 km/h or 6 s at 20-50 km/h (default: eu-high-speed)",
    )
    for name, what in (
        ("onset", "seconds of distraction that start an episode"),
        ("warning", "episode age in seconds at the first alert"),
        ("cooldown", "seconds between repeated alerts"),
        ("release", "seconds of safe driving that end an episode"),
    ):
        group.add_argument(f"--{name}-s", type=float, metavar="S", help=f"{what} (overrides --preset)")
    group.add_argument(
        "--enter-threshold",
        type=float,
        metavar="P",
        help="distraction probability that counts as distracted (default: 0.5)",
    )
    group.add_argument(
        "--exit-threshold",
        type=float,
        metavar="P",
        help="distraction probability below which the driver counts as safe again (default: 0.35)",
    )
    group.add_argument(
        "--distraction-classes",
        metavar="LIST",
        help="comma-separated class indices or ids that count as distraction (default: all but 0)",
    )
    if not outputs:
        return
    group.add_argument("--no-alerts", action="store_true", help="do not draw the alert border and banner")
    group.add_argument("--events", metavar="E.jsonl", help="write one JSON line per episode and per alert")
    group.add_argument(
        "--snapshots", metavar="DIR", help="save a JPEG of each episode's peak frame here (needs --events)"
    )
    group.add_argument("--report", metavar="R.html", help="write a self-contained HTML report at the end")
    group.add_argument(
        "--on-alert", metavar="CMD", help="run this shell command at each alert, with the event JSON on stdin"
    )


def _distraction_classes(spec: str | None, class_ids: Sequence[str]) -> tuple[int, ...] | None:
    if spec is None:
        return None
    out = []
    for item in (s.strip() for s in spec.split(",") if s.strip()):
        if item.isdigit() and int(item) < len(class_ids):
            out.append(int(item))
        elif item.lower() in [c.lower() for c in class_ids]:
            out.append([c.lower() for c in class_ids].index(item.lower()))
        else:
            raise ValueError(
                f"--distraction-classes: {item!r} is not a class index 0..{len(class_ids) - 1} "
                f"or id {', '.join(class_ids)}"
            )
    return tuple(out)


def session_from_args(
    args: argparse.Namespace,
    labels: Sequence[str],
    class_ids: Sequence[str],
    *,
    subtitle: str | None = None,
) -> RunSession:
    """Build the run's :class:`~drivercam.monitoring.session.RunSession` from the episode options."""
    classes = _distraction_classes(args.distraction_classes, class_ids)
    try:
        config = EpisodeConfig.from_preset(
            args.preset,
            onset_s=args.onset_s,
            warning_s=args.warning_s,
            cooldown_s=args.cooldown_s,
            release_s=args.release_s,
            enter_threshold=args.enter_threshold,
            exit_threshold=args.exit_threshold,
            distraction_classes=classes,
        )
    except (TypeError, ValueError) as error:
        field = str(error).split()[0]
        option = {
            "onset_s": "--onset-s",
            "warning_s": "--warning-s",
            "cooldown_s": "--cooldown-s",
            "release_s": "--release-s",
            "enter_threshold": "--enter-threshold",
            "exit_threshold": "--exit-threshold",
        }.get(field)
        raise ValueError(f"{error} (set by {option} or --preset)" if option else str(error)) from error
    for option, value in (("--smooth", args.smooth), ("--cam-smooth", args.cam_smooth)):
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{option} must be a number of seconds >= 0 (0 turns smoothing off), got {value!r}")
    return RunSession(
        labels,
        config=config,
        probs_tau_s=args.smooth,
        cam_tau_s=args.cam_smooth,
        draw_alerts=not args.no_alerts,
        events_path=args.events,
        snapshot_dir=args.snapshots,
        report_path=args.report,
        on_alert=args.on_alert,
        subtitle=subtitle,
    )
