"""The official school calendar file ("Calendrier scolaire", data.education.gouv.fr) for one zone.

The generator writes the zone's real holiday periods (public facts, given as parameters) in
the official file's format: ``;``-separated, UTF-8, the columns of
``fr-en-calendrier-scolaire.csv`` (:data:`CALENDAR_HEADER`), one row per period and académie,
dates as local midnight with their offset (``2024-10-19T00:00:00+02:00``), ``start_date`` the
first day off and ``end_date`` the day classes resume.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from bike_traffic.exogenous.calendars import PARIS_TZ

#: The header of the official file, as data.education.gouv.fr exports it without labels.
CALENDAR_HEADER: tuple[str, ...] = (
    "description",
    "population",
    "start_date",
    "end_date",
    "location",
    "zones",
    "annee_scolaire",
)
_PERIOD_FIELDS = {"description", "school_year", "start", "end", "population"}


def _local_midnight(day: pd.Timestamp) -> str:
    """``2024-10-19T00:00:00+02:00``: the date's local midnight with its offset."""
    return day.tz_localize(PARIS_TZ).isoformat()


def school_year_span(school_year: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """The dates a school year ``"2024-2025"`` covers: 1 September 2024 to 31 August 2025.

    Raises:
        ValueError: When the text is not ``YYYY-YYYY`` with consecutive years.
    """
    parts = str(school_year).split("-")
    if len(parts) != 2 or not all(p.isdigit() and len(p) == 4 for p in parts):
        raise ValueError(f"school_year {school_year!r} is not written YYYY-YYYY")
    first, second = int(parts[0]), int(parts[1])
    if second != first + 1:
        raise ValueError(f"school_year {school_year!r}: the years are not consecutive")
    return pd.Timestamp(first, 9, 1), pd.Timestamp(second, 8, 31)


def check_periods(periods: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Check the holiday periods given as parameters and return them as a table.

    Args:
        periods: Entries with ``description``, ``school_year`` (``2024-2025``), ``start``
            (first day off) and ``end`` (the day classes resume; equal to ``start`` for a
            marker row such as "Début des Vacances d'Été" whose end is not published), and an
            optional ``population`` (``-`` unless given, ``Élèves`` for pupils' summers).

    Returns:
        ``description``, ``population``, ``school_year``, ``start``, ``end`` (timestamps).

    Raises:
        ValueError: Naming the entry, on a missing or unknown field, an unreadable date,
            an end before the start, or a period outside its school year.
    """
    if isinstance(periods, str | bytes | Mapping) or not isinstance(periods, Sequence):
        raise ValueError("school_calendar.periods must be a list of periods")
    rows = []
    for index, entry in enumerate(periods):
        where = f"school_calendar.periods[{index}]"
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where} is not a mapping: {entry!r}")
        unknown = sorted(set(entry) - _PERIOD_FIELDS)
        missing = sorted({"description", "school_year", "start", "end"} - set(entry))
        if unknown or missing:
            raise ValueError(f"{where}: missing field(s) {missing}, unknown field(s) {unknown}")
        try:
            start, end = pd.Timestamp(str(entry["start"])), pd.Timestamp(str(entry["end"]))
        except ValueError as exc:
            raise ValueError(f"{where}: unreadable date ({exc})") from exc
        if end < start:
            raise ValueError(f"{where}: end {end.date()} is before start {start.date()}")
        first, last = school_year_span(str(entry["school_year"]))
        if start < first or start > last:
            raise ValueError(f"{where}: start {start.date()} is outside {entry['school_year']}")
        rows.append(
            {
                "description": str(entry["description"]),
                "population": str(entry.get("population") or "-"),
                "school_year": str(entry["school_year"]),
                "start": start.normalize(),
                "end": end.normalize(),
            }
        )
    return pd.DataFrame(rows, columns=["description", "population", "school_year", "start", "end"])


def calendar_rows(
    periods: pd.DataFrame,
    first_day: pd.Timestamp,
    last_day: pd.Timestamp,
    zone: str,
    academies: Sequence[str],
    rng: np.random.Generator,
) -> pd.DataFrame:
    """The official file's rows for the school years that overlap ``[first_day, last_day]``.

    Args:
        periods: As :func:`check_periods` returns them.
        first_day: The first local date to cover.
        last_day: The last local date to cover.
        zone: The zone as the file writes it (``Zone C``).
        academies: The académies of the zone: each period is written once per académie.
        rng: Shuffles the rows (the official file is in no useful order).

    Returns:
        :data:`CALENDAR_HEADER` columns, all text.

    Raises:
        ValueError: When a date of ``[first_day, last_day]`` falls in a school year that
            has no period, naming the school years to add.
    """
    if not academies:
        raise ValueError("school_calendar.academies is empty")
    years = sorted(set(periods["school_year"]))
    spans = {year: school_year_span(year) for year in years}
    needed = []
    year = first_day.year - 1 if first_day.month < 9 else first_day.year
    while pd.Timestamp(year, 9, 1) <= last_day:
        needed.append(f"{year}-{year + 1}")
        year += 1
    absent = [name for name in needed if name not in spans]
    if absent:
        raise ValueError(
            f"no school holiday period for school year(s) {absent} "
            f"(the data cover {first_day.date()} to {last_day.date()}): add the zone's periods "
            "of those years to synthetic_raw.school_calendar.periods (official file: "
            "data.education.gouv.fr, fr-en-calendrier-scolaire)."
        )
    chosen = periods.loc[periods["school_year"].isin(needed)]
    rows = [
        {
            "description": period.description,
            "population": period.population,
            "start_date": _local_midnight(period.start),
            "end_date": _local_midnight(period.end),
            "location": academy,
            "zones": zone,
            "annee_scolaire": period.school_year,
        }
        for period in chosen.itertuples(index=False)
        for academy in academies
    ]
    table = pd.DataFrame(rows, columns=list(CALENDAR_HEADER))
    return table.iloc[rng.permutation(len(table))].reset_index(drop=True)
