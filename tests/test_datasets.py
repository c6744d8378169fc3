"""The raw export dataset refuses files that cannot be the export, naming them."""

from __future__ import annotations

import pandas as pd
import pytest
from kedro.io.core import DatasetError

from bike_traffic.datasets import RawExportDataset
from bike_traffic.raw_format import RAW_COLUMNS
from tests.conftest import shared_file


def test_loads_the_real_21_row_sample_as_text():
    data = RawExportDataset(filepath=str(shared_file("raw_export_sample_21rows.csv"))).load()
    assert tuple(data.columns) == RAW_COLUMNS
    assert len(data) == 21
    assert data["Comptage horaire"].iloc[0] == "3.0"


def test_round_trip_keeps_every_value(tmp_path, small_raw):
    path = tmp_path / "export.csv"
    dataset = RawExportDataset(filepath=str(path))
    dataset.save(small_raw)
    assert path.read_text(encoding="utf-8").splitlines()[0] == ";".join(RAW_COLUMNS)
    pd.testing.assert_frame_equal(dataset.load(), small_raw, check_dtype=False)


def test_empty_file_is_refused_with_its_name(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    with pytest.raises(DatasetError, match=r"empty\.csv.*empty"):
        RawExportDataset(filepath=str(path)).load()


def test_header_only_is_refused(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text(";".join(RAW_COLUMNS) + "\n")
    with pytest.raises(DatasetError, match=r"header\.csv.*no rows"):
        RawExportDataset(filepath=str(path)).load()


def test_wrong_delimiter_is_refused(tmp_path, small_raw):
    path = tmp_path / "commas.csv"
    small_raw.head(5).to_csv(path, sep=",", index=False)
    with pytest.raises(DatasetError, match=r"commas\.csv.*not ';'-separated.*','"):
        RawExportDataset(filepath=str(path)).load()


def test_missing_column_is_named(tmp_path, small_raw):
    path = tmp_path / "no_count.csv"
    small_raw.drop(columns=["Comptage horaire"]).head(5).to_csv(path, sep=";", index=False)
    with pytest.raises(DatasetError, match=r"no_count\.csv.*'Comptage horaire'"):
        RawExportDataset(filepath=str(path)).load()


def test_non_utf8_file_is_refused(tmp_path, small_raw):
    path = tmp_path / "latin1.csv"
    small_raw.head(5).to_csv(path, sep=";", index=False, encoding="latin-1")
    with pytest.raises(DatasetError, match=r"latin1\.csv.*UTF-8"):
        RawExportDataset(filepath=str(path)).load()


def test_reads_the_export_over_http(tmp_path, http_server):
    source = shared_file("raw_format_2weeks_52counters.csv")
    (tmp_path / "export.csv").write_bytes(source.read_bytes())
    data = RawExportDataset(filepath=f"{http_server}/export.csv").load()
    assert len(data) == 16_996
    assert data["Nom du compteur"].nunique() == 52


def test_http_404_names_the_url(http_server):
    with pytest.raises(Exception, match="missing.csv"):
        RawExportDataset(filepath=f"{http_server}/missing.csv").load()


# ------------------------------------------------------------- nn.model, TensorFlow on demand
CATALOG_WITHOUT_TENSORFLOW = """
import sys
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

bootstrap_project(".")
with KedroSession.create(project_path=".") as session:
    catalog = session.load_context().catalog  # kedro-mlflow's hook builds every dataset
    dataset = catalog["nn.model"]
    print(type(dataset).__name__, "tensorflow" in sys.modules, dataset.exists())
"""


def test_project_catalog_does_not_import_tensorflow_until_nn_model_is_used(project_copy):
    import subprocess
    import sys

    done = subprocess.run(  # noqa: S603
        [sys.executable, "-c", CATALOG_WITHOUT_TENSORFLOW],
        cwd=project_copy,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # Built and described without TensorFlow; the existence check is what imports it.
    assert done.stdout.split()[-3:] == ["LazyTensorFlowModelDataset", "False", "False"]


def test_lazy_tensorflow_model_dataset_round_trip(tmp_path):
    import keras
    import numpy as np

    from bike_traffic.datasets import LazyTensorFlowModelDataset

    dataset = LazyTensorFlowModelDataset(
        filepath=str(tmp_path / "model.keras"), metadata={"kedro-viz": {"layer": "models"}}
    )
    assert not dataset.exists()
    assert dataset.metadata == {"kedro-viz": {"layer": "models"}}
    inputs = keras.Input(shape=(3,))
    model = keras.Model(inputs, keras.layers.Dense(1)(inputs))
    dataset.save(model)
    assert dataset.exists()
    x = np.arange(6, dtype="float32").reshape(2, 3)
    again = LazyTensorFlowModelDataset(filepath=str(tmp_path / "model.keras")).load()
    assert np.allclose(again.predict(x, verbose=0), model.predict(x, verbose=0))


def test_lazy_tensorflow_model_dataset_needs_a_filepath():
    from bike_traffic.datasets import LazyTensorFlowModelDataset

    with pytest.raises(DatasetError, match="filepath"):
        LazyTensorFlowModelDataset(load_args={})
