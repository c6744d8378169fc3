"""Nodes of ``rf`` that bind the random forest to its pipeline.

Fitting, predicting and judging are :mod:`bike_traffic.models.rf` and
:mod:`bike_traffic.models.evaluation`, which the logged predictor uses too.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.pipeline import Pipeline

from bike_traffic.models import plots
from bike_traffic.models.predictor import Predictor, package_predictor

MODEL_TYPE = "rf"


def package_model(
    model: Pipeline,
    target: str,
    train: pd.DataFrame,
    test: pd.DataFrame,
    context: dict[str, Any],
    dates: dict[str, str],
) -> tuple[Predictor, dict[str, Any], dict[str, str]]:
    """The fitted forest as the predictor that is judged, logged and served.

    Args:
        model: The fitted forest (:func:`bike_traffic.models.rf.fit`).
        target: ``params:rf.target``: what it was fitted on.
        train: Its training rows.
        test: Test rows (for the input example).
        context: The feature context (``feature_context``).
        dates: ``params:predictor``.

    Returns:
        The predictor, the bundle the MLflow model dataset logs, the model card.
    """
    return package_predictor(MODEL_TYPE, model, {"target": target}, train, test, context, dates)


def plot_predictions(predictions: pd.DataFrame) -> tuple[Any, Any]:
    """Predicted vs actual, and error by hour of day, on the test set."""
    return plots.plot_regression_predictions(predictions, "Random forest")
