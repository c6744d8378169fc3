"""The feature table every model learns from and predicts on, built by one function.

:func:`add_features` is the ``data_cleaning`` node that turns valid counts into the
feature table, and the function the logged predictor
(:class:`bike_traffic.models.predictor.Predictor`) calls on the rows it is asked about
(:func:`request_rows`): training and serving build features with the same code.

Besides the counter and the local time, a row's features come from the **feature
context** (:func:`feature_context`, a JSON-able dict that each predictor carries): the
school holidays of the zone, the restriction table (lockdowns, curfews), and the weather
climatology that stands in for the weather when none is given. Observed weather
(``data_cleaning``'s hourly weather) wins over the climatology in training; weather given
with a request wins at serving time.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from bike_traffic.calendar import PARIS_TZ
from bike_traffic.exogenous.calendars import (
    is_bridge_day,
    is_school_holiday,
    public_holidays,
)
from bike_traffic.exogenous.daylight import PARIS_LATITUDE, PARIS_LONGITUDE, is_daylight
from bike_traffic.exogenous.restrictions import restriction_flags, validate_restrictions
from bike_traffic.exogenous.weather import CLIMATOLOGY_VALUES, weather_at
from bike_traffic.raw_format import (
    COUNT,
    COUNTER,
    COUNTER_ID,
    INSTALLED,
    PHOTO_COLUMNS_SNAKE,
    SITE,
    SITE_ID,
    TECHNICAL_ID,
    TIMESTAMP,
    blank_to_na,
)

#: The column the regressors predict: the hourly count.
TARGET = COUNT

#: Line of the raw file each row came from (the header is line 1); a request's position.
ROW_NUMBER = "row_number"

#: Columns of the clean feature table, in order.
FEATURE_COLUMNS: tuple[str, ...] = (
    COUNTER_ID,
    COUNTER,
    SITE_ID,
    SITE,
    TECHNICAL_ID,
    INSTALLED,
    "latitude",
    "longitude",
    TIMESTAMP,
    "date",
    "hour",
    "day",
    "month",
    "year",
    "day_of_week",
    "day_of_year",
    "day_index",
    "is_weekend",
    "is_holiday",
    "bridge_day",
    "school_holiday",
    "lockdown",
    "curfew",
    "daylight",
    "temperature_c",
    "rain_mm",
    "rain_last_3h_mm",
    "wind_ms",
    "weather_observed",
    "hour_sin",
    "hour_cos",
    "day_of_week_sin",
    "day_of_week_cos",
    "month_sin",
    "month_cos",
    "day_of_year_sin",
    "day_of_year_cos",
    COUNT,
    ROW_NUMBER,
)

#: What the predictor keeps of each training counter (to rebuild a request's features).
COUNTER_COLUMNS: tuple[str, ...] = (COUNTER, COUNTER_ID, SITE_ID, SITE, "latitude", "longitude")


#: The local date ``day_index`` counts days from: a fixed origin, so that it means the
#: same in training and at serving time.
DAY_INDEX_ORIGIN = pd.Timestamp("2000-01-01")

#: The weather columns of the feature table (``exogenous.weather``'s climatology values).
WEATHER_COLUMNS: tuple[str, ...] = CLIMATOLOGY_VALUES


def feature_context(
    school_holidays: pd.DataFrame,
    restrictions: list[dict[str, Any]],
    climatology: pd.DataFrame,
) -> dict[str, Any]:
    """What a row's features need beside its counter and time, as a JSON-able dict.

    Args:
        school_holidays: The zone's periods (``exogenous.calendars.school_holiday_periods``).
        restrictions: The restriction table (``params:data_cleaning.restrictions``).
        climatology: Mean weather per local day of year and hour
            (``exogenous.weather.climatology``).

    Returns:
        ``school_holidays`` (first day off, first school day, as ISO dates),
        ``restrictions`` (validated) and ``climatology`` (the four weather columns, each
        366 x 24 values in day-of-year then hour order).
    """
    table = climatology.sort_values(["day_of_year", "hour"], kind="stable")
    if len(table) != 366 * 24:
        raise ValueError(f"the climatology has {len(table)} rows, not 366 x 24")
    return {
        "school_holidays": [
            {"first_day_off": a.date().isoformat(), "first_school_day": b.date().isoformat()}
            for a, b in zip(
                pd.to_datetime(school_holidays["first_day_off"]),
                pd.to_datetime(school_holidays["first_school_day"]),
                strict=True,
            )
        ],
        "restrictions": [
            {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in entry.items()}
            for entry in validate_restrictions(restrictions)
        ],
        "climatology": {c: table[c].round(4).tolist() for c in WEATHER_COLUMNS},
    }


def no_observed_weather() -> pd.DataFrame:
    """An hourly weather table without any hour: the climatology serves every row."""
    return pd.DataFrame(
        {
            "timestamp_utc": pd.DatetimeIndex([], tz="UTC"),
            **{c: np.zeros(0) for c in WEATHER_COLUMNS},
        }
    )


def _climatology(context: dict[str, Any]) -> pd.DataFrame:
    days, hours = np.meshgrid(np.arange(1, 367), np.arange(24), indexing="ij")
    return pd.DataFrame(
        {
            "day_of_year": days.ravel(),
            "hour": hours.ravel(),
            **{c: np.asarray(context["climatology"][c], dtype=float) for c in WEATHER_COLUMNS},
        }
    )


def _hour_features(
    stamps: pd.DatetimeIndex, weather: pd.DataFrame, context: dict[str, Any]
) -> pd.DataFrame:
    """Calendar, restriction, daylight and weather features of distinct UTC instants."""
    local = stamps.tz_convert(PARIS_TZ)
    days = local.tz_localize(None).normalize()
    years = set(days.year) | {y + 1 for y in days.year} | {y - 1 for y in days.year}
    public = public_holidays(years)
    periods = pd.DataFrame(
        context["school_holidays"], columns=["first_day_off", "first_school_day"]
    )
    flags = restriction_flags(stamps, context["restrictions"])
    observed = weather_at(weather, _climatology(context), stamps)
    return pd.DataFrame(
        {
            "is_holiday": np.isin(days.date, list(public)),
            "bridge_day": is_bridge_day(days, public),
            "school_holiday": is_school_holiday(days, periods),
            "lockdown": flags["lockdown"].to_numpy(),
            "curfew": flags["curfew"].to_numpy(),
            # the sun at the middle of the hour, at the centre of Paris
            "daylight": is_daylight(
                stamps + pd.Timedelta(minutes=30), PARIS_LATITUDE, PARIS_LONGITUDE
            ),
            **{c: observed[c].to_numpy() for c in WEATHER_COLUMNS},
            "weather_observed": observed["weather_observed"].to_numpy(),
        },
        index=stamps,
    )


def add_features(
    valid: pd.DataFrame, weather: pd.DataFrame, context: dict[str, Any]
) -> pd.DataFrame:
    """Build the feature table every model shares.

    Local time (Europe/Paris) gives hour, day of month, month, year, day of week
    (Monday=0), day of year, ``day_index`` (days since 2000-01-01: the trend, which trees
    hold at its last level beyond the training period), weekend, and sine/cosine encodings
    of the cyclical ones; the
    calendar gives French public holidays, bridge days and the zone's school holidays;
    the restriction table gives lockdown and curfew in force at that hour; the sun gives
    daylight; the weather is, in order of preference, what the row itself carries (a
    request's), the observed hourly weather, the climatology of that day and hour.
    Photo and URL columns are dropped.

    Args:
        valid: Valid rows: counter identity and coordinates, ``timestamp_utc``
            (tz-aware), ``count_value`` (NaN when unknown), ``row_number``, and optionally
            weather columns (:data:`WEATHER_COLUMNS`, NaN where not given).
        weather: Observed hourly weather (``exogenous.weather.to_hourly``; may be empty).
        context: :func:`feature_context`.

    Returns:
        One row per counter and hour, sorted by counter then time, with the columns of
        :data:`FEATURE_COLUMNS`.
    """
    utc = pd.DatetimeIndex(valid["timestamp_utc"]).tz_convert("UTC")
    unique = pd.DatetimeIndex(utc.unique()).sort_values()
    per_hour = _hour_features(unique, weather, context).reindex(utc)
    given = {c: valid[c].to_numpy(dtype=float) for c in WEATHER_COLUMNS if c in valid.columns}
    requested = np.zeros(len(valid), dtype=bool)  # weather given with the row itself
    for values in given.values():
        requested |= ~np.isnan(values)
    weather_values = {
        c: np.where(np.isnan(given[c]), per_hour[c].to_numpy(), given[c])
        if c in given
        else per_hour[c].to_numpy()
        for c in WEATHER_COLUMNS
    }
    local = valid["timestamp_utc"].dt.tz_convert(PARIS_TZ)
    hour = local.dt.hour.astype("int16")
    dow = local.dt.day_of_week.astype("int16")
    month = local.dt.month.astype("int16")
    doy = local.dt.day_of_year.astype("int16")
    two_pi = 2 * np.pi
    features = valid.drop(
        columns=[c for c in (*PHOTO_COLUMNS_SNAKE, *WEATHER_COLUMNS) if c in valid.columns]
    ).assign(
        **{
            TIMESTAMP: local,
            "date": local.dt.tz_localize(None).dt.normalize(),
            "hour": hour,
            "day": local.dt.day.astype("int16"),
            "month": month,
            "year": local.dt.year.astype("int16"),
            "day_of_week": dow,
            "day_of_year": doy,
            "day_index": (local.dt.tz_localize(None).dt.normalize() - DAY_INDEX_ORIGIN).dt.days,
            "is_weekend": dow >= 5,
            **{
                c: per_hour[c].to_numpy(dtype=bool)
                for c in ("is_holiday", "bridge_day", "school_holiday", "lockdown", "curfew")
            },
            "daylight": per_hour["daylight"].to_numpy(dtype=bool),
            **weather_values,
            "weather_observed": per_hour["weather_observed"].to_numpy(dtype=bool) | requested,
            "hour_sin": np.sin(two_pi * hour / 24),
            "hour_cos": np.cos(two_pi * hour / 24),
            "day_of_week_sin": np.sin(two_pi * dow / 7),
            "day_of_week_cos": np.cos(two_pi * dow / 7),
            "month_sin": np.sin(two_pi * (month - 1) / 12),
            "month_cos": np.cos(two_pi * (month - 1) / 12),
            "day_of_year_sin": np.sin(two_pi * (doy - 1) / 365.25),
            "day_of_year_cos": np.cos(two_pi * (doy - 1) / 365.25),
            COUNT: valid["count_value"],
            INSTALLED: pd.to_datetime(valid[INSTALLED], errors="coerce", format="ISO8601")
            if INSTALLED in valid.columns
            else pd.NaT,
            TECHNICAL_ID: blank_to_na(valid[TECHNICAL_ID])
            if TECHNICAL_ID in valid.columns
            else pd.NA,
        }
    )
    features = features[list(FEATURE_COLUMNS)]
    return features.sort_values([COUNTER, TIMESTAMP], kind="stable").reset_index(drop=True)


def counter_table(train: pd.DataFrame) -> pd.DataFrame:
    """One row per counter seen in training: identifiers, site, coordinates, mean count.

    Args:
        train: ``train_baseline`` (or any feature table with counts).

    Returns:
        :data:`COUNTER_COLUMNS` plus ``mean_count`` and ``hours``, sorted by name.
    """
    grouped = train.groupby(COUNTER, observed=True)
    table = grouped.agg(
        **{
            COUNTER_ID: (COUNTER_ID, "first"),
            SITE_ID: (SITE_ID, "first"),
            SITE: (SITE, "first"),
            "latitude": ("latitude", "median"),
            "longitude": ("longitude", "median"),
            "mean_count": (COUNT, "mean"),
            "hours": (COUNT, "size"),
        }
    ).reset_index()
    table[COUNTER] = table[COUNTER].astype(str)
    return table.sort_values(COUNTER, kind="stable").reset_index(drop=True)


def request_rows(
    counters: pd.Series,
    stamps_utc: pd.Series,
    known: pd.DataFrame,
    context: dict[str, Any],
    weather: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The feature rows of (counter, instant) requests, in request order.

    Each counter's identity and coordinates come from ``known`` (the training
    counters); the features are those of :func:`add_features`, with the weather given
    with the requests where there is some, else the context's climatology.

    Args:
        counters: Counter names, all present in ``known``.
        stamps_utc: Tz-aware instants, one per counter.
        known: :func:`counter_table` rows (at least :data:`COUNTER_COLUMNS`).
        context: :func:`feature_context`.
        weather: The requests' weather (:data:`WEATHER_COLUMNS`, NaN where not given),
            aligned with ``counters``; None when no request gives any.

    Returns:
        The feature table with an unknown count, one row per request, in the
        requests' order (``row_number`` is the position, from 0).
    """
    info = known.set_index(COUNTER)
    names = pd.Series(counters, dtype=object).astype(str).to_numpy()
    given = {} if weather is None else {c: weather[c].to_numpy(dtype=float) for c in weather}
    valid = pd.DataFrame(
        {
            **{c: info[c].reindex(names).to_numpy() for c in COUNTER_COLUMNS if c != COUNTER},
            COUNTER: names,
            "timestamp_utc": pd.to_datetime(pd.Series(stamps_utc).to_numpy(), utc=True),
            "count_value": np.nan,
            ROW_NUMBER: np.arange(len(names), dtype=np.int64),
            **given,
        }
    )
    features = add_features(valid, no_observed_weather(), context)
    return features.sort_values(ROW_NUMBER, kind="stable").reset_index(drop=True)
