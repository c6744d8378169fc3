"""The yearly archives' reader: one small sample written in each documented format."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from kedro.io.core import DatasetError

from bike_traffic.datasets.yearly_archives import RawHistoryDataset, YearlyArchiveDataset
from bike_traffic.pipelines.data_cleaning.nodes import rename_columns
from bike_traffic.raw_format import LINE, MALFORMED, RAW_COLUMNS, SOURCE, SOURCE_FILE

SEBASTOPOL = "Totem 73 boulevard de Sébastopol S-N"
ORSAY = "Quai d'Orsay E-O"


def _row(counter: str, when: str, count: int, ident: str = "100003096-353242251") -> dict:
    row = dict.fromkeys(RAW_COLUMNS, "")
    row.update(
        {
            "Identifiant du compteur": ident,
            "Nom du compteur": counter,
            "Identifiant du site de comptage": "100003096",
            "Nom du site de comptage": counter[:-4],
            "Comptage horaire": str(count),
            "Date et heure de comptage": when,
            "Coordonnées géographiques": "48.86462,2.35016",
        }
    )
    return row


def _write(path: Path, rows: list[dict], sep: str = ";", encoding: str = "utf-8", **rename):
    frame = pd.DataFrame(rows).rename(columns=rename)
    frame.to_csv(path, sep=sep, index=False, encoding=encoding)
    return path


def test_an_archive_in_the_exports_own_format_reads_as_the_export(tmp_path):
    path = _write(
        tmp_path / "2022.csv",
        [
            _row(SEBASTOPOL, "2022-06-01T08:00:00+02:00", 310),
            _row(ORSAY, "2022-06-01T09:00:00+02:00", 95),
        ],
    )
    frame = YearlyArchiveDataset(filepath=str(path)).load()
    assert list(frame.columns) == [*RAW_COLUMNS, LINE, MALFORMED, SOURCE]
    assert frame["Comptage horaire"].tolist() == ["310", "95"]
    assert frame["Date et heure de comptage"].tolist()[0] == "2022-06-01T08:00:00+02:00"
    assert frame[LINE].tolist() == [2, 3] and set(frame[SOURCE]) == {"2022.csv"}


def test_local_times_without_offset_get_pariss_offset_across_both_clock_changes(tmp_path):
    rows = [
        _row(SEBASTOPOL, "2019-01-15 08:00:00", 120),
        _row(SEBASTOPOL, "2019-07-15 08:00:00", 400),
        # autumn: 02:00 happens twice, summer time first
        _row(SEBASTOPOL, "2019-10-27 02:00:00", 7),
        _row(SEBASTOPOL, "2019-10-27 02:00:00", 5),
        _row(ORSAY, "2019-10-27 02:00:00", 3),
        # spring: 02:30 does not exist in Paris
        _row(SEBASTOPOL, "2019-03-31 02:30:00", 1),
    ]
    path = _write(tmp_path / "2019.csv", rows)
    frame = YearlyArchiveDataset(filepath=str(path), timestamps="local").load()
    assert frame["Date et heure de comptage"].tolist() == [
        "2019-01-15T08:00:00+01:00",
        "2019-07-15T08:00:00+02:00",
        "2019-10-27T02:00:00+02:00",
        "2019-10-27T02:00:00+01:00",
        "2019-10-27T02:00:00+02:00",
        "",  # left for data_cleaning to quarantine, with its line
    ]
    assert frame[LINE].tolist()[-1] == 7


def test_a_comma_separated_cp1252_year_reads_its_accents_and_quoted_coordinates(tmp_path):
    path = _write(
        tmp_path / "2020.csv",
        [_row(SEBASTOPOL, "2020-02-03T08:00:00+01:00", 250)],
        sep=",",
        encoding="cp1252",
    )
    assert '"48.86462,2.35016"' in path.read_text(encoding="cp1252")
    frame = YearlyArchiveDataset(
        filepath=str(path), load_args={"sep": ",", "encoding": "cp1252"}
    ).load()
    assert frame["Nom du compteur"].tolist() == [SEBASTOPOL]
    assert frame["Coordonnées géographiques"].tolist() == ["48.86462,2.35016"]
    assert (frame[MALFORMED] == "").all()
    # read as the export's UTF-8, the same bytes are refused with the file and the line
    with pytest.raises(DatasetError, match=r"2020\.csv"):
        YearlyArchiveDataset(filepath=str(path), load_args={"sep": ","}).load()


def test_renamed_columns_are_mapped_to_the_exports_and_missing_ones_left_empty(tmp_path):
    renamed = {
        "Identifiant du compteur": "Id compteur",
        "Comptage horaire": "Comptage",
        "Date et heure de comptage": "Date",
    }
    rows = [
        {k: v for k, v in _row(ORSAY, "2018-05-02T08:00:00+02:00", 60).items() if "photo" not in k}
    ]
    path = _write(tmp_path / "2018.csv", rows, **renamed)
    columns = {new: old for old, new in renamed.items()}
    frame = YearlyArchiveDataset(filepath=str(path), columns=columns).load()
    assert list(frame.columns)[:16] == list(RAW_COLUMNS)
    assert frame["Comptage horaire"].tolist() == ["60"]
    assert frame["Lien vers photo du site de comptage"].tolist() == [""]
    # without the mapping the file is refused, and the message names it and the column
    with pytest.raises(DatasetError, match=r"2018\.csv.*Comptage horaire"):
        YearlyArchiveDataset(filepath=str(path)).load()


def test_the_history_is_archives_then_export_with_one_name_per_counter(tmp_path):
    old_name = "Totem 73 bd Sébastopol S-N"
    archive = _write(
        tmp_path / "2023.csv",
        [
            _row(old_name, "2023-12-31T22:00:00+01:00", 40),
            _row(old_name, "2024-04-01T08:00:00+02:00", 999),  # the export holds this hour
        ],
    )
    export = _write(
        tmp_path / "export.csv",
        [_row(SEBASTOPOL, "2024-04-01T08:00:00+02:00", 300)],
    )
    history = RawHistoryDataset(
        export={"filepath": str(export)},
        archives=[{"filepath": str(archive)}],
        counter_names={old_name: SEBASTOPOL},
    ).load()
    assert history["Nom du compteur"].tolist() == [SEBASTOPOL, SEBASTOPOL]
    assert history["Comptage horaire"].tolist() == ["40", "300"]
    assert history[SOURCE].tolist() == ["2023.csv", "export.csv"]
    assert history[LINE].tolist() == [2, 2]
    # data_cleaning keeps each row's file beside its line (the quarantine names both)
    renamed = rename_columns(history)
    assert renamed[[SOURCE_FILE, "row_number"]].values.tolist() == [
        ["2023.csv", 2],
        ["export.csv", 2],
    ]
    with pytest.raises(DatasetError, match="read-only"):
        RawHistoryDataset(export={"filepath": str(export)}).save(history)


def test_an_unknown_timestamp_format_is_refused():
    with pytest.raises(DatasetError, match="timestamps must be one of"):
        YearlyArchiveDataset(filepath="x.csv", timestamps="utc")
