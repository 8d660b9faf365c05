"""Temporal smoothing of class probabilities and class activation maps.

Both smoothers are first-order exponential filters whose time constant is in
seconds, not frames, so a 15 fps file and a 30 fps camera behave the same::

    alpha_t = 1 - exp(-(t - t_prev) / tau)
    s_t     = s_prev + alpha_t * (x_t - s_prev)

After a constant input has been held for ``tau`` seconds the output has moved
63 % of the way towards it (95 % after ``3 * tau``), whatever the frame rate.

* The first frame (and the first frame after :meth:`ExponentialSmoother.reset`)
  is passed through unchanged.
* A timestamp that does not increase (a looped file, a restarted camera clock,
  an image folder whose frames all say 0 s) starts the filter again from that
  frame: there is no meaningful time between the two samples to smooth over.
* ``tau_s == 0`` turns smoothing off: every frame is passed through.
"""

from __future__ import annotations

import logging
import math

import numpy as np

__all__ = [
    "DEFAULT_CAM_TAU_S",
    "DEFAULT_PROBS_TAU_S",
    "CamSmoother",
    "ExponentialSmoother",
    "ProbabilitySmoother",
    "smoothing_alpha",
]

logger = logging.getLogger(__name__)

DEFAULT_PROBS_TAU_S = 0.5
"""Default time constant for class probabilities: damps single-frame flicker
while a real change of activity still shows within about a second."""

DEFAULT_CAM_TAU_S = 0.3
"""Default time constant for heatmaps: a little faster than the probabilities
so the map keeps up with hand movement."""


def smoothing_alpha(dt_s: float, tau_s: float) -> float:
    """Weight of the new sample after ``dt_s`` seconds: ``1 - exp(-dt_s / tau_s)``.

    Args:
        dt_s: seconds since the previous sample, ``>= 0``.
        tau_s: time constant in seconds, ``>= 0``; 0 means no smoothing (alpha 1).

    Returns:
        A weight in [0, 1].
    """
    if dt_s < 0:
        raise ValueError(f"dt_s must be >= 0, got {dt_s!r}")
    if tau_s < 0:
        raise ValueError(f"tau_s must be >= 0, got {tau_s!r}")
    if tau_s == 0:
        return 1.0
    # expm1 keeps precision when dt << tau (a high frame rate with a long tau).
    return float(-math.expm1(-dt_s / tau_s))


def _check_tau(tau_s: float) -> float:
    if isinstance(tau_s, bool) or not isinstance(tau_s, (int, float)):
        raise TypeError(f"tau_s must be a number of seconds, got {type(tau_s).__name__}")
    if not math.isfinite(tau_s) or tau_s < 0:
        raise ValueError(f"tau_s must be a finite number of seconds >= 0 (0 turns smoothing off), got {tau_s!r}")
    return float(tau_s)


class ExponentialSmoother:
    """Exponential smoothing of a fixed-shape float array over time.

    Args:
        tau_s: time constant in seconds; 0 turns smoothing off.

    Example:
        >>> s = ExponentialSmoother(tau_s=0.5)
        >>> s.update(0.0, np.array([1.0, 0.0]))
        array([1., 0.], dtype=float32)
    """

    def __init__(self, tau_s: float) -> None:
        self._tau_s = _check_tau(tau_s)
        self._state: np.ndarray | None = None
        self._last_time_s: float | None = None
        self._restarts = 0

    @property
    def tau_s(self) -> float:
        """Time constant in seconds (0: off)."""
        return self._tau_s

    @property
    def state(self) -> np.ndarray | None:
        """A copy of the current smoothed value, or None before the first frame."""
        return None if self._state is None else self._state.copy()

    @property
    def restarts(self) -> int:
        """How many times a non-increasing timestamp restarted the filter."""
        return self._restarts

    def reset(self) -> None:
        """Forget the history; the next frame is passed through unchanged."""
        self._state = None
        self._last_time_s = None

    def update(self, time_s: float, value: np.ndarray) -> np.ndarray:
        """Feed one frame and return the smoothed value.

        Args:
            time_s: the frame's presentation time in seconds.
            value: the frame's array; its shape must match earlier frames
                (call :meth:`reset` to change it).

        Returns:
            A new float32 array of ``value``'s shape; the smoother keeps its
            own copy, so callers may modify it.
        """
        if not math.isfinite(time_s):
            raise ValueError(f"time_s must be a finite number of seconds, got {time_s!r}")
        x = np.asarray(value, dtype=np.float32)
        if not np.all(np.isfinite(x)):
            raise ValueError("value contains NaN or infinity; check the model output")
        if self._state is not None and x.shape != self._state.shape:
            raise ValueError(
                f"value shape changed from {self._state.shape} to {x.shape}; call reset() before changing it"
            )
        if self._state is None or self._last_time_s is None or self._tau_s == 0:
            self._state = x.copy()
        elif time_s <= self._last_time_s:
            self._restarts += 1
            logger.debug(
                "time went from %.4f s to %.4f s; restarting the filter at this frame",
                self._last_time_s,
                time_s,
            )
            self._state = x.copy()
        else:
            alpha = smoothing_alpha(time_s - self._last_time_s, self._tau_s)
            self._state += np.float32(alpha) * (x - self._state)
        self._last_time_s = float(time_s)
        return self._state.copy()


class ProbabilitySmoother(ExponentialSmoother):
    """Smooths a (C,) vector of class probabilities.

    A convex combination of probability vectors is a probability vector, so
    the output still sums to 1 (up to float32 rounding) and its argmax is the
    smoothed class.

    Args:
        tau_s: time constant in seconds; 0 turns smoothing off.
    """

    def __init__(self, tau_s: float = DEFAULT_PROBS_TAU_S) -> None:
        super().__init__(tau_s)

    def update(self, time_s: float, value: np.ndarray) -> np.ndarray:
        """Feed one frame's (C,) probabilities; returns the smoothed (C,) vector."""
        probs = np.asarray(value)
        if probs.ndim != 1 or probs.shape[0] < 1:
            raise ValueError(f"probs must have shape (C,), got {probs.shape}")
        return super().update(time_s, probs)


class CamSmoother(ExponentialSmoother):
    """Smooths class activation maps: the raw (C, h, w) stack or one (h, w) map.

    Smoothing the raw stack and then picking the map of the smoothed class
    keeps the heatmap steady when the top class flickers; smoothing the
    selected, normalised map is cheaper and also works.

    Args:
        tau_s: time constant in seconds; 0 turns smoothing off.
    """

    def __init__(self, tau_s: float = DEFAULT_CAM_TAU_S) -> None:
        super().__init__(tau_s)

    def update(self, time_s: float, value: np.ndarray) -> np.ndarray:
        """Feed one frame's (C, h, w) or (h, w) maps; returns the smoothed maps."""
        cams = np.asarray(value)
        if cams.ndim not in (2, 3):
            raise ValueError(f"cams must have shape (C, h, w) or (h, w), got {cams.shape}")
        return super().update(time_s, cams)
