"""bike_traffic.serving.uploads: reading a CSV, refusing rows with the project's own words."""

from __future__ import annotations

import copy
import dataclasses
import io
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bike_traffic.models import intervals
from bike_traffic.models.evaluation import predict_rows
from bike_traffic.raw_format import RAW_COLUMNS
from bike_traffic.serving import uploads
from bike_traffic.validation import REASONS


def raw_csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(sep=";", index=False).encode("utf-8")


# ---------------------------------------------------------------- reading uploads
def test_a_raw_export_is_recognised(small_raw):
    upload = uploads.read_upload("x.csv", raw_csv(small_raw.head(10)), 50, 1000)
    assert upload.fmt == uploads.RAW_FORMAT
    assert list(upload.frame.columns) == list(RAW_COLUMNS) and len(upload.frame) == 10


@pytest.mark.parametrize("sep", [",", ";"])
def test_a_requests_table_is_recognised_with_either_delimiter(sep):
    text = f"nom_du_compteur{sep}date{sep}hour\nA{sep}2024-04-02{sep}8\n"
    upload = uploads.read_upload("f.csv", ("\ufeff" + text).encode("utf-8"), 50, 1000)
    assert upload.fmt == uploads.FEATURE_FORMAT
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
    with pytest.raises(uploads.UploadError, match=re.escape(message)):
        uploads.read_upload("x.csv", data, 50, 1000)


@pytest.mark.parametrize("sep", [",", "\t"])
def test_a_raw_export_with_another_delimiter_is_named_as_such(small_raw, sep):
    data = small_raw.head(3).to_csv(sep=sep, index=False).encode("utf-8")
    with pytest.raises(uploads.UploadError, match=re.escape(f"uses {sep!r} as delimiter")):
        uploads.read_upload("x.csv", data, 50, 1000)


def test_size_and_row_limits(small_raw):
    data = raw_csv(small_raw.head(100))
    with pytest.raises(uploads.UploadError, match=r"x.csv is 0.0\d\d MB: the limit is 0.001 MB"):
        uploads.read_upload("x.csv", data, 0.001, 1000)
    with pytest.raises(uploads.UploadError, match="has 100 rows: the limit is 99"):
        uploads.read_upload("x.csv", data, 50, 99)


# ---------------------------------------------------------------- scoring
def test_a_raw_export_is_scored_row_by_row_with_the_cleanings_words(rf, small_raw):
    raw = small_raw.head(40).copy()
    raw.loc[3, "Date et heure de comptage"] = "2024-02-30T08:00:00+01:00"
    raw.loc[5, "Nom du compteur"] = ""
    raw.loc[7, "Nom du compteur"] = "Compteur inconnu"
    raw.loc[9, "Coordonnées géographiques"] = "48.60,2.35"
    raw.loc[11, "Coordonnées géographiques"] = ""  # known counter: filled from other rows
    raw.loc[13, "Comptage horaire"] = ""  # no count: still scored
    upload = uploads.read_upload("x.csv", raw_csv(raw), 50, 1000)
    result = uploads.score_upload(upload, rf)
    assert result.rows_in == 40
    assert result.refused["line"].tolist() == [5, 7, 9, 11]
    reasons = result.refused["reason"].tolist()
    assert reasons[0] == (
        f"unparseable_timestamp: {REASONS['unparseable_timestamp']} "
        "(got '2024-02-30T08:00:00+01:00')"
    )
    assert reasons[1] == f"missing_counter_name: {REASONS['missing_counter_name']}"
    assert reasons[2] == f"unknown_counter: {REASONS['unknown_counter']} (got 'Compteur inconnu')"
    assert reasons[3].startswith("coordinates_outside_paris") and "48.6,2.35" in reasons[3]
    scored = result.scored
    assert len(scored) == 36 and scored["line"].tolist() == sorted(scored["line"])
    assert 13 in scored["line"].tolist() and 15 in scored["line"].tolist()
    assert np.isnan(scored.loc[scored["line"] == 15, "observed"]).all()
    assert (scored["model"] == "rf v1").all()


def test_batch_predictions_are_the_predictors_on_the_clean_rows(rf, small_raw, small_clean):
    raw = small_raw.sample(50, random_state=3)
    result = uploads.score_upload(uploads.read_upload("x.csv", raw_csv(raw), 50, 1000), rf)
    keys = ["nom_du_compteur", "date_et_heure_de_comptage"]
    values, _ = predict_rows(rf.predictor, small_clean)
    clean = small_clean.assign(
        date_et_heure_de_comptage=small_clean["date_et_heure_de_comptage"].map(
            pd.Timestamp.isoformat
        ),
        expected=values,
    ).drop_duplicates(keys)
    merged = result.scored.rename(columns={"counter": keys[0], "timestamp": keys[1]}).merge(
        clean[[*keys, "expected"]], on=keys, how="left"
    )
    assert len(result.scored) == 50 and merged["expected"].notna().all()
    assert merged["predicted_count"].tolist() == merged["expected"].tolist()


def test_a_requests_table_with_date_and_hour_is_scored(classifier, counters):
    names = counters["nom_du_compteur"].tolist()
    text = pd.DataFrame(
        {
            "nom_du_compteur": [names[0], names[1], names[0], "Inconnu", names[0]],
            "date": ["2024-04-02", "2024-04-02", "2024-13-02", "2024-04-02", "2024-04-02"],
            "hour": ["8", "18", "8", "8", "99"],
        }
    ).to_csv(index=False)
    upload = uploads.read_upload("f.csv", text.encode("utf-8"), 50, 1000)
    result = uploads.score_upload(upload, classifier)
    assert result.scored["timestamp"].tolist() == [
        "2024-04-02T08:00:00+02:00",
        "2024-04-02T18:00:00+02:00",
    ]
    assert result.scored["p_high"].between(0, 1).all()
    assert set(result.scored["traffic"]) <= {"high", "low"}
    assert "observed" not in result.scored.columns
    assert result.refused["line"].tolist() == [4, 5, 6]
    assert result.refused["timestamp"].tolist() == ["2024-13-02 8", "2024-04-02 8", "2024-04-02 99"]
    counts = uploads.describe_refusals(result.refused)
    assert counts.to_dict() == {"unparseable_date": 1, "unknown_counter": 1, "hour_out_of_range": 1}


def test_a_timestamp_without_offset_is_paris_time_and_clock_changes_are_refused(rf, counters):
    name = counters["nom_du_compteur"].iloc[0]
    text = pd.DataFrame(
        {
            "nom_du_compteur": [name] * 4,
            "date_et_heure_de_comptage": [
                "2024-04-02 08:00:00",
                "2024-04-02T08:00:00+02:00",
                "2024-03-31 02:30:00",  # never that night
                "2024-10-27 02:30:00",  # twice that night
            ],
        }
    ).to_csv(index=False)
    result = uploads.score_upload(uploads.read_upload("f.csv", text.encode(), 50, 1000), rf)
    assert result.scored["timestamp"].tolist() == ["2024-04-02T08:00:00+02:00"] * 2
    assert result.scored["predicted_count"].nunique() == 1
    assert result.refused["reason"].str.startswith("clock_change").tolist() == [True, True]


def test_a_file_where_no_row_can_be_scored_returns_only_reasons(rf):
    text = "nom_du_compteur,date_et_heure_de_comptage\nInconnu,2024-04-02T08:00:00+02:00\n"
    upload = uploads.read_upload("f.csv", text.encode("utf-8"), 50, 1000)
    result = uploads.score_upload(upload, rf)
    assert result.scored.empty and list(result.scored.columns)[:2] == ["line", "counter"]
    assert result.refused["reason"].str.startswith("unknown_counter").all()


def test_the_download_is_a_csv_of_the_scored_rows(rf, small_raw):
    upload = uploads.read_upload("x.csv", raw_csv(small_raw.head(5)), 50, 1000)
    result = uploads.score_upload(upload, rf)
    back = pd.read_csv(io.StringIO(result.scored.to_csv(index=False)))
    assert back.columns.tolist() == [
        "line", "counter", "timestamp", "hour", "predicted_count", "observed", "model"
    ]  # fmt: skip
    assert len(back) == 5


def test_the_downloads_run_no_formula_in_a_spreadsheet():
    table = pd.DataFrame(
        {"counter": ['=HYPERLINK("http://x.example","y")', "+cmd|' /C calc'!A0", "@SUM(A1)", "ok"],
         "count": ["-3", "-2+3+cmd", "4", "5"]}
    )  # fmt: skip
    back = pd.read_csv(io.BytesIO(uploads.as_csv(table)), dtype=str)
    assert back["counter"].tolist() == [
        "'=HYPERLINK(\"http://x.example\",\"y\")", "'+cmd|' /C calc'!A0", "'@SUM(A1)", "ok"
    ]  # fmt: skip
    assert back["count"].tolist() == ["-3", "'-2+3+cmd", "4", "5"]  # numbers stay numbers


def test_a_trailing_separator_shifts_no_column(rf, small_raw):
    lines = small_raw.head(5).to_csv(sep=";", index=False).splitlines()
    data = ("\n".join(line + ";" for line in lines) + "\n").encode("utf-8")
    upload = uploads.read_upload("trailing.csv", data, 50, 1000)
    assert upload.fmt == uploads.RAW_FORMAT and upload.malformed.empty
    result = uploads.score_upload(upload, rf)
    assert len(result.scored) == 5 and result.refused.empty


def test_a_line_with_extra_fields_is_refused_with_its_line_and_the_rest_scored(rf, small_raw):
    lines = small_raw.head(5).to_csv(sep=";", index=False).splitlines()
    lines[1] += ";extra;fields"
    lines.insert(3, "")  # a blank line: the line numbers still are the file's
    upload = uploads.read_upload("extra.csv", "\n".join(lines).encode("utf-8"), 50, 1000)
    result = uploads.score_upload(upload, rf)
    assert result.rows_in == 5 and len(result.scored) == 4
    assert result.scored["line"].tolist() == [3, 5, 6, 7]
    [refused] = result.refused.to_dict("records")
    assert refused["line"] == 2
    assert refused["reason"].startswith("malformed_line")
    assert "(18 fields: the header has 16)" in refused["reason"]


def test_a_very_wide_line_is_refused_unread(rf, small_raw):
    lines = small_raw.head(3).to_csv(sep=";", index=False).splitlines()
    lines.insert(2, ";" * 300_000)  # 300 KB in one line
    upload = uploads.read_upload("wide.csv", "\n".join(lines).encode("utf-8"), 50, 1000)
    result = uploads.score_upload(upload, rf)
    assert len(result.scored) == 3
    assert result.refused["line"].tolist() == [3]
    assert "300,000 characters: the limit is 4,096" in result.refused["reason"].item()


def test_the_package_imports_nothing_from_the_app():
    src = Path(uploads.__file__).resolve().parents[1]
    assert not [p for p in src.rglob("*.py") if "app_support" in p.read_text(encoding="utf-8")]


def test_a_requests_table_may_give_the_weather_and_bad_values_are_refused(rf, counters):
    name = counters["nom_du_compteur"].iloc[0]
    text = pd.DataFrame(
        {
            "nom_du_compteur": [name] * 3,
            "date": ["2024-04-02"] * 3,
            "hour": ["8"] * 3,
            "temperature": ["", "-15", "hot"],
            "rain": ["", "3", "999"],
        }
    ).to_csv(index=False)
    result = uploads.score_upload(uploads.read_upload("w.csv", text.encode(), 50, 1000), rf)
    assert result.scored["line"].tolist() == [2, 3]
    expected = rf.predict(
        pd.DataFrame(
            {
                "counter": [name] * 2,
                "date": ["2024-04-02"] * 2,
                "hour": [8, 8],
                "temperature": [None, -15.0],
                "rain": [None, 3.0],
            }
        )
    )
    assert result.scored["predicted_count"].tolist() == expected["prediction"].tolist()
    assert result.refused["reason"].iloc[0].startswith("weather_not_a_number")
    assert "temperature=hot" in result.refused["reason"].iloc[0]


def test_a_model_with_an_interval_scores_its_bounds_beside_each_count(rf, small_raw):
    interval = {"method": "split_conformal", "level": 0.8, "quantile": 1.5}
    predictor = copy.copy(rf.predictor)
    predictor.interval = interval
    calibrated = dataclasses.replace(rf, predictor=predictor)
    upload = uploads.read_upload("x.csv", raw_csv(small_raw.head(20)), 50, 1000)
    scored = uploads.score_upload(upload, calibrated).scored
    assert scored.columns.tolist()[4:7] == ["predicted_count", "lower", "upper"]
    lower, upper = intervals.bounds(scored["predicted_count"].to_numpy(), interval)
    assert np.allclose(scored["lower"], lower) and np.allclose(scored["upper"], upper)
    assert (scored["lower"] <= scored["predicted_count"]).all()
    # the model without one scores no bounds
    assert "lower" not in uploads.score_upload(upload, rf).scored.columns
