"""The champion/challenger rule and what summary.json says about champions."""

from __future__ import annotations

import pytest

from bike_traffic.registry import (
    RegistryError,
    best_entry,
    champion_history,
    current_champion,
    decide,
    model_type_of,
    previous_champion,
    storage_location,
)

REGRESSOR = {
    "metric": "rmse",
    "higher_is_better": False,
    "min_improvement": 0.05,
    "floor": {"metric": "r2", "min": 0.5},
}
CLASSIFIER = {
    "metric": "f1_score",
    "higher_is_better": True,
    "min_improvement": 0.05,
    "floor": {"metric": "accuracy", "min": 0.85},
}


def reg_metrics(rmse: float, r2: float = 0.8) -> dict[str, float]:
    return {"rmse": rmse, "r2": r2}


@pytest.mark.parametrize(
    ("challenger_rmse", "outcome"),
    [(94.0, "promoted"), (96.0, "kept"), (110.0, "kept"), (95.0, "promoted")],
)
def test_regressor_promoted_only_when_better_by_5_percent(challenger_rmse, outcome):
    decision = decide(reg_metrics(challenger_rmse), reg_metrics(100.0), REGRESSOR, False)
    assert decision["outcome"] == outcome
    assert decision["improvement"] == pytest.approx((100 - challenger_rmse) / 100)
    assert decision["champion_score"] == 100.0 and decision["min_improvement"] == 0.05


@pytest.mark.parametrize(("f1", "outcome"), [(0.848, "promoted"), (0.832, "kept"), (0.7, "kept")])
def test_classifier_higher_f1_is_better(f1, outcome):
    champion = {"f1_score": 0.8, "accuracy": 0.9}
    assert (
        decide({"f1_score": f1, "accuracy": 0.9}, champion, CLASSIFIER, False)["outcome"] == outcome
    )


def test_test_mode_is_never_promoted_even_when_much_better():
    decision = decide(reg_metrics(10.0), reg_metrics(100.0), REGRESSOR, test_mode=True)
    assert decision["outcome"] == "kept"
    assert any("test-mode" in r for r in decision["reasons"])


def test_first_model_becomes_champion_only_above_the_floor():
    assert decide(reg_metrics(50.0, r2=0.7), None, REGRESSOR, False)["outcome"] == "promoted"
    below = decide(reg_metrics(50.0, r2=0.3), None, REGRESSOR, False)
    assert below["outcome"] == "kept" and "floor" in below["reasons"][0]
    assert decide({"f1_score": 0.9, "accuracy": 0.84}, None, CLASSIFIER, False)["outcome"] == "kept"


def test_better_challenger_below_the_floor_is_kept():
    assert (
        decide(reg_metrics(50.0, r2=0.4), reg_metrics(100.0, 0.3), REGRESSOR, False)["outcome"]
        == "kept"
    )


def _model(version: int, champion: bool, rmse: float = 50.0, env: str = "local", **kw) -> dict:
    return {
        "timestamp": f"2025-01-0{version}T00:00:00+00:00",
        "entry_type": "model",
        "model_type": "rf",
        "env": env,
        "version": version,
        "is_champion": champion,
        "rmse": rmse,
        "run_id": f"run{version}",
        "model_uri": f"models:/m-{version}",
        "test_mode": False,
        **kw,
    }


HISTORY = [
    _model(1, True, rmse=60),
    _model(2, False, rmse=58),
    _model(3, True, rmse=40),
    {
        "timestamp": "2025-01-04T00:00:00+00:00",
        "entry_type": "model",
        "model_type": "nn",
        "env": "local",
        "version": 1,
        "is_champion": True,
        "rmse": 1.0,
    },
    _model(4, True, rmse=30, env="prod"),
]


def test_champion_is_derived_from_the_history_per_type_and_env():
    assert current_champion(HISTORY, "rf", "local")["version"] == 3
    assert current_champion(HISTORY, "rf", "prod")["version"] == 4
    assert current_champion(HISTORY, "nn", "local")["version"] == 1
    assert current_champion(HISTORY, "affluence_classifier", "local") is None
    assert [c["version"] for c in champion_history(HISTORY, "rf", "local")] == [1, 3]


def test_rollback_and_promotion_entries_move_the_champion():
    rolled = [
        *HISTORY,
        {
            "timestamp": "2025-01-05T00:00:00+00:00",
            "entry_type": "rollback",
            "model_type": "rf",
            "env": "local",
            "from_version": 3,
            "to_version": 1,
        },
    ]
    assert current_champion(rolled, "rf", "local")["version"] == 1
    assert previous_champion(HISTORY, "rf", "local") == 1
    promoted = [
        *rolled,
        {
            "timestamp": "2025-01-06T00:00:00+00:00",
            "entry_type": "promotion",
            "model_type": "rf",
            "env": "local",
            "from_version": 1,
            "to_version": 2,
        },
    ]
    assert current_champion(promoted, "rf", "local")["version"] == 2
    assert previous_champion(promoted, "rf", "local") == 1


def test_best_entry_filters_env_test_mode_and_archived():
    assert best_entry(HISTORY, "rf", "local")["version"] == 3
    archived = [
        *HISTORY,
        {
            "timestamp": "t",
            "entry_type": "archive",
            "model_type": "rf",
            "env": "local",
            "version": 3,
        },
    ]
    assert best_entry(archived, "rf", "local")["version"] == 2
    assert best_entry(HISTORY, "rf", "local", test_mode=True) is None


def test_model_types_by_any_name_and_unknown_names_are_refused():
    assert model_type_of("rf_class") == "affluence_classifier"
    assert model_type_of("bike-traffic-nn") == "nn"
    with pytest.raises(RegistryError, match="Unknown model type 'gbm'"):
        model_type_of("gbm")


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
    # not proxied, or the destination unknown: as MLflow gave it
    assert storage_location("gs://other/x", destination) == "gs://other/x"
    assert storage_location("mlflow-artifacts:/1/x", None) == "mlflow-artifacts:/1/x"
