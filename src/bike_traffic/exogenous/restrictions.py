"""COVID-19 movement restrictions (lockdowns, curfews) as a dated table, and hourly flags.

The table is meant to be written by users in YAML parameters, one entry per period::

    - {kind: lockdown, start: "2020-10-30", end: "2020-12-15", note: ..., source: ...}
    - {kind: curfew, start: "2020-10-17", end: "2020-10-30", from_hour: 21, to_hour: 6}

``start`` is the first local (Europe/Paris) date in force and ``end`` the first date no
longer in force (exclusive). A lockdown covers whole local days. A curfew entry covers the
nights that *begin* on a date in ``[start, end)``: from ``from_hour`` that evening until
``to_hour`` the next morning, so the morning after the last evening is still in force. A
night without curfew (24→25 Dec 2020) is written by splitting the entry around it. Hours
are compared in local time, after converting the UTC instants, so clock changes are right.

:data:`PARIS_2020_2021` is the table for Paris, checked against the decrees it cites.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd

from bike_traffic.exogenous.calendars import PARIS_TZ, utc_instants

logger = logging.getLogger(__name__)

KINDS = ("lockdown", "curfew")
_HOUR_FIELDS = ("from_hour", "to_hour")
_ALLOWED_FIELDS = {"kind", "start", "end", "from_hour", "to_hour", "note", "source"}


def _legifrance(day: str, number: str) -> str:
    year, month, dom = (int(part) for part in day.split("-"))
    return f"https://www.legifrance.gouv.fr/eli/decret/{year}/{month}/{dom}/{number}/jo/texte"


#: Lockdowns and curfews in force in Paris in 2020-2021 (local dates, end exclusive).
PARIS_2020_2021: list[dict[str, Any]] = [
    {
        "kind": "lockdown",
        "start": "2020-03-17",
        "end": "2020-05-11",
        "note": "First national lockdown, from 17 March 12:00 (the whole day is flagged) "
        "to the first phase of easing on 11 May.",
        "source": "Décret n° 2020-260 du 16 mars 2020 "
        f"{_legifrance('2020-03-16', '2020-260')}; ended by décret n° 2020-545 du 11 mai 2020 "
        f"{_legifrance('2020-05-11', '2020-545')}",
    },
    {
        "kind": "curfew",
        "start": "2020-10-17",
        "end": "2020-10-30",
        "from_hour": 21,
        "to_hour": 6,
        "note": "Curfew 21h-6h in Île-de-France and 8 metropolitan areas, superseded by the "
        "lockdown of 30 October (the morning of 30 October is flagged).",
        "source": "Décret n° 2020-1262 du 16 octobre 2020, art. 51 and annexe 2 "
        f"{_legifrance('2020-10-16', '2020-1262')}",
    },
    {
        "kind": "lockdown",
        "start": "2020-10-30",
        "end": "2020-12-15",
        "note": "Second national lockdown (shops reopened 28 November: décret n° 2020-1454); "
        "the curfew regime took over on 15 December.",
        "source": "Décret n° 2020-1310 du 29 octobre 2020 "
        f"{_legifrance('2020-10-29', '2020-1310')}",
    },
    {
        "kind": "curfew",
        "start": "2020-12-15",
        "end": "2020-12-24",
        "from_hour": 20,
        "to_hour": 6,
        "note": "National curfew 20h-6h; the night of 24 to 25 December had none.",
        "source": "Décret n° 2020-1582 du 14 décembre 2020 "
        f"{_legifrance('2020-12-14', '2020-1582')}",
    },
    {
        "kind": "curfew",
        "start": "2020-12-25",
        "end": "2021-01-16",
        "from_hour": 20,
        "to_hour": 6,
        "note": "National curfew 20h-6h resumes after Christmas Eve (31 December not exempted).",
        "source": "Décret n° 2020-1582 du 14 décembre 2020 "
        f"{_legifrance('2020-12-14', '2020-1582')}",
    },
    {
        "kind": "curfew",
        "start": "2021-01-16",
        "end": "2021-03-20",
        "from_hour": 18,
        "to_hour": 6,
        "note": "National curfew 18h-6h from Saturday 16 January.",
        "source": f"Décret n° 2021-31 du 15 janvier 2021 {_legifrance('2021-01-15', '2021-31')}",
    },
    {
        "kind": "lockdown",
        "start": "2021-03-20",
        "end": "2021-05-03",
        "note": "Third lockdown ('mesures renforcées') in Paris and Île-de-France from 20 March "
        "(extended nationally on 3 April by décret n° 2021-384); daytime limits lifted "
        "on 3 May (décret n° 2021-541).",
        "source": f"Décret n° 2021-296 du 19 mars 2021 {_legifrance('2021-03-19', '2021-296')}",
    },
    {
        "kind": "curfew",
        "start": "2021-03-20",
        "end": "2021-05-19",
        "from_hour": 19,
        "to_hour": 6,
        "note": "National curfew moved to 19h-6h from Saturday 20 March.",
        "source": f"Décret n° 2021-296 du 19 mars 2021 {_legifrance('2021-03-19', '2021-296')}",
    },
    {
        "kind": "curfew",
        "start": "2021-05-19",
        "end": "2021-06-09",
        "from_hour": 21,
        "to_hour": 6,
        "note": "Curfew 21h-6h; terraces, shops and museums reopen.",
        "source": f"Décret n° 2021-606 du 18 mai 2021 {_legifrance('2021-05-18', '2021-606')}",
    },
    {
        "kind": "curfew",
        "start": "2021-06-09",
        "end": "2021-06-20",
        "from_hour": 23,
        "to_hour": 6,
        "note": "Curfew 23h-6h, lifted on Sunday 20 June at 06:00 (ten days before the planned "
        "30 June; the amending decree of about 18 June was not checked).",
        "source": "Décret n° 2021-724 du 7 juin 2021 (amends décret n° 2021-699 du 1er juin "
        f"2021) {_legifrance('2021-06-07', '2021-724')}",
    },
]


def _as_date(value: object, where: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ValueError(f"{where}: {value!r} is not a date written YYYY-MM-DD")


def _as_hour(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{where}: {value!r} is not a whole hour 0..23")
    if not 0 <= int(value) <= 23:
        raise ValueError(f"{where}: {value} is outside 0..23")
    return int(value)


def validate_restrictions(table: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Check a restriction table and return it with dates and hours typed.

    Args:
        table: Entries with ``kind`` (``lockdown`` or ``curfew``), ``start`` and ``end``
            (local dates ``YYYY-MM-DD``, end exclusive), for a curfew ``from_hour`` and
            ``to_hour`` (0..23, local), and optional ``note`` and ``source`` texts.

    Returns:
        New dicts, in the same order, with ``start``/``end`` as ``datetime.date``, hours as
        ``int`` (``None`` for a lockdown) and ``note``/``source`` as text (``""`` if absent).

    Raises:
        ValueError: Naming the entry's index and field, on a table that is not a list, an
            entry that is not a mapping, an unknown field or kind, a bad date or hour, a
            missing curfew hour, hours on a lockdown, equal curfew hours, or
            ``end <= start``.
    """
    if isinstance(table, str | bytes | Mapping) or not isinstance(table, Sequence):
        raise ValueError(f"restrictions must be a list of entries, got {type(table).__name__}")
    checked: list[dict[str, Any]] = []
    for index, entry in enumerate(table):
        where = f"restrictions[{index}]"
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where} is not a mapping: {entry!r}")
        unknown = sorted(set(entry) - _ALLOWED_FIELDS)
        if unknown:
            raise ValueError(
                f"{where}.{unknown[0]}: unknown field (allowed: {sorted(_ALLOWED_FIELDS)})"
            )
        kind = entry.get("kind")
        if kind not in KINDS:
            raise ValueError(f"{where}.kind: {kind!r} is not one of {list(KINDS)}")
        for field in ("start", "end"):
            if entry.get(field) is None:
                raise ValueError(f"{where}.{field}: missing")
        start = _as_date(entry["start"], f"{where}.start")
        end = _as_date(entry["end"], f"{where}.end")
        if end <= start:
            raise ValueError(f"{where}.end: {end} is not after start {start} (end is exclusive)")
        hours: dict[str, int | None] = {"from_hour": None, "to_hour": None}
        if kind == "curfew":
            for field in _HOUR_FIELDS:
                if entry.get(field) is None:
                    raise ValueError(f"{where}.{field}: missing (a curfew needs both hours)")
                hours[field] = _as_hour(entry[field], f"{where}.{field}")
            if hours["from_hour"] == hours["to_hour"]:
                raise ValueError(f"{where}.to_hour: equals from_hour ({hours['to_hour']})")
        else:
            for field in _HOUR_FIELDS:
                if entry.get(field) is not None:
                    raise ValueError(f"{where}.{field}: a lockdown covers whole days, no hours")
        checked.append(
            {
                "kind": kind,
                "start": start,
                "end": end,
                **hours,
                "note": str(entry.get("note") or ""),
                "source": str(entry.get("source") or ""),
            }
        )
    return checked


def restriction_flags(stamps_utc: object, table: Sequence[Mapping[str, Any]]) -> pd.DataFrame:
    """Whether a lockdown or a curfew was in force at each instant.

    The instants are converted to Europe/Paris; a lockdown flags every instant of its local
    days ``[start, end)``; a curfew flags local times from ``from_hour`` on a date of
    ``[start, end)`` until ``to_hour`` the next morning (``to_hour`` excluded). For hourly
    counts labelled by the start of the hour, the hour 21:00-22:00 is in a 21h curfew and the
    hour 06:00-07:00 is not.

    Args:
        stamps_utc: Tz-aware instants (any time zone).
        table: The restriction table (validated here with :func:`validate_restrictions`).

    Returns:
        A frame aligned with the stamps: ``timestamp_utc``, ``lockdown``, ``curfew`` (bool).

    Raises:
        ValueError: When the stamps are naive or the table is invalid.
    """
    entries = validate_restrictions(table)
    instants = utc_instants(stamps_utc)
    local = instants.tz_convert(PARIS_TZ)
    day = local.tz_localize(None).normalize().to_numpy().astype("datetime64[D]")
    hour_of_day = (local.hour + local.minute / 60.0 + local.second / 3600.0).to_numpy()
    lockdown = np.zeros(len(instants), dtype=bool)
    curfew = np.zeros(len(instants), dtype=bool)
    one_day = np.timedelta64(1, "D")
    for entry in entries:
        start = np.datetime64(entry["start"], "D")
        end = np.datetime64(entry["end"], "D")
        if entry["kind"] == "lockdown":
            lockdown |= (day >= start) & (day < end)
            continue
        begin, until = entry["from_hour"], entry["to_hour"]
        if begin < until:  # within one day (not a night)
            in_hours = (hour_of_day >= begin) & (hour_of_day < until)
            curfew |= in_hours & (day >= start) & (day < end)
            continue
        evening = hour_of_day >= begin
        morning = hour_of_day < until
        night_of = np.where(morning, day - one_day, day)
        curfew |= (evening | morning) & (night_of >= start) & (night_of < end)
    logger.debug(
        "Restriction flags: %d of %d instants in lockdown, %d in curfew.",
        int(lockdown.sum()),
        len(instants),
        int(curfew.sum()),
    )
    return pd.DataFrame({"timestamp_utc": instants, "lockdown": lockdown, "curfew": curfew})
