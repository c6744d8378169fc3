"""Loading a model type's predictor: registry first, summary.json when it cannot be reached."""

from __future__ import annotations

import functools
import logging
import operator
from pathlib import Path
from typing import ClassVar

import pandas as pd
import pytest
import yaml

from bike_traffic.models.evaluation import without_outages
from bike_traffic.models.persistence import UntrustedModelError
from bike_traffic.models.predictor import PredictorFormatError
from bike_traffic.project import open_project
from bike_traffic.registry import NoChampionError, RegistryError
from bike_traffic.registry.client import client
from bike_traffic.registry.history import current_champion
from bike_traffic.registry.loading import LoadedModel, load_model
from bike_traffic.registry.operations import promote
from tests.conftest import tracking_uri
from tests.registry.copies import register_copy


def _requests(test: pd.DataFrame) -> pd.DataFrame:
    """One request per counter of the test rows, as a user writes it."""
    rows = test.drop_duplicates("nom_du_compteur")
    return pd.DataFrame(
        {
            "counter": rows["nom_du_compteur"].astype(str).to_numpy(),
            "timestamp": [t.isoformat() for t in rows["date_et_heure_de_comptage"]],
        }
    )


def _opened(root: Path) -> tuple[pd.DataFrame, list[dict]]:
    """The test rows and the summary.json history of a trained project."""
    with open_project(root, "test") as project:
        return project.catalog.load("test_baseline"), project.history()


def _artifacts(history: list[dict], model_type: str) -> Path:
    """The folder of the logged model of a type's v1, as summary.json records it."""
    [entry] = [
        e
        for e in history
        if e["entry_type"] == "model" and e["model_type"] == model_type and e["version"] == 1
    ]
    folder = Path(entry["artifact_location"].removeprefix("file://"))
    assert (folder / "MLmodel").is_file()
    return folder


def test_the_champion_loads_from_the_registry_and_is_the_trained_model(trained_project):
    with open_project(trained_project, "test") as project:
        test = project.catalog.load("test_baseline")
        history = project.history()
        model = project.load_model("rf")
    entry = current_champion(history, "rf", "test")
    assert isinstance(model, LoadedModel)
    assert (model.version, model.source) == (1, "registry")
    assert (model.model_uri, model.run_id) == (entry["model_uri"], entry["run_id"])
    assert (model.model_type, model.kind) == ("rf", "regressor")
    answers = model.predict(_requests(test))
    assert answers["error"].isna().all()
    assert all(value >= 0 for value in answers["prediction"])
    # re-scored on the same rows (outage hours left out), it is the model the run judged
    judged = without_outages(test, {"exclude_outages": True})
    assert model.score(judged)["rmse"] == pytest.approx(entry["rmse"], rel=1e-9)


def test_a_version_loads_by_its_number(trained_project):
    test, history = _opened(trained_project)
    nn = load_model("nn", 1, history=history, env="test")
    assert (nn.version, nn.source, nn.kind) == (1, "registry", "regressor")
    assert load_model("nn", "1", history=history, env="test").version == 1
    classifier = load_model("bike-traffic-affluence", 1)
    assert (classifier.model_type, classifier.kind) == ("affluence_classifier", "classifier")
    answers = classifier.predict(_requests(test))
    assert set(answers["label"]) <= {"high", "low"}
    assert all(0 <= p <= 1 for p in answers["probability"])


def test_best_is_the_version_summary_json_ranks_first(trained_project):
    _, history = _opened(trained_project)
    assert load_model("rf", "best", history=history, env="test").version == 1
    better = {**register_copy(trained_project, "rf"), "rmse": 1.0}
    version = better["version"]
    best = load_model("rf", "best", history=[*history, better], env="test")
    assert (best.version, best.source) == (version, "registry")
    assert load_model("rf", history=[*history, better], env="test").version == 1  # champion


def test_unknown_selectors_and_missing_models_are_registry_errors(trained_project):
    _, history = _opened(trained_project)
    with pytest.raises(RegistryError, match="No model entry of type 'rf'"):
        load_model("rf", "best", history=[], env="test")
    with pytest.raises(RegistryError, match="Unknown selector 'latest'"):
        load_model("rf", "latest", history=history, env="test")
    # nn v1 stays below its floor in conf/test: the registry answers it has no champion
    with pytest.raises(NoChampionError, match="bike-traffic-nn has no champion.*promote nn"):
        load_model("nn", history=history, env="test")
    with pytest.raises(NoChampionError):
        load_model("nn")  # the registry's answer needs no summary.json
    with pytest.raises(RegistryError, match="no summary.json history"):
        load_model("nn", use_registry=False)


def test_summary_json_wins_over_an_alias_that_disagrees(trained_project):
    """summary.json is the authority: the champion it names is served, whatever the alias."""
    _, history = _opened(trained_project)
    registry = client(tracking_uri(trained_project))
    assert current_champion(history, "nn", "test") is None  # nn v1 stayed below the floor
    registry.set_registered_model_alias("bike-traffic-nn", "champion", 1)  # a stray alias
    with pytest.raises(NoChampionError, match="summary.json names none"):
        load_model("nn", history=history, env="test")
    registry.delete_registered_model_alias("bike-traffic-nn", "champion")
    history += promote("nn", 1, history, "test")  # recorded; MLflow not yet told
    loaded = load_model("nn", history=history, env="test")
    assert (loaded.version, loaded.source) == (1, "registry")


def test_without_the_registry_summary_json_gives_the_same_model(trained_project, caplog):
    test, history = _opened(trained_project)
    requests = _requests(test)
    registry = load_model("rf", history=history, env="test")
    with caplog.at_level(logging.WARNING, logger="bike_traffic.registry.loading"):
        fallback = load_model("rf", history=history, env="test", use_registry=False)
    assert (fallback.version, fallback.source) == (1, "summary.json")
    assert fallback.model_uri == current_champion(history, "rf", "test")["artifact_location"]
    assert fallback.run_id == registry.run_id
    assert "Registry unavailable" in caplog.text
    pd.testing.assert_frame_equal(fallback.predict(requests), registry.predict(requests))
    by_version = load_model("nn", 1, history=history, env="test", use_registry=False)
    assert (by_version.version, by_version.source) == (1, "summary.json")
    with pytest.raises(RegistryError, match="No version 7 of nn in summary.json"):
        load_model("nn", 7, history=history, env="test", use_registry=False)


def test_an_unreachable_sqlite_store_falls_back_to_summary_json(trained_project, tmp_path):
    test, history = _opened(trained_project)
    requests = _requests(test)
    if current_champion(history, "affluence_classifier", "test") is None:
        # under its floor on the small data: made champion by hand, as an operator would
        history += promote("affluence_classifier", 1, history, "test")
    registry = load_model("affluence_classifier", history=history, env="test")
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")  # MLflow cannot create a store below a file
    down = f"sqlite:///{blocker / 'mlflow.db'}"
    fallback = load_model("affluence_classifier", history=history, env="test", tracking_uri=down)
    assert (fallback.version, fallback.source) == (1, "summary.json")
    pd.testing.assert_frame_equal(fallback.predict(requests), registry.predict(requests))


def test_a_project_whose_store_is_unreachable_serves_from_summary_json(
    trained_project, tmp_path, monkeypatch
):
    test, history = _opened(trained_project)
    expected = load_model("rf", history=history, env="test").predict(_requests(test))
    missing = tmp_path / "missing"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{missing / 'mlflow.db'}")
    with open_project(trained_project, "test") as project:
        assert project.registry_error is not None and "does not exist" in project.registry_error
        model = project.load_model("rf")
    assert (model.version, model.source) == (1, "summary.json")
    pd.testing.assert_frame_equal(model.predict(_requests(test)), expected)
    assert not missing.exists()  # no store was made there


class Tripwire:
    """Records that code from a stored file ran: it must never happen."""

    fired: ClassVar[list[str]] = []

    def __init__(self) -> None:
        self.armed = True  # a state, so that loading it would call __setstate__

    def __setstate__(self, state: dict) -> None:
        Tripwire.fired.append("__setstate__")
        self.__dict__.update(state)


@pytest.mark.parametrize("use_registry", [True, False], ids=["registry", "summary.json"])
@pytest.mark.parametrize(
    ("payload", "untrusted"),
    [
        # functools.partial is trusted (HistGradientBoosting keeps one), what it wraps is not
        (functools.partial(print, "tampered"), "builtins.print"),
        (operator.methodcaller("system", "echo tampered"), "operator.methodcaller"),
        (Tripwire(), "Tripwire"),
    ],
    ids=["partial-print", "methodcaller", "custom-class"],
)
def test_a_tampered_estimator_is_refused_and_never_runs(
    trained_project, capsys, use_registry, payload, untrusted
):
    import skops.io as sio

    _, history = _opened(trained_project)
    folder = _artifacts(history, "rf")
    mlmodel = yaml.safe_load((folder / "MLmodel").read_text(encoding="utf-8"))
    estimator = folder / mlmodel["flavors"]["python_function"]["data"] / "estimator.skops"
    assert estimator.is_file()
    sio.dump(payload, estimator)
    Tripwire.fired.clear()
    capsys.readouterr()
    with pytest.raises(UntrustedModelError, match=untrusted):
        load_model("rf", history=history, env="test", use_registry=use_registry)
    assert Tripwire.fired == []
    assert "tampered" not in capsys.readouterr().out


def test_a_model_of_the_old_format_is_refused_with_the_retrain_hint(trained_project):
    _, history = _opened(trained_project)
    mlmodel = _artifacts(history, "rf") / "MLmodel"
    mlmodel.write_text(
        yaml.safe_dump(
            {
                "artifact_path": "rf_model",
                "flavors": {
                    "sklearn": {"pickled_model": "model.pkl", "serialization_format": "cloudpickle"}
                },
            }
        ),
        encoding="utf-8",
    )
    with pytest.raises(PredictorFormatError) as raised:
        load_model("rf", history=history, env="test")
    message = str(raised.value)
    assert "bike-traffic-rf v1" in message
    assert "before the raw-input predictor (sklearn flavour" in message
    assert "kedro run --pipelines rf" in message and "kedro models promote rf" in message
