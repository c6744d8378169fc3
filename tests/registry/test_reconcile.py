"""reconcile: MLflow's registry brought back in line with summary.json, the authority."""

from __future__ import annotations

import os
import subprocess
import sys

from click.testing import CliRunner
from mlflow import MlflowClient

from bike_traffic.cli import cli
from bike_traffic.project import open_project
from bike_traffic.registry import CHALLENGER, CHAMPION
from bike_traffic.registry.operations import archive
from bike_traffic.registry.reconcile import HOST_TAG, PID_TAG, reconcile, run_identity
from tests.conftest import tracking_uri
from tests.registry.copies import register_copy

RF = "bike-traffic-rf"


def _history(root) -> list[dict]:
    with open_project(root, "test") as project:
        return project.history()


def _client(root) -> MlflowClient:
    return MlflowClient(tracking_uri=tracking_uri(root))


def _aliases(root, name: str = RF) -> dict[str, int]:
    return {a: int(v) for a, v in _client(root).get_registered_model(name).aliases.items()}


def test_a_moved_alias_goes_back_to_the_champion_summary_json_names(trained_project):
    version = register_copy(trained_project, "rf")["version"]
    _client(trained_project).set_registered_model_alias(RF, CHAMPION, version)  # half-done op
    history = [*_history(trained_project)]
    done = reconcile(history, "test", ["rf"], _client(trained_project))
    assert f"{RF}: alias 'champion' moved from v{version} to v1 (summary.json)" in done.fixes
    assert _aliases(trained_project)[CHAMPION] == 1
    # idempotent: the orphan, once recorded, is not found again; nothing else moves
    again = reconcile([*history, *done.entries], "test", ["rf"], _client(trained_project))
    assert again.fixes == [] and again.entries == []


def test_a_version_never_recorded_is_recorded_as_an_orphan(trained_project):
    version = register_copy(trained_project, "rf")["version"]
    done = reconcile(_history(trained_project), "test", ["rf"], _client(trained_project))
    [orphan] = done.entries
    assert orphan["entry_type"] == "orphan" and orphan["version"] == version
    assert orphan["registered_model"] == RF and orphan["env"] == "test"
    assert "never recorded in summary.json" in orphan["reason"]
    # another environment's versions are not this one's orphans
    elsewhere = reconcile(_history(trained_project), "prod", ["rf"], _client(trained_project))
    assert elsewhere.entries == []


def test_an_archived_version_loses_its_aliases(trained_project):
    history = _history(trained_project)
    history += archive("rf", 1, history, "test")  # recorded; the process died before MLflow
    done = reconcile(history, "test", ["rf"], _client(trained_project))
    assert _aliases(trained_project) == {}
    assert _client(trained_project).get_model_version(RF, "1").tags["archived"] == "true"
    assert f"{RF} v1: alias {CHALLENGER!r} removed (archived)" in done.fixes


def test_runs_left_running_by_a_dead_process_are_closed(trained_project):
    client = _client(trained_project)
    experiment = client.get_experiment_by_name("bike_traffic") or client.search_experiments()[0]
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    killed = client.create_run(
        experiment.experiment_id, tags={**run_identity(), PID_TAG: dead.stdout.strip()}
    )
    alive = client.create_run(experiment.experiment_id, tags=run_identity())  # this process
    elsewhere = client.create_run(
        experiment.experiment_id, tags={HOST_TAG: "another-machine", PID_TAG: "1"}
    )
    done = reconcile(_history(trained_project), "test", ["rf"], client)
    assert client.get_run(killed.info.run_id).info.status == "KILLED"
    assert client.get_run(alive.info.run_id).info.status == "RUNNING"
    assert client.get_run(elsewhere.info.run_id).info.status == "RUNNING"
    assert any(killed.info.run_id in fix for fix in done.fixes)
    assert os.getpid() != int(dead.stdout)


def test_kedro_models_reconcile_reports_what_it_fixed(trained_project):
    version = register_copy(trained_project, "rf")["version"]
    _client(trained_project).set_registered_model_alias(RF, CHAMPION, version)
    runner = CliRunner()
    done = runner.invoke(cli, ["models", "reconcile", "--env", "test"])
    assert done.exit_code == 0, done.output
    assert f"reconciled: {RF}: alias 'champion' moved from v{version} to v1" in done.output
    assert f"reconciled: {RF} v{version}: recorded orphan" in done.output
    assert _aliases(trained_project)[CHAMPION] == 1
    again = runner.invoke(cli, ["models", "reconcile", "--env", "test"])
    assert "already agrees with summary.json" in again.output


def test_an_unreadable_summary_json_changes_nothing_in_mlflow(trained_project):
    summary = trained_project / "data/06_models/summary.json"
    summary.write_text('[{"timestamp": "2026-01-01", "entry_type": ', encoding="utf-8")
    done = CliRunner().invoke(cli, ["models", "archive", "rf", "1", "--env", "test"])
    assert done.exit_code == 1
    assert "Error: " in done.output and "is not valid JSON" in done.output
    assert "Traceback" not in done.output
    assert _aliases(trained_project) == {CHALLENGER: 1, CHAMPION: 1}
    assert "archived" not in _client(trained_project).get_model_version(RF, "1").tags


def test_an_unexpected_failure_is_one_line_and_verbose_shows_the_traceback(
    trained_project, monkeypatch
):
    import bike_traffic.cli as commands

    def broken(model_type):
        raise RuntimeError("the store said no to sqlite:///x:secret@host")

    monkeypatch.setattr(commands, "versions_table", broken)
    runner = CliRunner()
    short = runner.invoke(cli, ["models", "versions", "rf", "--env", "test"])
    assert short.exit_code == 1 and isinstance(short.exception, SystemExit)
    assert "Error: RuntimeError: the store said no" in short.output
    assert "(--verbose shows the traceback)" in short.output and "secret" not in short.output
    verbose = runner.invoke(cli, ["models", "--verbose", "versions", "rf", "--env", "test"])
    assert isinstance(verbose.exception, RuntimeError)
