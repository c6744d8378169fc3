"""Scoring an uploaded CSV row by row: the raw export, or requests (counter and time).

:func:`read_upload` tells the format and refuses a file that cannot be scored at all
(:class:`UploadError`, naming the problem). :func:`score_upload` then refuses, row by
row, what the cleaning pipeline would quarantine (:data:`bike_traffic.validation.SCORING_RULES`,
same checks, same words) and what the predictor cannot serve, and scores the rest with
the loaded predictor.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass

import numpy as np
import pandas as pd

from bike_traffic.calendar import PARIS_TZ, iso_local
from bike_traffic.csv_text import escape_formulas, read_checked
from bike_traffic.pipelines.data_cleaning.nodes import (
    fill_missing_identifiers,
    parse_fields,
    rename_columns,
)
from bike_traffic.raw_format import (
    COUNT,
    COUNTER,
    RAW_COLUMNS,
    REQUIRED_RAW_COLUMNS,
    TIMESTAMP,
    blank_to_na,
    to_snake_case,
)
from bike_traffic.registry.loading import LoadedModel
from bike_traffic.validation import (
    REQUEST_WEATHER,
    SCORING_RULES,
    describe,
    first_failure,
    raw_row_checks,
)

FEATURE_FORMAT = "requests table"
RAW_FORMAT = "raw export"


class UploadError(ValueError):
    """An uploaded file that cannot be scored at all; the message names the problem."""


#: The longest line of an upload read (characters); longer lines are refused unread.
MAX_LINE_CHARS = 4096


@dataclass
class Upload:
    """An uploaded CSV read as text: its format, its rows and the lines it could not split."""

    name: str
    fmt: str  # RAW_FORMAT or FEATURE_FORMAT
    frame: pd.DataFrame  # every column as text
    lines: np.ndarray | None = None  # the line in the file of each row (header: line 1)
    malformed: pd.DataFrame | None = None  # line, fields, problem, text (csv_text)

    def __post_init__(self) -> None:
        if self.lines is None:
            self.lines = np.arange(2, len(self.frame) + 2)
        if self.malformed is None:
            self.malformed = pd.DataFrame(columns=["line", "fields", "problem", "text"])


def _header_cells(line: str, sep: str) -> list[str]:
    return [c.strip().strip('"').strip() for c in next(csv.reader([line], delimiter=sep))]


def _has_feature_columns(snake: set[str]) -> bool:
    return COUNTER in snake and (TIMESTAMP in snake or {"date", "hour"} <= snake)


def read_upload(name: str, data: bytes, max_mb: float, max_rows: int) -> Upload:
    """Read an uploaded CSV and tell which format it is in.

    Two formats are accepted: the City of Paris raw export (``;``, French
    headers, as the portal gives it) and the clean feature table
    (``nom_du_compteur`` and ``date_et_heure_de_comptage``, or ``date`` and
    ``hour``; ``,`` or ``;``).

    Args:
        name: The file's name (for messages).
        data: Its bytes.
        max_mb: Size limit in MB (10^6 bytes).
        max_rows: Row limit.

    Returns:
        The :class:`Upload`.

    Raises:
        UploadError: On an empty file, a file over the limits, text that is
            not UTF-8, a wrong delimiter, missing columns, or no rows.
    """
    size_mb = len(data) / 1e6
    if size_mb > max_mb:
        size = f"{size_mb:.1f}" if size_mb >= 1 else f"{size_mb:.3f}"
        raise UploadError(f"{name} is {size} MB: the limit is {max_mb:g} MB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UploadError(
            f"{name} is not UTF-8 text (byte {exc.start}): save it as UTF-8 CSV."
        ) from exc
    if not text.strip():
        raise UploadError(f"{name} is empty: no header, no rows.")
    header = text.lstrip("\r\n").splitlines()[0]
    if len(header) > MAX_LINE_CHARS:
        raise UploadError(
            f"{name}: its header has {len(header):,} characters; the limit is {MAX_LINE_CHARS:,}."
        )
    semicolon, comma = _header_cells(header, ";"), _header_cells(header, ",")
    required = set(REQUIRED_RAW_COLUMNS)
    if required <= set(semicolon):
        fmt, sep = RAW_FORMAT, ";"
    elif len(required & set(comma)) >= 3 or len(required & set(header.split("\t"))) >= 3:
        other = "," if len(required & set(comma)) >= 3 else "\t"
        raise UploadError(
            f"{name} uses {other!r} as delimiter: the raw export is ';'-separated "
            "(as the City of Paris portal gives it)."
        )
    elif _has_feature_columns({to_snake_case(c) for c in comma}):
        fmt, sep = FEATURE_FORMAT, ","
    elif _has_feature_columns({to_snake_case(c) for c in semicolon}):
        fmt, sep = FEATURE_FORMAT, ";"
    else:
        raw_found = [c for c in RAW_COLUMNS if c in semicolon]
        if raw_found:
            missing = [c for c in REQUIRED_RAW_COLUMNS if c not in semicolon]
            raise UploadError(f"{name} looks like the raw export but lacks column(s) {missing}.")
        snake = {to_snake_case(c) for c in (comma if len(comma) >= len(semicolon) else semicolon)}
        if snake & {COUNTER, TIMESTAMP, "date", "hour", "latitude", COUNT}:
            missing = [c for c in (COUNTER, TIMESTAMP) if c not in snake]
            raise UploadError(
                f"{name} looks like the feature table but lacks column(s) {missing} "
                "(the timestamp may be replaced by 'date' and 'hour')."
            )
        raise UploadError(
            f"{name} is neither the raw export (';'-separated, with columns "
            f"{list(REQUIRED_RAW_COLUMNS)}) nor the feature table (columns "
            f"{[COUNTER, TIMESTAMP]}). Its header is: {header[:200]!r}"
        )
    try:
        checked = read_checked(text, sep, MAX_LINE_CHARS)
    except (pd.errors.ParserError, ValueError) as exc:
        raise UploadError(f"{name} is not a valid {sep!r}-separated CSV file: {exc}") from exc
    rows = len(checked.frame) + len(checked.malformed)
    if rows == 0:
        raise UploadError(f"{name} has a header but no rows.")
    if rows > max_rows:
        raise UploadError(f"{name} has {rows:,} rows: the limit is {max_rows:,}.")
    if checked.frame.empty:
        first = checked.malformed.iloc[0]
        raise UploadError(
            f"{name}: no line splits into its header's fields (line {first['line']}: "
            f"{first['problem']})."
        )
    return Upload(name, fmt, checked.frame, checked.lines, checked.malformed)


def _requests(upload: Upload) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """The predictor's requests of each row, the cleaning's refusals, the observed counts."""
    frame = upload.frame
    snake = frame.set_axis([to_snake_case(str(c)) for c in frame.columns], axis=1)
    snake = snake.loc[:, ~snake.columns.duplicated()]
    observed = pd.to_numeric(blank_to_na(snake[COUNT]), errors="coerce") if COUNT in snake else None
    if upload.fmt == FEATURE_FORMAT:
        requests = pd.DataFrame(
            {
                "counter": snake[COUNTER],
                "timestamp": snake.get(TIMESTAMP),
                "date": snake.get("date"),
                "hour": snake.get("hour"),
                **{name: snake[name] for name in REQUEST_WEATHER if name in snake},
            }
        )
        return requests, pd.Series(None, index=frame.index, dtype=object), observed
    renamed = rename_columns(frame)
    parsed = fill_missing_identifiers(parse_fields(renamed))
    code = first_failure(raw_row_checks(renamed, parsed), SCORING_RULES)
    shown = {
        "unparseable_timestamp": renamed[TIMESTAMP],
        "missing_counter_name": None,
        "coordinates_outside_paris": parsed["latitude"].astype(str)
        + ","
        + parsed["longitude"].astype(str),
    }
    refused = pd.Series(None, index=frame.index, dtype=object)
    for reason in SCORING_RULES:
        rows = (code == reason).fillna(False).to_numpy()
        if rows.any():
            values = shown[reason]
            refused[rows] = (
                describe(reason) if values is None else [describe(reason, v) for v in values[rows]]
            )
    requests = pd.DataFrame(
        {"counter": parsed[COUNTER].astype(object), "timestamp": parsed["timestamp_utc"]}
    )
    return requests, refused, observed


@dataclass
class BatchResult:
    """A scored upload: the rows scored and the rows refused, each with its file line."""

    fmt: str
    rows_in: int
    scored: pd.DataFrame
    refused: pd.DataFrame


def score_upload(upload: Upload, model: LoadedModel) -> BatchResult:
    """Score every row of an upload that can be scored; give the reason for the others.

    A raw export's rows first go through the cleaning pipeline's own checks
    (:data:`~bike_traffic.validation.SCORING_RULES`: a row it would quarantine for its
    timestamp, its counter name or its coordinates is refused with the same words).
    Then every row is a request to the loaded predictor, which refuses, with its
    reason, an unknown counter, a missing or unparseable time, an hour outside 0-23, a
    local time lost to the clock change or a date outside its range. The count is not
    needed; when given, it is returned as ``observed``.

    Args:
        upload: Output of :func:`read_upload`.
        model: The loaded model to score with.

    Returns:
        The :class:`BatchResult` (both tables keep the file's order; ``line`` is the
        line in the file, the header being line 1).
    """
    requests, refused, observed = _requests(upload)
    ready = refused.isna().to_numpy()
    values = np.full(len(requests), np.nan)
    stamps = pd.Series(pd.NaT, index=requests.index, dtype="datetime64[ns, UTC]")
    errors = refused.copy()
    if ready.any():
        answers = model.predictor.predict_values(requests.loc[ready])
        values[ready] = answers.values
        errors[ready] = answers.error.to_numpy()
        stamps = pd.to_datetime(answers.timestamp_utc, utc=True).reindex(requests.index)
    bad = errors.notna().to_numpy()
    lines = np.asarray(upload.lines)
    raw_counter = upload.frame.iloc[:, _column(upload, COUNTER)].astype(str)
    raw_time = _time_text(upload)
    refused_table = pd.DataFrame(
        {
            "line": lines[bad],
            "counter": raw_counter[bad].to_numpy(),
            "timestamp": raw_time[bad].to_numpy(),
            "reason": errors[bad].to_numpy(),
        }
    )
    if len(upload.malformed):
        unread = pd.DataFrame(
            {
                "line": upload.malformed["line"].to_numpy(),
                "counter": "",
                "timestamp": "",
                "reason": [
                    f"{describe('malformed_line')} ({problem})"
                    for problem in upload.malformed["problem"]
                ],
            }
        )
        refused_table = pd.concat([refused_table, unread], ignore_index=True)
        refused_table = refused_table.sort_values("line", kind="stable").reset_index(drop=True)
    good = ~bad
    if not good.any():
        columns = ["line", "counter", "timestamp", "hour", *_prediction_columns(model)]
        scored = pd.DataFrame(columns=columns)
    else:
        local = stamps[good].dt.tz_convert(PARIS_TZ)
        scored = pd.DataFrame(
            {
                "line": lines[good],
                "counter": requests.loc[good, "counter"].astype(str).str.strip().to_numpy(),
                "timestamp": iso_local(local),
                "hour": local.dt.hour.to_numpy(),
            }
        )
        output = values[good]
        if model.spec.is_classifier:
            scored["p_high"] = output
            scored["traffic"] = np.where(output >= 0.5, "high", "low")
        else:
            scored["predicted_count"] = output
            if model.predictor.interval:  # its prediction interval, at the model's level
                scored["lower"], scored["upper"] = model.predictor.bounds(output)
        if observed is not None and observed[good].notna().any():
            scored["observed"] = observed[good].to_numpy()
        scored["model"] = f"{model.model_type} v{model.version}"
    rows_in = len(requests) + len(upload.malformed)
    return BatchResult(upload.fmt, rows_in, scored, refused_table)


def _column(upload: Upload, snake_name: str) -> int:
    names = [to_snake_case(str(c)) for c in upload.frame.columns]
    return names.index(snake_name)


def _time_text(upload: Upload) -> pd.Series:
    """How each row wrote its time, for the refused rows' table."""
    frame = upload.frame.set_axis([to_snake_case(str(c)) for c in upload.frame.columns], axis=1)
    frame = frame.loc[:, ~frame.columns.duplicated()]
    if TIMESTAMP in frame:
        stamps = frame[TIMESTAMP].astype(str)
        if {"date", "hour"} <= set(frame.columns):
            return stamps.where(stamps.str.strip() != "", frame["date"] + " " + frame["hour"])
        return stamps
    return frame["date"].astype(str) + " " + frame["hour"].astype(str)


def _prediction_columns(model: LoadedModel) -> list[str]:
    if model.spec.is_classifier:
        return ["p_high", "traffic"]
    return ["predicted_count", *(["lower", "upper"] if model.predictor.interval else [])]


def describe_refusals(refused: pd.DataFrame) -> pd.Series:
    """Count of refused rows per kind of reason (the reason without its values and details)."""
    kinds = refused["reason"].astype(str).str.split(r" '|: | \(", n=1, regex=True).str[0]
    return kinds.value_counts(sort=False)


def as_csv(table: pd.DataFrame) -> bytes:
    """A table as UTF-8 CSV for people to download: no cell runs as a spreadsheet formula."""
    return escape_formulas(table).to_csv(index=False).encode("utf-8")
