"""The gradient-boosting regressor: scikit-learn's HistGradientBoostingRegressor.

The counter is a native categorical feature (ordinal codes; a counter unseen in training
is a missing category), the other features pass through. ``loss: poisson`` (the default
in parameters) suits counts; ``target: log1p`` is the other way to tame their skew.
:func:`fit` is what the ``gbm`` pipeline trains; :func:`predict` is what the logged
predictor calls. Stored with skops (:mod:`bike_traffic.models.persistence`).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder

from bike_traffic.features import TARGET
from bike_traffic.models import rf
from bike_traffic.models import target as target_transform
from bike_traffic.models.rf import feature_columns

logger = logging.getLogger(__name__)

#: How the logged predictor stores this family's estimator (models.persistence).
STORAGE = "skops"


def build_preprocessor(features: dict[str, Any]) -> ColumnTransformer:
    """As the forests' (:func:`bike_traffic.models.rf.build_preprocessor`), with the counter
    as float codes and a missing counter as -1 (the native categorical feature)."""
    encoder = OrdinalEncoder(
        handle_unknown="use_encoded_value",
        unknown_value=-1,
        encoded_missing_value=-1,
        dtype=np.float64,
    )
    return rf.build_preprocessor(features, encoder)


def fit(
    train: pd.DataFrame,
    features: dict[str, list[str]],
    model: dict[str, Any],
    target: str = "none",
) -> Pipeline:
    """Fit the encoder and the boosted trees on the train rows.

    Args:
        train: Train rows (the feature table).
        features: ``params:gbm.features`` (``categorical``: native categories).
        model: ``params:gbm.model``, keyword arguments of ``HistGradientBoostingRegressor``.
        target: ``params:gbm.target``: ``none`` or ``log1p``.

    Returns:
        The fitted scikit-learn ``Pipeline``.
    """
    categorical = list(range(len(features["categorical"])))
    boosted = HistGradientBoostingRegressor(categorical_features=categorical, **model)
    pipeline = Pipeline([("preprocess", build_preprocessor(features)), ("boosting", boosted)])
    columns = feature_columns(features)
    y = target_transform.forward(train[TARGET].to_numpy(), target)
    pipeline.fit(train[columns].astype({c: "float64" for c in features["numeric"]}), y)
    logger.info(
        "Fitted HistGradientBoostingRegressor on %d rows, %d features, %d iterations",
        len(train),
        len(columns),
        boosted.n_iter_,
    )
    return pipeline


def fit_estimator(
    train: pd.DataFrame, params: dict[str, Any], seed: int
) -> tuple[Pipeline, dict[str, Any]]:
    """:func:`fit` from ``params:gbm`` (see :func:`bike_traffic.models.rf.fit_estimator`)."""
    target = params.get("target", "none")
    return fit(train, params["features"], params["model"], target), {"target": target}


def predict(estimator: Pipeline, extras: dict[str, Any], frame: pd.DataFrame) -> np.ndarray:
    """Predicted hourly counts, never negative.

    Args:
        estimator: Output of :func:`fit`.
        extras: ``{"target": ...}``: what it was fitted on.
        frame: Rows of the feature table.

    Returns:
        One predicted count per row.
    """
    columns = list(estimator.feature_names_in_)
    numeric = estimator.named_steps["preprocess"].transformers_[1][2]
    rows = frame[columns].astype({c: "float64" for c in numeric})
    return target_transform.inverse(estimator.predict(rows), extras.get("target", "none"))
