"""A classifier that sees only a region of each frame (``--roi``)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from drivercam.types import Classifier, PreparingClassifier, Roi


def with_roi(classifier: Classifier, roi: Roi | None) -> Classifier:
    """``classifier`` itself without a region, else a :class:`RoiClassifier` (preparing when it is)."""
    if roi is None:
        return classifier
    if isinstance(classifier, PreparingClassifier):
        return PreparingRoiClassifier(classifier, roi)
    return RoiClassifier(classifier, roi)


class RoiClassifier:
    """Runs ``inner`` on the region ``roi`` of each frame instead of the whole frame.

    The probabilities and CAMs are those of the region: draw the CAM over the
    region, not the whole frame (:class:`~drivercam.render.frame.FrameRenderer`
    does, given the same ``roi``). Cropping is a view, so it costs nothing
    before the inner classifier's own resize.

    Args:
        inner: the classifier of whole frames.
        roi: the region, in pixels or fractions of each frame.
    """

    def __init__(self, inner: Classifier, roi: Roi) -> None:
        if not isinstance(roi, Roi):
            raise TypeError(f"roi must be a Roi, got {type(roi).__name__}")
        self.inner = inner
        self.roi = roi

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.inner.labels)

    @property
    def class_ids(self) -> tuple[str, ...]:
        return tuple(self.inner.class_ids)

    def __call__(self, images: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        return self.inner([self.roi.crop(image) for image in images])

    def __repr__(self) -> str:
        return f"RoiClassifier({self.inner!r}, roi={self.roi})"


class PreparingRoiClassifier(RoiClassifier):
    """A :class:`RoiClassifier` whose resizing can run on the capture thread, as its inner one's can."""

    def __init__(self, inner: PreparingClassifier, roi: Roi) -> None:
        super().__init__(inner, roi)
        self._preparing = inner

    def prepare(self, image: np.ndarray) -> np.ndarray:
        return self._preparing.prepare(self.roi.crop(image))

    def run_batch(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self._preparing.run_batch(batch)
