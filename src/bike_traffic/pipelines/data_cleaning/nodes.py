"""Nodes of ``data_cleaning``: from the raw export to clean features and a fixed split.

Bad rows never crash the run and are never dropped silently: each one goes to
the quarantine table with the line it came from and the reason, and the counts
per reason are logged and saved.
"""

from __future__ import annotations

import logging
import unicodedata
from typing import Any

import numpy as np
import pandas as pd

from bike_traffic.calendar import PARIS_TZ
from bike_traffic.csv_text import escape_formulas
from bike_traffic.exogenous.weather import check_coverage, missing_slots, normalize_synop
from bike_traffic.features import ROW_NUMBER
from bike_traffic.outages import detect_outages, outage_summary
from bike_traffic.raw_format import (
    COORDINATES,
    COUNT,
    COUNTER,
    COUNTER_ID,
    LINE,
    MALFORMED,
    MALFORMED_LINE,
    SITE,
    SITE_ID,
    SOURCE,
    SOURCE_FILE,
    TIMESTAMP,
    blank_to_na,
    to_snake_case,
)
from bike_traffic.validation import CLEANING_RULES, first_failure, raw_row_checks

logger = logging.getLogger(__name__)


def rename_columns(raw: pd.DataFrame) -> pd.DataFrame:
    """Rename the French headers to snake_case ASCII and number the rows.

    Args:
        raw: The export as loaded, every column as text.

    Returns:
        The same rows with columns such as ``nom_du_compteur``, ``malformed_line`` (why
        the reader could not split the line into the header's fields; "" for a sound
        line) and ``row_number``, each row's line in the file (and ``source_file``, the
        file, when the raw rows come from several).

    Raises:
        ValueError: When two headers map to the same snake_case name.
    """
    body = raw.drop(columns=[LINE, MALFORMED, SOURCE], errors="ignore")
    names = [to_snake_case(str(c)) for c in body.columns]
    clashes = sorted({n for n in names if names.count(n) > 1})
    if clashes:
        raise ValueError(f"Raw headers collide once in snake_case: {clashes}")
    lines = (
        raw[LINE].to_numpy(dtype=np.int64)
        if LINE in raw.columns
        else np.arange(2, len(raw) + 2, dtype=np.int64)
    )
    malformed = raw[MALFORMED].astype(str) if MALFORMED in raw.columns else ""
    renamed = body.set_axis(names, axis=1)
    if SOURCE in raw.columns:  # several files read as one: each row names its file
        renamed[SOURCE_FILE] = raw[SOURCE].astype(str).to_numpy()
    return renamed.assign(**{MALFORMED_LINE: malformed, ROW_NUMBER: lines})


def _clean_name(values: pd.Series) -> pd.Series:
    """Normalise a name: Unicode NFC, single spaces, no surrounding blanks."""
    text = blank_to_na(values)
    uniques = pd.Series(text.dropna().unique())
    mapping = {u: " ".join(unicodedata.normalize("NFC", u).split()) for u in uniques.tolist()}
    return text.map(mapping, na_action="ignore").astype("string")


def parse_fields(renamed: pd.DataFrame) -> pd.DataFrame:
    """Parse timestamps, counts and coordinates; clean names and identifiers.

    Timestamps carry mixed ``+01:00``/``+02:00`` offsets (or a space instead of
    ``T``): they are parsed as UTC, then converted to Europe/Paris, which is
    right across clock changes. Values that do not parse become missing here
    and are quarantined, with their raw text, by :func:`quarantine_invalid_rows`.

    Args:
        renamed: Output of :func:`rename_columns`.

    Returns:
        The rows with ``timestamp_utc``, ``count_value``, ``latitude`` and
        ``longitude`` added and names and identifiers cleaned.
    """
    stamps = pd.to_datetime(
        blank_to_na(renamed[TIMESTAMP]), utc=True, format="ISO8601", errors="coerce"
    )
    counts = pd.to_numeric(blank_to_na(renamed[COUNT]), errors="coerce")
    coords = blank_to_na(renamed[COORDINATES]).str.split(",", n=1, expand=True)
    if coords.shape[1] < 2:
        coords = coords.reindex(columns=[0, 1]).astype("string")
    latitude = pd.to_numeric(coords[0].str.strip(), errors="coerce")
    longitude = pd.to_numeric(coords[1].str.strip(), errors="coerce")
    return renamed.assign(
        **{
            COUNTER: _clean_name(renamed[COUNTER]),
            SITE: _clean_name(renamed[SITE]),
            COUNTER_ID: blank_to_na(renamed[COUNTER_ID]),
            SITE_ID: blank_to_na(renamed[SITE_ID]),
            "timestamp_utc": stamps,
            "count_value": counts.astype("float64"),
            "latitude": latitude.astype("float64"),
            "longitude": longitude.astype("float64"),
        }
    )


def _most_common_per_counter(frame: pd.DataFrame, column: str) -> pd.Series:
    """The most frequent non-missing value of ``column`` for each counter name."""
    known = frame.loc[frame[column].notna(), [COUNTER, column]]
    if known.empty:
        return pd.Series(dtype=frame[column].dtype)
    return known.groupby(COUNTER, observed=True)[column].agg(lambda s: s.value_counts().index[0])


def fill_missing_identifiers(parsed: pd.DataFrame) -> pd.DataFrame:
    """Fill missing counter ids and coordinates from other rows of the same counter.

    About 3-4% of the export's rows lack the counter id and coordinates; the
    counter name is always there, and other rows of that counter carry them.

    Args:
        parsed: Output of :func:`parse_fields`.

    Returns:
        The rows with ids and coordinates filled where the counter is known.
    """
    filled = {}
    for column in (COUNTER_ID, "latitude", "longitude", SITE_ID):
        lookup = _most_common_per_counter(parsed, column)
        filled[column] = parsed[column].fillna(parsed[COUNTER].map(lookup))
    before = int(parsed[COUNTER_ID].isna().sum())
    after = int(filled[COUNTER_ID].isna().sum())
    logger.info("Filled %d missing counter ids from other rows (%d left)", before - after, after)
    return parsed.assign(**filled)


def quarantine_invalid_rows(
    renamed: pd.DataFrame,
    filled: pd.DataFrame,
    bbox: dict[str, float] | None = None,
    max_hourly_count: float | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Split rows into valid ones and a quarantine with one reason per row.

    The checks and their order are :data:`bike_traffic.validation.CLEANING_RULES`
    (batch scoring applies the same ones).

    Args:
        renamed: Output of :func:`rename_columns`: the rows' original text,
            which is what the quarantine keeps.
        filled: Output of :func:`fill_missing_identifiers`, row for row.
        bbox: Bounds of Paris (``lat_min``, ``lat_max``, ``lon_min``,
            ``lon_max``); the project's default box when omitted.
        max_hourly_count: The most bikes a counter can count in an hour
            (``params:data_cleaning.max_hourly_count``); no ceiling when None.

    Returns:
        The valid rows; the quarantined rows (raw text of every column, their
        ``row_number`` and ``reason``; text a spreadsheet would run as a formula is
        escaped, :func:`bike_traffic.csv_text.escape_formulas`); and a summary with the
        count per reason.

    Raises:
        ValueError: When no row is valid: the message gives the count per reason and
            the first lines refused, and nothing downstream is overwritten.
    """
    raw_columns = [c for c in renamed.columns if c != ROW_NUMBER]
    checks = raw_row_checks(renamed, filled, bbox, raw_columns, max_hourly_count)
    reason = first_failure(checks, CLEANING_RULES)
    bad = reason.notna()
    quarantine = escape_formulas(
        renamed.loc[bad, [ROW_NUMBER, *raw_columns]]
        .assign(reason=reason[bad])
        .reset_index(drop=True)
    )
    counts = reason[bad].value_counts()
    summary = {
        "rows_in": len(filled),
        "rows_valid": int((~bad).sum()),
        "rows_quarantined": int(bad.sum()),
        "by_reason": {name: int(counts.get(name, 0)) for name in CLEANING_RULES},
    }
    if bad.any():
        logger.warning(
            "Quarantined %d of %d rows: %s",
            summary["rows_quarantined"],
            summary["rows_in"],
            {k: v for k, v in summary["by_reason"].items() if v},
        )
    else:
        logger.info("No row quarantined out of %d", len(filled))
    if not (~bad).any():
        first = "; ".join(
            f"line {line}: {code}"
            for line, code in quarantine[[ROW_NUMBER, "reason"]].head(5).itertuples(index=False)
        )
        raise ValueError(
            f"Every one of the {len(filled):,} rows of the raw export was refused "
            f"({ {k: v for k, v in summary['by_reason'].items() if v} }; first: {first}). "
            "Nothing was written: is it the City of Paris export?"
        )
    valid = filled.loc[~bad].drop(columns=[MALFORMED_LINE], errors="ignore")
    return valid.reset_index(drop=True), quarantine, summary


def flag_outages(
    features: pd.DataFrame, outages: dict[str, Any]
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Flag the hours a counter was down (kept, with ``outage`` and ``outage_reason``).

    The rules and their parameters are :func:`bike_traffic.outages.detect_outages`'s;
    model runs and the backtest leave flagged hours out of training and metrics unless
    ``run.exclude_outages`` is false.

    Args:
        features: The clean rows with their features.
        outages: ``params:data_cleaning.outages``.

    Returns:
        The same rows with the two flag columns, and the hours flagged per rule and counter.
    """
    flags = detect_outages(features, outages)
    summary = outage_summary(flags, features)
    if summary["hours_flagged"]:
        logger.warning(
            "Flagged %d hours of %d counter(s) as down: %s",
            summary["hours_flagged"],
            len(summary["by_counter"]),
            {k: v for k, v in summary["by_reason"].items() if v},
        )
    return features.assign(**{c: flags[c] for c in flags.columns}), summary


def split_train_test(
    features: pd.DataFrame, split: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Split once, by time: the last part of the period is the test set.

    Args:
        features: Output of :func:`add_time_features`.
        split: ``test_start`` (a local date, e.g. ``"2025-01-15"``) or, when it
            is null, ``test_fraction`` (share of the period's hours kept for test);
            ``min_train_days`` and ``min_test_days``, the least each side must span.

    Returns:
        ``train_baseline``, ``test_baseline`` and a description of the split
        (cutoff, sizes, date ranges).

    Raises:
        ValueError: When the cutoff leaves one side empty or shorter than its minimum
            (a partial file must not replace the fixed split), or the fraction is not
            between 0 and 1.
    """
    stamps = features[TIMESTAMP]
    if split.get("test_start"):
        cutoff = pd.Timestamp(split["test_start"])
        cutoff = cutoff.tz_localize(PARIS_TZ) if cutoff.tzinfo is None else cutoff
    else:
        fraction = float(split["test_fraction"])
        if not 0 < fraction < 1:
            raise ValueError(f"split.test_fraction must be in (0, 1), got {fraction}")
        hours = np.sort(stamps.dt.tz_convert("UTC").unique())
        cutoff = pd.Timestamp(hours[int(len(hours) * (1 - fraction))]).tz_convert(PARIS_TZ)
    is_test = stamps >= cutoff
    train, test = features.loc[~is_test], features.loc[is_test]
    if train.empty or test.empty:
        raise ValueError(
            f"Split at {cutoff} leaves {len(train)} train and {len(test)} test rows; "
            f"the data spans {stamps.min()} to {stamps.max()}."
        )
    for side, rows, least in (
        ("train", stamps[~is_test], split.get("min_train_days")),
        ("test", stamps[is_test], split.get("min_test_days")),
    ):
        days = (rows.max() - rows.min()) / pd.Timedelta(days=1)
        if least and days < float(least):
            raise ValueError(
                f"The {side} side would span {days:.1f} days ({rows.min()} to {rows.max()}), "
                f"fewer than data_cleaning.split.min_{side}_days = {least}: is the raw file "
                "partial? The fixed split was left as it was; lower the minimum "
                f"(--params data_cleaning.split.min_{side}_days=0) to split it anyway."
            )
    info = {
        "cutoff": cutoff.isoformat(),
        "train_rows": len(train),
        "test_rows": len(test),
        "train_start": stamps[~is_test].min().isoformat(),
        "train_end": stamps[~is_test].max().isoformat(),
        "test_start": stamps[is_test].min().isoformat(),
        "test_end": stamps[is_test].max().isoformat(),
    }
    logger.info("Split at %s: %d train rows, %d test rows", info["cutoff"], len(train), len(test))
    return train.reset_index(drop=True), test.reset_index(drop=True), info


def clean_weather(
    raw_weather: pd.DataFrame, weather: dict[str, Any]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Tidy the station's 3-hourly SYNOP reports and quarantine the rest, with reasons.

    Rows of other stations are left aside; duplicated times, unreadable or impossible
    values go to the quarantine (``exogenous.weather.normalize_synop``), and so do the
    3-hour slots between the first and last report that have none (``missing_slot``).

    Args:
        raw_weather: The SYNOP file, every column as text (``raw_weather``).
        weather: ``params:data_cleaning.weather`` (``station``).

    Returns:
        The reports (UTC, °C, mm, m/s), and the quarantine (``row_number``,
        ``timestamp_utc``, ``reason``, ``detail`` and the raw values).
    """
    reports, quarantine = normalize_synop(raw_weather, str(weather["station"]))
    gaps = missing_slots(
        reports, reports["timestamp_utc"].iloc[0], reports["timestamp_utc"].iloc[-1]
    )
    quarantined = pd.concat([quarantine, gaps], ignore_index=True)
    ordered = quarantined.sort_values(["timestamp_utc", "row_number"], kind="stable")
    return reports, escape_formulas(ordered)


def check_weather_coverage(
    hourly: pd.DataFrame, valid: pd.DataFrame, weather: dict[str, Any]
) -> pd.DataFrame:
    """Refuse weather that does not cover the counts' period; pass it on when it does.

    Args:
        hourly: Hourly weather (``exogenous.weather.to_hourly``).
        valid: The valid counts (their first and last hour).
        weather: ``params:data_cleaning.weather`` (``file``, named in the message;
            ``max_gap_hours``).

    Returns:
        ``hourly``, unchanged.

    Raises:
        ValueError: Naming the file and the gap, when the weather starts after the first
            count, stops before the last, or misses more than ``max_gap_hours`` in a row.
    """
    stamps = valid["timestamp_utc"]
    check_coverage(
        hourly,
        stamps.min(),
        stamps.max(),
        where=str(weather["file"]),
        max_gap_hours=int(weather["max_gap_hours"]),
    )
    return hourly
