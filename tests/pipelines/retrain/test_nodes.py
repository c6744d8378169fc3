"""retrain nodes: the challenger's rows, and fine-tuning the nn champion."""

from __future__ import annotations

import mlflow
import numpy as np
import pandas as pd
import pytest

from bike_traffic.models import nn
from bike_traffic.models.predictor import requests_from_rows
from bike_traffic.pipelines.retrain.nodes import (
    build_training_rows,
    champion_preprocessor,
    fine_tune_nn,
    load_nn_champion,
)
from bike_traffic.project import open_project
from bike_traffic.registry import CHAMPION
from bike_traffic.registry.loading import load_model
from bike_traffic.registry.operations import promote

TS = "date_et_heure_de_comptage"
KEYS = ["nom_du_compteur", TS]
NN_FEATURES = {"counter": "nom_du_compteur", "numeric": ["hour_sin", "hour_cos", "is_weekend"]}
NN_MODEL = {
    "embedding_dim": 4,
    "units": [16],
    "dropout": [0.0],
    "learning_rate": 0.001,
    "loss": "mse",
    "epochs": 2,
    "batch_size": 256,
    "patience": 2,
    "validation_fraction": 0.1,
}


def test_window_rows_in_the_test_set_are_never_trained_on(small_split):
    train, test = small_split
    window = pd.concat([train.tail(200), test.head(300)])
    rows = build_training_rows(train, window, test, {"history_days": None})
    assert len(rows) == len(train)
    assert not pd.MultiIndex.from_frame(rows[KEYS]).isin(pd.MultiIndex.from_frame(test[KEYS])).any()
    assert rows[TS].is_monotonic_increasing


def test_new_window_rows_are_added_and_win_over_history(small_split):
    train, test = small_split
    older, newer = train.iloc[: len(train) // 2], train.iloc[len(train) // 2 :]
    window = newer.assign(comptage_horaire=newer["comptage_horaire"] + 1000)
    rows = build_training_rows(older, window, test, {"history_days": None})
    assert len(rows) == len(train)
    assert (rows.merge(window[KEYS], on=KEYS)["comptage_horaire"] >= 1000).all()


def test_history_days_keeps_the_latest_part_of_train(small_split):
    train, test = small_split
    rows = build_training_rows(train, test.head(0), test, {"history_days": 3})
    assert rows[TS].max() == train[TS].max()
    assert rows[TS].min() > train[TS].max() - pd.Timedelta(days=3)
    assert 0 < len(rows) < len(train) / 3
    with pytest.raises(ValueError, match="no training row"):
        build_training_rows(train.head(0), test.head(0), test, {"history_days": None})


@pytest.fixture(scope="module")
def nn_champion(small_split):
    train, _ = small_split
    preprocessor = nn.fit_preprocessor(train, NN_FEATURES)
    model, _ = nn.fit(train, preprocessor, NN_MODEL, seed=1)
    return {"model": model, "preprocessor": preprocessor, "version": 4}


def test_fine_tuning_goes_on_from_the_champion_with_a_lower_rate(nn_champion, small_split):
    train, _ = small_split
    weights = [w.copy() for w in nn_champion["model"].get_weights()]
    # the champion's weights expect its own preprocessing, its target transform included
    preprocessor = champion_preprocessor(nn_champion, train, NN_FEATURES, "log1p")
    assert preprocessor is nn_champion["preprocessor"] and preprocessor["target"] == "none"
    model, history = fine_tune_nn(
        nn_champion, train, preprocessor, NN_MODEL, {"learning_rate": 1e-5, "epochs": 1}, seed=1
    )
    assert model is nn_champion["model"]
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-5)
    assert len(history["loss"]) == 1
    assert any((a != b).any() for a, b in zip(weights, model.get_weights(), strict=True))
    # the first epoch starts where the champion ended, not from random weights
    fresh, fresh_history = fine_tune_nn({}, train, preprocessor, NN_MODEL, {}, seed=1)
    assert fresh is not nn_champion["model"]
    assert history["loss"][0] < fresh_history["loss"][0]


def test_without_a_champion_preprocessing_is_fitted_afresh(small_split):
    train, _ = small_split
    for target in ("none", "log1p"):
        fresh = champion_preprocessor({}, train, NN_FEATURES, target)
        assert fresh == nn.fit_preprocessor(train, NN_FEATURES, target)
        assert fresh["target"] == target


def test_no_registered_champion_gives_an_empty_champion(tmp_path):
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    try:
        assert load_nn_champion([], {"env": "test"}) == {}
    finally:
        mlflow.set_tracking_uri(None)


def test_the_nn_champion_is_the_registered_predictor_s_network(trained_project):
    with open_project(trained_project, "test") as project:
        history = project.history()
        test = project.catalog.load("test_baseline")
    # conf/test's three-epoch network stays under the floor: registered, not champion
    assert load_nn_champion(history, {"env": "test"}) == {}
    history += promote("nn", 1, history, "test")
    champion = load_nn_champion(history, {"env": "test"})
    assert set(champion) == {"model", "preprocessor", "version"} and champion["version"] == 1
    registered = load_model("nn", CHAMPION, history=history, env="test").predictor
    assert champion["preprocessor"] == registered.extras["preprocessor"]
    weights = zip(champion["model"].get_weights(), registered.estimator.get_weights(), strict=True)
    assert all(np.array_equal(a, b) for a, b in weights)
    # fine-tuning starts from the network that serves: the same answers on the same rows
    rows = test.head(24)
    answer = registered.predict(requests_from_rows(rows))
    assert answer["error"].isna().all()
    tuned_from = nn.predict(champion["model"], {"preprocessor": champion["preprocessor"]}, rows)
    assert np.allclose(answer["prediction"].to_numpy(dtype="float64"), tuned_from, rtol=1e-6)
