"""Several trained networks as one drivercam model, and what the cross-validation says it is worth.

Averaging the logits of networks that end in global average pooling and one
linear layer is itself such a network: the members' last feature maps side by
side (K1 + K2 + ... channels), one linear layer whose weights are the members'
weights divided by their number, and the mean of their biases. Its softmax is
the normalised geometric mean of the members' probabilities, and its CAM (the
linear weights applied to the stacked maps) is the mean of their CAMs, so
``export_onnx.py --ensemble-with`` writes it with the usual contract.

Its expected accuracy on a new driver comes from the members' recipes' fold
predictions (``models/crossval/<name>/foldK-predictions.json``): each held-out
photo scored by the geometric mean of the fold models that never saw its
driver, with the safe-driving bias chosen by ``crossval.py``'s rule.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from crossval_summary import (
    FoldPredictions,
    biased_summary,
    c0_bias_table,
    choose_c0_bias,
    paired_predictions,
    pooled,
)
from torch import nn


class EnsembleNet(nn.Module):
    """Networks with ``features()`` and a linear ``_fc`` on the pooled maps, as one such network."""

    def __init__(self, nets: list[nn.Module]) -> None:
        super().__init__()
        if len(nets) < 2:
            raise ValueError(f"an ensemble needs at least two networks, got {len(nets)}")
        classes = {net._fc.out_features for net in nets}
        if len(classes) != 1:
            raise ValueError(f"the networks predict different numbers of classes: {sorted(classes)}")
        self.members = nn.ModuleList(nets)
        weight = torch.cat([net._fc.weight.detach() for net in nets], dim=1) / len(nets)
        bias = torch.stack([net._fc.bias.detach() for net in nets]).mean(dim=0)
        self._fc = nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            self._fc.weight.copy_(weight)
            self._fc.bias.copy_(bias)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        # Same input size and output stride (export_onnx checks the configs), so the maps line up.
        return torch.cat([net.features(x) for net in self.members], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self._fc(self.features(x).mean(dim=(2, 3)))


def geometric_mean(probs: list[np.ndarray]) -> np.ndarray:
    """Models' probabilities combined by averaging their logs, renormalised per photo."""
    logs = np.mean([np.log(np.maximum(p, 1e-12)) for p in probs], axis=0)
    e = np.exp(logs - logs.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def crossval_block(names: list[str], root: Path) -> dict[str, object]:
    """The ensemble of recipes ``names`` on their common finished folds: headline figures and chosen bias.

    Returns:
        The ``crossval`` block ``export_onnx.crossval_metadata`` reads (figures with the
        chosen bias), plus ``c0_bias`` and ``folds_done``.

    Raises:
        FileNotFoundError: no fold is finished by every recipe.
        ValueError: the recipes hold out different photos in a fold.
    """
    folds = [
        FoldPredictions(
            k,
            geometric_mean([np.array([p["probs"] for p in photos]) for photos in runs]),
            geometric_mean([np.array([p["grey_probs"] for p in photos]) for photos in runs]),
            np.array([p["label"] for p in runs[0]]),
            [p["subject"] for p in runs[0]],
        )
        for k, runs in paired_predictions(names, root)
    ]
    if not folds:
        raise FileNotFoundError(f"no fold finished by every one of {names} under {root}")
    bias = choose_c0_bias(c0_bias_table(*pooled(folds)))
    figures = biased_summary(folds, bias)
    block: dict[str, object] = {
        k: figures[k] for k in ("accuracy_mean", "accuracy_min", "accuracy_max", "worst_driver", "grey_accuracy_mean")
    }
    summary_path = root / names[0] / "summary.json"
    total = len(json.loads(summary_path.read_text())["folds"]) if summary_path.is_file() else None
    block.update(complete=len(folds) == total, c0_bias=bias, folds_done=[f.fold for f in folds], recipes=list(names))
    return block
