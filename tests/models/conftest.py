"""Small fitted models of each family, on the ``small_split`` fixture, shared by tests/models."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from bike_traffic.models import classifier, nn, rf
from bike_traffic.models.predictor import Predictor, package_predictor

#: conf/base's feature lists, small forests and a small network: fast to fit.
RF_FEATURES = {
    "categorical": ["nom_du_compteur"],
    "numeric": ["hour", "day_of_week", "is_weekend", "is_holiday", "latitude", "longitude"],
}
RF_MODEL = {
    "n_estimators": 10,
    "max_depth": 12,
    "min_samples_leaf": 2,
    "random_state": 0,
    "n_jobs": 1,
}
CLASSIFIER_MODEL = {**RF_MODEL, "n_estimators": 20}
NN_FEATURES = {
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
NN_PARAMS = {
    "embedding_dim": 4,
    "units": [32, 16],
    "dropout": [0.1],
    "learning_rate": 0.003,
    "loss": "mse",
    "epochs": 4,
    "batch_size": 128,
    "patience": 2,
    "validation_fraction": 0.1,
}
#: ``params:predictor`` of conf/base.
DATES = {"first_date": "2015-01-01", "last_date": "2035-12-31"}


def package(
    model_type: str, estimator: Any, extras: dict[str, Any], split: tuple[pd.DataFrame, ...]
) -> Predictor:
    """The predictor of a fitted estimator, as the pipelines' ``package_model`` builds it.

    ``split`` is ``(train, test, feature_context)``.
    """
    predictor, _, _ = package_predictor(model_type, estimator, extras, *split, DATES)
    return predictor


@pytest.fixture(scope="session")
def rf_estimator(small_split):
    return rf.fit(small_split[0], RF_FEATURES, RF_MODEL)


@pytest.fixture(scope="session")
def rf_predictor(rf_estimator, small_split, small_context) -> Predictor:
    return package("rf", rf_estimator, {}, (*small_split, small_context))


@pytest.fixture(scope="session")
def thresholds(small_split) -> dict[str, Any]:
    return classifier.fit_thresholds(small_split[0], {"statistic": "median"})


@pytest.fixture(scope="session")
def classifier_estimator(small_split, thresholds):
    return classifier.fit(small_split[0], thresholds, RF_FEATURES, CLASSIFIER_MODEL)


@pytest.fixture(scope="session")
def classifier_predictor(classifier_estimator, thresholds, small_split, small_context) -> Predictor:
    return package(
        "affluence_classifier",
        classifier_estimator,
        {"thresholds": thresholds},
        (*small_split, small_context),
    )


@pytest.fixture(scope="session")
def nn_preprocessor(small_split) -> dict[str, Any]:
    return nn.fit_preprocessor(small_split[0], NN_FEATURES)


@pytest.fixture(scope="session")
def nn_fitted(small_split, nn_preprocessor):
    """A short training: the network and its history."""
    return nn.fit(small_split[0], nn_preprocessor, NN_PARAMS, seed=3)


@pytest.fixture(scope="session")
def nn_predictor(nn_fitted, nn_preprocessor, small_split, small_context) -> Predictor:
    return package(
        "nn", nn_fitted[0], {"preprocessor": nn_preprocessor}, (*small_split, small_context)
    )
