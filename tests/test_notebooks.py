"""Both notebooks run top to bottom on small data, and are stored without outputs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import PROJECT_ROOT, copy_project

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def trained_project(tmp_path_factory) -> Path:
    """A copy of the project (env test) with data cleaned and the three models trained."""
    root = copy_project(tmp_path_factory.mktemp("nb") / "project")
    (root / "notebooks").mkdir()
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": f"sqlite:///{root / 'mlflow.db'}",
        "KEDRO_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
    }
    env.pop("BIKE_TRAFFIC_DATA_ROOT", None)
    kedro = str(Path(sys.executable).with_name("kedro"))
    for args in (["--pipelines", "synthetic_raw"], []):
        done = subprocess.run(
            [kedro, "run", "--env", "test", *args],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return root


def test_notebooks_are_stored_without_outputs():
    assert NOTEBOOKS, "no notebook found"
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, path.name


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs_top_to_bottom(trained_project, path, monkeypatch):
    monkeypatch.setenv("KEDRO_ENV", "test")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{trained_project / 'mlflow.db'}")
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(trained_project / "notebooks")}},
    )
    client.execute()
    outputs = [o for c in notebook.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert any(o.output_type in ("display_data", "execute_result") for o in outputs)
