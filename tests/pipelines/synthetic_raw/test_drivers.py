"""The counts respond to visible drivers, in the direction of the calibrated coefficients."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bike_traffic.exogenous.calendars import school_holiday_periods
from bike_traffic.exogenous.restrictions import PARIS_2020_2021, validate_restrictions
from bike_traffic.exogenous.weather import normalize_synop, to_hourly
from bike_traffic.pipelines.synthetic_raw import sites
from bike_traffic.pipelines.synthetic_raw.drivers import (
    COEFFICIENT_NAMES,
    SATURDAY,
    SUNDAY_OR_HOLIDAY,
    WORKING_DAY,
    check_coefficients,
    day_types,
    daylight_matrix,
    driver_terms,
    holidays_around,
    hourly_drivers,
    local_dates,
    log_effects,
)
from bike_traffic.pipelines.synthetic_raw.nodes import expected_counts, make_drivers

#: A driver set to a new value in some hours: (column, value that turns it on).
SWITCHES = {
    "rain_hour": ("rain_mm", 0.8),
    "school_holiday": ("school_holiday", True),
    "public_holiday": ("public_holiday", True),
    "bridge_day": ("bridge_day", True),
    "lockdown": ("lockdown", True),
    "curfew": ("curfew", True),
}


@pytest.fixture(scope="module")
def dry_ordinary(small_run) -> pd.DataFrame:
    """The small run's drivers with every switch off: no rain, no holiday, no restriction."""
    return small_run["synthetic_drivers"].assign(
        rain_mm=0.0,
        rain_last_3h_mm=0.0,
        school_holiday=False,
        public_holiday=False,
        bridge_day=False,
        lockdown=False,
        curfew=False,
    )


def expected(small_run, small_params, drivers) -> np.ndarray:
    return expected_counts(
        small_run["synthetic_counters"], small_run["synthetic_calendar"], drivers, small_params
    )


def test_the_calibrated_coefficients_have_the_expected_signs(base_params):
    beta = check_coefficients(base_params["coefficients"])
    assert list(beta) == list(COEFFICIENT_NAMES)
    assert beta["temperature"] > 0 > beta["temperature_squared"]
    assert beta["daylight"] > 0
    for name in ("rain_hour", "rain_last_3h", "school_holiday", "public_holiday"):
        assert beta[name] < 0, name
    for name in ("bridge_day", "lockdown", "curfew"):
        assert beta[name] < 0, name


@pytest.mark.parametrize("name", sorted(SWITCHES))
def test_turning_a_driver_on_multiplies_the_expectation_by_exp_beta(
    name, small_run, small_params, dry_ordinary
):
    column, value = SWITCHES[name]
    hours = np.arange(len(dry_ordinary)) % 5 == 0
    switched = dry_ordinary.copy()
    switched.loc[hours, column] = value
    before = expected(small_run, small_params, dry_ordinary)
    after = expected(small_run, small_params, switched)
    beta = small_params["coefficients"][name]

    np.testing.assert_allclose(after[:, hours] / before[:, hours], np.exp(beta), rtol=1e-9)
    np.testing.assert_array_equal(after[:, ~hours], before[:, ~hours])
    assert (np.sign(after[:, hours] - before[:, hours]) == np.sign(beta)).all()


def test_rainy_hours_are_lower_than_dry_ones_at_the_same_counter_and_hour(
    small_run, small_params, dry_ordinary
):
    rainy = dry_ordinary.assign(rain_mm=1.5, rain_last_3h_mm=4.5)
    ratio = expected(small_run, small_params, rainy) / expected(
        small_run, small_params, dry_ordinary
    )
    beta = small_params["coefficients"]
    np.testing.assert_allclose(
        ratio, np.exp(beta["rain_hour"] + beta["rain_last_3h"] * np.log1p(4.5))
    )
    assert (ratio < 0.8).all()


def test_temperature_follows_the_parabola(small_run, small_params, dry_ordinary):
    def at(celsius: float) -> np.ndarray:
        return expected(small_run, small_params, dry_ordinary.assign(temperature_c=celsius))

    cold, mild, warm = at(0.0), at(15.0), at(25.0)
    assert (cold < mild).all() and (mild < warm).all()
    beta = small_params["coefficients"]
    np.testing.assert_allclose(
        cold / mild, np.exp(-15 * beta["temperature"] + 225 * beta["temperature_squared"])
    )


def test_daylight_raises_the_expectation_at_the_counter(small_run, small_params):
    counters, calendar = small_run["synthetic_counters"], small_run["synthetic_calendar"]
    light = daylight_matrix(counters["latitude"], counters["longitude"], calendar["ts_utc"])
    drivers = small_run["synthetic_drivers"]
    beta = small_params["coefficients"]
    effects = log_effects(drivers, light, beta)
    dark = log_effects(drivers, np.zeros_like(light), beta)
    np.testing.assert_allclose(effects - dark, beta["daylight"] * light)
    # mid-March to April in Paris: the sun is up at 13h local, down at 23h local
    hour = calendar["hour"].to_numpy()
    assert light[:, hour == 13].all() and not light[:, hour == 23].any()


def test_drivers_are_what_a_model_reads_from_the_raw_files(small_run, small_params):
    """Recomputed from raw_weather and raw_school_calendar alone, the drivers are the same."""
    tidy, _ = normalize_synop(small_run["raw_weather"], "07149")
    periods = school_holiday_periods(small_run["raw_school_calendar"], "C")
    again = hourly_drivers(
        small_run["synthetic_calendar"]["ts_utc"],
        to_hourly(tidy),
        periods,
        PARIS_2020_2021,
    )
    pd.testing.assert_frame_equal(small_run["synthetic_drivers"], again)
    drivers = small_run["synthetic_drivers"]
    assert drivers["school_holiday"].any() and not drivers["school_holiday"].all()
    assert (drivers["rain_mm"] > 0).any() and (drivers["rain_mm"] == 0).any()
    assert drivers["public_holiday"].any()  # Easter Monday, 1 April 2024


def test_the_restriction_table_is_a_parameter(small_run, small_params):
    assert validate_restrictions(small_params["restrictions"]) == validate_restrictions(
        PARIS_2020_2021
    )
    curfew_2024 = [
        {
            "kind": "curfew",
            "start": "2024-03-18",
            "end": "2024-03-25",
            "from_hour": 20,
            "to_hour": 6,
        }
    ]
    drivers = make_drivers(
        small_run["synthetic_calendar"],
        small_run["raw_weather"],
        small_run["raw_school_calendar"],
        curfew_2024,
        small_params,
    )
    local = small_run["synthetic_calendar"]["ts_local"]
    night = (local.dt.strftime("%Y-%m-%d %H") >= "2024-03-18 20") & (
        local.dt.strftime("%Y-%m-%d %H") < "2024-03-25 06"
    )
    in_hours = night & ((local.dt.hour >= 20) | (local.dt.hour < 6))
    assert drivers["curfew"].to_numpy().tolist() == in_hours.to_numpy().tolist()
    assert not small_run["synthetic_drivers"]["curfew"].any()  # none in force in 2024
    base = expected(small_run, small_params, small_run["synthetic_drivers"])
    restricted = expected(small_run, small_params, drivers)
    assert (restricted[:, in_hours.to_numpy()] < base[:, in_hours.to_numpy()]).all()


def test_day_types_put_public_holidays_with_sundays():
    stamps = pd.DatetimeIndex(
        ["2024-04-01 10:00", "2024-04-05 10:00", "2024-04-06 10:00", "2024-04-07 10:00"],
        tz="Europe/Paris",
    )  # Easter Monday, a Friday, a Saturday, a Sunday
    public = holidays_around(local_dates(stamps))
    assert day_types(stamps, public).tolist() == [
        SUNDAY_OR_HOLIDAY,
        WORKING_DAY,
        SATURDAY,
        SUNDAY_OR_HOLIDAY,
    ]


def test_local_dates_are_paris_dates():
    stamps = pd.DatetimeIndex(["2024-12-31 23:30"], tz="UTC")
    assert local_dates(stamps).astype(str).tolist() == ["2025-01-01"]


def test_terms_transform_rain_and_temperature(small_run):
    drivers = (
        small_run["synthetic_drivers"]
        .iloc[:3]
        .assign(
            temperature_c=[5.0, 15.0, 25.0],
            rain_mm=[0.0, 0.1, 2.0],
            rain_last_3h_mm=[0.0, 1.0, 3.0],
        )
    )
    terms = driver_terms(drivers)
    assert set(terms) == set(COEFFICIENT_NAMES) - {"daylight"}
    assert terms["temperature"].tolist() == [-10.0, 0.0, 10.0]
    assert terms["temperature_squared"].tolist() == [100.0, 0.0, 100.0]
    assert terms["rain_hour"].tolist() == [0.0, 1.0, 1.0]
    np.testing.assert_allclose(terms["rain_last_3h"], np.log1p([0.0, 1.0, 3.0]))


def test_bad_coefficients_and_drivers_are_refused(small_run, small_params):
    beta = dict(small_params["coefficients"])
    with pytest.raises(ValueError, match=r"missing \['curfew'\]"):
        check_coefficients({k: v for k, v in beta.items() if k != "curfew"})
    with pytest.raises(ValueError, match=r"unknown \['month'\]"):
        check_coefficients({**beta, "month": 0.1})
    with pytest.raises(ValueError, match="rain_hour.*finite"):
        check_coefficients({**beta, "rain_hour": float("nan")})
    with pytest.raises(ValueError, match="lack column"):
        driver_terms(small_run["synthetic_drivers"].drop(columns="curfew"))
    with pytest.raises(ValueError, match="not aligned"):
        expected(small_run, small_params, small_run["synthetic_drivers"].iloc[1:])


def test_weather_that_does_not_cover_the_counts_is_refused(small_run, small_params):
    tidy, _ = normalize_synop(small_run["raw_weather"], "07149")
    late = tidy.loc[tidy["timestamp_utc"] > tidy["timestamp_utc"].min() + pd.Timedelta(days=5)]
    with pytest.raises(ValueError, match="does not cover the counts from"):
        hourly_drivers(
            small_run["synthetic_calendar"]["ts_utc"],
            to_hourly(late),
            pd.DataFrame(columns=["first_day_off", "first_school_day"]),
            [],
        )


def test_month_factors_are_gone():
    assert not hasattr(sites, "MONTH_FACTORS")
    from bike_traffic.pipelines.synthetic_raw import nodes

    assert "MONTH_FACTORS" not in open(nodes.__file__, encoding="utf-8").read()
