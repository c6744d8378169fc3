"""The generated school calendar is the official file's format with the real zone C periods."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from kedro_datasets.pandas import CSVDataset

from bike_traffic.exogenous.calendars import is_school_holiday, school_holiday_periods
from bike_traffic.pipelines.synthetic_raw.nodes import format_school_calendar
from bike_traffic.pipelines.synthetic_raw.school_calendar import (
    CALENDAR_HEADER,
    calendar_rows,
    check_periods,
    school_year_span,
)
from tests.conftest import PROJECT_ROOT, shared_file

ZONE_C = ["Créteil", "Montpellier", "Paris", "Toulouse", "Versailles"]


def catalog_dataset(tmp_path) -> CSVDataset:
    """``raw_school_calendar`` as conf/base/catalog_synthetic.yml defines it, in ``tmp_path``."""
    import yaml

    entry = yaml.safe_load((PROJECT_ROOT / "conf/base/catalog_synthetic.yml").read_text("utf-8"))
    config = entry["raw_school_calendar"]
    assert config["type"] == "pandas.CSVDataset"
    return CSVDataset(
        filepath=str(tmp_path / "fr-en-calendrier-scolaire.csv"),
        load_args=config["load_args"],
        save_args=config["save_args"],
    )


def test_header_is_the_official_files():
    official = shared_file("fr-en-calendrier-scolaire.csv").read_text(encoding="utf-8")
    assert official.splitlines()[0] == ";".join(CALENDAR_HEADER)


def test_written_file_parses_as_zone_c_holidays(small_run, tmp_path):
    table = small_run["raw_school_calendar"]
    dataset = catalog_dataset(tmp_path)
    dataset.save(table)
    raw_text = (tmp_path / "fr-en-calendrier-scolaire.csv").read_bytes()
    assert raw_text.startswith(";".join(CALENDAR_HEADER).encode() + b"\r\n")

    loaded = dataset.load()
    pd.testing.assert_frame_equal(loaded, table)
    assert sorted(loaded["location"].unique()) == ZONE_C
    assert set(loaded["zones"]) == {"Zone C"}
    periods = school_holiday_periods(loaded, "C")
    # the small preset (March-April 2024) lies in school year 2023-2024, written whole
    assert set(periods["school_year"]) == {"2023-2024"}
    assert len(periods) == 6 and len(loaded) == 6 * len(ZONE_C)
    spring = periods.loc[periods["description"] == "Vacances de Printemps"].iloc[0]
    assert (spring["first_day_off"], spring["first_school_day"]) == (
        pd.Timestamp("2024-04-06"),
        pd.Timestamp("2024-04-22"),
    )
    flags = is_school_holiday(["2024-04-05", "2024-04-06", "2024-04-21", "2024-04-22"], periods)
    assert flags.tolist() == [False, True, True, False]


def test_dates_are_local_midnight_with_their_offset(small_run):
    table = small_run["raw_school_calendar"]
    pattern = r"^\d{4}-\d{2}-\d{2}T00:00:00\+0[12]:00$"
    assert (
        table["start_date"].str.match(pattern).all() and table["end_date"].str.match(pattern).all()
    )
    toussaint = table.loc[table["description"] == "Vacances de la Toussaint"].iloc[0]
    assert toussaint["start_date"] == "2023-10-21T00:00:00+02:00"
    assert toussaint["end_date"] == "2023-11-06T00:00:00+01:00"
    summer = table.loc[table["description"] == "Vacances d'Été"]
    assert set(summer["population"]) == {"Élèves"}


def test_periods_match_the_official_file(base_params):
    official = pd.read_csv(
        shared_file("fr-en-calendrier-scolaire.csv"), sep=";", dtype=str, keep_default_na=False
    )
    wanted = school_holiday_periods(official, "C")
    wanted = wanted.loc[wanted["school_year"].between("2019-2020", "2025-2026")]
    given = check_periods(base_params["school_calendar"]["periods"])
    ours = pd.DataFrame(
        {
            "description": given["description"],
            "school_year": given["school_year"],
            "first_day_off": given["start"],
            "first_school_day": given["end"],
        }
    )
    ours = ours.loc[ours["first_day_off"] != ours["first_school_day"]]  # the 2026 marker
    pd.testing.assert_frame_equal(
        ours.sort_values("first_day_off").reset_index(drop=True),
        wanted.reset_index(drop=True),
        check_dtype=False,
    )


def test_two_years_write_every_school_year_they_touch(small_params):
    table = format_school_calendar({**small_params, "start": "2024-04-01", "days": 730})
    assert sorted(table["annee_scolaire"].unique()) == ["2023-2024", "2024-2025", "2025-2026"]


def test_a_period_beyond_the_given_years_is_refused(small_params):
    with pytest.raises(ValueError, match=r"school year\(s\) \['2026-2027'\]"):
        format_school_calendar({**small_params, "start": "2026-06-01", "days": 120})


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"description": "x", "school_year": "2024-2025", "start": "2024-10-19"}, "missing"),
        (
            {
                "description": "x",
                "school_year": "2024-2025",
                "start": "2024-10-19",
                "end": "2024-10-01",
            },
            "before start",
        ),
        (
            {
                "description": "x",
                "school_year": "2024-2025",
                "start": "2023-10-19",
                "end": "2023-11-01",
            },
            "outside 2024-2025",
        ),
        (
            {"description": "x", "school_year": "2024", "start": "2024-10-19", "end": "2024-11-04"},
            "YYYY-YYYY",
        ),
        (
            {
                "description": "x",
                "school_year": "2024-2025",
                "start": "2024-10-19",
                "end": "2024-11-04",
                "zone": "C",
            },
            "unknown",
        ),
    ],
)
def test_bad_periods_are_refused(entry, message):
    with pytest.raises(ValueError, match=message):
        check_periods([entry])


def test_school_year_span_and_empty_academies():
    assert school_year_span("2024-2025") == (pd.Timestamp("2024-09-01"), pd.Timestamp("2025-08-31"))
    with pytest.raises(ValueError, match="consecutive"):
        school_year_span("2024-2026")
    periods = check_periods(
        [
            {
                "description": "x",
                "school_year": "2024-2025",
                "start": "2024-10-19",
                "end": "2024-11-04",
            }
        ]
    )
    with pytest.raises(ValueError, match="academies is empty"):
        calendar_rows(
            periods,
            pd.Timestamp("2024-10-01"),
            pd.Timestamp("2024-10-31"),
            "Zone C",
            [],
            np.random.default_rng(0),
        )
