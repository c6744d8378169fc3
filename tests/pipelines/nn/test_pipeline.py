"""``nn`` on SequentialRunner over an in-memory catalog: metrics, predictor, bundle, card."""

from __future__ import annotations

import json

import matplotlib.figure
import numpy as np
import pandas as pd
import pytest

from bike_traffic.models import nn
from bike_traffic.models.plots import pyplot
from bike_traffic.models.predictor import Predictor, requests_from_rows
from bike_traffic.pipelines.nn import create_pipeline
from tests.pipelines.slices import parameter, run_slice

FREE_OUTPUTS = {
    "nn.mlflow_model",
    "nn.model_card",
    "nn.mlflow_metrics",
    "nn.data_fingerprint",
    "nn.predicted_vs_actual_plot",
    "nn.error_by_hour_plot",
    "nn.training_curves_plot",
}
KEPT = ["nn.metrics", "nn.model", "nn.preprocessor", "nn.training_history"]


@pytest.fixture(scope="module")
def out(small_split, small_context):
    train, test = small_split
    outputs = run_slice(
        create_pipeline(),
        {"train_baseline": train, "test_baseline": test, "feature_context": small_context},
        keep=KEPT,
    )
    yield outputs
    pyplot().close("all")


def test_the_run_returns_its_free_outputs(out):
    assert set(out) == FREE_OUTPUTS | set(KEPT)
    assert out["nn.model_card"] == {"model_type": "nn"}
    assert isinstance(out["nn.training_curves_plot"], matplotlib.figure.Figure)


def test_a_short_training_with_conf_test_s_parameters(out, small_split):
    history = out["nn.training_history"]
    assert json.loads(json.dumps(history)) == history  # a dict of lists, not a Keras History
    assert 1 <= len(history["loss"]) <= parameter("params:nn.model")["epochs"] == 3
    assert history["loss"][-1] < history["loss"][0]
    preprocessor = out["nn.preprocessor"]
    assert preprocessor["numeric"] == parameter("params:nn.features")["numeric"]
    assert preprocessor["vocabulary"] == sorted(small_split[0]["nom_du_compteur"].unique())
    assert preprocessor["target"] == parameter("params:nn.target") == "none"


def test_the_preprocessing_is_fitted_with_conf_s_target_transform():
    # ``params:nn.target`` (none | log1p) is what the preprocessing and the network use
    node = next(n for n in create_pipeline().nodes if n.name == "nn.fit_preprocessor")
    assert "params:nn.target" in node.inputs


def test_metrics_are_sane_beside_the_naive_baseline(out, run_split):
    metrics = out["nn.metrics"]
    assert {"rmse", "mae", "r2", "baseline_rmse", "baseline_r2", "train_rmse"} <= set(metrics)
    # three epochs on four weeks: better than the mean, not yet the baseline's equal
    assert metrics["rmse"] > 0 and metrics["r2"] > 0.2
    assert metrics["rmse"] < run_split[1]["comptage_horaire"].std()
    assert metrics["baseline_rmse"] > 0 and np.isfinite(metrics["rmse_gain_vs_baseline"])
    assert metrics["test_rows"] == len(run_split[1]) and metrics["test_rows_refused"] == 0
    prefix = parameter("params:nn.metric_prefix")
    assert out["nn.mlflow_metrics"][f"{prefix}.rmse"] == {"value": metrics["rmse"], "step": 0}


def test_the_bundle_holds_the_network_its_preprocessing_and_an_example(out, small_split):
    bundle = out["nn.mlflow_model"]
    assert set(bundle) == {"predictor", "input_example"}
    predictor = bundle["predictor"]
    assert isinstance(predictor, Predictor) and predictor.spec.model_type == "nn"
    assert predictor.estimator is out["nn.model"]
    assert predictor.extras == {"preprocessor": out["nn.preprocessor"]}
    assert predictor.context is not None and set(predictor.context) == {
        "school_holidays",
        "restrictions",
        "climatology",
    }
    answer = predictor.predict(bundle["input_example"])
    assert answer["error"].isna().all() and (answer["prediction"] >= 0).all()
    # served through the network's own predict, on the same rows
    test = small_split[1]
    requests = requests_from_rows(test)  # with the weather the rows were built with
    expected = nn.predict(out["nn.model"], predictor.extras, test)
    served = predictor.predict(requests)["prediction"].to_numpy(dtype="float64")
    assert np.allclose(served, expected, rtol=1e-6)


def test_the_predictor_answers_raw_requests(out, small_split):
    predictor = out["nn.mlflow_model"]["predictor"]
    counter = str(small_split[1]["nom_du_compteur"].iloc[0])
    answer = predictor.predict(
        pd.DataFrame(
            {"counter": [counter, "Nowhere N-S"], "date": ["2024-04-05"] * 2, "hour": [8, 8]}
        )
    )
    assert answer["error"].iloc[0] is None and answer["prediction"].iloc[0] >= 0
    assert answer["error"].iloc[1].startswith("unknown_counter")
