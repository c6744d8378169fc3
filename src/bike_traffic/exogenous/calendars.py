"""School holidays, public holidays and bridge days for Paris, from official sources.

School holidays come from the Ministry of Education's open file "Calendrier scolaire"
(data.education.gouv.fr, ``fr-en-calendrier-scolaire``, Licence Ouverte / Etalab): one
``;``-separated row per holiday period, académie and population, with the dates written as
local midnight with an offset (``2020-10-17T00:00:00+02:00``). Public holidays come from the
``holidays`` package (metropolitan France).

Every date here is a local (Europe/Paris) calendar date. This module also holds the one
helper the other ``exogenous`` modules share to accept instants: :func:`utc_instants`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date

import holidays
import numpy as np
import pandas as pd

logger = logging.getLogger(__name__)

PARIS_TZ = "Europe/Paris"

#: Columns of the official school calendar file that :func:`school_holiday_periods` reads.
CALENDAR_COLUMNS = ("description", "population", "start_date", "end_date", "location", "zones")

#: Populations whose holidays are the pupils' (``-`` = the row applies to everyone).
_PUPIL_POPULATIONS = ("-", "")


def utc_instants(stamps: object, name: str = "stamps_utc") -> pd.DatetimeIndex:
    """Read instants as a tz-aware UTC index, refusing naive timestamps.

    Args:
        stamps: Timestamps: a tz-aware ``DatetimeIndex``, ``Series`` or list of them,
            in any time zone (they are converted to UTC).
        name: The argument's name, for the error message.

    Returns:
        A ``DatetimeIndex`` in UTC, in the order given.

    Raises:
        ValueError: When the stamps are naive (no time zone) or cannot be read as timestamps.
    """
    try:
        index = pd.DatetimeIndex(stamps)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} cannot be read as timestamps: {exc}") from exc
    if index.tz is None:
        raise ValueError(
            f"{name} are naive timestamps: give tz-aware instants "
            "(naive UTC data: .tz_localize('UTC'))."
        )
    return index.tz_convert("UTC")


def to_local_dates(dates: object, name: str = "local_dates") -> np.ndarray:
    """Read local calendar dates as a ``datetime64[D]`` array.

    Args:
        dates: Dates: ``datetime.date`` objects, ISO strings, naive timestamps (taken as
            local, their time dropped) or tz-aware timestamps (converted to Europe/Paris
            first, so 23:30 UTC on 31 Dec is 1 Jan).
        name: The argument's name, for the error message.

    Returns:
        The local dates, as ``numpy.datetime64[D]``, in the order given.

    Raises:
        ValueError: When a value cannot be read as a date.
    """
    values = dates
    if not isinstance(dates, pd.Series | pd.Index | np.ndarray):
        values = pd.Series(list(np.atleast_1d(dates)))
    try:
        index = pd.DatetimeIndex(pd.to_datetime(values))
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} cannot be read as dates: {exc}") from exc
    if index.tz is not None:
        index = index.tz_convert(PARIS_TZ).tz_localize(None)
    if index.isna().any():
        raise ValueError(f"{name} has {int(index.isna().sum())} missing date(s).")
    return index.normalize().to_numpy().astype("datetime64[D]")


def school_holiday_periods(
    calendar: pd.DataFrame, zone: str, location: str | None = None
) -> pd.DataFrame:
    """Unique school holiday periods of one zone from the official calendar file.

    The file repeats each period once per académie of the zone, and since 2020-2021 gives
    the summer holidays twice, for pupils (``Élèves``) and teachers (``Enseignants``): the
    teachers' rows are dropped and the rest de-duplicated. Dates are taken as the local
    dates written in the file (``str[:10]``); converting them to UTC first would move every
    date back one day. ``start_date`` is the first day off (officially "after class" that
    day, usually a Saturday) and ``end_date`` the day classes resume (an exclusive end).
    A row whose end equals its start (``Début des Vacances d'Été`` 2026, an end not yet
    published) is an empty period: it is dropped with a warning.

    Args:
        calendar: The file as read with ``sep=';'``, every column as text.
        zone: The zone, ``"C"`` or ``"Zone C"`` (Paris is zone C); other names as written
            in the file (``"Corse"``).
        location: An académie (``"Paris"``) to keep only its rows; ``None`` keeps the zone's.

    Returns:
        One row per period, sorted by start: ``description``, ``school_year``,
        ``first_day_off`` and ``first_school_day`` (naive ``datetime64`` local dates, the
        second one an exclusive end).

    Raises:
        ValueError: When a column is missing, the zone or location is unknown, a date
            cannot be read, an end comes before its start, or the académies of the zone
            disagree on a period (then pass ``location``).
    """
    missing = [c for c in CALENDAR_COLUMNS if c not in calendar.columns]
    if missing:
        raise ValueError(f"school calendar lacks column(s) {missing}; has {list(calendar.columns)}")
    zones = calendar["zones"].astype(str).str.strip()
    wanted = zone.strip()
    if wanted not in set(zones) and f"Zone {wanted}" in set(zones):
        wanted = f"Zone {wanted}"
    rows = calendar.loc[zones == wanted]
    if rows.empty:
        raise ValueError(
            f"zone {zone!r} is not in the school calendar; zones: {sorted(set(zones))}"
        )
    if location is not None:
        in_zone = sorted(set(rows["location"].astype(str)))
        rows = rows.loc[rows["location"].astype(str).str.strip() == location.strip()]
        if rows.empty:
            raise ValueError(f"location {location!r} is not in {wanted}; locations: {in_zone}")

    population = rows["population"].astype(str).str.strip()
    pupils = population.isin(_PUPIL_POPULATIONS) | population.str.startswith("Élèves")
    rows = rows.loc[pupils]
    first_off = pd.to_datetime(
        rows["start_date"].astype(str).str[:10], format="%Y-%m-%d", errors="coerce"
    )
    back = pd.to_datetime(rows["end_date"].astype(str).str[:10], format="%Y-%m-%d", errors="coerce")
    bad = first_off.isna() | back.isna()
    if bad.any():
        raise ValueError(
            f"school calendar rows {list(rows.index[bad][:5])} have unreadable dates, e.g. "
            f"{rows.loc[bad, ['start_date', 'end_date']].iloc[0].tolist()}"
        )
    periods = pd.DataFrame(
        {
            "description": rows["description"].astype(str).str.strip().to_numpy(),
            "school_year": rows.get("annee_scolaire", pd.Series("", index=rows.index))
            .astype(str)
            .to_numpy(),
            "first_day_off": first_off.to_numpy(),
            "first_school_day": back.to_numpy(),
        }
    ).drop_duplicates(["description", "first_day_off", "first_school_day"])
    backwards = periods["first_school_day"] < periods["first_day_off"]
    if backwards.any():
        raise ValueError(f"school calendar periods end before they start: {periods[backwards]}")
    empty = periods["first_school_day"] == periods["first_day_off"]
    for row in periods.loc[empty].itertuples():
        logger.warning(
            "School calendar %s: %r on %s has no end date yet; not counted as holidays.",
            wanted,
            row.description,
            row.first_day_off.date(),
        )
    periods = periods.loc[~empty]
    clash = periods.duplicated(["description", "school_year", "first_day_off"], keep=False)
    clash |= periods.duplicated(["description", "school_year", "first_school_day"], keep=False)
    if clash.any():
        raise ValueError(
            f"the académies of {wanted} disagree on "
            f"{sorted(set(periods.loc[clash, 'description']))}: pass location= to choose one."
        )
    logger.info("%d school holiday periods for %s.", len(periods), wanted)
    return periods.sort_values("first_day_off").reset_index(drop=True)


def is_school_holiday(local_dates: object, periods: pd.DataFrame) -> np.ndarray:
    """Flag the local dates that fall in a school holiday period.

    Args:
        local_dates: Local dates (see :func:`to_local_dates`: dates, strings, naive local
            timestamps or tz-aware timestamps, converted to Europe/Paris).
        periods: Periods as :func:`school_holiday_periods` returns them.

    Returns:
        A boolean array aligned with the dates: ``first_day_off <= date < first_school_day``.

    Raises:
        ValueError: When ``periods`` lacks its date columns or a date cannot be read.
    """
    for column in ("first_day_off", "first_school_day"):
        if column not in periods.columns:
            raise ValueError(f"periods lacks column {column!r}: use school_holiday_periods().")
    days = to_local_dates(local_dates)
    unique, inverse = np.unique(days, return_inverse=True)
    starts = pd.to_datetime(periods["first_day_off"]).to_numpy().astype("datetime64[D]")
    ends = pd.to_datetime(periods["first_school_day"]).to_numpy().astype("datetime64[D]")
    inside = (unique[:, None] >= starts[None, :]) & (unique[:, None] < ends[None, :])
    return inside.any(axis=1)[inverse.ravel()]


def public_holidays(years: Iterable[int]) -> set[date]:
    """French public holidays of metropolitan France (``holidays.France``, no subdivision).

    Args:
        years: Calendar years to cover.

    Returns:
        The holiday dates (``datetime.date``); empty for no years.

    Raises:
        ValueError: When a year is not an integer between 1900 and 2100.
    """
    wanted = sorted({int(y) for y in years})
    outside = [y for y in wanted if not 1900 <= y <= 2100]
    if outside:
        raise ValueError(f"years {outside} are outside 1900..2100")
    if not wanted:
        return set()
    return set(holidays.France(years=wanted).keys())


def is_bridge_day(local_dates: object, public: set[date]) -> np.ndarray:
    """Flag bridge days ("ponts"): working days wedged between a holiday and a day off.

    A bridge day is a Monday-to-Friday that is not a public holiday, with a public holiday
    on one side and a weekend day or public holiday on the other: the Friday after
    Ascension Thursday, the Monday before a Tuesday holiday.

    Args:
        local_dates: Local dates (see :func:`to_local_dates`).
        public: Public holiday dates (:func:`public_holidays`) covering the dates and the
            day on either side of them.

    Returns:
        A boolean array aligned with the dates.

    Raises:
        ValueError: When a date cannot be read.
    """
    days = to_local_dates(local_dates)
    one = np.timedelta64(1, "D")
    holiday_days = np.array(sorted(public), dtype="datetime64[D]")

    def off(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        is_holiday = np.isin(values, holiday_days)
        weekend = ~np.is_busday(values, weekmask="1111100")
        return is_holiday, is_holiday | weekend

    holiday_today, off_today = off(days)
    holiday_before, off_before = off(days - one)
    holiday_after, off_after = off(days + one)
    working = ~off_today & ~holiday_today
    return working & ((holiday_before & off_after) | (holiday_after & off_before))
