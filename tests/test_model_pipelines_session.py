"""Each model run of the session-built project, read back with MlflowClient."""

from __future__ import annotations

import socket
import time

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from bike_traffic.hooks import TrackingUnreachableError
from bike_traffic.models.predictor import requests_from_rows
from tests.conftest import run, tracking_uri

EXPECTED = {
    "rf": {
        "metrics": {"rf.rmse", "rf.mae", "rf.r2", "rf.baseline_rmse", "rf.baseline_r2"},
        "artifacts": {
            "rf/predicted_vs_actual.png",
            "rf/error_by_hour.png",
            "rf/feature_importances.png",
        },
        "params": {"rf.model.n_estimators", "rf.model.max_depth", "run.test_mode"},
        "model": "rf_model",
    },
    "nn": {
        "metrics": {"nn.rmse", "nn.mae", "nn.r2", "nn.baseline_rmse"},
        "artifacts": {
            "nn/predicted_vs_actual.png",
            "nn/error_by_hour.png",
            "nn/training_curves.png",
            "nn/training_history.json",
        },
        "params": {"nn.model.epochs", "nn.model.loss", "run.test_mode"},
        "model": "nn_model",
    },
    "affluence_classifier": {
        "metrics": {
            "rf_class.accuracy",
            "rf_class.precision",
            "rf_class.recall",
            "rf_class.f1_score",
            "rf_class.roc_auc",
            "rf_class.positive_rate",
        },
        "artifacts": {
            "affluence_classifier/confusion_matrix.png",
            "affluence_classifier/roc_curve.png",
        },
        "params": {
            "affluence_classifier.model.n_estimators",
            "affluence_classifier.label.statistic",
        },
        "model": "affluence_model",
    },
}


def _artifacts(client: MlflowClient, run_id: str, path: str = "") -> set[str]:
    found = set()
    for item in client.list_artifacts(run_id, path):
        found |= _artifacts(client, run_id, item.path) if item.is_dir else {item.path}
    return found


@pytest.mark.parametrize("pipeline", list(EXPECTED))
def test_each_model_run_is_complete_in_mlflow(trained_project, pipeline):
    client = MlflowClient(tracking_uri=tracking_uri(trained_project))
    experiment = client.get_experiment_by_name("bike_traffic")
    runs = client.search_runs(
        [experiment.experiment_id], f"tags.pipeline_names = \"['{pipeline}']\""
    )
    assert len(runs) == 1
    tracked = runs[0]
    expected = EXPECTED[pipeline]
    assert expected["params"] <= set(tracked.data.params)
    assert expected["metrics"] <= set(tracked.data.metrics)
    assert expected["artifacts"] <= _artifacts(client, tracked.info.run_id)
    tags = tracked.data.tags
    assert tags["test_mode"] == "false" and tags["kedro_env"] == "test"
    assert len(tags[f"{pipeline}.data.hash"]) == 16
    assert int(tags[f"{pipeline}.data.rows_train"]) > 0

    mlflow.set_tracking_uri(tracking_uri(trained_project))
    logged = mlflow.search_logged_models(
        experiment_ids=[experiment.experiment_id],
        filter_string=f"source_run_id = '{tracked.info.run_id}'",
        output_format="list",
    )
    assert [m.name for m in logged] == [expected["model"]]
    # the logged model answers raw requests on its own, as MLflow loads it
    model = mlflow.pyfunc.load_model(logged[0].model_uri)
    test = pd.read_parquet(trained_project / "data/05_model_input/test_baseline.parquet")
    rows = test.loc[~test["outage"]].head(20)  # the rows judged: outage hours are left out
    requests = requests_from_rows(rows)  # with the weather the rows were built with
    answers = model.predict(
        requests.assign(timestamp=requests["timestamp"].map(pd.Timestamp.isoformat))
    )
    assert len(answers) == 20 and answers["error"].isna().all()
    # ... the same numbers as `kedro run` judged it on
    judged = pd.read_parquet(
        trained_project / f"data/07_model_output/{pipeline}/test_predictions.parquet"
    ).head(20)
    column = "probability" if pipeline == "affluence_classifier" else "prediction"
    np.testing.assert_array_equal(
        answers[column].astype(float).to_numpy(),
        judged["probability" if pipeline == "affluence_classifier" else "predicted"].to_numpy(),
    )


@pytest.mark.slow
def test_quick_test_mode_is_recorded(cleaned_project):
    run(cleaned_project, "rf", params={"run": {"test_mode": True, "test_mode_rows": 300}})
    client = MlflowClient(tracking_uri=tracking_uri(cleaned_project))
    experiment = client.get_experiment_by_name("bike_traffic")
    tracked = client.search_runs([experiment.experiment_id])[0]
    assert tracked.data.tags["test_mode"] == "true"
    assert tracked.data.params["run.test_mode"] == "True"
    assert tracked.data.metrics["rf.test_rows"] == 300


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_tracking_server_fails_fast_naming_the_uri(project_copy, monkeypatch):
    uri = f"http://127.0.0.1:{_closed_port()}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    started = time.monotonic()
    with pytest.raises(TrackingUnreachableError, match=uri.replace(".", r"\.")):
        run(project_copy, "data_cleaning")
    assert time.monotonic() - started < 30
