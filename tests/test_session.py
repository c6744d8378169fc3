"""End to end through a KedroSession, as `kedro run` does, on small generated data."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from kedro.io.core import DatasetError

from bike_traffic.raw_format import RAW_COLUMNS
from tests.conftest import run


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


def test_raw_file_runtime_parameter_points_at_a_downloaded_export(project_copy, tmp_path):
    from tests.conftest import shared_file

    export = shared_file("raw_export_sample_21rows.csv")
    run(project_copy, "data_cleaning", params={"raw_file": str(export)})
    clean = pd.read_parquet(project_copy / "data/04_feature/clean_counts.parquet")
    assert len(clean) == 21


def test_a_raw_file_with_the_wrong_delimiter_stops_the_run(project_copy):
    bad = project_copy / "data/01_raw/comptage-velo-donnees-compteurs.csv"
    bad.write_text("a,b,c\n1,2,3\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"comptage-velo-donnees-compteurs\.csv.*';'"):
        run(project_copy, "data_cleaning")
    assert not (project_copy / "data/04_feature/clean_counts.parquet").exists()


def test_portal_env_reads_the_export_over_http(project_copy, tmp_path, http_server, monkeypatch):
    from tests.conftest import shared_file

    source = shared_file("raw_format_2weeks_52counters.csv")
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "csv").write_bytes(source.read_bytes())
    # served under tmp_path: the URL has the portal's shape, query string included
    monkeypatch.setenv(
        "BIKE_TRAFFIC_PORTAL_URL", f"{http_server}/exports/csv?delimiter=%3B&lang=fr"
    )
    run(project_copy, "data_cleaning", env="portal")
    clean = pd.read_parquet(project_copy / "data/04_feature/clean_counts.parquet")
    assert len(clean) == 16_996
    assert clean["nom_du_compteur"].nunique() == 52
