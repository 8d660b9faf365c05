"""The settings of a batch that decide its results, and their fingerprint in the manifest."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from drivercam.monitoring.episode_config import EpisodeConfig
from drivercam.monitoring.session import RunSession
from drivercam.monitoring.smoothing import DEFAULT_CAM_TAU_S, DEFAULT_PROBS_TAU_S

__all__ = ["BatchSettings", "EpisodeSettings"]


@dataclass(frozen=True)
class EpisodeSettings:
    """Smoothing and episode rules, as ``annotate``'s episode options set them."""

    config: EpisodeConfig = field(default_factory=EpisodeConfig)
    probs_tau_s: float = DEFAULT_PROBS_TAU_S
    cam_tau_s: float = DEFAULT_CAM_TAU_S

    def __post_init__(self) -> None:
        for name in ("probs_tau_s", "cam_tau_s"):
            value = getattr(self, name)
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a number of seconds >= 0 (0 turns smoothing off), got {value!r}")

    def session(self, labels: tuple[str, ...], **outputs: Any) -> RunSession:
        """A :class:`RunSession` with these rules; ``outputs`` are its events/snapshot/report keywords."""
        return RunSession(
            labels,
            config=self.config,
            probs_tau_s=self.probs_tau_s,
            cam_tau_s=self.cam_tau_s,
            **outputs,
        )


@dataclass(frozen=True)
class BatchSettings:
    """What a batch computes; a rerun into the same folder must use the same.

    Attributes:
        episodes: smoothing and episode rules.
        sample_fps: run the model on this many frames a second (None: every frame).
        chunk_s: cut videos longer than this many seconds into chunks.
        annotate: also write each video's annotated MP4.
        snapshots: also save a JPEG of each episode's peak frame.
        model_sha256: the model file's hash.
    """

    episodes: EpisodeSettings = field(default_factory=EpisodeSettings)
    sample_fps: float | None = None
    chunk_s: float = 300.0
    annotate: bool = False
    snapshots: bool = False
    model_sha256: str = ""

    def __post_init__(self) -> None:
        if self.sample_fps is not None and not (math.isfinite(self.sample_fps) and self.sample_fps > 0):
            raise ValueError(f"sample_fps must be a positive frame rate, got {self.sample_fps!r}; e.g. --sample-fps 5")
        if not (math.isfinite(self.chunk_s) and self.chunk_s > 0):
            raise ValueError(f"chunk_s must be a positive number of seconds, got {self.chunk_s!r}; e.g. --chunk-s 300")

    @property
    def renders(self) -> bool:
        """Whether videos are rendered (MP4 or snapshots): such videos run whole, in one worker."""
        return self.annotate or self.snapshots

    def fingerprint(self) -> dict[str, Any]:
        """The settings that change the outputs (not ``chunk_s``: chunking changes nothing), as JSON."""
        config = dataclasses.asdict(self.episodes.config)
        if config.get("distraction_classes") is not None:
            config["distraction_classes"] = list(config["distraction_classes"])
        return {
            "episodes": config,
            "probs_tau_s": self.episodes.probs_tau_s,
            "sample_fps": self.sample_fps,
            "annotate": self.annotate,
            "snapshots": self.snapshots,
            "model_sha256": self.model_sha256,
        }
