"""One list of checks: which rows and requests are refused, why, and which reason wins."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from bike_traffic.pipelines.data_cleaning.nodes import parse_fields, rename_columns
from bike_traffic.validation import (
    CLEANING_RULES,
    REASONS,
    REQUEST_RULES,
    SCORING_RULES,
    DateRange,
    describe,
    first_failure,
    parse_requests,
    raw_row_checks,
)

KNOWN = {"Totem 73 boulevard de Sébastopol N-S", "89 boulevard de Magenta NO-SE"}
COUNTER = "Totem 73 boulevard de Sébastopol N-S"
DATES = DateRange.from_params({"first_date": "2024-01-01", "last_date": "2024-12-31"})
#: 2024-06-03 08:00 in Paris (summer time, UTC+2).
SUMMER_8AM_UTC = pd.Timestamp("2024-06-03T06:00:00Z")
#: A request that is served when nothing else is wrong with it.
SUMMER_8AM = {"counter": COUNTER, "timestamp": "2024-06-03T08:00:00+02:00"}


def parse(rows: list[dict], dates: DateRange = DATES) -> tuple[pd.DataFrame, pd.Series]:
    """parse_requests on request rows (a missing key is a missing column value)."""
    return parse_requests(pd.DataFrame(rows), KNOWN, dates)


def only_error(row: dict) -> str:
    """The refusal of a single request, which must be refused."""
    requests, error = parse([row])
    assert requests["counter"].isna().all() and requests["timestamp_utc"].isna().all()
    assert isinstance(error.iloc[0], str), error.iloc[0]
    return error.iloc[0]


# ---------------------------------------------------------------- reasons and rules
def test_every_rule_has_a_reason_and_the_lists_do_not_repeat():
    for rules in (CLEANING_RULES, SCORING_RULES, REQUEST_RULES):
        assert len(set(rules)) == len(rules)
        assert set(rules) <= set(REASONS)
    assert set(SCORING_RULES) <= set(CLEANING_RULES)
    # scoring keeps the cleaning order
    assert list(SCORING_RULES) == [r for r in CLEANING_RULES if r in SCORING_RULES]
    assert set(REASONS) == set(CLEANING_RULES) | set(REQUEST_RULES)


def test_describe_gives_the_code_the_sentence_and_the_value():
    assert describe("missing_time") == "missing_time: give a timestamp, or a date and an hour"
    assert describe("hour_out_of_range", "99") == (
        "hour_out_of_range: the hour must be a whole number from 0 to 23 (got '99')"
    )
    assert describe("negative_count", -3).endswith("(got -3)")
    with pytest.raises(KeyError):
        describe("no_such_reason")


# ---------------------------------------------------------------- every REQUEST_RULES reason
@pytest.mark.parametrize(
    ("row", "code", "shown"),
    [
        ({"timestamp": "2024-06-03T08:00:00+02:00"}, "missing_counter_name", None),
        ({"counter": "  ", "timestamp": "2024-06-03T08:00:00+02:00"}, "missing_counter_name", None),
        (
            {"counter": "Nowhere N-S", "timestamp": "2024-06-03T08:00:00+02:00"},
            "unknown_counter",
            "'Nowhere N-S'",
        ),
        ({"counter": COUNTER}, "missing_time", None),
        ({"counter": COUNTER, "date": "2024-06-03"}, "missing_time", None),
        ({"counter": COUNTER, "hour": 8}, "missing_time", None),
        (
            {"counter": COUNTER, "timestamp": "tomorrow at 8"},
            "unparseable_timestamp",
            "'tomorrow at 8'",
        ),
        (
            {"counter": COUNTER, "timestamp": "2024-06-31T08:00:00+02:00"},
            "unparseable_timestamp",
            "'2024-06-31T08:00:00+02:00'",
        ),
        ({"counter": COUNTER, "date": "03/06/2024", "hour": 8}, "unparseable_date", "'03/06/2024'"),
        ({"counter": COUNTER, "date": "2024-13-01", "hour": 8}, "unparseable_date", "'2024-13-01'"),
        ({"counter": COUNTER, "date": "2024-06-03", "hour": 99}, "hour_out_of_range", "'99'"),
        ({"counter": COUNTER, "date": "2024-06-03", "hour": 24}, "hour_out_of_range", "'24'"),
        ({"counter": COUNTER, "date": "2024-06-03", "hour": -1}, "hour_out_of_range", "'-1'"),
        ({"counter": COUNTER, "date": "2024-06-03", "hour": 7.5}, "hour_out_of_range", "'7.5'"),
        ({"counter": COUNTER, "date": "2024-06-03", "hour": "abc"}, "hour_out_of_range", "'abc'"),
        (
            {"counter": COUNTER, "timestamp": "2024-03-31T02:30:00"},
            "clock_change",
            "'2024-03-31T02:30:00'",
        ),
        (
            {"counter": COUNTER, "timestamp": "2024-10-27T02:30:00"},
            "clock_change",
            "'2024-10-27T02:30:00'",
        ),
        ({"counter": COUNTER, "date": "2024-03-31", "hour": 2}, "clock_change", "'2024-03-31 2'"),
        ({"counter": COUNTER, "date": "2024-10-27", "hour": 2}, "clock_change", "'2024-10-27 2'"),
        (
            {"counter": COUNTER, "timestamp": "2025-06-01T08:00:00+02:00"},
            "date_out_of_range",
            "'2025-06-01'",
        ),
        (
            {"counter": COUNTER, "date": "2023-12-31", "hour": 23},
            "date_out_of_range",
            "'2023-12-31'",
        ),
        ({**SUMMER_8AM, "temperature": "warm"}, "weather_not_a_number", "'temperature=warm'"),
        ({**SUMMER_8AM, "wind": "nan"}, "weather_not_a_number", "'wind=nan'"),
        ({**SUMMER_8AM, "rain": "inf"}, "weather_not_a_number", "'rain=inf'"),
        ({**SUMMER_8AM, "temperature": 51}, "weather_out_of_range", "'temperature=51'"),
        ({**SUMMER_8AM, "rain": -1}, "weather_out_of_range", "'rain=-1'"),
        ({**SUMMER_8AM, "rain_last_3h": 250}, "weather_out_of_range", "'rain_last_3h=250'"),
        ({**SUMMER_8AM, "wind": 61.5}, "weather_out_of_range", "'wind=61.5'"),
    ],
    ids=lambda value: None if isinstance(value, dict) else str(value),
)
def test_each_refusal_names_its_reason_and_the_value(row, code, shown):
    error = only_error(row)
    assert error.startswith(f"{code}: {REASONS[code]}")
    if shown is None:
        assert error == describe(code)
    else:
        assert f"(got {shown})" in error


def test_a_date_out_of_range_says_which_dates_are_served():
    error = only_error({"counter": COUNTER, "timestamp": "2025-06-01T08:00:00+02:00"})
    assert error.endswith(": 2024-01-01 to 2024-12-31")


@pytest.mark.parametrize(
    "row",
    [
        {"timestamp": "3000-01-01T08:00:00+01:00"},
        {"timestamp": "9999-12-31T08:00:00"},
        {"timestamp": "1500-06-01T08:00:00+00:09"},
        {"date": "3000-01-01", "hour": "8"},
        {"date": "9999-12-31", "hour": 23},
    ],
)
def test_years_pandas_cannot_hold_are_out_of_range_not_a_crash(row):
    error = only_error({"counter": COUNTER, **row})
    assert error.startswith("date_out_of_range") and error.endswith(": 2024-01-01 to 2024-12-31")
    assert str(row.get("timestamp", row.get("date"))) in error


def test_the_local_date_decides_the_range_not_the_utc_one():
    # 2024-12-31 23:30 in Paris is 22:30 UTC, and 2025-01-01 00:30 in Paris is still 2024 in UTC
    requests, error = parse(
        [
            {"counter": COUNTER, "timestamp": "2024-12-31T23:30:00+01:00"},
            {"counter": COUNTER, "timestamp": "2024-12-31T23:30:00Z"},
        ]
    )
    assert pd.isna(error.iloc[0]) and requests["timestamp_utc"].iloc[0] == pd.Timestamp(
        "2024-12-31T22:30:00Z"
    )
    assert error.iloc[1].startswith("date_out_of_range") and "'2025-01-01'" in error.iloc[1]


# ---------------------------------------------------------------- the same instant, three ways
def test_offset_naive_paris_time_and_date_hour_are_the_same_instant():
    rows = [
        {"counter": COUNTER, "timestamp": "2024-06-03T08:00:00+02:00"},
        {"counter": COUNTER, "timestamp": "2024-06-03T06:00:00Z"},
        {"counter": COUNTER, "timestamp": "2024-06-03T07:00:00+0100"},
        {"counter": COUNTER, "timestamp": "2024-06-03T08:00:00"},  # naive: Paris time
        {"counter": COUNTER, "timestamp": "2024-06-03 08:00"},
        {"counter": COUNTER, "date": "2024-06-03", "hour": 8},
        {"counter": COUNTER, "date": "2024-06-03", "hour": "8"},
        {"counter": COUNTER, "date": "2024-06-03", "hour": 8.0},
        {"counter": COUNTER, "date": " 2024-06-03 ", "hour": " 8 "},
    ]
    requests, error = parse(rows)
    assert error.isna().all(), error.tolist()
    assert requests["counter"].tolist() == [COUNTER] * len(rows)
    assert requests["timestamp_utc"].tolist() == [SUMMER_8AM_UTC] * len(rows)
    assert str(requests["timestamp_utc"].dt.tz) == "UTC"


def test_a_winter_naive_time_is_read_with_the_winter_offset():
    requests, error = parse(
        [
            {"counter": COUNTER, "timestamp": "2024-01-15T08:00:00"},
            {"counter": COUNTER, "date": "2024-01-15", "hour": 8},
            {"counter": COUNTER, "timestamp": "2024-10-27T03:30:00"},  # after the change: +01:00
            {"counter": COUNTER, "timestamp": "2024-10-27T02:30:00+02:00"},  # offset given: ok
            {"counter": COUNTER, "timestamp": "2024-10-27T02:30:00+01:00"},
        ]
    )
    assert error.isna().all(), error.tolist()
    assert requests["timestamp_utc"].tolist() == [
        pd.Timestamp("2024-01-15T07:00:00Z"),
        pd.Timestamp("2024-01-15T07:00:00Z"),
        pd.Timestamp("2024-10-27T02:30:00Z"),
        pd.Timestamp("2024-10-27T00:30:00Z"),
        pd.Timestamp("2024-10-27T01:30:00Z"),
    ]


def test_a_timestamp_wins_over_date_and_hour():
    requests, error = parse(
        [
            {
                "counter": COUNTER,
                "timestamp": "2024-06-03T09:00:00+02:00",
                "date": "2024-06-03",
                "hour": 8,
            }
        ]
    )
    assert pd.isna(error.iloc[0])
    assert requests["timestamp_utc"].iloc[0] == pd.Timestamp("2024-06-03T07:00:00Z")


def test_tz_aware_datetimes_are_taken_as_they_are():
    stamps = pd.Series(pd.to_datetime(["2024-06-03 08:00", None]).tz_localize("Europe/Paris"))
    requests, error = parse_requests(
        pd.DataFrame({"counter": [COUNTER, COUNTER], "timestamp": stamps}), KNOWN, DATES
    )
    assert requests["timestamp_utc"].iloc[0] == SUMMER_8AM_UTC and pd.isna(error.iloc[0])
    assert error.iloc[1] == describe("missing_time")
    python = pd.DataFrame(
        {
            "counter": [COUNTER],
            "timestamp": [dt.datetime(2024, 6, 3, 6, tzinfo=dt.UTC)],
        }
    )
    requests, error = parse_requests(python, KNOWN, DATES)
    assert requests["timestamp_utc"].tolist() == [SUMMER_8AM_UTC] and error.isna().all()


def test_naive_datetimes_are_paris_time():
    stamps = pd.to_datetime(["2024-06-03 08:00", "2024-03-31 02:30"])
    requests, error = parse_requests(
        pd.DataFrame({"counter": [COUNTER, COUNTER], "timestamp": stamps}), KNOWN, DATES
    )
    assert requests["timestamp_utc"].iloc[0] == SUMMER_8AM_UTC and pd.isna(error.iloc[0])
    assert error.iloc[1].startswith("clock_change")


# ---------------------------------------------------------------- a batch, row by row
def test_a_batch_keeps_its_order_and_index_and_refuses_row_by_row():
    inputs = pd.DataFrame(
        {
            "counter": [COUNTER, "Nowhere", "89 boulevard de Magenta NO-SE", None],
            "timestamp": ["2024-06-03T08:00:00+02:00", "2024-06-03T08:00:00+02:00", None, "x"],
            "date": [None, None, "2024-06-03", None],
            "hour": [None, None, 9, None],
        },
        index=[10, 11, 12, 13],
    )
    requests, error = parse_requests(inputs, KNOWN, DATES)
    assert list(requests.index) == list(error.index) == [10, 11, 12, 13]
    assert requests["counter"].tolist()[::2] == [COUNTER, "89 boulevard de Magenta NO-SE"]
    assert requests["timestamp_utc"].tolist()[::2] == [
        SUMMER_8AM_UTC,
        pd.Timestamp("2024-06-03T07:00:00Z"),
    ]
    assert error.isna().tolist() == [True, False, True, False]
    assert error[11].startswith("unknown_counter") and error[13].startswith("missing_counter")


def test_served_requests_always_have_a_counter_and_an_instant():
    rows = [
        {"counter": COUNTER, "date": "2024-06-03", "hour": hour}
        for hour in (0, "23", 8.0, "abc", None, "", "1e1", "nan", 3.2)
    ]
    requests, error = parse(rows)
    served = error.isna()
    assert requests.loc[served, "timestamp_utc"].notna().all()
    assert requests.loc[served, "counter"].notna().all()
    assert requests.loc[~served].isna().all().all()
    assert served.tolist() == [True, True, True, False, False, False, True, False, False]


def test_the_first_failing_request_rule_wins():
    cases = [
        # no counter, bad time: the counter is reported
        ({"timestamp": "garbage"}, "missing_counter_name"),
        # unknown counter and no time: the counter is reported
        ({"counter": "Nowhere"}, "unknown_counter"),
        # unknown counter and out of range
        ({"counter": "Nowhere", "timestamp": "1900-01-01T08:00:00Z"}, "unknown_counter"),
        # bad date and bad hour: the date is reported
        ({"counter": COUNTER, "date": "June 3rd", "hour": 99}, "unparseable_date"),
    ]
    for row, code in cases:
        assert only_error(row).startswith(f"{code}:"), row


def test_weather_is_optional_and_goes_to_its_feature_columns():
    rows = [
        {**SUMMER_8AM, "temperature": 21.5, "rain": "0.4", "rain_last_3h": 1.2, "wind": 3},
        {**SUMMER_8AM, "rain": 0.4},  # only the hour's rain: the two before were dry
        {**SUMMER_8AM, "temperature": "", "rain": None},  # blank: not given
        SUMMER_8AM,
        {**SUMMER_8AM, "temperature": -40, "rain": 100, "rain_last_3h": 200, "wind": 0},
    ]
    requests, error = parse(rows)
    assert error.isna().all()
    weather = requests[["temperature_c", "rain_mm", "rain_last_3h_mm", "wind_ms"]]
    assert weather.iloc[0].tolist() == [21.5, 0.4, 1.2, 3.0]
    assert weather.iloc[1].tolist()[1:3] == [0.4, 0.4]
    assert weather.iloc[1:4].isna().sum().tolist() == [3, 2, 2, 3]
    assert weather.iloc[2:4].isna().all().all()
    assert weather.iloc[4].tolist() == [-40.0, 100.0, 200.0, 0.0]  # the bounds are served


def test_a_weather_refusal_comes_after_the_counter_and_the_time():
    assert only_error({"counter": "Nowhere", "temperature": "warm"}).startswith("unknown_counter")
    late = {**SUMMER_8AM, "timestamp": "2025-06-01T08:00:00+02:00", "wind": -2}
    assert only_error(late).startswith("date_out_of_range")
    # the value shown is the first one that fails the reason given
    both = only_error({**SUMMER_8AM, "temperature": 99, "rain": "lots"})
    assert both.startswith("weather_not_a_number") and "(got 'rain=lots')" in both
    two = only_error({**SUMMER_8AM, "temperature": 99, "wind": 99})
    assert "(got 'temperature=99')" in two


def test_no_request_column_at_all_is_missing_everything():
    _, error = parse_requests(pd.DataFrame(index=range(2)), KNOWN, DATES)
    assert error.tolist() == [describe("missing_counter_name")] * 2


# ---------------------------------------------------------------- raw rows (data_cleaning)
RAW_ROW = {
    "Identifiant du compteur": "100018838-196183409",
    "Nom du compteur": "Totem 161 quai de la Tournelle E-O",
    "Identifiant du site de comptage": "100018838",
    "Nom du site de comptage": "Totem 161 quai de la Tournelle",
    "Comptage horaire": "12",
    "Date et heure de comptage": "2024-03-27T18:00:00+01:00",
    "Date d'installation du site de comptage": "2020-12-24",
    "Coordonnées géographiques": "48.852395, 2.355554",
    "Identifiant technique compteur": "Y2H61827442",
    "mois_annee_comptage": "2024-03",
}

#: One raw row per cleaning reason (each a change of RAW_ROW), and the reason expected.
RAW_CASES: list[tuple[dict, str | None]] = [
    ({}, None),
    ({}, "exact_duplicate"),
    ({"Date et heure de comptage": "27/03/2024 18h"}, "unparseable_timestamp"),
    ({"Comptage horaire": " "}, "missing_count"),
    ({"Comptage horaire": "douze"}, "non_numeric_count"),
    ({"Comptage horaire": "-3"}, "negative_count"),
    ({"Nom du compteur": ""}, "missing_counter_name"),
    ({"Coordonnées géographiques": ""}, "missing_coordinates"),
    ({"Coordonnées géographiques": "45.76, 4.83"}, "coordinates_outside_paris"),
    # several failures: the first in CLEANING_RULES wins
    (
        {"Date et heure de comptage": "", "Comptage horaire": "-1", "Nom du compteur": ""},
        "unparseable_timestamp",
    ),
    ({"Comptage horaire": "-1", "Coordonnées géographiques": "0, 0"}, "negative_count"),
    ({"Comptage horaire": "12.0", "Date et heure de comptage": "2024-03-27 19:00:00+01:00"}, None),
]


def _raw(cases: list[tuple[dict, str | None]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    raw = pd.DataFrame([{**RAW_ROW, **change} for change, _ in cases], dtype=str)
    renamed = rename_columns(raw)
    return renamed, parse_fields(renamed)


def _checks(renamed: pd.DataFrame, parsed: pd.DataFrame, bbox=None) -> dict[str, pd.Series]:
    raw_columns = [c for c in renamed.columns if c != "row_number"]
    return raw_row_checks(renamed, parsed, bbox, raw_columns)


def test_raw_row_checks_flag_each_reason_on_its_row():
    renamed, parsed = _raw(RAW_CASES)
    checks = _checks(renamed, parsed)
    assert list(checks) == list(CLEANING_RULES)
    for code, mask in checks.items():
        assert mask.index.equals(parsed.index), code
        flagged = {i for i, failed in enumerate(mask.fillna(False)) if failed}
        single = {i for i, (_, expected) in enumerate(RAW_CASES[:9]) if expected == code}
        assert single <= flagged, code  # the row made for it fails it
        assert 0 not in flagged and len(RAW_CASES) - 1 not in flagged, code  # valid rows pass


def test_first_failure_gives_each_raw_row_its_first_reason():
    renamed, parsed = _raw(RAW_CASES)
    reason = first_failure(_checks(renamed, parsed), CLEANING_RULES)
    assert reason.dtype == "string"
    assert [None if pd.isna(r) else r for r in reason] == [code for _, code in RAW_CASES]


def test_a_row_number_alone_does_not_make_a_row_new():
    renamed, parsed = _raw([({}, None), ({}, "exact_duplicate")])
    assert renamed["row_number"].tolist() == [2, 3]
    assert _checks(renamed, parsed)["exact_duplicate"].tolist() == [False, True]
    # comparing every column, the line number included, nothing is a duplicate
    everything = raw_row_checks(renamed, parsed)
    assert everything["exact_duplicate"].tolist() == [False, False]


def test_the_paris_box_can_be_narrowed():
    renamed, parsed = _raw([({}, None)])
    assert not _checks(renamed, parsed)["coordinates_outside_paris"].iloc[0]
    narrow = {"lon_min": 2.36}  # east of the counter (2.3556); the other bounds stay
    assert _checks(renamed, parsed, narrow)["coordinates_outside_paris"].iloc[0]


def test_scoring_checks_ignore_the_count_and_duplicates():
    renamed, parsed = _raw(RAW_CASES)
    reason = first_failure(_checks(renamed, parsed), SCORING_RULES)
    got = [None if pd.isna(r) else r for r in reason]
    expected = [
        None,
        None,  # a duplicate is scored again
        "unparseable_timestamp",
        None,
        None,
        None,  # missing, unreadable or negative counts do not matter
        "missing_counter_name",
        got[7],  # missing coordinates: not a scoring rule (see the cleaning test)
        "coordinates_outside_paris",
        "unparseable_timestamp",
        "coordinates_outside_paris",  # its negative count does not matter here
        None,
    ]
    assert got == expected


def test_first_failure_follows_the_order_and_treats_missing_as_passing():
    index = pd.Index([5, 6, 7, 8])
    checks = {
        "a": pd.Series([True, False, pd.NA, False], index=index, dtype="boolean"),
        "b": pd.Series([True, True, True, False], index=index),
        "c": pd.Series([False, False, True, False], index=index),
    }
    assert first_failure(checks, ("a", "b", "c")).tolist() == ["a", "b", "b", pd.NA]
    assert first_failure(checks, ("c", "b", "a")).tolist() == ["b", "b", "c", pd.NA]
    assert first_failure(checks, ("c",)).tolist() == [pd.NA, pd.NA, "c", pd.NA]
    assert list(first_failure(checks, ("a",)).index) == [5, 6, 7, 8]
