"""Promote, roll back, archive: entries recorded first, then MLflow's aliases follow."""

from __future__ import annotations

from datetime import datetime

import pytest
from mlflow import MlflowClient

from bike_traffic.models.spec import UnknownModelTypeError
from bike_traffic.project import open_project
from bike_traffic.registry import CHALLENGER, CHAMPION, RegistryError
from bike_traffic.registry.history import current_champion, previous_champion
from bike_traffic.registry.loading import load_model
from bike_traffic.registry.operations import archive, promote, publish, rollback
from tests.conftest import tracking_uri
from tests.registry.copies import register_copy

RF = "bike-traffic-rf"
RF_FLOOR = {"metric": "r2", "min": 0.5}


def _history(root) -> list[dict]:
    with open_project(root, "test") as project:
        return project.history()


def _aliases(root, name: str = RF) -> dict[str, int]:
    registered = MlflowClient(tracking_uri=tracking_uri(root)).get_registered_model(name)
    return {alias: int(version) for alias, version in registered.aliases.items()}


def _stamped(entry: dict) -> dict:
    """The entry without its timestamp, after checking that it is an ISO 8601 UTC time."""
    assert datetime.fromisoformat(entry["timestamp"]).utcoffset().total_seconds() == 0
    return {k: v for k, v in entry.items() if k != "timestamp"}


def test_promote_records_first_and_publish_moves_the_alias(trained_project):
    second = register_copy(trained_project, "rf")
    history, version = [*_history(trained_project), second], second["version"]
    entries = promote("rf", version, history, "test", reason="better on real data")
    assert [_stamped(e) for e in entries] == [
        {
            "entry_type": "promotion",
            "model_type": "rf",
            "env": "test",
            "registered_model": RF,
            "from_version": 1,
            "to_version": version,
            "reason": "better on real data",
            "forced": False,
        }
    ]
    assert _aliases(trained_project)[CHAMPION] == 1  # nothing moves before it is recorded
    after = [*history, *entries]
    assert current_champion(after, "rf", "test")["version"] == version
    # the champion summary.json names is served, even before MLflow follows
    assert load_model("rf", history=after, env="test").version == version

    fixes = publish("rf", after, entries, "test")

    assert fixes == [f"{RF}: alias 'champion' moved from v1 to v{version} (summary.json)"]
    assert _aliases(trained_project)[CHAMPION] == version
    client = MlflowClient(tracking_uri=tracking_uri(trained_project))
    assert client.get_model_version(RF, str(version)).tags["promoted"] == "better on real data"
    assert publish("rf", after, entries, "test") == []  # idempotent


def test_quick_test_mode_and_below_floor_versions_need_force(trained_project):
    second = register_copy(trained_project, "rf")
    client = MlflowClient(tracking_uri=tracking_uri(trained_project))
    version = second["version"]
    client.set_model_version_tag(RF, str(version), "test_mode", "true")
    history = [*_history(trained_project), second]
    with pytest.raises(RegistryError, match="quick test mode.*--force"):
        promote("rf", version, history, "test", floor=RF_FLOOR)
    client.set_model_version_tag(RF, str(version), "test_mode", "false")
    weak = [*_history(trained_project), {**second, "r2": 0.2}]
    with pytest.raises(RegistryError, match="its r2 0.2000 is below the floor 0.5.*--force"):
        promote("rf", version, weak, "test", floor=RF_FLOOR)
    [entry] = promote("rf", version, weak, "test", floor=RF_FLOOR, force=True)
    assert entry["forced"] is True and entry["to_version"] == version


def test_an_unrecorded_version_cannot_be_promoted(trained_project):
    version = register_copy(trained_project, "rf")["version"]  # never appended: an orphan
    with pytest.raises(RegistryError, match=f"summary.json records no {RF} v{version}"):
        promote("rf", version, _history(trained_project), "test", force=True)


def test_rollback_gives_the_champion_back_to_the_previous_one(trained_project):
    second = register_copy(trained_project, "rf")
    history, version = [*_history(trained_project), second], second["version"]
    history += promote("rf", version, history, "test")
    assert previous_champion(history, "rf", "test") == 1
    entries = rollback("rf", history, "test")
    assert [_stamped(e) for e in entries] == [
        {
            "entry_type": "rollback",
            "model_type": "rf",
            "env": "test",
            "registered_model": RF,
            "from_version": version,
            "to_version": 1,
        }
    ]
    after = [*history, *entries]
    assert current_champion(after, "rf", "test")["version"] == 1
    publish("rf", after, entries, "test")
    assert _aliases(trained_project)[CHAMPION] == 1
    client = MlflowClient(tracking_uri=tracking_uri(trained_project))
    assert client.get_model_version(RF, "1").tags["rolled_back_from"] == str(version)


def test_rollback_skips_archived_champions(trained_project):
    second, third = register_copy(trained_project, "rf"), register_copy(trained_project, "rf")
    history = [*_history(trained_project), second, third]
    history += promote("rf", second["version"], history, "test")
    history += promote("rf", third["version"], history, "test")
    history += archive("rf", second["version"], history, "test")
    [entry] = rollback("rf", history, "test")
    assert (entry["from_version"], entry["to_version"]) == (third["version"], 1)


def test_rollback_without_a_previous_champion_is_refused(trained_project):
    history = _history(trained_project)
    before = _aliases(trained_project)
    with pytest.raises(RegistryError, match="no previous champion of rf \\(env test\\)"):
        rollback("rf", history, "test")
    with pytest.raises(RegistryError, match="no previous champion of affluence_classifier"):
        rollback("affluence_classifier", history, "test")
    with pytest.raises(RegistryError, match="no previous champion"):
        rollback("rf", history, "prod")  # another env's history is not this one's
    assert _aliases(trained_project) == before


def test_archive_records_then_drops_the_aliases_and_tags_the_version(trained_project):
    history = _history(trained_project)
    entries = archive("rf", 1, history, "test")
    [entry] = [_stamped(e) for e in entries]
    assert entry == {
        "entry_type": "archive",
        "model_type": "rf",
        "env": "test",
        "registered_model": RF,
        "version": 1,
        "aliases_removed": [CHALLENGER, CHAMPION],
        "was_champion": True,
    }
    assert _aliases(trained_project) == {CHALLENGER: 1, CHAMPION: 1}  # not yet published
    after = [*history, *entries]
    assert current_champion(after, "rf", "test") is None
    with pytest.raises(RegistryError, match="bike-traffic-rf has no champion"):
        load_model("rf", history=after, env="test")
    publish("rf", after, entries, "test")
    assert _aliases(trained_project) == {}
    client = MlflowClient(tracking_uri=tracking_uri(trained_project))
    assert client.get_model_version(RF, "1").tags["archived"] == "true"


def test_an_archived_version_cannot_be_promoted(trained_project):
    second = register_copy(trained_project, "rf")
    history, version = [*_history(trained_project), second], second["version"]
    history += archive("rf", version, history, "test")
    with pytest.raises(RegistryError, match=f"bike-traffic-rf v{version} is archived"):
        promote("rf", version, history, "test")
    assert _aliases(trained_project)[CHAMPION] == 1


def test_unknown_versions_and_types_are_refused(trained_project):
    history = _history(trained_project)
    with pytest.raises(RegistryError, match="bike-traffic-rf has no version 9"):
        promote("rf", 9, history, "test")
    with pytest.raises(RegistryError, match="bike-traffic-nn has no version 4"):
        archive("nn", 4, history, "test")
    with pytest.raises(RegistryError, match="bike-traffic-gbm has no version 1"):
        promote("gbm", 1, history, "test")  # a known type, never registered here
    with pytest.raises(UnknownModelTypeError, match="Unknown model type 'xgboost'"):
        promote("xgboost", 1, history, "test")
    assert _aliases(trained_project) == {CHALLENGER: 1, CHAMPION: 1}
