"""The affluence classifier: is an hour busier than its counter's usual level?

An hour is "high traffic" when its count is above its counter's mean (or median)
computed on train only (:func:`fit_thresholds`). The thresholds travel with the model
and are applied unchanged to test rows and at inference time: nothing of the test set
leaks into the label.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import Pipeline

from bike_traffic.features import TARGET
from bike_traffic.models.rf import build_preprocessor, feature_columns
from bike_traffic.raw_format import COUNTER

logger = logging.getLogger(__name__)

#: How the logged predictor stores this family's estimator (models.persistence).
STORAGE = "skops"

_STATISTICS = ("mean", "median")


def fit_thresholds(train: pd.DataFrame, label: dict[str, Any]) -> dict[str, Any]:
    """Each counter's threshold of "high traffic", from train only.

    Args:
        train: Train rows.
        label: ``params:affluence_classifier.label`` (``statistic``: mean or median).

    Returns:
        ``{"statistic", "per_counter": {counter: threshold}, "default": threshold}``;
        ``default`` serves counters never seen in training.

    Raises:
        ValueError: On a statistic other than mean or median.
    """
    statistic = label["statistic"]
    if statistic not in _STATISTICS:
        raise ValueError(f"label.statistic must be one of {_STATISTICS}, got {statistic!r}")
    per_counter = train.groupby(COUNTER, observed=True)[TARGET].agg(statistic)
    return {
        "statistic": statistic,
        "per_counter": {str(k): float(v) for k, v in per_counter.items()},
        "default": float(getattr(train[TARGET], statistic)()),
    }


def label_rows(thresholds: dict[str, Any], frame: pd.DataFrame) -> np.ndarray:
    """1 where the count is above its counter's threshold, else 0.

    Args:
        thresholds: Output of :func:`fit_thresholds`.
        frame: Rows with counter and count.

    Returns:
        The labels.
    """
    limit = frame[COUNTER].astype(str).map(thresholds["per_counter"])
    limit = limit.fillna(thresholds["default"]).to_numpy(dtype="float64")
    return (frame[TARGET].to_numpy(dtype="float64") > limit).astype("int8")


def fit(
    train: pd.DataFrame,
    thresholds: dict[str, Any],
    features: dict[str, list[str]],
    model: dict[str, Any],
) -> Pipeline:
    """Fit preprocessing and a RandomForestClassifier on the train labels.

    Args:
        train: Train rows.
        thresholds: Output of :func:`fit_thresholds`.
        features: ``params:affluence_classifier.features``.
        model: ``params:affluence_classifier.model``.

    Returns:
        The fitted scikit-learn ``Pipeline``.
    """
    y = label_rows(thresholds, train)
    pipeline = Pipeline(
        [("preprocess", build_preprocessor(features)), ("forest", RandomForestClassifier(**model))]
    )
    pipeline.fit(train[feature_columns(features)], y)
    logger.info("Fitted RandomForestClassifier on %d rows, %.1f%% high", len(y), 100 * y.mean())
    return pipeline


def fit_estimator(
    train: pd.DataFrame, params: dict[str, Any], seed: int
) -> tuple[Pipeline, dict[str, Any]]:
    """Thresholds then forest from ``params:affluence_classifier``, as its pipeline chains them.

    Args:
        train: Train rows.
        params: ``params:affluence_classifier`` (``label``, ``features``, ``model``).
        seed: Unused (the forest's seed is ``model.random_state``).

    Returns:
        The fitted pipeline and ``{"thresholds": ...}``.
    """
    thresholds = fit_thresholds(train, params["label"])
    return fit(train, thresholds, params["features"], params["model"]), {"thresholds": thresholds}


def predict(estimator: Pipeline, extras: dict[str, Any], frame: pd.DataFrame) -> np.ndarray:
    """Probability that each row is a high-traffic hour.

    Args:
        estimator: Output of :func:`fit`.
        extras: ``{"thresholds": ...}`` (not needed to predict; they define the label).
        frame: Rows of the feature table.

    Returns:
        P(high) per row.
    """
    proba = estimator.predict_proba(frame[list(estimator.feature_names_in_)])
    classes = list(estimator.classes_)
    return proba[:, classes.index(1)] if 1 in classes else np.zeros(len(frame))
