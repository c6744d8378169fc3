"""`kedro run --pipelines monitoring` on small data, without and with an injected shift."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import fsspec
import pandas as pd
import pytest
from kedro.config import OmegaConfigLoader
from mlflow import MlflowClient

from bike_traffic.hooks import use_gcs_credentials
from bike_traffic.pipelines.monitoring import gate
from bike_traffic.pipelines.monitoring.nodes import REPORT_ARTIFACT
from bike_traffic.settings import CONFIG_LOADER_ARGS
from tests.conftest import run, tracking_uri

pytest_plugins = ["tests.gcs_emulator"]

#: Every counter's traffic tripled over the last week of the small data (the window).
SHIFT = {"synthetic_raw": {"shift": {"start": "2024-04-01", "factor": 3.0, "counter_share": 1.0}}}


def drift_entries(project: Path) -> list[dict]:
    history = json.loads((project / "data/06_models/summary.json").read_text())
    return [e for e in history if e["entry_type"] == "drift"]


def decision(project: Path) -> dict:
    return json.loads((project / "data/08_reporting/monitoring/decision.json").read_text())


@pytest.mark.slow
def test_monitoring_says_ok_then_retrain_after_a_shift(trained_project):
    project_copy = trained_project  # cleaned, rf trained and registered (champion v1)
    run(project_copy, "monitoring")
    calm = decision(project_copy)
    assert calm["decision"] == "ok", calm["reasons"]
    assert "comptage_horaire" not in calm["drifted_features"]
    assert calm["champion"]["version"] == 1 and calm["champion"]["window"]["r2"] > 0.45
    assert calm["window"]["mode"] == "last_days" and calm["window"]["days"] == 7
    reporting = project_copy / "data/08_reporting/monitoring"
    table = pd.read_csv(reporting / "drift_table.csv")
    assert len(table) == 8 and {"feature", "score", "threshold", "drifted"} <= set(table.columns)
    assert (reporting / "drift.png").stat().st_size > 0
    assert "<!DOCTYPE html>" in (reporting / "drift_report.html").read_text()

    (entry,) = drift_entries(project_copy)
    assert entry["decision"] == "ok" and entry["env"] == "test"
    assert entry["reasons"] == calm["reasons"] and entry["window"] == calm["window"]
    report = Path(urlparse(entry["report"]).path)
    assert report.read_text() == (reporting / "drift_report.html").read_text()
    client = MlflowClient(tracking_uri=tracking_uri(project_copy))
    logged = {a.path for a in client.list_artifacts(entry["mlflow_run_id"], "monitoring")}
    assert logged == {
        "monitoring/drift_table.csv",
        "monitoring/drift_report.html",
        "monitoring/drift.png",
        "monitoring/decision.json",
    }
    metrics = client.get_run(entry["mlflow_run_id"]).data.metrics
    assert metrics["monitoring.drift_share"] == calm["drift_share"]
    assert metrics["monitoring.retrain"] == 0.0

    # the same champion, a week of tripled traffic
    run(project_copy, "synthetic_raw", params=SHIFT)
    run(project_copy, "data_cleaning")
    run(project_copy, "monitoring")
    shifted = decision(project_copy)
    assert shifted["decision"] == "retrain"
    assert "comptage_horaire" in shifted["drifted_features"]
    assert any("on the window < 0.45" in r for r in shifted["reasons"])
    assert any("on the window > 90.0" in r for r in shifted["reasons"])

    # thresholds are parameters: the same data, other rules
    rules = {"retrain_r2_below": -100.0, "retrain_rmse_above": 1e6, "alert_drift_share": 0.2}
    run(project_copy, "monitoring", params={"monitoring": {"rules": rules}})
    assert decision(project_copy)["decision"] == "alert"
    assert [e["decision"] for e in drift_entries(project_copy)] == ["ok", "retrain", "alert"]


def test_report_artifact_matches_its_catalog_entry():
    conf = Path(__file__).resolve().parents[3] / "conf"
    loader = OmegaConfigLoader(
        str(conf),
        base_env="base",
        default_run_env="base",
        custom_resolvers=CONFIG_LOADER_ARGS["custom_resolvers"],
    )
    catalog = loader["catalog"]
    entry = catalog["monitoring.drift_report"]
    logged = f"{entry['artifact_path']}/{Path(entry['dataset']['filepath']).name}"
    assert logged == REPORT_ARTIFACT


@pytest.fixture
def _gcsfs_defaults_cleared() -> Iterator[None]:
    """The prod hook sets gcsfs' process-wide default credentials: undo it after the test."""
    yield
    use_gcs_credentials(None)


@pytest.mark.slow
@pytest.mark.usefixtures("_gcsfs_defaults_cleared")
def test_in_prod_reports_and_decisions_are_on_the_bucket(
    project_copy, gcs_shared_emulator, small_generated, monkeypatch
):
    from tests.test_prod import _seed_raw_export

    bucket = gcs_shared_emulator.bucket
    monkeypatch.setenv("BIKE_TRAFFIC_BUCKET", bucket)
    monkeypatch.delenv("KEDRO_ENV", raising=False)
    _seed_raw_export(bucket, small_generated)
    run(project_copy, "data_cleaning", env="prod")
    run(project_copy, "monitoring", env="prod")  # no champion yet: drift alone decides

    fs = fsspec.filesystem("gs", token="anon", skip_instance_cache=True)
    reporting = f"{bucket}/data/08_reporting/monitoring"
    assert {p.rsplit("/", 1)[-1] for p in fs.ls(reporting)} == {
        "decision.json",
        "drift.png",
        "drift_report.html",
        "drift_table.csv",
        "metrics.json",
    }
    saved = json.loads(fs.cat(f"{reporting}/decision.json"))
    assert saved["decision"] in ("ok", "alert") and not saved["champion"]["available"]
    (entry,) = [
        e for e in json.loads(fs.cat(f"{bucket}/models/summary.json")) if e["entry_type"] == "drift"
    ]
    assert entry["env"] == "prod" and entry["decision"] == saved["decision"]
    assert entry["report"].startswith(f"gs://{bucket}/mlflow-artifacts/")
    assert entry["report"].endswith(REPORT_ARTIFACT)
    assert fs.exists(entry["report"])
    assert not any(p.is_file() for p in (project_copy / "data").rglob("*"))
    # the Airflow gate reads the same decision from the bucket
    assert gate.load_decision("prod", project_copy) == saved
