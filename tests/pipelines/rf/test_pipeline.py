"""``rf`` on SequentialRunner over an in-memory catalog: metrics, predictor, bundle, card."""

from __future__ import annotations

import matplotlib.figure
import numpy as np
import pandas as pd
import pytest

from bike_traffic.models.evaluation import score_predictor
from bike_traffic.models.plots import pyplot
from bike_traffic.models.predictor import Predictor
from bike_traffic.pipelines.rf import create_pipeline
from tests.pipelines.slices import parameter, run_slice

FREE_OUTPUTS = {
    "rf.mlflow_model",
    "rf.model_card",
    "rf.mlflow_metrics",
    "rf.data_fingerprint",
    "rf.predicted_vs_actual_plot",
    "rf.error_by_hour_plot",
    "rf.feature_importances_plot",
}


def run_rf(small_split, small_context, **overrides) -> dict:
    train, test = small_split
    return run_slice(
        create_pipeline(),
        {"train_baseline": train, "test_baseline": test, "feature_context": small_context},
        keep=["rf.metrics", "rf.predictor"],
        overrides=overrides,
    )


@pytest.fixture(scope="module")
def out(small_split, small_context):
    outputs = run_rf(small_split, small_context)
    yield outputs
    pyplot().close("all")


def test_the_run_returns_its_free_outputs(out):
    assert set(out) == FREE_OUTPUTS | {"rf.metrics", "rf.predictor"}
    assert out["rf.model_card"] == {"model_type": "rf"}
    for name in FREE_OUTPUTS:
        if name.endswith("_plot"):
            assert isinstance(out[name], matplotlib.figure.Figure), name


def test_metrics_are_sane_beside_the_naive_baseline(out, run_split):
    metrics = out["rf.metrics"]
    assert {"rmse", "mae", "r2", "baseline_rmse", "baseline_r2", "train_rmse"} <= set(metrics)
    assert metrics["rmse"] > 0 and metrics["r2"] > 0.5
    # four weeks of data: the small forest is close to the naive baseline, not far off it
    assert metrics["baseline_rmse"] > 0
    assert metrics["rmse"] < 1.5 * metrics["baseline_rmse"]
    assert metrics["rmse_gain_vs_baseline"] == pytest.approx(
        1 - metrics["rmse"] / metrics["baseline_rmse"]
    )
    assert metrics["test_rows"] == len(run_split[1]) and metrics["test_rows_refused"] == 0
    # logged under conf's prefix, NaN-free
    prefix = parameter("params:rf.metric_prefix")
    assert out["rf.mlflow_metrics"] == {
        f"{prefix}.{k}": {"value": v, "step": 0} for k, v in metrics.items()
    }


def test_the_fingerprint_describes_the_rows_of_the_run(out, run_split):
    train, test = run_split  # the full split but its outage hours
    fingerprint = out["rf.data_fingerprint"]
    assert (fingerprint["rows_train"], fingerprint["rows_test"]) == (len(train), len(test))
    assert fingerprint["test_mode"] is False


def test_the_bundle_holds_the_judged_predictor_and_an_example_it_serves(out, run_split):
    bundle = out["rf.mlflow_model"]
    assert set(bundle) == {"predictor", "input_example"}
    predictor = bundle["predictor"]
    assert isinstance(predictor, Predictor) and predictor is out["rf.predictor"]
    assert predictor.spec.model_type == "rf"
    assert predictor.dates.to_params() == parameter("params:predictor")
    # it carries the feature context and the target transform it was fitted with
    assert predictor.extras == {"target": parameter("params:rf.target")}
    assert set(predictor.context) == {"school_holidays", "restrictions", "climatology"}
    # conf/test's small forest was trained
    assert predictor.estimator.named_steps["forest"].n_estimators == 10
    answer = predictor.predict(bundle["input_example"])
    assert answer["error"].isna().all() and (answer["prediction"] >= 0).all()
    # what was logged scores what the run measured
    rescored = score_predictor(predictor, run_split[1])
    assert rescored["rmse"] == pytest.approx(out["rf.metrics"]["rmse"])


def test_the_predictor_answers_raw_requests(out, small_split):
    predictor = out["rf.predictor"]
    counter = str(small_split[1]["nom_du_compteur"].iloc[0])
    requests = pd.DataFrame(
        {
            "counter": [counter, counter, "Nowhere N-S"],
            "timestamp": ["2024-04-05T08:00:00+02:00", None, "2024-04-05T08:00:00+02:00"],
            "date": [None, "2024-04-05", None],
            "hour": [None, 8, None],
        }
    )
    answer = predictor.predict(requests)
    assert answer["prediction"].iloc[0] == answer["prediction"].iloc[1] >= 0
    assert answer["error"].iloc[2].startswith("unknown_counter")
    assert answer["prediction"].iloc[2] is None


def test_quick_test_mode_trains_and_judges_on_a_sample(small_split, small_context):
    overrides = {"run.test_mode": True, "run.test_mode_rows": 400, "rf.target": "log1p"}
    out = run_rf(small_split, small_context, **overrides)
    pyplot().close("all")
    fingerprint = out["rf.data_fingerprint"]
    assert fingerprint["test_mode"] is True
    assert fingerprint["rows_train"] == fingerprint["rows_test"] == 400
    metrics = out["rf.metrics"]
    assert metrics["train_rows"] == metrics["test_rows"] == 400
    assert np.isfinite(metrics["rmse"]) and metrics["rmse"] > 0
    # the forest learnt log1p(count); its predictor answers counts
    predictor = out["rf.predictor"]
    assert predictor.extras == {"target": "log1p"}
    answer = predictor.predict(out["rf.mlflow_model"]["input_example"])
    assert answer["error"].isna().all() and (answer["prediction"] >= 0).all()
