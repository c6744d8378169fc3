"""The feature table every model learns from and predicts on, built by one function.

:func:`add_time_features` is the ``data_cleaning`` node that turns valid counts into
the feature table, and the function the logged predictor
(:class:`bike_traffic.models.predictor.Predictor`) calls on the rows it is asked
about (:func:`request_rows`): training and serving build features with the same code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bike_traffic.calendar import PARIS_TZ, is_french_holiday
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
    "is_weekend",
    "is_holiday",
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


def add_time_features(valid: pd.DataFrame) -> pd.DataFrame:
    """Build the feature table every model shares.

    Local time (Europe/Paris) gives hour, day of month, month, year, day of
    week (Monday=0), day of year, weekend and French public holiday flags, and
    sine/cosine encodings of the cyclical ones. Photo and URL columns are dropped.

    Args:
        valid: Valid rows: counter identity and coordinates, ``timestamp_utc``
            (tz-aware), ``count_value`` (NaN when unknown) and ``row_number``.

    Returns:
        One row per counter and hour, sorted by counter then time, with the
        columns of :data:`FEATURE_COLUMNS`.
    """
    local = valid["timestamp_utc"].dt.tz_convert(PARIS_TZ)
    hour = local.dt.hour.astype("int16")
    dow = local.dt.day_of_week.astype("int16")
    month = local.dt.month.astype("int16")
    doy = local.dt.day_of_year.astype("int16")
    two_pi = 2 * np.pi
    features = valid.drop(
        columns=[c for c in PHOTO_COLUMNS_SNAKE if c in valid.columns], errors="ignore"
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
            "is_weekend": dow >= 5,
            "is_holiday": is_french_holiday(local).to_numpy(),
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


def request_rows(counters: pd.Series, stamps_utc: pd.Series, known: pd.DataFrame) -> pd.DataFrame:
    """The feature rows of (counter, instant) requests, in request order.

    Each counter's identity and coordinates come from ``known`` (the training
    counters); the features are those of :func:`add_time_features`.

    Args:
        counters: Counter names, all present in ``known``.
        stamps_utc: Tz-aware instants, one per counter.
        known: :func:`counter_table` rows (at least :data:`COUNTER_COLUMNS`).

    Returns:
        The feature table with an unknown count, one row per request, in the
        requests' order (``row_number`` is the position, from 0).
    """
    info = known.set_index(COUNTER)
    names = pd.Series(counters, dtype=object).astype(str).to_numpy()
    valid = pd.DataFrame(
        {
            **{c: info[c].reindex(names).to_numpy() for c in COUNTER_COLUMNS if c != COUNTER},
            COUNTER: names,
            "timestamp_utc": pd.to_datetime(pd.Series(stamps_utc).to_numpy(), utc=True),
            "count_value": np.nan,
            ROW_NUMBER: np.arange(len(names), dtype=np.int64),
        }
    )
    features = add_time_features(valid)
    return features.sort_values(ROW_NUMBER, kind="stable").reset_index(drop=True)
