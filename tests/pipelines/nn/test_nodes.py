"""nn nodes: preprocessing fit apart from apply, a short training, prediction."""

from __future__ import annotations

import numpy as np
import pytest

from bike_traffic.pipelines.nn import nodes as nn_nodes
from bike_traffic.pipelines.nn.nodes import (
    OOV_INDEX,
    evaluate_model,
    fit_preprocessor,
    predict,
    train_model,
    transform,
)

FEATURES = {
    "counter": "nom_du_compteur",
    "numeric": [
        "hour_sin",
        "hour_cos",
        "day_of_week_sin",
        "day_of_week_cos",
        "is_weekend",
        "is_holiday",
        "latitude",
        "longitude",
    ],
}
PARAMS = {
    "embedding_dim": 4,
    "units": [128, 64, 32],
    "dropout": [0.3, 0.2],
    "learning_rate": 0.003,
    "loss": "mse",
    "epochs": 4,
    "batch_size": 128,
    "patience": 2,
    "validation_fraction": 0.1,
}


@pytest.fixture(scope="module")
def preprocessor(small_split):
    return fit_preprocessor(small_split[0], FEATURES)


def test_preprocessor_is_plain_json_learnt_on_train(preprocessor, small_split):
    import json

    assert json.loads(json.dumps(preprocessor)) == preprocessor
    assert preprocessor["vocabulary"] == sorted(small_split[0]["nom_du_compteur"].unique())
    assert preprocessor["target_scale"] == pytest.approx(small_split[0]["comptage_horaire"].mean())


def test_transform_scales_and_maps_unseen_counters_to_the_oov_slot(preprocessor, small_split):
    train = small_split[0]
    inputs = transform(preprocessor, train)
    assert inputs["counter"].shape == (len(train), 1) and inputs["counter"].min() >= 1
    assert np.allclose(inputs["numeric"].mean(axis=0), 0, atol=1e-3)
    unseen = transform(preprocessor, train.head(2).assign(nom_du_compteur="Inconnu N-S"))
    assert (unseen["counter"] == OOV_INDEX).all()


@pytest.mark.parametrize("loss", ["mse", "poisson"])
def test_short_training_learns_and_predicts_non_negative_counts(
    preprocessor, small_split, loss, monkeypatch
):
    train, test = small_split
    model, history = train_model(train, preprocessor, {**PARAMS, "loss": loss}, seed=3)
    assert set(history) >= {"loss", "val_loss"} and 1 <= len(history["loss"]) <= 4
    assert history["loss"][-1] < history["loss"][0]
    metrics, predictions = evaluate_model(model, preprocessor, train, test)
    assert (predictions["predicted"] >= 0).all()
    assert np.isfinite(metrics["rmse"])
    assert predict(model, preprocessor, test.head(0)).shape == (0,)
    # The app's few rows take a direct forward pass; batches go through model.predict:
    # both paths give the same numbers.
    rows = test.head(48)
    direct = predict(model, preprocessor, rows)
    monkeypatch.setattr(nn_nodes, "DIRECT_CALL_ROWS", 0)
    assert np.allclose(direct, predict(model, preprocessor, rows), rtol=1e-4, atol=1e-3)
