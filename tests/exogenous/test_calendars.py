"""calendars: school holiday periods, public holidays, bridge days."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from bike_traffic.exogenous.calendars import (
    is_bridge_day,
    is_school_holiday,
    public_holidays,
    school_holiday_periods,
)
from tests.conftest import shared_file

COLUMNS = ["description", "population", "start_date", "end_date", "location", "zones"]


def calendar(rows: list[tuple[str, ...]]) -> pd.DataFrame:
    """Rows of the official file: (description, population, start, end, location, zone)."""
    return pd.DataFrame(rows, columns=COLUMNS, dtype=str).assign(annee_scolaire="2020-2021")


ZONE_C = calendar(
    [
        ("Vacances de la Toussaint", "-", "2020-10-17T00:00:00+02:00", "2020-11-02T00:00:00+01:00")
        + (academy, "Zone C")
        for academy in ("Paris", "Créteil", "Versailles")
    ]
    + [
        ("Vacances d'Été", "Élèves", "2021-07-06T00:00:00+02:00", "2021-09-02T00:00:00+02:00")
        + ("Paris", "Zone C"),
        ("Vacances d'Été", "Enseignants", "2021-07-06T00:00:00+02:00", "2021-09-01T00:00:00+02:00")
        + ("Paris", "Zone C"),
        ("Début des Vacances d'Été", "-", "2026-07-04T00:00:00+02:00", "2026-07-04T00:00:00+02:00")
        + ("Paris", "Zone C"),
        ("Vacances de la Toussaint", "-", "2020-10-17T00:00:00+02:00", "2020-11-02T00:00:00+01:00")
        + ("Lyon", "Zone A"),
    ]
)


def test_periods_are_unique_per_zone_with_local_dates_and_pupils_only():
    periods = school_holiday_periods(ZONE_C, "C")

    assert periods.columns.tolist() == [
        "description",
        "school_year",
        "first_day_off",
        "first_school_day",
    ]
    assert periods["description"].tolist() == ["Vacances de la Toussaint", "Vacances d'Été"]
    # As written in the file, not shifted to the previous day by a UTC conversion.
    assert periods["first_day_off"].tolist() == [
        pd.Timestamp("2020-10-17"),
        pd.Timestamp("2021-07-06"),
    ]
    assert periods["first_school_day"].tolist() == [
        pd.Timestamp("2020-11-02"),
        pd.Timestamp("2021-09-02"),  # the pupils' return, not the teachers' (09-01)
    ]


def test_zone_name_may_be_given_in_full_and_location_filters():
    assert school_holiday_periods(ZONE_C, "Zone C").equals(school_holiday_periods(ZONE_C, "C"))
    only_creteil = school_holiday_periods(ZONE_C, "C", location="Créteil")
    assert only_creteil["description"].tolist() == ["Vacances de la Toussaint"]


def test_unknown_zone_location_or_missing_column_is_refused():
    with pytest.raises(ValueError, match=r"zone 'D'.*Zone A"):
        school_holiday_periods(ZONE_C, "D")
    with pytest.raises(ValueError, match=r"location 'Lyon' is not in Zone C"):
        school_holiday_periods(ZONE_C, "C", location="Lyon")
    with pytest.raises(ValueError, match="end_date"):
        school_holiday_periods(ZONE_C.drop(columns="end_date"), "C")


def test_unreadable_dates_and_disagreeing_academies_are_refused():
    bad = ZONE_C.assign(start_date=ZONE_C["start_date"].where(ZONE_C.index != 0, "soon"))
    with pytest.raises(ValueError, match="unreadable dates"):
        school_holiday_periods(bad, "C")
    late = ZONE_C.assign(end_date=ZONE_C["end_date"].where(ZONE_C.index != 1, "2020-11-03"))
    with pytest.raises(ValueError, match=r"disagree.*location="):
        school_holiday_periods(late, "C")


def test_is_school_holiday_counts_the_first_day_off_not_the_first_school_day():
    periods = school_holiday_periods(ZONE_C, "C")
    days = [date(2020, 10, 16), date(2020, 10, 17), date(2020, 11, 1), date(2020, 11, 2)]

    assert is_school_holiday(days, periods).tolist() == [False, True, True, False]


def test_is_school_holiday_takes_the_local_date_of_instants():
    periods = school_holiday_periods(ZONE_C, "C")
    instants = pd.DatetimeIndex(["2020-10-16 21:59", "2020-10-16 22:00"], tz="UTC")  # CEST

    assert is_school_holiday(instants, periods).tolist() == [False, True]


def test_is_school_holiday_refuses_periods_without_dates():
    with pytest.raises(ValueError, match="first_day_off"):
        is_school_holiday([date(2021, 1, 1)], pd.DataFrame({"description": ["x"]}))


def test_public_holidays_are_the_eleven_metropolitan_ones():
    days = public_holidays([2021])

    assert len(days) == 11
    assert {
        date(2021, 5, 13),
        date(2021, 7, 14),
        date(2021, 5, 24),
    } <= days  # Ascension, Whit Monday
    assert date(2021, 12, 26) not in days  # Saint Stephen: Alsace-Moselle only
    assert public_holidays([]) == set()


def test_public_holidays_refuses_absurd_years():
    with pytest.raises(ValueError, match="outside"):
        public_holidays([20211])


def test_bridge_days_sit_between_a_holiday_and_a_day_off():
    public = public_holidays([2018, 2021])
    days = [
        date(2021, 5, 14),  # Friday after Ascension Thursday
        date(2018, 4, 30),  # Monday before Tuesday 1 May
        date(2021, 5, 13),  # Ascension itself: a holiday, not a bridge
        date(2021, 5, 15),  # Saturday
        date(2021, 5, 25),  # Tuesday after Whit Monday: no day off after it
        date(2021, 5, 17),  # an ordinary Monday
    ]

    assert is_bridge_day(days, public).tolist() == [True, True, False, False, False, False]
    assert isinstance(is_bridge_day(days, public), np.ndarray)


def test_bridge_days_refuse_unreadable_dates():
    with pytest.raises(ValueError, match="cannot be read as dates"):
        is_bridge_day(["not a date"], public_holidays([2021]))


def test_real_zone_c_calendar_has_the_moved_spring_break_and_summer():
    raw = pd.read_csv(
        shared_file("fr-en-calendrier-scolaire.csv"), sep=";", dtype=str, keep_default_na=False
    )
    periods = school_holiday_periods(raw, "C")
    spring = periods.loc[
        (periods["description"] == "Vacances de Printemps")
        & (periods["school_year"] == "2020-2021")
    ]

    assert spring[["first_day_off", "first_school_day"]].values.tolist() == [
        [pd.Timestamp("2021-04-10"), pd.Timestamp("2021-04-26")]
    ]
    flags = is_school_holiday(
        [
            date(2021, 4, 9),
            date(2021, 4, 10),
            date(2021, 4, 25),
            date(2021, 4, 26),
            date(2021, 7, 14),
        ],
        periods,
    )
    assert flags.tolist() == [False, True, True, False, True]
    assert periods["first_day_off"].is_unique
    assert school_holiday_periods(raw, "C", location="Paris").equals(periods)
