"""rf nodes: fit, predict (unseen counters too), evaluate, package."""

from __future__ import annotations

import numpy as np
import pytest

from bike_traffic.pipelines.rf.nodes import evaluate_model, package_model, predict, train_model

FEATURES = {
    "categorical": ["nom_du_compteur"],
    "numeric": [
        "hour",
        "day_of_week",
        "month",
        "day_of_year",
        "is_weekend",
        "is_holiday",
        "latitude",
        "longitude",
    ],
}
MODEL = {"n_estimators": 10, "max_depth": 12, "min_samples_leaf": 2, "random_state": 0, "n_jobs": 1}


@pytest.fixture(scope="module")
def fitted(small_split):
    return train_model(small_split[0], FEATURES, MODEL)


def test_rf_learns_and_reports_test_and_baseline_scores(fitted, small_split):
    metrics, predictions = evaluate_model(fitted, *small_split, FEATURES)
    assert {"rmse", "mae", "r2", "baseline_rmse", "train_r2"} <= set(metrics)
    assert metrics["r2"] > 0.5
    assert metrics["rmse"] < small_split[1]["comptage_horaire"].std()
    assert len(predictions) == len(small_split[1])
    assert (predictions["predicted"] >= 0).all()


def test_rf_predicts_unseen_counters(fitted, small_split):
    rows = small_split[1].head(5).assign(nom_du_compteur="Compteur inconnu E-O")
    assert np.isfinite(predict(fitted, rows, FEATURES)).all()


def test_rf_missing_feature_column_fails_clearly(fitted, small_split):
    with pytest.raises(KeyError, match="hour"):
        predict(fitted, small_split[1].drop(columns=["hour"]), FEATURES)


def test_package_has_an_example_and_its_output(fitted, small_split):
    bundle, card = package_model(fitted, small_split[1], FEATURES)
    assert card == {"model_type": "rf"}
    assert list(bundle["input_example"].columns) == FEATURES["categorical"] + FEATURES["numeric"]
    assert len(bundle["output_example"]) == 5
