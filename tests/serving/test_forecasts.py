"""bike_traffic.serving.forecasts: what the Predict and Map pages show, through the predictor."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from bike_traffic.models.evaluation import predict_rows
from bike_traffic.serving import forecasts


@pytest.mark.parametrize(
    ("day", "hours"), [("2024-06-03", 24), ("2024-03-31", 23), ("2024-10-27", 25)]
)
def test_a_day_has_the_hours_of_paris_clock(day, hours):
    stamps = forecasts.day_hours(day)
    assert len(stamps) == hours
    assert stamps.tz_convert("Europe/Paris")[0].hour == 0
    assert str(stamps.tz) == "UTC"


def test_predict_day_gives_one_prediction_per_local_hour(rf, counters):
    name = counters["nom_du_compteur"].iloc[0]
    profile = forecasts.predict_day(rf, name, dt.date(2024, 3, 31))
    assert len(profile) == 23 and (profile["prediction"] >= 0).all()
    assert profile["error"].isna().all()
    assert forecasts.pick_hour(profile, 2) is None  # 02:00 does not exist that day
    assert forecasts.pick_hour(profile, 3)["hour"] == 3
    autumn = forecasts.predict_day(rf, name, dt.date(2024, 10, 27))
    assert autumn["hour"].tolist().count(2) == 2
    assert forecasts.pick_hour(autumn, 2)["date_et_heure_de_comptage"].utcoffset().seconds == 7200


def test_a_days_prediction_is_the_predictors_answer_on_the_training_row(rf, small_clean):
    """The app asks the logged model as a user would, and gets what training computed."""
    row = small_clean.iloc[123]
    local = row["date_et_heure_de_comptage"]
    profile = forecasts.predict_day(rf, row["nom_du_compteur"], local.date())
    values, served = predict_rows(rf.predictor, small_clean.iloc[[123]])
    assert served.all()
    assert forecasts.pick_hour(profile, local.hour)["prediction"] == values[0]


def test_an_unknown_counter_gets_a_reason_not_a_number(rf):
    profile = forecasts.predict_day(rf, "Nowhere N-S", dt.date(2024, 4, 2))
    assert profile["prediction"].isna().all()
    assert profile["error"].str.startswith("unknown_counter").all()


def test_a_date_outside_the_models_range_gets_a_reason(rf, counters):
    profile = forecasts.predict_day(rf, counters["nom_du_compteur"].iloc[0], dt.date(1900, 1, 1))
    assert profile["error"].str.startswith("date_out_of_range").all()


def test_every_counter_is_predicted_on_the_map(rf, counters):
    table = forecasts.predict_all_counters(rf, counters, dt.date(2024, 4, 2), 8)
    assert len(table) == len(counters) and table["prediction"].notna().all()
    assert table["error"].isna().all()
    one = forecasts.predict_day(rf, table["nom_du_compteur"].iloc[1], dt.date(2024, 4, 2))
    assert table["prediction"].iloc[1] == forecasts.pick_hour(one, 8)["prediction"]
    assert forecasts.predict_all_counters(rf, counters, dt.date(2024, 3, 31), 2) is None


def test_the_classifier_profile_is_a_probability_beside_a_historical_share(
    classifier, counters, small_split
):
    name = counters["nom_du_compteur"].iloc[0]
    profile = forecasts.predict_day(classifier, name, dt.date(2024, 4, 2))
    assert profile["prediction"].between(0, 1).all()
    thresholds = classifier.predictor.extras["thresholds"]
    share = forecasts.high_share_profile(small_split[0], thresholds)
    assert share["baseline"].between(0, 1).all()
    assert set(share.columns) == {"nom_du_compteur", "hour", "is_weekend", "baseline"}


def test_the_historical_profile_is_the_naive_table(small_split):
    profile = forecasts.historical_profile(small_split[0])
    assert set(profile.columns) == {"nom_du_compteur", "hour", "is_weekend", "baseline"}
    assert np.isfinite(profile["baseline"]).all()


def test_the_map_opens_on_the_counters(counters):
    view = forecasts.map_view(counters)
    assert 48.8 < view["latitude"] < 48.92 and 2.2 < view["longitude"] < 2.5


def test_what_if_weather_changes_only_the_hour_it_is_given_for(rf, counters):
    name = counters["nom_du_compteur"].iloc[0]
    usual = forecasts.predict_day(rf, name, dt.date(2024, 4, 2))
    cold = forecasts.predict_day(rf, name, dt.date(2024, 4, 2), {8: {"temperature": -15.0}})
    changed = usual["prediction"].to_numpy() != cold["prediction"].to_numpy()
    assert set(usual.loc[changed, "hour"]) <= {8}
    answer = rf.predict(
        pd.DataFrame(
            {"counter": [name], "date": ["2024-04-02"], "hour": [8], "temperature": [-15.0]}
        )
    )
    assert forecasts.pick_hour(cold, 8)["prediction"] == answer["prediction"].iloc[0]
