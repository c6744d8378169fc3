"""End to end through a KedroSession, as `kedro run` does, on small generated data."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml
from kedro.io.core import DatasetError
from kedro_datasets.pandas import CSVDataset

from bike_traffic.exogenous.datasets import SynopDataset
from bike_traffic.raw_format import RAW_COLUMNS
from tests.conftest import run, shared_file


def test_generate_then_clean_in_the_test_env(project_copy):
    run(project_copy, "synthetic_raw")
    raw_path = project_copy / "data/01_raw/comptage-velo-donnees-compteurs.csv"
    assert raw_path.read_text(encoding="utf-8").splitlines()[0] == ";".join(RAW_COLUMNS)
    run(project_copy, "data_cleaning")
    train = pd.read_parquet(project_copy / "data/05_model_input/train_baseline.parquet")
    test = pd.read_parquet(project_copy / "data/05_model_input/test_baseline.parquet")
    assert len(train) > 3 * len(test) > 0
    assert train["date_et_heure_de_comptage"].max() < test["date_et_heure_de_comptage"].min()
    summary = json.loads((project_copy / "data/08_reporting/quarantine_summary.json").read_text())
    assert summary["rows_in"] == len(train) + len(test) + summary["rows_quarantined"]


#: Where the test env's catalog reads the weather and the school calendar (conf/base globals).
WEATHER_FILE = "data/01_raw/synop_07149.csv"
SCHOOL_CALENDAR_FILE = "data/01_raw/fr-en-calendrier-scolaire.csv"


#: The samples here span a day or two weeks: less than the split's minimums.
SHORT_FILE = {"data_cleaning": {"split": {"min_train_days": 0, "min_test_days": 0}}}


def _put_real_weather_and_calendar(project: Path) -> None:
    """The real SYNOP file (Orly, 2020-09 to 2021-10) and the official calendar, in place."""
    shutil.copy(shared_file("synop_07149_paris-orly_2020-09_2021-10.csv"), project / WEATHER_FILE)
    shutil.copy(shared_file("fr-en-calendrier-scolaire.csv"), project / SCHOOL_CALENDAR_FILE)


def test_raw_file_runtime_parameter_points_at_a_downloaded_export(project_copy, tmp_path):
    export = shared_file("raw_export_sample_21rows.csv")
    _put_real_weather_and_calendar(project_copy)  # the export's weather and calendar
    run(project_copy, "data_cleaning", params={"raw_file": str(export), **SHORT_FILE})
    clean = pd.read_parquet(project_copy / "data/04_feature/clean_counts.parquet")
    assert len(clean) == 21
    assert clean["weather_observed"].all()


def test_without_its_weather_file_the_run_stops_naming_it(project_copy):
    export = shared_file("raw_export_sample_21rows.csv")
    with pytest.raises(DatasetError, match=r"SYNOP file '.*synop_07149\.csv' does not exist"):
        run(project_copy, "data_cleaning", params={"raw_file": str(export)})
    assert not (project_copy / "data/04_feature/clean_counts.parquet").exists()


def test_a_raw_file_with_the_wrong_delimiter_stops_the_run(project_copy, small_generated):
    # the weather and the calendar are fine: the export is what stops the run
    SynopDataset(filepath=str(project_copy / WEATHER_FILE)).save(small_generated["raw_weather"])
    CSVDataset(
        filepath=str(project_copy / SCHOOL_CALENDAR_FILE), save_args={"sep": ";", "index": False}
    ).save(small_generated["raw_school_calendar"])
    bad = project_copy / "data/01_raw/comptage-velo-donnees-compteurs.csv"
    bad.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"comptage-velo-donnees-compteurs\.csv.*';'"):
        run(project_copy, "data_cleaning")
    assert not (project_copy / "data/04_feature/clean_counts.parquet").exists()


def test_portal_env_reads_the_export_over_http(project_copy, tmp_path, http_server, monkeypatch):
    source = shared_file("raw_format_2weeks_52counters.csv")  # 2021-03-22 to 2021-04-04
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "csv").write_bytes(source.read_bytes())
    # the weather archive, one file a year, and the school calendar: served beside it
    (tmp_path / "synop").mkdir()
    synop = shared_file("synop_07149_paris-orly_2020-09_2021-10.csv")
    shutil.copy(synop, tmp_path / "synop" / "synop_2021.csv")
    (tmp_path / "calendar").mkdir()
    shutil.copy(shared_file("fr-en-calendrier-scolaire.csv"), tmp_path / "calendar" / "csv")
    # served under tmp_path: the URLs have the portals' shape, query string included
    monkeypatch.setenv(
        "BIKE_TRAFFIC_PORTAL_URL", f"{http_server}/exports/csv?delimiter=%3B&lang=fr"
    )
    monkeypatch.setenv("BIKE_TRAFFIC_WEATHER_URL", f"{http_server}/synop/synop_{{year}}.csv")
    monkeypatch.setenv("BIKE_TRAFFIC_WEATHER_YEARS", "[2021]")
    monkeypatch.setenv(
        "BIKE_TRAFFIC_SCHOOL_CALENDAR_URL", f"{http_server}/calendar/csv?lang=fr&delimiter=%3B"
    )
    # a yearly archive before it (October 2020), in another format: "," and cp1252, Paris time
    # without offset, the count column named otherwise, one counter under an old name
    export = pd.read_csv(source, sep=";", dtype=str, keep_default_na=False)
    year_before = export.head(200).copy()
    year_before["Date et heure de comptage"] = (
        year_before["Date et heure de comptage"].str[:19].str.replace("2021-03-", "2020-10-", n=1)
    )
    renamed = year_before["Nom du compteur"].iloc[0]
    year_before["Nom du compteur"] = year_before["Nom du compteur"].replace(renamed, "Old name")
    (tmp_path / "archives").mkdir()
    year_before.rename(columns={"Comptage horaire": "Comptage"}).to_csv(
        tmp_path / "archives" / "2020.csv", sep=",", index=False, encoding="cp1252"
    )
    archive = {
        "filepath": f"{http_server}/archives/2020.csv",
        "load_args": {"sep": ",", "encoding": "cp1252"},
        "timestamps": "local",
        "columns": {"Comptage": "Comptage horaire"},
    }
    # as a user lists them: in the environment's globals.yml
    portal_globals = project_copy / "conf/portal/globals.yml"
    settings = yaml.safe_load(portal_globals.read_text(encoding="utf-8"))
    settings |= {"archives": [archive], "counter_names": {"Old name": renamed}}
    portal_globals.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    run(project_copy, "data_cleaning", env="portal", params=SHORT_FILE)
    clean = pd.read_parquet(project_copy / "data/04_feature/clean_counts.parquet")
    stamps = clean["date_et_heure_de_comptage"]
    assert len(clean.loc[stamps.dt.year == 2020]) == 200
    assert "Old name" not in set(clean["nom_du_compteur"])
    clean = clean.loc[stamps.dt.year == 2021]
    assert len(clean) == 16_996
    assert clean["nom_du_compteur"].nunique() == 52
    assert clean["weather_observed"].all()
    # zone C's spring holidays of 2021 were moved to begin on 2021-04-10: none in the export
    assert not clean["school_holiday"].any()
