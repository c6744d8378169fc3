"""What a regressor learns: the count itself, or ``log1p(count)``.

A parameter of each regressor (``target: none | log1p``). The transform is applied to the
target before fitting and inverted on the predictions, in the family's own ``fit`` and
``predict``, and travels with the logged predictor (its ``extras["target"]``). Metrics are
always on counts.
"""

from __future__ import annotations

import numpy as np

TRANSFORMS = ("none", "log1p")


def check(kind: str) -> str:
    """The transform's name, refused when unknown.

    Raises:
        ValueError: On a name other than those of :data:`TRANSFORMS`.
    """
    if kind not in TRANSFORMS:
        raise ValueError(f"target must be one of {TRANSFORMS}, got {kind!r}")
    return kind


def forward(y: np.ndarray, kind: str) -> np.ndarray:
    """The values a regressor is fitted on."""
    values = np.asarray(y, dtype="float64")
    return np.log1p(values) if check(kind) == "log1p" else values


def inverse(predicted: np.ndarray, kind: str) -> np.ndarray:
    """Counts from a regressor's output, never negative."""
    values = np.asarray(predicted, dtype="float64")
    counts = np.expm1(values) if check(kind) == "log1p" else values
    return np.clip(counts, 0, None)
