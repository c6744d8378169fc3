"""French calendar facts shared by the generator and the cleaning pipeline."""

from __future__ import annotations

from collections.abc import Iterable

import holidays
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
