"""The scripts: each imports and answers ``--help``; the ``real`` environment they run resolves.

Fast checks only (no full-size run): the benchmarks and the real-data evaluation are run
by hand (docs/benchmarks.md, docs/model_quality.md).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml
from kedro.config import OmegaConfigLoader

from bike_traffic.project import PROJECT_PATH_ENV
from bike_traffic.settings import CONFIG_LOADER_ARGS
from tests.conftest import PROJECT_ROOT, shared_file

SCRIPTS = PROJECT_ROOT / "scripts"
#: Modules of scripts/ that are imported by the scripts, not run.
HELPERS = {"script_support.py"}
REAL_RAW = "data/real/01_raw/comptage-velo-donnees-compteurs-2020-2021.csv"


def script_names() -> list[str]:
    return sorted(p.name for p in SCRIPTS.glob("*.py") if p.name not in HELPERS)


@pytest.fixture
def support(monkeypatch: pytest.MonkeyPatch):
    """``scripts/script_support.py``, importable as the scripts import it."""
    monkeypatch.syspath_prepend(str(SCRIPTS))
    import script_support

    return script_support


@pytest.fixture
def real_config(monkeypatch: pytest.MonkeyPatch) -> OmegaConfigLoader:
    """The configuration of ``kedro run --env real``, an MLflow server URI in the environment."""
    monkeypatch.setenv(PROJECT_PATH_ENV, str(PROJECT_ROOT))
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://mlflow.example:5000")
    monkeypatch.delenv("BIKE_TRAFFIC_DATA_ROOT", raising=False)
    return OmegaConfigLoader(str(PROJECT_ROOT / "conf"), env="real", **CONFIG_LOADER_ARGS)


def test_scripts_are_found():
    assert {"evaluate_on_real_data.py", "bench_models.py", "real_to_raw_export.py"} <= set(
        script_names()
    )


@pytest.mark.parametrize("name", script_names())
def test_script_imports_and_answers_help(name: str):
    done = subprocess.run(
        [sys.executable, str(SCRIPTS / name), "--help"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("usage:"), done.stdout[:500]
    assert "Traceback" not in done.stderr


def test_real_env_keeps_everything_under_data_real(real_config):
    assert real_config["globals"]["data_root"] == "data/real"
    assert real_config["globals"]["summary_file"] == "data/real/06_models/summary.json"
    catalog = real_config["catalog"]
    assert catalog["raw_counts"]["filepath"] == REAL_RAW
    assert catalog["summary_history"]["filepath"] == "data/real/06_models/summary.json"
    assert catalog["train_baseline"]["filepath"].startswith("data/real/05_model_input/")


def test_real_env_tracks_in_its_own_store(real_config):
    mlflow = real_config["mlflow"]
    # its own SQLite store, whatever MLFLOW_TRACKING_URI says: never the default registry
    assert (
        mlflow["server"]["mlflow_tracking_uri"] == f"sqlite:///{PROJECT_ROOT}/data/real/mlflow.db"
    )
    experiment = mlflow["tracking"]["experiment"]
    assert experiment["create_experiment_kwargs"]["artifact_location"] == (
        f"{PROJECT_ROOT}/data/real/mlartifacts"
    )
    assert experiment["name"] == "bike_traffic"  # soft merge: base's siblings stay
    assert mlflow["tracking"]["disable_tracking"]["pipelines"] == ["synthetic_raw"]


def test_real_env_parameters(real_config):
    params = real_config["parameters"]
    assert params["data_cleaning"]["split"]["test_start"] == "2021-07-13"
    assert params["data_cleaning"]["paris_bbox"]["lat_min"] == 48.80  # base's, kept
    assert params["registry"]["env"] == "real"
    assert params["registry"]["min_improvement"] == 0.05  # base's, kept
    with open(PROJECT_ROOT / "conf/base/parameters_rf.yml", encoding="utf-8") as f:
        assert params["rf"]["model"] == yaml.safe_load(f)["rf"]["model"]  # the models are base's


def test_real_test_window_is_the_last_four_weeks(real_config):
    dates = pd.read_parquet(shared_file("paris_counts_2020-09_2021-08.parquet"), columns=["date"])
    last = dates["date"].max().tz_localize("UTC").tz_convert("Europe/Paris").normalize()
    test_start = real_config["parameters"]["data_cleaning"]["split"]["test_start"]
    assert pd.Timestamp(test_start) == last.tz_localize(None) - pd.Timedelta(days=28)


def test_converter_writes_where_the_real_catalog_reads(support):
    assert support.raw_file("real") == PROJECT_ROOT / REAL_RAW
    assert support.raw_file() == PROJECT_ROOT / "data/01_raw/comptage-velo-donnees-compteurs.csv"


def test_run_slice_cleans_the_portal_sample(support):
    from kedro_datasets.pandas import CSVDataset

    from bike_traffic.datasets.raw_export import RawExportDataset
    from bike_traffic.exogenous.datasets import SynopDataset
    from bike_traffic.pipelines.data_cleaning import create_pipeline

    sample = shared_file("raw_export_sample_21rows.csv")  # one counter on 2021-09-01
    weather = shared_file("synop_07149_paris-orly_2020-09_2021-10.csv")
    school = shared_file("fr-en-calendrier-scolaire.csv")
    out = support.run_slice(
        create_pipeline().to_outputs("clean_counts", "quarantine_summary"),
        {
            "raw_counts": RawExportDataset(filepath=str(sample)),
            "raw_weather": SynopDataset(filepath=str(weather)),
            "raw_school_calendar": CSVDataset(
                filepath=str(school),
                load_args={"sep": ";", "dtype": str, "keep_default_na": False},
            ),
        },
        support.config()["parameters"],
    )
    assert set(out) == {
        "clean_counts",
        "quarantine_summary",
        "quarantined_rows",
        "quarantined_weather",
        "outage_summary",
    }
    clean = out["clean_counts"]
    assert len(clean) + out["quarantine_summary"]["rows_quarantined"] == 21
    # the day's features come from the real weather at Orly and the official calendar
    assert clean["weather_observed"].all() and clean["temperature_c"].between(5, 35).all()
    assert clean["school_holiday"].all()  # pupils of zone C went back on 2021-09-02


def test_run_slice_needs_every_parameter(support):
    from bike_traffic.pipelines.data_cleaning import create_pipeline

    with pytest.raises(KeyError, match=r"params:data_cleaning\.\w+ is not in the parameters"):
        support.run_slice(create_pipeline(), {"raw_counts": pd.DataFrame()}, {"data_cleaning": {}})


def test_parse_params(support):
    assert support.parse_params(["nn.model.dropout=[0.0, 0.0]", "run.test_mode=true"]) == {
        "nn": {"model": {"dropout": [0.0, 0.0]}},
        "run": {"test_mode": True},
    }
    with pytest.raises(SystemExit, match="KEY=VALUE"):
        support.parse_params(["rf.model.min_samples_leaf"])


def test_markdown_table(support):
    table = support.markdown_table("model|R²|notes", [["`rf`", "0.770", "v1"]])
    assert table.splitlines() == [
        "| model | R² | notes |",
        "| --- | ---: | --- |",
        "| `rf` | 0.770 | v1 |",
    ]


def test_replace_section_keeps_the_rest(support, tmp_path: Path):
    doc = tmp_path / "benchmarks.md"
    doc.write_text("# B\n\n<!-- a:start -->\nold\n<!-- a:end -->\n\ntail\n", encoding="utf-8")
    support.replace_section(
        doc, "<!-- a:start -->", "<!-- a:end -->", "<!-- a:start -->new<!-- a:end -->"
    )
    assert doc.read_text(encoding="utf-8") == "# B\n\n<!-- a:start -->new<!-- a:end -->\n\ntail\n"
