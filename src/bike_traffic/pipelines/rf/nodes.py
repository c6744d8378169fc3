"""Nodes of ``rf``: a scikit-learn Pipeline (ColumnTransformer + RandomForestRegressor)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestRegressor
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OrdinalEncoder

from bike_traffic.modeling import (
    TARGET,
    evaluate_regression,
    mlflow_friendly_example,
    plot_regression_predictions,
    predictions_table,
    pyplot,
    train_sample,
)

if TYPE_CHECKING:
    import matplotlib.pyplot as plt

logger = logging.getLogger(__name__)

MODEL_TYPE = "rf"


def feature_columns(features: dict[str, list[str]]) -> list[str]:
    """The model's input columns, categorical first.

    Args:
        features: ``{"categorical": [...], "numeric": [...]}``.

    Returns:
        The column names in the order the model expects them.
    """
    return [*features["categorical"], *features["numeric"]]


def build_preprocessor(features: dict[str, list[str]]) -> ColumnTransformer:
    """Encode the counter as an ordinal (unseen counters get -1); pass numbers through.

    Args:
        features: ``{"categorical": [...], "numeric": [...]}``.

    Returns:
        An unfitted ``ColumnTransformer``.
    """
    return ColumnTransformer(
        [
            (
                "counter",
                OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
                features["categorical"],
            ),
            ("numeric", "passthrough", features["numeric"]),
        ],
        verbose_feature_names_out=False,
    )


def train_model(
    train: pd.DataFrame, features: dict[str, list[str]], model: dict[str, Any]
) -> Pipeline:
    """Fit preprocessing and forest on the train rows.

    Args:
        train: Train rows.
        features: ``params:rf.features``.
        model: ``params:rf.model``, keyword arguments of ``RandomForestRegressor``.

    Returns:
        The fitted scikit-learn ``Pipeline``.
    """
    pipeline = Pipeline(
        [("preprocess", build_preprocessor(features)), ("forest", RandomForestRegressor(**model))]
    )
    columns = feature_columns(features)
    pipeline.fit(train[columns], train[TARGET].to_numpy())
    logger.info("Fitted RandomForestRegressor on %d rows, %d features", len(train), len(columns))
    return pipeline


def predict(model: Pipeline, frame: pd.DataFrame, features: dict[str, list[str]]) -> np.ndarray:
    """Predict hourly counts (never negative). The app predicts through this function.

    Args:
        model: Output of :func:`train_model`.
        frame: Rows with the feature columns.
        features: ``params:rf.features``.

    Returns:
        One predicted count per row.
    """
    return np.clip(model.predict(frame[feature_columns(features)]), 0, None)


def evaluate_model(
    model: Pipeline, train: pd.DataFrame, test: pd.DataFrame, features: dict[str, list[str]]
) -> tuple[dict[str, float], pd.DataFrame]:
    """Score the model on the fixed test set, beside the naive baseline.

    Args:
        model: The fitted pipeline.
        train: Train rows (baseline, and train scores on a sample).
        test: Test rows: the scores that rank models.
        features: ``params:rf.features``.

    Returns:
        The metrics, and the test predictions (counter, time, hour, observed, predicted).
    """
    y_test = predict(model, test, features)
    scored = train_sample(train)
    metrics = evaluate_regression(y_test, train, test, scored, predict(model, scored, features))
    return metrics, predictions_table(test, y_test)


def plot_feature_importances(model: Pipeline) -> plt.Figure:
    """Bar chart of the forest's impurity-based feature importances.

    Args:
        model: The fitted pipeline.

    Returns:
        The figure.
    """
    names = model.named_steps["preprocess"].get_feature_names_out()
    importances = pd.Series(model.named_steps["forest"].feature_importances_, index=names)
    importances = importances.sort_values()
    fig, ax = pyplot().subplots(figsize=(7, 0.35 * len(importances) + 1.5))
    ax.barh(importances.index, importances.to_numpy(), color="seagreen")
    ax.set(
        xlabel="importance (mean decrease in impurity)", title="Random forest: feature importances"
    )
    fig.tight_layout()
    return fig


def plot_predictions(predictions: pd.DataFrame) -> tuple[plt.Figure, plt.Figure]:
    """Predicted vs actual, and error by hour of day, on the test set.

    Args:
        predictions: Test predictions from :func:`evaluate_model`.

    Returns:
        The two figures.
    """
    return plot_regression_predictions(predictions, "Random forest")


def bundle_sklearn_model(
    model: Pipeline, test: pd.DataFrame, features: dict[str, list[str]], model_type: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """A fitted scikit-learn pipeline with an input example, and its model card.

    Shared by ``rf`` and ``affluence_classifier``, which take the same inputs.

    Args:
        model: The fitted pipeline.
        test: Test rows (the example is their first five).
        features: The model's ``features`` parameters.
        model_type: The pipeline's model type, told to the registry.

    Returns:
        ``{"model", "input_example", "output_example"}`` and ``{"model_type": ...}``.
    """
    example = test[feature_columns(features)].head(5).reset_index(drop=True)
    example = mlflow_friendly_example(example, features["categorical"])
    bundle = {"model": model, "input_example": example, "output_example": model.predict(example)}
    return bundle, {"model_type": model_type}


def package_model(
    model: Pipeline, test: pd.DataFrame, features: dict[str, list[str]]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Bundle the model with an input example, for MLflow's signature.

    Args:
        model: The fitted pipeline.
        test: Test rows (the example is their first five).
        features: ``params:rf.features``.

    Returns:
        ``{"model", "input_example", "output_example"}`` for the MLflow model
        dataset, and the model card that tells the registry what was logged.
    """
    return bundle_sklearn_model(model, test, features, MODEL_TYPE)
