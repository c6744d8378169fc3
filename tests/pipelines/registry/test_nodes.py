"""The registry nodes on a trained project's real SQLite MLflow registry."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml
from mlflow import MlflowClient

from bike_traffic.models.evaluation import without_outages
from bike_traffic.models.spec import model_spec
from bike_traffic.pipelines.registry.nodes import (
    decide_promotion,
    publish_champions,
    publish_decision,
    record_decision,
    rescore_champions,
    score_champion,
)
from bike_traffic.project import open_project
from bike_traffic.registry import CHALLENGER, CHAMPION, RegistryError
from bike_traffic.registry.history import current_champion
from tests.conftest import tracking_uri
from tests.registry.copies import register_copy

RF_SPEC = {"metric": "rmse", "higher_is_better": False, "floor": {"metric": "r2", "min": 0.5}}
SETTINGS = {"env": "test", "min_improvement": 0.05}


def _opened(root: Path) -> tuple[pd.DataFrame, list[dict], dict]:
    """The test rows, the summary.json history and ``params:registry`` of a project."""
    with open_project(root, "test") as project:
        return (
            without_outages(project.catalog.load("test_baseline"), project.params["run"]),
            project.history(),
            project.params["registry"],
        )


def _registered(entry: dict) -> dict:
    """What register_model_version returns, for a summary.json model entry."""
    keys = ("registered_model", "version", "run_id", "model_uri", "artifact_location")
    return {"model_type": "rf", "code_version": "unknown", **{k: entry[k] for k in keys}}


def _rescores(history: list[dict], settings: dict) -> list[tuple[str, str, int]]:
    """The rescore entries expected: one per type of conf with a champion, in conf's order."""
    expected = []
    for model_type in settings["models"]:
        champion = current_champion(history, model_type, settings["env"])
        if champion is not None:
            expected.append(("rescore", model_spec(model_type).summary_type, champion["version"]))
    return expected


def _aliases(root: Path, name: str) -> dict[str, int]:
    registered = MlflowClient(tracking_uri=tracking_uri(root)).get_registered_model(name)
    return {alias: int(version) for alias, version in registered.aliases.items()}


# ---------------------------------------------------------------- decide_promotion (pure)
def test_decide_promotion_names_the_versions_involved():
    registered = {"registered_model": "bike-traffic-rf", "version": 2}
    champion = {"rmse": 100.0, "r2": 0.7, "version": 1}
    better = decide_promotion(
        registered, {"rmse": 90.0, "r2": 0.8}, champion, RF_SPEC, SETTINGS, {}
    )
    assert better["outcome"] == "promoted"
    assert (better["challenger_version"], better["champion_version"]) == (2, 1)
    assert better["improvement"] == pytest.approx(0.1)
    same = decide_promotion(registered, {"rmse": 99.0, "r2": 0.8}, champion, RF_SPEC, SETTINGS, {})
    assert same["outcome"] == "kept"


def test_decide_promotion_without_champion_or_in_test_mode():
    registered = {"registered_model": "bike-traffic-rf", "version": 1}
    metrics = {"rmse": 50.0, "r2": 0.8}
    first = decide_promotion(registered, metrics, {}, RF_SPEC, SETTINGS, {"test_mode": False})
    assert first["outcome"] == "promoted" and first["champion_version"] is None
    assert first["champion_score"] is None
    quick = decide_promotion(registered, metrics, {}, RF_SPEC, SETTINGS, {"test_mode": True})
    assert quick["outcome"] == "kept"
    with pytest.raises(KeyError, match="min_improvement"):
        decide_promotion(registered, metrics, {}, RF_SPEC, {"env": "test"}, {})


# ---------------------------------------------------------------- score_champion
def test_score_champion_rescores_the_champion_on_the_given_rows(trained_project):
    test, history, settings = _opened(trained_project)
    scores = score_champion({"model_type": "rf"}, test, history, settings)
    [entry] = [e for e in history if e["entry_type"] == "model" and e["model_type"] == "rf"]
    assert scores["version"] == 1
    assert scores["rmse"] == pytest.approx(entry["rmse"], rel=1e-9)
    assert scores["test_rows_refused"] == 0


def test_score_champion_without_a_champion_is_empty(trained_project):
    test, history, settings = _opened(trained_project)
    # nn v1 stayed below the floor
    assert score_champion({"model_type": "nn"}, test, history, settings) == {}


def test_the_champion_is_the_one_summary_json_names(trained_project):
    """summary.json is the authority: a stray MLflow alias does not change who is compared."""
    test, history, settings = _opened(trained_project)
    second = register_copy(trained_project, "rf")["version"]
    client = MlflowClient(tracking_uri=tracking_uri(trained_project))
    client.set_registered_model_alias("bike-traffic-rf", CHAMPION, second)  # a half-done op
    assert score_champion({"model_type": "rf"}, test, history, settings)["version"] == 1


def test_a_champion_that_cannot_serve_is_reported_and_not_compared(trained_project):
    test, history, settings = _opened(trained_project)
    [entry] = [e for e in history if e["entry_type"] == "model" and e["model_type"] == "rf"]
    mlmodel = Path(entry["artifact_location"].removeprefix("file://")) / "MLmodel"
    old = {"artifact_path": "rf_model", "flavors": {"sklearn": {"pickled_model": "model.pkl"}}}
    mlmodel.write_text(yaml.safe_dump(old), encoding="utf-8")
    registered = _registered(register_copy(trained_project, "rf"))
    champion = score_champion(registered, test, history, settings)

    assert champion["version"] == 1
    assert "before the raw-input predictor" in champion["cannot_serve"]
    metrics = {"rmse": entry["rmse"] * 10, "r2": 0.9}  # far worse than the old champion
    decision = decide_promotion(
        registered, metrics, champion, settings["models"]["rf"], settings, {"test_mode": False}
    )
    assert decision["outcome"] == "promoted"  # a model that serves beats one that cannot
    assert decision["champion_version"] == 1 and decision["champion_score"] is None
    assert decision["reasons"][0].startswith("the champion v1 cannot serve and is not compared")
    fingerprint = {"hash": "abc123", "rows": 10, "test_mode": False}
    model, decided = record_decision(registered, decision, metrics, fingerprint, settings)
    assert model["is_champion"] and decided["outcome"] == "promoted"
    publish_decision([*history, model, decided], registered, settings)
    assert _aliases(trained_project, "bike-traffic-rf")[CHAMPION] == 2
    client = MlflowClient(tracking_uri=tracking_uri(trained_project))
    challenged = client.get_model_version("bike-traffic-rf", "1").tags["challenged_by_v2"]
    assert challenged.endswith("vs cannot serve)")


def test_a_champion_whose_files_are_gone_stops_the_decision(trained_project):
    """Missing files are not "an old layout": promoting blindly over them would be wrong."""
    test, history, settings = _opened(trained_project)
    [entry] = [e for e in history if e["entry_type"] == "model" and e["model_type"] == "rf"]
    (Path(entry["artifact_location"].removeprefix("file://")) / "MLmodel").unlink()
    with pytest.raises(Exception, match="holds no MLmodel"):
        score_champion({"model_type": "rf"}, test, history, settings)


def test_an_unreachable_registry_is_not_taken_for_no_champion(trained_project, tmp_path):
    """With the store unreachable, the champion summary.json names is read from its storage."""
    import mlflow

    test, history, settings = _opened(trained_project)
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")  # MLflow cannot create a store below a file
    previous = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"sqlite:///{blocker / 'mlflow.db'}")
    try:
        scores = score_champion({"model_type": "rf"}, test, history, settings)
        with pytest.raises(RegistryError, match="Cannot load rf champion from the registry"):
            score_champion({"model_type": "rf"}, test, None, settings)  # and nothing to fall on
    finally:
        mlflow.set_tracking_uri(previous)
    assert scores["version"] == 1


# ---------------------------------------------------------------- record, then publish
@pytest.mark.parametrize("promoted", [True, False], ids=["promoted", "kept"])
def test_record_then_publish_moves_the_alias_and_tags(trained_project, promoted):
    test, history, settings = _opened(trained_project)
    registered = _registered(register_copy(trained_project, "rf"))
    champion = score_champion(registered, test, history, settings)
    metrics = {
        **champion,
        "rmse": champion["rmse"] * (0.5 if promoted else 1.0),
        "mae": float("nan"),
    }
    metrics.pop("version")
    decision = decide_promotion(
        registered, metrics, champion, settings["models"]["rf"], settings, {"test_mode": False}
    )
    assert decision["outcome"] == ("promoted" if promoted else "kept")
    fingerprint = {"hash": "abc123", "rows": 10, "test_mode": False}

    model, decided = record_decision(registered, decision, metrics, fingerprint, settings)

    assert model["timestamp"] == decided["timestamp"]
    assert model == {
        "timestamp": model["timestamp"],
        "entry_type": "model",
        "model_type": "rf",
        "env": "test",
        "test_mode": False,
        "run_id": registered["run_id"],
        "model_uri": registered["model_uri"],
        "artifact_location": registered["artifact_location"],
        "registered_model": "bike-traffic-rf",
        "version": 2,
        "rmse": metrics["rmse"],
        "r2": metrics["r2"],
        "metrics": {k: v for k, v in metrics.items() if k != "mae"},  # NaN left out
        "data_fingerprint": fingerprint,
        "code_version": "unknown",
        "is_champion": promoted,
    }
    assert decided == {
        "timestamp": model["timestamp"],
        "entry_type": "decision",
        "model_type": "rf",
        "env": "test",
        "test_mode": False,
        "registered_model": "bike-traffic-rf",
        "version": 2,
        **decision,
    }
    assert _aliases(trained_project, "bike-traffic-rf")[CHAMPION] == 1  # recorded, not moved
    publish_decision([*history, model, decided], registered, settings)
    assert _aliases(trained_project, "bike-traffic-rf")[CHAMPION] == (2 if promoted else 1)
    client = MlflowClient(tracking_uri=tracking_uri(trained_project))
    tags = client.get_model_version("bike-traffic-rf", "2").tags
    assert tags["decision"] == decision["outcome"] and tags["decision_metric"] == "rmse"
    assert float(tags["challenger_score"]) == pytest.approx(metrics["rmse"], rel=1e-5)
    challenged = client.get_model_version("bike-traffic-rf", "1").tags["challenged_by_v2"]
    assert challenged.startswith(decision["outcome"])


# ---------------------------------------------------------------- rescore_champions
def test_rescore_champions_appends_a_rescore_per_champion(trained_project):
    test, history, settings = _opened(trained_project)
    entries = rescore_champions(test, history, settings)
    rescored = [(e["entry_type"], e["model_type"], e["version"]) for e in entries]
    assert rescored == _rescores(history, settings)  # every challenger was decided
    # rf v1 is champion; nn v1 stayed below the floor; gbm was never trained here
    assert rescored[0] == ("rescore", "rf", 1)
    assert not {"nn", "gbm"} & {kind for _, kind, _ in rescored}
    for entry in entries:
        assert entry["env"] == "test" and entry["source"] == "registry"
        assert entry["test_rows"] == len(test)
        [model] = [
            e
            for e in history
            if e["entry_type"] == "model"
            and e["model_type"] == entry["model_type"]
            and e["version"] == entry["version"]
        ]
        if entry["model_type"] == "rf_class":
            assert entry["metrics"]["f1_score"] == pytest.approx(model["f1_score"], rel=1e-9)
        else:
            assert entry["metrics"]["rmse"] == pytest.approx(model["rmse"], rel=1e-9)


def test_rescore_champions_settles_a_pending_challenger(trained_project):
    test, history, settings = _opened(trained_project)
    version = register_copy(trained_project, "rf")["version"]
    client = MlflowClient(tracking_uri=tracking_uri(trained_project))
    client.set_registered_model_alias("bike-traffic-rf", CHALLENGER, version)  # run stopped here
    eager = {**settings, "min_improvement": -0.01}  # the same model is good enough

    entries = rescore_champions(test, history, eager)

    kinds = [(e["entry_type"], e["model_type"], e.get("version")) for e in entries]
    assert (
        kinds
        == [
            ("rescore", "rf", 1),
            ("model", "rf", version),  # recorded, so that summary.json alone names the champion
            ("decision", "rf", version),
            *_rescores(history, settings)[1:],  # the other types' champions
        ]
    )
    model, decision = entries[1], entries[2]
    assert decision["pending"] is True and decision["outcome"] == "promoted"
    assert (decision["challenger_version"], decision["champion_version"]) == (version, 1)
    assert decision["improvement"] == pytest.approx(0.0, abs=1e-12)
    [first] = [e for e in history if e["entry_type"] == "model" and e["model_type"] == "rf"]
    assert model["is_champion"] and model["run_id"] == first["run_id"]  # a copy of v1's model
    assert model["rmse"] == pytest.approx(entries[0]["metrics"]["rmse"], rel=1e-9)
    after = [*history, *entries]
    assert current_champion(after, "rf", "test")["version"] == version
    assert _aliases(trained_project, "bike-traffic-rf")[CHAMPION] == 1  # not yet published
    publish_champions(after, eager)
    assert _aliases(trained_project, "bike-traffic-rf")[CHAMPION] == version
    assert client.get_model_version("bike-traffic-rf", str(version)).tags["decision"] == "promoted"


def test_a_pending_challenger_is_kept_under_the_usual_rule(trained_project):
    test, history, settings = _opened(trained_project)
    version = register_copy(trained_project, "rf")["version"]
    client = MlflowClient(tracking_uri=tracking_uri(trained_project))
    client.set_registered_model_alias("bike-traffic-rf", CHALLENGER, version)
    entries = rescore_champions(test, history, settings)
    [decision] = [e for e in entries if e["entry_type"] == "decision"]
    assert decision["outcome"] == "kept" and decision["version"] == version
    assert current_champion([*history, *entries], "rf", "test")["version"] == 1
