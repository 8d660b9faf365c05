"""Tests for drivercam.pipeline.pipeline: ordering, drop policy, failures, shutdown, several workers."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from support import media
from support.pipeline_fakes import LABELS, FakeClassifier, ListSource
from support.tiny_models import TinyModel

from drivercam.errors import PipelineError, SourceError
from drivercam.model import OnnxClassifier
from drivercam.pipeline import Pipeline
from drivercam.sources import open_source
from drivercam.types import Frame


def test_file_policy_delivers_every_frame_in_order(no_thread_leak: None) -> None:
    source = ListSource(50)
    classifier = FakeClassifier()
    with Pipeline(source, classifier, queue_size=2) as pipeline:
        results = list(pipeline)
        stats = pipeline.stats
    assert [r.frame.index for r in results] == list(range(50))
    # Each prediction belongs to its own frame (the fake scores the pixel value).
    assert all(r.prediction.class_index == r.frame.index % 3 for r in results)
    assert all(r.prediction.cams.shape == (3, 2, 3) for r in results)
    assert all(r.prediction.labels == LABELS for r in results)
    assert (stats.frames_read, stats.frames_inferred, stats.frames_delivered, stats.dropped) == (50, 50, 50, 0)
    assert source.closed
    assert source.read_threads == {"drivercam-capture"}


def test_file_policy_with_slow_consumer_drops_nothing(no_thread_leak: None) -> None:
    source = ListSource(12)
    with Pipeline(source, FakeClassifier(), queue_size=1) as pipeline:
        indices = []
        for result in pipeline:
            time.sleep(0.01)
            indices.append(result.frame.index)
        assert pipeline.stats.dropped == 0
    assert indices == list(range(12))


def test_batching_runs_queued_frames_together_and_keeps_order(no_thread_leak: None) -> None:
    source = ListSource(40)
    classifier = FakeClassifier(delay_s=0.01)
    with Pipeline(source, classifier, queue_size=8, batch_size=4) as pipeline:
        results = list(pipeline)
    assert [r.frame.index for r in results] == list(range(40))
    assert all(r.prediction.class_index == r.frame.index % 3 for r in results)
    assert max(classifier.calls) == 4
    assert sum(classifier.calls) == 40
    assert len(classifier.calls) < 40


def test_live_policy_keeps_newest_frames_and_counts_drops(no_thread_leak: None) -> None:
    source = ListSource(60, live=True, period_s=0.002)
    classifier = FakeClassifier(delay_s=0.02)
    with Pipeline(source, classifier) as pipeline:
        assert pipeline.drop_stale
        indices = [r.frame.index for r in pipeline]
        stats = pipeline.stats
    assert indices == sorted(indices) and len(set(indices)) == len(indices)
    assert len(indices) < 60
    assert stats.dropped > 0
    assert stats.frames_read == 60
    # Every frame read was either inferred or dropped, except possibly one
    # still in the queue when end of stream arrived (none: EOS waits behind it).
    assert stats.frames_inferred + stats.dropped == stats.frames_read
    assert max(classifier.calls) == 1


def test_drop_stale_override_turns_a_live_source_into_every_frame(no_thread_leak: None) -> None:
    source = ListSource(20, live=True)
    with Pipeline(source, FakeClassifier(delay_s=0.002), drop_stale=False) as pipeline:
        indices = [r.frame.index for r in pipeline]
    assert indices == list(range(20))


def test_failing_classifier_raises_pipeline_error_with_cause(no_thread_leak: None) -> None:
    source = ListSource(20)
    with pytest.raises(PipelineError, match="inference failed: session run failed") as info:
        with Pipeline(source, FakeClassifier(fail_on_call=3)) as pipeline:
            list(pipeline)
    assert isinstance(info.value.__cause__, RuntimeError)
    assert source.closed


def test_frames_before_a_classifier_failure_are_delivered(no_thread_leak: None) -> None:
    seen: list[int] = []
    with pytest.raises(PipelineError):
        with Pipeline(ListSource(20), FakeClassifier(fail_on_call=3)) as pipeline:
            for result in pipeline:
                seen.append(result.frame.index)
    assert seen == [0, 1, 2]


def test_failing_source_raises_pipeline_error_after_the_frames_it_read(no_thread_leak: None) -> None:
    seen: list[int] = []
    source = ListSource(20, fail_at=5)
    with pytest.raises(PipelineError, match="capture failed: camera unplugged at frame 5") as info:
        with Pipeline(source, FakeClassifier()) as pipeline:
            for result in pipeline:
                seen.append(result.frame.index)
    assert isinstance(info.value.__cause__, SourceError)
    assert seen == [0, 1, 2, 3, 4]


def test_wrong_classifier_output_shape_is_reported(no_thread_leak: None) -> None:
    class Wrong(FakeClassifier):
        def __call__(self, images: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
            probs, cams = super().__call__(images)
            return probs[:, :2], cams

    with pytest.raises(PipelineError, match=r"expected probs \(1, 3\)"):
        with Pipeline(ListSource(3), Wrong()) as pipeline:
            list(pipeline)


def test_early_break_shuts_down_cleanly(no_thread_leak: None) -> None:
    source = ListSource(10_000)
    with Pipeline(source, FakeClassifier(), queue_size=2) as pipeline:
        for result in pipeline:
            if result.frame.index == 3:
                break
    assert source.closed
    assert source.index < 100  # back-pressure stopped the reader early


def test_endless_live_source_stops_on_exit(no_thread_leak: None) -> None:
    source = ListSource(10**9, live=True, period_s=0.001)
    with Pipeline(source, FakeClassifier(delay_s=0.005)) as pipeline:
        first = next(iter(pipeline))
    # A frame the source really made (its pixels carry its index), read before the stop.
    assert int(first.frame.image[0, 0, 0]) == first.frame.index % 256
    assert first.frame.index < source.index
    assert source.closed


def test_iteration_after_close_stops() -> None:
    pipeline = Pipeline(ListSource(5), FakeClassifier())
    with pipeline:
        pass
    assert list(pipeline) == []
    with pytest.raises(PipelineError, match="closed"):
        pipeline.start()


def test_decode_problem_recorded_by_the_source_surfaces_after_the_last_frame(no_thread_leak: None) -> None:
    class TruncatedSource(ListSource):
        """Ends early like a cut-off file and records why instead of raising."""

        def __init__(self) -> None:
            super().__init__(4)
            self.error: str | None = None

        def read(self) -> Frame | None:
            frame = super().read()
            if frame is None:
                self.error = "decoded 4 of ~10 frames; clip.mp4 is truncated"
            return frame

    seen: list[int] = []
    with pytest.raises(PipelineError, match="capture failed: decoded 4 of ~10 frames") as info:
        with Pipeline(TruncatedSource(), FakeClassifier()) as pipeline:
            for result in pipeline:
                seen.append(result.frame.index)
    assert seen == [0, 1, 2, 3]
    assert isinstance(info.value.__cause__, SourceError)


# -- with the real sources ------------------------------------------------------------


def test_real_video_file_delivers_every_frame_in_order(tmp_path: Path, no_thread_leak: None) -> None:
    clip = media.write_video(tmp_path / "clip.mp4", frames=40, fps=15)
    with Pipeline(open_source(clip), FakeClassifier(), queue_size=3, batch_size=4) as pipeline:
        results = list(pipeline)
    assert [r.frame.index for r in results] == list(range(40))
    # The barcode drawn into each frame proves the pixels travelled with their index.
    assert [media.frame_index_of(r.frame.image) for r in results] == list(range(40))
    assert [r.frame.time_s for r in results] == pytest.approx([i / 15 for i in range(40)], abs=1e-3)


class UnevenClassifier(FakeClassifier):
    """Slow on frames whose pixel value is divisible by 3, so concurrent batches finish out of order.

    Fails on the frame whose pixel value is ``fail_on_value``; records which threads ran it.
    """

    def __init__(self, fail_on_value: int | None = None) -> None:
        super().__init__()
        self.fail_on_value = fail_on_value
        self.threads: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, images: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        values = [int(image[0, 0, 0]) for image in images]
        with self._lock:
            self.threads.add(threading.current_thread().name)
        if self.fail_on_value in values:
            raise RuntimeError(f"session run failed on frame {self.fail_on_value}")
        time.sleep(0.02 if any(v % 3 == 0 for v in values) else 0.001)
        probs = np.zeros((len(images), len(LABELS)), np.float32)
        for i, value in enumerate(values):
            probs[i, value % len(LABELS)] = 1.0
        return probs, np.zeros((len(images), len(LABELS), 2, 3), np.float32)


@pytest.mark.parametrize("workers, batch_size", [(2, 1), (3, 1), (3, 2)])
def test_several_workers_deliver_every_frame_once_in_order(workers: int, batch_size: int, no_thread_leak: None) -> None:
    classifier = UnevenClassifier()
    with Pipeline(ListSource(40), classifier, workers=workers, batch_size=batch_size) as pipeline:
        assert pipeline.workers == workers
        results = list(pipeline)
        stats = pipeline.stats
    assert [r.frame.index for r in results] == list(range(40))
    assert all(r.prediction.class_index == r.frame.index % 3 for r in results)
    assert stats.frames_inferred == stats.frames_delivered == 40
    assert classifier.threads <= {f"drivercam-inference-{i}" for i in range(1, workers + 1)}


class MeetingClassifier(FakeClassifier):
    """Each call waits until ``parties`` calls are running at once (a barrier with a timeout)."""

    def __init__(self, parties: int) -> None:
        super().__init__()
        self.barrier = threading.Barrier(parties, timeout=10.0)
        self.met = 0

    def __call__(self, images: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        self.barrier.wait()  # raises BrokenBarrierError unless the other threads run too
        self.met += 1
        return super().__call__(images)


@pytest.mark.parametrize("workers", [2, 3])
def test_several_workers_run_the_classifier_at_the_same_time(workers: int, no_thread_leak: None) -> None:
    # With fewer threads the barrier could never fill and the run would fail.
    classifier = MeetingClassifier(workers)
    with Pipeline(ListSource(workers * 4), classifier, workers=workers) as pipeline:
        indices = [r.frame.index for r in pipeline]
    assert indices == list(range(workers * 4))
    assert classifier.met == workers * 4


def test_several_workers_deliver_the_frames_before_an_inference_failure(no_thread_leak: None) -> None:
    seen = []
    with pytest.raises(PipelineError, match="inference failed: session run failed on frame 7") as info:
        with Pipeline(ListSource(30), UnevenClassifier(fail_on_value=7), workers=2) as pipeline:
            for result in pipeline:
                seen.append(result.frame.index)
    assert seen == list(range(7))
    assert isinstance(info.value.__cause__, RuntimeError)


def test_several_workers_deliver_the_frames_before_a_capture_failure(no_thread_leak: None) -> None:
    seen = []
    with pytest.raises(PipelineError, match="capture failed: camera unplugged at frame 9"):
        with Pipeline(ListSource(30, fail_at=9), UnevenClassifier(), workers=3) as pipeline:
            for result in pipeline:
                seen.append(result.frame.index)
    assert seen == list(range(9))


def test_live_policy_uses_one_worker_and_bad_worker_counts_are_refused() -> None:
    assert Pipeline(ListSource(3, live=True), FakeClassifier(), workers=4).workers == 1
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="workers must be an int >= 1"):
            Pipeline(ListSource(3), FakeClassifier(), workers=bad)  # type: ignore[arg-type]


def test_real_truncated_file_surfaces_its_decode_problem_at_the_end(tmp_path: Path, no_thread_leak: None) -> None:
    full = media.write_video(tmp_path / "full.mp4", frames=60, fps=15, faststart=True)
    cut = media.truncated_copy(full, tmp_path / "cut.mp4", keep=0.5)
    seen: list[int] = []
    with pytest.raises(PipelineError, match="capture failed: decoded") as info:
        with Pipeline(open_source(cut), FakeClassifier()) as pipeline:
            for result in pipeline:
                seen.append(result.frame.index)
    assert isinstance(info.value.__cause__, SourceError)
    assert 0 < len(seen) < 60
    assert seen == list(range(len(seen)))


def test_paced_file_is_live_and_drops_frames_behind_a_slow_model(tmp_path: Path, no_thread_leak: None) -> None:
    clip = media.write_video(tmp_path / "clip.mp4", frames=30, fps=60)  # 0.5 s
    with Pipeline(open_source(clip, live=True), FakeClassifier(delay_s=0.05)) as pipeline:
        assert pipeline.drop_stale
        indices = [r.frame.index for r in pipeline]
        stats = pipeline.stats
    assert indices == sorted(set(indices))
    assert stats.dropped > 0 and len(indices) + stats.dropped == 30


def test_real_tiny_onnx_model_on_a_real_clip_in_order(
    tiny_model: TinyModel, tmp_path: Path, no_thread_leak: None
) -> None:
    clip = media.write_video(tmp_path / "clip.mp4", frames=30, fps=15)
    classifier = OnnxClassifier(tiny_model.path, device="cpu", intra_op_threads=1, max_batch=4)
    with Pipeline(open_source(clip), classifier, batch_size=4) as pipeline:
        results = list(pipeline)
        stats = pipeline.stats
    assert [r.frame.index for r in results] == list(range(30))
    assert stats.frames_inferred == 30 and stats.dropped == 0 and stats.mean_inference_ms > 0
    # Batched results equal the model run on each frame alone, and its numpy recomputation.
    for result in results[::7]:
        probs, cams = classifier([result.frame.image])
        np.testing.assert_allclose(result.prediction.probs, probs[0], rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(result.prediction.cams, cams[0], rtol=1e-5, atol=1e-5)
        assert result.prediction.cams.shape == (10, *tiny_model.cam_size)
        assert result.prediction.label == tiny_model.labels[int(np.argmax(probs[0]))]


class ThreadRecordingClassifier:
    """An OnnxClassifier that records which thread prepared frames and which ran the model."""

    def __init__(self, inner: OnnxClassifier) -> None:
        self.inner = inner
        self.prepared_on: set[str] = set()
        self.run_on: set[str] = set()
        self.called = False

    @property
    def labels(self) -> tuple[str, ...]:
        return self.inner.labels

    @property
    def class_ids(self) -> tuple[str, ...]:
        return self.inner.class_ids

    def prepare(self, image: np.ndarray) -> np.ndarray:
        self.prepared_on.add(threading.current_thread().name)
        return self.inner.prepare(image)

    def run_batch(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        self.run_on.add(threading.current_thread().name)
        return self.inner.run_batch(batch)

    def __call__(self, images: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        self.called = True
        return self.inner(images)


@pytest.mark.parametrize("batch_size", [1, 3])
def test_frames_are_resized_on_the_capture_thread_with_the_same_results(
    tiny_model: TinyModel, tmp_path: Path, batch_size: int, no_thread_leak: None
) -> None:
    clip = media.write_video(tmp_path / "clip.mp4", frames=10, fps=15)
    onnx = OnnxClassifier(tiny_model.path, device="cpu", intra_op_threads=1, max_batch=batch_size)
    runs = {}
    for prepare in (True, False):
        recorder = ThreadRecordingClassifier(onnx)
        with Pipeline(open_source(clip), recorder, batch_size=batch_size, prepare_in_capture=prepare) as pipeline:
            runs[prepare] = list(pipeline)
        if prepare:
            assert recorder.prepared_on == {"drivercam-capture"}
            assert recorder.run_on == {"drivercam-inference"} and not recorder.called
        else:
            assert not recorder.prepared_on and not recorder.run_on and recorder.called
    assert [r.frame.index for r in runs[True]] == list(range(10))
    for ahead, inline in zip(runs[True], runs[False], strict=True):
        np.testing.assert_array_equal(ahead.prediction.probs, inline.prediction.probs)
        np.testing.assert_array_equal(ahead.prediction.cams, inline.prediction.cams)


def test_a_frame_the_classifier_cannot_prepare_fails_the_capture_stage(
    tiny_model: TinyModel, no_thread_leak: None
) -> None:
    source = ListSource(5)
    bad = Frame(index=5, image=np.zeros((0, 64, 3), np.uint8), time_s=0.2, source="list", captured_at=0.0)
    reads = iter([*(source.read() for _ in range(5)), bad, None])

    class BadAtTheEnd(ListSource):
        def read(self) -> Frame | None:
            return next(reads)

    classifier = OnnxClassifier(tiny_model.path, device="cpu", intra_op_threads=1)
    seen = []
    with pytest.raises(PipelineError, match="capture failed: image 0 is empty [(]64x0 pixels[)]") as info:
        with Pipeline(BadAtTheEnd(0), classifier) as pipeline:
            for result in pipeline:
                seen.append(result.frame.index)
    assert seen == [0, 1, 2, 3, 4]
    assert isinstance(info.value.__cause__, ValueError)


class StalledSource(ListSource):
    """A source whose read blocks until released, like a frozen camera driver."""

    def __init__(self) -> None:
        super().__init__(10, live=True)
        self.release = threading.Event()

    def read(self) -> Frame | None:
        self.release.wait(timeout=10.0)
        return None


def test_result_timeout_turns_a_stalled_source_into_an_error(no_thread_leak: None) -> None:
    source = StalledSource()
    start = time.monotonic()
    try:
        with pytest.raises(PipelineError, match=r"no result within 0\.2 s") as info:
            with Pipeline(source, FakeClassifier(), result_timeout_s=0.2, join_timeout_s=0.2) as pipeline:
                list(pipeline)
        assert isinstance(info.value.__cause__, TimeoutError)
        assert time.monotonic() - start < 2.0
        # The capture thread is still stuck in read(): the source is left open, not closed under it.
        assert not source.closed
    finally:
        source.release.set()


def test_fresh_frames_off_keeps_the_frame_that_waited(no_thread_leak: None) -> None:
    with Pipeline(
        ListSource(40, live=True, period_s=0.002), FakeClassifier(delay_s=0.01), fresh_frames=False
    ) as pipeline:
        indices = [r.frame.index for r in pipeline]
        stats = pipeline.stats
    assert indices == sorted(set(indices)) and stats.dropped > 0
    assert stats.frames_inferred + stats.dropped == stats.frames_read == 40


# -- stopping at any moment --------------------------------------------------------


def test_close_while_the_camera_waits_to_reconnect_is_quick_and_releases_it(no_thread_leak: None) -> None:
    from support.fake_capture import FakeCapture, FakeFactory

    from drivercam.sources import CameraSource

    first = FakeCapture(frames=3)
    factory = FakeFactory(first)  # then only absent cameras
    camera = CameraSource(0, capture_factory=factory, backoff_s=4.0, max_backoff_s=8.0)
    pipeline = Pipeline(camera, FakeClassifier())
    with pipeline:
        results = [next(pipeline) for _ in range(1)]
        time.sleep(0.3)  # the camera has run dry: the capture thread is in the 4 s back-off
        started = time.monotonic()
    took = time.monotonic() - started
    assert results and took < 1.0
    assert first.released
    time.sleep(0.3)
    assert len(factory.calls) == 1  # not reopened after the pipeline closed


def test_close_while_a_paced_file_waits_for_its_next_frame_is_quick(tmp_path: Path, no_thread_leak: None) -> None:
    media.write_image_folder(tmp_path / "slow", count=3)
    source = open_source(str(tmp_path / "slow"), fps=0.2, live=True)  # a frame every 5 s
    with Pipeline(source, FakeClassifier()) as pipeline:
        next(pipeline)
        time.sleep(0.2)
        started = time.monotonic()
    assert time.monotonic() - started < 1.0


@pytest.mark.parametrize(
    "state",
    ["not started", "file mid-stream", "file ended", "live mid-stream", "live with a slow model", "stalled camera"],
)
def test_close_returns_within_a_second_in_every_state(state: str) -> None:
    from support.fake_capture import FakeFactory, HangingCapture

    from drivercam.sources import CameraSource

    hanging = HangingCapture(frames=2)
    if state == "stalled camera":
        source: object = CameraSource(0, capture_factory=FakeFactory(hanging), stall_timeout_s=30)
    elif state.startswith("live"):
        source = ListSource(10_000, live=True, period_s=0.01)
    else:
        source = ListSource(10_000 if state != "file ended" else 3)
    classifier = FakeClassifier(delay_s=3.0 if state == "live with a slow model" else 0.0)
    pipeline = Pipeline(source, classifier)  # type: ignore[arg-type]
    try:
        if state != "not started":
            pipeline.start()
            if state == "file ended":
                assert len(list(pipeline)) == 3
            elif state == "stalled camera":
                next(pipeline)
                assert hanging.hanging.wait(5)
            else:
                time.sleep(0.3)
        started = time.monotonic()
        pipeline.close()
        took = time.monotonic() - started
    finally:
        hanging.unblock.set()
    print(f"close() in state {state!r}: {took * 1000:.0f} ms")
    assert took < 1.0, f"close() took {took:.2f} s"
    if state != "stalled camera":
        assert source.closed  # type: ignore[attr-defined]
    capture = [t for t in threading.enumerate() if t.name == "drivercam-capture"]
    assert not [t for t in capture if t.is_alive()]
