"""Options several subcommands share, their checks, and the objects built from them.

One rule for bad option values, the same in every subcommand:

* a value that is not even of the right type (``--fps soon``) is a usage
  error, reported by argparse with the usage line (exit 2), as an unknown
  option or a missing argument is;
* a value of the right type that is out of range or inconsistent with
  another (``--fps 0``, ``--smooth -1``, ``--exit-threshold`` above
  ``--enter-threshold``) is an :class:`OptionError` naming the option, the
  value and what it takes: one line ``drivercam: error: ...``, exit 1.

Every such check runs while the arguments are parsed, or in
:func:`check_episode_options` right after, before a model loads or a file
opens. Only what needs the model's classes (``--cam-class``,
``--distraction-classes``) is checked once it has loaded.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from drivercam.errors import DrivercamError
from drivercam.model.classes import resolve_class
from drivercam.monitoring.episode_config import EPISODE_PRESETS, EpisodeConfig
from drivercam.monitoring.session import RunSession
from drivercam.monitoring.smoothing import DEFAULT_CAM_TAU_S, DEFAULT_PROBS_TAU_S
from drivercam.render.heatmap import HEATMAP_STYLES
from drivercam.render.overlay import OverlayOptions
from drivercam.types import Roi

MODEL_ENV = "DRIVERCAM_MODEL"
"""The environment variable that gives ``--model`` its default."""


class OptionError(DrivercamError):
    """An option value of the right type that is out of range or inconsistent (exit 1).

    Not a ``ValueError``, so argparse lets it through from a ``type=`` function
    instead of turning it into a usage error.

    Attributes:
        option: the option at fault, as typed (``--fps``).
        value: the value given.
        expected: what the option takes, as a phrase that follows "must be".
    """

    def __init__(self, option: str, value: object, expected: str) -> None:
        self.option = option
        self.value = value
        self.expected = expected
        super().__init__(f"{option} must be {expected}, got {value!r}")


def number(
    option: str,
    *,
    expected: str,
    integer: bool = False,
    minimum: float | None = None,
    above: float | None = None,
    maximum: float | None = None,
) -> Callable[[str], Any]:
    """An argparse ``type=`` for a number option checked against its range.

    Args:
        option: the option's name, for the error.
        expected: what it takes, e.g. ``"a number > 0"``.
        integer: parse an int rather than a float.
        minimum: smallest value allowed; ``above``: the value must be greater.
        maximum: largest value allowed.

    Raises (from the returned function):
        argparse.ArgumentTypeError: the text is not a number (a usage error, exit 2).
        OptionError: the number is out of range or not finite (exit 1).
    """

    def parse(text: str) -> Any:
        try:
            value: float = int(text) if integer else float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {'an integer' if integer else 'a number'}, got {text!r}"
            ) from None
        if (
            not math.isfinite(value)
            or (minimum is not None and value < minimum)
            or (above is not None and value <= above)
            or (maximum is not None and value > maximum)
        ):
            raise OptionError(option, text, expected)
        return value

    return parse


def count(option: str, minimum: int = 1) -> Callable[[str], int]:
    """An argparse ``type=`` for an integer option of at least ``minimum``."""
    parse: Callable[[str], int] = number(option, expected=f"an integer >= {minimum}", integer=True, minimum=minimum)
    return parse


def positive(option: str, what: str = "a number") -> Callable[[str], float]:
    """An argparse ``type=`` for a finite number > 0 (a frame rate, a duration)."""
    parse: Callable[[str], float] = number(option, expected=f"{what} > 0", above=0)
    return parse


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
        type=count("--threads"),
        metavar="N",
        help="ONNX Runtime intra-op threads per inference thread (default: decided from the cores)",
    )
    overlay = common.add_argument_group("overlay")
    overlay.add_argument(
        "--alpha",
        type=number("--alpha", expected="in [0, 1], e.g. --alpha 0.45", minimum=0, maximum=1),
        help="heatmap opacity in [0, 1]",
    )
    overlay.add_argument("--colormap", help="OpenCV colormap name, e.g. jet, turbo, inferno")
    overlay.add_argument("--no-heatmap", action="store_true", help="draw labels only, no class activation map")
    overlay.add_argument(
        "--heatmap-style",
        choices=HEATMAP_STYLES,
        help="evidence: tint only where the map is warm, more where it is warmer (default); "
        "full: blend the colormap over the whole frame",
    )
    overlay.add_argument(
        "--cam-class",
        metavar="CLASS",
        help="show the map of this class (index, class id or label) instead of the predicted one",
    )
    overlay.add_argument("--top-k", type=count("--top-k"), metavar="K", help="number of class bars to draw")
    common.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="show warnings and progress details (-vv: debug); tracebacks on errors",
    )
    return common


def roi_option(text: str) -> Roi:
    """An argparse ``type=`` for ``--roi x,y,w,h`` (pixels, or fractions of the frame when all are <= 1)."""
    parts = text.split(",")
    try:
        [float(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected four numbers x,y,w,h, got {text!r}") from None
    try:
        return Roi.parse(text)
    except ValueError as error:
        raise OptionError("--roi", text, f"a region x,y,w,h inside the frame ({error})") from None


def add_roi_argument(parser: argparse.ArgumentParser) -> None:
    """Add ``--roi`` to a subcommand that runs the model on frames."""
    parser.add_argument(
        "--roi",
        type=roi_option,
        metavar="X,Y,W,H",
        help="run the model on this region of each frame only (the driver): pixels, e.g. 640,0,640,720, "
        "or fractions of the frame, e.g. 0.5,0,0.5,1; the heatmap is drawn there and the region outlined",
    )


def model_path(args: argparse.Namespace, explicit: str | None = None) -> Path:
    """The model to load: ``explicit``, else ``--model``, else ``$DRIVERCAM_MODEL``, else the bundled one."""
    from drivercam.model import default_model_path

    chosen = explicit or args.model or os.environ.get(MODEL_ENV)
    return Path(chosen) if chosen else default_model_path()


def overlay_options(args: argparse.Namespace, cam_class: int | None = None) -> OverlayOptions:
    """Drawing options from ``--alpha``, ``--colormap``, ``--no-heatmap``, ``--heatmap-style``, ``--top-k``."""
    kwargs: dict[str, Any] = {"show_heatmap": not args.no_heatmap, "cam_class": cam_class}
    if args.alpha is not None:
        kwargs["alpha"] = args.alpha
    if args.colormap is not None:
        kwargs["colormap"] = args.colormap
    if args.top_k is not None:
        kwargs["top_k"] = args.top_k
    if args.heatmap_style is not None:
        kwargs["heatmap_style"] = args.heatmap_style
    return OverlayOptions(**kwargs)


def cam_class_option(spec: str | None, labels: Sequence[str], class_ids: Sequence[str]) -> int | None:
    """``--cam-class`` as a class index (None: show the predicted class)."""
    if spec is None:
        return None
    try:
        return resolve_class(spec, labels, class_ids)
    except ValueError as error:
        raise OptionError("--cam-class", spec, f"a class index, id or label ({error})") from error


def add_episode_arguments(parser: argparse.ArgumentParser, *, outputs: bool = True) -> None:
    """Add the smoothing, episode, alert and report options to a subcommand's parser.

    ``outputs=False`` leaves out the options that name one run's outputs
    (``--no-alerts``, ``--events``, ``--snapshots``, ``--report``, ``--on-alert``).
    """
    group = parser.add_argument_group("smoothing, distraction episodes and alerts")
    smoothing = "a number of seconds >= 0 (0 turns smoothing off)"
    group.add_argument(
        "--smooth",
        type=number("--smooth", expected=smoothing, minimum=0),
        default=DEFAULT_PROBS_TAU_S,
        metavar="S",
        help=f"probability smoothing time constant in seconds, 0 = off (default: {DEFAULT_PROBS_TAU_S})",
    )
    group.add_argument(
        "--cam-smooth",
        type=number("--cam-smooth", expected=smoothing, minimum=0),
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
        option = f"--{name}-s"
        check = (
            positive(option, "a number of seconds")
            if name == "cooldown"
            else number(option, expected="a number of seconds >= 0", minimum=0)
        )
        group.add_argument(option, type=check, metavar="S", help=f"{what} (overrides --preset)")
    probability = "a probability in (0, 1]"
    group.add_argument(
        "--enter-threshold",
        type=number("--enter-threshold", expected=probability, above=0, maximum=1),
        metavar="P",
        help="distraction probability that counts as distracted (default: 0.5)",
    )
    group.add_argument(
        "--exit-threshold",
        type=number("--exit-threshold", expected=probability, above=0, maximum=1),
        metavar="P",
        help="distraction probability below which the driver counts as safe again (default: 0.35)",
    )
    group.add_argument(
        "--min-activity-s",
        type=number("--min-activity-s", expected="a number of seconds >= 0", minimum=0),
        metavar="S",
        help="activities inside an episode shorter than this are merged into their neighbours (default: 1.0)",
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
            raise OptionError(
                "--distraction-classes",
                spec,
                f"class indices 0..{len(class_ids) - 1} or ids {', '.join(class_ids)}, comma-separated "
                f"({item!r} is neither)",
            )
    return tuple(out)


def episode_config(args: argparse.Namespace, class_ids: Sequence[str] | None = None) -> EpisodeConfig:
    """The episode rules from ``--preset`` and its overrides, checked against each other.

    Args:
        class_ids: the model's class ids, to resolve ``--distraction-classes``;
            None leaves that option for later (it needs the model).

    Raises:
        OptionError: the warning would come before an episode starts, or the
            exit threshold is above the enter threshold.
    """
    preset = EpisodeConfig.from_preset(args.preset)
    onset = preset.onset_s if args.onset_s is None else args.onset_s
    warning = preset.warning_s if args.warning_s is None else args.warning_s
    if warning < onset:
        if args.warning_s is not None:
            raise OptionError(
                "--warning-s", args.warning_s, f">= the onset time ({onset:g} s): an alert needs an episode"
            )
        raise OptionError("--onset-s", args.onset_s, f"<= the warning time ({warning:g} s) of --preset {args.preset}")
    enter = preset.enter_threshold if args.enter_threshold is None else args.enter_threshold
    leave = preset.exit_threshold if args.exit_threshold is None else args.exit_threshold
    if leave > enter:
        if args.exit_threshold is not None:
            raise OptionError("--exit-threshold", args.exit_threshold, f"<= the enter threshold ({enter:g})")
        raise OptionError("--enter-threshold", args.enter_threshold, f">= the exit threshold ({leave:g})")
    classes = None if class_ids is None else _distraction_classes(args.distraction_classes, class_ids)
    return EpisodeConfig.from_preset(
        args.preset,
        onset_s=args.onset_s,
        warning_s=args.warning_s,
        cooldown_s=args.cooldown_s,
        release_s=args.release_s,
        enter_threshold=args.enter_threshold,
        exit_threshold=args.exit_threshold,
        distraction_classes=classes,
        min_activity_s=args.min_activity_s,
    )


def check_episode_options(args: argparse.Namespace) -> None:
    """Check the episode options against each other before the model loads (raises :class:`OptionError`)."""
    episode_config(args)


def session_from_args(
    args: argparse.Namespace,
    labels: Sequence[str],
    class_ids: Sequence[str],
    *,
    subtitle: str | None = None,
) -> RunSession:
    """Build the run's :class:`~drivercam.monitoring.session.RunSession` from the episode options."""
    return RunSession(
        labels,
        config=episode_config(args, class_ids),
        probs_tau_s=args.smooth,
        cam_tau_s=args.cam_smooth,
        draw_alerts=not args.no_alerts,
        events_path=args.events,
        snapshot_dir=args.snapshots,
        report_path=args.report,
        on_alert=args.on_alert,
        subtitle=subtitle,
        class_ids=class_ids,
    )
