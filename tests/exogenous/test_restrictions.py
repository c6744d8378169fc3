"""restrictions: the dated lockdown/curfew table and its hourly flags in local time."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
import yaml

from bike_traffic.exogenous.restrictions import (
    PARIS_2020_2021,
    restriction_flags,
    validate_restrictions,
)

CURFEW_21 = {
    "kind": "curfew",
    "start": "2020-10-17",
    "end": "2020-10-30",
    "from_hour": 21,
    "to_hour": 6,
}


def flags_at(local_times: list[str], table=PARIS_2020_2021) -> pd.DataFrame:
    """Flags at Paris wall-clock times (converted to UTC first, as the counts are)."""
    stamps = pd.DatetimeIndex(local_times).tz_localize("Europe/Paris").tz_convert("UTC")
    return restriction_flags(stamps, table)


def test_paris_table_is_valid_sourced_and_ordered():
    table = validate_restrictions(PARIS_2020_2021)

    assert [entry["kind"] for entry in table].count("lockdown") == 3
    assert all("Décret n°" in entry["source"] for entry in table)
    assert all("legifrance.gouv.fr/eli/decret/" in entry["source"] for entry in table)
    curfews = [entry for entry in table if entry["kind"] == "curfew"]
    assert [(c["start"], c["from_hour"]) for c in curfews] == [
        (date(2020, 10, 17), 21),
        (date(2020, 12, 15), 20),
        (date(2020, 12, 25), 20),
        (date(2021, 1, 16), 18),
        (date(2021, 3, 20), 19),
        (date(2021, 5, 19), 21),
        (date(2021, 6, 9), 23),
    ]
    assert all(c["to_hour"] == 6 for c in curfews)


def test_validate_returns_typed_copies_and_accepts_yaml_dates():
    entries = yaml.safe_load("- {kind: lockdown, start: 2020-10-30, end: 2020-12-15}")
    table = validate_restrictions(entries)

    assert table == [
        {
            "kind": "lockdown",
            "start": date(2020, 10, 30),
            "end": date(2020, 12, 15),
            "from_hour": None,
            "to_hour": None,
            "note": "",
            "source": "",
        }
    ]
    assert entries[0]["start"] == date(2020, 10, 30)  # the input is not changed


def test_the_table_survives_a_trip_through_yaml():
    pasted = yaml.safe_load(yaml.safe_dump({"restrictions": PARIS_2020_2021}, allow_unicode=True))

    assert validate_restrictions(pasted["restrictions"]) == validate_restrictions(PARIS_2020_2021)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "couvre-feu"}, r"restrictions\[1\]\.kind: 'couvre-feu'"),
        ({"start": "2020-13-01"}, r"restrictions\[1\]\.start: '2020-13-01' is not a date"),
        ({"end": "2020-10-17"}, r"restrictions\[1\]\.end: 2020-10-17 is not after start"),
        ({"from_hour": 24}, r"restrictions\[1\]\.from_hour: 24 is outside 0\.\.23"),
        ({"to_hour": "6"}, r"restrictions\[1\]\.to_hour: '6' is not a whole hour"),
        ({"to_hour": None}, r"restrictions\[1\]\.to_hour: missing"),
        ({"to_hour": 21}, r"restrictions\[1\]\.to_hour: equals from_hour"),
        ({"form_hour": 21}, r"restrictions\[1\]\.form_hour: unknown field"),
        ({"start": None}, r"restrictions\[1\]\.start: missing"),
    ],
)
def test_validate_names_the_entry_and_field(change, message):
    table = [PARIS_2020_2021[0], {**CURFEW_21, **change}]

    with pytest.raises(ValueError, match=message):
        validate_restrictions(table)


def test_validate_refuses_hours_on_a_lockdown_and_a_table_that_is_not_a_list():
    with pytest.raises(ValueError, match=r"restrictions\[0\]\.from_hour: a lockdown"):
        validate_restrictions([{**PARIS_2020_2021[0], "from_hour": 6}])
    with pytest.raises(ValueError, match="must be a list"):
        validate_restrictions({"kind": "lockdown"})
    with pytest.raises(ValueError, match=r"restrictions\[0\] is not a mapping"):
        validate_restrictions(["lockdown"])


def test_curfew_runs_from_the_evening_hour_to_six_the_next_morning():
    flags = flags_at(
        [
            "2020-10-16 21:00",  # before the first evening
            "2020-10-17 20:59",
            "2020-10-17 21:00",
            "2020-10-18 05:59",
            "2020-10-18 06:00",
            "2020-10-29 23:00",  # the last evening before end
            "2020-10-30 05:00",  # and the following morning
        ],
        [CURFEW_21],
    )

    assert flags["curfew"].tolist() == [False, False, True, True, False, True, True]
    assert not flags["lockdown"].any()
    assert flags.columns.tolist() == ["timestamp_utc", "lockdown", "curfew"]


def test_curfew_follows_local_time_across_the_clock_change():
    # 17:00 UTC is 18:00 CET on 27 March 2021 and 19:00 CEST on 28 March 2021.
    stamps = pd.DatetimeIndex(["2021-03-27 17:00", "2021-03-28 17:00"], tz="UTC")

    assert restriction_flags(stamps, PARIS_2020_2021)["curfew"].tolist() == [False, True]


def test_no_curfew_on_christmas_eve_night_2020():
    flags = flags_at(
        ["2020-12-24 05:00", "2020-12-24 20:00", "2020-12-25 05:00", "2020-12-25 20:00"]
    )

    assert flags["curfew"].tolist() == [True, False, False, True]


def test_lockdowns_cover_whole_local_days():
    flags = flags_at(
        ["2021-03-19 23:59", "2021-03-20 00:00", "2021-05-02 23:59", "2021-05-03 00:00"]
    )

    assert flags["lockdown"].tolist() == [False, True, True, False]


def test_curfew_lifted_on_20_june_2021_at_six():
    flags = flags_at(
        ["2021-06-19 22:59", "2021-06-19 23:00", "2021-06-20 05:59", "2021-06-20 06:00"]
    )

    assert flags["curfew"].tolist() == [False, True, True, False]


def test_daytime_hours_stay_within_the_day():
    table = [
        {
            "kind": "curfew",
            "start": "2021-01-01",
            "end": "2021-01-02",
            "from_hour": 6,
            "to_hour": 19,
        }
    ]

    assert flags_at(["2021-01-01 05:00", "2021-01-01 06:00", "2021-01-01 19:00"], table)[
        "curfew"
    ].tolist() == [False, True, False]


def test_flags_refuse_naive_stamps():
    with pytest.raises(ValueError, match="naive"):
        restriction_flags(pd.DatetimeIndex(["2021-01-01 20:00"]), PARIS_2020_2021)
