"""`kedro run --pipelines retrain`: challengers judged by the registry's rule, recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from mlflow import MlflowClient

from bike_traffic.pipelines.retrain.pipeline import create_pipeline
from tests.test_session import run

#: The floor is not what these tests are about: every model here clears it.
LOW_FLOOR = {"registry": {"models": {"rf": {"floor": {"min": -10.0}}}}}
WEAK_RF = {"rf": {"model": {"n_estimators": 1, "max_depth": 1}}}


def retrain(project: Path, model_type: str, params: dict | None = None) -> None:
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env="test", runtime_params=params) as session:
        session.run(pipeline_names=["retrain"], namespaces=[f"retrain_{model_type}"])


def summary(project: Path) -> list[dict]:
    return json.loads((project / "data/06_models/summary.json").read_text())


def test_one_namespace_per_model_type_each_ending_with_the_registry_template():
    pipeline = create_pipeline()
    namespaces = {n.namespace for n in pipeline.nodes}
    assert namespaces == {"retrain_rf", "retrain_nn", "retrain_affluence_classifier"}
    for namespace in namespaces:
        outputs = pipeline.only_nodes_with_namespaces([namespace]).all_outputs()
        assert {f"{namespace}.mlflow_model", f"{namespace}.summary_entries"} <= outputs
    assert {"clean_counts", "train_baseline", "test_baseline", "summary_history"} == {
        i for i in pipeline.inputs() if not i.startswith("params:")
    }
    assert "params:registry.models.nn" in pipeline.inputs()
    assert "params:retrain.nn" in pipeline.inputs()


@pytest.mark.slow
def test_a_clearly_better_challenger_is_promoted_and_a_worse_one_kept(project_copy):
    run(project_copy, "synthetic_raw")
    run(project_copy, "data_cleaning")
    run(project_copy, "rf", params={**WEAK_RF, **LOW_FLOOR})  # a poor champion, v1

    retrain(project_copy, "rf", params=LOW_FLOOR)  # the test env's forest: v2
    retrain(project_copy, "rf", params={**WEAK_RF, **LOW_FLOOR})  # poor again: v3

    entries = [e for e in summary(project_copy) if e.get("model_type") == "rf"]
    decisions = [e for e in entries if e["entry_type"] == "decision"]
    assert [(d["version"], d["outcome"]) for d in decisions] == [
        (1, "promoted"),
        (2, "promoted"),
        (3, "kept"),
    ]
    assert decisions[1]["champion_version"] == 1 and decisions[1]["improvement"] > 0.05
    assert decisions[2]["champion_version"] == 2 and decisions[2]["improvement"] < 0
    models = [e for e in entries if e["entry_type"] == "model"]
    assert [m["is_champion"] for m in models] == [True, True, False]
    assert models[1]["data_fingerprint"]["rows_train"] > 0

    client = MlflowClient(tracking_uri=f"sqlite:///{project_copy / 'mlflow.db'}")
    champion = client.get_model_version_by_alias("bike-traffic-rf", "champion")
    assert int(champion.version) == 2
    challenger = client.get_model_version_by_alias("bike-traffic-rf", "challenger")
    assert int(challenger.version) == 3 and challenger.tags["decision"] == "kept"
    run_metrics = client.get_run(models[1]["run_id"]).data.metrics
    assert run_metrics["rf.rmse"] == pytest.approx(models[1]["rmse"])
