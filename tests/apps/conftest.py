"""A project with trained models for the app's tests, trained once per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest

from bike_traffic.datasets.summary_store import SummaryJSONDataset
from bike_traffic.registry.operations import promote
from tests.conftest import PROJECT_ROOT, relocate_copy, run, tracking_uri

APP = PROJECT_ROOT / "apps" / "bike_traffic_app.py"

#: A drift entry as the monitoring pipeline appends it (the Registry page shows it).
DRIFT_ENTRY = {
    "timestamp": "2030-01-01T00:00:00+00:00",
    "entry_type": "drift",
    "env": "test",
    "decision": "alert",
    "reasons": ["3 of 9 features drifted (share 0.33 >= 0.3)"],
    "drift_share": 0.33,
    "drifted_features": ["hour", "month", "latitude"],
}


@pytest.fixture(scope="session")
def app_project(trained_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's trained project, with what the Registry page shows.

    rf is trained a second time (so it has a decision against a champion), then its
    first version is promoted by hand and a drift entry is recorded: the Registry page
    has something of each kind to show.
    """
    root = relocate_copy(trained_template, tmp_path_factory.mktemp("app") / "project")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.delenv("BIKE_TRAFFIC_DATA_ROOT", raising=False)
        patch.setenv("MLFLOW_TRACKING_URI", tracking_uri(root))
        run(root, "rf")
        summary = SummaryJSONDataset(filepath=str(root / "data/06_models/summary.json"))
        mlflow.set_tracking_uri(tracking_uri(root))
        summary.save(promote("rf", 1, summary.load(), "test", reason="app tests"))
        summary.save([DRIFT_ENTRY])
        if mlflow.active_run():
            mlflow.end_run()
        mlflow.set_tracking_uri(None)  # MLflow's global state as the other tests expect it
    return root


@pytest.fixture
def app_env(app_project: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The environment in which ``streamlit run`` serves the trained test project."""
    monkeypatch.chdir(app_project)
    monkeypatch.setenv("BIKE_TRAFFIC_PROJECT_PATH", str(app_project))
    monkeypatch.setenv("KEDRO_ENV", "test")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri(app_project))
    monkeypatch.delenv("BIKE_TRAFFIC_DATA_ROOT", raising=False)
    yield app_project
    mlflow.set_tracking_uri(None)  # opening the project set it (kedro-mlflow)
