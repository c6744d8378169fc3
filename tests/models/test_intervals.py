"""Prediction intervals: the conformal arithmetic, the calibration, and what a predictor serves."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bike_traffic.models import intervals, rf
from bike_traffic.models.evaluation import calibrate_interval, evaluate_regressor
from bike_traffic.models.predictor import Predictor, package_predictor, requests_from_rows
from bike_traffic.raw_format import TIMESTAMP

from .conftest import DATES, RF_FEATURES, RF_MODEL


def test_the_conformal_quantile_is_the_ceil_n_plus_one_rank():
    scores = np.arange(1.0, 11.0)  # 1..10
    # ceil(11 * 0.8) = 9: the 9th smallest
    assert intervals.conformal_quantile(scores[::-1], 0.8) == 9.0
    assert intervals.conformal_quantile(scores, 0.5) == 6.0
    with pytest.raises(ValueError, match="too few"):
        intervals.conformal_quantile(np.array([1.0, 2.0, 3.0]), 0.8)
    with pytest.raises(ValueError, match="between 0 and 1"):
        intervals.conformal_quantile(scores, 80)


def test_exchangeable_errors_are_covered_at_the_level_and_bands_follow_the_level():
    rng = np.random.default_rng(0)
    level = rng.gamma(2.0, 60.0, size=40_000)
    observed = rng.poisson(level)
    calibration, future = slice(0, 20_000), slice(20_000, None)
    interval = intervals.fit_interval(observed[calibration], level[calibration], 0.8)
    lower, upper = intervals.bounds(level[future], interval)
    covered = intervals.coverage_metrics(observed[future], lower, upper)
    assert 0.79 <= covered["interval_coverage"] <= 0.82
    assert (lower >= 0).all() and (lower <= level[future]).all()
    # wider where counts are higher (Poisson spread), same score everywhere
    busy, quiet = level[future] > 200, level[future] < 20
    assert (upper - lower)[busy].mean() > 3 * (upper - lower)[quiet].mean()


def test_no_interval_means_no_bounds():
    lower, upper = intervals.bounds(np.array([3.0, np.nan]), None)
    assert np.isnan(lower).all() and np.isnan(upper).all()


def test_the_calibration_days_are_the_last_local_days_of_train(small_split):
    train = small_split[0]
    fit_rows, held_out = intervals.calibration_split(train, 4)
    assert fit_rows[TIMESTAMP].max() < held_out[TIMESTAMP].min()
    assert len(fit_rows) + len(held_out) == len(train)
    assert held_out[TIMESTAMP].dt.date.nunique() == 4
    # a training period shorter than four times the window holds out its last quarter
    span = (train[TIMESTAMP].max() - train[TIMESTAMP].min()).days + 1
    _, quarter = intervals.calibration_split(train, 400)
    assert quarter[TIMESTAMP].dt.date.nunique() == span // 4
    with pytest.raises(ValueError, match="calibration_days=400"):
        intervals.calibration_split(train.head(5), 400)


@pytest.fixture(scope="module")
def calibrated_rf(run_split, small_context) -> Predictor:
    """A small forest's predictor with its interval, as the ``rf`` pipeline packages it."""
    train, test = run_split
    params = {"features": RF_FEATURES, "model": RF_MODEL, "target": "none"}
    settings = {"level": 0.8, "calibration_days": 4}
    interval = calibrate_interval("rf", train, params, settings, small_context, DATES)
    estimator, extras = rf.fit_estimator(train, params, 0)
    predictor, _, _ = package_predictor(
        "rf", estimator, extras, train, test, small_context, DATES, interval
    )
    return predictor


def test_a_calibrated_predictor_serves_its_bounds_and_keeps_them_when_stored(
    calibrated_rf, run_split, tmp_path
):
    interval = calibrated_rf.interval
    assert interval["method"] == "split_conformal" and interval["level"] == 0.8
    assert interval["quantile"] > 0 and interval["calibration_rows"] > 100
    train, test = run_split
    calibrated_rf.save(tmp_path / "p")
    loaded = Predictor.load(tmp_path / "p")
    assert loaded.interval == interval
    answer = loaded.predict(requests_from_rows(test.head(50)))
    p, lo, hi = (answer[c].to_numpy(dtype="float64") for c in ("prediction", "lower", "upper"))
    assert (lo <= p).all() and (p < hi).all() and (lo >= 0).all()
    expected = intervals.bounds(p, interval)
    assert np.allclose(lo, expected[0]) and np.allclose(hi, expected[1])

    metrics, table = evaluate_regressor(calibrated_rf, train, test)
    inside = (table["observed"] >= table["lower"]) & (table["observed"] <= table["upper"])
    assert metrics["interval_coverage"] == pytest.approx(inside.mean())
    assert metrics["interval_width"] == pytest.approx((table["upper"] - table["lower"]).mean())
    # on four weeks of generated data the held-out days stand for the test days
    assert 0.6 <= metrics["interval_coverage"] <= 0.97


def test_the_interval_is_calibrated_on_rows_the_twin_did_not_see(run_split, small_context):
    train = run_split[0]
    params = {"features": RF_FEATURES, "model": RF_MODEL, "target": "none"}
    settings = {"level": 0.8, "calibration_days": 4}
    interval = calibrate_interval("rf", train, params, settings, small_context, DATES)
    _, held_out = intervals.calibration_split(train, 4)
    assert interval["calibration_rows"] == len(held_out)
    assert pd.Timestamp(interval["calibration_start"]) == held_out[TIMESTAMP].min()
    # a wider level gives a wider band from the same held-out errors
    wider = calibrate_interval(
        "rf", train, params, {**settings, "level": 0.95}, small_context, DATES
    )
    assert wider["quantile"] > interval["quantile"]
