"""The raw export dataset refuses files that cannot be the export, naming them."""

from __future__ import annotations

import pandas as pd
import pytest
import yaml
from kedro.io.core import DatasetError, parse_dataset_definition

from bike_traffic.datasets.raw_export import RawExportDataset
from bike_traffic.raw_format import LINE, MALFORMED, RAW_COLUMNS
from tests.conftest import PROJECT_ROOT, shared_file


def test_loads_the_real_21_row_sample_as_text():
    data = RawExportDataset(filepath=str(shared_file("raw_export_sample_21rows.csv"))).load()
    assert tuple(data.columns) == (*RAW_COLUMNS, LINE, MALFORMED)
    assert len(data) == 21 and data[LINE].tolist() == list(range(2, 23))
    assert (data[MALFORMED] == "").all()
    assert data["Comptage horaire"].iloc[0] == "3.0"


def test_round_trip_keeps_every_value(tmp_path, small_raw):
    path = tmp_path / "export.csv"
    dataset = RawExportDataset(filepath=str(path))
    dataset.save(small_raw)
    assert path.read_text(encoding="utf-8").splitlines()[0] == ";".join(RAW_COLUMNS)
    loaded = dataset.load()
    assert loaded[LINE].tolist() == list(range(2, len(small_raw) + 2))
    pd.testing.assert_frame_equal(
        loaded.drop(columns=[LINE, MALFORMED]), small_raw, check_dtype=False
    )


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


def test_the_byte_named_in_a_not_utf8_error_is_the_bad_one(tmp_path, small_raw):
    path = tmp_path / "one_bad_byte.csv"
    small_raw.head(3000).to_csv(path, sep=";", index=False, encoding="utf-8")
    data = bytearray(path.read_bytes())
    where = data.rfind(b"\n", 0, len(data) - 10) + 3  # deep in the file, past pandas' chunks
    data[where] = 0xFF
    path.write_bytes(bytes(data))
    line = data[:where].count(b"\n") + 1
    with pytest.raises(DatasetError, match=rf"byte {where} \(line {line}\) is b'\\xff'"):
        RawExportDataset(filepath=str(path)).load()


def _write(path, small_raw, edit) -> list[str]:
    lines = small_raw.head(6).to_csv(sep=";", index=False).splitlines()
    lines = edit(lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return lines


def test_a_trailing_separator_on_every_line_shifts_nothing(tmp_path, small_raw):
    path = tmp_path / "trailing.csv"
    _write(path, small_raw, lambda lines: [line + ";" for line in lines])
    data = RawExportDataset(filepath=str(path)).load()
    expected = small_raw.head(6).reset_index(drop=True)
    pd.testing.assert_frame_equal(data.drop(columns=[LINE, MALFORMED]), expected)


def test_a_line_with_an_extra_field_is_set_aside_not_used_as_an_index(tmp_path, small_raw):
    path = tmp_path / "extra.csv"
    _write(path, small_raw, lambda lines: [lines[0], lines[1] + ";extra", *lines[2:]])
    data = RawExportDataset(filepath=str(path)).load()
    assert data[LINE].tolist() == [2, 3, 4, 5, 6, 7]
    assert data[MALFORMED].tolist()[0] == f"{len(RAW_COLUMNS) + 1} fields: the header has 16"
    # every other row reads as it was written: no column shifted
    expected = small_raw.head(6).iloc[1:].reset_index(drop=True)
    sound = data.loc[data[MALFORMED] == ""].drop(columns=[LINE, MALFORMED])
    pd.testing.assert_frame_equal(sound.reset_index(drop=True), expected)


def test_a_very_long_line_is_set_aside_unread(tmp_path, small_raw):
    path = tmp_path / "long.csv"
    _write(path, small_raw, lambda lines: [*lines[:3], ";" * 2_000_000, *lines[3:]])
    data = RawExportDataset(filepath=str(path), max_line_chars=4096).load()
    [problem] = data.loc[data[MALFORMED] != "", MALFORMED].tolist()
    assert problem == "2,000,000 characters: the limit is 4,096"
    assert data.loc[data[MALFORMED] != "", LINE].item() == 4
    assert len(data) == 7


def test_missing_file_is_named(tmp_path):
    with pytest.raises(DatasetError, match=r"nowhere\.csv"):
        RawExportDataset(filepath=str(tmp_path / "nowhere.csv")).load()


def test_reads_the_export_over_http(tmp_path, http_server):
    source = shared_file("raw_format_2weeks_52counters.csv")
    (tmp_path / "export.csv").write_bytes(source.read_bytes())
    data = RawExportDataset(filepath=f"{http_server}/export.csv").load()
    assert len(data) == 16_996
    assert data["Nom du compteur"].nunique() == 52


def test_http_404_names_the_url(http_server):
    with pytest.raises(DatasetError, match="missing.csv"):
        RawExportDataset(filepath=f"{http_server}/missing.csv").load()


def _project_dataset_types() -> list[tuple[str, str, str]]:
    """(catalog file, entry, type) of every project dataset named in conf/*/catalog.yml."""
    found = []
    for catalog in sorted((PROJECT_ROOT / "conf").glob("*/catalog.yml")):
        entries = yaml.safe_load(catalog.read_text(encoding="utf-8")) or {}
        for name, entry in entries.items():
            kind = entry.get("type", "") if isinstance(entry, dict) else ""
            if kind.startswith("bike_traffic."):
                found.append((str(catalog.relative_to(PROJECT_ROOT)), name, kind))
    return found


@pytest.mark.parametrize(
    ("catalog", "entry", "kind"),
    _project_dataset_types(),
)
def test_every_catalog_names_a_dataset_class_that_exists(catalog, entry, kind):
    """The datasets moved into bike_traffic.datasets.*: every environment must follow."""
    dataset_class, _ = parse_dataset_definition({"type": kind})
    assert dataset_class.__name__ == kind.rsplit(".", 1)[1], (catalog, entry)
