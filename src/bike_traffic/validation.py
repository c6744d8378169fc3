"""Which rows are valid, and how a refusal is worded: one list of checks for the project.

* ``data_cleaning`` quarantines raw rows with :func:`raw_row_checks` (:data:`CLEANING_RULES`);
* batch scoring refuses uploaded raw rows with the same checks (:data:`SCORING_RULES`, the
  ones that matter when the count is what is predicted);
* the logged predictor refuses requests with :func:`parse_requests` (:data:`REQUEST_RULES`).

Every reason has one code (what ``quarantined_rows.csv`` and the summary count) and one
sentence (:data:`REASONS`, what people read, through :func:`describe`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bike_traffic.calendar import PARIS_TZ
from bike_traffic.raw_format import COUNT, MALFORMED_LINE, PARIS_BBOX, blank_to_na

#: Every reason a row or a request is refused: its code and what it means.
REASONS: dict[str, str] = {
    "malformed_line": (
        "the line does not split into the header's fields (too many, too few, or too long)"
    ),
    "exact_duplicate": "exact duplicate of an earlier row",
    "unparseable_timestamp": (
        "timestamp is not ISO 8601 (e.g. 2025-01-18T08:00:00+01:00; without an offset it is "
        "Paris time)"
    ),
    "missing_count": "the count is missing",
    "non_numeric_count": "the count is not a number",
    "non_finite_count": "the count is infinite",
    "negative_count": "the count is negative",
    "fractional_count": "the count is not a whole number of bikes",
    "count_above_ceiling": "the count is above what a counter can see in an hour",
    "missing_counter_name": "the counter name is missing",
    "formula_counter_name": (
        "the counter name starts like a spreadsheet formula (=, +, -, @): not a counter"
    ),
    "missing_coordinates": "the coordinates are missing",
    "coordinates_outside_paris": "the coordinates are outside Paris",
    "unknown_counter": "the model was not trained on this counter",
    "missing_time": "give a timestamp, or a date and an hour",
    "unparseable_date": "the date is not YYYY-MM-DD",
    "hour_out_of_range": "the hour must be a whole number from 0 to 23",
    "clock_change": (
        "this local time is ambiguous or does not exist in Paris (clock change): give the UTC "
        "offset"
    ),
    "date_out_of_range": "the date is outside the range the model serves",
    "weather_not_a_number": "a weather value is not a number",
    "weather_out_of_range": "a weather value is outside what Paris can see",
}

#: The checks of ``data_cleaning``, in order (the first failing one is the row's reason).
CLEANING_RULES: tuple[str, ...] = (
    "malformed_line",
    "exact_duplicate",
    "unparseable_timestamp",
    "missing_count",
    "non_numeric_count",
    "non_finite_count",
    "negative_count",
    "fractional_count",
    "count_above_ceiling",
    "missing_counter_name",
    "formula_counter_name",
    "missing_coordinates",
    "coordinates_outside_paris",
)

#: The cleaning checks that still apply when the count is what is predicted (batch scoring).
SCORING_RULES: tuple[str, ...] = (
    "unparseable_timestamp",
    "missing_counter_name",
    "coordinates_outside_paris",
)

#: The predictor's checks of a request, in order.
REQUEST_RULES: tuple[str, ...] = (
    "missing_counter_name",
    "unknown_counter",
    "missing_time",
    "unparseable_timestamp",
    "unparseable_date",
    "hour_out_of_range",
    "clock_change",
    "date_out_of_range",
    "weather_not_a_number",
    "weather_out_of_range",
)

#: The weather a request may give: its name, the feature it sets, the plausible range.
REQUEST_WEATHER: dict[str, tuple[str, float, float]] = {
    "temperature": ("temperature_c", -40.0, 50.0),
    "rain": ("rain_mm", 0.0, 100.0),
    "rain_last_3h": ("rain_last_3h_mm", 0.0, 200.0),
    "wind": ("wind_ms", 0.0, 60.0),
}


def describe(code: str, value: object = None) -> str:
    """The sentence a person reads for a refusal, with the offending value when given.

    Args:
        code: A key of :data:`REASONS`.
        value: The value refused (shown with ``repr``), or None.

    Returns:
        ``"<code>: <sentence>"``, then ``" (got <value>)"``.
    """
    text = f"{code}: {REASONS[code]}"
    return text if value is None else f"{text} (got {value!r})"


def first_failure(checks: dict[str, pd.Series], order: tuple[str, ...]) -> pd.Series:
    """The first failing check of each row, in ``order``; missing where every check passes.

    Args:
        checks: Boolean masks (True = the row fails), keyed by reason code.
        order: The codes to apply, first one wins.

    Returns:
        A string series of codes, aligned with the masks.
    """
    index = next(iter(checks.values())).index
    reason = pd.Series(pd.NA, index=index, dtype="string")
    for code in reversed(order):
        reason = reason.mask(checks[code].fillna(False).astype(bool), code)
    return reason


def raw_row_checks(
    renamed: pd.DataFrame,
    parsed: pd.DataFrame,
    bbox: dict[str, float] | None = None,
    raw_columns: list[str] | None = None,
    max_hourly_count: float | None = None,
) -> dict[str, pd.Series]:
    """Every check of :data:`CLEANING_RULES` on the rows of an export.

    Args:
        renamed: The rows' original text (snake_case columns).
        parsed: The same rows parsed (``timestamp_utc``, ``count_value``,
            ``latitude``, ``longitude``, cleaned counter name).
        bbox: Bounds of Paris; the project's default box when omitted.
        raw_columns: The columns compared for exact duplicates (all of ``renamed`` by default).
        max_hourly_count: The highest plausible count (no ceiling when None).

    Returns:
        One boolean mask per reason code (True = the row fails).
    """
    from bike_traffic.raw_format import COUNTER

    box = {**PARIS_BBOX, **(bbox or {})}
    count_text = blank_to_na(parsed[COUNT]) if COUNT in parsed.columns else None
    lat, lon = parsed["latitude"], parsed["longitude"]
    missing = pd.Series(False, index=parsed.index)
    count = parsed["count_value"]
    finite = np.isfinite(count)
    ceiling = np.inf if max_hourly_count is None else float(max_hourly_count)
    malformed = (
        renamed[MALFORMED_LINE].astype(str).str.len() > 0
        if MALFORMED_LINE in renamed.columns
        else missing
    )
    return {
        "malformed_line": malformed,
        "exact_duplicate": renamed.duplicated(subset=raw_columns, keep="first"),
        "unparseable_timestamp": parsed["timestamp_utc"].isna(),
        "missing_count": count_text.isna() if count_text is not None else missing,
        "non_numeric_count": (count_text.notna() & parsed["count_value"].isna())
        if count_text is not None
        else missing,
        "non_finite_count": count.notna() & ~finite,
        "negative_count": count < 0,
        "fractional_count": finite & (count != np.floor(count)),
        "count_above_ceiling": finite & (count > ceiling),
        "missing_counter_name": parsed[COUNTER].isna(),
        "formula_counter_name": parsed[COUNTER]
        .astype("string")
        .str.match(r"[=+\-@\t\r]")
        .fillna(False)
        .astype(bool),
        "missing_coordinates": lat.isna() | lon.isna(),
        "coordinates_outside_paris": lat.notna()
        & lon.notna()
        & (
            ~lat.between(box["lat_min"], box["lat_max"])
            | ~lon.between(box["lon_min"], box["lon_max"])
        ),
    }


# ---------------------------------------------------------------- requests
_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")


@dataclass(frozen=True)
class DateRange:
    """The local dates a model serves (both included)."""

    first: pd.Timestamp
    last: pd.Timestamp

    @classmethod
    def from_params(cls, params: dict) -> DateRange:
        """From ``{"first_date": "2015-01-01", "last_date": "2035-12-31"}``."""
        return cls(pd.Timestamp(params["first_date"]), pd.Timestamp(params["last_date"]))

    def to_params(self) -> dict[str, str]:
        """The JSON-able form."""
        return {
            "first_date": self.first.date().isoformat(),
            "last_date": self.last.date().isoformat(),
        }


def _text(values: pd.Series | None, index: pd.Index) -> pd.Series:
    if values is None:
        return pd.Series(pd.NA, index=index, dtype="string")
    return blank_to_na(values.astype(object).where(values.notna(), None).map(_as_text))


def _as_text(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _timestamps(column: pd.Series, present: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Instants (UTC) of a timestamp column; whether a naive local time fell in a clock change."""
    index = column.index
    if isinstance(column.dtype, pd.DatetimeTZDtype):
        return column.dt.tz_convert("UTC"), pd.Series(False, index=index)
    text = _text(column, index)
    with_offset = present & text.str.contains(_OFFSET, regex=True).fillna(False)
    utc = pd.Series(pd.NaT, index=index, dtype="datetime64[ns, UTC]")
    if with_offset.any():
        utc[with_offset] = pd.to_datetime(
            text[with_offset], utc=True, format="ISO8601", errors="coerce"
        )
    naive = present & ~with_offset
    clock = pd.Series(False, index=index)
    if naive.any():
        parsed = pd.to_datetime(text[naive], format="ISO8601", errors="coerce")
        local = parsed.dt.tz_localize(PARIS_TZ, ambiguous="NaT", nonexistent="NaT")
        clock[naive] = parsed.notna() & local.isna()
        utc[naive] = local.dt.tz_convert("UTC")
    return utc, clock


def _far_year(text: pd.Series) -> pd.Series:
    """Whether a date's text starts with a year pandas cannot hold (before 1700, after 2200)."""
    year = pd.to_numeric(text.str.extract(r"^\s*(\d{4})", expand=False), errors="coerce")
    return (year.notna() & ~year.between(1700, 2200)).fillna(False).astype(bool)


def parse_requests(
    inputs: pd.DataFrame, known_counters: set[str], dates: DateRange
) -> tuple[pd.DataFrame, pd.Series]:
    """Read prediction requests and refuse, row by row, those that cannot be served.

    A request names a counter (``counter``, as in the export's "Nom du compteur") and
    an hour: ``timestamp`` (ISO 8601; with its UTC offset, or Paris local time without
    one), or ``date`` (YYYY-MM-DD, Paris) and ``hour`` (0-23).

    Args:
        inputs: The requests (any of the columns may be missing or hold any type).
        known_counters: The counters the model was trained on.
        dates: The local dates the model serves.

    Weather is optional (:data:`REQUEST_WEATHER`): ``temperature`` (°C), ``rain`` (mm in
    the hour), ``rain_last_3h`` (mm in that hour and the two before; ``rain`` when only
    ``rain`` is given, the previous hours being dry) and ``wind`` (m/s). What a request
    leaves out is the training climatology of that day and hour.

    Returns:
        ``counter``, ``timestamp_utc`` and the weather features (NaN where not given)
        per request (missing where refused), and the refusal of each row as
        :func:`describe` words it (missing where served).
    """
    index = inputs.index
    counter = _text(inputs.get("counter"), index)
    stamp_text = _text(inputs.get("timestamp"), index)
    date_text = _text(inputs.get("date"), index)
    hour_text = _text(inputs.get("hour"), index)

    has_stamp = stamp_text.notna()
    stamp_far = has_stamp & _far_year(stamp_text)  # year 3000: refused, never parsed
    if "timestamp" in inputs.columns and isinstance(inputs["timestamp"].dtype, pd.DatetimeTZDtype):
        has_stamp = inputs["timestamp"].notna()
        stamp_far = pd.Series(False, index=index)
    utc, clock = _timestamps(
        inputs["timestamp"] if "timestamp" in inputs.columns else stamp_text,
        has_stamp & ~stamp_far,
    )
    use_date = ~has_stamp & date_text.notna() & hour_text.notna()
    date_far = use_date & _far_year(date_text)
    far = stamp_far | date_far
    day = pd.to_datetime(date_text.where(use_date & ~date_far), format="%Y-%m-%d", errors="coerce")
    hour = pd.to_numeric(hour_text.where(use_date), errors="coerce").astype("float64")
    good_hour = hour.between(0, 23) & (hour == np.floor(hour))
    local_wall = day + pd.to_timedelta(hour.where(good_hour), unit="h")
    local = local_wall.dt.tz_localize(PARIS_TZ, ambiguous="NaT", nonexistent="NaT")
    from_date = use_date & day.notna() & good_hour
    utc = utc.where(~from_date, local.dt.tz_convert("UTC"))
    clock = clock | (from_date & local.isna())
    local_date = utc.dt.tz_convert(PARIS_TZ).dt.tz_localize(None).dt.normalize()
    weather_text = {name: _text(inputs.get(name), index) for name in REQUEST_WEATHER}
    weather = {
        name: pd.to_numeric(text, errors="coerce").astype("float64")
        for name, text in weather_text.items()
    }
    rain_only = weather["rain_last_3h"].isna() & weather_text["rain_last_3h"].isna()
    weather["rain_last_3h"] = weather["rain_last_3h"].where(~rain_only, weather["rain"])
    not_a_number = pd.Series(False, index=index)
    out_of_range = pd.Series(False, index=index)
    # the first value that fails each check, shown with that check's reason
    not_a_number_value = pd.Series(pd.NA, index=index, dtype="string")
    out_of_range_value = pd.Series(pd.NA, index=index, dtype="string")
    for name, (_, low, high) in REQUEST_WEATHER.items():
        text, value = weather_text[name], weather[name]
        wrong = text.notna() & (value.isna() | ~np.isfinite(value.fillna(0)))
        outside = value.notna() & ~value.between(low, high) & ~wrong
        for shown_value, failed in ((not_a_number_value, wrong), (out_of_range_value, outside)):
            first = failed & shown_value.isna()
            shown_value[first] = name + "=" + text[first]
        not_a_number |= wrong
        out_of_range |= outside
    checks = {
        "missing_counter_name": counter.isna(),
        "unknown_counter": counter.notna() & ~counter.isin(list(known_counters)),
        "missing_time": ~has_stamp & ~use_date,
        "unparseable_timestamp": has_stamp & ~far & utc.isna() & ~clock,
        "unparseable_date": use_date & ~far & day.isna(),
        "hour_out_of_range": use_date & ~good_hour,
        "clock_change": clock,
        "date_out_of_range": far | (utc.notna() & ~local_date.between(dates.first, dates.last)),
        "weather_not_a_number": not_a_number,
        "weather_out_of_range": out_of_range,
    }
    code = first_failure(checks, REQUEST_RULES)
    shown = {
        "missing_counter_name": None,
        "unknown_counter": counter,
        "missing_time": None,
        "unparseable_timestamp": stamp_text,
        "unparseable_date": date_text,
        "hour_out_of_range": hour_text,
        "clock_change": stamp_text.where(has_stamp, date_text + " " + hour_text),
        "date_out_of_range": local_date.dt.date.astype("string").where(
            ~far, stamp_text.where(stamp_far, date_text)
        ),
        "weather_not_a_number": not_a_number_value,
        "weather_out_of_range": out_of_range_value,
    }
    error = pd.Series(None, index=index, dtype=object)
    for reason in REQUEST_RULES:
        rows = code == reason
        if rows.any():
            values = shown[reason]
            if values is None:
                error[rows] = describe(reason)
            elif reason == "date_out_of_range":
                error[rows] = [
                    f"{describe(reason, v)}: {dates.first.date()} to {dates.last.date()}"
                    for v in values[rows]
                ]
            else:
                error[rows] = [describe(reason, v) for v in values[rows]]
    served = code.isna()
    requests = pd.DataFrame(
        {
            "counter": counter.where(served),
            "timestamp_utc": utc.where(served),
            **{
                feature: weather[name].where(served)
                for name, (feature, _, _) in REQUEST_WEATHER.items()
            },
        },
        index=index,
    )
    return requests, error
