"""`kedro viz build` works offline and shows every pipeline with its nodes and layers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from kedro.framework.project import pipelines
from kedro.framework.startup import bootstrap_project


@pytest.mark.slow
def test_viz_build_holds_every_pipeline_and_node(project_copy: Path):
    kedro = Path(sys.executable).with_name("kedro")
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
    result = subprocess.run(
        [str(kedro), "viz", "build"],
        cwd=project_copy,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "circular dependency" not in (result.stdout + result.stderr).lower()
    main = json.loads((project_copy / "build/api/main").read_text())
    bootstrap_project(project_copy)
    expected = dict(pipelines)
    assert {p["id"] for p in main["pipelines"]} == set(expected)
    for name, pipeline in expected.items():
        built = json.loads((project_copy / "build/api/pipelines" / name).read_text())
        task_names = {n["name"] for n in built["nodes"] if n["type"] == "task"}
        assert {node.name.split(".")[-1] for node in pipeline.nodes} <= task_names, name
    assert main["layers"][:1] == ["raw"] and "reporting" in main["layers"]
