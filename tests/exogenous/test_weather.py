"""weather: SYNOP text to tidy reports, hourly weather, coverage, climatology, serving."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bike_traffic.exogenous.datasets import SynopDataset
from bike_traffic.exogenous.weather import (
    check_coverage,
    climatology,
    missing_slots,
    normalize_synop,
    to_hourly,
    weather_at,
)
from tests.conftest import shared_file

UTC = "UTC"


def raw_reports(rows: list[tuple], layout: str = "legacy") -> pd.DataFrame:
    """A SYNOP frame as SynopDataset loads it: (station, time, t, rr3, rr1, ff, u) as text."""
    station, time = ("numer_sta", "date") if layout == "legacy" else ("geo_id_wmo", "validity_time")
    columns = [station, time, "t", "rr3", "rr1", "ff", "u"]
    return pd.DataFrame(rows, columns=columns, dtype=str)


def tidy_reports(times: list[str], temperatures: list[float], rain3=None, wind=None):
    """Tidy 3-hourly reports as normalize_synop returns them."""
    count = len(times)
    return pd.DataFrame(
        {
            "timestamp_utc": pd.DatetimeIndex(times, tz=UTC),
            "temperature_c": temperatures,
            "rain_3h_mm": rain3 if rain3 is not None else [0.0] * count,
            "rain_1h_mm": [np.nan] * count,
            "wind_ms": wind if wind is not None else [2.0] * count,
            "humidity_pct": [80.0] * count,
        }
    )


GOOD = [
    ("07149", "20210101030000", "271.25", "0.6", "0.2", "1.7", "98"),
    ("07149", "20210101000000", "272.75", "-0.1", "-0.1", "1.8", "96"),
    ("07510", "20210101000000", "280.15", "0", "0", "3", "80"),
    ("07149", "20210101060000", "270.65", "", "", "", ""),
]


# normalize_synop -------------------------------------------------------------------------


def test_normalize_keeps_the_station_sorts_and_converts_units():
    raw = raw_reports(GOOD)
    tidy, quarantine = normalize_synop(raw, "7149")

    assert quarantine.empty
    assert tidy.columns.tolist() == [
        "timestamp_utc",
        "temperature_c",
        "rain_3h_mm",
        "rain_1h_mm",
        "wind_ms",
        "humidity_pct",
    ]
    assert tidy["timestamp_utc"].tolist() == list(
        pd.date_range("2021-01-01", periods=3, freq="3h", tz=UTC)
    )
    assert tidy["temperature_c"].tolist() == [-0.4, -1.9, -2.5]
    assert tidy["rain_3h_mm"].tolist()[:2] == [0.0, 0.6]  # trace -> 0
    assert tidy["rain_1h_mm"].tolist()[:2] == [0.0, 0.2]
    assert tidy.iloc[2][["rain_3h_mm", "wind_ms", "humidity_pct"]].isna().all()
    assert raw.equals(raw_reports(GOOD))  # the input is not modified


def test_normalize_reads_the_yearly_layout():
    raw = raw_reports(
        [("07149", "2021-01-01T03:00:00Z", "271.25", "0.6", "", "1.7", "98")], layout="yearly"
    )
    tidy, _ = normalize_synop(raw, "07149")

    assert tidy["timestamp_utc"].tolist() == [pd.Timestamp("2021-01-01 03:00", tz=UTC)]
    assert tidy["rain_1h_mm"].isna().all()


def test_normalize_quarantines_each_bad_report_with_its_line_and_reason():
    rows = [
        ("07149", "20210101000000", "272.75", "0", "0", "1.8", "96"),  # line 2, kept
        ("07149", "2021-13-01 00:00", "272.75", "0", "0", "1.8", "96"),
        ("07149", "20210101030000", "", "0", "0", "1.8", "96"),
        ("07149", "20210101060000", "340.15", "0", "0", "1.8", "96"),
        ("07149", "20210101090000", "272.75", "-0.5", "0", "1.8", "96"),
        ("07149", "20210101120000", "272.75", "0", "0", "75", "96"),
        ("07149", "20210101150000", "272.75", "0", "0", "1.8", "120"),
        ("07149", "20210101180000", "272.75", "abc", "0", "1.8", "96"),
        ("07149", "20210101000000", "272.75", "0", "0", "1.8", "96"),  # line 10, exact copy
        ("07149", "20210101000000", "273.15", "0", "0", "1.8", "96"),  # line 11, differs
        ("07149", "20210101210000", "275.15", "", "", "", ""),  # line 12, kept
    ]
    tidy, quarantine = normalize_synop(raw_reports(rows), "07149")

    assert tidy["timestamp_utc"].dt.hour.tolist() == [0, 21]
    assert tidy["temperature_c"].iloc[0] == pytest.approx(-0.4)
    assert quarantine["row_number"].tolist() == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert quarantine["reason"].tolist() == [
        "unparseable_date",
        "missing_temperature",
        "impossible_temperature",
        "impossible_rain",
        "impossible_wind",
        "impossible_humidity",
        "unparseable_value",
        "duplicate_timestamp",
        "duplicate_timestamp",
    ]
    assert quarantine["detail"].iloc[-2] == "exact copy of line 2 (kept)"
    assert quarantine["detail"].iloc[-1] == "differs from line 2 (kept)"
    assert quarantine["t"].iloc[2] == "340.15"  # the raw values travel with the reason
    assert pd.isna(quarantine["timestamp_utc"].iloc[0])


def test_normalize_keeps_the_first_duplicate_in_file_order_even_when_unsorted():
    rows = [
        ("07149", "20210101030000", "280.15", "0", "0", "1", "90"),
        ("07149", "20210101000000", "272.15", "0", "0", "1", "90"),
        ("07149", "20210101030000", "281.15", "0", "0", "1", "90"),
    ]
    tidy, quarantine = normalize_synop(raw_reports(rows), "07149")

    assert tidy["temperature_c"].tolist() == [-1.0, 7.0]
    assert quarantine["row_number"].tolist() == [4]


def test_normalize_refuses_missing_columns():
    with pytest.raises(ValueError, match="numer_sta or geo_id_wmo"):
        normalize_synop(raw_reports(GOOD).drop(columns="numer_sta"), "07149")
    with pytest.raises(ValueError, match="'t'"):
        normalize_synop(raw_reports(GOOD).drop(columns="t"), "07149")


def test_normalize_refuses_an_absent_station():
    with pytest.raises(ValueError, match=r"no SYNOP row for station 07150.*07149"):
        normalize_synop(raw_reports(GOOD), "07150")


# missing_slots ---------------------------------------------------------------------------


def test_missing_slots_lists_the_slots_without_report():
    tidy = tidy_reports(["2021-01-01 00:00", "2021-01-01 06:00", "2021-01-01 15:00"], [1, 2, 3])
    slots = missing_slots(
        tidy, pd.Timestamp("2020-12-31 23:00", tz=UTC), pd.Timestamp("2021-01-01 16:00", tz=UTC)
    )

    assert slots["timestamp_utc"].dt.hour.tolist() == [3, 9, 12]
    assert set(slots["reason"]) == {"missing_slot"}
    assert slots["row_number"].isna().all()


def test_missing_slots_is_empty_on_complete_reports():
    tidy = tidy_reports(["2021-01-01 00:00", "2021-01-01 03:00"], [1, 2])
    start, end = tidy["timestamp_utc"].iloc[[0, -1]]

    assert missing_slots(tidy, start, end).empty


def test_missing_slots_refuses_naive_or_reversed_instants():
    tidy = tidy_reports(["2021-01-01 00:00"], [1])
    with pytest.raises(ValueError, match="naive"):
        missing_slots(tidy, pd.Timestamp("2021-01-01"), pd.Timestamp("2021-01-02"))
    with pytest.raises(ValueError, match="before start"):
        missing_slots(tidy, pd.Timestamp("2021-01-02", tz=UTC), pd.Timestamp("2021-01-01", tz=UTC))


# to_hourly -------------------------------------------------------------------------------


def test_to_hourly_interpolates_and_spreads_rain_over_the_three_hours_before_a_report():
    tidy = tidy_reports(
        ["2021-01-01 00:00", "2021-01-01 03:00", "2021-01-01 06:00"],
        [0.0, 3.0, 0.0],
        rain3=[9.0, 3.0, 6.0],
        wind=[1.0, 4.0, np.nan],
    )
    hourly = to_hourly(tidy)

    assert hourly.columns.tolist() == [
        "timestamp_utc",
        "temperature_c",
        "rain_mm",
        "rain_last_3h_mm",
        "wind_ms",
        "humidity_pct",
    ]
    assert hourly["timestamp_utc"].dt.hour.tolist() == list(range(7))
    assert hourly["temperature_c"].tolist() == pytest.approx([0, 1, 2, 3, 2, 1, 0])
    # rr3 at 03:00 covers 00:00-03:00 (hours 0, 1, 2); at 06:00, hours 3, 4, 5.
    assert hourly["rain_mm"].tolist()[:6] == pytest.approx([1, 1, 1, 2, 2, 2])
    assert np.isnan(hourly["rain_mm"].iloc[6])  # the hour after the last report
    # hour 0 sums 22:00-01:00: two hours of the 00:00 report (3 each) and one of 03:00's.
    assert hourly["rain_last_3h_mm"].tolist()[:6] == pytest.approx([7, 5, 3, 4, 5, 6])
    assert hourly["wind_ms"].tolist()[:4] == pytest.approx([1, 2, 3, 4])
    assert hourly["wind_ms"].iloc[4:].isna().all()  # no later wind report


def test_to_hourly_bridges_one_missing_slot_but_not_a_longer_gap():
    tidy = tidy_reports(
        ["2021-01-01 00:00", "2021-01-01 06:00", "2021-01-01 15:00"], [0.0, 6.0, 15.0]
    )
    hourly = to_hourly(tidy).set_index("timestamp_utc")

    assert hourly.loc["2021-01-01 03:00", "temperature_c"].item() == pytest.approx(3.0)
    inside_gap = hourly.loc["2021-01-01 07:00":"2021-01-01 14:00", "temperature_c"]
    assert inside_gap.isna().all() and len(inside_gap) == 8
    assert hourly["rain_mm"].loc["2021-01-01 00:00":"2021-01-01 02:00"].isna().all()


def test_to_hourly_refuses_bad_input():
    with pytest.raises(ValueError, match="no rows"):
        to_hourly(tidy_reports([], []))
    with pytest.raises(ValueError, match="duplicate"):
        to_hourly(tidy_reports(["2021-01-01 00:00", "2021-01-01 00:00"], [1, 2]))
    naive = tidy_reports(["2021-01-01 00:00"], [1]).assign(
        timestamp_utc=pd.DatetimeIndex(["2021-01-01"])
    )
    with pytest.raises(ValueError, match="naive"):
        to_hourly(naive)
    with pytest.raises(ValueError, match="rain_3h_mm"):
        to_hourly(tidy_reports(["2021-01-01 00:00"], [1]).drop(columns="rain_3h_mm"))


# check_coverage --------------------------------------------------------------------------


def hourly_frame(start: str, hours: int, missing: tuple[int, ...] = ()) -> pd.DataFrame:
    temperature = np.ones(hours)
    temperature[list(missing)] = np.nan
    return pd.DataFrame(
        {
            "timestamp_utc": pd.date_range(start, periods=hours, freq="h", tz=UTC),
            "temperature_c": temperature,
        }
    )


def test_check_coverage_accepts_covering_weather_with_short_gaps():
    hourly = hourly_frame("2021-01-01", 48, missing=(10, 11, 12))
    first, last = pd.Timestamp("2021-01-01 02:00", tz=UTC), pd.Timestamp("2021-01-02 20:00", tz=UTC)

    assert check_coverage(hourly, first, last, "orly.csv", max_gap_hours=3) is None


@pytest.mark.parametrize(
    ("first", "last", "message"),
    [
        (
            "2020-12-31 22:00",
            "2021-01-01 05:00",
            r"'orly\.csv' does not cover the counts from 2020-12-31 22:00.*"
            r"from 2020-12-31 22:00:00\+00:00 to 2020-12-31 23:00:00\+00:00 \(2 h\)",
        ),
        (
            "2021-01-01 00:00",
            "2021-01-03 01:00",
            r"'orly\.csv' does not cover the counts up to.*"
            r"from 2021-01-03 00:00:00\+00:00 to 2021-01-03 01:00:00\+00:00 \(2 h\)",
        ),
        (
            "2021-01-01 00:00",
            "2021-01-02 23:00",
            r"'orly\.csv' has 1 gap\(s\) over 3 h.*"
            r"from 2021-01-01 10:00:00\+00:00 to 2021-01-01 13:00:00\+00:00 \(4 h\)",
        ),
    ],
)
def test_check_coverage_names_the_file_and_the_gap(first, last, message):
    hourly = hourly_frame("2021-01-01", 48, missing=(10, 11, 12, 13))

    with pytest.raises(ValueError, match=message):
        check_coverage(
            hourly, pd.Timestamp(first, tz=UTC), pd.Timestamp(last, tz=UTC), "orly.csv", 3
        )


def test_check_coverage_refuses_a_frame_without_temperature():
    hourly = hourly_frame("2021-01-01", 5).drop(columns="temperature_c")
    first = pd.Timestamp("2021-01-01", tz=UTC)

    with pytest.raises(ValueError, match=r"'orly\.csv' lacks column\(s\) \['temperature_c'\]"):
        check_coverage(hourly, first, first, "orly.csv")


def test_check_coverage_refuses_naive_instants():
    with pytest.raises(ValueError, match="naive"):
        check_coverage(
            hourly_frame("2021-01-01", 5),
            pd.Timestamp("2021-01-01"),
            pd.Timestamp("2021-01-01"),
            "f",
        )


# climatology and weather_at --------------------------------------------------------------


def year_of_weather(start: str = "2021-01-01", days: int = 365) -> pd.DataFrame:
    """Hourly weather whose temperature is the local day of year and rain the local hour."""
    stamps = pd.date_range(start, periods=days * 24, freq="h", tz=UTC)
    local = stamps.tz_convert("Europe/Paris")
    return pd.DataFrame(
        {
            "timestamp_utc": stamps,
            "temperature_c": local.dayofyear.astype(float),
            "rain_mm": local.hour.astype(float),
            "rain_last_3h_mm": 0.5,
            "wind_ms": 3.0,
            "humidity_pct": 80.0,
        }
    )


def test_climatology_covers_every_day_and_hour_smoothed_circularly():
    normals = climatology(year_of_weather())

    assert normals.columns.tolist() == [
        "day_of_year",
        "hour",
        "temperature_c",
        "rain_mm",
        "rain_last_3h_mm",
        "wind_ms",
    ]
    assert len(normals) == 366 * 24
    assert not normals.isna().any().any()
    cell = normals.set_index(["day_of_year", "hour"])
    assert cell.loc[(100, 8), "temperature_c"] == pytest.approx(100.0)  # mean of days 93..107
    assert cell.loc[(100, 8), "rain_mm"] == pytest.approx(8.0)
    # Day 1's window wraps round to late December: days 360..366 and 1..8 (no day 366 in 2021).
    assert cell.loc[(1, 12), "temperature_c"] == pytest.approx(
        np.mean([*range(360, 366), *range(1, 9)])
    )
    assert cell.loc[(366, 12), "wind_ms"] == pytest.approx(3.0)


def test_with_less_than_a_year_the_days_without_weather_take_the_nearest_days(caplog):
    normals = climatology(year_of_weather(days=60))  # 1 January to 1 March
    by_day = normals.groupby("day_of_year")["temperature_c"].mean()
    assert by_day.notna().all() and len(by_day) == 366
    # mid-January: its own weeks; April: the nearest day that has weather (early March)
    assert by_day[15] == pytest.approx(15, abs=0.5)
    assert by_day[100] == pytest.approx(by_day[67], abs=0.1)
    assert by_day[350] == pytest.approx(by_day[1], abs=8)  # December: nearest is January
    assert "nearest day" in caplog.text
    with pytest.raises(ValueError, match="no temperature_c value at all"):
        climatology(year_of_weather(days=2).assign(temperature_c=np.nan))


def test_weather_at_serves_observations_then_the_climatology():
    normals = climatology(year_of_weather())
    observed = year_of_weather("2022-03-01", days=2).assign(temperature_c=-5.0, rain_mm=np.nan)
    stamps = pd.DatetimeIndex(
        ["2022-03-01 10:20", "2022-03-02 23:00", "2022-03-03 00:00"], tz=UTC
    ).tz_convert("Europe/Paris")

    served = weather_at(observed, normals, stamps)

    assert served["weather_observed"].tolist() == [True, True, False]
    assert served["timestamp_utc"].tolist() == list(stamps.tz_convert(UTC))
    assert served["temperature_c"].iloc[0] == -5.0
    local = pd.DatetimeIndex(stamps).tz_convert("Europe/Paris")
    assert served["rain_mm"].tolist() == pytest.approx(local.hour.astype(float).tolist())
    assert served["temperature_c"].iloc[2] == pytest.approx(local[2].dayofyear, abs=0.5)


def test_weather_at_refuses_naive_stamps_and_bad_frames():
    normals = climatology(year_of_weather())
    hourly = year_of_weather("2022-03-01", days=1)
    with pytest.raises(ValueError, match="naive"):
        weather_at(hourly, normals, pd.DatetimeIndex(["2022-03-01"]))
    with pytest.raises(ValueError, match="climatology lacks"):
        weather_at(hourly, normals.drop(columns="wind_ms"), hourly["timestamp_utc"])


# the real Orly file ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def orly():
    """The real Orly reports: (tidy, quarantine, hourly)."""
    path = shared_file("synop_07149_paris-orly_2020-09_2021-10.csv")
    tidy, quarantine = normalize_synop(SynopDataset(filepath=str(path)).load(), "07149")
    return tidy, quarantine, to_hourly(tidy)


def test_real_orly_reports_are_sorted_with_the_duplicate_quarantined(orly):
    tidy, quarantine, _ = orly

    assert tidy["timestamp_utc"].is_monotonic_increasing
    assert tidy["timestamp_utc"].is_unique
    assert len(tidy) == 3321
    assert quarantine[["timestamp_utc", "reason"]].values.tolist() == [
        [pd.Timestamp("2020-11-20 18:00", tz=UTC), "duplicate_timestamp"]
    ]
    assert quarantine["detail"].iloc[0].startswith("exact copy of line")
    assert tidy["temperature_c"].between(-10, 40).all()
    assert 8 < tidy["temperature_c"].mean() < 16


def test_real_orly_has_four_missing_slots(orly):
    tidy, _, _ = orly
    slots = missing_slots(tidy, tidy["timestamp_utc"].iloc[0], tidy["timestamp_utc"].iloc[-1])

    assert slots["timestamp_utc"].tolist() == list(
        pd.DatetimeIndex(
            ["2020-12-05 03:00", "2021-01-17 00:00", "2021-02-02 06:00", "2021-04-18 18:00"],
            tz=UTC,
        )
    )


def test_real_orly_hourly_is_continuous_and_covers_the_counts(orly):
    _, _, hourly = orly
    stamps = hourly["timestamp_utc"]

    assert stamps.iloc[0] == pd.Timestamp("2020-09-01 00:00", tz=UTC)
    assert stamps.iloc[-1] == pd.Timestamp("2021-10-21 12:00", tz=UTC)
    assert (stamps.diff().dropna() == pd.Timedelta(hours=1)).all()
    assert hourly["temperature_c"].notna().all()
    assert hourly["rain_mm"].dropna().ge(0).all()
    assert hourly["rain_mm"].isna().sum() == 31  # 6 empty rr3 and 4 missing slots, 3 h each, + 1
    check_coverage(
        hourly,
        pd.Timestamp("2020-09-01 01:00", tz=UTC),
        pd.Timestamp("2021-08-09 23:00", tz=UTC),
        "synop_07149_paris-orly_2020-09_2021-10.csv",
    )
