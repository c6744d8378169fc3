"""Forecasts the app shows: a day at a counter, every counter at an hour, and references.

Every prediction is the loaded predictor's answer to raw requests (counter, time): the
app builds no feature itself.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from bike_traffic.calendar import PARIS_TZ
from bike_traffic.models.classifier import label_rows
from bike_traffic.models.evaluation import fit_naive_baseline
from bike_traffic.raw_format import COUNTER, TIMESTAMP
from bike_traffic.registry.loading import LoadedModel


def day_hours(day: Any) -> pd.DatetimeIndex:
    """The hours of a local day in Paris, in UTC: 24, or 23/25 on clock-change days."""
    start = pd.Timestamp(day).normalize()
    return pd.date_range(
        start.tz_localize(PARIS_TZ),
        (start + pd.Timedelta(days=1)).tz_localize(PARIS_TZ),
        freq="h",
        inclusive="left",
    ).tz_convert("UTC")


def _ask(
    model: LoadedModel,
    counters: list[str],
    stamps: pd.DatetimeIndex,
    weather: dict[int, dict[str, float]] | None = None,
) -> pd.DataFrame:
    """The predictor's answer for each counter at each instant (counter-major order).

    ``weather`` gives, by local hour, the weather inputs of those hours' requests
    (``temperature``, ``rain``...); other hours take the predictor's climatology.
    """
    requests = pd.DataFrame(
        {
            "counter": np.repeat(np.asarray(counters, dtype=object), len(stamps)),
            "timestamp": np.tile(stamps.to_numpy(), len(counters)),
        }
    )
    requests["timestamp"] = pd.to_datetime(requests["timestamp"], utc=True)
    hours = requests["timestamp"].dt.tz_convert(PARIS_TZ).dt.hour
    for hour, given in (weather or {}).items():
        for name, value in given.items():
            if name not in requests:
                requests[name] = np.nan
            requests.loc[hours == int(hour), name] = float(value)
    answers = model.predictor.predict_values(requests)
    lower, upper = model.predictor.bounds(answers.values)
    local = requests["timestamp"].dt.tz_convert(PARIS_TZ)
    return pd.DataFrame(
        {
            COUNTER: requests["counter"],
            TIMESTAMP: local,
            "hour": local.dt.hour.to_numpy(),
            "is_weekend": (local.dt.day_of_week >= 5).to_numpy(),
            "prediction": answers.values,
            "lower": lower,
            "upper": upper,
            "error": answers.error.to_numpy(),
        }
    )


def predict_day(
    model: LoadedModel,
    counter: str,
    day: Any,
    weather: dict[int, dict[str, float]] | None = None,
) -> pd.DataFrame:
    """The model's prediction for each hour of a local day at one counter.

    Args:
        model: A loaded model.
        counter: The counter's name.
        day: The local date.
        weather: What-if weather by local hour (``{8: {"rain": 2.0}}``: it rains 2 mm at
            8:00), the request inputs of :data:`bike_traffic.validation.REQUEST_WEATHER`;
            the other hours (and inputs) take the training climatology.

    Returns:
        ``date_et_heure_de_comptage`` (local), ``hour``, ``is_weekend``, ``prediction``
        (count, or P(high) for the classifier), ``lower`` and ``upper`` (the regressor's
        interval; NaN without one) and ``error`` (why an hour is not served), in time
        order.
    """
    return _ask(model, [str(counter)], day_hours(day), weather).drop(columns=COUNTER)


def pick_hour(profile: pd.DataFrame, hour: int) -> pd.Series | None:
    """The row of a day's profile at a local hour (the first of two on the autumn change).

    Returns:
        The row, or None when that hour does not exist that day (spring change).
    """
    found = profile.loc[profile["hour"] == int(hour)]
    return None if found.empty else found.iloc[0]


def predict_all_counters(
    model: LoadedModel, counters: pd.DataFrame, day: Any, hour: int
) -> pd.DataFrame | None:
    """Every counter's prediction at one local hour of a day.

    Returns:
        ``counters`` with ``prediction`` and ``error`` columns, or None when the hour
        does not exist that day (spring clock change).
    """
    stamps = [s for s in day_hours(day) if s.tz_convert(PARIS_TZ).hour == int(hour)][:1]
    if not stamps:
        return None
    names = counters[COUNTER].astype(str).tolist()
    answers = _ask(model, names, pd.DatetimeIndex(stamps))
    return counters.assign(
        prediction=answers["prediction"].to_numpy(), error=answers["error"].to_numpy()
    )


def historical_profile(train: pd.DataFrame) -> pd.DataFrame:
    """Mean count per counter x hour x weekday/weekend on train (the naive baseline)."""
    return fit_naive_baseline(train)


def high_share_profile(train: pd.DataFrame, thresholds: dict[str, Any]) -> pd.DataFrame:
    """Share of high-traffic hours per counter x hour x weekday/weekend on train.

    Args:
        train: ``train_baseline``.
        thresholds: The classifier's thresholds (its predictor's ``extras["thresholds"]``).

    Returns:
        Columns counter, ``hour``, ``is_weekend``, ``baseline`` (share in [0, 1]).
    """
    labelled = train[[COUNTER, "hour", "is_weekend"]].assign(
        baseline=label_rows(thresholds, train).astype("float64")
    )
    return (
        labelled.groupby([COUNTER, "hour", "is_weekend"], observed=True)["baseline"]
        .mean()
        .reset_index()
    )


def map_view(counters: pd.DataFrame) -> dict[str, float]:
    """Where the app's maps open: the counters' centre, at a zoom that shows Paris."""
    return {
        "latitude": float(counters["latitude"].mean()),
        "longitude": float(counters["longitude"].mean()),
        "zoom": 11.2,
    }
