"""The ``prod`` environment (conf/prod) against a real GCS JSON API: fake-gcs-server on 127.0.0.1.

The end-to-end runs use conf/prod itself on small data: the raw files of the
``small_generated`` fixture (export, weather, school calendar) are put in the bucket, and
runtime parameters make the models tiny. Concurrent ``summary.json`` appends on GCS (8
writers x 25, all 200 kept) are covered by ``tests/datasets/test_summary_store.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import fsspec
import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml
from click.testing import CliRunner
from kedro.config import OmegaConfigLoader
from kedro.framework.hooks import hook_impl
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.io import DataCatalog
from kedro.io.core import DatasetError
from mlflow.tracking import MlflowClient

from bike_traffic.datasets.summary_store import SummaryJSONDataset
from bike_traffic.hooks import use_gcs_credentials
from bike_traffic.models.evaluation import predict_rows
from bike_traffic.models.spec import MODEL_SPECS
from bike_traffic.project import open_project
from bike_traffic.registry.loading import load_model
from tests.conftest import run
from tests.gcs_emulator_server import emulator_environment, start_emulator
from tests.test_model_pipelines_session import EXPECTED as EXPECTED_RUNS

# The fixtures gcs_emulator and gcs_shared_emulator.
pytest_plugins = ["tests.gcs_emulator"]

RAW_OBJECT = "data/01_raw/comptage-velo-donnees-compteurs.csv"
WEATHER_OBJECT = "data/01_raw/synop_07149.csv"
CALENDAR_OBJECT = "data/01_raw/fr-en-calendrier-scolaire.csv"
SUMMARY_OBJECT = "models/summary.json"
MODELS = ("rf", "nn", "affluence_classifier")
FIGURES = {
    "rf": ("predicted_vs_actual", "error_by_hour", "feature_importances"),
    "nn": ("predicted_vs_actual", "error_by_hour", "training_curves"),
    "affluence_classifier": ("confusion_matrix", "roc_curve"),
}
#: Every object the runs must leave under gs://<bucket>/ (MLflow's aside).
EXPECTED_OBJECTS = {
    RAW_OBJECT,
    WEATHER_OBJECT,
    CALENDAR_OBJECT,
    "data/02_intermediate/quarantined_weather.csv",
    "data/03_primary/hourly_weather.parquet",
    "data/03_primary/school_holidays.parquet",
    "data/05_model_input/feature_context.json",
    "data/02_intermediate/quarantined_rows.csv",
    "data/04_feature/clean_counts.parquet",
    "data/05_model_input/train_baseline.parquet",
    "data/05_model_input/test_baseline.parquet",
    "data/05_model_input/split_info.json",
    "data/08_reporting/quarantine_summary.json",
    "data/08_reporting/nn/training_history.json",
    SUMMARY_OBJECT,
    *(f"data/07_model_output/{m}/test_predictions.parquet" for m in MODELS),
    *(f"data/08_reporting/{m}/metrics.json" for m in MODELS),
    *(f"data/08_reporting/{m}/data_fingerprint.json" for m in MODELS),
    *(f"data/08_reporting/{m}/{fig}.png" for m, figures in FIGURES.items() for fig in figures),
}
#: rf clears its floor whatever five small trees score, as in conf/test: this test is
#: about storage, and needs a champion to re-score and to serve.
ANY_RF_CHAMPION = {"models": {"rf": {"floor": {"metric": "r2", "min": -1.0e9}}}}
#: Tiny models: conf/prod's own settings otherwise (soft-merged runtime parameters).
SMALL_MODELS = {
    "rf": {"model": {"n_estimators": 5, "n_jobs": 1}},
    "nn": {"model": {"epochs": 2, "batch_size": 256}},
    "affluence_classifier": {"model": {"n_estimators": 5, "n_jobs": 1}},
}


@pytest.fixture(autouse=True)
def _gcsfs_defaults_cleared() -> Iterator[None]:
    """The prod hook sets gcsfs' process-wide default credentials: undo it after each test."""
    yield
    use_gcs_credentials(None)


def _config(project: Path, env: str = "prod") -> OmegaConfigLoader:
    from bike_traffic import settings

    return OmegaConfigLoader(
        conf_source=str(project / "conf"), env=env, **settings.CONFIG_LOADER_ARGS
    )


def _location(dataset) -> str | None:
    """Where a dataset reads and writes (``gs://...`` or a local path), None in memory."""
    described = getattr(dataset, "_dataset", dataset)._describe()
    if "filepath" not in described:
        return None
    path, protocol = str(described["filepath"]), described.get("protocol")
    if "://" in path or protocol in (None, "file"):
        return path
    return f"{protocol}://{path}"


def _bucket_objects(bucket: str) -> set[str]:
    fs = fsspec.filesystem("gs", token="anon", skip_instance_cache=True)
    return {path.removeprefix(f"{bucket}/") for path in fs.find(bucket)}


def _seed_raw_export(bucket: str, generated: dict[str, pd.DataFrame]) -> None:
    """Put the raw export, its weather and its school calendar where conf/prod reads them."""
    from bike_traffic.exogenous.datasets import SynopDataset

    with fsspec.open(f"gs://{bucket}/{RAW_OBJECT}", "w", token="anon", encoding="utf-8") as f:
        generated["raw_counts"].to_csv(f, sep=";", index=False)
    SynopDataset(filepath=f"gs://{bucket}/{WEATHER_OBJECT}", credentials={"token": "anon"}).save(
        generated["raw_weather"]
    )
    with fsspec.open(f"gs://{bucket}/{CALENDAR_OBJECT}", "w", token="anon", encoding="utf-8") as f:
        generated["raw_school_calendar"].to_csv(f, sep=";", index=False)


def _local_files(project: Path) -> list[str]:
    return sorted(str(p.relative_to(project)) for p in (project / "data").rglob("*") if p.is_file())


# ---------------------------------------------------------------- configuration only
def test_prod_paths_all_resolve_to_the_bucket(project_copy, monkeypatch):
    monkeypatch.setenv("BIKE_TRAFFIC_BUCKET", "my-bucket")
    monkeypatch.setenv("GCS_TOKEN", "anon")
    monkeypatch.setenv("BIKE_TRAFFIC_DATA_ROOT", "/somewhere/local")  # ignored by prod
    config = _config(project_copy)
    assert config["globals"]["data_root"] == "gs://my-bucket/data"
    assert config["globals"]["summary_file"] == "gs://my-bucket/models/summary.json"

    from bike_traffic.pipeline_registry import register_pipelines

    bootstrap_project(project_copy)
    catalog = DataCatalog.from_config(config["catalog"], config["credentials"])
    found = register_pipelines()
    assert {"data_cleaning", "registry", *MODELS} <= set(found)
    names = set().union(*(p.datasets() for p in found.values()))
    locations = {
        name: _location(catalog.get(name))
        for name in sorted(names)
        if not name.startswith("params:") and catalog.get(name) is not None
    }
    stored = {name: where for name, where in locations.items() if where is not None}
    assert len(stored) > 25
    assert {n: w for n, w in stored.items() if not w.startswith("gs://my-bucket/")} == {}
    assert stored["raw_counts"] == f"gs://my-bucket/{RAW_OBJECT}"
    assert stored["rf.summary_entries"] == "gs://my-bucket/models/summary.json"
    assert stored["nn.predicted_vs_actual_plot"] == (
        "gs://my-bucket/data/08_reporting/nn/predicted_vs_actual.png"
    )


def test_prod_bucket_has_a_documented_default(project_copy, monkeypatch):
    monkeypatch.delenv("BIKE_TRAFFIC_BUCKET", raising=False)
    assert _config(project_copy)["globals"]["data_root"] == "gs://bike-traffic-prod/data"
    readme = (Path(__file__).parents[1] / "docs" / "prod.md").read_text(encoding="utf-8")
    assert "BIKE_TRAFFIC_BUCKET" in readme and "bike-traffic-prod" in readme


def test_prod_mlflow_and_parameters_override_only_what_differs(project_copy, monkeypatch):
    monkeypatch.setenv("BIKE_TRAFFIC_BUCKET", "my-bucket")
    monkeypatch.delenv("MLFLOW_ARTIFACT_LOCATION", raising=False)
    config = _config(project_copy)
    tracking = config["mlflow"]["tracking"]
    experiment = tracking["experiment"]
    assert experiment["create_experiment_kwargs"]["artifact_location"] == (
        "gs://my-bucket/mlflow-artifacts"
    )
    # soft merge: the siblings of the overridden keys come from conf/base
    assert experiment["name"] == "bike_traffic"
    assert tracking["run"]["nested"] is False
    assert tracking["disable_tracking"]["pipelines"] == ["synthetic_raw"]
    assert config["mlflow"]["ui"]["host"] == "127.0.0.1"
    assert config["mlflow"]["server"]["mlflow_tracking_uri"] == os.environ["MLFLOW_TRACKING_URI"]
    registry = config["parameters"]["registry"]
    assert registry["env"] == "prod"
    assert registry["min_improvement"] == 0.05
    assert set(registry["models"]) == set(MODEL_SPECS)  # every model type, gbm included
    assert config["parameters"]["rf"]["model"]["n_estimators"] == 50  # base, untouched

    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    uri = _config(project_copy)["mlflow"]["server"]["mlflow_tracking_uri"]
    # a store of its own: local runs' champions never mix with prod's
    assert uri == f"sqlite:///{project_copy.resolve().as_posix()}/mlflow-prod.db"


def test_prod_credentials_hold_no_secret(project_copy, monkeypatch):
    raw = yaml.safe_load((project_copy / "conf/prod/credentials.yml").read_text())

    def leaves(node):
        if isinstance(node, dict):
            for value in node.values():
                yield from leaves(value)
        else:
            yield node

    assert list(raw) == ["gcp_credentials"]
    assert all(str(v).startswith("${oc.env:") for v in leaves(raw))
    assert (project_copy / "conf/prod/credentials.yml.example").exists()

    monkeypatch.delenv("GCS_TOKEN", raising=False)
    assert _config(project_copy)["credentials"]["gcp_credentials"] == {"token": "google_default"}
    monkeypatch.setenv("GCS_TOKEN", "/keys/service-account.json")
    assert _config(project_copy)["credentials"]["gcp_credentials"] == {
        "token": "/keys/service-account.json"
    }


def test_without_a_google_login_prod_fails_naming_the_credentials(
    project_copy, monkeypatch, tmp_path
):
    monkeypatch.delenv("GCS_TOKEN", raising=False)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "no-gcloud-login"))
    config = _config(project_copy)
    use_gcs_credentials(config["credentials"]["gcp_credentials"])
    catalog = DataCatalog.from_config(config["catalog"], config["credentials"])
    with pytest.raises(DatasetError, match="credentials"):
        catalog.get("clean_counts")


def test_storage_credentials_become_gcsfs_defaults_and_are_cleared():
    use_gcs_credentials({"token": "anon", "project": "p"})
    assert fsspec.config.conf["gs"] == {"token": "anon", "project": "p"}
    fs = fsspec.filesystem("gs", skip_instance_cache=True)
    assert fs.credentials.method == "anon" and fs.project == "p"
    use_gcs_credentials({"token": "anon"})
    assert fsspec.config.conf["gs"] == {"token": "anon"}
    use_gcs_credentials(None)
    assert "gs" not in fsspec.config.conf


def test_start_gcs_emulator_script_prints_a_working_environment(tmp_path):
    script = Path(__file__).parents[1] / "scripts" / "start_gcs_emulator.py"
    process = subprocess.Popen(
        [sys.executable, str(script), "--port", "0", "--bucket", "demo-bucket",
         "--state-dir", str(tmp_path / "state")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    watchdog = threading.Timer(60, process.kill)  # never hang the suite
    watchdog.start()
    try:
        lines = []
        for line in process.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith("Ctrl-C"):
                break
        exports = dict(
            line.removeprefix("export ").split("=", 1)
            for line in lines
            if line.startswith("export ")
        )
        assert "unset GOOGLE_APPLICATION_CREDENTIALS" in lines
        assert exports["BIKE_TRAFFIC_BUCKET"] == "demo-bucket"
        assert exports["GCS_TOKEN"] == "anon"
        assert exports["MLFLOW_TRACKING_URI"].startswith(f"sqlite:///{tmp_path / 'state'}")
        assert exports["STORAGE_EMULATOR_HOST"].startswith("http://127.0.0.1:")
        listing = f"{exports['STORAGE_EMULATOR_HOST']}/storage/v1/b?project=any"
        with urllib.request.urlopen(listing, timeout=10) as response:
            buckets = json.load(response)
        assert [b["name"] for b in buckets["items"]] == ["demo-bucket"]
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
        watchdog.cancel()
    assert process.returncode == 0
    assert output.strip().endswith("stopped")


# ---------------------------------------------------------------- end to end
@pytest.mark.slow
def test_prod_end_to_end_on_the_emulator(project_copy, gcs_emulator, small_generated, monkeypatch):
    bucket = gcs_emulator.bucket
    monkeypatch.setenv("BIKE_TRAFFIC_BUCKET", bucket)
    monkeypatch.delenv("KEDRO_ENV", raising=False)
    _seed_raw_export(bucket, small_generated)

    run(project_copy, "data_cleaning", env="prod")
    for model in MODELS:
        params = {model: SMALL_MODELS[model], "registry": ANY_RF_CHAMPION}
        run(project_copy, model, env="prod", params=params)
    run(project_copy, "registry", env="prod")
    # The users' command, as a new process (quick test mode: a second rf version).
    kedro = Path(sys.executable).parent / "kedro"
    params = "run.test_mode=true,rf.model.n_estimators=5,rf.model.n_jobs=1"
    cli = subprocess.run(
        [str(kedro), "run", "--pipeline", "rf", "--env", "prod", "--params", params],
        check=False,
        cwd=project_copy,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert cli.returncode == 0, cli.stdout[-3000:] + cli.stderr[-3000:]
    assert "gcp_credentials" not in cli.stdout + cli.stderr

    # Every object is in the bucket, nothing was written locally.
    objects = _bucket_objects(bucket)
    assert EXPECTED_OBJECTS - objects == set()
    assert _local_files(project_copy) == []
    assert not (project_copy / "mlartifacts").exists()
    assert not (project_copy / "mlruns").exists()

    # MLflow: the experiment, every run's artifacts and every logged model are on gs://.
    tracking_uri = os.environ["MLFLOW_TRACKING_URI"]
    client = MlflowClient(tracking_uri=tracking_uri)
    experiment = client.get_experiment_by_name("bike_traffic")
    assert experiment.artifact_location == f"gs://{bucket}/mlflow-artifacts"
    runs = client.search_runs([experiment.experiment_id])
    assert len(runs) == 6  # data_cleaning, 3 models, registry, rf again (CLI)
    for tracked in runs:
        assert tracked.info.artifact_uri.startswith(f"gs://{bucket}/mlflow-artifacts/")
        assert tracked.data.tags["kedro_env"] == "prod"
    for model, expected in EXPECTED_RUNS.items():
        tracked = client.search_runs(
            [experiment.experiment_id], f"tags.pipeline_names = \"['{model}']\""
        )[-1]
        logged = {
            f"{item.path}/{leaf.path.rsplit('/', 1)[-1]}"
            for item in client.list_artifacts(tracked.info.run_id)
            for leaf in client.list_artifacts(tracked.info.run_id, item.path)
        }
        assert expected["artifacts"] <= logged
    mlflow.set_tracking_uri(tracking_uri)
    models = mlflow.search_logged_models(
        experiment_ids=[experiment.experiment_id], output_format="list"
    )
    assert len(models) == 4
    assert all(m.artifact_location.startswith(f"gs://{bucket}/mlflow-artifacts/") for m in models)
    assert {o.split("/artifacts/")[0] for o in objects if o.endswith("/MLmodel")} == {
        m.artifact_location.removeprefix(f"gs://{bucket}/").split("/artifacts")[0] for m in models
    }

    # summary.json on gs://: a model and a decision per run, env prod, plus the re-scores.
    history = SummaryJSONDataset(f"gs://{bucket}/{SUMMARY_OBJECT}").load()
    assert {e["env"] for e in history} == {"prod"}
    model_entries = [e for e in history if e["entry_type"] == "model"]
    assert [(e["model_type"], e["version"], e["test_mode"]) for e in model_entries] == [
        ("rf", 1, False),
        ("nn", 1, False),
        ("rf_class", 1, False),
        ("rf", 2, True),
    ]
    assert all(e["artifact_location"].startswith(f"gs://{bucket}/") for e in model_entries)
    assert sum(e["entry_type"] == "decision" for e in history) == 4
    rescored = {e["model_type"] for e in history if e["entry_type"] == "rescore"}
    champions = {e["model_type"] for e in model_entries if e["is_champion"]}
    assert "rf" in champions and rescored == champions
    assert history[-1]["outcome"] == "kept"  # the test-mode version
    assert "test-mode models are never promoted" in history[-1]["reasons"]

    # The loading API: through the registry, and from summary.json's gs:// locations.
    # (storage_options: without them pandas uses pyarrow's own GCS client, not gcsfs)
    test = pd.read_parquet(
        f"gs://{bucket}/data/05_model_input/test_baseline.parquet",
        storage_options={"token": "anon"},
    )
    for model in MODELS:
        loaded = load_model(model, 1, history=history, env="prod", tracking_uri=tracking_uri)
        assert loaded.source == "registry"
        online, served = predict_rows(loaded.predictor, test.head(50))
        assert served.all() and np.isfinite(online).all()
        offline = load_model(
            model,
            1,
            history=history,
            env="prod",
            tracking_uri=f"sqlite:///{project_copy / 'unreachable' / 'no.db'}",
        )
        assert offline.source == "summary.json"
        assert offline.model_uri.startswith(f"gs://{bucket}/mlflow-artifacts/")
        np.testing.assert_array_equal(predict_rows(offline.predictor, test.head(50))[0], online)
    champion = load_model("rf", history=history, env="prod", tracking_uri=tracking_uri)
    assert champion.version == 1

    # The registry CLI on prod.
    from bike_traffic.cli import cli as project_cli

    listed = CliRunner().invoke(project_cli, ["models", "champion", "rf", "--env", "prod"])
    assert listed.exit_code == 0, listed.output
    assert "rf: champion v1" in listed.output

    # What the Streamlit app and the notebooks do when started with KEDRO_ENV=prod.
    monkeypatch.setenv("KEDRO_ENV", "prod")
    bootstrap_project(project_copy)
    with KedroSession.create(project_path=project_copy) as session:
        context = session.load_context()
        assert context.env == "prod"
        assert context.params["registry"]["env"] == "prod"
        assert len(context.catalog.load("test_baseline")) == len(test)
        assert context.catalog.load("summary_history") == history
        assert mlflow.get_tracking_uri() == tracking_uri
    project = open_project(project_copy)  # the Streamlit app's way in
    try:
        assert (project.env, project.registry_env) == ("prod", "prod")
        assert len(project.catalog.load("train_baseline")) > len(test)
        served = project.load_model("rf")
        assert (served.version, served.source) == (1, "registry")
    finally:
        project.close()
    assert _local_files(project_copy) == []


class _StopEmulatorAfter:
    """A hook that stops the emulator once a node has run, before its outputs are saved."""

    def __init__(self, node_name: str, emulator) -> None:
        self.node_name = node_name
        self.emulator = emulator

    @hook_impl
    def after_node_run(self, node) -> None:
        if node.name == self.node_name:
            self.emulator.stop()


@pytest.mark.slow
def test_emulator_stopped_mid_run_is_a_clear_error_and_summary_is_unchanged(
    project_copy, small_generated, tmp_path, monkeypatch
):
    from bike_traffic import settings
    from bike_traffic.datasets import summary_store

    storage = tmp_path / "gcs"  # objects on disk: a second server finds them
    emulator = start_emulator(tmp_path / "gcs-logs", bucket="prod-bucket", storage_root=storage)
    try:
        (tmp_path / "gcloud").mkdir()
        for name, value in emulator_environment(emulator, tmp_path / "gcloud").items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("BIKE_TRAFFIC_BUCKET", "prod-bucket")
        _seed_raw_export("prod-bucket", small_generated)
        run(project_copy, "data_cleaning", env="prod")
        summary = SummaryJSONDataset("gs://prod-bucket/models/summary.json")
        summary.save([{"timestamp": "2026-01-01T00:00:00+00:00", "entry_type": "note"}])
        before = fsspec.filesystem("gs", token="anon").cat("prod-bucket/models/summary.json")

        # Stop the server after the decision, just before rf's entries are appended.
        monkeypatch.setattr(summary_store, "GCS_NETWORK_DEADLINE", 2.0)
        monkeypatch.setattr(
            settings, "HOOKS", (*settings.HOOKS, _StopEmulatorAfter("rf.record_decision", emulator))
        )
        with pytest.raises(DatasetError) as raised:
            run(
                project_copy,
                "rf",
                env="prod",
                params={"run": {"test_mode": True}, "rf": SMALL_MODELS["rf"]},
            )
        message = str(raised.value)
        assert "rf.summary_entries" in message
        assert "gs://prod-bucket/models/summary.json" in message
        assert "Cannot reach Google Cloud Storage" in message
        assert not emulator.is_running()
    finally:
        emulator.stop()

    restarted = start_emulator(tmp_path / "gcs-logs", bucket="prod-bucket", storage_root=storage)
    try:
        monkeypatch.setenv("STORAGE_EMULATOR_HOST", restarted.url)
        fs = fsspec.filesystem("gs", token="anon", skip_instance_cache=True)
        assert fs.cat("prod-bucket/models/summary.json") == before
        entries = SummaryJSONDataset("gs://prod-bucket/models/summary.json").load()
        assert [e["entry_type"] for e in entries] == ["note"]
        assert json.loads(before) == entries
    finally:
        restarted.stop()
    assert _local_files(project_copy) == []
