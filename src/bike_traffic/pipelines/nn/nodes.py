"""Nodes of ``nn`` that bind the network to its pipeline.

Preprocessing, fitting, predicting and judging are :mod:`bike_traffic.models.nn` and
:mod:`bike_traffic.models.evaluation`, which the logged predictor uses too.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from bike_traffic.models import evaluation, plots
from bike_traffic.models.predictor import Predictor, package_predictor

MODEL_TYPE = "nn"


def package_model(
    model: Any,
    preprocessor: dict[str, Any],
    train: pd.DataFrame,
    test: pd.DataFrame,
    context: dict[str, Any],
    dates: dict[str, str],
    interval: dict[str, Any] | None = None,
) -> tuple[Predictor, dict[str, Any], dict[str, str]]:
    """The fitted network and its preprocessing as the predictor that is judged and served.

    Args:
        model: The fitted ``keras.Model``.
        preprocessor: Its preprocessing.
        train: Its training rows.
        test: Test rows (for the input example).
        context: The feature context (``feature_context``).
        dates: ``params:predictor``.
        interval: Its prediction interval (:func:`calibrate_interval`).

    Returns:
        The predictor, the bundle the MLflow model dataset logs, the model card.
    """
    return package_predictor(
        MODEL_TYPE, model, {"preprocessor": preprocessor}, train, test, context, dates, interval
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
    """The network's prediction interval (``evaluation.calibrate_interval``).

    A new network is fitted for the calibration, also when the served one is the champion
    fine-tuned (``retrain_nn``): its errors on unseen days stand for the fine-tuned one's.

    Args:
        train: Its training rows.
        features: ``params:nn.features``.
        model: ``params:nn.model``.
        target: ``params:nn.target``.
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
    return plots.plot_regression_predictions(predictions, "Neural network")
