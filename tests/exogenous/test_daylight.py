"""daylight: NOAA solar elevation and sunrise/sunset in Paris."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bike_traffic.exogenous.daylight import (
    PARIS_LATITUDE,
    PARIS_LONGITUDE,
    is_daylight,
    sun_elevation,
)


def sun_times(day: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """Sunrise and sunset in Paris on a local day, from a 10-second grid."""
    stamps = pd.date_range(f"{day} 00:00", f"{day} 23:59:50", freq="10s", tz="Europe/Paris")
    up = is_daylight(stamps, PARIS_LATITUDE, PARIS_LONGITUDE)
    rises = np.flatnonzero(~up[:-1] & up[1:]) + 1
    sets = np.flatnonzero(up[:-1] & ~up[1:]) + 1
    assert len(rises) == 1 and len(sets) == 1
    return stamps[rises[0]], stamps[sets[0]]


@pytest.mark.parametrize(
    ("day", "sunrise", "sunset"),
    [
        # Published times for Paris (Europe/Paris wall clock).
        ("2021-06-21", "05:47", "21:58"),
        ("2021-12-21", "08:42", "16:56"),
    ],
)
def test_paris_sunrise_and_sunset_within_three_minutes(day, sunrise, sunset):
    rise, set_ = sun_times(day)

    expected_rise = pd.Timestamp(f"{day} {sunrise}", tz="Europe/Paris")
    expected_set = pd.Timestamp(f"{day} {sunset}", tz="Europe/Paris")
    assert abs(rise - expected_rise) <= pd.Timedelta(minutes=3)
    assert abs(set_ - expected_set) <= pd.Timedelta(minutes=3)


def test_elevation_at_solar_noon_matches_the_solstice_geometry():
    noon = pd.DatetimeIndex(["2021-06-21 11:50", "2021-12-21 11:50"], tz="UTC")
    elevation = sun_elevation(noon, PARIS_LATITUDE, PARIS_LONGITUDE)

    assert elevation[0] == pytest.approx(90 - PARIS_LATITUDE + 23.44, abs=0.3)
    assert elevation[1] == pytest.approx(90 - PARIS_LATITUDE - 23.44, abs=0.3)


def test_elevation_is_vectorized_and_independent_of_the_input_time_zone():
    utc = pd.date_range("2021-03-01", periods=48, freq="h", tz="UTC")
    in_utc = sun_elevation(utc, PARIS_LATITUDE, PARIS_LONGITUDE)
    in_paris = sun_elevation(utc.tz_convert("Europe/Paris"), PARIS_LATITUDE, PARIS_LONGITUDE)

    assert in_utc.shape == (48,)
    np.testing.assert_allclose(in_utc, in_paris)
    assert in_utc.min() < -30 and in_utc.max() > 30


def test_daylight_is_true_at_noon_and_false_at_midnight():
    stamps = pd.DatetimeIndex(["2021-12-21 12:00", "2021-12-21 00:00"], tz="Europe/Paris")

    assert is_daylight(stamps, PARIS_LATITUDE, PARIS_LONGITUDE).tolist() == [True, False]


def test_naive_stamps_and_bad_coordinates_are_refused():
    with pytest.raises(ValueError, match="naive"):
        sun_elevation(pd.DatetimeIndex(["2021-06-21 12:00"]), PARIS_LATITUDE, PARIS_LONGITUDE)
    stamps = pd.DatetimeIndex(["2021-06-21 12:00"], tz="UTC")
    with pytest.raises(ValueError, match="latitude"):
        sun_elevation(stamps, 91.0, PARIS_LONGITUDE)
    with pytest.raises(ValueError, match="longitude"):
        is_daylight(stamps, PARIS_LATITUDE, 200.0)
