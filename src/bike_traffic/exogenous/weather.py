"""Weather from Météo-France "Données SYNOP essentielles OMM", made hourly for the counts.

SYNOP stations report every 3 hours in UTC. Two file layouts exist: the legacy monthly
archives (``numer_sta``, ``date`` as ``YYYYMMDDHHMMSS``, ``mq`` for missing) and the yearly
files of data.gouv.fr (``geo_id_wmo``, ``validity_time`` as ``2021-01-01T00:00:00Z``); the
observation columns keep their names and units in both: ``t`` in kelvin, ``rr1``/``rr3``
rain over the past 1/3 hours in mm (``-0.1`` = a trace), ``ff`` wind in m/s, ``u``
humidity in %. Credit: "Météo-France" (Licence Ouverte / Etalab).

The functions go, in order: :func:`normalize_synop` (text -> tidy 3-hourly frame and a
quarantine), :func:`missing_slots` (the 3-hour slots without a report),
:func:`to_hourly`, :func:`check_coverage` (against the counts' period),
:func:`climatology` (the serving default) and :func:`weather_at` (observed, else
climatology).

Hourly rows are labelled by the start of their hour, like the counts: the row at 08:00 UTC
holds the instantaneous temperature at 08:00 and the rain of 08:00-09:00.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd

from bike_traffic.exogenous.calendars import PARIS_TZ, utc_instants

logger = logging.getLogger(__name__)

#: Station columns of the legacy and the yearly layout.
STATION_COLUMNS = ("numer_sta", "geo_id_wmo")
#: Time columns of the legacy and the yearly layout.
TIME_COLUMNS = ("date", "validity_time")
#: The 59 columns of Météo-France's legacy monthly archives ``synop.YYYYMM.csv.gz``, in order.
LEGACY_COLUMNS: tuple[str, ...] = tuple(
    "numer_sta date pmer tend cod_tend dd ff t td u vv ww w1 w2 n nbas hbas cl cm ch pres "
    "niv_bar geop tend24 tn12 tn24 tx12 tx24 tminsol sw tw raf10 rafper per etat_sol ht_neige "
    "ssfrai perssfrai rr1 rr3 rr6 rr12 rr24 phenspe1 phenspe2 phenspe3 phenspe4 nnuage1 ctype1 "
    "hnuage1 nnuage2 ctype2 hnuage2 nnuage3 ctype3 hnuage3 nnuage4 ctype4 hnuage4".split()
)

TIDY_COLUMNS = (
    "timestamp_utc",
    "temperature_c",
    "rain_3h_mm",
    "rain_1h_mm",
    "wind_ms",
    "humidity_pct",
)
HOURLY_COLUMNS = (
    "timestamp_utc",
    "temperature_c",
    "rain_mm",
    "rain_last_3h_mm",
    "wind_ms",
    "humidity_pct",
)
CLIMATOLOGY_VALUES = ("temperature_c", "rain_mm", "rain_last_3h_mm", "wind_ms")
QUARANTINE_LEAD = ("row_number", "timestamp_utc", "reason", "detail")

#: Physically possible ranges; outside them a report is quarantined.
TEMPERATURE_RANGE_C = (-40.0, 50.0)
WIND_RANGE_MS = (0.0, 60.0)
HUMIDITY_RANGE_PCT = (0.0, 100.0)
#: SYNOP code for "rain below 0.1 mm".
TRACE_RAIN = -0.1

SLOT = pd.Timedelta(hours=3)
HOUR = pd.Timedelta(hours=1)
#: Longest span between two reports that :func:`to_hourly` interpolates across.
MAX_INTERPOLATION_GAP = pd.Timedelta(hours=6)
KELVIN = 273.15

#: Source columns of the tidy values (``rr1`` may be absent from a file).
_NUMERIC_SOURCES = {"t": "temperature", "rr3": "rain", "rr1": "rain", "ff": "wind", "u": "humidity"}


def _station_code(values: pd.Series) -> pd.Series:
    """WMO station ids as 5 characters: ``7149`` and ``07149`` are the same station."""
    return values.astype(str).str.strip().str.zfill(5)


def _parse_times(text: pd.Series) -> pd.Series:
    """UTC instants from ``YYYYMMDDHHMMSS`` or ISO text (naive ISO is UTC); NaT if unreadable."""
    text = text.astype(str).str.strip()
    compact = text.str.fullmatch(r"\d{14}")
    parsed = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns, UTC]")
    if compact.any():
        parsed[compact] = pd.to_datetime(
            text[compact], format="%Y%m%d%H%M%S", errors="coerce", utc=True
        )
    iso = ~compact & text.str.match(r"\d{4}-\d{2}-\d{2}")
    if iso.any():
        parsed[iso] = pd.to_datetime(text[iso], format="ISO8601", errors="coerce", utc=True)
    return parsed


def _numbers(raw: pd.DataFrame, column: str) -> tuple[pd.Series, pd.Series]:
    """A column as floats, and where it holds text that is neither empty, ``mq`` nor a number."""
    if column not in raw.columns:
        empty = pd.Series(np.nan, index=raw.index)
        return empty, pd.Series(False, index=raw.index)
    text = raw[column].astype(str).str.strip()
    text = text.where(~text.isin(["mq", "nan", "<NA>", "None"]), "")
    values = pd.to_numeric(text.where(text != ""), errors="coerce").astype(float)
    return values, (text != "") & values.isna()


def normalize_synop(raw: pd.DataFrame, station: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tidy 3-hourly weather of one station from a SYNOP file read as text.

    Keeps the rows of ``station``, parses the time (``date`` as ``YYYYMMDDHHMMSS`` or
    ``YYYY-MM-DD HH:MM:SS``, or ``validity_time`` as ISO UTC), converts the units and sorts
    by time. A row goes to the quarantine, with the first reason that applies:
    ``unparseable_date``, ``unparseable_value`` (text that is not a number in ``t``,
    ``rr1``, ``rr3``, ``ff`` or ``u``), ``missing_temperature`` (empty or ``mq``),
    ``impossible_temperature`` (outside -40..50 °C), ``impossible_rain`` (negative other
    than the trace code -0.1), ``impossible_wind`` (outside 0..60 m/s),
    ``impossible_humidity`` (outside 0..100 %), then ``duplicate_timestamp`` for every
    later valid row at a time already kept (``detail`` says whether it is an exact copy).
    Missing rain, wind or humidity keeps the row, with NaN.

    Args:
        raw: The file as :class:`~bike_traffic.exogenous.datasets.SynopDataset` loads it:
            every column as text, in file order (row ``i`` is line ``i + 2`` of the file).
        station: The WMO id, ``"07149"`` or ``"7149"`` (Paris-Orly).

    Returns:
        ``(tidy, quarantine)``. ``tidy``: ``timestamp_utc`` (UTC), ``temperature_c``,
        ``rain_3h_mm`` and ``rain_1h_mm`` (trace -> 0.0; ``rain_1h_mm`` all NaN when the
        file has no ``rr1``), ``wind_ms``, ``humidity_pct``, sorted by time, unique times.
        ``quarantine``: ``row_number`` (line in the file, header = 1), ``timestamp_utc``
        (NaT if unreadable), ``reason``, ``detail``, then the raw columns as text.

    Raises:
        ValueError: When a station or time column or ``t`` is missing, or when no row is
            for ``station``.
    """
    station_column = next((c for c in STATION_COLUMNS if c in raw.columns), None)
    time_column = next((c for c in TIME_COLUMNS if c in raw.columns), None)
    absent = [
        label
        for label, found in (
            (" or ".join(STATION_COLUMNS), station_column),
            (" or ".join(TIME_COLUMNS), time_column),
            ("t", "t" if "t" in raw.columns else None),
        )
        if found is None
    ]
    if absent:
        raise ValueError(f"SYNOP data lacks column(s) {absent}; has {list(raw.columns)[:10]}...")
    wanted = str(station).strip().zfill(5)
    codes = _station_code(raw[station_column])
    rows = (
        raw.reset_index(drop=True)
        .assign(_line=np.arange(len(raw)) + 2)
        .loc[(codes == wanted).to_numpy()]
    )
    if rows.empty:
        raise ValueError(
            f"no SYNOP row for station {wanted}; stations in the data: "
            f"{sorted(codes.unique())[:20]}"
        )
    raw_rows = rows.drop(columns="_line")
    stamps = _parse_times(rows[time_column])
    numbers = {column: _numbers(raw_rows, column) for column in _NUMERIC_SOURCES}
    kelvin = numbers["t"][0]
    celsius = (kelvin - KELVIN).round(2)
    rain3, rain1 = numbers["rr3"][0], numbers["rr1"][0]
    wind, humidity = numbers["ff"][0], numbers["u"][0]

    reason = pd.Series("", index=rows.index)
    detail = pd.Series("", index=rows.index)

    def flag(mask: pd.Series, label: str, message: pd.Series | str) -> None:
        new = mask & (reason == "")
        reason[new] = label
        detail[new] = message[new] if isinstance(message, pd.Series) else message

    flag(stamps.isna(), "unparseable_date", "time " + rows[time_column].astype(str))
    for column, (_, garbled) in numbers.items():
        if column in raw_rows.columns:
            flag(garbled, "unparseable_value", f"{column}=" + raw_rows[column].astype(str))
    flag(kelvin.isna(), "missing_temperature", "t is empty or mq")
    low, high = TEMPERATURE_RANGE_C
    flag(
        (celsius < low) | (celsius > high),
        "impossible_temperature",
        "t=" + kelvin.astype(str) + f" K is outside {low:g}..{high:g} °C",
    )
    bad_rain = ((rain3 < 0) & (rain3 != TRACE_RAIN)) | ((rain1 < 0) & (rain1 != TRACE_RAIN))
    flag(
        bad_rain,
        "impossible_rain",
        "rr3=" + rain3.astype(str) + ", rr1=" + rain1.astype(str) + " mm",
    )
    low, high = WIND_RANGE_MS
    flag(
        (wind < low) | (wind > high),
        "impossible_wind",
        "ff=" + wind.astype(str) + f" m/s is outside {low:g}..{high:g}",
    )
    low, high = HUMIDITY_RANGE_PCT
    flag(
        (humidity < low) | (humidity > high),
        "impossible_humidity",
        "u=" + humidity.astype(str) + f" % is outside {low:g}..{high:g}",
    )

    order = pd.DataFrame({"t": stamps, "line": rows["_line"]}).sort_values(
        ["t", "line"], kind="mergesort"
    )
    valid_order = order.loc[reason[order.index] == ""]
    repeated = valid_order["t"].duplicated(keep="first")
    if repeated.any():
        kept_line = valid_order.loc[~repeated].set_index("t")["line"]
        signature = raw_rows.astype(str).agg("\x1f".join, axis=1)
        kept_signature = signature[valid_order.loc[~repeated].index].set_axis(kept_line.index)
        for index in valid_order.index[repeated.to_numpy()]:
            at = stamps[index]
            same = signature[index] == kept_signature[at]
            reason[index] = "duplicate_timestamp"
            detail[index] = (
                f"{'exact copy of' if same else 'differs from'} line {kept_line[at]} (kept)"
            )

    keep = reason == ""
    tidy = (
        pd.DataFrame(
            {
                "timestamp_utc": stamps,
                "temperature_c": celsius,
                "rain_3h_mm": rain3.where(rain3 != TRACE_RAIN, 0.0),
                "rain_1h_mm": rain1.where(rain1 != TRACE_RAIN, 0.0),
                "wind_ms": wind,
                "humidity_pct": humidity,
            }
        )
        .loc[keep]
        .sort_values("timestamp_utc", kind="mergesort")
        .reset_index(drop=True)
    )
    quarantine = pd.concat(
        [
            pd.DataFrame(
                {
                    "row_number": rows["_line"].astype("Int64"),
                    "timestamp_utc": stamps,
                    "reason": reason,
                    "detail": detail,
                }
            ),
            raw_rows.astype(str),
        ],
        axis=1,
    ).loc[~keep]
    quarantine = quarantine.sort_values("row_number").reset_index(drop=True)
    logger.info(
        "SYNOP station %s: %d reports kept, %d quarantined (%s).",
        wanted,
        len(tidy),
        len(quarantine),
        quarantine["reason"].value_counts().to_dict(),
    )
    return tidy, quarantine


def missing_slots(tidy: pd.DataFrame, start: object, end: object) -> pd.DataFrame:
    """The 3-hour UTC slots (00, 03, ..., 21 h) between two instants that have no report.

    Args:
        tidy: Reports as :func:`normalize_synop` returns them.
        start: First instant (tz-aware); slots from the first one at or after it.
        end: Last instant (tz-aware); slots up to the last one at or before it.

    Returns:
        One row per missing slot, in the quarantine's lead columns: ``row_number`` (NA),
        ``timestamp_utc``, ``reason`` (``missing_slot``), ``detail``.

    Raises:
        ValueError: When an instant is naive or ``end`` is before ``start``.
    """
    first, last = utc_instants([start, end], "start and end")
    if last < first:
        raise ValueError(f"end {last} is before start {first}")
    slots = pd.date_range(first.ceil(SLOT), last.floor(SLOT), freq=SLOT)
    observed = pd.DatetimeIndex(tidy["timestamp_utc"]) if len(tidy) else pd.DatetimeIndex([])
    missing = slots[~slots.isin(observed)]
    if len(missing):
        logger.warning("%d 3-hour SYNOP slot(s) without a report: %s", len(missing), list(missing))
    return pd.DataFrame(
        {
            "row_number": pd.array([pd.NA] * len(missing), dtype="Int64"),
            "timestamp_utc": missing,
            "reason": "missing_slot",
            "detail": "no report in the file for this 3-hour slot",
        }
    )


def _interpolate(
    times: np.ndarray, values: np.ndarray, hours: np.ndarray, max_gap: np.int64
) -> np.ndarray:
    """Linear interpolation at ``hours`` between reports at most ``max_gap`` apart (int64 ns)."""
    known = ~np.isnan(values)
    times, values = times[known], values[known]
    out = np.full(len(hours), np.nan)
    if len(times) == 0:
        return out
    after = np.searchsorted(times, hours, side="left")
    exact = (after < len(times)) & (times[np.minimum(after, len(times) - 1)] == hours)
    out[exact] = values[after[exact]]
    inside = ~exact & (after > 0) & (after < len(times))
    before, nxt = after[inside] - 1, after[inside]
    span = times[nxt] - times[before]
    close = span <= max_gap
    weight = (hours[inside] - times[before]) / span
    blended = values[before] + weight * (values[nxt] - values[before])
    out[np.flatnonzero(inside)[close]] = blended[close]
    return out


def _check_tidy(tidy: pd.DataFrame, needed: tuple[str, ...]) -> pd.DataFrame:
    missing = [c for c in needed if c not in tidy.columns]
    if missing:
        raise ValueError(f"weather frame lacks column(s) {missing}")
    if tidy.empty:
        raise ValueError("weather frame has no rows")
    stamps = utc_instants(tidy["timestamp_utc"], "timestamp_utc")
    if stamps.has_duplicates:
        raise ValueError(f"duplicate timestamps, e.g. {stamps[stamps.duplicated()][0]}")
    return tidy.assign(timestamp_utc=stamps).sort_values("timestamp_utc", kind="mergesort")


def to_hourly(tidy: pd.DataFrame) -> pd.DataFrame:
    """Hourly UTC weather from 3-hourly reports.

    Rows run hour by hour from the first to the last report. Temperature, wind and humidity
    are interpolated linearly between the reports on either side (each variable on its own
    reports), so an hour looks ahead at most to the next report: 3 hours, or 6 across one
    missing slot; reports more than 6 hours apart are not interpolated across, those hours
    stay NaN and are logged. ``rr3`` is the rain of the 3 hours ending at its report: it is
    spread evenly over them (``rain_mm``, the rain of the hour starting at the label), and
    ``rain_last_3h_mm`` is the rain of that hour and the 2 before it. Rain is NaN where no
    report covers the hour (a missing slot, an empty ``rr3``, the last hour).

    Args:
        tidy: Reports as :func:`normalize_synop` returns them.

    Returns:
        ``timestamp_utc``, ``temperature_c``, ``rain_mm``, ``rain_last_3h_mm``, ``wind_ms``,
        ``humidity_pct``; one row per hour, no gap in the index of times.

    Raises:
        ValueError: When a column is missing, there are no rows, times are naive or repeated.
    """
    tidy = _check_tidy(tidy, ("timestamp_utc", "temperature_c", "rain_3h_mm", "wind_ms"))
    stamps = pd.DatetimeIndex(tidy["timestamp_utc"])
    hours = pd.date_range(stamps[0].floor(HOUR), stamps[-1].ceil(HOUR), freq=HOUR)
    times_ns = stamps.as_unit("ns").asi8
    hours_ns = hours.as_unit("ns").asi8
    max_gap = np.int64(MAX_INTERPOLATION_GAP.value)
    interpolated = {
        column: _interpolate(times_ns, tidy[column].to_numpy(dtype=float), hours_ns, max_gap)
        for column in ("temperature_c", "wind_ms", "humidity_pct")
        if column in tidy.columns
    }
    # Rain: the hour [h, h + 1) gets a third of the first report within 3 hours after h.
    extended = pd.date_range(hours[0] - 2 * HOUR, hours[-1], freq=HOUR).as_unit("ns").asi8
    report = np.searchsorted(times_ns, extended, side="right")
    covered = report < len(times_ns)
    report = np.minimum(report, len(times_ns) - 1)
    covered &= (times_ns[report] - extended) <= SLOT.value
    rain3 = tidy["rain_3h_mm"].to_numpy(dtype=float)
    rain = pd.Series(np.where(covered, rain3[report] / 3.0, np.nan))
    last_3h = rain.rolling(3, min_periods=3).sum()
    hourly = pd.DataFrame(
        {
            "timestamp_utc": hours,
            "temperature_c": interpolated["temperature_c"],
            "rain_mm": rain.to_numpy()[2:],
            "rain_last_3h_mm": last_3h.to_numpy()[2:],
            "wind_ms": interpolated["wind_ms"],
            "humidity_pct": interpolated.get("humidity_pct", np.full(len(hours), np.nan)),
        }
    )
    gaps = _runs(hourly["timestamp_utc"], hourly["temperature_c"].isna().to_numpy())
    for first, last, length in gaps:
        logger.warning(
            "SYNOP gap over 6 h: no temperature for %d hour(s), %s to %s.", length, first, last
        )
    return hourly


def _runs(stamps: pd.Series, missing: np.ndarray) -> list[tuple[pd.Timestamp, pd.Timestamp, int]]:
    """(first, last, length) of each run of ``True`` in ``missing``."""
    if not missing.any():
        return []
    edges = np.diff(np.concatenate([[0], missing.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    values = pd.DatetimeIndex(stamps)
    return [(values[a], values[b - 1], int(b - a)) for a, b in zip(starts, stops, strict=True)]


def check_coverage(
    hourly: pd.DataFrame,
    first: object,
    last: object,
    where: str,
    max_gap_hours: int = 6,
) -> None:
    """Refuse weather that does not cover the counts' hours ``[first, last]``.

    An hour is missing when it has no row or no temperature. Missing hours at either end of
    the period (the file starts too late or stops too early) are refused; inside it, runs of
    missing hours up to ``max_gap_hours`` long are allowed (:func:`weather_at` fills them
    from the climatology), longer ones are refused.

    Args:
        hourly: Weather as :func:`to_hourly` returns it.
        first: The first hour of the counts (tz-aware).
        last: The last hour of the counts (tz-aware).
        where: The weather file, named in the error.
        max_gap_hours: The longest run of missing hours accepted inside the period.

    Raises:
        ValueError: Naming ``where``, the first and last missing hour and the run's length,
            on a period the weather does not cover; also on naive or reversed instants, a
            missing column or a negative ``max_gap_hours``.
    """
    if max_gap_hours < 0:
        raise ValueError(f"max_gap_hours must be >= 0, got {max_gap_hours}")
    missing = [c for c in ("timestamp_utc", "temperature_c") if c not in hourly.columns]
    if missing:
        raise ValueError(f"hourly weather from '{where}' lacks column(s) {missing}")
    start, stop = utc_instants([first, last], "first and last")
    if stop < start:
        raise ValueError(f"last {stop} is before first {start}")
    period = pd.date_range(start.floor(HOUR), stop.floor(HOUR), freq=HOUR)
    stamps = utc_instants(hourly["timestamp_utc"], "timestamp_utc")
    known = pd.Series(hourly["temperature_c"].notna().to_numpy(), index=stamps)
    known = known[~known.index.duplicated()]
    present = known.reindex(period, fill_value=False).to_numpy()
    runs = _runs(pd.Series(period), ~present)
    if not runs:
        return
    begin, end, length = runs[0]
    if begin == period[0]:
        raise ValueError(
            f"weather file '{where}' does not cover the counts from {period[0]}: "
            f"no weather from {begin} to {end} ({length} h)."
        )
    begin, end, length = runs[-1]
    if end == period[-1]:
        raise ValueError(
            f"weather file '{where}' does not cover the counts up to {period[-1]}: "
            f"no weather from {begin} to {end} ({length} h)."
        )
    long_runs = [run for run in runs if run[2] > max_gap_hours]
    if long_runs:
        begin, end, length = long_runs[0]
        raise ValueError(
            f"weather file '{where}' has {len(long_runs)} gap(s) over {max_gap_hours} h in "
            f"the counts' period; the first: no weather from {begin} to {end} ({length} h)."
        )


#: Half-width, in days, of the circular window that smooths the climatology.
CLIMATOLOGY_HALF_WINDOW_DAYS = 7


def climatology(hourly: pd.DataFrame) -> pd.DataFrame:
    """Mean weather per (day of year, local hour): the default when no weather is given.

    Means of temperature, rain and wind per local (Europe/Paris) day of year (1..366) and
    hour (0..23), smoothed over ±7 days on a circular year (31 Dec is next to 1 Jan), so that
    one year of data gives a value for every cell, 29 February and 366 included. Each cell is
    the mean of all hourly values in its 15-day window at that hour. Day of year is not
    leap-corrected: after February a leap year is one day ahead, well within the window.

    Args:
        hourly: Weather as :func:`to_hourly` returns it.

    Returns:
        366 × 24 rows: ``day_of_year``, ``hour``, ``temperature_c``, ``rain_mm``,
        ``rain_last_3h_mm``, ``wind_ms``.

    With less than a year of weather, a day of year with no value within its window takes
    the nearest day's (circularly), with a warning.

    Raises:
        ValueError: When a column is missing, there are no rows, or a column has no value.
    """
    hourly = _check_tidy(hourly, ("timestamp_utc", *CLIMATOLOGY_VALUES))
    local = pd.DatetimeIndex(hourly["timestamp_utc"]).tz_convert(PARIS_TZ)
    day = local.dayofyear.to_numpy() - 1
    hour = local.hour.to_numpy()
    result: dict[str, np.ndarray] = {}
    for column in CLIMATOLOGY_VALUES:
        values = hourly[column].to_numpy(dtype=float)
        known = ~np.isnan(values)
        sums = np.zeros((366, 24))
        counts = np.zeros((366, 24))
        np.add.at(sums, (day[known], hour[known]), values[known])
        np.add.at(counts, (day[known], hour[known]), 1.0)
        offsets = range(-CLIMATOLOGY_HALF_WINDOW_DAYS, CLIMATOLOGY_HALF_WINDOW_DAYS + 1)
        window_sums = sum(np.roll(sums, shift, axis=0) for shift in offsets)
        window_counts = sum(np.roll(counts, shift, axis=0) for shift in offsets)
        means = np.where(window_counts > 0, window_sums / np.maximum(window_counts, 1), np.nan)
        empty = np.isnan(means)
        if empty.all():
            raise ValueError(f"climatology: no {column} value at all")
        if empty.any():
            # Less than a year of weather: a (day, hour) with nothing within the window takes
            # the nearest day that has that hour (circularly).
            logger.warning(
                "climatology: %d days of year lack some %s within ±%d days; they take the "
                "nearest day's values (give a full year of weather for a real climatology).",
                int(empty.any(axis=1).sum()),
                column,
                CLIMATOLOGY_HALF_WINDOW_DAYS,
            )
            for h in np.flatnonzero(empty.any(axis=0)):
                known_days = np.flatnonzero(~empty[:, h])
                if not len(known_days):
                    raise ValueError(f"climatology: no {column} value at {h}:00")
                missing = np.flatnonzero(empty[:, h])
                distance = np.abs(known_days[None, :] - missing[:, None])
                distance = np.minimum(distance, 366 - distance)
                means[missing, h] = means[known_days[distance.argmin(axis=1)], h]
        result[column] = means.ravel()
    days, hours = np.meshgrid(np.arange(1, 367), np.arange(24), indexing="ij")
    return pd.DataFrame({"day_of_year": days.ravel(), "hour": hours.ravel(), **result})


def weather_at(hourly: pd.DataFrame, climatology: pd.DataFrame, stamps_utc: object) -> pd.DataFrame:
    """Weather at given instants: observed where known, else the climatology.

    Each instant takes the hourly row of the hour it falls in. An hour counts as observed
    when it has a temperature; a value still missing in an observed hour (rain next to a
    missing slot) is filled from the climatology too. Humidity is not served.

    Args:
        hourly: Observed weather as :func:`to_hourly` returns it (may be empty).
        climatology: As :func:`climatology` returns it.
        stamps_utc: Tz-aware instants (any time zone).

    Returns:
        A frame aligned with the stamps: ``timestamp_utc``, ``temperature_c``, ``rain_mm``,
        ``rain_last_3h_mm``, ``wind_ms``, ``weather_observed`` (bool).

    Raises:
        ValueError: When the stamps are naive, or a frame lacks a column, or the
            climatology lacks a (day of year, hour) needed.
    """
    instants = utc_instants(stamps_utc)
    missing = [c for c in ("day_of_year", "hour", *CLIMATOLOGY_VALUES) if c not in climatology]
    if missing:
        raise ValueError(f"climatology lacks column(s) {missing}")
    missing = [c for c in ("timestamp_utc", *CLIMATOLOGY_VALUES) if c not in hourly.columns]
    if missing:
        raise ValueError(f"hourly weather lacks column(s) {missing}")
    observed = hourly.loc[:, ["timestamp_utc", *CLIMATOLOGY_VALUES]].assign(
        timestamp_utc=utc_instants(hourly["timestamp_utc"], "timestamp_utc")
    )
    observed = observed.drop_duplicates("timestamp_utc").set_index("timestamp_utc")
    hour_of = instants.floor(HOUR)
    seen = observed.reindex(hour_of)
    local = instants.tz_convert(PARIS_TZ)
    normals = climatology.set_index(["day_of_year", "hour"])[list(CLIMATOLOGY_VALUES)]
    keys = pd.MultiIndex.from_arrays([local.dayofyear, local.hour])
    normal = normals.reindex(keys)
    if normal.isna().any().any():
        raise ValueError("climatology has no value for some (day_of_year, hour) requested")
    is_observed = seen["temperature_c"].notna().to_numpy()
    values = {
        column: np.where(
            seen[column].notna().to_numpy(), seen[column].to_numpy(), normal[column].to_numpy()
        )
        for column in CLIMATOLOGY_VALUES
    }
    logger.info(
        "Weather for %d instants: %d observed, %d from the climatology.",
        len(instants),
        int(is_observed.sum()),
        int((~is_observed).sum()),
    )
    return pd.DataFrame({"timestamp_utc": instants, **values, "weather_observed": is_observed})
