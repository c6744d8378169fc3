"""Shared fixtures: small generated data, copies of the project, real data.

Projects are built once per test session and copied per test:

* ``cleaned_project``: the small generated export, cleaned (``data_cleaning`` ran);
* ``trained_project``: the same with ``rf``, ``nn`` and ``affluence_classifier`` trained
  and registered (the ``test`` environment's small models), its MLflow store relocated
  into the copy.
"""

from __future__ import annotations

import http.server
import os
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pandas as pd
import pytest

# Nothing in the tests may phone home or pick up a real cloud login.
os.environ.setdefault("KEDRO_DISABLE_TELEMETRY", "true")
os.environ.setdefault("DO_NOT_TRACK", "true")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
os.environ.setdefault("NO_GCE_CHECK", "true")
os.environ.pop("GOOGLE_APPLICATION_CREDENTIALS", None)
os.environ.pop("MLFLOW_TRACKING_URI", None)

PROJECT_ROOT = Path(__file__).resolve().parents[1]

#: Test files whose every test carries a marker of the slow outer world (make test-fast skips).
_FILE_MARKERS = {
    "test_browser.py": "browser",
    "test_airflow_dag.py": "airflow",
    "test_viz.py": "viz",
    "test_notebooks.py": "notebooks",
}


@pytest.hookimpl(tryfirst=True)  # before ``-m`` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests of the browser, Airflow, kedro viz and notebook files by their file."""
    for item in items:
        marker = _FILE_MARKERS.get(item.path.name)
        if marker:
            item.add_marker(getattr(pytest.mark, marker))


SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


def shared_file(name: str) -> Path:
    """Path of a file of ../shared/data, or skip the test saying it is absent."""
    path = SHARED_DATA / name
    if not path.exists():
        pytest.skip(f"real data {path} is absent (it ships beside the repo in CI only)")
    return path


#: Parameters of the generator's small preset for its unit tests (profile-only counts).
SMALL_SYNTHETIC = {
    "seed": 7,
    "start": "2024-03-11",
    "days": 28,
    "n_sites": 4,
    "single_counter_share": 0.25,
    "level_sigma": 0.6,
    "mean_hourly_count": 78.5,
    "dispersion": 6.0,
    "outages_per_counter": 1.2,
    "missing_id_share": 0.035,
    "float_count_share": 0.4,
    "space_timestamp_share": 0.05,
    "spaced_coordinates_share": 0.1,
    "photo_share": 0.5,
}


@pytest.fixture(scope="session")
def small_generated() -> dict[str, pd.DataFrame]:
    """The small preset of the generator (conf/test), run in memory: its three raw files.

    A few counters over four weeks that span the 2024-03-31 clock change: ``raw_counts``
    (the export), ``raw_weather`` (SYNOP) and ``raw_school_calendar``.
    """
    from bike_traffic.pipelines.synthetic_raw import create_pipeline
    from tests.pipelines.slices import run_slice

    pipeline = create_pipeline()
    outputs = run_slice(pipeline, {}, keep=("raw_weather", "raw_school_calendar"))
    return {name: outputs[name] for name in ("raw_counts", "raw_weather", "raw_school_calendar")}


@pytest.fixture(scope="session")
def small_raw(small_generated) -> pd.DataFrame:
    """The small raw export (the generator's conf/test preset)."""
    return small_generated["raw_counts"]


@pytest.fixture(scope="session")
def small_cleaning(small_generated) -> dict:
    """Everything data_cleaning makes of the small generated files, in memory."""
    from bike_traffic.pipelines.data_cleaning import create_pipeline
    from tests.pipelines.slices import run_slice

    return run_slice(
        create_pipeline(),
        small_generated,
        keep=("clean_counts", "feature_context", "hourly_weather", "valid_counts"),
    )


@pytest.fixture(scope="session")
def small_clean(small_cleaning) -> pd.DataFrame:
    """The feature table of the small generated data (``clean_counts``)."""
    return small_cleaning["clean_counts"]


@pytest.fixture(scope="session")
def small_context(small_cleaning) -> dict:
    """The feature context of the small generated data (school holidays, restrictions,
    climatology), as data_cleaning makes it."""
    return small_cleaning["feature_context"]


@pytest.fixture(scope="session")
def small_split(small_cleaning) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The fixed time split of the small feature table (conf/test's: last 20% of hours)."""
    return small_cleaning["train_baseline"], small_cleaning["test_baseline"]


@pytest.fixture(scope="session")
def run_split(small_split) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The rows a model run trains and is judged on: the split without its outage hours."""
    from bike_traffic.models.evaluation import select_model_data

    return select_model_data(*small_split, {"exclude_outages": True})


#: The data folders of the project's catalog.
DATA_LAYERS = (
    "01_raw",
    "02_intermediate",
    "03_primary",
    "04_feature",
    "05_model_input",
    "06_models",
    "07_model_output",
    "08_reporting",
)


def copy_project(root: Path) -> Path:
    """Make ``root`` a copy of the project to run in: configuration, empty data folders.

    ``conf/local`` is left out (a developer's own settings and credentials); the
    package itself is imported from the install.
    """
    root.mkdir()
    shutil.copy(PROJECT_ROOT / "pyproject.toml", root / "pyproject.toml")
    shutil.copytree(PROJECT_ROOT / "conf", root / "conf", ignore=shutil.ignore_patterns("local"))
    (root / "conf" / "local").mkdir()
    (root / "src").mkdir()
    for layer in DATA_LAYERS:
        (root / "data" / layer).mkdir(parents=True)
    return root


def tracking_uri(root: Path) -> str:
    """The SQLite tracking store of a project copy."""
    return f"sqlite:///{root / 'mlflow.db'}"


def run(project: Path, pipeline: str, env: str = "test", params: dict | None = None) -> None:
    """``kedro run --pipelines <pipeline>`` through a KedroSession, in ``project``."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(project)
    with KedroSession.create(project_path=project, env=env, runtime_params=params) as session:
        session.run(pipeline_names=[pipeline])


def _use(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(root)
    monkeypatch.delenv("BIKE_TRAFFIC_DATA_ROOT", raising=False)
    monkeypatch.delenv("BIKE_TRAFFIC_PROJECT_PATH", raising=False)
    monkeypatch.delenv("KEDRO_ENV", raising=False)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", tracking_uri(root))


def _end_mlflow() -> None:
    import mlflow

    if mlflow.active_run():
        mlflow.end_run()
    mlflow.set_tracking_uri(None)  # MLflow's global state as the next test expects it


@pytest.fixture
def project_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the project's configuration in a temporary folder, made the cwd.

    Runs through a ``KedroSession`` there write their data and their MLflow
    store in the temporary folder, never in the checkout.
    """
    root = copy_project(tmp_path / "project")
    _use(root, monkeypatch)
    yield root
    _end_mlflow()


#: What a project copy leaves out of its template: the MLflow store (made anew, or relocated).
_TRACKING = ("mlflow.db", "mlartifacts", "mlruns")


def relocate_copy(template: Path, root: Path) -> Path:
    """Copy a project, its MLflow store and summary.json pointing at the copy's own folders.

    MLflow's SQLite store and summary.json keep absolute artifact locations: the copy's
    are rewritten so that it never reads or writes the template's.
    """
    shutil.copytree(template, root)
    old, new = str(template), str(root)
    database = root / "mlflow.db"
    if database.exists():
        with sqlite3.connect(database) as connection:
            for table, column in (
                ("experiments", "artifact_location"),
                ("runs", "artifact_uri"),
                ("logged_models", "artifact_location"),
                ("model_versions", "storage_location"),
            ):
                connection.execute(
                    f"UPDATE {table} SET {column} = replace({column}, ?, ?)",  # noqa: S608
                    (old, new),
                )
    summary = root / "data" / "06_models" / "summary.json"
    if summary.exists():
        summary.write_text(summary.read_text(encoding="utf-8").replace(old, new), "utf-8")
    return root


@pytest.fixture(scope="session")
def cleaned_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project with the small generated export cleaned, built once per session."""
    root = copy_project(tmp_path_factory.mktemp("cleaned") / "project")
    with pytest.MonkeyPatch.context() as patch:
        _use(root, patch)
        run(root, "synthetic_raw")
        run(root, "data_cleaning")
        _end_mlflow()
    for name in _TRACKING:
        path = root / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
    return root


@pytest.fixture
def cleaned_project(
    cleaned_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A copy of :func:`cleaned_template` of this test's own, made the cwd."""
    root = relocate_copy(cleaned_template, tmp_path / "project")
    _use(root, monkeypatch)
    yield root
    _end_mlflow()


@pytest.fixture(scope="session")
def trained_template(cleaned_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The cleaned project with rf, nn and affluence_classifier trained and registered."""
    root = relocate_copy(cleaned_template, tmp_path_factory.mktemp("trained") / "project")
    with pytest.MonkeyPatch.context() as patch:
        _use(root, patch)
        for pipeline in ("rf", "nn", "affluence_classifier"):
            run(root, pipeline)
        _end_mlflow()
    return root


@pytest.fixture
def trained_project(
    trained_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A copy of :func:`trained_template` of this test's own (its MLflow store too)."""
    root = relocate_copy(trained_template, tmp_path / "project")
    _use(root, monkeypatch)
    yield root
    _end_mlflow()


@pytest.fixture
def http_server(tmp_path: Path):
    """A static HTTP server on 127.0.0.1 serving ``tmp_path``, stopped after the test."""
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)
