"""A run or a command killed (SIGKILL) at each step of registration and promotion.

Afterwards the CLI, MLflow's aliases, summary.json and the app's loading (registry up and
registry down) all name the same champion: at once for summary.json and the app (the
authority), and for MLflow once the next registry operation has reconciled it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner
from mlflow import MlflowClient

from bike_traffic.cli import cli
from bike_traffic.project import open_project
from bike_traffic.registry.history import current_champion
from tests.conftest import PROJECT_ROOT, tracking_uri

RF = "bike-traffic-rf"

#: A `kedro run --pipelines rf` that kills itself (SIGKILL) at one step of its registration.
RUN_AND_DIE = textwrap.dedent(
    """
    import os, signal, sys
    from kedro.framework.hooks import hook_impl
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project
    from bike_traffic import settings

    project, when, name = sys.argv[1], sys.argv[2], sys.argv[3]

    class Die:
        @hook_impl
        def before_node_run(self, node):
            if when == "before" and node.name == name:
                os.kill(os.getpid(), signal.SIGKILL)

        @hook_impl
        def after_node_run(self, node):
            if when == "after" and node.name == name:
                os.kill(os.getpid(), signal.SIGKILL)

    settings.HOOKS = (*settings.HOOKS, Die())
    bootstrap_project(project)
    # the same model again, promoted: the rule is told any gain will do
    params = {"registry": {"min_improvement": -1.0}}
    with KedroSession.create(project_path=project, env="test", runtime_params=params) as s:
        s.run(pipeline_names=["rf"])
    """
)

#: `kedro models promote rf 2` killed between recording the promotion and publishing it.
PROMOTE_AND_DIE = textwrap.dedent(
    """
    import os, signal, sys
    import bike_traffic.cli as commands

    def die(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    commands.publish = die
    commands.cli(["models", "promote", "rf", "2", "--env", "test"])
    """
)


def _killed(script: str, *args: str, root: Path) -> None:
    environment = {**os.environ, "PYTHONPATH": str(PROJECT_ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr[-3000:]


def _summary_champion(root: Path) -> int | None:
    history = json.loads((root / "data/06_models/summary.json").read_text(encoding="utf-8"))
    champion = current_champion(history, "rf", "test")
    return None if champion is None else int(champion["version"])


def _alias(root: Path) -> int | None:
    aliases = MlflowClient(tracking_uri=tracking_uri(root)).get_registered_model(RF).aliases
    return int(aliases["champion"]) if "champion" in aliases else None


def _app_versions(root: Path) -> tuple[int, int]:
    """The champion the app loads with the registry up, and with it down."""
    with open_project(root, "test") as project:
        up = project.load_model("rf").version
        project.registry_error = "the registry is down (test)"
        down = project.load_model("rf")
    assert down.source == "summary.json"
    return up, down.version


def _cli_champion(root: Path) -> int:
    shown = CliRunner().invoke(cli, ["models", "champion", "rf", "--env", "test"])
    assert shown.exit_code == 0, shown.output
    return int(shown.output.split("champion v")[1].split()[0])


def _runs_left_running(root: Path) -> list[str]:
    client = MlflowClient(tracking_uri=tracking_uri(root))
    experiments = [e.experiment_id for e in client.search_experiments()]
    return [
        r.info.run_id
        for r in client.search_runs(experiments, filter_string="attributes.status = 'RUNNING'")
    ]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("when", "node", "champion"),
    [
        ("after", "rf.register_model_version", 1),  # registered, nothing recorded
        ("after", "rf.record_decision", 1),  # decided, not yet appended
        ("before", "rf.publish_decision", 2),  # appended, MLflow not yet told
        ("after", "rf.publish_decision", 2),  # all done, the run not closed
    ],
    ids=["registered", "decided", "recorded", "published"],
)
def test_a_run_killed_at_each_step_leaves_one_champion(trained_project, when, node, champion):
    _killed(RUN_AND_DIE, str(trained_project), when, node, root=trained_project)

    # summary.json decides, and the app follows it at once, registry up or down
    assert _summary_champion(trained_project) == champion
    assert _app_versions(trained_project) == (champion, champion)
    assert _runs_left_running(trained_project)  # the killed run

    fixed = CliRunner().invoke(cli, ["models", "reconcile", "--env", "test"])
    assert fixed.exit_code == 0, fixed.output

    assert _alias(trained_project) == champion
    assert _cli_champion(trained_project) == champion
    assert _summary_champion(trained_project) == champion
    assert _app_versions(trained_project) == (champion, champion)
    assert _runs_left_running(trained_project) == []
    history = json.loads((trained_project / "data/06_models/summary.json").read_text())
    recorded = {e["version"] for e in history if e["entry_type"] in ("model", "orphan")}
    assert 2 in recorded  # v2 is never unknown to summary.json: a model, or an orphan


@pytest.mark.slow
def test_a_promotion_killed_before_mlflow_is_told_is_finished_by_reconcile(trained_project):
    from tests.registry.copies import register_copy

    second = register_copy(trained_project, "rf")  # v2, recorded as a kept challenger
    summary = trained_project / "data/06_models/summary.json"
    history = json.loads(summary.read_text(encoding="utf-8"))
    summary.write_text(json.dumps([*history, second]), encoding="utf-8")

    _killed(PROMOTE_AND_DIE, root=trained_project)

    assert _summary_champion(trained_project) == 2
    assert _alias(trained_project) == 1  # killed before MLflow was told
    assert _app_versions(trained_project) == (2, 2)
    # the next operation reconciles first
    listed = CliRunner().invoke(cli, ["models", "rollback", "rf", "--env", "test"])
    assert listed.exit_code == 0, listed.output
    assert "alias 'champion' moved from v1 to v2" in listed.output
    assert _alias(trained_project) == _summary_champion(trained_project) == 1
    assert _cli_champion(trained_project) == 1
