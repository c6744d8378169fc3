"""The MLflow client calls of the registry: locations, descriptions, versions, aliases."""

from __future__ import annotations

import pytest

from bike_traffic.models.spec import UnknownModelTypeError
from bike_traffic.registry import CHALLENGER, CHAMPION, RegistryError
from bike_traffic.registry.client import (
    alias_version,
    client,
    describe_metrics,
    storage_location,
    version_or_fail,
    versions_table,
)
from tests.conftest import tracking_uri


def test_proxied_artifacts_are_recorded_where_they_really_lie():
    destination = "gs://bucket/mlflow-artifacts"
    assert (
        storage_location("mlflow-artifacts:/1/models/m-1/artifacts", destination)
        == "gs://bucket/mlflow-artifacts/1/models/m-1/artifacts"
    )
    assert (
        storage_location("mlflow-artifacts://mlflow:5000/1/r/artifacts/nn/p.json", destination)
        == "gs://bucket/mlflow-artifacts/1/r/artifacts/nn/p.json"
    )
    assert (
        storage_location("mlflow-artifacts:/1/x", "gs://bucket/mlflow-artifacts/")
        == "gs://bucket/mlflow-artifacts/1/x"
    )
    # not proxied, or the destination unknown: as MLflow gave it
    assert storage_location("gs://other/x", destination) == "gs://other/x"
    assert storage_location("file:///tmp/mlartifacts/x", destination) == "file:///tmp/mlartifacts/x"
    assert storage_location("mlflow-artifacts:/1/x", None) == "mlflow-artifacts:/1/x"
    assert storage_location("mlflow-artifacts:/1/x", "") == "mlflow-artifacts:/1/x"


def test_regressor_metrics_are_described_in_a_fixed_order():
    metrics = {"r2": 0.5, "rmse": 12.345678, "mae": 8.0, "f1_score": 0.9, "baseline_rmse": None}
    assert describe_metrics(metrics, "regressor") == (
        "Test metrics (fixed test set): rmse=12.3457, mae=8.0000, r2=0.5000"
    )


def test_classifier_metrics_are_described_without_the_regression_ones():
    metrics = {"rmse": 3.0, "f1_score": 0.81234, "accuracy": 0.9, "roc_auc": 0.95}
    assert describe_metrics(metrics, "classifier") == (
        "Test metrics (fixed test set): accuracy=0.9000, f1_score=0.8123, roc_auc=0.9500"
    )


def test_client_uses_the_given_or_the_current_tracking_uri(tmp_path, monkeypatch):
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    assert client(uri)._tracking_client.tracking_uri == uri
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    assert client()._tracking_client.tracking_uri == uri


def test_versions_and_aliases_of_the_trained_project(trained_project):
    mlflow_client = client(tracking_uri(trained_project))
    version = version_or_fail(mlflow_client, "bike-traffic-rf", 1)
    assert int(version.version) == 1 and version.tags["model_type"] == "rf"
    assert alias_version(mlflow_client, "bike-traffic-rf", CHAMPION) == 1
    assert alias_version(mlflow_client, "bike-traffic-nn", CHALLENGER) == 1
    assert alias_version(mlflow_client, "bike-traffic-nn", CHAMPION) is None  # below the floor
    assert alias_version(mlflow_client, "no-such-model", CHAMPION) is None
    with pytest.raises(RegistryError, match="bike-traffic-rf has no version 9"):
        version_or_fail(mlflow_client, "bike-traffic-rf", 9)
    with pytest.raises(RegistryError, match="no-such-model has no version 1"):
        version_or_fail(mlflow_client, "no-such-model", 1)


def test_versions_table_reads_the_registry(trained_project):
    regressor = versions_table("rf")
    assert list(regressor.columns) == [
        "version",
        "aliases",
        "rmse",
        "mae",
        "r2",
        "created",
        "run_id",
        "test_mode",
        "archived",
    ]
    [row] = regressor.to_dict("records")
    assert row["version"] == 1 and row["aliases"] == "challenger,champion"
    assert row["rmse"] > 0 and row["mae"] > 0 and row["r2"] > 0.5
    assert row["test_mode"] == "false" and row["archived"] is False
    # the classifier's metrics are logged under its summary name (rf_class.*)
    [classifier] = versions_table("bike-traffic-affluence").to_dict("records")
    assert 0 < classifier["f1_score"] <= 1 and 0 < classifier["accuracy"] <= 1
    assert "rmse" not in classifier
    # champion when above its floor (accuracy >= 0.85, conf/base), else challenger only
    floor_cleared = classifier["accuracy"] >= 0.85
    assert classifier["aliases"] == ("challenger,champion" if floor_cleared else "challenger")
    [nn] = versions_table("nn").to_dict("records")
    assert nn["aliases"] == "challenger"
    assert versions_table("gbm").empty  # a known type, not trained in this project
    with pytest.raises(UnknownModelTypeError):
        versions_table("xgboost")


def test_versions_table_of_a_type_never_registered_is_empty(tmp_path, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    assert versions_table("rf").empty
