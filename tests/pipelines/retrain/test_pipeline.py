"""`kedro run --pipelines retrain`: challengers judged by the registry's rule, recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from mlflow import MlflowClient

from bike_traffic.pipeline_registry import MODEL_RUNS
from bike_traffic.pipelines.registry.pipeline import registration
from bike_traffic.pipelines.retrain.pipeline import MODEL_TYPES, create_pipeline
from tests.conftest import run, tracking_uri

#: The floor is not what these tests are about: every model here clears it.
LOW_FLOOR = {"registry": {"models": {"rf": {"floor": {"min": -10.0}}}}}
WEAK_RF = {"rf": {"model": {"n_estimators": 1, "max_depth": 1}}}


def retrain(project: Path, model_type: str, params: dict | None = None) -> None:
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env="test", runtime_params=params) as session:
        session.run(pipeline_names=["retrain"], namespaces=[f"retrain_{model_type}"])


def summary(project: Path) -> list[dict]:
    return json.loads((project / "data/06_models/summary.json").read_text())


def test_one_namespace_per_model_type_each_followed_by_its_registration():
    pipeline = create_pipeline()
    namespaces = {n.namespace for n in pipeline.nodes}
    assert namespaces == {f"retrain_{t}" for t in MODEL_TYPES}
    assert MODEL_TYPES == ("rf", "nn", "gbm", "affluence_classifier")
    assert set(MODEL_RUNS["retrain"]) == namespaces
    # the run itself knows nothing of the registry; pipeline_registry composes it after
    composed = sum(
        (registration(ns, model_type) for ns, model_type in MODEL_RUNS["retrain"].items()),
        pipeline,
    )
    for namespace in namespaces:
        own = pipeline.only_nodes_with_namespaces([namespace]).all_outputs()
        assert f"{namespace}.mlflow_model" in own
        assert f"{namespace}.summary_entries" not in own
        registered = composed.only_nodes_with_namespaces([namespace]).all_outputs()
        assert f"{namespace}.summary_entries" in registered
    assert {
        "clean_counts",
        "train_baseline",
        "test_baseline",
        "feature_context",
        "summary_history",
    } == {i for i in composed.inputs() if not i.startswith("params:")}
    assert "params:registry.models.nn" in composed.inputs()
    assert "params:registry.models.nn" not in pipeline.inputs()
    assert "params:retrain.nn" in pipeline.inputs()


def test_each_regressor_is_retrained_with_its_own_target_transform():
    pipeline = create_pipeline()
    for model_type in ("rf", "nn", "gbm"):
        uses = pipeline.only_nodes_with_namespaces([f"retrain_{model_type}"]).inputs()
        assert f"params:{model_type}.target" in uses, model_type
    classifier = pipeline.only_nodes_with_namespaces(["retrain_affluence_classifier"])
    assert not any(i.endswith(".target") for i in classifier.inputs())
    assert "params:affluence_classifier.label" in classifier.inputs()
    # gbm's challenger is fitted by the gbm pipeline's own nodes, on gbm's parameters
    gbm = pipeline.only_nodes_with_namespaces(["retrain_gbm"])
    assert {"params:gbm.features", "params:gbm.model"} <= gbm.inputs()
    assert "retrain_gbm.mlflow_model" in gbm.all_outputs()


@pytest.mark.slow
def test_a_clearly_better_challenger_is_promoted_and_a_worse_one_kept(cleaned_project):
    project_copy = cleaned_project
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

    client = MlflowClient(tracking_uri=tracking_uri(project_copy))
    champion = client.get_model_version_by_alias("bike-traffic-rf", "champion")
    assert int(champion.version) == 2
    challenger = client.get_model_version_by_alias("bike-traffic-rf", "challenger")
    assert int(challenger.version) == 3 and challenger.tags["decision"] == "kept"
    run_metrics = client.get_run(models[1]["run_id"]).data.metrics
    assert run_metrics["rf.rmse"] == pytest.approx(models[1]["rmse"])
