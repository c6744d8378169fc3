"""Kedro datasets for the exogenous files: Météo-France SYNOP reports.

:class:`SynopDataset` reads any of the three SYNOP layouts met in practice, as text:

- Météo-France's legacy monthly archives ``synop.YYYYMM.csv.gz``: ``;``, ``mq`` for a
  missing value, a ``;`` at the end of each line (an empty last column), ``numer_sta`` and
  ``date`` (``YYYYMMDDHHMMSS``);
- the yearly files of data.gouv.fr ``synop_YYYY.csv.gz``: ``;``, empty fields for missing
  values, ``geo_id_wmo`` and ``validity_time`` (``2021-01-01T00:00:00Z``);
- the comma-separated copy of the bike_counters teaching kit (legacy columns, ``7149``,
  ``2021-01-01 00:00:00``).

The school calendar needs no dataset class of its own: kedro-datasets'
``pandas.CSVDataset`` reads the official file as it is, and
:func:`~bike_traffic.exogenous.calendars.school_holiday_periods` checks its columns::

    school_calendar:
      type: pandas.CSVDataset
      filepath: ${globals:data_root}/01_raw/fr-en-calendrier-scolaire.csv
      load_args: {sep: ";", dtype: str, keep_default_na: false, encoding: utf-8}

and the SYNOP file::

    synop_orly:
      type: bike_traffic.exogenous.datasets.SynopDataset
      filepath: ${globals:data_root}/01_raw/synop_2021.csv.gz

:class:`SynopDataset` also saves, in Météo-France's legacy monthly-archive format (``;``,
``mq`` for a missing value, a ``;`` ending each line), so that a frame it loaded, or one
written as text with ``""`` for missing values, goes back to the same file.
"""

from __future__ import annotations

import io
from typing import Any

import pandas as pd
from fsspec.utils import infer_compression
from kedro.io.core import AbstractDataset, DatasetError, get_filepath_str
from kedro_datasets.pandas import CSVDataset

from bike_traffic.exogenous.weather import STATION_COLUMNS, TIME_COLUMNS

#: The SYNOP code for a missing value in Météo-France's legacy files.
MISSING_CODE = "mq"


class SynopDataset(CSVDataset):
    """A Météo-France SYNOP file, every column as text, in any of its layouts.

    The separator (``;`` or ``,``) is sniffed from the header line unless ``load_args``
    gives ``sep``; compression follows the file name (``.csv`` or ``.csv.gz``). Every
    column is read as text (``dtype=str``, ``keep_default_na=False``), ``mq`` becomes an
    empty string and the empty column that a trailing ``;`` adds is dropped, so that
    :func:`~bike_traffic.exogenous.weather.normalize_synop` sees the same frame for every
    layout. Works on any fsspec filesystem: a local path, ``https://`` or ``gs://``.
    """

    DEFAULT_LOAD_ARGS: dict[str, Any] = {
        "dtype": str,
        "keep_default_na": False,
        "encoding": "utf-8",
    }
    DEFAULT_SAVE_ARGS: dict[str, Any] = {
        "sep": ";",
        "na_rep": MISSING_CODE,
        "trailing_separator": True,
        "encoding": "utf-8",
    }

    def _where(self) -> str:
        path = str(self._filepath)
        return path if self._protocol == "file" else f"{self._protocol}://{path}"

    def load(self) -> pd.DataFrame:
        """Load the reports as text and check that the file is a SYNOP file.

        Returns:
            One row per report, every column as text, ``mq`` as ``""``.

        Raises:
            DatasetError: Naming the file, when it does not exist, is empty, is not text,
                or lacks a station column (``numer_sta``/``geo_id_wmo``), a time column
                (``date``/``validity_time``) or ``t``.
        """
        where = self._where()
        load_path = get_filepath_str(self._get_load_path(), self._protocol)
        load_args = dict(self._load_args)
        encoding = load_args.pop("encoding", "utf-8")
        compression = load_args.pop("compression", "infer")
        if compression == "infer":
            compression = infer_compression(load_path)
        try:
            with self._fs.open(
                load_path, mode="rb", compression=compression, **self._fs_open_args_load
            ) as handle:
                text = handle.read().decode(encoding)
        except FileNotFoundError as exc:
            raise DatasetError(f"SYNOP file '{where}' does not exist.") from exc
        except (UnicodeDecodeError, OSError, EOFError) as exc:
            raise DatasetError(
                f"SYNOP file '{where}' could not be read as {encoding} text"
                f"{' (' + compression + ')' if compression else ''}: {exc}"
            ) from exc
        header = text.lstrip("\ufeff").split("\n", 1)[0]
        if not header.strip():
            raise DatasetError(f"SYNOP file '{where}' is empty: no header, no rows.")
        sep = load_args.pop("sep", None) or (";" if header.count(";") >= header.count(",") else ",")
        try:
            data = pd.read_csv(io.StringIO(text.lstrip("\ufeff")), sep=sep, **load_args)
        except pd.errors.ParserError as exc:
            raise DatasetError(f"SYNOP file '{where}' is not a valid {sep!r} CSV: {exc}") from exc
        return check_synop_columns(_drop_trailing_columns(data).replace(MISSING_CODE, ""), where)

    def save(self, data: pd.DataFrame) -> None:
        """Write the reports in Météo-France's legacy monthly-archive format.

        Every value is written as it is (text, or numbers as pandas writes them); missing
        values (``""``, NaN, None) become ``na_rep`` (``mq``); with ``trailing_separator``
        (the default) every line, the header included, ends with ``sep``, as in the
        archives. Compression follows the file name (``.csv.gz`` is gzipped) unless
        ``save_args`` gives ``compression``. Save arguments: ``sep``, ``na_rep``,
        ``trailing_separator``, ``encoding``, ``compression``.

        Args:
            data: The reports, one row each, with a station, a time and a ``t`` column.

        Raises:
            DatasetError: Naming the file, when ``data`` lacks a required column or has no
                rows, or when a save argument is unknown.
        """
        where = self._where()
        check_synop_columns(data, where)
        args = dict(self._save_args)
        sep = str(args.pop("sep", ";"))
        na_rep = str(args.pop("na_rep", MISSING_CODE))
        trailing = bool(args.pop("trailing_separator", True))
        encoding = str(args.pop("encoding", "utf-8"))
        compression = args.pop("compression", "infer")
        args.pop("index", None)
        if args:
            raise DatasetError(f"SYNOP file '{where}': unknown save argument(s) {sorted(args)}.")
        save_path = get_filepath_str(self._get_save_path(), self._protocol)
        if compression == "infer":
            compression = infer_compression(save_path)
        text = data.astype(object).where(data.notna(), "").astype(str)
        text = text.mask(text.apply(lambda column: column.str.strip()).eq(""), na_rep)
        end = sep if trailing else ""
        lines = [sep.join(str(c) for c in data.columns) + end]
        lines.extend(sep.join(row) + end for row in text.to_numpy(dtype=str).tolist())
        payload = ("\n".join(lines) + "\n").encode(encoding)
        with self._fs.open(save_path, mode="wb", compression=compression) as handle:
            handle.write(payload)
        self._invalidate_cache()


def _drop_trailing_columns(data: pd.DataFrame) -> pd.DataFrame:
    """Drop the unnamed, empty columns that a ``;`` at the end of each line creates."""
    unnamed = [
        column
        for column in data.columns
        if str(column).startswith("Unnamed:") and data[column].astype(str).eq("").all()
    ]
    return data.drop(columns=unnamed)


def check_synop_columns(data: pd.DataFrame, where: str) -> pd.DataFrame:
    """Return ``data`` when it has the columns of a SYNOP file and some rows.

    Args:
        data: The file as read.
        where: The file, for the message.

    Returns:
        ``data`` unchanged.

    Raises:
        DatasetError: Naming the file and the missing columns, or saying it has no rows.
    """
    columns = {str(c) for c in data.columns}
    missing = [
        " or ".join(names)
        for names in (STATION_COLUMNS, TIME_COLUMNS, ("t",))
        if not columns.intersection(names)
    ]
    if missing:
        raise DatasetError(
            f"SYNOP file '{where}' lacks required column(s) {missing}; its header starts "
            f"{[str(c) for c in data.columns][:8]}. Expected Météo-France "
            "'SYNOP essentielles OMM' columns."
        )
    if data.empty:
        raise DatasetError(f"SYNOP file '{where}' has a header but no rows.")
    return data


class SynopYearsDataset(AbstractDataset[None, pd.DataFrame]):
    """Several yearly SYNOP files read as one: Météo-France's archives are one file a year.

    ``filepath`` holds ``{year}``, replaced by each of ``years``; each file is read by
    :class:`SynopDataset` (any layout, any fsspec filesystem) and the rows are put one after
    the other (the cleaning sorts them and keeps the station's). Read-only.

    Example (``conf/portal/catalog.yml``)::

        raw_weather:
          type: bike_traffic.exogenous.datasets.SynopYearsDataset
          filepath: https://object.files.data.gouv.fr/meteofrance/data/synchro_ftp/OBS/SYNOP/synop_{year}.csv.gz
          years: [2025, 2026]
    """

    def __init__(
        self,
        filepath: str,
        years: list[int],
        load_args: dict[str, Any] | None = None,
        credentials: dict[str, Any] | None = None,
        fs_args: dict[str, Any] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Args: as :class:`SynopDataset`'s, ``filepath`` with ``{year}``, and the years."""
        if "{year}" not in filepath:
            raise DatasetError(f"SynopYearsDataset: filepath {filepath!r} has no '{{year}}'.")
        if not years:
            raise DatasetError("SynopYearsDataset: give at least one year.")
        self._filepath = filepath
        self._years = [int(y) for y in years]
        self.metadata = metadata
        self._files = [
            SynopDataset(
                filepath=filepath.format(year=year),
                load_args=load_args,
                credentials=credentials,
                fs_args=fs_args,
            )
            for year in self._years
        ]

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath, "years": self._years}

    def load(self) -> pd.DataFrame:
        """Every year's reports, as text, one year after the other."""
        return pd.concat([file.load() for file in self._files], ignore_index=True)

    def save(self, data: pd.DataFrame) -> None:
        """Not supported: the yearly archives are Météo-France's."""
        raise DatasetError("SynopYearsDataset is read-only.")
