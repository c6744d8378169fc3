"""Unit tests of the data_cleaning nodes: good input, and bad input with its reason."""

from __future__ import annotations

import pandas as pd
import pytest

from bike_traffic.pipelines.data_cleaning.nodes import (
    fill_missing_identifiers,
    parse_fields,
    quarantine_invalid_rows,
    rename_columns,
    split_train_test,
)
from bike_traffic.raw_format import RAW_COLUMNS
from bike_traffic.validation import CLEANING_RULES, REASONS

GOOD = {
    "Identifiant du compteur": "100003096-353242251",
    "Nom du compteur": "97 avenue Denfert Rochereau SO-NE",
    "Identifiant du site de comptage": "100003096",
    "Nom du site de comptage": "97 avenue Denfert Rochereau",
    "Comptage horaire": "3.0",
    "Date et heure de comptage": "2021-09-01T03:00:00+02:00",
    "Date d'installation du site de comptage": "2012-02-22",
    "Lien vers photo du site de comptage": "https://example.org/p.jpg",
    "Coordonnées géographiques": "48.83504,2.33314",
    "Identifiant technique compteur": "X2H20012081",
    "ID Photos": "",
    "test_lien_vers_photos_du_site_de_comptage_": "",
    "id_photo_1": "",
    "url_sites": "",
    "type_dimage": "jpg",
    "mois_annee_comptage": "2021-09",
}


def raw(*overrides: dict[str, str]) -> pd.DataFrame:
    """A raw export with one row per override of the good row."""
    return pd.DataFrame([{**GOOD, **o} for o in overrides], columns=list(RAW_COLUMNS))


def clean(frame: pd.DataFrame):
    renamed = rename_columns(frame)
    filled = fill_missing_identifiers(parse_fields(renamed))
    return renamed, filled


def test_rename_columns_snake_case_ascii_and_row_numbers():
    renamed = rename_columns(raw({}, {}))
    assert "coordonnees_geographiques" in renamed.columns
    assert "date_d_installation_du_site_de_comptage" in renamed.columns
    assert {"nom_du_compteur", "comptage_horaire", "date_et_heure_de_comptage"} <= set(
        renamed.columns
    )
    assert renamed["row_number"].tolist() == [2, 3]


def test_rename_columns_refuses_colliding_headers():
    frame = pd.DataFrame({"Nom du compteur": ["a"], "nom_du_compteur": ["b"]})
    with pytest.raises(ValueError, match="nom_du_compteur"):
        rename_columns(frame)


@pytest.mark.parametrize(
    "stamp",
    ["2021-09-01T03:00:00+02:00", "2021-09-01 03:00:00+02:00", "2021-09-01T01:00:00+00:00"],
)
def test_parse_fields_reads_offsets_and_space_separator_as_the_same_instant(stamp):
    parsed = parse_fields(rename_columns(raw({"Date et heure de comptage": stamp})))
    assert parsed["timestamp_utc"].iloc[0] == pd.Timestamp("2021-09-01T01:00:00Z")


def test_parse_fields_splits_coordinates_with_or_without_space():
    parsed = parse_fields(
        rename_columns(raw({}, {"Coordonnées géographiques": "48.83504, 2.33314"}))
    )
    assert parsed["latitude"].tolist() == [48.83504, 48.83504]
    assert parsed["longitude"].tolist() == [2.33314, 2.33314]


def test_parse_fields_cleans_names():
    parsed = parse_fields(rename_columns(raw({"Nom du compteur": "  97  avenue Denfert  SO-NE "})))
    assert parsed["nom_du_compteur"].iloc[0] == "97 avenue Denfert SO-NE"


def test_fill_missing_identifiers_from_the_same_counter():
    _, filled = clean(
        raw(
            {},
            {
                "Identifiant du compteur": "",
                "Coordonnées géographiques": "",
                "Date et heure de comptage": "2021-09-01T04:00:00+02:00",
            },
        )
    )
    assert filled["identifiant_du_compteur"].tolist() == ["100003096-353242251"] * 2
    assert filled["latitude"].tolist() == [48.83504, 48.83504]


def _at(hour: int) -> str:
    return f"2021-09-01T{hour:02d}:00:00+02:00"


def test_quarantine_gives_one_reason_per_bad_row_and_keeps_the_raw_text():
    frame = raw(
        {},
        {"Comptage horaire": "4", "Date et heure de comptage": _at(4)},  # malformed below
        {},  # exact duplicate of the first row
        {"Date et heure de comptage": "not a date", "Comptage horaire": "4"},
        {"Comptage horaire": "", "Date et heure de comptage": _at(5)},
        {"Comptage horaire": "trois", "Date et heure de comptage": _at(6)},
        {"Comptage horaire": "inf", "Date et heure de comptage": _at(11)},
        {"Comptage horaire": "-2", "Date et heure de comptage": _at(7)},
        {"Comptage horaire": "2.5", "Date et heure de comptage": _at(12)},
        {"Comptage horaire": "1e12", "Date et heure de comptage": _at(13)},
        {"Nom du compteur": "", "Identifiant du compteur": "", "Date et heure de comptage": _at(8)},
        {
            "Nom du compteur": '=HYPERLINK("http://x.example","y")',
            "Date et heure de comptage": _at(14),
        },
        {
            "Nom du compteur": "Nowhere E-O",
            "Identifiant du compteur": "",
            "Coordonnées géographiques": "",
            "Date et heure de comptage": _at(9),
        },
        {
            "Nom du compteur": "Lyon N-S",
            "Coordonnées géographiques": "45.76,4.83",
            "Date et heure de comptage": _at(10),
        },
    )
    frame["_line"] = range(2, len(frame) + 2)
    frame["_malformed"] = ["", "10 fields: the header has 16"] + [""] * (len(frame) - 2)
    renamed, filled = clean(frame)
    valid, quarantine, summary = quarantine_invalid_rows(renamed, filled, max_hourly_count=20000)
    assert len(valid) == 1 and "malformed_line" not in valid.columns
    assert quarantine["reason"].tolist() == list(CLEANING_RULES)
    assert quarantine["row_number"].tolist() == list(range(3, len(frame) + 2))
    assert quarantine["malformed_line"].iloc[0] == "10 fields: the header has 16"
    assert (
        quarantine.loc[quarantine["reason"] == "non_numeric_count", "comptage_horaire"].item()
        == "trois"
    )
    # a spreadsheet opening the quarantine runs no formula; signed numbers stay numbers
    named = quarantine.loc[quarantine["reason"] == "formula_counter_name", "nom_du_compteur"]
    assert named.item() == '\'=HYPERLINK("http://x.example","y")'
    negative = quarantine.loc[quarantine["reason"] == "negative_count", "comptage_horaire"]
    assert negative.item() == "-2"
    assert summary["rows_in"] == len(frame) == summary["rows_valid"] + summary["rows_quarantined"]
    assert list(summary["by_reason"]) == list(CLEANING_RULES)
    assert all(summary["by_reason"][r] == 1 for r in CLEANING_RULES)
    # every reason has the sentence people read (batch scoring and the app show it)
    assert set(CLEANING_RULES) <= set(REASONS)


def test_a_file_with_no_valid_row_is_a_clear_error():
    renamed, filled = clean(raw({"Comptage horaire": "x"}, {"Comptage horaire": "-1"}))
    with pytest.raises(ValueError, match=r"Every one of the 2 rows .* line 2: non_numeric_count"):
        quarantine_invalid_rows(renamed, filled)


def test_quarantine_respects_a_custom_bounding_box():
    inside = {"Coordonnées géographiques": "48.83,2.33", "Date et heure de comptage": _at(4)}
    renamed, filled = clean(raw({}, inside))
    valid, quarantine, _ = quarantine_invalid_rows(renamed, filled, {"lat_max": 48.834})
    assert quarantine["reason"].tolist() == ["coordinates_outside_paris"]
    assert valid["latitude"].tolist() == [48.83]


def _features(hours: int) -> pd.DataFrame:
    stamps = pd.date_range("2024-01-01", periods=hours, freq="h", tz="Europe/Paris")
    return pd.DataFrame({"date_et_heure_de_comptage": stamps, "comptage_horaire": range(hours)})


def test_split_by_fraction_puts_the_last_hours_in_test():
    train, test, info = split_train_test(_features(100), {"test_start": None, "test_fraction": 0.2})
    assert (len(train), len(test)) == (80, 20)
    assert train["date_et_heure_de_comptage"].max() < test["date_et_heure_de_comptage"].min()
    assert info["train_rows"] == 80


def test_split_by_date_wins_over_fraction():
    train, test, _ = split_train_test(
        _features(48), {"test_start": "2024-01-02", "test_fraction": 0.5}
    )
    assert (len(train), len(test)) == (24, 24)


@pytest.mark.parametrize(
    "split", [{"test_start": "2030-01-01"}, {"test_start": None, "test_fraction": 1.5}]
)
def test_split_refuses_an_empty_side_or_a_bad_fraction(split):
    with pytest.raises(ValueError, match="test|fraction"):
        split_train_test(_features(48), split)


def test_a_partial_file_does_not_replace_the_fixed_split():
    features = _features(40)  # 40 hours, as a 2,000-row partial file of 50 counters
    split = {"test_fraction": 0.2, "min_train_days": 14, "min_test_days": 2}
    with pytest.raises(ValueError, match=r"train side would span 1\.3 days.*partial"):
        split_train_test(features, split)
    train, test, _ = split_train_test(features, {**split, "min_train_days": 0, "min_test_days": 0})
    assert len(train) + len(test) == 40
