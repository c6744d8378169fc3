"""The generator writes the portal's format and shows the real counters' patterns."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from bike_traffic.calendar import PARIS_TZ
from bike_traffic.pipelines.synthetic_raw.nodes import (
    expected_counts,
    format_export,
    make_calendar,
    make_counters,
    simulate_counts,
)
from bike_traffic.raw_format import PARIS_BBOX, RAW_COLUMNS
from tests.conftest import SMALL_SYNTHETIC
from tests.pipelines.synthetic_raw.conftest import run_generator


@pytest.fixture(scope="module")
def year_run(base_params) -> dict:
    """A year of the default generator for a few counters."""
    return run_generator({**base_params, "n_sites": 3, "seed": 11})


@pytest.fixture(scope="module")
def year_counts(year_run) -> pd.DataFrame:
    """The year's counts with local time and drivers attached."""
    counts, cal = year_run["synthetic_hourly_counts"], year_run["synthetic_calendar"]
    drivers = year_run["synthetic_drivers"]
    at = counts["hour_index"].to_numpy()
    return counts.assign(
        hour=cal["hour"].to_numpy()[at],
        dow=cal["dow"].to_numpy()[at],
        month=cal["ts_local"].dt.month.to_numpy()[at],
        holiday=cal["is_holiday"].to_numpy()[at],
        rain=drivers["rain_last_3h_mm"].to_numpy()[at],
    )


def test_export_has_the_portal_columns_in_order(small_raw):
    assert tuple(small_raw.columns) == RAW_COLUMNS
    assert all(small_raw[c].map(type).eq(str).all() for c in RAW_COLUMNS)


def _profile_export(params: dict) -> pd.DataFrame:
    """The export of profile-only counts (no drivers), straight from the nodes."""
    counters, calendar = make_counters(params), make_calendar(params)
    counts = simulate_counts(counters, calendar, params)
    return format_export(counts, counters, calendar, params)


def test_same_seed_same_export_other_seed_other_export(small_raw, small_run):
    # the conf/test preset, run twice in the session (tests.conftest's and this folder's)
    pd.testing.assert_frame_equal(small_raw, small_run["raw_counts"])
    # the nodes alone, without drivers: the seed fixes the export too
    export = _profile_export(SMALL_SYNTHETIC)
    pd.testing.assert_frame_equal(export, _profile_export(SMALL_SYNTHETIC))
    assert not export.equals(_profile_export({**SMALL_SYNTHETIC, "seed": 8}))


def test_timestamps_carry_both_offsets_and_both_separators(small_raw):
    stamps = small_raw["Date et heure de comptage"]
    pattern = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:00:00\+0[12]:00$")
    assert stamps.str.match(pattern).all()
    assert stamps.str.endswith("+01:00").any() and stamps.str.endswith("+02:00").any()
    assert stamps.str.contains(" ").any() and stamps.str.contains("T").any()


def test_spring_clock_change_day_has_23_local_hours(small_raw):
    parsed = pd.to_datetime(small_raw["Date et heure de comptage"], utc=True, format="ISO8601")
    local = parsed.dt.tz_convert(PARIS_TZ)
    one = small_raw["Nom du compteur"] == small_raw["Nom du compteur"].iloc[0]
    day = local[one & (local.dt.date.astype(str) == "2024-03-31")]
    assert day.dt.hour.nunique() == 23
    assert 2 not in set(day.dt.hour)


def test_missing_ids_and_coordinates_about_3_to_4_percent(small_raw):
    no_id = small_raw["Identifiant du compteur"] == ""
    assert 0.02 < no_id.mean() < 0.05
    assert (small_raw.loc[no_id, "Coordonnées géographiques"] == "").all()
    assert (small_raw["Nom du compteur"] != "").all()


def test_coordinates_inside_paris_with_and_without_space(small_raw):
    coords = small_raw.loc[
        small_raw["Coordonnées géographiques"] != "", "Coordonnées géographiques"
    ]
    assert coords.str.contains(", ").any() and (~coords.str.contains(" ")).any()
    lat_lon = coords.str.split(",", expand=True).astype(float)
    assert lat_lon[0].between(PARIS_BBOX["lat_min"], PARIS_BBOX["lat_max"]).all()
    assert lat_lon[1].between(PARIS_BBOX["lon_min"], PARIS_BBOX["lon_max"]).all()


def test_counts_written_as_ints_and_floats_and_rows_unsorted(small_raw):
    counts = small_raw["Comptage horaire"]
    assert counts.str.endswith(".0").any() and (~counts.str.contains(r"\.")).any()
    assert (counts.astype(float) >= 0).all()
    stamps = pd.to_datetime(small_raw["Date et heure de comptage"], utc=True, format="ISO8601")
    assert not stamps.is_monotonic_increasing


def test_counter_names_end_with_a_direction_and_sites_pair_up():
    counters = make_counters({**SMALL_SYNTHETIC, "n_sites": 60})
    assert (
        counters["counter_name"].str.match(r".+ (N-S|S-N|E-O|O-E|NE-SO|SO-NE|NO-SE|SE-NO)$").all()
    )
    per_site = counters.groupby("site_id").size()
    assert set(per_site.unique()) <= {1, 2} and (per_site == 2).mean() > 0.5
    assert 90 <= len(counters) <= 110
    assert counters["counter_id"].is_unique


def test_weekday_commute_peaks_and_weekend_afternoon(year_counts):
    live = year_counts[~year_counts["outage"] & ~year_counts["holiday"]]
    weekday = live[live["dow"] < 5].groupby("hour")["count"].mean()
    weekend = live[live["dow"] >= 5].groupby("hour")["count"].mean()
    assert weekday.loc[[8, 9]].max() > 1.6 * weekday.loc[[11, 14]].mean()
    assert weekday.loc[[17, 18, 19]].max() > 1.6 * weekday.loc[[11, 14]].mean()
    assert weekend.idxmax() in range(12, 19)
    assert weekend.loc[8] < weekday.loc[8] / 2


def test_seasons_come_from_the_drivers_not_from_month_factors(year_run, base_params):
    """Summer above winter in expectation (warmth, daylight); flat profile without drivers."""
    counters, cal = year_run["synthetic_counters"], year_run["synthetic_calendar"]
    month = cal["ts_local"].dt.month.to_numpy()
    with_drivers = expected_counts(counters, cal, year_run["synthetic_drivers"], base_params)
    profile_only = expected_counts(counters, cal, None, base_params)
    by_month = pd.Series(with_drivers.mean(axis=0)).groupby(month).mean()
    flat = pd.Series(profile_only.mean(axis=0)).groupby(month).mean()
    assert by_month.loc[[5, 6, 9]].mean() > 1.3 * by_month.loc[[12, 1]].mean()
    assert by_month.loc[8] < by_month.loc[[6, 9]].mean()  # summer school holidays
    assert flat.max() / flat.min() < 1.1  # the profile alone has no season


def test_holidays_and_rain_lower_traffic(year_counts):
    live = year_counts[~year_counts["outage"] & (year_counts["dow"] < 5)]
    assert (
        live.loc[live["holiday"], "count"].mean() < 0.8 * live.loc[~live["holiday"], "count"].mean()
    )
    by_rain = live.groupby(live["rain"] > 2)["count"].mean()
    assert by_rain.loc[True] < by_rain.loc[False]


def test_outages_are_runs_of_zeros(year_counts):
    assert year_counts["outage"].any()
    assert (year_counts.loc[year_counts["outage"], "count"] == 0).all()
    one = year_counts[
        year_counts["counter_index"]
        == year_counts.loc[year_counts["outage"], "counter_index"].iloc[0]
    ]
    runs = one["outage"].astype(int).diff().fillna(0).ne(0).cumsum()
    longest = one[one["outage"]].groupby(runs[one["outage"]]).size().max()
    assert longest >= 6


def test_mean_count_matches_the_real_export(year_counts, base_params):
    assert year_counts["count"].mean() == pytest.approx(base_params["mean_hourly_count"], rel=0.1)
    assert np.median(year_counts["count"]) < year_counts["count"].mean()


def test_an_injected_shift_multiplies_the_chosen_counters_from_its_start():
    from bike_traffic.pipelines.synthetic_raw.nodes import traffic_shift

    counters, calendar = make_counters(SMALL_SYNTHETIC), make_calendar(SMALL_SYNTHETIC)
    assert traffic_shift(counters, calendar, SMALL_SYNTHETIC) == 1.0
    shift = {"start": "2024-04-01", "days": 3, "counter_share": 0.5, "factor": 2.0}
    factors = traffic_shift(counters, calendar, {**SMALL_SYNTHETIC, "shift": shift})
    hit = calendar["ts_local"].dt.strftime("%Y-%m-%d").between("2024-04-01", "2024-04-03")
    assert factors.shape == (len(counters), len(calendar))
    assert set(np.unique(factors[:, ~hit.to_numpy()])) == {1.0}
    shifted_rows = (factors[:, hit.to_numpy()] == 2.0).all(axis=1)
    assert shifted_rows.sum() == round(0.5 * len(counters))
    plain = simulate_counts(counters, calendar, SMALL_SYNTHETIC)
    doubled = simulate_counts(counters, calendar, {**SMALL_SYNTHETIC, "shift": shift})
    assert doubled["count"].sum() > plain["count"].sum()


def test_the_whole_run_is_reproducible_with_the_seed(small_params, small_run):
    again = run_generator(small_params)
    for name in ("raw_counts", "raw_weather", "raw_school_calendar", "synthetic_drivers"):
        pd.testing.assert_frame_equal(again[name], small_run[name], obj=name)
    other = run_generator({**small_params, "seed": 8})
    for name in ("raw_counts", "raw_weather", "raw_school_calendar"):
        assert not other[name].equals(small_run[name]), name


def test_several_years(small_params):
    run = run_generator({**small_params, "start": "2024-04-01", "days": 730, "n_sites": 1})
    calendar = run["synthetic_calendar"]
    local = calendar["ts_local"]
    assert local.iloc[0].isoformat() == "2024-04-01T00:00:00+02:00"
    assert local.iloc[-1].isoformat() == "2026-03-31T23:00:00+02:00"
    assert len(calendar) == 730 * 24  # two spring and two autumn clock changes
    assert calendar["is_holiday"].sum() == 22 * 24  # 11 public holidays a year
    drivers = run["synthetic_drivers"]
    assert len(drivers) == len(calendar) and drivers.notna().all().all()
    school = drivers.groupby(local.dt.year.to_numpy())["school_holiday"].mean()
    assert (school.loc[[2024, 2025]] > 0.2).all()  # every year has its holidays
    counts = run["synthetic_hourly_counts"]
    assert len(counts) == len(calendar) * len(run["synthetic_counters"])
    assert sorted(run["raw_school_calendar"]["annee_scolaire"].unique()) == [
        "2023-2024",
        "2024-2025",
        "2025-2026",
    ]
