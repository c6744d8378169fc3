"""models.evaluation: data selection, fingerprint, metrics, baseline, judging a predictor."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from bike_traffic.models import classifier, rf
from bike_traffic.models.evaluation import (
    classification_metrics,
    data_fingerprint,
    evaluate_classifier,
    evaluate_regressor,
    naive_predictions,
    predict_rows,
    predictions_table,
    regression_metrics,
    score_predictor,
    select_model_data,
    to_mlflow_metrics,
    train_sample,
)
from tests.models.conftest import RF_FEATURES, RF_MODEL, package

RUN = {"test_mode": False, "test_mode_rows": 100, "seed": 1}
TARGET = "comptage_horaire"
TIMESTAMP = "date_et_heure_de_comptage"


# ---------------------------------------------------------------- the rows of a run
def test_select_model_data_leaves_out_outage_hours_only_outside_test_mode(small_split):
    train, test = small_split
    kept_train, kept_test = select_model_data(train, test, {**RUN, "exclude_outages": False})
    assert kept_train is train and kept_test is test
    got_train, got_test = select_model_data(train, test, RUN)
    for got, full in ((got_train, train), (got_test, test)):
        assert not got["outage"].any()
        pd.testing.assert_frame_equal(got, full.loc[~full["outage"]].reset_index(drop=True))


def test_test_mode_samples_the_same_rows_each_time(small_split):
    train, test = small_split
    a_train, a_test = select_model_data(train, test, {**RUN, "test_mode": True})
    b_train, _ = select_model_data(train, test, {**RUN, "test_mode": True})
    assert len(a_train) == len(a_test) == 100
    pd.testing.assert_frame_equal(a_train, b_train)
    assert a_train[TIMESTAMP].is_monotonic_increasing


def test_fingerprint_changes_with_the_data(small_split):
    train, test = small_split
    first = data_fingerprint(train, test, RUN)
    assert first == data_fingerprint(train.copy(), test.copy(), RUN)
    changed = test.assign(**{TARGET: test[TARGET] + 1})
    assert data_fingerprint(train, changed, RUN)["hash"] != first["hash"]
    assert first["rows_train"] == len(train) and first["test_mode"] is False
    assert first["start"] < first["test_start"] <= first["end"]


def test_train_sample_is_fixed_and_bounded(small_split):
    train = small_split[0]
    pd.testing.assert_frame_equal(train_sample(train, 50), train_sample(train, 50))
    assert len(train_sample(train, 50)) == 50 and len(train_sample(train)) == len(train)


# ---------------------------------------------------------------- metrics
def test_regression_metrics_perfect_and_known_values():
    y = np.array([1.0, 2.0, 3.0])
    assert regression_metrics(y, y) == {"rmse": 0.0, "mae": 0.0, "r2": 1.0, "rmse_log1p": 0.0}
    off = regression_metrics(y, y + 2)
    assert off["rmse"] == pytest.approx(2.0) and off["mae"] == pytest.approx(2.0)
    # rmse_log1p scores log(1 + count), a negative prediction as zero
    expected = np.sqrt(np.mean((np.log1p(y + 2) - np.log1p(y)) ** 2))
    assert off["rmse_log1p"] == pytest.approx(expected)
    clipped = regression_metrics(np.array([0.0, 4.0]), np.array([-5.0, 4.0]))
    assert clipped["rmse_log1p"] == 0.0 and clipped["rmse"] == pytest.approx(np.sqrt(12.5))


def test_classification_metrics_handles_a_single_class():
    m = classification_metrics(np.array([1, 1]), np.array([1, 0]), np.array([0.9, 0.4]))
    assert m["recall"] == 0.5 and m["positive_rate"] == 1.0 and math.isnan(m["roc_auc"])


def test_naive_baseline_falls_back_for_unseen_keys(small_split):
    train, test = small_split
    unseen = test.head(3).assign(nom_du_compteur="Nouveau compteur N-S")
    pred = naive_predictions(train, unseen)
    assert np.allclose(pred, train[TARGET].mean())
    seen = naive_predictions(train, test)
    assert not np.isnan(seen).any()


def test_to_mlflow_metrics_prefixes_and_skips_nan():
    out = to_mlflow_metrics({"rmse": 1.5, "roc_auc": float("nan")}, "rf")
    assert out == {"rf.rmse": {"value": 1.5, "step": 0}}


def test_predictions_table_puts_observed_beside_predicted(small_split):
    test = small_split[1].head(4)
    table = predictions_table(test, np.arange(4.0))
    assert list(table.columns) == ["nom_du_compteur", TIMESTAMP, "hour", "observed", "predicted"]
    assert table["observed"].tolist() == test[TARGET].tolist()


# ---------------------------------------------------------------- judging a predictor
def test_predict_rows_goes_through_the_raw_input_path(rf_predictor, rf_estimator, small_split):
    test = small_split[1]
    values, served = predict_rows(rf_predictor, test)
    assert served.all()
    assert np.array_equal(values, rf.predict(rf_estimator, {}, test))


def test_evaluate_regressor_scores_the_test_set_beside_the_baseline(
    rf_predictor, rf_estimator, small_split
):
    train, test = small_split
    metrics, predictions = evaluate_regressor(rf_predictor, train, test)
    assert {
        "rmse",
        "mae",
        "r2",
        "baseline_rmse",
        "baseline_mae",
        "baseline_r2",
        "rmse_gain_vs_baseline",
        "train_rmse",
        "train_r2",
    } <= set(metrics)
    expected = regression_metrics(test[TARGET].to_numpy(), rf.predict(rf_estimator, {}, test))
    assert metrics["rmse"] == pytest.approx(expected["rmse"])
    assert metrics["r2"] > 0.5 and 0 < metrics["rmse"] < test[TARGET].std()
    assert metrics["rmse_gain_vs_baseline"] == pytest.approx(
        1 - metrics["rmse"] / metrics["baseline_rmse"]
    )
    assert metrics["train_rmse"] < metrics["rmse"]  # a forest fits its train rows better
    assert metrics["test_rows"] == len(test) and metrics["test_rows_refused"] == 0
    assert metrics["train_rows"] == len(train)
    assert len(predictions) == len(test) and (predictions["predicted"] >= 0).all()


def test_rows_of_unseen_counters_are_refused_and_left_out_of_the_scores(small_split, small_context):
    train, test = small_split
    left_out = sorted(train["nom_du_compteur"].unique())[0]
    partial_train = train[train["nom_du_compteur"] != left_out]
    predictor = package(
        "rf", rf.fit(partial_train, RF_FEATURES, RF_MODEL), {}, (partial_train, test, small_context)
    )
    metrics, predictions = evaluate_regressor(predictor, partial_train, test)
    unseen = int((test["nom_du_compteur"] == left_out).sum())
    assert unseen > 0
    assert metrics["test_rows_refused"] == unseen
    assert metrics["test_rows"] == len(test) - unseen == len(predictions)
    assert left_out not in set(predictions["nom_du_compteur"])
    assert np.isfinite(metrics["rmse"])


def test_evaluate_classifier_labels_with_the_train_thresholds(
    classifier_predictor, thresholds, small_split
):
    train, test = small_split
    metrics, predictions = evaluate_classifier(classifier_predictor, train, test)
    assert {"accuracy", "precision", "recall", "f1_score", "roc_auc", "train_f1_score"} <= set(
        metrics
    )
    assert metrics["f1_score"] > 0.6 and metrics["accuracy"] > 0.7
    assert 0 < metrics["positive_rate"] < 1
    assert metrics["positive_rate"] == pytest.approx(classifier.label_rows(thresholds, test).mean())
    assert metrics["test_rows"] == len(test) and metrics["test_rows_refused"] == 0
    assert predictions["probability"].between(0, 1).all()
    assert (predictions["predicted"] == (predictions["probability"] >= 0.5)).all()
    assert predictions["observed"].tolist() == classifier.label_rows(thresholds, test).tolist()


def test_score_predictor_gives_the_run_s_own_test_scores(
    rf_predictor, classifier_predictor, small_split
):
    train, test = small_split
    judged, _ = evaluate_regressor(rf_predictor, train, test)
    rescored = score_predictor(rf_predictor, test)
    assert set(rescored) == {"rmse", "mae", "r2", "rmse_log1p", "test_rows_refused"}
    assert all(rescored[k] == pytest.approx(judged[k]) for k in ("rmse", "mae", "r2", "rmse_log1p"))
    judged, _ = evaluate_classifier(classifier_predictor, train, test)
    rescored = score_predictor(classifier_predictor, test)
    assert rescored["f1_score"] == pytest.approx(judged["f1_score"])
    assert rescored["accuracy"] == pytest.approx(judged["accuracy"])
    assert "rmse" not in rescored
