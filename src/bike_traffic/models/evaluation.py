"""How every model is judged: the rows it sees, metrics, the naive baseline, the fingerprint.

The model pipelines, the registry's re-scoring and the backtests all use these functions,
so that every model is judged the same way.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from bike_traffic.features import TARGET, counter_table
from bike_traffic.models import intervals, profile
from bike_traffic.models.classifier import label_rows
from bike_traffic.models.predictor import Predictor, family_module, requests_from_rows
from bike_traffic.models.spec import model_spec
from bike_traffic.outages import OUTAGE
from bike_traffic.raw_format import COUNTER, TIMESTAMP
from bike_traffic.validation import DateRange

logger = logging.getLogger(__name__)


def without_outages(frame: pd.DataFrame, run: dict[str, Any]) -> pd.DataFrame:
    """The rows not flagged as a counter being down (all rows when ``run.exclude_outages``
    is false, or when the table has no ``outage`` column)."""
    if not run.get("exclude_outages", True) or OUTAGE not in frame.columns:
        return frame
    return frame.loc[~frame[OUTAGE].fillna(False).astype(bool)].reset_index(drop=True)


def select_model_data(
    train: pd.DataFrame, test: pd.DataFrame, run: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the rows a model trains and is judged on.

    Hours flagged as a counter being down (``outage``, :mod:`bike_traffic.outages`) are
    left out unless ``run.exclude_outages`` is false. In quick test mode
    (``run.test_mode``) about ``run.test_mode_rows`` rows of each split are drawn (same
    seed, same rows), so a pipeline runs in seconds; otherwise the split is returned.

    Args:
        train: ``train_baseline``.
        test: ``test_baseline``.
        run: The ``run`` parameters (``test_mode``, ``test_mode_rows``, ``seed``).

    Returns:
        The train and test rows to use, in time order.
    """
    train, test = without_outages(train, run), without_outages(test, run)
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
    """RMSE, MAE and R² of a regression on counts, and RMSE on ``log1p`` beside them.

    Args:
        y_true: Observed counts.
        y_pred: Predicted counts.

    Returns:
        ``{"rmse": ..., "mae": ..., "r2": ..., "rmse_log1p": ...}`` (``rmse_log1p``
        compares with the public results on this data set, which score log(1 + count)).
    """
    y_true = np.asarray(y_true, dtype="float64")
    y_pred = np.asarray(y_pred, dtype="float64")
    return {
        "rmse": float(np.sqrt(skm.mean_squared_error(y_true, y_pred))),
        "mae": float(skm.mean_absolute_error(y_true, y_pred)),
        "r2": float(skm.r2_score(y_true, y_pred)),
        "rmse_log1p": float(
            np.sqrt(skm.mean_squared_error(np.log1p(y_true), np.log1p(np.clip(y_pred, 0, None))))
        ),
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


def fit_naive_baseline(train: pd.DataFrame) -> pd.DataFrame:
    """The naive table as a table to show: mean count per counter x hour x weekday/weekend.

    Args:
        train: Train rows.

    Returns:
        The means keyed by counter, hour and weekend flag (column ``baseline``).
    """
    return (
        train.groupby(list(profile.KEYS), observed=True)[TARGET]
        .mean()
        .rename("baseline")
        .reset_index()
    )


def naive_predictions(train: pd.DataFrame, frame: pd.DataFrame) -> np.ndarray:
    """The naive baseline's predictions: :mod:`bike_traffic.models.profile`'s table, exact.

    The mean count of the row's counter, hour and weekday/weekend on ``train``; for an
    unseen key the counter's mean, then the overall mean.
    """
    return profile.lookup(profile.fit_table(train, train[TARGET], decimals=None), frame)


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
    baseline = naive_predictions(train, test)
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


def predictions_table(
    test: pd.DataFrame,
    y_pred: np.ndarray,
    bounds: tuple[np.ndarray, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Test predictions beside the observed counts, for reports and notebooks.

    Args:
        test: Test rows.
        y_pred: Predictions for them.
        bounds: Their interval's lower and upper bounds, when the model has one.

    Returns:
        Counter, time, hour, observed and predicted count per row (and ``lower``,
        ``upper``).
    """
    table = pd.DataFrame(
        {
            COUNTER: test[COUNTER].to_numpy(),
            TIMESTAMP: test[TIMESTAMP].to_numpy(),
            "hour": test["hour"].to_numpy(),
            "observed": test[TARGET].to_numpy(),
            "predicted": y_pred,
        }
    )
    if bounds is not None:
        table["lower"], table["upper"] = bounds
    return table


def train_sample(train: pd.DataFrame, rows: int = 50_000) -> pd.DataFrame:
    """A fixed sample of train rows on which train scores are computed."""
    return train.sample(n=min(rows, len(train)), random_state=0)


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


# ---------------------------------------------------------------- judging a predictor
def predict_rows(predictor: Predictor, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """A predictor's output for rows of the feature table, through its raw-input path.

    The rows are asked about as a user would (counter and time), so what is judged is
    exactly what serves.

    Args:
        predictor: The predictor.
        frame: Rows with counter and local timestamp.

    Returns:
        The output per row (count, or P(high); NaN where refused) and which rows it served.
    """
    answers = predictor.predict_values(requests_from_rows(frame))
    return answers.values, answers.served


def _served(predictor: Predictor, frame: pd.DataFrame, what: str):
    values, served = predict_rows(predictor, frame)
    refused = int((~served).sum())
    if refused:
        logger.warning(
            "%s: %d of %d %s rows cannot be served (counters unseen in training) and are "
            "left out of its scores",
            predictor.spec.model_type,
            refused,
            len(frame),
            what,
        )
    return values[served], frame.loc[served], refused


def evaluate_regressor(
    predictor: Predictor, train: pd.DataFrame, test: pd.DataFrame
) -> tuple[dict[str, float], pd.DataFrame]:
    """Score a regressor on the fixed test set, beside the naive baseline.

    Args:
        predictor: The predictor (what will be logged and served).
        train: Train rows (baseline, and train scores on a sample).
        test: Test rows: the scores that rank models.

    Returns:
        The metrics (:func:`evaluate_regression`, plus ``test_rows_refused``), and the
        test predictions (counter, time, hour, observed, predicted).
    """
    y_test, scored_test, refused = _served(predictor, test, "test")
    y_train, scored_train, _ = _served(predictor, train_sample(train), "train")
    metrics = evaluate_regression(y_test, train, scored_test, scored_train, y_train)
    metrics["test_rows_refused"] = float(refused)
    bounds, covered = _interval_scores(predictor, scored_test, y_test)
    metrics.update(covered)
    if bounds is not None:
        logger.info(
            "%s: %.0f%% interval covers %.1f%% of the test hours, mean width %.1f bikes",
            predictor.spec.model_type,
            100 * predictor.interval["level"],
            100 * metrics["interval_coverage"],
            metrics["interval_width"],
        )
    return metrics, predictions_table(scored_test, y_test, bounds)


def _interval_scores(
    predictor: Predictor, scored: pd.DataFrame, values: np.ndarray
) -> tuple[tuple[np.ndarray, np.ndarray] | None, dict[str, float]]:
    """The bounds of a regressor's predictions and their coverage of the observed counts
    (None and no metric when the predictor has no interval)."""
    if not predictor.interval:
        return None, {}
    bounds = predictor.bounds(values)
    return bounds, intervals.coverage_metrics(scored[TARGET].to_numpy(), *bounds)


def fit_predictor(
    model_type: str,
    train: pd.DataFrame,
    params: dict[str, Any],
    seed: int,
    context: dict[str, Any],
    dates: dict[str, str],
    interval: dict[str, Any] | None = None,
) -> Predictor:
    """A model type fitted on ``train`` (its family's ``fit_estimator``) as a predictor.

    How the interval calibration fits its twin and the backtest fits each fold's model;
    the model pipelines chain the same family functions as nodes.

    Args:
        model_type: ``rf``, ``gbm``, ``nn`` or ``affluence_classifier``.
        train: Train rows.
        params: The model type's parameters.
        seed: ``params:run.seed``.
        context: ``feature_context``.
        dates: ``params:predictor``.
        interval: Its prediction interval, if any.

    Returns:
        The predictor.
    """
    estimator, extras = family_module(model_spec(model_type)).fit_estimator(train, params, seed)
    return Predictor(
        model_type,
        estimator,
        extras,
        counter_table(train),
        context,
        DateRange.from_params(dates),
        interval=interval,
    )


def calibrate_interval(
    model_type: str,
    train: pd.DataFrame,
    params: dict[str, Any],
    settings: dict[str, Any],
    context: dict[str, Any],
    dates: dict[str, str],
    seed: int = 42,
) -> dict[str, Any]:
    """A regressor's prediction interval, calibrated on days its twin has not seen.

    The model type is fitted (:func:`fit_predictor`) on ``train`` minus its last
    ``settings["calibration_days"]`` days and asked about those days through the
    raw-input path (as the test set is); its errors there set the interval
    (:mod:`bike_traffic.models.intervals`).

    Args:
        model_type: ``rf``, ``gbm`` or ``nn``.
        train: The rows the served model is trained on.
        params: The model type's parameters (``features``, ``model``, ``target``).
        settings: ``params:intervals`` (``level``, ``calibration_days``, ``max_share``).
        context: ``feature_context``.
        dates: ``params:predictor``.
        seed: ``params:run.seed``.

    Returns:
        The interval (:func:`bike_traffic.models.intervals.fit_interval`), with the
        calibration period.
    """
    fit_rows, held_out = intervals.calibration_split(
        train, int(settings["calibration_days"]), float(settings.get("max_share", 0.25))
    )
    twin = fit_predictor(model_type, fit_rows, params, int(seed), context, dates)
    predicted, scored, _ = _served(twin, held_out, "calibration")
    interval = intervals.fit_interval(
        scored[TARGET].to_numpy(),
        predicted,
        float(settings["level"]),
        calibration_start=held_out[TIMESTAMP].min().isoformat(),
        calibration_end=held_out[TIMESTAMP].max().isoformat(),
    )
    logger.info(
        "%s: %.0f%% interval calibrated on %d held-out hours (%s to %s): +/- %.2f x sqrt(p + 1)",
        model_type,
        100 * interval["level"],
        interval["calibration_rows"],
        interval["calibration_start"][:10],
        interval["calibration_end"][:10],
        interval["quantile"],
    )
    return interval


def evaluate_classifier(
    predictor: Predictor, train: pd.DataFrame, test: pd.DataFrame
) -> tuple[dict[str, float], pd.DataFrame]:
    """Score the classifier on the fixed test set (labels from its train thresholds).

    Args:
        predictor: The classifier's predictor.
        train: Train rows (train scores on a sample).
        test: Test rows: the scores that rank models.

    Returns:
        The metrics (test ones unprefixed, ``train_*`` on a train sample), and the test
        predictions (counter, time, hour, observed label, probability, predicted label).
    """
    thresholds = predictor.extras["thresholds"]
    p_test, scored_test, refused = _served(predictor, test, "test")
    y_test = label_rows(thresholds, scored_test)
    metrics = classification_metrics(y_test, (p_test >= 0.5).astype("int8"), p_test)
    p_train, scored_train, _ = _served(predictor, train_sample(train), "train")
    train_scores = classification_metrics(
        label_rows(thresholds, scored_train), (p_train >= 0.5).astype("int8"), p_train
    )
    metrics.update({f"train_{k}": v for k, v in train_scores.items()})
    metrics.update(
        {
            "test_rows": float(len(scored_test)),
            "train_rows": float(len(train)),
            "test_rows_refused": float(refused),
        }
    )
    logger.info(
        "Test accuracy %.3f, F1 %.3f, ROC-AUC %.3f, positive rate %.3f",
        metrics["accuracy"],
        metrics["f1_score"],
        metrics["roc_auc"],
        metrics["positive_rate"],
    )
    predictions = pd.DataFrame(
        {
            COUNTER: scored_test[COUNTER].to_numpy(),
            TIMESTAMP: scored_test[TIMESTAMP].to_numpy(),
            "hour": scored_test["hour"].to_numpy(),
            "observed": y_test,
            "probability": p_test,
            "predicted": (p_test >= 0.5).astype("int8"),
        }
    )
    return metrics, predictions


def score_predictor(predictor: Predictor, test: pd.DataFrame) -> dict[str, float]:
    """Test metrics of a (loaded) predictor on ``test``: how the registry re-scores champions.

    Args:
        predictor: The predictor.
        test: Test rows.

    Returns:
        RMSE/MAE/R² (regressors, with ``interval_coverage`` and ``interval_width`` when
        the predictor has an interval) or accuracy/precision/recall/F1/ROC-AUC
        (classifier) on the rows it serves, and ``test_rows_refused``.
    """
    values, scored, refused = _served(predictor, test, "test")
    if predictor.spec.is_classifier:
        labels = label_rows(predictor.extras["thresholds"], scored)
        metrics = classification_metrics(labels, (values >= 0.5).astype("int8"), values)
    else:
        metrics = regression_metrics(scored[TARGET].to_numpy(), values)
        metrics.update(_interval_scores(predictor, scored, values)[1])
    return {**metrics, "test_rows_refused": float(refused)}
