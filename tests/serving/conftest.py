"""Small in-memory loaded models (no MLflow) for the serving tests."""

from __future__ import annotations

import pytest

from bike_traffic.features import counter_table
from bike_traffic.models import classifier as classifier_family
from bike_traffic.models import rf as rf_family
from bike_traffic.models.predictor import package_predictor
from bike_traffic.models.spec import model_spec
from bike_traffic.registry.loading import LoadedModel

FEATURES = {
    "categorical": ["nom_du_compteur"],
    "numeric": ["hour", "day_of_week", "is_weekend", "is_holiday", "latitude", "longitude"],
}
SMALL = {"n_estimators": 5, "max_depth": 10, "min_samples_leaf": 2, "random_state": 0, "n_jobs": 1}
DATES = {"first_date": "2015-01-01", "last_date": "2035-12-31"}


@pytest.fixture(scope="session")
def rf(small_split, small_context) -> LoadedModel:
    """A small forest as the app loads one (version 1, from the registry)."""
    train, test = small_split
    estimator = rf_family.fit(train, FEATURES, SMALL)
    predictor, _, _ = package_predictor("rf", estimator, {}, train, test, small_context, DATES)
    return LoadedModel(model_spec("rf"), predictor, 1, "registry", "models:/m-1")


@pytest.fixture(scope="session")
def classifier(small_split, small_context) -> LoadedModel:
    """A small affluence classifier (version 2, from summary.json)."""
    train, test = small_split
    thresholds = classifier_family.fit_thresholds(train, {"statistic": "mean"})
    estimator = classifier_family.fit(train, thresholds, FEATURES, SMALL)
    predictor, _, _ = package_predictor(
        "affluence_classifier",
        estimator,
        {"thresholds": thresholds},
        train,
        test,
        small_context,
        DATES,
    )
    return LoadedModel(
        model_spec("affluence_classifier"), predictor, 2, "summary.json", "gs://b/m-2"
    )


@pytest.fixture(scope="session")
def counters(small_split):
    """The training counters, as the app lists them."""
    return counter_table(small_split[0])
