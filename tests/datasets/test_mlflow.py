"""bike_traffic.datasets.mlflow: files logged as run artifacts, predictors logged as models."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import fsspec
import mlflow
import pandas as pd
import pytest
import yaml
from kedro.io.core import DatasetError
from mlflow.tracking import MlflowClient

from bike_traffic.datasets.mlflow import MlflowArtifactDataset, MlflowPredictorDataset
from bike_traffic.models import rf
from bike_traffic.models.mlflow_flavor import LOADER_MODULE, load_predictor
from bike_traffic.models.predictor import Predictor, package_predictor

# The fixtures gcs_emulator and gcs_shared_emulator.
pytest_plugins = ["tests.gcs_emulator"]

PAYLOAD = {"hour": [0, 1, 2], "scale": 0.5}
RF_FEATURES = {
    "categorical": ["nom_du_compteur"],
    "numeric": ["hour", "day_of_week", "is_weekend", "is_holiday", "latitude", "longitude"],
}
SMALL_FOREST = {"n_estimators": 5, "max_depth": 8, "random_state": 0, "n_jobs": 1}
DATES = {"first_date": "2015-01-01", "last_date": "2035-12-31"}


@pytest.fixture(scope="module")
def tracking_store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One SQLite tracking store for the module (creating its tables takes seconds)."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture
def tracking(tracking_store: str, tmp_path: Path) -> Iterator[tuple[MlflowClient, str]]:
    """A client and a fresh experiment (artifacts in tmp_path); MLflow's state reset after.

    (Not ``mlflow.set_experiment``: it also exports ``MLFLOW_EXPERIMENT_ID`` to later tests.)
    """
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(tracking_store)
    experiment = mlflow.create_experiment(
        tmp_path.name, artifact_location=str(tmp_path / "artifacts")
    )
    yield MlflowClient(tracking_uri=tracking_store), experiment
    while mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri(previous)


@pytest.fixture(scope="module")
def rf_bundle(small_split, small_context) -> dict:
    """A small fitted rf predictor, as the rf pipeline's package_model node hands it over."""
    train, test = small_split
    estimator = rf.fit(train, RF_FEATURES, SMALL_FOREST)
    _, bundle, card = package_predictor("rf", estimator, {}, train, test, small_context, DATES)
    assert card == {"model_type": "rf"}
    return bundle


def _logged_models(experiment: str, run_id: str) -> list:
    return mlflow.search_logged_models(
        experiment_ids=[experiment],
        filter_string=f"source_run_id = '{run_id}'",
        output_format="list",
    )


# ---------------------------------------------------------------- MlflowArtifactDataset
def _json(filepath: str) -> MlflowArtifactDataset:
    return MlflowArtifactDataset(
        dataset={"type": "json.JSONDataset", "filepath": filepath}, artifact_path="nn"
    )


def _logged(client: MlflowClient, run_id: str) -> dict:
    [item] = client.list_artifacts(run_id, "nn")
    return mlflow.artifacts.load_dict(f"runs:/{run_id}/{item.path}") | {"_path": item.path}


def test_local_file_is_saved_and_logged(tracking, tmp_path):
    client, experiment = tracking
    dataset = _json(str(tmp_path / "out" / "preprocessor.json"))
    with mlflow.start_run(experiment_id=experiment) as run:
        dataset.save(PAYLOAD)
    assert (tmp_path / "out" / "preprocessor.json").exists()
    assert dataset.exists()
    assert dataset.load() == PAYLOAD
    assert _logged(client, run.info.run_id) == PAYLOAD | {"_path": "nn/preprocessor.json"}


def test_versioned_inner_file_is_logged_under_its_own_name(tracking, tmp_path):
    client, experiment = tracking
    dataset = MlflowArtifactDataset(
        dataset={
            "type": "json.JSONDataset",
            "filepath": str(tmp_path / "metrics.json"),
            "versioned": True,
        },
        artifact_path="nn",
    )
    with mlflow.start_run(experiment_id=experiment) as run:
        dataset.save(PAYLOAD)
    [saved] = list((tmp_path / "metrics.json").glob("*/metrics.json"))  # <version>/metrics.json
    assert dataset.load() == PAYLOAD
    assert saved.exists()
    assert _logged(client, run.info.run_id) == PAYLOAD | {"_path": "nn/metrics.json"}


def test_gcs_file_is_saved_in_the_bucket_and_logged(tracking, gcs_shared_emulator):
    path = f"gs://{gcs_shared_emulator.bucket}/data/06_models/nn/preprocessor.json"
    client, experiment = tracking
    dataset = _json(path)
    with mlflow.start_run(experiment_id=experiment) as run:
        dataset.save(PAYLOAD)
    assert fsspec.filesystem("gs", token="anon").exists(path)
    assert dataset.load() == PAYLOAD
    assert _logged(client, run.info.run_id) == PAYLOAD | {"_path": "nn/preprocessor.json"}


def test_logging_switched_off_saves_only(tracking, tmp_path):
    client, experiment = tracking
    dataset = _json(str(tmp_path / "preprocessor.json"))
    dataset._logging_activated = False  # what kedro-mlflow does for untracked pipelines
    with mlflow.start_run(experiment_id=experiment) as run:
        dataset.save(PAYLOAD)
    assert dataset.load() == PAYLOAD
    assert client.list_artifacts(run.info.run_id) == []


def test_inner_dataset_without_a_file_is_refused():
    with pytest.raises(DatasetError, match="single-file datasets; MemoryDataset"):
        MlflowArtifactDataset(dataset={"type": "kedro.io.MemoryDataset"})


# ---------------------------------------------------------------- MlflowPredictorDataset
def test_predictor_is_logged_as_a_model_that_names_the_loader_module(tracking, rf_bundle):
    _, experiment = tracking
    dataset = MlflowPredictorDataset(name="rf_model")
    with mlflow.start_run(experiment_id=experiment) as run:
        dataset.save(rf_bundle)
    [model] = _logged_models(experiment, run.info.run_id)
    assert model.name == "rf_model"
    local = Path(mlflow.artifacts.download_artifacts(model.model_uri))
    mlmodel = yaml.safe_load((local / "MLmodel").read_text(encoding="utf-8"))
    assert mlmodel["flavors"]["python_function"]["loader_module"] == LOADER_MODULE
    assert mlmodel["metadata"] == {"bike_traffic_model_type": "rf"}
    assert not list(local.rglob("*.pkl"))  # nothing is pickled

    # What was logged is the predictor itself: loaded back, it answers as the original.
    predictor: Predictor = rf_bundle["predictor"]
    loaded = load_predictor(local, "rf_model (test)", "rf")
    requests = rf_bundle["input_example"]
    assert len(requests) == 3
    expected = predictor.predict(requests)
    assert expected["error"].isna().all()
    pd.testing.assert_frame_equal(loaded.predict(requests), expected)


def test_predictor_without_an_active_run_is_refused(tracking, rf_bundle):
    dataset = MlflowPredictorDataset(name="rf_model")
    assert mlflow.active_run() is None
    with pytest.raises(DatasetError, match=r"No active MLflow run .*'rf_model'.*mlflow\.yml"):
        dataset.save(rf_bundle)


def test_predictor_logging_switched_off_logs_nothing(tracking, rf_bundle):
    _, experiment = tracking
    dataset = MlflowPredictorDataset(name="rf_model")
    dataset._logging_activated = False  # what kedro-mlflow does for untracked pipelines
    dataset.save(rf_bundle)  # no run: no error either
    with mlflow.start_run(experiment_id=experiment) as run:
        dataset.save(rf_bundle)
    assert _logged_models(experiment, run.info.run_id) == []


def test_predictor_dataset_only_logs_and_describes_its_name():
    dataset = MlflowPredictorDataset(name="nn_model", metadata={"kedro-viz": {"layer": "models"}})
    with pytest.raises(DatasetError, match=r"'nn_model'.*only logs.*load_model"):
        dataset.load()
    assert "nn_model" in str(dataset)
    assert dataset.metadata == {"kedro-viz": {"layer": "models"}}


CATALOG_WITHOUT_TENSORFLOW = """
import sys
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

bootstrap_project(".")
with KedroSession.create(project_path=".") as session:
    catalog = session.load_context().catalog  # kedro-mlflow's hook builds every dataset
    dataset = catalog["nn.mlflow_model"]
    print(type(dataset).__name__, dataset.name, "tensorflow" in sys.modules)
"""


def test_project_catalog_builds_the_nn_model_dataset_without_tensorflow(project_copy):
    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", CATALOG_WITHOUT_TENSORFLOW],
        cwd=project_copy,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split()[-3:] == ["MlflowPredictorDataset", "nn_model", "False"]
