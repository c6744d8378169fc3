"""The drivers of the generated counts, computed as a model can compute them from raw files.

Shared by the generator's nodes and ``scripts/calibrate_generator.py``, so that the
coefficients fitted on the real year and the ones the generator applies mean the same
thing. Every driver comes from a public source through :mod:`bike_traffic.exogenous`:

- weather (Météo-France SYNOP, made hourly by :func:`~bike_traffic.exogenous.weather.to_hourly`):
  ``temperature`` and ``temperature_squared`` (°C above :data:`REFERENCE_TEMPERATURE_C`, and
  its square: a parabola, so very cold and very hot hours both lose riders), ``rain_hour``
  (1 when it rains in the hour) and ``rain_last_3h`` (``log(1 + mm)`` of the rain of that
  hour and the two before);
- ``daylight``: 1 when the sun is above the horizon at the counter at mid-hour
  (:func:`~bike_traffic.exogenous.daylight.is_daylight`);
- calendars: ``school_holiday`` (zone C, from the official school calendar file),
  ``public_holiday`` and ``bridge_day`` (:mod:`bike_traffic.exogenous.calendars`);
- ``lockdown`` and ``curfew`` in force, from a restriction table
  (:func:`~bike_traffic.exogenous.restrictions.restriction_flags`).

The expected count is ``profile × exp(Σ coefficient × driver)``; the profile (counter level,
hourly shape of the day type, day-of-week factor) is the generator's, or the fixed effects
of the calibration. Public holidays take the Sunday profile (:func:`day_types`).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from bike_traffic.exogenous.calendars import (
    PARIS_TZ,
    is_bridge_day,
    is_school_holiday,
    public_holidays,
    utc_instants,
)
from bike_traffic.exogenous.daylight import is_daylight
from bike_traffic.exogenous.restrictions import restriction_flags
from bike_traffic.exogenous.weather import check_coverage

logger = logging.getLogger(__name__)

#: The coefficients of the expected count, in the order they are printed and written.
COEFFICIENT_NAMES: tuple[str, ...] = (
    "temperature",
    "temperature_squared",
    "rain_hour",
    "rain_last_3h",
    "daylight",
    "school_holiday",
    "public_holiday",
    "bridge_day",
    "lockdown",
    "curfew",
)
#: Columns of :func:`hourly_drivers` (one row per hour).
DRIVER_COLUMNS: tuple[str, ...] = (
    "timestamp_utc",
    "temperature_c",
    "rain_mm",
    "rain_last_3h_mm",
    "school_holiday",
    "public_holiday",
    "bridge_day",
    "lockdown",
    "curfew",
)
#: The temperature the parabola is centred on (°C): ``temperature`` is the slope there.
REFERENCE_TEMPERATURE_C = 15.0
#: Day types of the hourly profiles: working day, Saturday, Sunday or public holiday.
WORKING_DAY, SATURDAY, SUNDAY_OR_HOLIDAY = 0, 1, 2

_HALF_HOUR = pd.Timedelta(minutes=30)


def check_coefficients(coefficients: Mapping[str, Any]) -> dict[str, float]:
    """Check a coefficient block: exactly :data:`COEFFICIENT_NAMES`, finite numbers.

    Args:
        coefficients: ``{name: value}`` (``synthetic_raw.coefficients``).

    Returns:
        The coefficients as floats, in the order of :data:`COEFFICIENT_NAMES`.

    Raises:
        ValueError: Naming the missing or unknown names, or a value that is not a finite number.
    """
    if not isinstance(coefficients, Mapping):
        raise ValueError(f"coefficients must be a mapping, got {type(coefficients).__name__}")
    missing = [name for name in COEFFICIENT_NAMES if name not in coefficients]
    unknown = sorted(set(coefficients) - set(COEFFICIENT_NAMES))
    if missing or unknown:
        raise ValueError(
            f"coefficients: missing {missing}, unknown {unknown}; "
            f"expected {list(COEFFICIENT_NAMES)}"
        )
    checked: dict[str, float] = {}
    for name in COEFFICIENT_NAMES:
        value = coefficients[name]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
        ):
            raise ValueError(f"coefficients.{name}: {value!r} is not a finite number")
        checked[name] = float(value)
    return checked


def local_dates(stamps_utc: object) -> np.ndarray:
    """Local (Europe/Paris) calendar dates of instants, as ``datetime64[D]``."""
    local = utc_instants(stamps_utc).tz_convert(PARIS_TZ).tz_localize(None)
    return local.normalize().to_numpy().astype("datetime64[D]")


def holidays_around(days: np.ndarray) -> set[date]:
    """French public holidays of the years of ``days`` and of the day on either side."""
    if len(days) == 0:
        return set()
    one = np.timedelta64(1, "D")
    first = pd.Timestamp(days.min() - one).year
    last = pd.Timestamp(days.max() + one).year
    return public_holidays(range(first, last + 1))


def day_types(stamps_utc: object, public: set[date]) -> np.ndarray:
    """The day type of each instant's local date, for the hourly profiles.

    Args:
        stamps_utc: Tz-aware instants.
        public: Public holiday dates covering the instants (:func:`holidays_around`).

    Returns:
        ``int8`` array: :data:`WORKING_DAY` (Monday to Friday), :data:`SATURDAY`, or
        :data:`SUNDAY_OR_HOLIDAY` (a Sunday, or a public holiday whatever its weekday).
    """
    days = local_dates(stamps_utc)
    weekday = (days.astype("datetime64[D]").astype(np.int64) + 3) % 7  # 1970-01-01 = Thursday
    holiday = np.isin(days, np.array(sorted(public), dtype="datetime64[D]"))
    kinds = np.where(weekday == 5, SATURDAY, WORKING_DAY)
    kinds = np.where((weekday == 6) | holiday, SUNDAY_OR_HOLIDAY, kinds)
    return kinds.astype(np.int8)


def weather_for_hours(stamps_utc: object, hourly: pd.DataFrame, where: str) -> pd.DataFrame:
    """Hourly weather at each counting hour, refusing weather that does not cover them.

    Inside the period, hours without a temperature (at most 6 in a row, as
    :func:`~bike_traffic.exogenous.weather.check_coverage` allows) are interpolated
    linearly in time; hours without rain (next to a missing 3-hour report) count as dry.

    Args:
        stamps_utc: The counting hours (tz-aware, on the hour).
        hourly: Weather as :func:`~bike_traffic.exogenous.weather.to_hourly` returns it.
        where: The weather file, named in the error.

    Returns:
        ``timestamp_utc``, ``temperature_c``, ``rain_mm``, ``rain_last_3h_mm``, aligned with
        the stamps.

    Raises:
        ValueError: When the weather does not cover the hours (see ``check_coverage``).
    """
    stamps = utc_instants(stamps_utc)
    if len(stamps) == 0:
        raise ValueError("no counting hours to find the weather of")
    check_coverage(hourly, stamps.min(), stamps.max(), where)
    observed = (
        hourly.assign(timestamp_utc=utc_instants(hourly["timestamp_utc"], "timestamp_utc"))
        .drop_duplicates("timestamp_utc")
        .set_index("timestamp_utc")
        .sort_index()
    )
    temperature = observed["temperature_c"].interpolate(method="time", limit_area="inside")
    rain = observed[["rain_mm", "rain_last_3h_mm"]]
    filled = int(rain.reindex(stamps).isna().any(axis=1).sum())
    if filled:
        logger.info("%d hour(s) without a rain report count as dry.", filled)
    return pd.DataFrame(
        {
            "timestamp_utc": stamps,
            "temperature_c": temperature.reindex(stamps).to_numpy(dtype=float),
            "rain_mm": rain["rain_mm"].reindex(stamps).fillna(0.0).to_numpy(dtype=float),
            "rain_last_3h_mm": rain["rain_last_3h_mm"].reindex(stamps).fillna(0.0).to_numpy(float),
        }
    )


def hourly_drivers(
    stamps_utc: object,
    hourly_weather: pd.DataFrame,
    school_periods: pd.DataFrame,
    restrictions: Sequence[Mapping[str, Any]],
    where: str = "weather",
) -> pd.DataFrame:
    """The drivers shared by every counter at each hour (all but daylight).

    Args:
        stamps_utc: The counting hours (tz-aware).
        hourly_weather: Weather as :func:`~bike_traffic.exogenous.weather.to_hourly` returns it.
        school_periods: Zone C periods as
            :func:`~bike_traffic.exogenous.calendars.school_holiday_periods` returns them.
        restrictions: The restriction table (see :mod:`bike_traffic.exogenous.restrictions`).
        where: The weather file, named in errors.

    Returns:
        :data:`DRIVER_COLUMNS`, one row per stamp, in the order given: weather values and
        boolean calendar and restriction flags.

    Raises:
        ValueError: When the weather does not cover the hours, or the restriction table or
            the school periods are invalid.
    """
    weather = weather_for_hours(stamps_utc, hourly_weather, where)
    stamps = pd.DatetimeIndex(weather["timestamp_utc"])
    days = local_dates(stamps)
    public = holidays_around(days)
    unique_days, inverse = np.unique(days, return_inverse=True)
    flags = restriction_flags(stamps, restrictions)
    return weather.assign(
        school_holiday=is_school_holiday(unique_days, school_periods)[inverse],
        public_holiday=np.isin(days, np.array(sorted(public), dtype="datetime64[D]")),
        bridge_day=is_bridge_day(unique_days, public)[inverse],
        lockdown=flags["lockdown"].to_numpy(),
        curfew=flags["curfew"].to_numpy(),
    ).loc[:, list(DRIVER_COLUMNS)]


def daylight_matrix(
    latitudes: Sequence[float], longitudes: Sequence[float], stamps_utc: object
) -> np.ndarray:
    """Whether the sun is up at mid-hour at each place and hour.

    Args:
        latitudes: One latitude per place (degrees).
        longitudes: One longitude per place (degrees).
        stamps_utc: The hours (tz-aware, labelled by their start).

    Returns:
        Boolean ``(n_places, n_hours)`` array; places with the same coordinates are
        computed once.
    """
    mid_hour = utc_instants(stamps_utc) + _HALF_HOUR
    places = pd.DataFrame(
        {"lat": np.asarray(latitudes, float), "lon": np.asarray(longitudes, float)}
    )
    if places.empty:
        return np.zeros((0, len(mid_hour)), dtype=bool)
    codes, unique = pd.factorize(pd.MultiIndex.from_frame(places))
    light = np.vstack([is_daylight(mid_hour, lat, lon) for lat, lon in unique])
    return light[codes]


def driver_terms(
    drivers: pd.DataFrame, reference_c: float = REFERENCE_TEMPERATURE_C
) -> dict[str, np.ndarray]:
    """The hourly terms the coefficients multiply (every coefficient but ``daylight``).

    Args:
        drivers: As :func:`hourly_drivers` returns them.
        reference_c: The centre of the temperature parabola (°C).

    Returns:
        ``{coefficient name: float array aligned with the rows}``.

    Raises:
        ValueError: When a column is missing or a temperature is NaN.
    """
    missing = [c for c in DRIVER_COLUMNS if c not in drivers.columns]
    if missing:
        raise ValueError(f"drivers lack column(s) {missing}")
    temperature = drivers["temperature_c"].to_numpy(dtype=float) - float(reference_c)
    if np.isnan(temperature).any():
        raise ValueError(f"{int(np.isnan(temperature).sum())} driver hour(s) lack a temperature")
    rain = drivers["rain_mm"].to_numpy(dtype=float)
    rain_3h = np.clip(drivers["rain_last_3h_mm"].to_numpy(dtype=float), 0.0, None)
    terms = {
        "temperature": temperature,
        "temperature_squared": temperature**2,
        "rain_hour": (rain > 0).astype(float),
        "rain_last_3h": np.log1p(rain_3h),
    }
    for flag in ("school_holiday", "public_holiday", "bridge_day", "lockdown", "curfew"):
        terms[flag] = drivers[flag].to_numpy(dtype=bool).astype(float)
    return terms


def log_effects(
    drivers: pd.DataFrame,
    daylight: np.ndarray,
    coefficients: Mapping[str, Any],
    reference_c: float = REFERENCE_TEMPERATURE_C,
) -> np.ndarray:
    """``Σ coefficient × driver`` for each place (counter) and hour.

    Args:
        drivers: As :func:`hourly_drivers` returns them (``n_hours`` rows).
        daylight: ``(n_places, n_hours)`` from :func:`daylight_matrix`.
        coefficients: The coefficient block (checked with :func:`check_coefficients`).
        reference_c: The centre of the temperature parabola (°C).

    Returns:
        ``(n_places, n_hours)`` float array: the log of the multiplier of the expected count.

    Raises:
        ValueError: On invalid coefficients or drivers, or shapes that do not match.
    """
    beta = check_coefficients(coefficients)
    if daylight.ndim != 2 or daylight.shape[1] != len(drivers):
        raise ValueError(
            f"daylight has shape {daylight.shape}; expected (n_places, {len(drivers)})"
        )
    hourly = np.zeros(len(drivers))
    for name, values in driver_terms(drivers, reference_c).items():
        hourly += beta[name] * values
    return hourly[None, :] + beta["daylight"] * daylight.astype(float)
