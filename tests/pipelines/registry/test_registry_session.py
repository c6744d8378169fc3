"""Registry end to end: a second rf run, the champion alias, the CLI, the registry pipeline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from kedro.io.core import DatasetError
from mlflow import MlflowClient

from bike_traffic.cli import cli
from bike_traffic.models.spec import MODEL_SPECS, model_spec
from bike_traffic.registry.history import current_champion
from tests.conftest import run, tracking_uri


@pytest.fixture
def trained_twice(trained_project: Path) -> Path:
    """The trained project (rf v1 champion) with a second rf run: v2, same data."""
    run(trained_project, "rf")
    return trained_project


def summary(project: Path) -> list[dict]:
    return json.loads((project / "data/06_models/summary.json").read_text())


def registry(project: Path) -> MlflowClient:
    return MlflowClient(tracking_uri=tracking_uri(project))


def champion_alias(project: Path) -> int:
    return int(registry(project).get_model_version_by_alias("bike-traffic-rf", "champion").version)


@pytest.mark.slow
def test_two_runs_two_versions_and_the_rule_picks_the_champion(trained_twice):
    history = [e for e in summary(trained_twice) if e["model_type"] == "rf"]
    models = [e for e in history if e["entry_type"] == "model"]
    decisions = [e for e in history if e["entry_type"] == "decision"]
    assert [m["version"] for m in models] == [1, 2]
    assert [d["outcome"] for d in decisions] == ["promoted", "kept"]  # same data: no 5% gain
    assert decisions[1]["champion_version"] == 1 and decisions[1]["improvement"] < 0.05
    assert models[0]["is_champion"] and not models[1]["is_champion"]
    for key in (
        "timestamp",
        "model_type",
        "env",
        "test_mode",
        "run_id",
        "model_uri",
        "artifact_location",
        "rmse",
        "r2",
        "registered_model",
        "version",
        "metrics",
        "data_fingerprint",
        "code_version",
        "is_champion",
    ):
        assert key in models[1], key
    assert models[1]["env"] == "test" and models[1]["registered_model"] == "bike-traffic-rf"
    assert current_champion(summary(trained_twice), "rf", "test")["version"] == 1

    client = registry(trained_twice)
    assert champion_alias(trained_twice) == 1
    v2 = client.get_model_version_by_alias("bike-traffic-rf", "challenger")
    assert int(v2.version) == 2
    assert v2.tags["decision"] == "kept" and v2.tags["model_type"] == "rf"
    assert v2.tags["data_fingerprint"] == models[1]["data_fingerprint"]["hash"]
    assert "rmse=" in v2.description
    v1 = client.get_model_version("bike-traffic-rf", "1")
    assert v1.tags["challenged_by_v2"].startswith("kept")


@pytest.mark.slow
def test_cli_shows_promotes_and_rolls_back(trained_twice):
    runner = CliRunner()
    shown = runner.invoke(cli, ["models", "champion", "rf", "--env", "test"])
    assert shown.exit_code == 0, shown.output
    assert "champion v1" in shown.output
    listed = runner.invoke(cli, ["models", "list", "--env", "test"])
    assert listed.exit_code == 0, listed.output
    lines = {
        line.split()[0]: line
        for line in listed.output.splitlines()
        if line.split() and line.split()[0] in MODEL_SPECS
    }
    assert set(lines) == set(MODEL_SPECS)
    assert "versions=2" in lines["rf"] and "champion=v1" in lines["rf"]
    assert "champion=-" in lines["nn"]
    table = runner.invoke(cli, ["models", "versions", "rf", "--env", "test"])
    assert "challenger" in table.output and "champion" in table.output

    promoted = runner.invoke(cli, ["models", "promote", "rf", "2", "--env", "test"])
    assert promoted.exit_code == 0, promoted.output
    assert champion_alias(trained_twice) == 2
    assert current_champion(summary(trained_twice), "rf", "test")["version"] == 2

    rolled = runner.invoke(cli, ["models", "rollback", "rf", "--env", "test"])
    assert rolled.exit_code == 0, rolled.output
    assert "champion v2 -> v1" in rolled.output
    assert champion_alias(trained_twice) == 1
    kinds = [e["entry_type"] for e in summary(trained_twice)]
    assert kinds[-2:] == ["promotion", "rollback"]

    archived = runner.invoke(cli, ["models", "archive", "rf", "2", "--env", "test"])
    assert archived.exit_code == 0, archived.output
    refused = runner.invoke(cli, ["models", "promote", "rf", "2", "--env", "test"])
    assert refused.exit_code != 0 and "v2 is archived" in refused.output
    assert summary(trained_twice)[-1]["entry_type"] == "archive"

    unknown = runner.invoke(cli, ["models", "promote", "rf", "9", "--env", "test"])
    assert unknown.exit_code != 0 and "has no version 9" in unknown.output


@pytest.mark.parametrize(
    "command",
    [
        "champion xgboost",
        "versions xgboost",
        "promote xgboost 1",
        "rollback xgboost",
        "archive xgboost 1",
    ],
)
def test_cli_names_an_unknown_model_type(trained_project, command):
    done = CliRunner().invoke(cli, ["models", *command.split(), "--env", "test"])
    assert done.exit_code == 1, done.output
    assert "Unknown model type 'xgboost'" in done.output  # a message, not a traceback
    assert done.exception is None or isinstance(done.exception, SystemExit)


def test_cli_answers_for_a_known_type_never_trained(trained_project):
    runner = CliRunner()
    champion = runner.invoke(cli, ["models", "champion", "gbm", "--env", "test"])
    assert champion.exit_code == 0 and "gbm: no champion (env test)" in champion.output
    versions = runner.invoke(cli, ["models", "versions", "gbm", "--env", "test"])
    assert versions.exit_code == 0 and "no version registered" in versions.output
    promoted = runner.invoke(cli, ["models", "promote", "gbm", "1", "--env", "test"])
    assert promoted.exit_code == 1 and "bike-traffic-gbm has no version 1" in promoted.output
    assert promoted.exception is None or isinstance(promoted.exception, SystemExit)


@pytest.mark.slow
def test_registry_pipeline_rescores_champions(trained_twice):
    run(trained_twice, "registry")
    history = summary(trained_twice)
    rescores = [e for e in history if e["entry_type"] == "rescore"]
    champions = [
        (model_spec(t).summary_type, current_champion(history, t, "test")["version"], "registry")
        for t in ("rf", "nn", "gbm", "affluence_classifier")
        if current_champion(history, t, "test") is not None
    ]
    assert [(e["model_type"], e["version"], e["source"]) for e in rescores] == champions
    assert champions[0] == ("rf", 1, "registry")  # nn has no champion, gbm no version
    for entry in rescores:
        assert entry["metrics"].get("rmse", entry["metrics"].get("f1_score")) > 0
    assert not [e for e in summary(trained_twice) if e.get("pending")]  # v2 was decided


@pytest.mark.slow
def test_corrupt_summary_stops_the_run_before_training(trained_project):
    path = trained_project / "data/06_models/summary.json"
    path.write_text('[{"timestamp": "x"}]')
    before = path.read_bytes()
    judged = trained_project / "data/07_model_output/rf/test_predictions.parquet"
    judged_before = judged.stat().st_mtime_ns
    with pytest.raises(DatasetError, match="summary.json"):
        run(trained_project, "rf")
    assert path.read_bytes() == before
    assert judged.stat().st_mtime_ns == judged_before  # checked before any node ran
    assert len(registry(trained_project).search_model_versions("name = 'bike-traffic-rf'")) == 1
