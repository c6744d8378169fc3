"""Nodes of ``nn`` that bind the network to its pipeline.

Preprocessing, fitting, predicting and judging are :mod:`bike_traffic.models.nn` and
:mod:`bike_traffic.models.evaluation`, which the logged predictor uses too.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from bike_traffic.models import plots
from bike_traffic.models.predictor import Predictor, package_predictor

MODEL_TYPE = "nn"


def package_model(
    model: Any,
    preprocessor: dict[str, Any],
    train: pd.DataFrame,
    test: pd.DataFrame,
    context: dict[str, Any],
    dates: dict[str, str],
) -> tuple[Predictor, dict[str, Any], dict[str, str]]:
    """The fitted network and its preprocessing as the predictor that is judged and served.

    Args:
        model: The fitted ``keras.Model``.
        preprocessor: Its preprocessing.
        train: Its training rows.
        test: Test rows (for the input example).
        context: The feature context (``feature_context``).
        dates: ``params:predictor``.

    Returns:
        The predictor, the bundle the MLflow model dataset logs, the model card.
    """
    return package_predictor(
        MODEL_TYPE, model, {"preprocessor": preprocessor}, train, test, context, dates
    )


def plot_predictions(predictions: pd.DataFrame) -> tuple[Any, Any]:
    """Predicted vs actual, and error by hour of day, on the test set."""
    return plots.plot_regression_predictions(predictions, "Neural network")
