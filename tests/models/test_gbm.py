"""models.gbm: boosted trees with the counter as a native category, the target, skops storage."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import skops.io
from threadpoolctl import threadpool_limits

from bike_traffic.models import gbm, persistence
from bike_traffic.models.evaluation import regression_metrics
from bike_traffic.models.predictor import DESCRIPTION_FILE, Predictor, requests_from_rows
from bike_traffic.models.spec import model_spec
from tests.models.conftest import package

TARGET = "comptage_horaire"
COUNTER = "nom_du_compteur"

#: The calendar, daylight and weather: what four weeks can teach (no month, no day of year).
GBM_FEATURES = {
    "categorical": [COUNTER],
    "numeric": [
        "hour",
        "day_of_week",
        "is_weekend",
        "is_holiday",
        "school_holiday",
        "daylight",
        "temperature_c",
        "rain_mm",
        "rain_last_3h_mm",
        "wind_ms",
    ],
}
#: conf/base's settings, smaller.
GBM_MODEL = {
    "loss": "poisson",
    "learning_rate": 0.1,
    "max_iter": 30,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 20,
    "early_stopping": False,
    "random_state": 0,
}


@pytest.fixture(scope="module", autouse=True)
def _one_openmp_thread():
    """The boosting's OpenMP threads, on a busy machine, wait on each other: one is faster."""
    with threadpool_limits(1, user_api="openmp"):
        yield


@pytest.fixture(scope="module")
def estimator(small_split):
    return gbm.fit(small_split[0], GBM_FEATURES, GBM_MODEL)


@pytest.fixture(scope="module")
def log_estimator(small_split):
    """Squared error on log1p(count)."""
    return gbm.fit(small_split[0], GBM_FEATURES, {**GBM_MODEL, "loss": "squared_error"}, "log1p")


@pytest.fixture(scope="module")
def predictor(estimator, small_split, small_context) -> Predictor:
    return package("gbm", estimator, {"target": "none"}, (*small_split, small_context))


def test_the_spec_names_the_type_everywhere():
    spec = model_spec("gbm")
    assert (spec.registered_name, spec.summary_type, spec.logged_name) == (
        "bike-traffic-gbm",
        "gbm",
        "gbm_model",
    )
    assert (spec.kind, spec.label, spec.family) == ("regressor", "Gradient Boosting", "gbm")
    assert model_spec("bike-traffic-gbm") is spec and spec.headline_metric == "rmse"
    assert gbm.STORAGE == "skops"


def test_the_trees_learn_non_negative_counts(estimator, small_split):
    _, test = small_split
    predicted = gbm.predict(estimator, {"target": "none"}, test)
    assert predicted.shape == (len(test),) and np.isfinite(predicted).all()
    assert (predicted > 0).all()  # the Poisson loss predicts exp(raw): never zero
    scores = regression_metrics(test[TARGET].to_numpy(), predicted)
    assert scores["r2"] > 0.5 and scores["rmse"] < test[TARGET].std()
    boosting = estimator.named_steps["boosting"]
    assert boosting.loss == "poisson" and boosting.n_iter_ == GBM_MODEL["max_iter"]


def test_fit_is_reproducible_and_predict_reads_columns_by_name(estimator, small_split):
    train, test = small_split
    rows = test.head(50)
    again = gbm.fit(train, GBM_FEATURES, GBM_MODEL)
    assert np.array_equal(gbm.predict(again, {}, rows), gbm.predict(estimator, {}, rows))
    shuffled = rows[list(reversed(rows.columns))]
    assert np.array_equal(gbm.predict(estimator, {}, shuffled), gbm.predict(estimator, {}, rows))


def test_the_counter_is_a_native_category_and_an_unseen_one_is_missing(estimator, small_split):
    train, test = small_split
    boosting = estimator.named_steps["boosting"]
    assert boosting.is_categorical_.tolist() == [True] + [False] * len(GBM_FEATURES["numeric"])
    encoder = estimator.named_steps["preprocess"]
    columns = [COUNTER, *GBM_FEATURES["numeric"]]
    rows = test.head(24)
    unseen = rows.assign(**{COUNTER: "Compteur inconnu E-O"})
    missing = rows.assign(**{COUNTER: None})
    assert (encoder.transform(unseen[columns])[:, 0] == -1).all()
    assert (encoder.transform(missing[columns])[:, 0] == -1).all()
    assert (encoder.transform(rows[columns])[:, 0] >= 0).all()
    # -1 is the boosting's missing category: an unseen counter is a counter not given
    as_unseen = gbm.predict(estimator, {}, unseen)
    assert np.isfinite(as_unseen).all() and (as_unseen >= 0).all()
    assert np.array_equal(as_unseen, gbm.predict(estimator, {}, missing))
    # ... and not any of the known ones: the trees split on the counters
    known = sorted(train[COUNTER].astype(str).unique())
    per_counter = [gbm.predict(estimator, {}, rows.assign(**{COUNTER: name})) for name in known]
    assert len({tuple(np.round(p, 9)) for p in per_counter}) == len(known)


def test_a_log1p_target_is_learnt_on_the_log_scale_and_answered_in_counts(
    log_estimator, small_split
):
    _, test = small_split
    raw = log_estimator.predict(test[log_estimator.feature_names_in_])
    assert raw.max() < np.log1p(test[TARGET].max()) + 1  # the trees learnt log(1 + count)
    counts = gbm.predict(log_estimator, {"target": "log1p"}, test)
    np.testing.assert_allclose(counts, np.clip(np.expm1(raw), 0, None))
    assert (counts >= 0).all()
    scores = regression_metrics(test[TARGET].to_numpy(), counts)
    assert scores["r2"] > 0.3 and scores["rmse_log1p"] < 1.5
    # the target travels with the predictor: without it the log would be read as counts
    assert np.array_equal(gbm.predict(log_estimator, {}, test), np.clip(raw, 0, None))


def test_an_unknown_target_is_refused_before_fitting(small_split):
    with pytest.raises(ValueError, match="target must be one of"):
        gbm.fit(small_split[0], GBM_FEATURES, GBM_MODEL, "sqrt")


def test_the_predictor_rebuilds_the_rows_and_reads_the_requests_weather(
    predictor, estimator, small_split
):
    test = small_split[1].head(48)
    # with the weather the rows were built with, the same numbers as the trees on the rows
    answers = predictor.predict(requests_from_rows(test))
    assert answers["error"].isna().all()
    np.testing.assert_allclose(
        answers["prediction"].to_numpy(dtype="float64"),
        gbm.predict(estimator, predictor.extras, test),
        rtol=1e-12,
    )
    # the weather a request gives changes the answer (the trees read it)
    requests = requests_from_rows(test)[["counter", "timestamp"]]
    cold = predictor.predict(requests.assign(temperature=-5.0, rain=8.0, wind=15.0))
    warm = predictor.predict(requests.assign(temperature=24.0, rain=0.0, wind=2.0))
    cold_counts = cold["prediction"].to_numpy(dtype="float64")
    warm_counts = warm["prediction"].to_numpy(dtype="float64")
    assert (cold_counts != warm_counts).any()
    assert cold["error"].isna().all() and warm["error"].isna().all()
    refused = predictor.predict(requests.head(2).assign(temperature=["mild", 80]))
    assert refused["prediction"].isna().all()
    assert refused["error"].str.startswith("weather_not_a_number").iloc[0]
    assert refused["error"].str.startswith("weather_out_of_range").iloc[1]


def test_skops_round_trip_through_the_predictor_with_the_allow_list(
    predictor, small_split, tmp_path, monkeypatch
):
    folder = tmp_path / "gbm"
    predictor.save(folder)
    assert sorted(p.name for p in folder.iterdir()) == sorted([DESCRIPTION_FILE, "estimator.skops"])
    stored = folder / "estimator.skops"
    untrusted = set(skops.io.get_untrusted_types(file=stored))
    # what skops would not load by default is on the project's fixed list, nothing more
    assert untrusted <= set(persistence.TRUSTED_SKOPS_TYPES)
    assert "functools.partial" in untrusted  # HistGradientBoosting keeps partial(check_array)
    loaded = Predictor.load(folder)
    assert loaded.spec.model_type == "gbm" and loaded.extras == {"target": "none"}
    assert loaded.context == predictor.context
    requests = requests_from_rows(small_split[1].head(100))
    pd.testing.assert_frame_equal(loaded.predict(requests), predictor.predict(requests))
    # without functools.partial on the list, the stored trees are refused
    without = tuple(t for t in persistence.TRUSTED_SKOPS_TYPES if t != "functools.partial")
    monkeypatch.setattr(persistence, "TRUSTED_SKOPS_TYPES", without)
    with pytest.raises(persistence.UntrustedModelError, match="functools.partial"):
        Predictor.load(folder)
