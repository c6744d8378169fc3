"""``--env prod`` as it is deployed: an MLflow server on PostgreSQL, artifacts proxied to GCS.

The tests start, on 127.0.0.1 only, fake-gcs-server (the bucket), a throw-away
PostgreSQL cluster (the server's backend store) and ``mlflow server --serve-artifacts
--artifacts-destination gs://<bucket>/mlflow-artifacts`` (the command of docs/prod.md).
The project then talks to the server only (``MLFLOW_TRACKING_URI=http://...``): runs,
registration, aliases, tags, searches, loading by alias and artifact downloads all go
through its REST API and its artifact proxy, as in production.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import fsspec
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from mlflow import MlflowClient

from bike_traffic.datasets.summary_store import SummaryJSONDataset
from bike_traffic.hooks import use_gcs_credentials
from bike_traffic.models.evaluation import predict_rows
from bike_traffic.project import open_project
from tests.conftest import run
from tests.servers import ServerProcess, free_port, start_postgres, start_process_server
from tests.test_prod import SMALL_MODELS, SUMMARY_OBJECT, _local_files, _seed_raw_export

pytest_plugins = ["tests.gcs_emulator"]

MODELS = {"rf": "bike-traffic-rf", "nn": "bike-traffic-nn",
          "affluence_classifier": "bike-traffic-affluence"}  # fmt: skip


#: What the app is asked for: the rf champion; the tiny nn and classifier stay below
#: their floors (no champion), so their version 1.
_WHICH = {"rf": "champion", "nn": 1, "affluence_classifier": 1}


@pytest.fixture(autouse=True)
def _gcsfs_defaults_cleared() -> Iterator[None]:
    yield
    use_gcs_credentials(None)


def start_mlflow_server(backend_store_uri: str, bucket: str, log_dir: Path) -> ServerProcess:
    """docs/prod.md's server command, on a free port of 127.0.0.1."""
    port = free_port()
    mlflow = Path(sys.executable).parent / "mlflow"
    return start_process_server(
        [
            str(mlflow),
            "server",
            "--backend-store-uri",
            backend_store_uri,
            "--serve-artifacts",
            "--artifacts-destination",
            f"gs://{bucket}/mlflow-artifacts",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
        ],  # fmt: skip
        port,
        "/health",
        log_dir / "mlflow-server.log",
        env=os.environ.copy(),  # the emulator's STORAGE_EMULATOR_HOST, anonymous token
    )


@pytest.fixture
def prod_server(gcs_emulator, tmp_path, monkeypatch) -> Iterator[ServerProcess]:
    """PostgreSQL + the MLflow server proxying artifacts to the emulator's bucket."""
    postgres = start_postgres()
    try:
        server = start_mlflow_server(postgres.url, gcs_emulator.bucket, tmp_path)
        try:
            monkeypatch.setenv("MLFLOW_TRACKING_URI", server.url)
            monkeypatch.setenv("BIKE_TRAFFIC_BUCKET", gcs_emulator.bucket)
            monkeypatch.delenv("MLFLOW_ARTIFACT_LOCATION", raising=False)
            monkeypatch.delenv("MLFLOW_ARTIFACTS_DESTINATION", raising=False)
            monkeypatch.delenv("KEDRO_ENV", raising=False)
            yield server
        finally:
            server.stop()
    finally:
        postgres.stop()


def _aliases(client: MlflowClient, name: str) -> dict[str, int]:
    model = client.get_registered_model(name)
    return {alias: int(version) for alias, version in (model.aliases or {}).items()}


def _cli(*args: str):
    from bike_traffic.cli import cli

    result = CliRunner().invoke(cli, ["models", *args, "--env", "prod"])
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.slow
def test_prod_against_an_mlflow_server_on_postgresql(
    prod_server, gcs_emulator, project_copy, small_generated, monkeypatch
):
    bucket = gcs_emulator.bucket
    monkeypatch.setenv("MLFLOW_TRACKING_URI", prod_server.url)  # project_copy set SQLite
    _seed_raw_export(bucket, small_generated)

    run(project_copy, "data_cleaning", env="prod")
    for model in MODELS:
        run(project_copy, model, env="prod", params={model: SMALL_MODELS[model]})
    # a second rf, trained differently: registered, judged, not better by 5%
    run(project_copy, "rf", env="prod",
        params={"rf": {"model": {"n_estimators": 3, "max_depth": 4, "n_jobs": 1}}})  # fmt: skip

    # The registry lives on the server: versions, aliases, tags.
    client = MlflowClient(tracking_uri=prod_server.url)
    versions = {
        name: sorted(int(v.version) for v in client.search_model_versions(f"name = '{name}'"))
        for name in MODELS.values()
    }
    assert versions == {"bike-traffic-rf": [1, 2], "bike-traffic-nn": [1],
                        "bike-traffic-affluence": [1]}  # fmt: skip
    assert _aliases(client, "bike-traffic-rf") == {"champion": 1, "challenger": 2}
    rf2 = client.get_model_version("bike-traffic-rf", "2")
    assert rf2.tags["env"] == "prod" and rf2.tags["decision"] == "kept"

    # Artifacts went through the server's proxy into the bucket; nothing local.
    experiment = client.get_experiment_by_name("bike_traffic")
    assert experiment.artifact_location == f"mlflow-artifacts:/{experiment.experiment_id}"
    objects = {
        path.removeprefix(f"{bucket}/")
        for path in fsspec.filesystem("gs", token="anon", skip_instance_cache=True).find(bucket)
    }
    stored_models = {o.split("/")[3] for o in objects if o.endswith("/MLmodel")}
    assert len(stored_models) == 4  # rf x2, nn, classifier
    assert rf2.source.removeprefix("models:/") in stored_models
    assert any(o.endswith("/predictor/estimator.keras") for o in objects)
    assert any(o.endswith("/artifacts/rf/feature_importances.png") for o in objects)
    assert _local_files(project_copy) == []
    assert not (project_copy / "mlartifacts").exists()

    # summary.json in the bucket records where each model really lies (gs://...).
    history = SummaryJSONDataset(f"gs://{bucket}/{SUMMARY_OBJECT}").load()
    models = [e for e in history if e["entry_type"] == "model"]
    assert [(e["model_type"], e["version"]) for e in models] == [
        ("rf", 1), ("nn", 1), ("rf_class", 1), ("rf", 2)]  # fmt: skip
    prefix = f"gs://{bucket}/mlflow-artifacts/{experiment.experiment_id}/"
    assert all(e["artifact_location"].startswith(prefix + "models/m-") for e in models)
    assert all(e["model_uri"].startswith("models:/m-") for e in models)
    assert rf2.source == models[-1]["model_uri"]  # registered from the logged model

    # kedro models list / promote / rollback against the server.
    listed = _cli("list")
    assert "bike-traffic-rf" in listed and "versions=2" in listed and "champion=v1" in listed
    assert "rf: v2 is champion" in _cli("promote", "rf", "2", "--reason", "server test")
    assert _aliases(client, "bike-traffic-rf") == {"champion": 2, "challenger": 2}
    assert "champion v2 -> v1" in _cli("rollback", "rf")
    assert _aliases(client, "bike-traffic-rf")["champion"] == 1
    history = SummaryJSONDataset(f"gs://{bucket}/{SUMMARY_OBJECT}").load()
    assert [e["entry_type"] for e in history[-2:]] == ["promotion", "rollback"]

    # The app's way in: through the server, then from summary.json once it is down.
    monkeypatch.setenv("KEDRO_ENV", "prod")
    test = pd.read_parquet(
        f"gs://{bucket}/data/05_model_input/test_baseline.parquet",
        storage_options={"token": "anon"},
    ).head(40)
    project = open_project(project_copy)
    try:
        assert project.registry_error is None
        served = {m: project.load_model(m, _WHICH[m]) for m in MODELS}
    finally:
        project.close()
    assert {m: (s.version, s.source) for m, s in served.items()} == {
        m: (1, "registry") for m in MODELS
    }
    expected = {m: predict_rows(s.predictor, test) for m, s in served.items()}

    prod_server.stop()
    project = open_project(project_copy)
    try:
        assert prod_server.url in project.registry_error
        offline = {m: project.load_model(m, _WHICH[m]) for m in MODELS}
    finally:
        project.close()
    for model, loaded in offline.items():
        assert (loaded.version, loaded.source) == (1, "summary.json")
        assert loaded.model_uri.startswith(f"gs://{bucket}/mlflow-artifacts/")
        values, ok = predict_rows(loaded.predictor, test)
        assert ok.all() and expected[model][1].all()
        np.testing.assert_array_equal(values, expected[model][0])
    assert json.dumps(history)  # every entry stays plain JSON
