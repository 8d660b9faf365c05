"""Tests for drivercam.monitoring.smoothing: exponential smoothing with time constants in seconds."""

from __future__ import annotations

import math

import numpy as np
import pytest

from drivercam.monitoring.smoothing import (
    CamSmoother,
    ExponentialSmoother,
    ProbabilitySmoother,
    smoothing_alpha,
)


def test_alpha_matches_formula_and_edges() -> None:
    assert smoothing_alpha(0.1, 0.5) == pytest.approx(1 - math.exp(-0.2), rel=1e-12)
    assert smoothing_alpha(0.0, 0.5) == 0.0
    assert smoothing_alpha(0.1, 0.0) == 1.0
    # Tiny steps keep their precision (expm1, not 1 - exp).
    assert smoothing_alpha(1e-9, 1.0) == pytest.approx(1e-9, rel=1e-6)
    with pytest.raises(ValueError, match="dt_s"):
        smoothing_alpha(-0.1, 0.5)


def test_probability_smoother_matches_hand_computation() -> None:
    tau = 0.5
    times = [0.0, 0.1, 0.25, 0.3, 1.0]
    rng = np.random.default_rng(0)
    xs = rng.dirichlet(np.ones(10), size=len(times)).astype(np.float32)
    s = ProbabilitySmoother(tau)
    outs = [s.update(t, x) for t, x in zip(times, xs)]
    # Independent float64 computation of s_t = s + (1 - e^(-dt/tau)) (x - s).
    ref = xs[0].astype(np.float64)
    np.testing.assert_array_equal(outs[0], xs[0])  # first frame passes through
    for k in range(1, len(times)):
        a = 1.0 - math.exp(-(times[k] - times[k - 1]) / tau)
        ref = ref + a * (xs[k].astype(np.float64) - ref)
        np.testing.assert_allclose(outs[k], ref, rtol=0, atol=1e-6)
    assert outs[-1].dtype == np.float32
    assert float(outs[-1].sum()) == pytest.approx(1.0, abs=1e-5)


def test_step_response_reaches_63_percent_after_tau_at_any_frame_rate() -> None:
    tau = 0.4  # a whole number of frames at every rate below
    for fps in (10, 15, 30, 60):
        s = ExponentialSmoother(tau)
        s.update(0.0, np.zeros(1))
        n = round(tau * fps)
        for i in range(1, n + 1):
            out = s.update(i / fps, np.ones(1))
        # Same value at the same time, whatever the frame rate.
        assert float(out[0]) == pytest.approx(1 - math.exp(-1), abs=1e-6), fps


def test_tau_zero_is_off() -> None:
    s = ProbabilitySmoother(0.0)
    s.update(0.0, np.array([1.0, 0.0]))
    out = s.update(0.033, np.array([0.2, 0.8]))
    np.testing.assert_allclose(out, [0.2, 0.8])


def test_non_increasing_time_restarts_from_the_new_frame() -> None:
    s = ProbabilitySmoother(1.0)
    s.update(0.0, np.array([1.0, 0.0]))
    s.update(0.5, np.array([0.0, 1.0]))
    np.testing.assert_allclose(s.update(0.5, np.array([0.3, 0.7])), [0.3, 0.7])  # same time
    np.testing.assert_allclose(s.update(0.1, np.array([0.9, 0.1])), [0.9, 0.1])  # time went back
    assert s.restarts == 2
    # ...and smooths normally again afterwards.
    out = s.update(1.1, np.array([0.0, 1.0]))
    a = 1 - math.exp(-1.0)
    np.testing.assert_allclose(out, [0.9 * (1 - a), 0.1 + a * 0.9], atol=1e-6)


def test_reset_and_state_and_output_is_a_copy() -> None:
    s = ProbabilitySmoother(0.5)
    assert s.state is None
    out = s.update(0.0, np.array([0.5, 0.5]))
    out[:] = 99  # callers may scribble on the result
    np.testing.assert_allclose(s.state, [0.5, 0.5])
    s.reset()
    assert s.state is None
    np.testing.assert_allclose(s.update(0.1, np.array([1.0, 0.0])), [1.0, 0.0])


def test_cam_smoother_raw_stack_and_selected_map() -> None:
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(2, 10, 6, 8)).astype(np.float32)
    s = CamSmoother(0.3)
    s.update(0.0, a)
    out = s.update(0.1, b)
    w = 1 - math.exp(-0.1 / 0.3)
    np.testing.assert_allclose(out, a + w * (b - a), atol=1e-5)
    single = CamSmoother(0.3)
    single.update(0.0, a[2])
    np.testing.assert_allclose(single.update(0.1, b[2]), out[2], atol=1e-5)


def test_invalid_inputs_raise_clear_errors() -> None:
    with pytest.raises(ValueError, match="tau_s"):
        ProbabilitySmoother(-1.0)
    with pytest.raises(TypeError, match="tau_s"):
        ProbabilitySmoother("0.5")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"shape \(C,\)"):
        ProbabilitySmoother().update(0.0, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="C, h, w"):
        CamSmoother().update(0.0, np.zeros(4))
    s = ProbabilitySmoother()
    s.update(0.0, np.ones(3) / 3)
    with pytest.raises(ValueError, match="reset"):
        s.update(0.1, np.ones(4) / 4)
    with pytest.raises(ValueError, match="NaN"):
        s.update(0.2, np.array([np.nan, 0.5, 0.5]))
