"""Each model pipeline through a KedroSession, read back with MlflowClient."""

from __future__ import annotations

import socket
import time

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from bike_traffic.hooks import TrackingUnreachableError
from tests.test_session import run

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
            "nn/preprocessor.json",
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
            "affluence_classifier/thresholds.json",
        },
        "params": {
            "affluence_classifier.model.n_estimators",
            "affluence_classifier.label.statistic",
        },
        "model": "affluence_model",
    },
}


@pytest.fixture
def cleaned_project(project_copy):
    run(project_copy, "synthetic_raw")
    run(project_copy, "data_cleaning")
    yield project_copy
    if mlflow.active_run():
        mlflow.end_run()


def _artifacts(client: MlflowClient, run_id: str, path: str = "") -> set[str]:
    found = set()
    for item in client.list_artifacts(run_id, path):
        found |= _artifacts(client, run_id, item.path) if item.is_dir else {item.path}
    return found


@pytest.mark.slow
@pytest.mark.parametrize("pipeline", list(EXPECTED))
def test_pipeline_leaves_a_complete_mlflow_run(cleaned_project, pipeline):
    run(cleaned_project, pipeline)
    client = MlflowClient(tracking_uri=f"sqlite:///{cleaned_project / 'mlflow.db'}")
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

    mlflow.set_tracking_uri(f"sqlite:///{cleaned_project / 'mlflow.db'}")
    logged = mlflow.search_logged_models(
        experiment_ids=[experiment.experiment_id],
        filter_string=f"source_run_id = '{tracked.info.run_id}'",
        output_format="list",
    )
    assert [m.name for m in logged] == [expected["model"]]
    info = mlflow.models.get_model_info(logged[0].model_uri)
    assert info.signature is not None
    model = mlflow.pyfunc.load_model(logged[0].model_uri)
    test = pd.read_parquet(cleaned_project / "data/05_model_input/test_baseline.parquet")
    if pipeline == "nn":
        import json

        from bike_traffic.pipelines.nn.nodes import transform

        preprocessor = json.loads(
            (cleaned_project / "data/06_models/nn/preprocessor.json").read_text()
        )
        prediction = model.predict(transform(preprocessor, test.head(20)))
    else:
        prediction = model.predict(
            info.signature.inputs.input_names()
            and test.head(20)[info.signature.inputs.input_names()]
        )
    assert len(np.asarray(prediction)) == 20


@pytest.mark.slow
def test_quick_test_mode_is_recorded(cleaned_project):
    run(cleaned_project, "rf", params={"run": {"test_mode": True, "test_mode_rows": 300}})
    client = MlflowClient(tracking_uri=f"sqlite:///{cleaned_project / 'mlflow.db'}")
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
