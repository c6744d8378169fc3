"""data_cleaning as a whole: on generated data and on real Paris data."""

from __future__ import annotations

import pandas as pd
import pytest

from bike_traffic.datasets.raw_export import RawExportDataset
from bike_traffic.exogenous.datasets import SynopDataset
from bike_traffic.features import FEATURE_COLUMNS
from bike_traffic.pipelines.data_cleaning import create_pipeline
from tests.conftest import shared_file
from tests.pipelines.slices import run_slice

FREE_OUTPUTS = {
    "train_baseline",
    "test_baseline",
    "quarantined_rows",
    "quarantine_summary",
    "quarantined_weather",
    "split_info",
    "outage_summary",
}


#: Samples shorter than the split's minimums (a two-week and a one-day file).
ANY_LENGTH = {"data_cleaning.split.min_train_days": 0, "data_cleaning.split.min_test_days": 0}


def run_cleaning(raw: pd.DataFrame, exogenous: dict, **overrides) -> dict:
    """The pipeline on ``raw`` and its weather and calendar (``exogenous``), with conf/test's
    parameters: its outputs, clean_counts and the feature context."""
    out = run_slice(
        create_pipeline(),
        {"raw_counts": raw, **exogenous},
        keep=["clean_counts", "feature_context"],
        overrides=overrides,
    )
    assert set(out) == FREE_OUTPUTS | {"clean_counts", "feature_context"}
    return out


@pytest.fixture(scope="module")
def generated(small_generated) -> dict:
    """The small generated preset's weather and school calendar."""
    return {k: small_generated[k] for k in ("raw_weather", "raw_school_calendar")}


@pytest.fixture(scope="module")
def real_exogenous() -> dict:
    """The real Orly weather and the official school calendar (../shared/data)."""
    weather = SynopDataset(
        filepath=str(shared_file("synop_07149_paris-orly_2020-09_2021-10.csv"))
    ).load()
    calendar = pd.read_csv(
        shared_file("fr-en-calendrier-scolaire.csv"), sep=";", dtype=str, keep_default_na=False
    )
    return {"raw_weather": weather, "raw_school_calendar": calendar}


def test_pipeline_on_generated_data(small_raw, generated):
    out = run_cleaning(small_raw, generated)
    clean = out["clean_counts"]
    assert tuple(clean.columns) == (*FEATURE_COLUMNS, "outage", "outage_reason")
    assert len(clean) + len(out["quarantined_rows"]) == len(small_raw)
    # the small preset's simulated outages are flagged, and counted per counter
    summary = out["outage_summary"]
    assert summary["hours_flagged"] == int(clean["outage"].sum()) > 0
    assert sum(summary["by_counter"].values()) == summary["hours_flagged"]
    assert clean["identifiant_du_compteur"].notna().all()
    assert clean["latitude"].notna().all()
    assert clean["comptage_horaire"].sum() == small_raw["Comptage horaire"].astype(float).sum()
    train, test = out["train_baseline"], out["test_baseline"]
    assert len(train) + len(test) == len(clean)
    assert train["date_et_heure_de_comptage"].max() < test["date_et_heure_de_comptage"].min()


def test_pipeline_quarantines_bad_rows_and_keeps_the_rest(small_raw, generated):
    bad = small_raw.copy()
    bad.loc[0, "Comptage horaire"] = "-5"
    bad.loc[1, "Date et heure de comptage"] = "2024-13-45T99:00:00+01:00"
    bad = pd.concat([bad, bad.iloc[[2]]], ignore_index=True)
    out = run_cleaning(bad, generated)
    reasons = out["quarantined_rows"].set_index("row_number")["reason"].to_dict()
    assert reasons == {
        2: "negative_count",
        3: "unparseable_timestamp",
        len(bad) + 1: "exact_duplicate",
    }
    assert len(out["clean_counts"]) == len(bad) - 3
    assert out["quarantine_summary"]["rows_quarantined"] == 3


def test_real_two_weeks_52_counters_every_count_preserved(real_exogenous):
    raw = RawExportDataset(filepath=str(shared_file("raw_format_2weeks_52counters.csv"))).load()
    out = run_cleaning(raw, real_exogenous, **ANY_LENGTH)
    clean = out["clean_counts"]
    assert len(clean) == len(raw) == 16_996
    assert out["quarantine_summary"]["rows_quarantined"] == 0
    assert clean["nom_du_compteur"].nunique() == 52
    assert clean["comptage_horaire"].sum() == raw["Comptage horaire"].astype(float).sum()
    change_day = clean[clean["date"] == pd.Timestamp("2021-03-28")]
    hours_per_counter = change_day.groupby("nom_du_compteur")["hour"].nunique()
    assert (hours_per_counter == 23).all()
    assert 2 not in set(change_day["hour"])
    # the real weather, the moved spring holidays of 2021 (from 10 April: not in these weeks)
    assert clean["weather_observed"].all()
    assert clean["temperature_c"].between(-5, 30).all()
    assert not clean["school_holiday"].any()
    # the third lockdown in Paris from 20 March 2021, the 19h curfew
    assert clean["lockdown"].all()
    evening = clean[clean["hour"] == 20]
    assert evening["curfew"].all() and not clean.loc[clean["hour"] == 12, "curfew"].any()


def test_real_21_row_sample(real_exogenous):
    raw = RawExportDataset(filepath=str(shared_file("raw_export_sample_21rows.csv"))).load()
    clean = run_cleaning(raw, real_exogenous, **ANY_LENGTH)["clean_counts"]
    assert len(clean) == 21
    assert clean["latitude"].eq(48.83504).all() and clean["longitude"].eq(2.33314).all()
    assert clean["date_et_heure_de_comptage"].dt.date.astype(str).eq("2021-09-01").all()
    assert clean["comptage_horaire"].sum() == raw["Comptage horaire"].astype(float).sum()


@pytest.mark.parametrize("fraction", [0.1, 0.3])
def test_split_fraction_parameter_moves_the_cutoff(small_raw, generated, fraction):
    out = run_cleaning(small_raw, generated, **{"data_cleaning.split.test_fraction": fraction})
    share = len(out["test_baseline"]) / len(out["clean_counts"])
    assert share == pytest.approx(fraction, abs=0.03)
    assert out["split_info"]["test_rows"] == len(out["test_baseline"])


def test_weather_that_does_not_cover_the_counts_stops_naming_the_file_and_gap(small_raw, generated):
    weather = generated["raw_weather"]
    dates = weather["date"].astype(str)
    cut = weather.loc[dates < "20240320"]  # the counts go on to 2024-04-07
    with pytest.raises(ValueError, match=r"synop_07149\.csv.*no weather from 2024-03-19"):
        run_cleaning(small_raw, {**generated, "raw_weather": cut})


def test_the_weather_quarantine_gives_a_reason_per_refused_report(small_raw, generated):
    out = run_cleaning(small_raw, generated)
    quarantined = out["quarantined_weather"]
    assert set(quarantined["reason"]) >= {"duplicate_timestamp", "missing_slot"}
    assert quarantined["reason"].notna().all()
