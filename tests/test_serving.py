"""bike_traffic.serving: the app's feature rows, upload checks and batch scoring."""

from __future__ import annotations

import datetime as dt
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bike_traffic import registry as reg
from bike_traffic import serving
from bike_traffic.pipelines.affluence_classifier.nodes import fit_thresholds
from bike_traffic.pipelines.affluence_classifier.nodes import train_model as train_classifier
from bike_traffic.pipelines.rf.nodes import train_model as train_rf
from bike_traffic.raw_format import RAW_COLUMNS

FEATURES = {
    "categorical": ["nom_du_compteur"],
    "numeric": [
        "hour",
        "day_of_week",
        "month",
        "day_of_year",
        "is_weekend",
        "is_holiday",
        "latitude",
        "longitude",
    ],
}
SMALL = {"n_estimators": 5, "max_depth": 10, "min_samples_leaf": 2, "random_state": 0, "n_jobs": 1}
MODEL_COLUMNS = [
    *FEATURES["numeric"],
    "hour_sin",
    "hour_cos",
    "day_of_week_sin",
    "day_of_week_cos",
    "month_sin",
    "month_cos",
    "day_of_year_sin",
    "day_of_year_cos",
]


@pytest.fixture(scope="module")
def rf(small_split) -> reg.LoadedModel:
    return reg.LoadedModel("rf", train_rf(small_split[0], FEATURES, SMALL), 1, "registry", "m")


@pytest.fixture(scope="module")
def classifier(small_split) -> reg.LoadedModel:
    thresholds = fit_thresholds(small_split[0], {"statistic": "mean"})
    model = train_classifier(small_split[0], thresholds, FEATURES, SMALL)
    return reg.LoadedModel(
        "affluence_classifier", model, 2, "summary.json", "m", extras={"thresholds": thresholds}
    )


@pytest.fixture(scope="module")
def counters(small_split) -> pd.DataFrame:
    return serving.counter_table(small_split[0])


def raw_csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(sep=";", index=False).encode("utf-8")


# ---------------------------------------------------------------- project, secrets
def test_find_project_takes_the_environment_variable_first(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[tool.kedro]\n", encoding="utf-8")
    monkeypatch.setenv(serving.PROJECT_PATH_ENV, str(tmp_path))
    assert serving.find_project() == tmp_path.resolve()
    monkeypatch.delenv(serving.PROJECT_PATH_ENV)
    assert (serving.find_project() / "conf" / "base" / "catalog.yml").is_file()


def test_find_project_refuses_a_folder_that_is_no_project(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a Kedro project"):
        serving.find_project(tmp_path)


def test_secrets_go_to_the_environment_unless_it_already_has_them():
    environ = {"MLFLOW_TRACKING_USERNAME": "from-env"}
    secrets = {
        "MLFLOW_TRACKING_USERNAME": "from-secrets",
        "MLFLOW_TRACKING_PASSWORD": "s3cret",
        "SOMETHING_ELSE": "ignored",
    }
    assert serving.export_secrets(secrets, environ) == ["MLFLOW_TRACKING_PASSWORD"]
    assert environ == {"MLFLOW_TRACKING_USERNAME": "from-env", "MLFLOW_TRACKING_PASSWORD": "s3cret"}


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("https://alice:pw@mlflow.example.org/api", "https://***@mlflow.example.org/api"),
        (
            "cannot reach postgresql://u:p@db:5432/x now",
            "cannot reach postgresql://***@db:5432/x now",
        ),
        ("sqlite:////work/main/mlflow.db", "sqlite:////work/main/mlflow.db"),
    ],
)
def test_credentials_in_uris_are_never_shown(text, shown):
    assert serving.redact(text) == shown


def test_model_versions_lists_every_recorded_version_newest_first():
    history = [
        {"timestamp": "1", "entry_type": "model", "model_type": "rf", "env": "local",
         "version": 1, "rmse": 10.0, "is_champion": True},
        {"timestamp": "2", "entry_type": "model", "model_type": "rf", "env": "local",
         "version": 2, "rmse": 9.0, "test_mode": True},
        {"timestamp": "3", "entry_type": "model", "model_type": "rf", "env": "prod", "version": 3},
        {"timestamp": "4", "entry_type": "archive", "model_type": "rf", "env": "local",
         "version": 2},
        {"timestamp": "5", "entry_type": "model", "model_type": "nn", "env": "local",
         "version": 1},
    ]  # fmt: skip
    table = serving.model_versions(history, "rf", "local")
    assert table["version"].tolist() == [2, 1]
    assert table["is_champion"].tolist() == [False, True]
    assert table["test_mode"].tolist() == [True, False]
    assert table["archived"].tolist() == [True, False]
    assert serving.model_versions([], "nn", "local").empty


# ---------------------------------------------------------------- feature rows
def test_counter_table_has_one_row_per_training_counter(small_split, counters):
    train = small_split[0]
    assert sorted(counters["nom_du_compteur"]) == sorted(train["nom_du_compteur"].unique())
    assert counters[["latitude", "longitude"]].notna().all().all()
    assert (counters["hours"].sum()) == len(train)


@pytest.mark.parametrize(
    ("day", "hours"), [("2024-06-03", 24), ("2024-03-31", 23), ("2024-10-27", 25)]
)
def test_a_day_has_the_hours_of_paris_clock(day, hours):
    stamps = serving.day_hours(day)
    assert len(stamps) == hours
    assert stamps.tz_convert("Europe/Paris")[0].hour == 0
    assert str(stamps.tz) == "UTC"


def test_hourly_rows_are_the_training_features_of_the_same_hours(small_clean, counters):
    """Rows built for a counter and hours equal data_cleaning's rows for them."""
    name = counters["nom_du_compteur"].iloc[0]
    known = small_clean.loc[small_clean["nom_du_compteur"] == name].iloc[[0, 50, 300, 400]]
    built = serving.hourly_rows(
        counters.loc[counters["nom_du_compteur"] == name], known["date_et_heure_de_comptage"]
    )
    built = built.set_index("date_et_heure_de_comptage").loc[known["date_et_heure_de_comptage"]]
    # the fixture's coordinates are the counter's: same values, same dtypes
    pd.testing.assert_frame_equal(
        built[MODEL_COLUMNS].reset_index(drop=True),
        known[MODEL_COLUMNS].reset_index(drop=True),
        check_dtype=True,
    )


def test_predict_day_gives_one_prediction_per_local_hour(rf, counters):
    profile = serving.predict_day(rf, counters.iloc[0], dt.date(2024, 3, 31))
    assert len(profile) == 23 and (profile["prediction"] >= 0).all()
    assert serving.pick_hour(profile, 2) is None  # 02:00 does not exist that day
    assert serving.pick_hour(profile, 3)["hour"] == 3
    autumn = serving.predict_day(rf, counters.iloc[0], dt.date(2024, 10, 27))
    assert autumn["hour"].tolist().count(2) == 2
    assert serving.pick_hour(autumn, 2)["date_et_heure_de_comptage"].utcoffset().seconds == 7200


def test_single_prediction_matches_the_model_on_the_clean_row(rf, small_clean, counters):
    row = small_clean.iloc[123]
    counter = counters.loc[counters["nom_du_compteur"] == row["nom_du_compteur"]].iloc[0]
    local = row["date_et_heure_de_comptage"]
    at = serving.pick_hour(serving.predict_day(rf, counter, local.date()), local.hour)
    assert at["prediction"] == pytest.approx(rf.predict(small_clean.iloc[[123]])[0])


def test_every_counter_is_predicted_on_the_map(rf, counters):
    table = serving.predict_all_counters(rf, counters, dt.date(2024, 4, 2), 8)
    assert len(table) == len(counters) and table["prediction"].notna().all()
    assert serving.predict_all_counters(rf, counters, dt.date(2024, 3, 31), 2) is None


def test_the_classifier_profile_is_a_probability_beside_a_historical_share(
    classifier, counters, small_split
):
    profile = serving.predict_day(classifier, counters.iloc[0], dt.date(2024, 4, 2))
    assert profile["prediction"].between(0, 1).all()
    share = serving.high_share_profile(small_split[0], classifier.extras["thresholds"])
    assert share["baseline"].between(0, 1).all()
    assert set(share.columns) == {"nom_du_compteur", "hour", "is_weekend", "baseline"}


def test_model_counters_come_from_the_model(rf, counters):
    assert serving.model_counters(rf, pd.Series([])) == set(counters["nom_du_compteur"])
    nn = reg.LoadedModel(
        "nn", None, 1, "registry", "m", extras={"preprocessor": {"vocabulary": ["a"]}}
    )
    assert serving.model_counters(nn, pd.Series(["b"])) == {"a"}
    odd = reg.LoadedModel("rf", object(), 1, "registry", "m")
    assert serving.model_counters(odd, pd.Series(["b"])) == {"b"}


# ---------------------------------------------------------------- reading uploads
def test_a_raw_export_is_recognised(small_raw):
    upload = serving.read_upload("x.csv", raw_csv(small_raw.head(10)), 50, 1000)
    assert upload.fmt == serving.RAW_FORMAT
    assert list(upload.frame.columns) == list(RAW_COLUMNS) and len(upload.frame) == 10


@pytest.mark.parametrize("sep", [",", ";"])
def test_a_feature_table_is_recognised_with_either_delimiter(sep):
    text = f"nom_du_compteur{sep}date{sep}hour\nA{sep}2024-04-02{sep}8\n"
    upload = serving.read_upload("f.csv", ("\ufeff" + text).encode("utf-8"), 50, 1000)
    assert upload.fmt == serving.FEATURE_FORMAT
    assert upload.frame.iloc[0].tolist() == ["A", "2024-04-02", "8"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "x.csv is empty"),
        (b"\n  \n", "x.csv is empty"),
        (b"\xff\xfe\xfa", "not UTF-8"),
        (b"a,b\n1,2\n", "is neither the raw export"),
        (b"nom_du_compteur,date_et_heure_de_comptage\n", "has a header but no rows"),
        (b"nom_du_compteur,hour,latitude\nA,3,48.8\n", "lacks column(s) ['date_et_heure"),
        (b"Nom du compteur;Comptage horaire\nA;1\n", "lacks column(s)"),
    ],
)
def test_bad_files_are_refused_with_the_problem_named(data, message):
    with pytest.raises(serving.UploadError, match=re.escape(message)):
        serving.read_upload("x.csv", data, 50, 1000)


@pytest.mark.parametrize("sep", [",", "\t"])
def test_a_raw_export_with_another_delimiter_is_named_as_such(small_raw, sep):
    data = small_raw.head(3).to_csv(sep=sep, index=False).encode("utf-8")
    with pytest.raises(serving.UploadError, match=re.escape(f"uses {sep!r} as delimiter")):
        serving.read_upload("x.csv", data, 50, 1000)


def test_size_and_row_limits(small_raw):
    data = raw_csv(small_raw.head(100))
    with pytest.raises(serving.UploadError, match=r"x.csv is 0.0\d\d MB: the limit is 0.001 MB"):
        serving.read_upload("x.csv", data, 0.001, 1000)
    with pytest.raises(serving.UploadError, match="has 100 rows: the limit is 99"):
        serving.read_upload("x.csv", data, 50, 99)


def test_timestamps_without_offset_are_paris_time():
    text = pd.Series(
        [
            "2024-04-02 08:00:00",
            "2024-01-15T08:00",
            "2024-04-02T08:00:00+02:00",
            "2024-10-27 02:30:00",  # twice that night
            "2024-03-31 02:30:00",  # never that night
            "",
            "tomorrow",
        ]
    )
    stamps, reasons = serving.localise_timestamps(text)
    assert stamps.iloc[:3].tolist() == [
        "2024-04-02T08:00:00+02:00",
        "2024-01-15T08:00:00+01:00",
        "2024-04-02T08:00:00+02:00",
    ]
    assert reasons.iloc[:3].isna().all()
    assert reasons.iloc[3].startswith("local time is ambiguous or does not exist")
    assert reasons.iloc[4].startswith("local time is ambiguous or does not exist")
    assert reasons.iloc[5] == "missing timestamp"
    assert pd.isna(reasons.iloc[6]) and stamps.iloc[6] == "tomorrow"  # refused later


# ---------------------------------------------------------------- scoring
def test_a_raw_export_is_scored_row_by_row_with_reasons_for_the_rest(rf, counters, small_raw):
    raw = small_raw.head(40).copy()
    raw.loc[3, "Date et heure de comptage"] = "2024-02-30T08:00:00+01:00"
    raw.loc[5, "Nom du compteur"] = ""
    raw.loc[7, "Nom du compteur"] = "Compteur inconnu"
    raw.loc[9, "Coordonnées géographiques"] = "48.60,2.35"
    raw.loc[11, "Coordonnées géographiques"] = ""  # known counter: filled from training
    raw.loc[13, "Comptage horaire"] = ""  # no count: still scored
    upload = serving.read_upload("x.csv", raw_csv(raw), 50, 1000)
    result = serving.score_upload(upload, rf, counters)
    assert result.rows_in == 40
    assert result.refused["line"].tolist() == [5, 7, 9, 11]
    reasons = result.refused["reason"].tolist()
    assert reasons[0].startswith("unparseable timestamp '2024-02-30T08:00:00+01:00'")
    assert reasons[1] == "missing counter name"
    assert reasons[2] == "unknown counter 'Compteur inconnu': the model was not trained on it"
    assert reasons[3].startswith("coordinates outside Paris (48.6, 2.35)")
    scored = result.scored
    assert len(scored) == 36 and scored["line"].tolist() == sorted(scored["line"])
    assert 13 in scored["line"].tolist() and 15 in scored["line"].tolist()
    assert np.isnan(scored.loc[scored["line"] == 15, "observed"]).all()
    assert (scored["model"] == "rf v1").all()


def test_batch_predictions_are_the_models_on_the_clean_rows(rf, counters, small_raw, small_clean):
    raw = small_raw.sample(50, random_state=3)
    result = serving.score_upload(
        serving.read_upload("x.csv", raw_csv(raw), 50, 1000), rf, counters
    )
    keys = ["nom_du_compteur", "date_et_heure_de_comptage"]
    clean = small_clean.assign(
        date_et_heure_de_comptage=small_clean["date_et_heure_de_comptage"].map(
            pd.Timestamp.isoformat
        )
    )
    expected = clean.assign(expected=rf.predict(small_clean)).drop_duplicates(keys)
    merged = result.scored.rename(columns={"counter": keys[0], "timestamp": keys[1]}).merge(
        expected[[*keys, "expected"]], on=keys, how="left"
    )
    assert len(result.scored) == 50 and merged["expected"].notna().all()
    assert merged["predicted_count"].to_numpy() == pytest.approx(
        merged["expected"].round(1).to_numpy(), abs=0.051
    )


def test_a_feature_table_with_date_and_hour_is_scored(classifier, counters):
    names = counters["nom_du_compteur"].tolist()
    text = pd.DataFrame(
        {
            "nom_du_compteur": [names[0], names[1], names[0], "Inconnu"],
            "date": ["2024-04-02", "2024-04-02", "2024-13-02", "2024-04-02"],
            "hour": ["8", "18", "8", "8"],
        }
    ).to_csv(index=False)
    upload = serving.read_upload("f.csv", text.encode("utf-8"), 50, 1000)
    result = serving.score_upload(upload, classifier, counters)
    assert result.scored["timestamp"].tolist() == [
        "2024-04-02T08:00:00+02:00",
        "2024-04-02T18:00:00+02:00",
    ]
    assert result.scored["p_high"].between(0, 1).all()
    assert set(result.scored["traffic"]) <= {"high", "low"}
    assert "observed" not in result.scored.columns
    assert result.refused["line"].tolist() == [4, 5]
    assert result.refused["reason"].iloc[0].startswith("unparseable timestamp")
    counts = serving.describe_refusals(result.refused)
    assert counts.to_dict() == {"unparseable timestamp": 1, "unknown counter": 1}


def test_a_file_where_no_row_can_be_scored_returns_only_reasons(rf, counters):
    text = "nom_du_compteur,date_et_heure_de_comptage\nInconnu,2024-04-02T08:00:00+02:00\n"
    upload = serving.read_upload("f.csv", text.encode("utf-8"), 50, 1000)
    result = serving.score_upload(upload, rf, counters)
    assert result.scored.empty and list(result.scored.columns)[:2] == ["line", "counter"]
    assert result.refused["reason"].str.startswith("unknown counter").all()


def test_the_download_is_a_csv_of_the_scored_rows(rf, counters, small_raw):
    upload = serving.read_upload("x.csv", raw_csv(small_raw.head(5)), 50, 1000)
    result = serving.score_upload(upload, rf, counters)
    back = pd.read_csv(io.StringIO(result.scored.to_csv(index=False)))
    assert back.columns.tolist() == [
        "line", "counter", "timestamp", "hour", "predicted_count", "observed", "model"
    ]  # fmt: skip
    assert len(back) == 5


def test_the_app_files_import_nothing_from_src_that_imports_apps():
    src = Path(serving.__file__).resolve().parent
    assert not [p for p in src.rglob("*.py") if "app_support" in p.read_text(encoding="utf-8")]
