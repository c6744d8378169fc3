"""Prediction intervals of the regressors: split-conformal, scaled to the count's level.

How a regressor gets its interval (:func:`bike_traffic.models.evaluation.calibrate_interval`):
the same model type is fitted once more on its training rows minus their last
``calibration_days`` days, and asked about those held-out days, as it will be asked about
the future: it has not seen them. Each held-out hour gives a conformity score, its absolute
error divided by ``sqrt(predicted + 1)``, because counts spread with their level (a Poisson
count's standard deviation is the square root of its mean): a band of the same score is
narrow at night and wide at the rush hour. The score's conformal quantile at ``level``
(the ``ceil((n + 1) * level)``-th smallest of n scores) is the interval's one number; every
prediction ``p`` then serves ``[max(0, p - q * sqrt(p + 1)), p + q * sqrt(p + 1)]``.

Why this method: it needs no change to any model family (the nn and the forests get it
alike), it is exact when the future behaves like the held-out days (split conformal's
finite-sample guarantee), and the held-out days come *after* the rows the model learnt
from, as the test hours do. What it cannot do is foresee a change of regime: a fold that
starts the day a lockdown ends is covered less (docs/intervals.md measures it).

Everything here is numpy on arrays: the fitting and predicting stay in the families.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from bike_traffic.raw_format import TIMESTAMP

#: The method and score named in every interval (``predictor.json``, metrics, docs).
METHOD = "split_conformal"
SCORE = "abs_error_over_sqrt_prediction"


def scale(predicted: np.ndarray) -> np.ndarray:
    """How wide the band is around each prediction, in units of the score: sqrt(p + 1)."""
    return np.sqrt(np.clip(np.asarray(predicted, dtype="float64"), 0.0, None) + 1.0)


def conformity_scores(observed: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Each held-out hour's absolute error in units of :func:`scale`."""
    observed = np.asarray(observed, dtype="float64")
    return np.abs(observed - np.asarray(predicted, dtype="float64")) / scale(predicted)


def conformal_quantile(scores: np.ndarray, level: float) -> float:
    """The ``ceil((n + 1) * level)``-th smallest score (split conformal's quantile).

    Raises:
        ValueError: When ``level`` is not in (0, 1), or there are too few scores for it
            (fewer than ``level / (1 - level)``: the interval would be unbounded).
    """
    if not 0.0 < float(level) < 1.0:
        raise ValueError(f"intervals.level must be between 0 and 1 (exclusive), got {level!r}.")
    scores = np.sort(np.asarray(scores, dtype="float64")[np.isfinite(scores)])
    rank = math.ceil((len(scores) + 1) * float(level))
    if rank > len(scores):
        raise ValueError(
            f"{len(scores)} calibration hours are too few for a {level:.0%} interval "
            f"(at least {rank} needed): lengthen intervals.calibration_days."
        )
    return float(scores[rank - 1])


def calibration_split(
    train: pd.DataFrame, calibration_days: int, max_share: float = 0.25
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training rows cut at ``calibration_days`` days before their last one.

    Args:
        train: Training rows (with the local timestamp).
        calibration_days: How many days at the end are held out.
        max_share: At most this share of the training period's days is held out (a
            short period keeps most of its days to fit the twin on).

    Returns:
        The rows to fit the calibration model on, and the held-out rows.

    Raises:
        ValueError: When either part would be empty.
    """
    stamps = train[TIMESTAMP]
    end = (stamps.max() + pd.Timedelta(hours=1)).ceil("D")
    span_days = (end - stamps.min().floor("D")).days
    days = max(1, min(int(calibration_days), int(span_days * float(max_share))))
    cut = end - pd.DateOffset(days=days)
    fit_rows, held_out = train.loc[stamps < cut], train.loc[stamps >= cut]
    if fit_rows.empty or held_out.empty:
        raise ValueError(
            f"intervals.calibration_days={calibration_days} ({days} days held out) leaves "
            f"{len(fit_rows)} rows to fit and {len(held_out)} to calibrate on "
            f"({len(train)} training rows from {stamps.min()} to {stamps.max()})."
        )
    return fit_rows, held_out


def fit_interval(
    observed: np.ndarray, predicted: np.ndarray, level: float, **described: Any
) -> dict[str, Any]:
    """The interval a predictor carries, from held-out observations and predictions.

    Args:
        observed: Held-out counts.
        predicted: The calibration model's predictions of them.
        level: The share of future hours the interval should cover (0.8).
        **described: What else to record (the calibration period, rows).

    Returns:
        ``{"method", "score", "level", "quantile", "calibration_rows", ...}``: JSON-able.
    """
    scores = conformity_scores(observed, predicted)
    return {
        "method": METHOD,
        "score": SCORE,
        "level": float(level),
        "quantile": conformal_quantile(scores, level),
        "calibration_rows": int(np.isfinite(scores).sum()),
        **described,
    }


def bounds(predicted: np.ndarray, interval: dict[str, Any] | None) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper bounds of each prediction (NaN where there is no interval).

    Args:
        predicted: Predicted counts (NaN where refused).
        interval: Output of :func:`fit_interval`, or None.

    Returns:
        ``(lower, upper)``, the lower never below 0.
    """
    predicted = np.asarray(predicted, dtype="float64")
    if not interval:
        nan = np.full(predicted.shape, np.nan)
        return nan, nan.copy()
    half = float(interval["quantile"]) * scale(predicted)
    return np.maximum(predicted - half, 0.0), predicted + half


def coverage_metrics(
    observed: np.ndarray, lower: np.ndarray, upper: np.ndarray
) -> dict[str, float]:
    """How often the observed count fell inside its interval, and the mean width.

    Returns:
        ``interval_coverage`` (share of hours inside, bounds included) and
        ``interval_width`` (bikes per hour).
    """
    observed = np.asarray(observed, dtype="float64")
    inside = (observed >= lower) & (observed <= upper)
    return {
        "interval_coverage": float(np.mean(inside)) if len(observed) else float("nan"),
        "interval_width": float(np.mean(upper - lower)) if len(observed) else float("nan"),
    }
