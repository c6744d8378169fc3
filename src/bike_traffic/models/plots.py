"""The figures of a training run: predicted vs actual, error by hour, importances, curves.

matplotlib is imported on first use (:func:`pyplot`), so that importing this module, or
anything that imports it, does not pay for it (the app never draws these figures).
"""

from __future__ import annotations

from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from bike_traffic.features import TARGET
from bike_traffic.models.rf import feature_importances

if TYPE_CHECKING:
    from matplotlib.figure import Figure
else:  # matplotlib loads on the first plot; Kedro's type checks still resolve the hints
    Figure = Any


def pyplot() -> ModuleType:
    """``matplotlib.pyplot`` on the non-interactive Agg backend, imported on first use.

    Only the plotting nodes need matplotlib; importing it lazily keeps it (about
    0.5 s) out of the app's cold start and of every module that imports this one.

    Returns:
        The ``matplotlib.pyplot`` module.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot

    return matplotlib.pyplot


def plot_regression_predictions(
    predictions: pd.DataFrame, model_label: str
) -> tuple[Figure, Figure]:
    """Predicted vs actual, and error by hour of day, on the test set.

    Args:
        predictions: Output of :func:`predictions_table`.
        model_label: Name shown in the titles.

    Returns:
        The two figures.
    """
    frame = predictions.rename(columns={"observed": TARGET})
    y_pred = predictions["predicted"].to_numpy()
    return (
        plot_predicted_vs_actual(frame, y_pred, f"{model_label}: test set"),
        plot_error_by_hour(frame, y_pred, f"{model_label}: error by hour (test set)"),
    )


def plot_predicted_vs_actual(test: pd.DataFrame, y_pred: np.ndarray, title: str) -> Figure:
    """Scatter (hexbin) of predicted against observed counts on the test set.

    Args:
        test: Test rows.
        y_pred: Predictions for them.
        title: Figure title.

    Returns:
        The figure.
    """
    fig, ax = pyplot().subplots(figsize=(6, 6))
    y = test[TARGET].to_numpy()
    top = float(np.nanpercentile(np.concatenate([y, y_pred]), 99.5)) or 1.0
    ax.hexbin(y, y_pred, gridsize=60, bins="log", extent=(0, top, 0, top), cmap="viridis")
    ax.plot([0, top], [0, top], color="red", linewidth=1)
    ax.set(xlabel="observed hourly count", ylabel="predicted hourly count", title=title)
    fig.tight_layout()
    return fig


def plot_error_by_hour(test: pd.DataFrame, y_pred: np.ndarray, title: str) -> Figure:
    """Mean absolute error and mean error by local hour of day on the test set.

    Args:
        test: Test rows (with ``hour``).
        y_pred: Predictions for them.
        title: Figure title.

    Returns:
        The figure.
    """
    err = pd.DataFrame({"hour": test["hour"].to_numpy(), "error": y_pred - test[TARGET].to_numpy()})
    by_hour = err.groupby("hour")["error"].agg(mae=lambda e: e.abs().mean(), bias="mean")
    fig, ax = pyplot().subplots(figsize=(8, 4))
    ax.bar(by_hour.index, by_hour["mae"], color="steelblue", label="MAE")
    ax.plot(by_hour.index, by_hour["bias"], color="darkorange", marker="o", label="mean error")
    ax.axhline(0, color="grey", linewidth=0.8)
    ax.set(xlabel="hour of day (Europe/Paris)", ylabel="bikes per hour", title=title)
    ax.legend()
    fig.tight_layout()
    return fig


def plot_feature_importances(model: Any) -> Figure:
    """Bar chart of the forest's impurity-based feature importances.

    Args:
        model: The fitted pipeline.

    Returns:
        The figure.
    """
    importances = feature_importances(model).sort_values()
    fig, ax = pyplot().subplots(figsize=(7, 0.35 * len(importances) + 1.5))
    ax.barh(importances.index, importances.to_numpy(), color="seagreen")
    ax.set(
        xlabel="importance (mean decrease in impurity)", title="Random forest: feature importances"
    )
    fig.tight_layout()
    return fig


def plot_training_curves(history: dict[str, list[float]]) -> Figure:
    """Training and validation loss by epoch.

    Args:
        history: The training history.

    Returns:
        The figure.
    """
    fig, ax = pyplot().subplots(figsize=(7, 4))
    epochs = np.arange(1, len(history["loss"]) + 1)
    ax.plot(epochs, history["loss"], marker="o", label="train")
    ax.plot(epochs, history["val_loss"], marker="o", label="validation (last slice of train)")
    ax.set(xlabel="epoch", ylabel="loss (scaled target)", title="Neural network: training curves")
    ax.legend()
    fig.tight_layout()
    return fig


def plot_confusion_and_roc(predictions: pd.DataFrame) -> tuple[Figure, Figure]:
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
