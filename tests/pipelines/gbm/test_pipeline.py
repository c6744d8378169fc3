"""``gbm`` on SequentialRunner over an in-memory catalog: metrics, predictor, bundle, card."""

from __future__ import annotations

import matplotlib.figure
import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from bike_traffic.models.evaluation import score_predictor
from bike_traffic.models.plots import pyplot
from bike_traffic.models.predictor import Predictor
from bike_traffic.pipeline_registry import DEFAULT_PIPELINES, MODEL_RUNS
from bike_traffic.pipelines.gbm import create_pipeline
from tests.pipelines.slices import parameter, run_slice

FREE_OUTPUTS = {
    "gbm.mlflow_model",
    "gbm.model_card",
    "gbm.mlflow_metrics",
    "gbm.data_fingerprint",
    "gbm.predicted_vs_actual_plot",
    "gbm.error_by_hour_plot",
}
KEPT = ["gbm.metrics", "gbm.predictor"]


@pytest.fixture(scope="module", autouse=True)
def _one_openmp_thread():
    """The boosting's OpenMP threads, on a busy machine, wait on each other: one is faster."""
    with threadpool_limits(1, user_api="openmp"):
        yield


def run_gbm(small_split, small_context, **overrides) -> dict:
    train, test = small_split
    return run_slice(
        create_pipeline(),
        {"train_baseline": train, "test_baseline": test, "feature_context": small_context},
        keep=KEPT,
        overrides=overrides,
    )


@pytest.fixture(scope="module")
def out(small_split, small_context):
    outputs = run_gbm(small_split, small_context)
    yield outputs
    pyplot().close("all")


def test_the_pipeline_reads_the_split_and_the_feature_context():
    pipeline = create_pipeline()
    assert {i for i in pipeline.inputs() if not i.startswith("params:")} == {
        "train_baseline",
        "test_baseline",
        "feature_context",
    }
    assert {"params:gbm.features", "params:gbm.model", "params:gbm.target"} <= pipeline.inputs()
    # a model run of `kedro run`, registered like the others
    assert "gbm" in DEFAULT_PIPELINES and MODEL_RUNS["gbm"] == {"gbm": "gbm"}


def test_the_run_returns_its_free_outputs(out):
    assert set(out) == FREE_OUTPUTS | set(KEPT)
    assert out["gbm.model_card"] == {"model_type": "gbm"}
    for name in FREE_OUTPUTS:
        if name.endswith("_plot"):
            assert isinstance(out[name], matplotlib.figure.Figure), name


def test_metrics_are_sane_beside_the_naive_baseline(out, run_split):
    metrics = out["gbm.metrics"]
    assert {"rmse", "mae", "r2", "rmse_log1p", "baseline_rmse", "train_rmse"} <= set(metrics)
    assert metrics["rmse"] > 0 and metrics["r2"] > 0.5 and metrics["rmse_log1p"] > 0
    # four weeks of data: close to the naive baseline, not far off it
    assert 0 < metrics["rmse"] < 1.5 * metrics["baseline_rmse"]
    assert metrics["test_rows"] == len(run_split[1]) and metrics["test_rows_refused"] == 0
    prefix = parameter("params:gbm.metric_prefix")
    assert out["gbm.mlflow_metrics"] == {
        f"{prefix}.{k}": {"value": v, "step": 0} for k, v in metrics.items()
    }


def test_the_bundle_holds_the_judged_predictor_and_an_example_it_serves(out, run_split):
    bundle = out["gbm.mlflow_model"]
    assert set(bundle) == {"predictor", "input_example"}
    predictor = bundle["predictor"]
    assert isinstance(predictor, Predictor) and predictor is out["gbm.predictor"]
    assert predictor.spec.model_type == "gbm"
    assert predictor.extras == {"target": parameter("params:gbm.target")}
    assert set(predictor.context) == {"school_holidays", "restrictions", "climatology"}
    assert predictor.dates.to_params() == parameter("params:predictor")
    boosting = predictor.estimator.named_steps["boosting"]
    assert boosting.n_iter_ == parameter("params:gbm.model")["max_iter"] == 30  # conf/test
    assert boosting.loss == "poisson"
    answer = predictor.predict(bundle["input_example"])
    assert answer["error"].isna().all() and (answer["prediction"] > 0).all()
    # what was logged scores what the run measured
    rescored = score_predictor(predictor, run_split[1])
    assert rescored["rmse"] == pytest.approx(out["gbm.metrics"]["rmse"])


def test_the_predictor_answers_raw_requests(out, small_split):
    predictor = out["gbm.predictor"]
    counter = str(small_split[1]["nom_du_compteur"].iloc[0])
    requests = pd.DataFrame(
        {
            "counter": [counter, counter, "Nowhere N-S", counter],
            "timestamp": ["2024-04-05T08:00:00+02:00", None, "2024-04-05T08:00:00+02:00", None],
            "date": [None, "2024-04-05", None, "2024-04-05"],
            "hour": [None, 8, None, 8],
            "temperature": [None, None, None, 31.0],
            "rain": [None, None, None, 12.0],
        }
    )
    answer = predictor.predict(requests)
    assert answer["prediction"].iloc[0] == answer["prediction"].iloc[1] > 0
    assert answer["error"].iloc[2].startswith("unknown_counter")
    assert answer["prediction"].iloc[2] is None
    assert answer["error"].iloc[3] is None and answer["prediction"].iloc[3] > 0


def test_quick_test_mode_with_a_log1p_target(small_split, small_context):
    overrides = {"run.test_mode": True, "run.test_mode_rows": 400, "gbm.target": "log1p"}
    out = run_gbm(small_split, small_context, **overrides)
    pyplot().close("all")
    assert out["gbm.data_fingerprint"]["test_mode"] is True
    metrics = out["gbm.metrics"]
    assert metrics["train_rows"] == metrics["test_rows"] == 400
    assert np.isfinite(metrics["rmse"]) and metrics["rmse"] > 0
    predictor = out["gbm.predictor"]
    assert predictor.extras == {"target": "log1p"}
    answer = predictor.predict(out["gbm.mlflow_model"]["input_example"])
    assert answer["error"].isna().all() and (answer["prediction"] >= 0).all()
