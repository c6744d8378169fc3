"""Registry end to end: two rf runs, the champion alias, CLI, rollback, fallback loading."""

from __future__ import annotations

import json
import socket

import mlflow
import pandas as pd
import pytest
from click.testing import CliRunner
from kedro.io.core import DatasetError
from mlflow import MlflowClient

from bike_traffic import registry as reg
from bike_traffic.cli import cli
from tests.test_session import run


@pytest.fixture
def trained_twice(project_copy):
    run(project_copy, "synthetic_raw")
    run(project_copy, "data_cleaning")
    run(project_copy, "rf")
    run(project_copy, "rf")
    mlflow.set_tracking_uri(f"sqlite:///{project_copy / 'mlflow.db'}")
    yield project_copy
    mlflow.set_tracking_uri(None)


def summary(project) -> list[dict]:
    return json.loads((project / "data/06_models/summary.json").read_text())


def champion_alias(project) -> int:
    client = MlflowClient(tracking_uri=f"sqlite:///{project / 'mlflow.db'}")
    return int(client.get_model_version_by_alias("bike-traffic-rf", "champion").version)


@pytest.mark.slow
def test_two_runs_two_versions_and_the_rule_picks_the_champion(trained_twice):
    history = summary(trained_twice)
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
        "rmse",
        "r2",
        "registered_model",
        "version",
        "metrics",
        "data_fingerprint",
        "code_version",
        "is_champion",
    ):
        assert key in models[0], key
    assert models[0]["env"] == "test" and models[0]["model_type"] == "rf"

    client = MlflowClient(tracking_uri=f"sqlite:///{trained_twice / 'mlflow.db'}")
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
    table = runner.invoke(cli, ["models", "versions", "rf", "--env", "test"])
    assert "challenger" in table.output and "champion" in table.output

    promoted = runner.invoke(cli, ["models", "promote", "rf", "2", "--env", "test"])
    assert promoted.exit_code == 0, promoted.output
    assert champion_alias(trained_twice) == 2
    assert reg.current_champion(summary(trained_twice), "rf", "test")["version"] == 2

    rolled = runner.invoke(cli, ["models", "rollback", "rf", "--env", "test"])
    assert rolled.exit_code == 0, rolled.output
    assert champion_alias(trained_twice) == 1
    kinds = [e["entry_type"] for e in summary(trained_twice)]
    assert kinds[-2:] == ["promotion", "rollback"]

    unknown = runner.invoke(cli, ["models", "promote", "rf", "9", "--env", "test"])
    assert unknown.exit_code != 0 and "has no version 9" in unknown.output
    bad_type = runner.invoke(cli, ["models", "champion", "gbm", "--env", "test"])
    assert bad_type.exit_code != 0 and "Unknown model type 'gbm'" in bad_type.output


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_loading_falls_back_to_summary_json_when_the_server_is_down(trained_twice, caplog):
    history = summary(trained_twice)
    test = pd.read_parquet(trained_twice / "data/05_model_input/test_baseline.parquet")
    from_registry = reg.load_model("rf", history=history, env="test")
    assert from_registry.source == "registry" and from_registry.version == 1

    down = f"http://127.0.0.1:{_closed_port()}"
    with caplog.at_level("WARNING"):
        fallback = reg.load_model("rf", history=history, env="test", tracking_uri=down)
    assert fallback.source == "summary.json" and fallback.version == 1
    assert "Registry unavailable" in caplog.text
    assert (fallback.predict(test.head(50)) == from_registry.predict(test.head(50))).all()
    best = reg.load_model("rf", "best", history=history, env="test", tracking_uri=down)
    assert best.version in (1, 2)


@pytest.mark.slow
def test_registry_pipeline_rescores_champions(trained_twice):
    run(trained_twice, "registry")
    rescores = [e for e in summary(trained_twice) if e["entry_type"] == "rescore"]
    assert [(e["model_type"], e["version"]) for e in rescores] == [("rf", 1)]
    assert rescores[0]["metrics"]["rmse"] > 0


@pytest.mark.slow
def test_corrupt_summary_stops_the_run_before_registering(trained_twice):
    path = trained_twice / "data/06_models/summary.json"
    path.write_text('[{"timestamp": "x"}]')
    before = path.read_bytes()
    with pytest.raises(DatasetError, match="summary.json"):
        run(trained_twice, "rf")
    assert path.read_bytes() == before
    client = MlflowClient(tracking_uri=f"sqlite:///{trained_twice / 'mlflow.db'}")
    assert len(client.search_model_versions("name = 'bike-traffic-rf'")) == 2
