"""The random-forest regressor: a scikit-learn Pipeline (encoder + RandomForestRegressor).

:func:`fit` is what the ``rf`` pipeline trains; :func:`predict` is what the logged
predictor, and through it every user, calls. The estimator is stored with skops and
loaded back with the project's own fixed list of trusted types
(:mod:`bike_traffic.models.persistence`).
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder

from bike_traffic.features import TARGET
from bike_traffic.models import profile
from bike_traffic.models import target as target_transform

logger = logging.getLogger(__name__)

#: How the logged predictor stores this family's estimator (models.persistence).
STORAGE = "skops"


def feature_columns(features: dict[str, Any]) -> list[str]:
    """The model's input columns, categorical first (and the profile's keys when used).

    Args:
        features: ``{"categorical": [...], "numeric": [...]}`` and optionally
            ``"profile": true`` (:mod:`bike_traffic.models.profile`).

    Returns:
        The column names in the order the model expects them.
    """
    columns = [*features["categorical"], *features["numeric"]]
    if features.get("profile"):
        columns += [key for key in profile.KEYS if key not in columns]
    return columns


def build_preprocessor(
    features: dict[str, Any], counter_encoder: OrdinalEncoder | None = None
) -> ColumnTransformer:
    """Encode the counter as an ordinal (unseen counters get -1); pass numbers through;
    with ``features.profile``, add the counter's usual level at that hour
    (:class:`bike_traffic.models.profile.ProfileEncoder`, learnt on the training rows).

    Args:
        features: ``{"categorical": [...], "numeric": [...]}`` (and ``"profile"``).
        counter_encoder: How the counter is encoded (the forests' ordinal by default;
            :mod:`bike_traffic.models.gbm` gives its own).

    Returns:
        An unfitted ``ColumnTransformer``.
    """
    encoder = counter_encoder or OrdinalEncoder(
        handle_unknown="use_encoded_value", unknown_value=-1
    )
    steps = [
        ("counter", encoder, features["categorical"]),
        ("numeric", "passthrough", features["numeric"]),
    ]
    if features.get("profile"):
        steps.append(("profile", profile.ProfileEncoder(), list(profile.KEYS)))
    return ColumnTransformer(steps, verbose_feature_names_out=False)


def fit(
    train: pd.DataFrame,
    features: dict[str, list[str]],
    model: dict[str, Any],
    target: str = "none",
) -> Pipeline:
    """Fit preprocessing and forest on the train rows.

    Args:
        train: Train rows (the feature table).
        features: ``params:rf.features``.
        model: ``params:rf.model``, keyword arguments of ``RandomForestRegressor``.
        target: ``params:rf.target``: ``none`` (counts) or ``log1p``
            (:mod:`bike_traffic.models.target`).

    Returns:
        The fitted scikit-learn ``Pipeline``.
    """
    pipeline = Pipeline(
        [("preprocess", build_preprocessor(features)), ("forest", RandomForestRegressor(**model))]
    )
    columns = feature_columns(features)
    pipeline.fit(train[columns], target_transform.forward(train[TARGET].to_numpy(), target))
    logger.info("Fitted RandomForestRegressor on %d rows, %d features", len(train), len(columns))
    return pipeline


def fit_estimator(
    train: pd.DataFrame, params: dict[str, Any], seed: int
) -> tuple[Pipeline, dict[str, Any]]:
    """:func:`fit` from the model type's whole parameters, with the extras it predicts with.

    The one way the backtest and the interval calibration fit a forest, as the ``rf``
    pipeline's nodes do.

    Args:
        train: Train rows.
        params: ``params:rf`` (``features``, ``model``, ``target``).
        seed: Unused (the forest's seed is ``model.random_state``).

    Returns:
        The fitted pipeline and ``{"target": ...}``.
    """
    target = params.get("target", "none")
    return fit(train, params["features"], params["model"], target), {"target": target}


def predict(estimator: Pipeline, extras: dict[str, Any], frame: pd.DataFrame) -> np.ndarray:
    """Predicted hourly counts, never negative.

    Args:
        estimator: Output of :func:`fit`.
        extras: ``{"target": ...}``: what it was fitted on (``none`` when absent).
        frame: Rows of the feature table.

    Returns:
        One predicted count per row.
    """
    columns = list(estimator.feature_names_in_)
    output = estimator.predict(frame[columns])
    return target_transform.inverse(output, extras.get("target", "none"))


def feature_importances(estimator: Pipeline) -> pd.Series:
    """The forest's impurity-based feature importances, by input column."""
    names = estimator.named_steps["preprocess"].get_feature_names_out()
    return pd.Series(estimator.named_steps["forest"].feature_importances_, index=names)


def known_counters(estimator: Pipeline) -> list[str]:
    """The counters the fitted encoder has seen."""
    encoder = estimator.named_steps["preprocess"].named_transformers_["counter"]
    return [str(c) for c in encoder.categories_[0]]
