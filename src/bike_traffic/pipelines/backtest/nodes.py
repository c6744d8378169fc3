"""Nodes of ``backtest``: rolling-origin evaluation of every model type.

K folds of ``fold_days`` days end at the data's end; each fold trains on everything before
its origin and is judged on the fold. Every model is fitted with its family's own ``fit``
(as its pipeline does) into its :class:`~bike_traffic.models.predictor.Predictor`
(:func:`~bike_traffic.models.evaluation.fit_predictor`) and judged through it
(:mod:`bike_traffic.models.evaluation`), beside two references: the naive table (mean
per counter x hour x weekday/weekend of all training rows) and a seasonal-naive one (mean
per counter x hour x weekday of the 4 weeks before the origin).
A feature or a setting is judged on all the folds, never tuned to one test window.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from bike_traffic.features import TARGET
from bike_traffic.models.evaluation import (
    calibrate_interval,
    evaluate_classifier,
    evaluate_regressor,
    fit_predictor,
    naive_predictions,
    regression_metrics,
    select_model_data,
)
from bike_traffic.models.plots import pyplot
from bike_traffic.models.spec import model_spec
from bike_traffic.raw_format import COUNTER, TIMESTAMP

logger = logging.getLogger(__name__)

#: The columns of the per-fold table.
FOLD_COLUMNS = ("fold", "origin", "end", "train_rows", "test_rows")


def make_folds(clean: pd.DataFrame, backtest: dict[str, Any]) -> pd.DataFrame:
    """The folds: ``folds`` windows of ``fold_days`` days that end at the data's end.

    Fold 1 is the most recent. Each fold's training rows are all the rows before its
    origin (``origin``, a local midnight); its test rows are ``[origin, end)``.

    Args:
        clean: ``clean_counts``.
        backtest: ``params:backtest`` (``folds``, ``fold_days``, ``min_train_days``).

    Returns:
        One row per fold: ``fold``, ``origin``, ``end`` (tz-aware local), and the number
        of train and test rows.

    Raises:
        ValueError: When a fold would have less than ``min_train_days`` of training data.
    """
    stamps = clean[TIMESTAMP]
    end = (stamps.max() + pd.Timedelta(hours=1)).ceil("D")
    start = stamps.min()
    days = int(backtest["fold_days"])
    rows = []
    for k in range(1, int(backtest["folds"]) + 1):
        # calendar days (local midnights), not 24-hour blocks, across clock changes
        fold_end = end - pd.DateOffset(days=(k - 1) * days)
        origin = fold_end - pd.DateOffset(days=days)
        if origin - start < pd.Timedelta(days=int(backtest["min_train_days"])):
            raise ValueError(
                f"backtest fold {k} starts on {origin.date()}, {(origin - start).days} days "
                f"after the data's start: fewer than min_train_days "
                f"({backtest['min_train_days']}). Use fewer folds or shorter ones."
            )
        rows.append(
            {
                "fold": k,
                "origin": origin,
                "end": fold_end,
                "train_rows": int((stamps < origin).sum()),
                "test_rows": int(((stamps >= origin) & (stamps < fold_end)).sum()),
            }
        )
    folds = pd.DataFrame(rows, columns=list(FOLD_COLUMNS))
    logger.info(
        "Backtest: %d folds of %s days, origins %s",
        len(folds),
        backtest["fold_days"],
        [o.date().isoformat() for o in folds["origin"]],
    )
    return folds


def _split(
    clean: pd.DataFrame, fold: pd.Series, run: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    stamps = clean[TIMESTAMP]
    train = clean.loc[stamps < fold["origin"]].reset_index(drop=True)
    test = clean.loc[(stamps >= fold["origin"]) & (stamps < fold["end"])].reset_index(drop=True)
    return select_model_data(train, test, run)


def reference_scores(clean: pd.DataFrame, folds: pd.DataFrame, run: dict[str, Any]) -> pd.DataFrame:
    """The naive and seasonal-naive references on every fold.

    Args:
        clean: ``clean_counts``.
        folds: Output of :func:`make_folds`.
        run: ``params:run`` (quick test mode samples the rows).

    Returns:
        One row per reference and fold: ``model``, ``fold`` and the regression metrics.
    """
    rows = []
    for _, fold in folds.iterrows():
        train, test = _split(clean, fold, run)
        naive = naive_predictions(train, test)
        recent = train.loc[train[TIMESTAMP] >= fold["origin"] - pd.Timedelta(days=28)]
        keys = [COUNTER, "hour", "day_of_week"]
        means = recent.groupby(keys, observed=True)[TARGET].mean().rename("seasonal")
        seasonal = test[keys].merge(means.reset_index(), on=keys, how="left")["seasonal"]
        seasonal = np.where(seasonal.isna(), naive, seasonal.to_numpy(dtype="float64"))
        y = test[TARGET].to_numpy()
        for name, predicted in (("naive", naive), ("seasonal_naive", seasonal)):
            rows.append(
                {"model": name, "fold": int(fold["fold"]), **regression_metrics(y, predicted)}
            )
    return pd.DataFrame(rows)


def _backtest(
    model_type: str,
    clean: pd.DataFrame,
    folds: pd.DataFrame,
    context: dict[str, Any],
    params: dict[str, Any],
    run: dict[str, Any],
    dates: dict[str, str],
    settings: dict[str, Any] | None = None,
) -> pd.DataFrame:
    rows = []
    spec = model_spec(model_type)
    evaluate = evaluate_classifier if spec.is_classifier else evaluate_regressor
    seed = int(run.get("seed", 42))
    for _, fold in folds.iterrows():
        train, test = _split(clean, fold, run)
        interval = None
        if settings is not None and not spec.is_classifier:
            interval = calibrate_interval(model_type, train, params, settings, context, dates, seed)
        predictor = fit_predictor(model_type, train, params, seed, context, dates, interval)
        metrics, _ = evaluate(predictor, train, test)
        logger.info("Backtest %s fold %s: %s", model_type, fold["fold"], metrics)
        rows.append({"model": model_type, "fold": int(fold["fold"]), **metrics})
    return pd.DataFrame(rows)


def backtest_rf(
    clean: pd.DataFrame,
    folds: pd.DataFrame,
    context: dict[str, Any],
    params: dict[str, Any],
    run: dict[str, Any],
    dates: dict[str, str],
    settings: dict[str, Any],
) -> pd.DataFrame:
    """The random forest (``params:rf``) on every fold.

    Args:
        clean: ``clean_counts``.
        folds: Output of :func:`make_folds`.
        context: ``feature_context``.
        params: ``params:rf``.
        run: ``params:run``.
        dates: ``params:predictor``.
        settings: ``params:intervals``: each fold's model carries its interval,
            calibrated on the fold's own training rows (``interval_coverage`` and
            ``interval_width`` per fold).

    Returns:
        One row per fold: ``model``, ``fold`` and the metrics of ``evaluate_regressor``.
    """
    return _backtest("rf", clean, folds, context, params, run, dates, settings)


def backtest_nn(
    clean: pd.DataFrame,
    folds: pd.DataFrame,
    context: dict[str, Any],
    params: dict[str, Any],
    run: dict[str, Any],
    dates: dict[str, str],
    settings: dict[str, Any],
) -> pd.DataFrame:
    """The neural network (``params:nn``) on every fold (see :func:`backtest_rf`)."""
    return _backtest("nn", clean, folds, context, params, run, dates, settings)


def backtest_gbm(
    clean: pd.DataFrame,
    folds: pd.DataFrame,
    context: dict[str, Any],
    params: dict[str, Any],
    run: dict[str, Any],
    dates: dict[str, str],
    settings: dict[str, Any],
) -> pd.DataFrame:
    """The gradient boosting (``params:gbm``) on every fold (see :func:`backtest_rf`)."""
    return _backtest("gbm", clean, folds, context, params, run, dates, settings)


def backtest_classifier(
    clean: pd.DataFrame,
    folds: pd.DataFrame,
    context: dict[str, Any],
    params: dict[str, Any],
    run: dict[str, Any],
    dates: dict[str, str],
) -> pd.DataFrame:
    """The affluence classifier (``params:affluence_classifier``) on every fold.

    Returns:
        One row per fold: ``model``, ``fold`` and the metrics of ``evaluate_classifier``.
    """
    return _backtest("affluence_classifier", clean, folds, context, params, run, dates)


def combine_scores(
    folds: pd.DataFrame, references: pd.DataFrame, *models: pd.DataFrame
) -> pd.DataFrame:
    """Every model's and reference's scores per fold, with each fold's dates.

    Args:
        folds: Output of :func:`make_folds`.
        references: Output of :func:`reference_scores`.
        *models: Outputs of the ``backtest_<type>`` nodes.

    Returns:
        One row per model and fold: the fold's origin and end (ISO), then the metrics.
    """
    dated = folds.assign(
        origin=folds["origin"].map(lambda t: t.isoformat()),
        end=folds["end"].map(lambda t: t.isoformat()),
    )
    scores = pd.concat([references, *models], ignore_index=True)
    # each fold's row counts come from the fold table, once (not train_rows_x/_y)
    scores = scores.drop(columns=["train_rows", "test_rows"], errors="ignore")
    return dated.merge(scores, on="fold").sort_values(["model", "fold"], kind="stable")


def summarise(scores: pd.DataFrame, backtest: dict[str, Any]) -> dict[str, Any]:
    """Per regressor: mean and worst fold, the gain over the naive table, folds won.

    Args:
        scores: Output of :func:`combine_scores`.
        backtest: ``params:backtest`` (``folds``).

    Returns:
        ``{"folds": K, "models": {name: {...}}}`` with, per regressor and reference,
        ``mean_rmse``, ``worst_rmse``, ``mean_r2``, ``worst_r2``, ``mean_rmse_log1p``,
        ``worst_rmse_log1p``, ``mean_rmse_gain_vs_naive`` and ``folds_beating_naive``
        (and, with intervals, the mean, lowest and highest coverage and the mean width);
        per classifier the mean and worst F1.
    """
    naive = scores.loc[scores["model"] == "naive"].set_index("fold")["rmse"]
    summary: dict[str, Any] = {"folds": int(backtest["folds"]), "models": {}}
    for name, group in scores.groupby("model", sort=False):
        rows = group.set_index("fold")
        if "rmse" in rows and rows["rmse"].notna().all():
            gain = 1 - rows["rmse"] / naive.reindex(rows.index)
            summary["models"][name] = {
                "mean_rmse": float(rows["rmse"].mean()),
                "worst_rmse": float(rows["rmse"].max()),
                "mean_r2": float(rows["r2"].mean()),
                "worst_r2": float(rows["r2"].min()),
                "mean_rmse_log1p": float(rows["rmse_log1p"].mean()),
                "worst_rmse_log1p": float(rows["rmse_log1p"].max()),
                "mean_rmse_gain_vs_naive": float(gain.mean()),
                "folds_beating_naive": int((gain > 0).sum()),
            }
            if "interval_coverage" in rows and rows["interval_coverage"].notna().all():
                summary["models"][name] |= {
                    "mean_interval_coverage": float(rows["interval_coverage"].mean()),
                    "min_interval_coverage": float(rows["interval_coverage"].min()),
                    "max_interval_coverage": float(rows["interval_coverage"].max()),
                    "mean_interval_width": float(rows["interval_width"].mean()),
                }
        elif "f1_score" in rows:
            summary["models"][name] = {
                "mean_f1_score": float(rows["f1_score"].mean()),
                "worst_f1_score": float(rows["f1_score"].min()),
                "mean_accuracy": float(rows["accuracy"].mean()),
            }
    for name, figures in summary["models"].items():
        logger.info("Backtest %s: %s", name, figures)
    return summary


def to_mlflow_metrics(summary: dict[str, Any]) -> dict[str, dict[str, float]]:
    """The summary as MLflow metrics: ``backtest.<model>.<figure>``."""
    return {
        f"backtest.{name}.{key}": {"value": float(value), "step": 0}
        for name, figures in summary["models"].items()
        for key, value in figures.items()
    }


def plot_folds(scores: pd.DataFrame):
    """RMSE per fold of every regressor and reference (one line each)."""
    regressors = scores.loc[scores["rmse"].notna()]
    fig, ax = pyplot().subplots(figsize=(8, 4.5))
    for name, rows in regressors.groupby("model"):
        style = "--" if name in ("naive", "seasonal_naive") else "-"
        ax.plot(rows["origin"].str[:10], rows["rmse"], style, marker="o", label=name)
    ax.set(xlabel="fold origin", ylabel="RMSE (bikes per hour)", title="Rolling-origin backtest")
    ax.legend()
    ax.tick_params(axis="x", rotation=30)
    fig.tight_layout()
    return fig
