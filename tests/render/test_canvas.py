"""Tests for drivercam.render.canvas and drawing on the decoder's I420 pictures.

The I420 pictures here come from real H.264 files written and decoded with
PyAV; the renderer's I420 output is compared with the BGR route's.
"""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from support.drawing import scores
from support.media import write_video
from support.tiny_models import STATEFARM_LABELS

from drivercam.picture import I420, as_bgr
from drivercam.render.alert import draw_alert
from drivercam.render.canvas import BgrCanvas, YuvCanvas, canvas_for
from drivercam.render.frame import FrameRenderer
from drivercam.render.overlay import OverlayOptions
from drivercam.sources.video import VideoFileSource
from drivercam.types import Frame, Prediction, Result, Roi


def _noise_i420(h: int = 48, w: int = 64, seed: int = 0) -> I420:
    return I420(np.random.default_rng(seed).integers(16, 236, (h * 3 // 2, w), dtype=np.uint8))


@pytest.fixture(scope="module")
def clip_frames(tmp_path_factory: pytest.TempPathFactory) -> list[Frame]:
    path = write_video(tmp_path_factory.mktemp("canvas") / "clip.mp4", frames=6, width=320, height=240)
    with VideoFileSource(path) as source:
        frames = [frame for frame in iter(source.read, None)]
    assert all(frame.yuv is not None for frame in frames)
    return frames


def test_touched_rectangles_hold_the_picture_in_bgr_and_the_rest_is_left_alone() -> None:
    picture = _noise_i420()
    full = cv2.cvtColor(picture.data, cv2.COLOR_YUV2BGR_I420)
    canvas = YuvCanvas(picture)
    canvas.touch(3, 5, 40, 30)  # odd bounds widen to even ones
    np.testing.assert_array_equal(canvas.image[4:30, 2:40], full[4:30, 2:40])
    canvas.image[10:20, 10:20] = (0, 0, 255)
    canvas.touch(15, 15, 64, 48)  # overlaps the drawing: only the new part is converted
    np.testing.assert_array_equal(canvas.image[12:20, 12:20], np.broadcast_to((0, 0, 255), (8, 8, 3)))
    np.testing.assert_array_equal(canvas.image[30:48, 40:64], full[30:48, 40:64])
    out = canvas.finish()
    assert isinstance(out, I420) and out is not picture
    y_in, u_in, v_in = picture.planes()
    y_out, u_out, v_out = out.planes()
    # Outside what was touched: the picture's own bytes, exactly.
    np.testing.assert_array_equal(y_out[:4], y_in[:4])
    np.testing.assert_array_equal(y_out[30:, :14], y_in[30:, :14])
    np.testing.assert_array_equal(u_out[:2], u_in[:2])
    # The red square, converted back: red in the decoded picture.
    back = out.to_bgr()
    assert back[15, 15, 2] > 200 and back[15, 15, 0] < 60
    # The input picture is never changed.
    np.testing.assert_array_equal(picture.data, _noise_i420().data)


def test_a_bgr_canvas_is_a_copy_and_touching_changes_nothing() -> None:
    image = np.full((8, 10, 3), 7, np.uint8)
    canvas = canvas_for(image)
    assert isinstance(canvas, BgrCanvas)
    canvas.touch(0, 0, 4, 4)
    canvas.image[0, 0] = 0
    assert image[0, 0, 0] == 7
    assert canvas.finish() is canvas.image


def test_frames_keep_the_decoder_picture_and_convert_to_bgr_only_when_asked(clip_frames: list[Frame]) -> None:
    frame = clip_frames[0]
    assert frame.yuv is not None and frame.shape == (240, 320, 3)
    with av.open(str(frame.source)) as container:
        decoded = next(container.decode(video=0))
        np.testing.assert_array_equal(frame.yuv.data, decoded.to_ndarray())
        # The lazily converted image is FFmpeg's conversion, as before.
        np.testing.assert_array_equal(frame.image, decoded.to_ndarray(format="bgr24"))
    with VideoFileSource(frame.source or "", keep_yuv=False) as source:
        bgr = source.read()
    assert bgr is not None and bgr.yuv is None
    np.testing.assert_array_equal(bgr.image, frame.image)


def _drawn(picture: I420, out: I420) -> np.ndarray:
    """Where the luma changed, in 2x2 blocks."""
    return np.asarray(picture.planes()[0] != out.planes()[0])


@pytest.mark.parametrize("roi", [None, Roi(100, 20, 160, 200)])
def test_the_renderer_draws_on_i420_as_it_draws_on_bgr(clip_frames: list[Frame], roi: Roi | None) -> None:
    renderer = FrameRenderer(STATEFARM_LABELS, OverlayOptions(alpha=0.6), roi=roi)
    for i, frame in enumerate(clip_frames):
        probs, cams = scores(seed=i)
        prediction = Prediction(probs, cams, STATEFARM_LABELS)
        out = renderer(Result(frame, prediction, 5.0), fps=30.0)
        assert isinstance(out, I420)
        reference = renderer(Result(Frame(frame.index, frame.image, frame.time_s), prediction, 5.0), fps=30.0)
        assert isinstance(reference, np.ndarray)
        # The same drawing: a BGR -> I420 of the BGR route's picture differs from
        # the I420 route's by the two YUV -> BGR conversions' rounding (FFmpeg's
        # and OpenCV's), a few levels.
        ours = out.planes()[0].astype(int)
        theirs = cv2.cvtColor(reference, cv2.COLOR_BGR2YUV_I420)[:240].astype(int)
        assert np.abs(ours - theirs).max() <= 8
        assert np.abs(ours - theirs).mean() < 1.0
        # The banner and the bars are drawn; the rest of the frame is the decoder's own.
        changed = _drawn(frame.yuv, out)  # type: ignore[arg-type]
        assert changed[:20].mean() > 0.5 and changed[-40:, :100].mean() > 0.3
        assert not changed.all()


def test_the_alert_is_drawn_on_i420_along_the_edges_only(clip_frames: list[Frame]) -> None:
    picture = clip_frames[1].yuv
    assert picture is not None
    out = draw_alert(picture, label="texting - right", elapsed_s=3.2, position="top")
    assert isinstance(out, I420)
    reference = draw_alert(picture.to_bgr(), label="texting - right", elapsed_s=3.2, position="top")
    difference = np.abs(out.data.astype(int) - cv2.cvtColor(reference, cv2.COLOR_BGR2YUV_I420).astype(int))
    assert difference.max() <= 8 and difference.mean() < 1.0
    # The middle of the frame is not touched.
    np.testing.assert_array_equal(out.planes()[0][60:200, 20:300], picture.planes()[0][60:200, 20:300])


def test_mp4_written_from_i420_pictures_decodes_back_to_them(clip_frames: list[Frame], tmp_path: Path) -> None:
    from drivercam.sinks.mp4 import Mp4Sink

    path = tmp_path / "out.mp4"
    with Mp4Sink(path, width=320, height=240, fps=15, crf=0) as sink:
        for frame in clip_frames:
            assert frame.yuv is not None
            sink.write(frame.yuv, frame.time_s)
    with VideoFileSource(path) as source:
        back = [frame for frame in iter(source.read, None)]
    assert len(back) == len(clip_frames)
    for ours, theirs in zip(back, clip_frames):
        assert ours.yuv is not None and theirs.yuv is not None
        np.testing.assert_array_equal(ours.yuv.data, theirs.yuv.data)  # crf 0: lossless


def test_as_bgr_and_i420_checks() -> None:
    picture = _noise_i420(4, 6)
    assert as_bgr(picture).shape == (4, 6, 3)
    image = np.zeros((4, 6, 3), np.uint8)
    assert as_bgr(image) is image
    with pytest.raises(ValueError):
        I420(np.zeros((5, 6), np.uint8))
    with pytest.raises(ValueError):
        Frame(0, None, 0.0)


def test_frames_pickle_and_copy_with_their_picture(clip_frames: list[Frame]) -> None:
    import copy
    import pickle

    frame = clip_frames[2]
    for clone in (pickle.loads(pickle.dumps(frame)), copy.deepcopy(frame), copy.copy(frame)):
        assert clone.index == frame.index and clone.time_s == frame.time_s
        assert clone.yuv is not None and frame.yuv is not None
        np.testing.assert_array_equal(clone.yuv.data, frame.yuv.data)
        np.testing.assert_array_equal(clone.image, frame.image)
