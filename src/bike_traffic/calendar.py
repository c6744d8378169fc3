"""French calendar facts shared by the generator and the cleaning pipeline, and local time
written as the export writes it."""

from __future__ import annotations

from collections.abc import Iterable

import holidays
import numpy as np
import pandas as pd

PARIS_TZ = "Europe/Paris"


def french_holidays(years: Iterable[int]) -> set:
    """Return the dates of French public holidays (metropolitan France).

    Args:
        years: Calendar years to cover.

    Returns:
        A set of :class:`datetime.date`.
    """
    return set(holidays.France(years=sorted(set(int(y) for y in years))).keys())


def is_french_holiday(dates: pd.Series) -> pd.Series:
    """Flag the French public holidays in a series of dates or timestamps.

    Args:
        dates: Dates, naive or tz-aware timestamps (their local date is used).

    Returns:
        A boolean series aligned with ``dates``.
    """
    days = pd.Series(pd.to_datetime(dates).dt.date, index=dates.index)
    years = pd.to_datetime(dates).dt.year.dropna().unique()
    return days.isin(french_holidays(years))


def iso_local(stamps: pd.Series) -> np.ndarray:
    """Tz-aware timestamps as ISO 8601 text with their offset, e.g. ``2024-07-05T08:00:00+02:00``.

    Vectorised: ``Timestamp.isoformat`` row by row takes over a second for 100k rows. A
    missing time is written "".
    """
    known = stamps.notna().to_numpy()
    out = np.full(len(stamps), "", dtype=object)
    if not known.any():
        return out
    present = stamps[known]
    naive = present.dt.tz_localize(None)
    text = np.datetime_as_string(naive.to_numpy().astype("datetime64[s]"), unit="s")
    utc = present.dt.tz_convert("UTC").dt.tz_localize(None)
    minutes = ((naive - utc).dt.total_seconds() // 60).astype("int64")

    def offset(value: int) -> str:
        sign, value = ("+", value) if value >= 0 else ("-", -value)
        return f"{sign}{value // 60:02d}:{value % 60:02d}"

    suffix = minutes.map({v: offset(int(v)) for v in minutes.unique()}).to_numpy(dtype=str)
    out[known] = np.char.add(text.astype(str), suffix).astype(object)
    return out
