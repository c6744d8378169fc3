"""Nodes of ``affluence_classifier``: high/low traffic for a counter and an hour.

An hour is "high traffic" when its count is above its counter's mean (or
median) computed on train only. The thresholds are persisted and applied
unchanged to test and at inference time: nothing of the test set leaks into
the label.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import Pipeline

from bike_traffic.modeling import (
    TARGET,
    classification_metrics,
    pyplot,
    train_sample,
)
from bike_traffic.pipelines.rf.nodes import (
    build_preprocessor,
    bundle_sklearn_model,
    feature_columns,
)
from bike_traffic.raw_format import COUNTER, TIMESTAMP

if TYPE_CHECKING:
    import matplotlib.pyplot as plt

logger = logging.getLogger(__name__)

MODEL_TYPE = "affluence_classifier"

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


def train_model(
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


def predict_proba(
    model: Pipeline, frame: pd.DataFrame, features: dict[str, list[str]]
) -> np.ndarray:
    """Probability that each row is a high-traffic hour. The app uses this function.

    Args:
        model: The fitted pipeline.
        frame: Rows with the feature columns.
        features: ``params:affluence_classifier.features``.

    Returns:
        P(high) per row.
    """
    proba = model.predict_proba(frame[feature_columns(features)])
    classes = list(model.classes_)
    return proba[:, classes.index(1)] if 1 in classes else np.zeros(len(frame))


def evaluate_model(
    model: Pipeline,
    thresholds: dict[str, Any],
    train: pd.DataFrame,
    test: pd.DataFrame,
    features: dict[str, list[str]],
) -> tuple[dict[str, float], pd.DataFrame]:
    """Score the classifier on the fixed test set (labels from train thresholds).

    Args:
        model: The fitted pipeline.
        thresholds: The train thresholds.
        train: Train rows (train scores on a sample).
        test: Test rows: the scores that rank models.
        features: ``params:affluence_classifier.features``.

    Returns:
        The metrics (test ones unprefixed, ``train_*`` on a train sample), and
        the test predictions.
    """
    y_test = label_rows(thresholds, test)
    p_test = predict_proba(model, test, features)
    metrics = classification_metrics(y_test, (p_test >= 0.5).astype("int8"), p_test)
    scored = train_sample(train)
    p_train = predict_proba(model, scored, features)
    train_scores = classification_metrics(
        label_rows(thresholds, scored), (p_train >= 0.5).astype("int8"), p_train
    )
    metrics.update({f"train_{k}": v for k, v in train_scores.items()})
    metrics.update({"test_rows": float(len(test)), "train_rows": float(len(train))})
    logger.info(
        "Test accuracy %.3f, F1 %.3f, ROC-AUC %.3f, positive rate %.3f",
        metrics["accuracy"],
        metrics["f1_score"],
        metrics["roc_auc"],
        metrics["positive_rate"],
    )
    predictions = pd.DataFrame(
        {
            COUNTER: test[COUNTER].to_numpy(),
            TIMESTAMP: test[TIMESTAMP].to_numpy(),
            "hour": test["hour"].to_numpy(),
            "observed": y_test,
            "probability": p_test,
            "predicted": (p_test >= 0.5).astype("int8"),
        }
    )
    return metrics, predictions


def plot_confusion_and_roc(predictions: pd.DataFrame) -> tuple[plt.Figure, plt.Figure]:
    """Confusion matrix and ROC curve on the test set.

    Args:
        predictions: Test predictions from :func:`evaluate_model`.

    Returns:
        The two figures.
    """
    y, p = predictions["observed"].to_numpy(), predictions["probability"].to_numpy()
    confusion, ax = pyplot().subplots(figsize=(5, 4.5))
    skm.ConfusionMatrixDisplay.from_predictions(
        y,
        predictions["predicted"].to_numpy(),
        display_labels=["low", "high"],
        ax=ax,
        colorbar=False,
    )
    ax.set_title("Affluence classifier: confusion matrix (test set)")
    confusion.tight_layout()
    roc, ax = pyplot().subplots(figsize=(5, 4.5))
    if len(np.unique(y)) == 2:
        skm.RocCurveDisplay.from_predictions(y, p, ax=ax, name="random forest")
    ax.plot([0, 1], [0, 1], linestyle="--", color="grey")
    ax.set_title("Affluence classifier: ROC curve (test set)")
    roc.tight_layout()
    return confusion, roc


def package_model(
    model: Pipeline, test: pd.DataFrame, features: dict[str, list[str]]
) -> tuple[dict[str, Any], dict[str, str]]:
    """Bundle the classifier with an input example, for MLflow's signature.

    Args:
        model: The fitted pipeline.
        test: Test rows (the example is their first five).
        features: ``params:affluence_classifier.features``.

    Returns:
        ``{"model", "input_example", "output_example"}`` for the MLflow model
        dataset, and the model card that tells the registry what was logged.
    """
    return bundle_sklearn_model(model, test, features, MODEL_TYPE)
