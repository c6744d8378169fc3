"""models.nn: preprocessing fit apart from apply, a short training, prediction."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bike_traffic.models import nn
from tests.models.conftest import NN_FEATURES, NN_PARAMS


def test_preprocessor_is_plain_json_learnt_on_train(nn_preprocessor, small_split):
    train = small_split[0]
    assert json.loads(json.dumps(nn_preprocessor)) == nn_preprocessor
    assert nn_preprocessor["vocabulary"] == sorted(train["nom_du_compteur"].unique())
    assert nn_preprocessor["numeric"] == NN_FEATURES["numeric"]
    assert nn_preprocessor["target_scale"] == pytest.approx(train["comptage_horaire"].mean())


def test_a_constant_column_is_not_divided_by_zero(small_split):
    train = small_split[0].assign(is_holiday=False)
    preprocessor = nn.fit_preprocessor(train, NN_FEATURES)
    position = NN_FEATURES["numeric"].index("is_holiday")
    assert preprocessor["scale"][position] == 1.0
    assert np.isfinite(nn.transform(preprocessor, train)["numeric"]).all()


def test_transform_scales_and_maps_unseen_counters_to_the_oov_slot(nn_preprocessor, small_split):
    train = small_split[0]
    inputs = nn.transform(nn_preprocessor, train)
    assert inputs["counter"].shape == (len(train), 1) and inputs["counter"].min() >= 1
    assert inputs["counter"].max() == len(nn_preprocessor["vocabulary"])
    assert inputs["numeric"].dtype == np.float32
    assert np.allclose(inputs["numeric"].mean(axis=0), 0, atol=1e-3)
    unseen = nn.transform(nn_preprocessor, train.head(2).assign(nom_du_compteur="Inconnu N-S"))
    assert (unseen["counter"] == nn.OOV_INDEX).all()


def test_the_output_layer_fits_the_loss():
    mse = nn.build_model(3, 2, {**NN_PARAMS, "loss": "mse"})
    poisson = nn.build_model(3, 2, {**NN_PARAMS, "loss": "poisson"})
    assert mse.get_layer("count").get_config()["activation"] == "linear"
    assert poisson.get_layer("count").get_config()["activation"] == "softplus"
    # one embedding slot per known counter, plus the out-of-vocabulary one
    assert mse.get_layer("counter_embedding").input_dim == 4


@pytest.mark.parametrize("loss", ["mse", "poisson"])
def test_short_training_learns_and_predicts_non_negative_counts(nn_preprocessor, small_split, loss):
    train, test = small_split
    model, history = nn.fit(train, nn_preprocessor, {**NN_PARAMS, "loss": loss}, seed=3)
    assert set(history) >= {"loss", "val_loss"} and 1 <= len(history["loss"]) <= 4
    assert history["loss"][-1] < history["loss"][0]
    predicted = nn.predict(model, {"preprocessor": nn_preprocessor}, test)
    assert predicted.shape == (len(test),)
    assert np.isfinite(predicted).all() and (predicted >= 0).all()


def test_predict_on_no_rows_or_unseen_counters(nn_fitted, nn_preprocessor, small_split):
    model, _ = nn_fitted
    extras = {"preprocessor": nn_preprocessor}
    test = small_split[1]
    assert nn.predict(model, extras, test.head(0)).shape == (0,)
    unseen = nn.predict(model, extras, test.head(5).assign(nom_du_compteur="Inconnu N-S"))
    assert np.isfinite(unseen).all() and (unseen >= 0).all()


def test_a_row_gets_the_same_count_alone_or_among_others(
    nn_fitted, nn_preprocessor, small_split, monkeypatch
):
    # The app asks for a few rows, the run that judged the model for the whole test set:
    # a float32 network must not round a row differently with the size of its batch.
    model, _ = nn_fitted
    extras = {"preprocessor": nn_preprocessor}
    monkeypatch.setattr(nn, "BLOCK_ROWS", 64)
    rows = small_split[1].head(150)  # three blocks, the last one padded
    together = nn.predict(model, extras, rows)
    alone = np.concatenate([nn.predict(model, extras, rows.iloc[[i]]) for i in (0, 70, 149)])
    np.testing.assert_array_equal(alone, together[[0, 70, 149]])
    assert np.isfinite(together).all() and (together >= 0).all()


def test_training_goes_on_from_an_initial_model(nn_preprocessor, small_split):
    train = small_split[0]
    first, first_history = nn.fit(train, nn_preprocessor, {**NN_PARAMS, "epochs": 2}, seed=5)
    weights = [w.copy() for w in first.get_weights()]
    tuned, history = nn.fit(
        train,
        nn_preprocessor,
        {**NN_PARAMS, "epochs": 1, "learning_rate": 1e-4},
        seed=5,
        initial_model=first,
    )
    assert tuned is first and len(history["loss"]) == 1
    assert float(tuned.optimizer.learning_rate) == pytest.approx(1e-4)
    assert any((a != b).any() for a, b in zip(weights, tuned.get_weights(), strict=True))
    # it starts where the first training ended, not from random weights
    assert history["loss"][0] < first_history["loss"][0]
