"""The feature table, built by one function for training and for requests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bike_traffic.exogenous.restrictions import PARIS_2020_2021
from bike_traffic.features import (
    COUNTER_COLUMNS,
    FEATURE_COLUMNS,
    ROW_NUMBER,
    TARGET,
    WEATHER_COLUMNS,
    add_features,
    counter_table,
    feature_context,
    no_observed_weather,
    request_rows,
)
from bike_traffic.raw_format import COUNTER, INSTALLED, TECHNICAL_ID, TIMESTAMP


def flat_climatology(temperature: float = 12.0, rain: float = 0.1) -> pd.DataFrame:
    """A climatology with the same weather every day and hour."""
    days, hours = np.meshgrid(np.arange(1, 367), np.arange(24), indexing="ij")
    return pd.DataFrame(
        {
            "day_of_year": days.ravel(),
            "hour": hours.ravel(),
            "temperature_c": temperature,
            "rain_mm": rain,
            "rain_last_3h_mm": 3 * rain,
            "wind_ms": 4.0,
        }
    )


#: Zone C's 2024 spring holidays, the Paris restrictions of 2020-2021, a flat climatology.
CONTEXT = feature_context(
    pd.DataFrame({"first_day_off": ["2024-04-20"], "first_school_day": ["2024-05-06"]}),
    PARIS_2020_2021,
    flat_climatology(),
)


def add_time_features(valid: pd.DataFrame) -> pd.DataFrame:
    """add_features with no observed weather (the climatology serves every hour)."""
    return add_features(valid, no_observed_weather(), CONTEXT)


#: Everything a request row shares with the training row of the same counter and hour
#: (not the count, unknown; not the line number; not what the counter table does not keep).
SHARED_COLUMNS = [
    c for c in FEATURE_COLUMNS if c not in (TARGET, ROW_NUMBER, INSTALLED, TECHNICAL_ID)
]


def _valid(
    stamps: list[str], counter: str = "Totem 73 boulevard de Sébastopol S-N"
) -> pd.DataFrame:
    """Valid cleaned rows as data_cleaning hands them over, one per UTC instant."""
    n = len(stamps)
    return pd.DataFrame(
        {
            "identifiant_du_compteur": ["100057445-103057445"] * n,
            COUNTER: pd.Series([counter] * n, dtype="string"),
            "identifiant_du_site_de_comptage": ["100057445"] * n,
            "nom_du_site_de_comptage": ["Totem 73 boulevard de Sébastopol"] * n,
            TECHNICAL_ID: ["Y2H19070373", " ", *["Y2H19070373"] * (n - 2)][:n],
            INSTALLED: ["2019-11-06"] * n,
            "lien_vers_photo_du_site_de_comptage": ["https://example.org/p.jpg"] * n,
            "url_sites": ["https://example.org"] * n,
            "latitude": [48.86462] * n,
            "longitude": [2.35044] * n,
            "timestamp_utc": pd.to_datetime(stamps, utc=True),
            "count_value": np.arange(n, dtype="float64") * 10,
            ROW_NUMBER: np.arange(2, n + 2, dtype=np.int64),
        }
    )


# ---------------------------------------------------------------- add_features
def test_time_features_are_those_of_the_paris_clock():
    valid = _valid(
        [
            "2024-03-31T00:00:00Z",  # 01:00 in Paris, Sunday, before the clock change
            "2024-03-31T01:00:00Z",  # 03:00 in Paris: 02:00 does not exist that day
            "2024-05-01T10:00:00Z",  # 12:00, Wednesday, Labour Day
            "2024-12-31T23:00:00Z",  # 00:00 on 1 January 2025 in Paris
        ]
    )
    before = valid.copy()
    features = add_time_features(valid)
    pd.testing.assert_frame_equal(valid, before)  # a new frame; the input is untouched
    assert tuple(features.columns) == FEATURE_COLUMNS
    assert str(features[TIMESTAMP].dt.tz) == "Europe/Paris"
    assert features["hour"].tolist() == [1, 3, 12, 0]
    assert features["day"].tolist() == [31, 31, 1, 1]
    assert features["month"].tolist() == [3, 3, 5, 1]
    assert features["year"].tolist() == [2024, 2024, 2024, 2025]
    assert features["day_of_week"].tolist() == [6, 6, 2, 2]  # Monday = 0
    assert features["is_weekend"].tolist() == [True, True, False, False]
    assert features["is_holiday"].tolist() == [False, False, True, True]
    assert features["day_of_year"].tolist() == [91, 91, 122, 1]
    assert features["date"].tolist() == [
        pd.Timestamp("2024-03-31"),
        pd.Timestamp("2024-03-31"),
        pd.Timestamp("2024-05-01"),
        pd.Timestamp("2025-01-01"),
    ]
    assert features[TARGET].tolist() == [0.0, 10.0, 20.0, 30.0]
    assert features[ROW_NUMBER].tolist() == [2, 3, 4, 5]


def test_cyclical_features_are_sine_and_cosine_of_the_cycle():
    features = add_time_features(_valid(["2024-06-03T04:00:00Z", "2024-01-01T11:00:00Z"]))
    assert features["month"].tolist() == [1, 6]  # sorted by time
    hours = features["hour"].to_numpy()
    assert hours.tolist() == [12, 6]
    np.testing.assert_allclose(features["hour_sin"], np.sin(2 * np.pi * hours / 24))
    np.testing.assert_allclose(features["hour_cos"], [-1.0, 0.0], atol=1e-12)
    np.testing.assert_allclose(features["month_sin"], [0.0, 0.5], atol=1e-12)
    np.testing.assert_allclose(features["month_cos"], [1.0, -np.sqrt(3) / 2], atol=1e-12)
    np.testing.assert_allclose(features["day_of_year_sin"].iloc[0], 0.0, atol=1e-12)
    dow = features["day_of_week"].to_numpy()
    np.testing.assert_allclose(features["day_of_week_cos"], np.cos(2 * np.pi * dow / 7))


def test_rows_are_sorted_by_counter_then_time_and_photos_dropped():
    valid = pd.concat(
        [
            _valid(["2024-06-03T10:00:00Z", "2024-06-03T08:00:00Z"], counter="B counter"),
            _valid(["2024-06-03T09:00:00Z"], counter="A counter"),
        ],
        ignore_index=True,
    )
    features = add_time_features(valid)
    assert features[COUNTER].tolist() == ["A counter", "B counter", "B counter"]
    assert features["hour"].tolist() == [11, 10, 12]
    assert list(features.index) == [0, 1, 2]
    assert "url_sites" not in features and "lien_vers_photo_du_site_de_comptage" not in features


def test_identity_columns_are_typed_and_blanks_missing():
    features = add_time_features(_valid(["2024-06-03T08:00:00Z", "2024-06-03T09:00:00Z"]))
    assert features[INSTALLED].tolist() == [pd.Timestamp("2019-11-06")] * 2
    assert features[TECHNICAL_ID].iloc[0] == "Y2H19070373"
    assert pd.isna(features[TECHNICAL_ID].iloc[1])


def test_the_clean_table_has_one_row_per_counter_and_local_hour(small_clean):
    # the feature table, then data_cleaning's outage flags (bike_traffic.outages)
    assert tuple(small_clean.columns) == (*FEATURE_COLUMNS, "outage", "outage_reason")
    assert not small_clean.duplicated([COUNTER, TIMESTAMP]).any()
    assert small_clean["hour"].between(0, 23).all()
    spring = small_clean[small_clean["date"] == pd.Timestamp("2024-03-31")]
    assert not spring.empty and 2 not in set(spring["hour"])  # 02:00 did not exist
    ordered = small_clean.sort_values([COUNTER, TIMESTAMP], kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(small_clean, ordered)


# ---------------------------------------------------------------- counter_table
def test_counter_table_has_one_row_per_training_counter(small_split):
    train = small_split[0]
    counters = counter_table(train)
    assert list(counters.columns) == [*COUNTER_COLUMNS, "mean_count", "hours"]
    assert counters[COUNTER].tolist() == sorted(train[COUNTER].astype(str).unique())
    assert counters[["latitude", "longitude"]].notna().all().all()
    assert counters["hours"].sum() == len(train)
    means = train.groupby(COUNTER, observed=True)[TARGET].mean()
    np.testing.assert_allclose(counters.set_index(COUNTER)["mean_count"], means[counters[COUNTER]])


def test_counter_table_takes_the_median_position():
    rows = add_time_features(
        _valid(["2024-06-03T08:00:00Z", "2024-06-03T09:00:00Z", "2024-06-03T10:00:00Z"])
    ).assign(latitude=[48.80, 48.86, 48.87])
    [counter] = counter_table(rows).to_dict("records")
    assert counter["latitude"] == pytest.approx(48.86)
    assert counter["hours"] == 3 and counter["mean_count"] == pytest.approx(10.0)


# ---------------------------------------------------------------- request_rows
def test_request_rows_are_the_training_rows_of_the_same_counter_and_hours(
    small_split, small_context
):
    """The serving path builds exactly the features the models were trained on."""
    train = small_split[0]
    known = counter_table(train)
    picked = train.groupby(COUNTER, observed=True).sample(5, random_state=0)
    picked = picked.sample(frac=1, random_state=1)  # requests in no particular order
    built = request_rows(
        picked[COUNTER],
        picked[TIMESTAMP].dt.tz_convert("UTC"),
        known,
        small_context,
        picked[list(WEATHER_COLUMNS)],  # the weather the rows were built with
    )
    assert tuple(built.columns) == FEATURE_COLUMNS
    assert built[ROW_NUMBER].tolist() == list(range(len(picked)))  # request order kept
    assert built[TARGET].isna().all()
    expected = picked[SHARED_COLUMNS].reset_index(drop=True)
    for column in SHARED_COLUMNS:
        if column in COUNTER_COLUMNS and expected[column].dtype != "float64":
            # names and identifiers: the same text (the counter table keeps str)
            assert built[column].astype(str).tolist() == expected[column].astype(str).tolist()
        else:
            pd.testing.assert_series_equal(built[column], expected[column], check_names=True)


def test_without_weather_a_request_takes_the_climatology(small_split, small_context):
    train = small_split[0]
    row = train.iloc[[10]]
    built = request_rows(
        row[COUNTER], row[TIMESTAMP].dt.tz_convert("UTC"), counter_table(train), small_context
    )
    local = row[TIMESTAMP].iloc[0]
    index = (local.dayofyear - 1) * 24 + local.hour
    expected = small_context["climatology"]["temperature_c"][index]
    assert built["temperature_c"].iloc[0] == pytest.approx(expected)
    assert not built["weather_observed"].iloc[0]


def test_request_rows_accept_any_instant_and_repeat_counters(small_split):
    known = counter_table(small_split[0])
    name = known[COUNTER].iloc[0]
    stamps = pd.Series(
        pd.to_datetime(["2024-10-27T00:30:00Z", "2024-10-27T01:30:00Z", "2030-01-01T12:00:00Z"])
    )
    built = request_rows(pd.Series([name] * 3), stamps, known, CONTEXT)
    # both 02:30 of the autumn clock change, then a date far from training
    assert built["hour"].tolist() == [2, 2, 13]
    assert [t.utcoffset().total_seconds() for t in built[TIMESTAMP]] == [7200, 3600, 3600]
    assert built[COUNTER].tolist() == [name] * 3
    assert built["latitude"].tolist() == [known["latitude"].iloc[0]] * 3


def test_request_rows_of_nothing_is_an_empty_table(small_split):
    known = counter_table(small_split[0])
    built = request_rows(
        pd.Series([], dtype=object), pd.Series([], dtype="datetime64[ns, UTC]"), known, CONTEXT
    )
    assert built.empty and tuple(built.columns) == FEATURE_COLUMNS


# ---------------------------------------------------------------- exogenous features
def test_calendar_restrictions_and_daylight_at_each_hour():
    features = add_time_features(
        _valid(
            [
                "2024-04-22T06:00:00Z",  # Monday 08:00, spring school holidays
                "2024-05-10T06:00:00Z",  # Friday after Ascension: a bridge day
                "2020-11-16T06:00:00Z",  # Monday 07:00 of the second lockdown
                "2021-01-20T18:00:00Z",  # 19:00 under the 18h curfew
                "2021-01-20T02:00:00Z",  # 03:00: night, curfew until 06:00
                "2024-06-21T12:00:00Z",  # midsummer noon
            ]
        )
    ).sort_values(ROW_NUMBER)
    assert features["school_holiday"].tolist() == [True, False, False, False, False, False]
    assert features["bridge_day"].tolist() == [False, True, False, False, False, False]
    assert features["lockdown"].tolist() == [False, False, True, False, False, False]
    assert features["curfew"].tolist() == [False, False, False, True, True, False]
    assert features["daylight"].tolist() == [True, True, False, False, False, True]


def test_observed_weather_wins_over_the_climatology_and_given_weather_over_both():
    stamps = ["2024-06-03T08:00:00Z", "2024-06-03T09:00:00Z", "2024-06-03T10:00:00Z"]
    observed = pd.DataFrame(
        {
            "timestamp_utc": pd.to_datetime(stamps[:2], utc=True),
            "temperature_c": [21.0, 22.0],
            "rain_mm": [0.0, 2.0],
            "rain_last_3h_mm": [0.0, 2.0],
            "wind_ms": [3.0, 5.0],
        }
    )
    valid = _valid(stamps).assign(temperature_c=[np.nan, 30.0, np.nan])
    features = add_features(valid, observed, CONTEXT).sort_values(ROW_NUMBER)
    assert features["temperature_c"].tolist() == [21.0, 30.0, 12.0]  # observed, given, normal
    assert features["rain_mm"].tolist() == [0.0, 2.0, 0.1]
    assert features["weather_observed"].tolist() == [True, True, False]


def test_the_feature_context_is_plain_json():
    import json

    again = json.loads(json.dumps(CONTEXT))
    assert again == CONTEXT
    assert len(CONTEXT["climatology"]["temperature_c"]) == 366 * 24
    assert CONTEXT["school_holidays"] == [
        {"first_day_off": "2024-04-20", "first_school_day": "2024-05-06"}
    ]
    with pytest.raises(ValueError, match="366 x 24"):
        feature_context(pd.DataFrame(columns=["first_day_off"]), [], flat_climatology().head(5))
