"""Nodes of ``gbm`` that bind the boosted trees to their pipeline.

Fitting, predicting and judging are :mod:`bike_traffic.models.gbm` and
:mod:`bike_traffic.models.evaluation`, which the logged predictor uses too.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.pipeline import Pipeline

from bike_traffic.models import evaluation, plots
from bike_traffic.models.predictor import Predictor, package_predictor

MODEL_TYPE = "gbm"


def package_model(
    model: Pipeline,
    target: str,
    train: pd.DataFrame,
    test: pd.DataFrame,
    context: dict[str, Any],
    dates: dict[str, str],
    interval: dict[str, Any] | None = None,
) -> tuple[Predictor, dict[str, Any], dict[str, str]]:
    """The fitted boosted trees as the predictor that is judged, logged and served.

    Args:
        model: The fitted trees (:func:`bike_traffic.models.gbm.fit`).
        target: ``params:gbm.target``: what they were fitted on.
        train: Their training rows.
        test: Test rows (for the input example).
        context: The feature context (``feature_context``).
        dates: ``params:predictor``.
        interval: Its prediction interval (:func:`calibrate_interval`).

    Returns:
        The predictor, the bundle the MLflow model dataset logs, the model card.
    """
    return package_predictor(
        MODEL_TYPE, model, {"target": target}, train, test, context, dates, interval
    )


def calibrate_interval(
    train: pd.DataFrame,
    features: dict[str, Any],
    model: dict[str, Any],
    target: str,
    settings: dict[str, Any],
    context: dict[str, Any],
    dates: dict[str, str],
    seed: int,
) -> dict[str, Any]:
    """The boosted trees' prediction interval (``evaluation.calibrate_interval``).

    Args:
        train: Its training rows.
        features: ``params:gbm.features``.
        model: ``params:gbm.model``.
        target: ``params:gbm.target``.
        settings: ``params:intervals``.
        context: The feature context (``feature_context``).
        dates: ``params:predictor``.
        seed: ``params:run.seed``.

    Returns:
        The interval the predictor carries.
    """
    params = {"features": features, "model": model, "target": target}
    return evaluation.calibrate_interval(MODEL_TYPE, train, params, settings, context, dates, seed)


def plot_predictions(predictions: pd.DataFrame) -> tuple[Any, Any]:
    """Predicted vs actual, and error by hour of day, on the test set."""
    return plots.plot_regression_predictions(predictions, "Gradient boosting")
