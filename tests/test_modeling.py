"""Shared model pieces: data selection, fingerprint, metrics, baseline."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from bike_traffic.modeling import (
    apply_naive_baseline,
    classification_metrics,
    data_fingerprint,
    fit_naive_baseline,
    regression_metrics,
    select_model_data,
    to_mlflow_metrics,
)

RUN = {"test_mode": False, "test_mode_rows": 100, "seed": 1}


def test_select_model_data_is_identity_outside_test_mode(small_split):
    train, test = small_split
    got_train, got_test = select_model_data(train, test, RUN)
    assert got_train is train and got_test is test


def test_test_mode_samples_the_same_rows_each_time(small_split):
    train, test = small_split
    a_train, a_test = select_model_data(train, test, {**RUN, "test_mode": True})
    b_train, _ = select_model_data(train, test, {**RUN, "test_mode": True})
    assert len(a_train) == len(a_test) == 100
    pd.testing.assert_frame_equal(a_train, b_train)
    assert a_train["date_et_heure_de_comptage"].is_monotonic_increasing


def test_fingerprint_changes_with_the_data(small_split):
    train, test = small_split
    first = data_fingerprint(train, test, RUN)
    assert first == data_fingerprint(train.copy(), test.copy(), RUN)
    changed = test.assign(comptage_horaire=test["comptage_horaire"] + 1)
    assert data_fingerprint(train, changed, RUN)["hash"] != first["hash"]
    assert first["rows_train"] == len(train) and first["test_mode"] is False
    assert first["start"] < first["test_start"] <= first["end"]


def test_regression_metrics_perfect_and_known_values():
    y = np.array([1.0, 2.0, 3.0])
    assert regression_metrics(y, y) == {"rmse": 0.0, "mae": 0.0, "r2": 1.0}
    off = regression_metrics(y, y + 2)
    assert off["rmse"] == pytest.approx(2.0) and off["mae"] == pytest.approx(2.0)


def test_classification_metrics_handles_a_single_class():
    m = classification_metrics(np.array([1, 1]), np.array([1, 0]), np.array([0.9, 0.4]))
    assert m["recall"] == 0.5 and m["positive_rate"] == 1.0 and math.isnan(m["roc_auc"])


def test_naive_baseline_falls_back_for_unseen_keys(small_split):
    train, test = small_split
    baseline = fit_naive_baseline(train)
    unseen = test.head(3).assign(nom_du_compteur="Nouveau compteur N-S")
    pred = apply_naive_baseline(baseline, train, unseen)
    assert np.allclose(pred, train["comptage_horaire"].mean())
    seen = apply_naive_baseline(baseline, train, test)
    assert not np.isnan(seen).any()


def test_to_mlflow_metrics_prefixes_and_skips_nan():
    out = to_mlflow_metrics({"rmse": 1.5, "roc_auc": float("nan")}, "rf")
    assert out == {"rf.rmse": {"value": 1.5, "step": 0}}
