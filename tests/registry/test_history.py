"""What summary.json says about champions: derived from its entries alone."""

from __future__ import annotations

import pytest

from bike_traffic.models.spec import UnknownModelTypeError
from bike_traffic.registry.history import (
    best_entry,
    champion_history,
    current_champion,
    previous_champion,
    recorded_versions,
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


def _event(kind: str, day: int, **kw) -> dict:
    return {
        "timestamp": f"2025-01-{day:02d}T00:00:00+00:00",
        "entry_type": kind,
        "model_type": "rf",
        "env": "local",
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
    assert current_champion([], "rf", "local") is None


def test_champion_history_lists_each_change_with_its_source():
    changes = champion_history(HISTORY, "rf", "local")
    assert changes == [
        {
            "version": 1,
            "timestamp": "2025-01-01T00:00:00+00:00",
            "entry_type": "model",
            "run_id": "run1",
            "model_uri": "models:/m-1",
        },
        {
            "version": 3,
            "timestamp": "2025-01-03T00:00:00+00:00",
            "entry_type": "model",
            "run_id": "run3",
            "model_uri": "models:/m-3",
        },
    ]
    # env None: every env's entries count, in file order
    assert [c["version"] for c in champion_history(HISTORY, "rf", None)] == [1, 3, 4]


def test_types_are_matched_by_any_of_their_names():
    classifier = [
        {**_model(1, True), "model_type": "rf_class", "f1_score": 0.8},
        {**_model(2, False), "model_type": "rf_class", "f1_score": 0.9},
    ]
    for name in ("affluence_classifier", "rf_class", "bike-traffic-affluence"):
        assert current_champion(classifier, name, "local")["version"] == 1
        assert best_entry(classifier, name, "local")["version"] == 2  # highest F1
    assert current_champion(classifier, "rf", "local") is None
    # gbm is a type of the project, with no entry here; xgboost is none of its types
    assert current_champion(HISTORY, "gbm", "local") is None
    assert current_champion(HISTORY, "bike-traffic-gbm", "local") is None
    with pytest.raises(UnknownModelTypeError, match="Unknown model type 'xgboost'"):
        current_champion(HISTORY, "xgboost", "local")


def test_rollback_and_promotion_entries_move_the_champion():
    rolled = [*HISTORY, _event("rollback", 5, from_version=3, to_version=1)]
    assert current_champion(rolled, "rf", "local")["version"] == 1
    assert previous_champion(HISTORY, "rf", "local") == 1
    assert previous_champion(rolled, "rf", "local") == 3
    promoted = [*rolled, _event("promotion", 6, from_version=1, to_version=2)]
    assert current_champion(promoted, "rf", "local")["version"] == 2
    assert previous_champion(promoted, "rf", "local") == 1
    assert [c["entry_type"] for c in champion_history(promoted, "rf", "local")] == [
        "model",
        "model",
        "rollback",
        "promotion",
    ]


def test_a_promoted_decision_does_not_count_without_its_model_entry_saying_so():
    decided = [*HISTORY, _event("decision", 5, version=2, outcome="promoted")]
    assert current_champion(decided, "rf", "local")["version"] == 3


def test_a_promotion_to_the_current_champion_is_not_a_change():
    again = [*HISTORY, _event("promotion", 5, from_version=3, to_version=3)]
    assert len(champion_history(again, "rf", "local")) == 2


def test_archiving_the_champion_leaves_the_type_without_one():
    archived = [*HISTORY, _event("archive", 5, version=3)]
    assert champion_history(archived, "rf", "local")[-1] == {
        "version": None,
        "timestamp": "2025-01-05T00:00:00+00:00",
        "entry_type": "archive",
    }
    assert current_champion(archived, "rf", "local") is None
    assert previous_champion(archived, "rf", "local") == 1  # a rollback skips the archived v3
    # archiving another version changes nothing
    other = [*HISTORY, _event("archive", 5, version=2)]
    assert current_champion(other, "rf", "local")["version"] == 3


def test_no_previous_champion_without_a_second_one():
    assert previous_champion(HISTORY[:2], "rf", "local") is None
    assert previous_champion([], "rf", "local") is None


def test_best_entry_filters_env_test_mode_and_archived():
    assert best_entry(HISTORY, "rf", "local")["version"] == 3
    assert best_entry(HISTORY, "rf", "prod")["version"] == 4
    archived = [*HISTORY, _event("archive", 5, version=3)]
    assert best_entry(archived, "rf", "local")["version"] == 2
    assert best_entry(HISTORY, "rf", "local", test_mode=True) is None
    quick = [*HISTORY, _model(5, False, rmse=1.0, test_mode=True)]
    assert best_entry(quick, "rf", "local")["version"] == 3
    assert best_entry(quick, "rf", "local", test_mode=True)["version"] == 5
    assert best_entry([], "nn", "local") is None


def test_recorded_versions_lists_every_recorded_version_newest_first():
    history = [
        {"timestamp": "1", "entry_type": "model", "model_type": "rf", "env": "local",
         "version": 1, "rmse": 10.0, "is_champion": True},
        {"timestamp": "2", "entry_type": "model", "model_type": "rf", "env": "local",
         "version": 2, "rmse": 9.0, "test_mode": True},
        {"timestamp": "3", "entry_type": "model", "model_type": "rf", "env": "prod", "version": 3},
        {"timestamp": "4", "entry_type": "archive", "model_type": "rf", "env": "local",
         "version": 2},
        {"timestamp": "5", "entry_type": "model", "model_type": "nn", "env": "local",
         "version": 1},
    ]  # fmt: skip
    table = recorded_versions(history, "rf", "local")
    assert list(table.columns) == [
        "version",
        "timestamp",
        "test_mode",
        "is_champion",
        "rmse",
        "archived",
    ]
    assert table["version"].tolist() == [2, 1]
    assert table["rmse"].tolist() == [9.0, 10.0]
    assert table["is_champion"].tolist() == [False, True]
    assert table["test_mode"].tolist() == [True, False]
    assert table["archived"].tolist() == [True, False]
    assert recorded_versions([], "nn", "local").empty


def test_recorded_versions_of_the_classifier_show_its_f1():
    history = [{**_model(1, True), "model_type": "rf_class", "f1_score": 0.8}]
    table = recorded_versions(history, "affluence_classifier", "local")
    assert table["f1_score"].tolist() == [0.8]
    assert "rmse" not in table.columns
