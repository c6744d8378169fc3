"""A project with trained models for the app's tests, trained once per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest

from bike_traffic import registry as reg
from bike_traffic.summary_store import SummaryJSONDataset
from tests.conftest import PROJECT_ROOT, copy_project
from tests.test_session import run

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


def tracking_uri(root: Path) -> str:
    """The test project's SQLite tracking store."""
    return f"sqlite:///{root / 'mlflow.db'}"


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the project, trained in the ``test`` env on small generated data.

    rf is trained twice (so it has a decision against a champion), then its
    first version is promoted by hand and a drift entry is recorded: the
    Registry page has something of each kind to show.
    """
    root = copy_project(tmp_path_factory.mktemp("app") / "project")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(root)
        patch.delenv("BIKE_TRAFFIC_DATA_ROOT", raising=False)
        patch.setenv("MLFLOW_TRACKING_URI", tracking_uri(root))
        for pipeline in ("synthetic_raw", "data_cleaning", "rf", "nn", "affluence_classifier"):
            run(root, pipeline)
        run(root, "rf")
        summary = SummaryJSONDataset(filepath=str(root / "data/06_models/summary.json"))
        mlflow.set_tracking_uri(tracking_uri(root))
        summary.save(reg.promote("rf", 1, summary.load(), "test", reason="app tests"))
        summary.save([DRIFT_ENTRY])
        if mlflow.active_run():
            mlflow.end_run()
        mlflow.set_tracking_uri(None)  # MLflow's global state as the other tests expect it
    return root


@pytest.fixture
def app_env(trained_project: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The environment in which ``streamlit run`` serves the trained test project."""
    monkeypatch.chdir(trained_project)
    monkeypatch.setenv("BIKE_TRAFFIC_PROJECT_PATH", str(trained_project))
    monkeypatch.setenv("KEDRO_ENV", "test")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri(trained_project))
    monkeypatch.delenv("BIKE_TRAFFIC_DATA_ROOT", raising=False)
    yield trained_project
    mlflow.set_tracking_uri(None)  # opening the project set it (kedro-mlflow)
