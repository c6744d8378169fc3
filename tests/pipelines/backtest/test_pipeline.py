"""``backtest`` on SequentialRunner over an in-memory catalog: folds, scores, summary."""

from __future__ import annotations

import matplotlib.figure
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from bike_traffic.features import counter_table
from bike_traffic.models import rf
from bike_traffic.models.evaluation import evaluate_regressor, select_model_data
from bike_traffic.models.plots import pyplot
from bike_traffic.models.predictor import Predictor
from bike_traffic.models.spec import MODEL_SPECS
from bike_traffic.pipelines.backtest import create_pipeline
from bike_traffic.pipelines.backtest.nodes import FOLD_COLUMNS, make_folds
from bike_traffic.validation import DateRange
from tests.pipelines.slices import parameter, run_slice

TIMESTAMP = "date_et_heure_de_comptage"
REFERENCES = ("naive", "seasonal_naive")
REGRESSOR_FIGURES = {
    "mean_rmse",
    "worst_rmse",
    "mean_r2",
    "worst_r2",
    "mean_rmse_log1p",
    "worst_rmse_log1p",
    "mean_rmse_gain_vs_naive",
    "folds_beating_naive",
}
INTERVAL_FIGURES = {
    "mean_interval_coverage",
    "min_interval_coverage",
    "max_interval_coverage",
    "mean_interval_width",
}
CLASSIFIER_FIGURES = {"mean_f1_score", "worst_f1_score", "mean_accuracy"}
KEPT = ["backtest.folds", "backtest.scores", "backtest.summary"]


@pytest.fixture(scope="module", autouse=True)
def _one_openmp_thread():
    """The boosting's OpenMP threads, on a busy machine, wait on each other: one is faster."""
    with threadpool_limits(1, user_api="openmp"):
        yield


@pytest.fixture(scope="module")
def settings() -> dict:
    """conf/test's ``params:backtest``: two folds of three days."""
    backtest = parameter("params:backtest")
    assert (backtest["folds"], backtest["fold_days"]) == (2, 3)
    return backtest


@pytest.fixture(scope="module")
def out(small_clean, small_context, settings):
    outputs = run_slice(
        create_pipeline(),
        {"clean_counts": small_clean, "feature_context": small_context},
        keep=KEPT,
    )
    yield outputs
    pyplot().close("all")


def test_the_run_returns_its_outputs(out):
    assert set(out) == {"backtest.mlflow_metrics", "backtest.folds_plot", *KEPT}
    assert isinstance(out["backtest.folds_plot"], matplotlib.figure.Figure)


def test_folds_are_the_most_recent_first_and_train_strictly_before_their_origin(
    out, small_clean, small_context, settings
):
    folds = out["backtest.folds"]
    assert folds["fold"].tolist() == [1, 2]
    stamps = small_clean[TIMESTAMP]
    data_end = (stamps.max() + pd.Timedelta(hours=1)).ceil("D")
    assert folds["end"].iloc[0] == data_end  # the first fold ends where the data ends
    assert folds["origin"].is_monotonic_decreasing
    assert folds["end"].iloc[1] == folds["origin"].iloc[0]  # back to back
    for _, fold in folds.iterrows():
        assert (fold["end"] - fold["origin"]).days == settings["fold_days"]
        assert (fold["origin"].hour, fold["origin"].minute) == (0, 0)  # a local midnight
        before = stamps < fold["origin"]
        inside = (stamps >= fold["origin"]) & (stamps < fold["end"])
        assert fold["train_rows"] == before.sum() > 0 and fold["test_rows"] == inside.sum() > 0
        train_days = (fold["origin"] - stamps.min()).days
        assert train_days >= settings["min_train_days"]
    # the forest of fold 1 is the one fitted on the rows before its origin, judged on the fold
    fold = folds.iloc[0]
    train = small_clean.loc[stamps < fold["origin"]]
    test = small_clean.loc[(stamps >= fold["origin"]) & (stamps < fold["end"])]
    # hours flagged as a counter being down are left out, as in every model run
    train, test = select_model_data(train, test, parameter("params:run"))
    assert not train["outage"].any() and not test["outage"].any()
    params = parameter("params:rf")
    forest = rf.fit(train, params["features"], params["model"], params["target"])
    predictor = Predictor(
        "rf",
        forest,
        {"target": params["target"]},
        counter_table(train),
        small_context,
        DateRange.from_params(parameter("params:predictor")),
    )
    expected, _ = evaluate_regressor(predictor, train, test)
    scores = out["backtest.scores"]
    [scored] = scores.loc[(scores["model"] == "rf") & (scores["fold"] == 1), "rmse"]
    assert scored == pytest.approx(expected["rmse"], rel=1e-12)


def test_the_scores_carry_each_fold_s_dates_and_row_counts_once(out):
    scores = out["backtest.scores"]
    assert not [c for c in scores.columns if c.endswith(("_x", "_y"))]
    assert set(FOLD_COLUMNS) <= set(scores.columns)
    folds = out["backtest.folds"].set_index("fold")
    for _, row in scores.iterrows():
        fold = folds.loc[row["fold"]]
        assert (row["origin"], row["end"]) == (fold["origin"].isoformat(), fold["end"].isoformat())
        assert (row["train_rows"], row["test_rows"]) == (fold["train_rows"], fold["test_rows"])
    assert (scores.loc[scores["model"].isin(MODEL_SPECS), "test_rows_refused"] == 0).all()


def test_one_row_per_model_type_and_reference_per_fold(out):
    scores = out["backtest.scores"]
    expected = {(m, k) for m in (*REFERENCES, *MODEL_SPECS) for k in (1, 2)}
    assert set(zip(scores["model"], scores["fold"], strict=True)) == expected
    assert len(scores) == len(expected) == 12
    regressors = scores.loc[scores["model"] != "affluence_classifier"]
    assert regressors[["rmse", "r2", "rmse_log1p"]].notna().all().all()
    assert (regressors["rmse"] > 0).all()
    classifier = scores.loc[scores["model"] == "affluence_classifier"]
    assert classifier["f1_score"].between(0, 1).all() and classifier["rmse"].isna().all()
    # the naive reference is the naive baseline each model is judged beside, fold by fold
    naive = scores.loc[scores["model"] == "naive"].set_index("fold")["rmse"]
    for model_type in ("rf", "nn", "gbm"):
        baseline = scores.loc[scores["model"] == model_type].set_index("fold")["baseline_rmse"]
        pd.testing.assert_series_equal(baseline, naive, check_names=False)


def test_the_summary_gives_each_model_its_mean_and_worst_fold(out, settings):
    summary = out["backtest.summary"]
    scores = out["backtest.scores"]
    assert summary["folds"] == settings["folds"] == 2
    assert set(summary["models"]) == {*REFERENCES, *MODEL_SPECS}
    naive = scores.loc[scores["model"] == "naive"].set_index("fold")["rmse"]
    for name, figures in summary["models"].items():
        rows = scores.loc[scores["model"] == name].set_index("fold")
        if name == "affluence_classifier":
            assert set(figures) == CLASSIFIER_FIGURES
            assert figures["mean_f1_score"] == pytest.approx(rows["f1_score"].mean())
            assert figures["worst_f1_score"] == pytest.approx(rows["f1_score"].min())
            continue
        if name in REFERENCES:
            assert set(figures) == REGRESSOR_FIGURES, name
        else:
            # every regressor's fold model carries its interval, judged on the fold
            assert set(figures) == REGRESSOR_FIGURES | INTERVAL_FIGURES, name
            coverage = rows["interval_coverage"]
            assert figures["mean_interval_coverage"] == pytest.approx(coverage.mean())
            assert figures["min_interval_coverage"] == pytest.approx(coverage.min())
            assert figures["max_interval_coverage"] == pytest.approx(coverage.max())
            assert 0 < figures["min_interval_coverage"] <= figures["max_interval_coverage"] <= 1
            assert figures["mean_interval_width"] == pytest.approx(rows["interval_width"].mean())
        assert figures["mean_rmse"] == pytest.approx(rows["rmse"].mean())
        assert figures["worst_rmse"] == pytest.approx(rows["rmse"].max())
        assert figures["worst_r2"] == pytest.approx(rows["r2"].min())
        assert figures["worst_r2"] <= figures["mean_r2"]
        assert figures["worst_rmse_log1p"] >= figures["mean_rmse_log1p"] > 0
        gain = 1 - rows["rmse"] / naive
        assert figures["mean_rmse_gain_vs_naive"] == pytest.approx(gain.mean())
        assert figures["folds_beating_naive"] == int((gain > 0).sum())
    assert summary["models"]["naive"]["mean_rmse_gain_vs_naive"] == 0.0
    assert summary["models"]["naive"]["folds_beating_naive"] == 0
    # logged to MLflow as backtest.<model>.<figure>
    logged = out["backtest.mlflow_metrics"]
    assert logged["backtest.gbm.mean_rmse"] == {
        "value": summary["models"]["gbm"]["mean_rmse"],
        "step": 0,
    }
    assert len(logged) == (
        5 * len(REGRESSOR_FIGURES) + 3 * len(INTERVAL_FIGURES) + len(CLASSIFIER_FIGURES)
    )


def test_a_too_short_history_is_refused_naming_min_train_days(small_clean, small_context):
    too_many = {"backtest.folds": 6}  # 6 x 3 days back from four weeks: 10 days of training
    with pytest.raises(ValueError, match=r"fold 5 .*fewer than min_train_days \(14\)"):
        run_slice(
            create_pipeline(),
            {"clean_counts": small_clean, "feature_context": small_context},
            overrides=too_many,
        )
    with pytest.raises(ValueError, match="min_train_days"):
        make_folds(small_clean, {"folds": 1, "fold_days": 3, "min_train_days": 60})


def test_fold_origins_are_local_midnights_across_the_clock_change(small_clean):
    # four weeks that span 2024-03-31: the third fold's origin is before the change
    folds = make_folds(small_clean, {"folds": 3, "fold_days": 3, "min_train_days": 14})
    assert [o.date().isoformat() for o in folds["origin"]] == [
        "2024-04-05",
        "2024-04-02",
        "2024-03-30",
    ]
    assert all((o.hour, o.minute) == (0, 0) for o in folds["origin"])
    assert all((e.hour, e.minute) == (0, 0) for e in folds["end"])
