"""Pieces every model pipeline shares: data selection, fingerprint, metrics, baseline, figures.

Nodes of ``rf``, ``nn`` and ``affluence_classifier`` are thin wrappers around
these functions, so that the three models are judged the same way.
"""

from __future__ import annotations

import hashlib
import logging
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from bike_traffic.raw_format import COUNT, COUNTER, TIMESTAMP

if TYPE_CHECKING:
    import matplotlib.pyplot as plt

logger = logging.getLogger(__name__)

TARGET = COUNT


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


def select_model_data(
    train: pd.DataFrame, test: pd.DataFrame, run: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the rows a model trains and is judged on.

    In quick test mode (``run.test_mode``) about ``run.test_mode_rows`` rows of
    each split are drawn (same seed, same rows), so a pipeline runs in seconds;
    otherwise the full fixed split is returned unchanged.

    Args:
        train: ``train_baseline``.
        test: ``test_baseline``.
        run: The ``run`` parameters (``test_mode``, ``test_mode_rows``, ``seed``).

    Returns:
        The train and test rows to use, in time order.
    """
    if not run.get("test_mode"):
        return train, test
    n = int(run.get("test_mode_rows", 1000))
    seed = int(run.get("seed", 42))

    def sample(frame: pd.DataFrame) -> pd.DataFrame:
        picked = frame.sample(n=min(n, len(frame)), random_state=seed)
        return picked.sort_values(TIMESTAMP, kind="stable").reset_index(drop=True)

    logger.warning(
        "Quick test mode: %d train and %d test rows", min(n, len(train)), min(n, len(test))
    )
    return sample(train), sample(test)


def data_fingerprint(
    train: pd.DataFrame, test: pd.DataFrame, run: dict[str, Any]
) -> dict[str, Any]:
    """Describe the data a model saw: rows, date range and a content hash.

    Args:
        train: The train rows used.
        test: The test rows used.
        run: The ``run`` parameters (``test_mode`` is recorded).

    Returns:
        ``rows_train``, ``rows_test``, ``start``, ``end``, ``test_start``,
        ``hash`` (first 16 hex digits of a SHA-256 over both splits) and ``test_mode``.
    """
    digest = hashlib.sha256()
    for frame in (train, test):
        digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    stamps = pd.concat([train[TIMESTAMP], test[TIMESTAMP]])
    return {
        "rows_train": len(train),
        "rows_test": len(test),
        "start": stamps.min().isoformat(),
        "end": stamps.max().isoformat(),
        "test_start": test[TIMESTAMP].min().isoformat(),
        "hash": digest.hexdigest()[:16],
        "test_mode": bool(run.get("test_mode", False)),
    }


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """RMSE, MAE and R² of a regression.

    Args:
        y_true: Observed counts.
        y_pred: Predicted counts.

    Returns:
        ``{"rmse": ..., "mae": ..., "r2": ...}``.
    """
    return {
        "rmse": float(np.sqrt(skm.mean_squared_error(y_true, y_pred))),
        "mae": float(skm.mean_absolute_error(y_true, y_pred)),
        "r2": float(skm.r2_score(y_true, y_pred)),
    }


def classification_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, y_score: np.ndarray
) -> dict[str, float]:
    """Accuracy, precision, recall, F1, ROC-AUC and the positive rate.

    Args:
        y_true: Observed labels (0/1).
        y_pred: Predicted labels.
        y_score: Predicted probability of the positive class.

    Returns:
        The metrics; ROC-AUC is NaN when only one class is present.
    """
    both = len(np.unique(y_true)) == 2
    return {
        "accuracy": float(skm.accuracy_score(y_true, y_pred)),
        "precision": float(skm.precision_score(y_true, y_pred, zero_division=0)),
        "recall": float(skm.recall_score(y_true, y_pred, zero_division=0)),
        "f1_score": float(skm.f1_score(y_true, y_pred, zero_division=0)),
        "roc_auc": float(skm.roc_auc_score(y_true, y_score)) if both else float("nan"),
        "positive_rate": float(np.mean(y_true)),
    }


BASELINE_KEYS = (COUNTER, "hour", "is_weekend")


def fit_naive_baseline(train: pd.DataFrame) -> pd.DataFrame:
    """Mean count per counter x hour x weekday/weekend, learnt on train.

    Args:
        train: Train rows.

    Returns:
        A table of means keyed by counter, hour and weekend flag.
    """
    return (
        train.groupby(list(BASELINE_KEYS), observed=True)[TARGET]
        .mean()
        .rename("baseline")
        .reset_index()
    )


def apply_naive_baseline(
    baseline: pd.DataFrame, train: pd.DataFrame, frame: pd.DataFrame
) -> np.ndarray:
    """Predict with the naive baseline; unseen keys fall back to the counter, then global mean.

    Args:
        baseline: Output of :func:`fit_naive_baseline`.
        train: Train rows (for the fallbacks).
        frame: Rows to predict.

    Returns:
        One prediction per row of ``frame``.
    """
    merged = frame[list(BASELINE_KEYS)].merge(baseline, on=list(BASELINE_KEYS), how="left")
    per_counter = train.groupby(COUNTER, observed=True)[TARGET].mean()
    fallback = frame[COUNTER].map(per_counter).astype("float64").to_numpy()
    pred = merged["baseline"].to_numpy(dtype="float64")
    pred = np.where(np.isnan(pred), fallback, pred)
    return np.where(np.isnan(pred), float(train[TARGET].mean()), pred)


def evaluate_regression(
    y_pred_test: np.ndarray,
    train: pd.DataFrame,
    test: pd.DataFrame,
    scored_train: pd.DataFrame,
    y_pred_scored_train: np.ndarray,
) -> dict[str, float]:
    """Test metrics of a regressor beside the naive baseline's, plus train scores.

    Args:
        y_pred_test: The model's predictions on ``test``.
        train: Train rows (the naive baseline is learnt on them).
        test: Test rows.
        scored_train: Train rows the train scores are computed on (a sample).
        y_pred_scored_train: The model's predictions on ``scored_train``.

    Returns:
        ``rmse``, ``mae``, ``r2`` (test, the scores that rank models),
        ``baseline_rmse``/``baseline_mae``/``baseline_r2`` (same test set),
        ``rmse_gain_vs_baseline`` and ``train_rmse``/``train_mae``/``train_r2``.
    """
    scores = regression_metrics(test[TARGET].to_numpy(), y_pred_test)
    baseline = apply_naive_baseline(fit_naive_baseline(train), train, test)
    base = regression_metrics(test[TARGET].to_numpy(), baseline)
    train_scores = regression_metrics(scored_train[TARGET].to_numpy(), y_pred_scored_train)
    result = {
        **scores,
        **{f"baseline_{k}": v for k, v in base.items()},
        "rmse_gain_vs_baseline": 1 - scores["rmse"] / base["rmse"] if base["rmse"] else 0.0,
        **{f"train_{k}": v for k, v in train_scores.items()},
        "test_rows": float(len(test)),
        "train_rows": float(len(train)),
    }
    logger.info(
        "Test RMSE %.2f, MAE %.2f, R2 %.3f (naive baseline: RMSE %.2f, R2 %.3f)",
        scores["rmse"],
        scores["mae"],
        scores["r2"],
        base["rmse"],
        base["r2"],
    )
    return result


def predictions_table(test: pd.DataFrame, y_pred: np.ndarray) -> pd.DataFrame:
    """Test predictions beside the observed counts, for reports and notebooks.

    Args:
        test: Test rows.
        y_pred: Predictions for them.

    Returns:
        Counter, time, hour, observed and predicted count per row.
    """
    return pd.DataFrame(
        {
            COUNTER: test[COUNTER].to_numpy(),
            TIMESTAMP: test[TIMESTAMP].to_numpy(),
            "hour": test["hour"].to_numpy(),
            "observed": test[TARGET].to_numpy(),
            "predicted": y_pred,
        }
    )


def plot_regression_predictions(
    predictions: pd.DataFrame, model_label: str
) -> tuple[plt.Figure, plt.Figure]:
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


def train_sample(train: pd.DataFrame, rows: int = 50_000) -> pd.DataFrame:
    """A fixed sample of train rows on which train scores are computed."""
    return train.sample(n=min(rows, len(train)), random_state=0)


def mlflow_friendly_example(example: pd.DataFrame, categorical: list[str]) -> pd.DataFrame:
    """An input example whose MLflow schema accepts what inference will send.

    Integer columns become float64 (MLflow then accepts ints and floats alike,
    and a missing value later does not break the schema); booleans stay
    booleans; categorical columns become plain strings.

    Args:
        example: A few rows of model input.
        categorical: The categorical columns.

    Returns:
        The example with those dtypes.
    """
    casts = {c: "object" for c in categorical}
    casts |= {
        c: "float64"
        for c in example.columns
        if c not in categorical and pd.api.types.is_integer_dtype(example[c])
    }
    return example.astype(casts)


def to_mlflow_metrics(metrics: dict[str, float], prefix: str) -> dict[str, dict[str, float]]:
    """Shape metrics for kedro-mlflow's ``MlflowMetricsHistoryDataset``.

    Args:
        metrics: Flat metric values.
        prefix: Model type, so that one MLflow run can hold several models.

    Returns:
        ``{"<prefix>.<name>": {"value": v, "step": 0}}`` for every finite value.
    """
    return {
        f"{prefix}.{name}": {"value": float(value), "step": 0}
        for name, value in metrics.items()
        if value is not None and np.isfinite(value)
    }


def plot_predicted_vs_actual(test: pd.DataFrame, y_pred: np.ndarray, title: str) -> plt.Figure:
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


def plot_error_by_hour(test: pd.DataFrame, y_pred: np.ndarray, title: str) -> plt.Figure:
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
