"""models.profile: the naive table as a feature (trees) and an offset (network)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bike_traffic.models import gbm, nn, profile, rf
from bike_traffic.models.evaluation import fit_naive_baseline, naive_predictions
from bike_traffic.models.persistence import load_sklearn, save_sklearn
from tests.models.conftest import RF_FEATURES, RF_MODEL

TARGET = "comptage_horaire"
WITH_PROFILE = {**RF_FEATURES, "profile": True}


def _rows(counters, hours, weekends):
    return pd.DataFrame({"nom_du_compteur": counters, "hour": hours, "is_weekend": weekends})


def test_the_table_is_the_mean_per_key_then_per_counter_then_overall():
    train = _rows(["A", "A", "A", "B"], [8, 8, 9, 8], [False, False, False, True])
    table = profile.fit_table(train, [10.0, 20.0, 40.0, 100.0])
    asked = _rows(["A", "A", "B", "C"], [8, 17, 8, 8], [0, 0, 1, 0])
    # A|8|0 seen; A|17|0 unseen: A's mean; B|8|1 seen; C unseen: the overall mean
    np.testing.assert_allclose(profile.lookup(table, asked), [15.0, 70 / 3, 100.0, 42.5])


def test_the_table_is_the_naive_baseline_the_models_are_judged_against(small_split):
    train, test = small_split
    table = profile.fit_table(train, train[TARGET].to_numpy())
    judged = naive_predictions(train, test)
    np.testing.assert_allclose(profile.lookup(table, test), judged, atol=1e-5)
    # and the table the app shows holds the same means
    shown = fit_naive_baseline(train).set_index(list(profile.KEYS))["baseline"]
    keys = pd.MultiIndex.from_frame(test[list(profile.KEYS)])
    np.testing.assert_allclose(shown.reindex(keys).to_numpy(), judged, rtol=1e-12)


def test_the_network_offset_is_the_same_table(small_split):
    train, test = small_split
    features = {"counter": "nom_du_compteur", "numeric": ["hour"], "offset": "naive"}
    preprocessor = nn.fit_preprocessor(train, features)
    np.testing.assert_array_equal(
        nn.naive_offset(preprocessor, test),
        profile.lookup(profile.fit_table(train, train[TARGET].to_numpy()), test),
    )


@pytest.mark.parametrize("family", [rf, gbm], ids=["rf", "gbm"])
def test_a_tree_model_with_the_profile_stores_loads_and_predicts_the_same(
    family, small_split, tmp_path
):
    train, test = small_split
    model = RF_MODEL if family is rf else {"max_iter": 20, "random_state": 0}
    estimator = family.fit(train, WITH_PROFILE, model)
    names = list(estimator.named_steps["preprocess"].get_feature_names_out())
    assert names[-1] == profile.COLUMN
    save_sklearn(estimator, tmp_path / "estimator.skops")  # the allow-list takes it
    loaded = load_sklearn(tmp_path / "estimator.skops")
    np.testing.assert_array_equal(
        family.predict(loaded, {}, test), family.predict(estimator, {}, test)
    )
    # the profile column is the naive table learnt on train
    encoded = estimator.named_steps["preprocess"].transform(test[rf.feature_columns(WITH_PROFILE)])
    expected = profile.lookup(profile.fit_table(train, train[TARGET]), test)
    np.testing.assert_allclose(encoded[:, -1].astype("float64"), expected)


def test_the_profile_keys_are_added_to_the_inputs_when_missing():
    features = {"categorical": ["nom_du_compteur"], "numeric": ["temperature_c"], "profile": True}
    assert rf.feature_columns(features) == [
        "nom_du_compteur",
        "temperature_c",
        "hour",
        "is_weekend",
    ]
    assert rf.feature_columns({**features, "profile": False}) == [
        "nom_du_compteur",
        "temperature_c",
    ]
