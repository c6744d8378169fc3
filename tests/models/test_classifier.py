"""models.classifier: labels from train-only thresholds, no leak from test; P(high)."""

from __future__ import annotations

import numpy as np
import pytest

from bike_traffic.models import classifier
from bike_traffic.models.evaluation import classification_metrics
from tests.models.conftest import CLASSIFIER_MODEL, RF_FEATURES

TARGET = "comptage_horaire"


@pytest.mark.parametrize("statistic", ["mean", "median"])
def test_thresholds_come_from_train_only(small_split, statistic):
    train, test = small_split
    thresholds = classifier.fit_thresholds(train, {"statistic": statistic})
    assert thresholds["statistic"] == statistic
    assert set(thresholds["per_counter"]) == set(train["nom_du_compteur"])
    counter = train["nom_du_compteur"].iloc[0]
    expected = getattr(train.loc[train["nom_du_compteur"] == counter, TARGET], statistic)()
    assert thresholds["per_counter"][counter] == pytest.approx(expected)
    assert thresholds["default"] == pytest.approx(getattr(train[TARGET], statistic)())
    # the test rows play no part: zero counts there are all "low", doubled ones change nothing
    assert classifier.label_rows(thresholds, test.assign(**{TARGET: 0})).sum() == 0
    assert classifier.fit_thresholds(train, {"statistic": statistic}) == thresholds


def test_unknown_statistic_is_refused(small_split):
    with pytest.raises(ValueError, match="one of"):
        classifier.fit_thresholds(small_split[0], {"statistic": "mode"})


def test_labels_are_above_the_counters_own_threshold(small_split, thresholds):
    rows = small_split[1].head(2)
    counter = rows["nom_du_compteur"].iloc[0]
    limit = thresholds["per_counter"][counter]
    at_and_above = rows.assign(nom_du_compteur=counter, **{TARGET: [limit, limit + 1]})
    labels = classifier.label_rows(thresholds, at_and_above)
    assert labels.tolist() == [0, 1] and labels.dtype == np.int8


def test_unseen_counter_uses_the_global_threshold(small_split, thresholds):
    row = (
        small_split[1]
        .head(2)
        .assign(
            nom_du_compteur="Inconnu",
            **{TARGET: [thresholds["default"] + 1, thresholds["default"] - 1]},
        )
    )
    assert classifier.label_rows(thresholds, row).tolist() == [1, 0]


def test_classifier_scores_well_and_predicts_probabilities(
    classifier_estimator, thresholds, small_split
):
    _, test = small_split
    probability = classifier.predict(classifier_estimator, {"thresholds": thresholds}, test)
    assert probability.shape == (len(test),)
    assert ((probability >= 0) & (probability <= 1)).all()
    labels = classifier.label_rows(thresholds, test)
    metrics = classification_metrics(labels, (probability >= 0.5).astype("int8"), probability)
    assert metrics["f1_score"] > 0.6 and metrics["accuracy"] > 0.7 and metrics["roc_auc"] > 0.8
    assert 0 < metrics["positive_rate"] < 1


def test_unseen_counters_get_a_probability_too(classifier_estimator, small_split):
    rows = small_split[1].head(5).assign(nom_du_compteur="Inconnu N-S")
    probability = classifier.predict(classifier_estimator, {}, rows)
    assert ((probability >= 0) & (probability <= 1)).all()


def test_a_model_that_never_saw_a_high_hour_says_zero(small_split):
    train, test = small_split
    never = {"statistic": "mean", "per_counter": {}, "default": float("inf")}
    model = classifier.fit(train, never, RF_FEATURES, CLASSIFIER_MODEL)
    assert list(model.classes_) == [0]
    assert np.array_equal(classifier.predict(model, {}, test.head(4)), np.zeros(4))
