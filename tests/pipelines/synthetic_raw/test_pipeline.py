"""The pipeline writes its three raw files through the catalog's datasets and reads them back."""

from __future__ import annotations

import copy
from pathlib import Path

import pandas as pd
import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from bike_traffic.exogenous.weather import normalize_synop
from bike_traffic.pipelines.synthetic_raw import create_pipeline
from bike_traffic.raw_format import RAW_COLUMNS
from bike_traffic.settings import CONFIG_LOADER_ARGS
from tests.conftest import PROJECT_ROOT

RAW_FILES = ("raw_weather", "raw_school_calendar")


def synthetic_catalog(root: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    """The catalog entries of the raw files, resolved as Kedro does, under data root ``root``."""
    monkeypatch.setenv("BIKE_TRAFFIC_DATA_ROOT", str(root))
    loader = OmegaConfigLoader(str(PROJECT_ROOT / "conf"), env="test", **CONFIG_LOADER_ARGS)
    return {name: loader["catalog"][name] for name in RAW_FILES}


def test_catalog_entries_are_raw_files_under_the_data_root(tmp_path, monkeypatch):
    entries = synthetic_catalog(tmp_path, monkeypatch)
    assert entries["raw_weather"]["type"] == "bike_traffic.exogenous.datasets.SynopDataset"
    assert entries["raw_school_calendar"]["type"] == "pandas.CSVDataset"
    for entry in entries.values():
        assert Path(entry["filepath"]).parent == tmp_path / "01_raw"
    text = (PROJECT_ROOT / "conf" / "base" / "catalog_synthetic.yml").read_text("utf-8")
    assert "raw_counts:" not in text  # kept in catalog.yml as it is


def test_pipeline_writes_the_three_raw_files(small_params, small_run, tmp_path, monkeypatch):
    pipeline = create_pipeline()
    assert {"raw_counts", *RAW_FILES} <= pipeline.all_outputs()
    assert pipeline.outputs() == {"raw_counts"}  # the raw files are read back by make_drivers
    entries = synthetic_catalog(tmp_path, monkeypatch)
    catalog = DataCatalog.from_config(entries)
    catalog["params:synthetic_raw"] = MemoryDataset(copy.deepcopy(small_params), copy_mode="assign")
    catalog["params:data_cleaning.restrictions"] = MemoryDataset(
        copy.deepcopy(small_params["restrictions"]), copy_mode="assign"
    )
    assert pipeline.inputs() == {"params:synthetic_raw", "params:data_cleaning.restrictions"}
    catalog["raw_counts"] = MemoryDataset(copy_mode="assign")
    SequentialRunner().run(pipeline, catalog)

    assert Path(entries["raw_weather"]["filepath"]).read_text("utf-8").count(";mq;") > 100
    weather = catalog["raw_weather"].load()
    calendar = catalog["raw_school_calendar"].load()
    pd.testing.assert_frame_equal(weather, small_run["raw_weather"])
    pd.testing.assert_frame_equal(calendar, small_run["raw_school_calendar"])
    export = catalog["raw_counts"].load()
    assert tuple(export.columns) == RAW_COLUMNS
    # the counts were simulated from the files as read back: the same as in memory
    pd.testing.assert_frame_equal(export, small_run["raw_counts"])
    tidy, quarantine = normalize_synop(weather, "07149")
    assert len(quarantine) == 1 and tidy["timestamp_utc"].is_unique
