"""Hourly weather of a Paris year, drawn first, and its Météo-France SYNOP reports.

:func:`draw_weather` draws hourly weather in UTC:

- **temperature**: a seasonal cycle (a cosine with its top on ``warmest_day_of_year``), a
  daily cycle (a cosine with its top at ``warmest_hour_utc``, wider in summer than in winter
  and damped on wet days), a day-to-day anomaly that persists (AR(1) over days drawn at
  noon and interpolated hour by hour, so that its daily means persist
  ``anomaly_persistence``) and a little hourly noise;
- **rain**: wet and dry days follow a two-state Markov chain (``wet_after_dry``,
  ``wet_after_wet``, more wet days in autumn and winter); on a wet day, rain comes in spells
  of ``rain_spell_hours`` on average that fill ``rain_hour_share`` of its hours, each
  rainy hour a gamma-distributed amount (heavier in summer);
- **wind**: a day-to-day log-normal AR(1) level with an afternoon bump, windier on wet days;
- **humidity**: high at night and in rain, lower on warm afternoons.

:func:`synop_reports` then writes what a SYNOP station reports every 3 hours: the
temperature at the report time in kelvin, the rain of the past 1, 3, 6, 12 and 24 hours
(``-0.1`` for a trace, below 0.1 mm), the wind and the humidity, the other columns of the
format missing; :func:`plant_defects` removes a few reports, duplicates one and puts the
monthly blocks in random order, as in the real Paris-Orly file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from bike_traffic.exogenous.weather import KELVIN, LEGACY_COLUMNS

#: The parameters of :func:`draw_weather` (``synthetic_raw.weather``).
WEATHER_KEYS: tuple[str, ...] = (
    "mean_c",
    "seasonal_amplitude_c",
    "warmest_day_of_year",
    "daily_amplitude_winter_c",
    "daily_amplitude_summer_c",
    "warmest_hour_utc",
    "wet_day_damping",
    "anomaly_persistence",
    "anomaly_sd_c",
    "hourly_noise_sd_c",
    "wet_after_dry",
    "wet_after_wet",
    "wet_season_amplitude",
    "rain_hour_share",
    "rain_spell_hours",
    "rain_mm_per_hour",
    "rain_intensity_shape",
    "wind_mean_ms",
    "wind_log_sd",
    "humidity_mean_pct",
)
#: Hourly weather columns of :func:`draw_weather`.
WEATHER_COLUMNS = ("timestamp_utc", "temperature_c", "rain_mm", "wind_ms", "humidity_pct")

_YEAR_DAYS = 365.25
_WETTEST_DAY = 15  # mid-January: most wet days (autumn-winter)
_STORMIEST_DAY = 200  # mid-July: heaviest showers
_SUMMER_SOLSTICE = 172
_REPORT = pd.Timedelta(hours=3)
_RAIN_WINDOWS = {"rr1": 1, "rr3": 3, "rr6": 6, "rr12": 12, "rr24": 24}


def check_weather_params(params: Mapping[str, Any]) -> dict[str, float]:
    """Check the weather parameters: every key of :data:`WEATHER_KEYS`, numbers in range.

    Raises:
        ValueError: Naming the missing keys, or a value out of its range.
    """
    missing = [key for key in WEATHER_KEYS if key not in params]
    if missing:
        raise ValueError(f"synthetic_raw.weather lacks {missing}")
    values = {key: float(params[key]) for key in WEATHER_KEYS}
    for key in ("anomaly_persistence", "wet_after_dry", "wet_after_wet", "rain_hour_share"):
        if not 0.0 <= values[key] < 1.0:
            raise ValueError(f"synthetic_raw.weather.{key}: {values[key]} is outside [0, 1)")
    for key in ("rain_spell_hours", "rain_mm_per_hour", "rain_intensity_shape", "wind_mean_ms"):
        if values[key] <= 0:
            raise ValueError(f"synthetic_raw.weather.{key}: {values[key]} must be positive")
    if values["rain_spell_hours"] < 1:
        raise ValueError("synthetic_raw.weather.rain_spell_hours must be at least 1")
    return values


def _seasonal(day_of_year: np.ndarray, top_day: float) -> np.ndarray:
    """A yearly cosine: 1 on ``top_day``, -1 half a year later."""
    return np.cos(2 * np.pi * (day_of_year - top_day) / _YEAR_DAYS)


def _ar1(rng: np.random.Generator, n: int, persistence: float, sd: float) -> np.ndarray:
    """A stationary AR(1) series of ``n`` values with standard deviation ``sd``."""
    if n == 0:
        return np.zeros(0)
    shocks = rng.normal(0.0, sd * np.sqrt(1 - persistence**2), n)
    shocks[0] = rng.normal(0.0, sd)
    return lfilter([1.0], [1.0, -persistence], shocks)


def _noon_persistence(daily: float) -> float:
    """The day-to-day persistence of the noon anomalies whose daily means persist ``daily``.

    The anomaly is drawn at noon and interpolated linearly between noons, so a daily mean
    is ``0.135 a(d-1) + 0.75 a(d) + 0.115 a(d+1)``: smoother, hence more persistent, than
    the noon values. Solved by bisection (the persistence of the means grows with that of
    the noon values).
    """
    weights = np.array([78.0, 432.0, 66.0]) / 576.0  # mean interpolation weights over a day

    def of_means(phi: float) -> float:
        lags = np.arange(-4, 5)
        gamma = phi ** np.abs(lags)
        at = {lag: gamma[lag + 4] for lag in lags}
        cov = [
            sum(
                wi * wj * at[k + j - i]
                for i, wi in enumerate(weights)
                for j, wj in enumerate(weights)
            )
            for k in (0, 1)
        ]
        return cov[1] / cov[0]

    low, high = 0.0, 0.999
    for _ in range(50):
        middle = (low + high) / 2
        low, high = (middle, high) if of_means(middle) < daily else (low, middle)
    return (low + high) / 2


def _wet_days(day_of_year: np.ndarray, w: dict[str, float], rng: np.random.Generator) -> np.ndarray:
    """Wet (True) and dry days from a two-state Markov chain, wetter in autumn-winter."""
    season = 1 + w["wet_season_amplitude"] * _seasonal(day_of_year, _WETTEST_DAY)
    after_dry = np.clip(w["wet_after_dry"] * season, 0.0, 1.0)
    after_wet = np.clip(w["wet_after_wet"] * season, 0.0, 1.0)
    draws = rng.random(len(day_of_year))
    wet = np.zeros(len(day_of_year), dtype=bool)
    stationary = w["wet_after_dry"] / (1 - w["wet_after_wet"] + w["wet_after_dry"])
    state = bool(draws[0] < stationary) if len(draws) else False
    for day in range(len(day_of_year)):
        if day:
            state = bool(draws[day] < (after_wet[day] if state else after_dry[day]))
        wet[day] = state
    return wet


def _rain_spells(wet_hour: np.ndarray, w: dict[str, float], rng: np.random.Generator) -> np.ndarray:
    """Rainy hours: on wet days, spells of ``rain_spell_hours`` covering ``rain_hour_share``."""
    keep = 1 - 1 / w["rain_spell_hours"]
    share = w["rain_hour_share"]
    start = share * (1 - keep) / (1 - share)
    draws = rng.random(len(wet_hour))
    raining = np.zeros(len(wet_hour), dtype=bool)
    state = False
    for hour in range(len(wet_hour)):
        if not wet_hour[hour]:
            state = False
            continue
        state = bool(draws[hour] < (keep if state else start))
        raining[hour] = state
    return raining


def draw_weather(
    first_hour: pd.Timestamp, last_hour: pd.Timestamp, weather: Mapping[str, Any], seed: int
) -> pd.DataFrame:
    """Draw hourly weather from ``first_hour`` to ``last_hour`` (UTC, both included).

    Args:
        first_hour: The first hour (tz-aware).
        last_hour: The last hour (tz-aware).
        weather: ``synthetic_raw.weather`` (see :data:`WEATHER_KEYS`).
        seed: Seeds the draws: the same seed gives the same weather.

    Returns:
        :data:`WEATHER_COLUMNS`: one row per hour, labelled by its start: the temperature
        at that instant (°C), the rain of the hour (mm), the wind (m/s), the humidity (%).

    Raises:
        ValueError: On invalid parameters or ``last_hour`` before ``first_hour``.
    """
    w = check_weather_params(weather)
    if last_hour < first_hour:
        raise ValueError(f"last hour {last_hour} is before first hour {first_hour}")
    rng = np.random.default_rng(seed)
    hours = pd.date_range(first_hour, last_hour, freq="h")
    n = len(hours)
    day_index = ((hours - hours[0].floor("D")) // pd.Timedelta(days=1)).to_numpy()
    n_days = int(day_index[-1]) + 1
    day_starts = hours[0].floor("D") + pd.to_timedelta(np.arange(n_days), unit="D")
    fraction_of_year = (hours.day_of_year + hours.hour / 24).to_numpy(dtype=float)
    hour_utc = hours.hour.to_numpy(dtype=float)

    wet_day = _wet_days(day_starts.day_of_year.to_numpy(dtype=float), w, rng)
    wet_hour = wet_day[day_index]
    raining = _rain_spells(wet_hour, w, rng)
    heavier = 1 + 0.3 * _seasonal(fraction_of_year, _STORMIEST_DAY)
    shape = w["rain_intensity_shape"]
    amounts = rng.gamma(shape, w["rain_mm_per_hour"] / shape, n) * heavier
    rain = np.where(raining, amounts, 0.0)

    # Temperature: season + day-to-day anomaly (interpolated at noon of each day) + daily cycle.
    season = w["mean_c"] + w["seasonal_amplitude_c"] * _seasonal(
        fraction_of_year, w["warmest_day_of_year"]
    )
    anomaly_days = _ar1(
        rng, n_days + 1, _noon_persistence(w["anomaly_persistence"]), w["anomaly_sd_c"]
    )
    position = (hours - hours[0].floor("D")) / pd.Timedelta(days=1) - 0.5
    anomaly = np.interp(position.to_numpy(dtype=float), np.arange(n_days + 1), anomaly_days)
    summer = (1 + _seasonal(fraction_of_year, _SUMMER_SOLSTICE)) / 2
    daily_amplitude = w["daily_amplitude_winter_c"] + summer * (
        w["daily_amplitude_summer_c"] - w["daily_amplitude_winter_c"]
    )
    daily_amplitude = daily_amplitude * np.where(wet_hour, 1 - w["wet_day_damping"], 1.0)
    daily = daily_amplitude * np.cos(2 * np.pi * (hour_utc - w["warmest_hour_utc"]) / 24)
    noise = _ar1(rng, n, 0.9, w["hourly_noise_sd_c"])
    temperature = season + anomaly + daily + noise

    # log-normal factors of mean 1, so that the mean wind is ``wind_mean_ms``
    log_sd = w["wind_log_sd"]
    wind_level = np.exp(_ar1(rng, n_days, 0.6, log_sd) - log_sd**2 / 2)[day_index]
    afternoon = 1 + 0.2 * np.cos(2 * np.pi * (hour_utc - 14) / 24)
    gusts = np.exp(rng.normal(0.0, 0.15, n) - 0.15**2 / 2)
    stationary_wet = w["wet_after_dry"] / (1 - w["wet_after_wet"] + w["wet_after_dry"])
    windier = np.where(wet_hour, 1.15, 1.0) / (1 + 0.15 * stationary_wet)
    wind = w["wind_mean_ms"] * wind_level * afternoon * gusts * windier

    humidity = (
        w["humidity_mean_pct"]
        + 12 * np.cos(2 * np.pi * (hour_utc - 5) / 24)
        - 1.5 * (anomaly + daily)
        + 12 * raining
        + rng.normal(0.0, 4.0, n)
    )
    return pd.DataFrame(
        {
            "timestamp_utc": hours,
            "temperature_c": temperature,
            "rain_mm": rain,
            "wind_ms": np.clip(wind, 0.0, 40.0),
            "humidity_pct": np.clip(humidity, 20.0, 100.0),
        }
    )


def _rain_text(amounts: np.ndarray) -> np.ndarray:
    """Rain in mm as SYNOP writes it: 0.1 mm steps, ``-0.1`` for a trace."""
    rounded = np.round(amounts, 1)
    coded = np.where((amounts > 0) & (rounded < 0.1), -0.1, rounded)
    return np.array([f"{value:.6f}" for value in coded], dtype=object)


def synop_reports(hourly: pd.DataFrame, station: str) -> pd.DataFrame:
    """The 3-hourly SYNOP reports of a station, as text in the legacy archive's columns.

    A report at ``τ`` (00, 03, ..., 21 UTC) gives the temperature at ``τ`` in kelvin (0.1 °C
    steps), the rain of the hours before it (``rr1``: the hour ``[τ-1h, τ)``, ``rr3``: the 3
    hours, ... ``rr24``), the wind ``ff`` (0.1 m/s) and the humidity ``u`` (%); every other
    column is empty (written ``mq``). Reports run from the first 3-hour boundary that has
    24 hours of rain before it to the last hour of ``hourly``.

    Args:
        hourly: As :func:`draw_weather` returns it (consecutive hours).
        station: The WMO station id, 5 characters (``"07149"``).

    Returns:
        :data:`~bike_traffic.exogenous.weather.LEGACY_COLUMNS`, every value text, time order.

    Raises:
        ValueError: When ``hourly`` covers less than 27 hours.
    """
    stamps = pd.DatetimeIndex(hourly["timestamp_utc"])
    first = (stamps[0] + pd.Timedelta(hours=24)).ceil(_REPORT)
    times = pd.date_range(first, stamps[-1].floor(_REPORT), freq=_REPORT)
    if len(times) == 0:
        raise ValueError("the hourly weather is too short for a SYNOP report (27 hours or more)")
    at = stamps.get_indexer(times)
    rain_sums = np.concatenate([[0.0], np.cumsum(hourly["rain_mm"].to_numpy(dtype=float))])
    columns = dict.fromkeys(LEGACY_COLUMNS, np.full(len(times), "", dtype=object))
    columns["numer_sta"] = np.full(len(times), str(station).zfill(5), dtype=object)
    columns["date"] = times.strftime("%Y%m%d%H%M%S").to_numpy(dtype=object)
    celsius = np.round(hourly["temperature_c"].to_numpy(dtype=float)[at], 1)
    columns["t"] = np.array([f"{value + KELVIN:.6f}" for value in celsius], dtype=object)
    wind = np.round(hourly["wind_ms"].to_numpy(dtype=float)[at], 1)
    columns["ff"] = np.array([f"{value:.6f}" for value in wind], dtype=object)
    humidity = np.round(hourly["humidity_pct"].to_numpy(dtype=float)[at]).astype(int)
    columns["u"] = humidity.astype(str).astype(object)
    for column, span in _RAIN_WINDOWS.items():
        columns[column] = _rain_text(rain_sums[at] - rain_sums[at - span])
    return pd.DataFrame({name: columns[name] for name in LEGACY_COLUMNS})


def plant_defects(
    reports: pd.DataFrame, missing: int, duplicated: int, rng: np.random.Generator
) -> pd.DataFrame:
    """Make the reports look like a real archive extract.

    Removes ``missing`` reports (isolated 3-hour gaps, none in the first or last day),
    repeats ``duplicated`` reports as exact copies right after the original, and writes the
    months in random order (the real Paris-Orly file comes as monthly blocks in arbitrary
    order), each month in time order.

    Args:
        reports: As :func:`synop_reports` returns them (time order).
        missing: How many 3-hour reports to remove.
        duplicated: How many reports to write twice.
        rng: The random source.

    Returns:
        The reports with the defects, index reset.

    Raises:
        ValueError: When there are too few reports for the defects asked for.
    """
    n = len(reports)
    margin = 8  # one day of reports at either end stays complete
    candidates = np.arange(margin, n - margin)
    if missing < 0 or duplicated < 0:
        raise ValueError("missing_reports and duplicated_reports must be >= 0")
    if len(candidates) < 3 * (missing + duplicated) + 3:
        raise ValueError(
            f"{n} reports are too few for {missing} gap(s) and {duplicated} duplicate(s)"
        )
    # one gap per segment, never two adjacent: isolated 3-hour gaps
    segments = np.array_split(candidates, missing + duplicated) if missing + duplicated else []
    picks = [int(rng.choice(segment[1:-1])) for segment in segments]
    order = rng.permutation(len(picks))
    gaps = sorted(picks[i] for i in order[:missing])
    copies = sorted(picks[i] for i in order[missing:])
    keep = np.setdiff1d(np.arange(n), gaps)
    rows = np.sort(np.concatenate([keep, np.array(copies, dtype=int)]), kind="stable")
    planted = reports.iloc[rows].reset_index(drop=True)
    month = planted["date"].str[:6]
    months = month.unique()
    shuffled = {value: rank for rank, value in enumerate(rng.permutation(months))}
    block = month.map(shuffled).to_numpy()
    return planted.iloc[np.argsort(block, kind="stable")].reset_index(drop=True)
