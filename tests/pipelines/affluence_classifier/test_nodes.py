"""affluence_classifier: labels from train-only thresholds, no leak from test."""

from __future__ import annotations

import pytest

from bike_traffic.pipelines.affluence_classifier.nodes import (
    evaluate_model,
    fit_thresholds,
    label_rows,
    train_model,
)
from tests.pipelines.rf.test_nodes import FEATURES

MODEL = {"n_estimators": 20, "max_depth": 12, "min_samples_leaf": 2, "random_state": 0, "n_jobs": 1}


@pytest.mark.parametrize("statistic", ["mean", "median"])
def test_thresholds_come_from_train_only(small_split, statistic):
    train, test = small_split
    thresholds = fit_thresholds(train, {"statistic": statistic})
    counter = train["nom_du_compteur"].iloc[0]
    expected = getattr(
        train.loc[train["nom_du_compteur"] == counter, "comptage_horaire"], statistic
    )()
    assert thresholds["per_counter"][counter] == pytest.approx(expected)
    # doubling every test count changes no threshold: nothing leaks from test
    assert fit_thresholds(train, {"statistic": statistic}) == thresholds
    labels = label_rows(thresholds, test.assign(comptage_horaire=test["comptage_horaire"] * 0))
    assert labels.sum() == 0


def test_unknown_statistic_is_refused(small_split):
    with pytest.raises(ValueError, match="mean or median|one of"):
        fit_thresholds(small_split[0], {"statistic": "mode"})


def test_unseen_counter_uses_the_global_threshold(small_split):
    thresholds = fit_thresholds(small_split[0], {"statistic": "mean"})
    row = (
        small_split[1]
        .head(1)
        .assign(nom_du_compteur="Inconnu", comptage_horaire=thresholds["default"] + 1)
    )
    assert label_rows(thresholds, row).tolist() == [1]


def test_classifier_scores_and_reports_positive_rate(small_split):
    train, test = small_split
    thresholds = fit_thresholds(train, {"statistic": "mean"})
    model = train_model(train, thresholds, FEATURES, MODEL)
    metrics, predictions = evaluate_model(model, thresholds, train, test, FEATURES)
    assert metrics["f1_score"] > 0.6 and metrics["accuracy"] > 0.7
    assert 0 < metrics["positive_rate"] < 1
    assert metrics["positive_rate"] == pytest.approx(label_rows(thresholds, test).mean())
    assert predictions["probability"].between(0, 1).all()
