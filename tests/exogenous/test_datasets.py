"""SynopDataset on the three SYNOP layouts, and the school calendar through pandas.CSVDataset."""

from __future__ import annotations

import gzip
from pathlib import Path

import pandas as pd
import pytest
from kedro.io.core import DatasetError
from kedro_datasets.pandas import CSVDataset

from bike_traffic.exogenous.calendars import school_holiday_periods
from bike_traffic.exogenous.datasets import SynopDataset
from bike_traffic.exogenous.weather import normalize_synop
from tests.conftest import shared_file

#: The 59 columns of Météo-France's legacy monthly archives, in order.
LEGACY_COLUMNS = (
    "numer_sta date pmer tend cod_tend dd ff t td u vv ww w1 w2 n nbas hbas cl cm ch pres "
    "niv_bar geop tend24 tn12 tn24 tx12 tx24 tminsol sw tw raf10 rafper per etat_sol ht_neige "
    "ssfrai perssfrai rr1 rr3 rr6 rr12 rr24 phenspe1 phenspe2 phenspe3 phenspe4 nnuage1 ctype1 "
    "hnuage1 nnuage2 ctype2 hnuage2 nnuage3 ctype3 hnuage3 nnuage4 ctype4 hnuage4"
).split()
#: The yearly files of data.gouv.fr: 8 identification columns, then the observations.
YEARLY_COLUMNS = [
    "lat",
    "lon",
    "geo_id_wmo",
    "geo_id_wigos",
    "name",
    "reference_time",
    "insert_time",
    "validity_time",
    *LEGACY_COLUMNS[2:],
]

#: Reports of two stations; Orly's are out of time order, one has rr3 missing, one a trace.
REPORTS = [
    {"station": "07149", "time": "2021-01-01 03:00", "t": "271.25", "rr3": "0.4", "ff": "1.7"},
    {"station": "07149", "time": "2021-01-01 00:00", "t": "272.75", "rr3": "-0.1", "ff": "1.8"},
    {"station": "07510", "time": "2021-01-01 00:00", "t": "280.15", "rr3": "0", "ff": "3.0"},
    {"station": "07149", "time": "2021-01-01 06:00", "t": "270.65", "rr3": None, "ff": "2.0"},
]


def _values(report: dict, missing: str) -> dict[str, str]:
    return {
        "t": report["t"] or missing,
        "rr3": report["rr3"] or missing,
        "rr1": missing,
        "ff": report["ff"] or missing,
        "u": "95",
    }


def write_legacy(path: Path, reports: list[dict] = REPORTS) -> Path:
    """Météo-France's own format: ';', 'mq', compact dates and a ';' ending each line."""
    lines = [";".join(LEGACY_COLUMNS) + ";"]
    for report in reports:
        values = _values(report, "mq")
        stamp = pd.Timestamp(report["time"]).strftime("%Y%m%d%H%M%S")
        row = {"numer_sta": report["station"], "date": stamp, **values}
        lines.append(";".join(row.get(c, "mq") for c in LEGACY_COLUMNS) + ";")
    text = "\n".join(lines) + "\n"
    if path.suffix == ".gz":
        path.write_bytes(gzip.compress(text.encode("ascii")))
    else:
        path.write_text(text, encoding="ascii")
    return path


def write_yearly(path: Path, reports: list[dict] = REPORTS) -> Path:
    """The yearly layout: geo_id_wmo, ISO validity_time, empty fields for missing values."""
    lines = [";".join(YEARLY_COLUMNS)]
    for report in reports:
        stamp = pd.Timestamp(report["time"]).strftime("%Y-%m-%dT%H:%M:%SZ")
        row = {
            "geo_id_wmo": report["station"],
            "name": "ORLY" if report["station"] == "07149" else "BORDEAUX-MERIGNAC",
            "validity_time": stamp,
            "reference_time": stamp,
            **_values(report, ""),
        }
        lines.append(";".join(row.get(c, "") for c in YEARLY_COLUMNS))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_comma(path: Path, reports: list[dict] = REPORTS) -> Path:
    """The teaching kit's copy: ',', station as an int, ISO dates with a space, floats."""
    lines = [",".join(LEGACY_COLUMNS)]
    for report in reports:
        values = {k: (f"{float(v):.6f}" if v else "") for k, v in _values(report, "").items()}
        stamp = pd.Timestamp(report["time"]).strftime("%Y-%m-%d %H:%M:%S")
        row = {"numer_sta": str(int(report["station"])), "date": stamp, **values}
        lines.append(",".join(row.get(c, "") for c in LEGACY_COLUMNS))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


WRITERS = {"legacy": write_legacy, "yearly": write_yearly, "comma": write_comma}


def test_legacy_layout_is_read_as_text_without_mq_or_trailing_column(tmp_path):
    data = SynopDataset(filepath=str(write_legacy(tmp_path / "synop.202101.csv"))).load()

    assert list(data.columns) == LEGACY_COLUMNS
    assert len(data) == len(REPORTS)
    assert data["numer_sta"].tolist()[:2] == ["07149", "07149"]
    assert not data.isin(["mq"]).any().any()
    assert data.loc[3, "rr3"] == ""
    assert all(pd.api.types.is_string_dtype(data[c]) for c in data.columns)


def test_yearly_layout_keeps_its_columns(tmp_path):
    data = SynopDataset(filepath=str(write_yearly(tmp_path / "synop_2021.csv"))).load()

    assert list(data.columns) == YEARLY_COLUMNS
    assert data["validity_time"].iloc[0] == "2021-01-01T03:00:00Z"
    assert data["geo_id_wmo"].iloc[2] == "07510"


def test_comma_copy_is_sniffed(tmp_path):
    data = SynopDataset(filepath=str(write_comma(tmp_path / "external_data.csv"))).load()

    assert list(data.columns) == LEGACY_COLUMNS
    assert data["numer_sta"].iloc[0] == "7149"
    assert data["t"].iloc[0] == "271.250000"


@pytest.mark.parametrize("layout", sorted(WRITERS))
def test_every_layout_gives_the_same_tidy_weather(tmp_path, layout):
    path = WRITERS[layout](tmp_path / f"{layout}.csv")
    tidy, quarantine = normalize_synop(SynopDataset(filepath=str(path)).load(), "7149")

    assert quarantine.empty
    assert tidy["timestamp_utc"].tolist() == list(
        pd.date_range("2021-01-01", periods=3, freq="3h", tz="UTC")
    )
    assert tidy["temperature_c"].tolist() == [-0.4, -1.9, -2.5]
    assert tidy["rain_3h_mm"].tolist()[:2] == [0.0, 0.4]
    assert pd.isna(tidy["rain_3h_mm"].iloc[2])


def test_gzip_file_is_decompressed(tmp_path):
    path = write_legacy(tmp_path / "synop.202101.csv.gz")
    data = SynopDataset(filepath=str(path)).load()

    assert list(data.columns) == LEGACY_COLUMNS
    assert len(data) == len(REPORTS)


def test_file_over_http_is_read_through_fsspec(tmp_path, http_server):
    write_legacy(tmp_path / "synop.202101.csv.gz")
    data = SynopDataset(filepath=f"{http_server}/synop.202101.csv.gz").load()

    assert data["date"].iloc[1] == "20210101000000"


def test_empty_file_is_refused_naming_it(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("", encoding="utf-8")

    with pytest.raises(DatasetError, match=r"empty\.csv.*empty"):
        SynopDataset(filepath=str(path)).load()


def test_header_without_rows_is_refused(tmp_path):
    path = write_legacy(tmp_path / "header_only.csv", reports=[])

    with pytest.raises(DatasetError, match=r"header_only\.csv.*no rows"):
        SynopDataset(filepath=str(path)).load()


@pytest.mark.parametrize(
    ("dropped", "named"),
    [("t", "'t'"), ("date", "date or validity_time"), ("numer_sta", "numer_sta or geo_id_wmo")],
)
def test_missing_required_column_is_refused(tmp_path, dropped, named):
    path = write_legacy(tmp_path / "synop.csv")
    frame = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False).drop(columns=dropped)
    frame.to_csv(path, sep=";", index=False)

    with pytest.raises(DatasetError, match=rf"synop\.csv.*{named}"):
        SynopDataset(filepath=str(path)).load()


def test_absent_file_is_refused(tmp_path):
    with pytest.raises(DatasetError, match=r"nowhere\.csv"):
        SynopDataset(filepath=str(tmp_path / "nowhere.csv")).load()


def test_real_orly_copy_loads_as_text():
    data = SynopDataset(
        filepath=str(shared_file("synop_07149_paris-orly_2020-09_2021-10.csv"))
    ).load()

    assert data.shape == (3322, 59)
    assert list(data.columns) == LEGACY_COLUMNS
    assert set(data["numer_sta"]) == {"7149"}


#: The catalog entry that datasets.py documents for the school calendar.
CALENDAR_LOAD_ARGS = {"sep": ";", "dtype": str, "keep_default_na": False, "encoding": "utf-8"}


def test_school_calendar_needs_only_pandas_csv_dataset(tmp_path):
    path = tmp_path / "calendar.csv"
    path.write_bytes(
        "description;population;start_date;end_date;location;zones;annee_scolaire\r\n"
        "Vacances de Noël;-;2020-12-19T00:00:00+01:00;2021-01-04T00:00:00+01:00;"
        "Paris;Zone C;2020-2021\r\n".encode()
    )
    calendar = CSVDataset(filepath=str(path), load_args=CALENDAR_LOAD_ARGS).load()
    periods = school_holiday_periods(calendar, "C")

    assert periods["first_day_off"].tolist() == [pd.Timestamp("2020-12-19")]
    assert periods["first_school_day"].tolist() == [pd.Timestamp("2021-01-04")]


def test_real_school_calendar_loads_with_pandas_csv_dataset():
    path = shared_file("fr-en-calendrier-scolaire.csv")
    calendar = CSVDataset(filepath=str(path), load_args=CALENDAR_LOAD_ARGS).load()

    assert len(calendar) == 2081
    assert "Élèves" in set(calendar["population"])


@pytest.mark.parametrize("name", ["synop.202101.csv", "synop.202101.csv.gz"])
def test_save_writes_meteo_frances_legacy_format_and_loads_back(tmp_path, name):
    original = SynopDataset(filepath=str(write_legacy(tmp_path / "original.csv"))).load()
    target = SynopDataset(filepath=str(tmp_path / name))
    target.save(original)

    raw = (tmp_path / name).read_bytes()
    text = (gzip.decompress(raw) if name.endswith(".gz") else raw).decode("utf-8")
    lines = text.splitlines()
    assert lines[0] == ";".join(LEGACY_COLUMNS) + ";"
    assert lines[1].startswith("07149;20210101030000;mq;") and lines[1].endswith(";mq;")
    assert all(len(line.split(";")) == len(LEGACY_COLUMNS) + 1 for line in lines)
    pd.testing.assert_frame_equal(target.load(), original)


def test_save_writes_nan_and_none_as_mq(tmp_path):
    frame = pd.DataFrame(
        {
            "numer_sta": ["07149", "07149"],
            "date": ["20210101000000", "20210101030000"],
            "t": [272.75, None],
            "rr3": [float("nan"), 0.4],
        }
    )
    dataset = SynopDataset(filepath=str(tmp_path / "synop.csv"))
    dataset.save(frame)

    assert (tmp_path / "synop.csv").read_text("utf-8").splitlines()[1:] == [
        "07149;20210101000000;272.75;mq;",
        "07149;20210101030000;mq;0.4;",
    ]
    assert dataset.load()["t"].tolist() == ["272.75", ""]


def test_save_refuses_a_frame_that_is_not_synop_and_unknown_arguments(tmp_path):
    with pytest.raises(DatasetError, match=r"synop\.csv.*numer_sta or geo_id_wmo"):
        SynopDataset(filepath=str(tmp_path / "synop.csv")).save(pd.DataFrame({"t": ["1"]}))
    frame = pd.DataFrame({"numer_sta": ["07149"], "date": ["20210101000000"], "t": ["272.75"]})
    dataset = SynopDataset(filepath=str(tmp_path / "synop.csv"), save_args={"quoting": 1})
    with pytest.raises(DatasetError, match=r"unknown save argument.*quoting"):
        dataset.save(frame)


def test_save_without_trailing_separator_or_mq(tmp_path):
    frame = pd.DataFrame(
        {"geo_id_wmo": ["07149"], "validity_time": ["2021-01-01T00:00:00Z"], "t": [""]}
    )
    path = tmp_path / "synop_2021.csv"
    SynopDataset(filepath=str(path), save_args={"na_rep": "", "trailing_separator": False}).save(
        frame
    )
    assert path.read_text("utf-8").splitlines() == [
        "geo_id_wmo;validity_time;t",
        "07149;2021-01-01T00:00:00Z;",
    ]
