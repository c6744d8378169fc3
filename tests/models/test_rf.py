"""models.rf: the forest's fit and predict (unseen counters too), importances, counters."""

from __future__ import annotations

import numpy as np
import pytest

from bike_traffic.models import rf
from bike_traffic.models.evaluation import regression_metrics
from tests.models.conftest import RF_FEATURES, RF_MODEL

TARGET = "comptage_horaire"


def test_feature_columns_put_the_categorical_ones_first():
    features = {"categorical": ["nom_du_compteur"], "numeric": ["hour", "latitude"]}
    assert rf.feature_columns(features) == ["nom_du_compteur", "hour", "latitude"]


def test_preprocessor_encodes_unseen_counters_as_minus_one(small_split):
    train = small_split[0]
    encoder = rf.build_preprocessor(RF_FEATURES).fit(train[rf.feature_columns(RF_FEATURES)])
    known = train["nom_du_compteur"].iloc[0]
    rows = train.head(2).assign(nom_du_compteur=["Compteur inconnu E-O", known])
    encoded = encoder.transform(rows[rf.feature_columns(RF_FEATURES)])
    assert encoded[0, 0] == -1 and encoded[1, 0] >= 0
    assert list(encoder.get_feature_names_out()) == rf.feature_columns(RF_FEATURES)


def test_the_forest_learns_better_than_the_spread_of_the_test_counts(rf_estimator, small_split):
    _, test = small_split
    predicted = rf.predict(rf_estimator, {}, test)
    assert predicted.shape == (len(test),)
    assert (predicted >= 0).all()
    scores = regression_metrics(test[TARGET].to_numpy(), predicted)
    assert scores["r2"] > 0.5
    assert scores["rmse"] < test[TARGET].std()


def test_fit_is_reproducible_with_its_seed(rf_estimator, small_split):
    train, test = small_split
    again = rf.fit(train, RF_FEATURES, RF_MODEL)
    assert np.array_equal(rf.predict(again, {}, test), rf.predict(rf_estimator, {}, test))


def test_predict_reads_its_columns_by_name(rf_estimator, small_split):
    rows = small_split[1].head(20)
    shuffled = rows[list(reversed(rows.columns))]
    assert np.array_equal(
        rf.predict(rf_estimator, {}, shuffled), rf.predict(rf_estimator, {}, rows)
    )


def test_predicts_finite_non_negative_counts_for_unseen_counters(rf_estimator, small_split):
    rows = small_split[1].head(5).assign(nom_du_compteur="Compteur inconnu E-O")
    predicted = rf.predict(rf_estimator, {}, rows)
    assert np.isfinite(predicted).all() and (predicted >= 0).all()


def test_missing_feature_column_fails_clearly(rf_estimator, small_split):
    with pytest.raises(KeyError, match="hour"):
        rf.predict(rf_estimator, {}, small_split[1].drop(columns=["hour"]))


def test_known_counters_are_the_training_counters(rf_estimator, small_split):
    train = small_split[0]
    assert rf.known_counters(rf_estimator) == sorted(train["nom_du_compteur"].unique())


def test_feature_importances_cover_every_input_and_sum_to_one(rf_estimator):
    importances = rf.feature_importances(rf_estimator)
    assert list(importances.index) == rf.feature_columns(RF_FEATURES)
    assert importances.sum() == pytest.approx(1.0)
    assert (importances >= 0).all() and importances["hour"] > 0
