"""Nodes of ``affluence_classifier`` that bind the classifier to its pipeline.

Thresholds, fitting, predicting and judging are :mod:`bike_traffic.models.classifier`
and :mod:`bike_traffic.models.evaluation`, which the logged predictor uses too.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
from sklearn.pipeline import Pipeline

from bike_traffic.models.predictor import Predictor, package_predictor

MODEL_TYPE = "affluence_classifier"


def package_model(
    model: Pipeline,
    thresholds: dict[str, Any],
    train: pd.DataFrame,
    test: pd.DataFrame,
    context: dict[str, Any],
    dates: dict[str, str],
) -> tuple[Predictor, dict[str, Any], dict[str, str]]:
    """The fitted classifier and its thresholds as the predictor that is judged and served.

    Args:
        model: The fitted classifier (:func:`bike_traffic.models.classifier.fit`).
        thresholds: Its labels' thresholds (:func:`~bike_traffic.models.classifier.fit_thresholds`).
        train: Its training rows.
        test: Test rows (for the input example).
        context: The feature context (``feature_context``).
        dates: ``params:predictor``.

    Returns:
        The predictor, the bundle the MLflow model dataset logs, the model card.
    """
    return package_predictor(
        MODEL_TYPE, model, {"thresholds": thresholds}, train, test, context, dates
    )
