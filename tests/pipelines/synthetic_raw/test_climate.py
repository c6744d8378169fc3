"""The drawn weather looks like Paris, and its SYNOP file reads back like the real Orly file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bike_traffic.exogenous.datasets import SynopDataset
from bike_traffic.exogenous.weather import (
    LEGACY_COLUMNS,
    check_coverage,
    missing_slots,
    normalize_synop,
    to_hourly,
)
from bike_traffic.pipelines.synthetic_raw.climate import (
    WEATHER_COLUMNS,
    check_weather_params,
    draw_weather,
    plant_defects,
    synop_reports,
)
from bike_traffic.pipelines.synthetic_raw.nodes import (
    counting_period,
    format_synop,
    simulate_weather,
)


@pytest.fixture(scope="module")
def year_weather(base_params) -> pd.DataFrame:
    """A year of hourly weather with the default (calibrated) climate."""
    return simulate_weather(base_params)


def test_a_year_of_weather_has_paris_cycles(year_weather):
    local = year_weather.assign(
        month=year_weather["timestamp_utc"].dt.month, hour=year_weather["timestamp_utc"].dt.hour
    )
    assert list(year_weather.columns) == list(WEATHER_COLUMNS)
    by_month = local.groupby("month")["temperature_c"].mean()
    assert by_month.loc[[7, 8]].mean() > by_month.loc[[12, 1]].mean() + 10
    assert 9 < year_weather["temperature_c"].mean() < 16
    by_hour = local.groupby("hour")["temperature_c"].mean()
    assert by_hour.idxmax() in range(12, 18) and by_hour.idxmin() in (*range(0, 7), 23)
    daily = local.set_index("timestamp_utc")["temperature_c"].resample("D").mean()
    anomaly = daily - daily.rolling(31, center=True, min_periods=1).mean()
    assert anomaly.autocorr() > 0.5  # cold and warm spells last several days


def test_rain_comes_on_wet_days_in_spells(year_weather):
    rain = year_weather.set_index("timestamp_utc")["rain_mm"]
    daily = rain.resample("D").sum()
    wet = daily >= 1.0
    assert 0.2 < wet.mean() < 0.5
    assert 400 < daily.sum() < 1100  # mm a year (Paris-Orly: 600-750)
    assert wet.astype(int).autocorr() > 0.1  # wet days follow wet days
    raining = (rain > 0).astype(int)
    assert raining.autocorr() > 0.4  # rainy hours follow rainy hours
    assert (rain >= 0).all() and (year_weather["wind_ms"] >= 0).all()
    assert year_weather["humidity_pct"].between(20, 100).all()


def test_same_seed_same_weather_other_seed_other(small_params):
    again = simulate_weather(small_params)
    pd.testing.assert_frame_equal(simulate_weather(small_params), again)
    assert not simulate_weather({**small_params, "seed": 3}).equals(again)


def test_weather_parameters_are_checked(base_params):
    weather = dict(base_params["weather"])
    with pytest.raises(ValueError, match="lacks.*mean_c"):
        check_weather_params({k: v for k, v in weather.items() if k != "mean_c"})
    with pytest.raises(ValueError, match="wet_after_wet.*outside"):
        check_weather_params({**weather, "wet_after_wet": 1.2})
    with pytest.raises(ValueError, match="last hour.*before"):
        draw_weather(
            pd.Timestamp("2024-01-02", tz="UTC"), pd.Timestamp("2024-01-01", tz="UTC"), weather, 1
        )


def test_reports_are_every_3_hours_with_rain_sums_and_traces():
    hours = pd.date_range("2024-01-01", periods=24 * 4, freq="h", tz="UTC")
    rain = np.zeros(len(hours))
    rain[30], rain[31], rain[32] = 0.04, 1.25, 0.3  # hours 06, 07, 08 of 2 January
    rain[50] = 0.02  # a trace at 02 on 3 January
    hourly = pd.DataFrame(
        {
            "timestamp_utc": hours,
            "temperature_c": np.linspace(-2, 6, len(hours)),
            "rain_mm": rain,
            "wind_ms": 3.0,
            "humidity_pct": 80.0,
        }
    )
    reports = synop_reports(hourly, "7149").set_index("date")

    assert list(reports.columns) == [c for c in LEGACY_COLUMNS if c != "date"]
    assert reports.index[0] == "20240102000000" and reports.index[-1] == "20240104210000"
    assert (reports["numer_sta"] == "07149").all()
    assert reports.loc["20240102090000", ["rr1", "rr3", "rr6"]].tolist() == [
        "0.300000",
        "1.600000",
        "1.600000",
    ]
    assert reports.loc["20240102060000", "rr3"] == "0.000000"
    assert reports.loc["20240103030000", ["rr1", "rr3"]].tolist() == ["-0.100000", "-0.100000"]
    assert reports.loc["20240103060000", "rr24"] == "1.600000"
    assert (
        reports.loc["20240102000000", "t"]
        == f"{round(hourly['temperature_c'][24], 1) + 273.15:.6f}"
    )
    assert reports.loc["20240102000000", "ff"] == "3.000000"
    assert reports.loc["20240102000000", "u"] == "80"
    assert (reports["pmer"] == "").all() and (reports["td"] == "").all()


def test_defects_are_gaps_one_copy_and_months_out_of_order():
    times = pd.date_range("2024-01-01", "2024-04-30 21:00", freq="3h", tz="UTC")
    reports = pd.DataFrame(
        {
            "date": times.strftime("%Y%m%d%H%M%S"),
            "t": [f"{280 + i % 7}.150000" for i in range(len(times))],
        }
    )
    planted = plant_defects(reports, 4, 1, np.random.default_rng(5))

    assert len(planted) == len(reports) - 4 + 1
    assert planted.duplicated().sum() == 1
    dates = pd.to_datetime(planted["date"], format="%Y%m%d%H%M%S", utc=True)
    gaps = times.difference(pd.DatetimeIndex(dates))
    assert len(gaps) == 4 and ((gaps[1:] - gaps[:-1]) > pd.Timedelta(hours=3)).all()  # isolated
    assert gaps.min() > times[7] and gaps.max() < times[-8]
    assert not dates.is_monotonic_increasing
    months = planted["date"].str[:6]
    assert (months != months.shift()).sum() == 4  # one block per month


def test_synop_file_round_trips_and_has_the_real_files_defects(small_params, small_run, tmp_path):
    raw = small_run["raw_weather"]
    dataset = SynopDataset(filepath=str(tmp_path / "synop_07149.csv"))
    dataset.save(raw)
    text = (tmp_path / "synop_07149.csv").read_text(encoding="utf-8").splitlines()
    assert text[0] == ";".join(LEGACY_COLUMNS) + ";"
    assert all(line.endswith(";") and len(line.split(";")) == 60 for line in text)
    assert ";mq;" in text[1] and text[1].startswith("07149;")

    loaded = dataset.load()
    pd.testing.assert_frame_equal(loaded, raw)
    tidy, quarantine = normalize_synop(loaded, "07149")
    assert quarantine["reason"].tolist() == ["duplicate_timestamp"]
    assert "exact" in quarantine["detail"].iloc[0]
    first, last = counting_period(small_params)
    margin = pd.Timedelta(days=small_params["weather"]["margin_days"])
    assert tidy["timestamp_utc"].min() <= first - margin
    assert tidy["timestamp_utc"].max() >= last + margin
    gaps = missing_slots(tidy, tidy["timestamp_utc"].min(), tidy["timestamp_utc"].max())
    assert len(gaps) == small_params["weather"]["missing_reports"] == 4
    check_coverage(to_hourly(tidy), first, last, "raw_weather")  # no refusal
    assert not pd.to_datetime(loaded["date"], format="%Y%m%d%H%M%S").is_monotonic_increasing


def test_format_synop_reports_the_drawn_weather(small_params, small_run):
    weather = small_run["synthetic_weather"].set_index("timestamp_utc")
    tidy, _ = normalize_synop(format_synop(small_run["synthetic_weather"], small_params), "07149")
    at = weather.loc[tidy["timestamp_utc"]]
    np.testing.assert_allclose(tidy["temperature_c"], at["temperature_c"].round(1), atol=0.051)
    np.testing.assert_allclose(tidy["wind_ms"], at["wind_ms"], atol=0.051)
    rain_3h = weather["rain_mm"].rolling(3).sum().shift(1).loc[tidy["timestamp_utc"]]
    np.testing.assert_allclose(tidy["rain_3h_mm"], rain_3h, atol=0.11)
