"""The model input made from the decoder's I420 picture: close to the BGR route's, and the same on every route.

Real H.264 files written and decoded with PyAV, a real ONNX Runtime session
(the tiny contract model), the real pipeline.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from support import media
from support.decoding import read_all
from support.tiny_models import TinyModel

from drivercam.model import OnnxClassifier
from drivercam.model.preprocess import Preprocessor
from drivercam.pipeline import Pipeline
from drivercam.sources.span import probe_video, read_span
from drivercam.sources.video import VideoFileSource
from drivercam.types import Frame


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return media.write_video(tmp_path_factory.mktemp("yuv") / "clip.mp4", frames=12, width=320, height=240)


def test_the_i420_input_is_close_to_the_bgr_inter_area_input(clip: Path) -> None:
    prep = Preprocessor(48, 64, "BGR")
    for frame in read_all(VideoFileSource(clip)):
        assert frame.yuv is not None
        ours = prep.frame(frame).astype(int)
        theirs = prep.one(frame.image).astype(int)
        assert ours.shape == (48, 64, 3)
        assert np.abs(ours - theirs).mean() < 2.0


def test_an_rgb_model_gets_rgb_from_i420_too(clip: Path) -> None:
    frame = read_all(VideoFileSource(clip))[0]
    bgr = Preprocessor(48, 64, "BGR").frame(frame)
    rgb = Preprocessor(48, 64, "RGB").frame(frame)
    np.testing.assert_array_equal(rgb, bgr[..., ::-1])


def test_frames_without_a_picture_take_the_bgr_route() -> None:
    image = np.random.default_rng(0).integers(0, 256, (240, 320, 3), dtype=np.uint8)
    prep = Preprocessor(48, 64, "BGR")
    np.testing.assert_array_equal(
        prep.frame(Frame(0, image, 0.0)), cv2.resize(image, (64, 48), interpolation=cv2.INTER_AREA)
    )


def test_pipeline_batch_spans_and_the_classifier_give_the_model_the_same_input(clip: Path, tiny: TinyModel) -> None:
    classifier = OnnxClassifier(tiny.path)
    with Pipeline(VideoFileSource(clip), classifier, workers=2) as pipeline:
        piped = {r.frame.index: r.prediction.probs for r in pipeline}
    probe = probe_video(str(clip))
    spans = {
        f.index: classifier.run_batch(classifier.prepare_frame(f.frame())[None])[0][0] for f in read_span(probe, 0, 12)
    }
    direct = read_all(VideoFileSource(clip))
    assert sorted(piped) == sorted(spans) == list(range(12))
    for frame in direct:
        expected = classifier.run_batch(classifier.prepare_frame(frame)[None])[0][0]
        np.testing.assert_array_equal(piped[frame.index], expected)
        np.testing.assert_array_equal(spans[frame.index], expected)
    # The span's frame is the file source's frame.
    for f in read_span(probe, 3, 5):
        np.testing.assert_array_equal(f.frame().yuv.data, direct[f.index].yuv.data)  # type: ignore[union-attr]
