"""bike_traffic.mlflow_datasets.MlflowArtifactDataset: local and gs:// files logged to MLflow."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import fsspec
import mlflow
import pytest
from kedro.io.core import DatasetError
from mlflow.tracking import MlflowClient

from bike_traffic.mlflow_datasets import MlflowArtifactDataset

# The fixtures gcs_emulator and gcs_shared_emulator.
pytest_plugins = ["tests.gcs_emulator"]

PAYLOAD = {"hour": [0, 1, 2], "scale": 0.5}


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
    assert dataset.load() == PAYLOAD
    assert _logged(client, run.info.run_id) == PAYLOAD | {"_path": "nn/preprocessor.json"}


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
    dataset = _json(str(tmp_path / "preprocessor.json"))
    dataset._logging_activated = False  # what kedro-mlflow does for untracked pipelines
    dataset.save(PAYLOAD)
    assert mlflow.active_run() is None
    assert dataset.load() == PAYLOAD


def test_inner_dataset_without_a_file_is_refused():
    with pytest.raises(DatasetError, match="single-file datasets; MemoryDataset"):
        MlflowArtifactDataset(dataset={"type": "kedro.io.MemoryDataset"})


def test_signed_model_dataset_still_refuses_an_unknown_flavour_when_built():
    from kedro.io.core import DatasetError

    from bike_traffic.mlflow_datasets import SignedMlflowModelDataset

    with pytest.raises(DatasetError, match="mlflow.no_such_flavour"):
        SignedMlflowModelDataset(flavor="mlflow.no_such_flavour")
