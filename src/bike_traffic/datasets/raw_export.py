"""The raw export of the City of Paris portal, read as text and checked on load."""

from __future__ import annotations

from typing import Any

import pandas as pd
from kedro.io.core import DatasetError
from kedro_datasets.pandas import CSVDataset

from bike_traffic.raw_format import RAW_COLUMNS, REQUIRED_RAW_COLUMNS


class RawExportDataset(CSVDataset):
    """The Paris counter export (``;``-separated, French headers), checked on load.

    Every column is read as text, so nothing is lost or coerced before
    ``data_cleaning`` decides, row by row, what is valid. A file that cannot be
    the export (empty, another delimiter, a required column missing) is refused
    at once with a :class:`DatasetError` that names the file and the problem.
    Works on any fsspec filesystem: a local path, ``gs://`` or ``https://``.
    """

    DEFAULT_LOAD_ARGS: dict[str, Any] = {
        "sep": ";",
        "dtype": str,
        "keep_default_na": False,
        "encoding": "utf-8",
    }
    DEFAULT_SAVE_ARGS: dict[str, Any] = {"sep": ";", "index": False, "encoding": "utf-8"}

    def _where(self) -> str:
        path = str(self._filepath)
        return path if self._protocol == "file" else f"{self._protocol}://{path}"

    def load(self) -> pd.DataFrame:
        """Load the export and check that it has the export's shape.

        Returns:
            The raw rows, every column as text.

        Raises:
            DatasetError: When the file is empty, uses another delimiter, lacks
                a required column or cannot be parsed as CSV.
        """
        where = self._where()
        try:
            data = super().load()
        except DatasetError as exc:
            # Kedro wraps the reader's error: name the file and say what is wrong.
            raise DatasetError(_explain(exc.__cause__ or exc, where)) from exc
        check_raw_columns(data, where)
        return data


def _explain(error: BaseException, where: str) -> str:
    """One clear sentence about why the export at ``where`` could not be read."""
    if isinstance(error, pd.errors.EmptyDataError):
        return f"Raw export '{where}' is empty: no header, no rows."
    if isinstance(error, UnicodeDecodeError):
        return f"Raw export '{where}' is not UTF-8 text (byte {error.start}): {error.reason}."
    if isinstance(error, pd.errors.ParserError):
        return f"Raw export '{where}' is not a valid ';'-separated CSV file: {error}"
    if isinstance(error, FileNotFoundError):
        return f"Raw export '{where}' does not exist: {error}"
    return f"Raw export '{where}' could not be read: {type(error).__name__}: {error}"


def check_raw_columns(data: pd.DataFrame, where: str) -> None:
    """Raise a clear error when ``data`` cannot be the Paris export.

    Args:
        data: The frame as read with ``sep=';'``.
        where: The file it came from, for the message.

    Raises:
        DatasetError: On a wrong delimiter, a missing required column, or no rows.
    """
    columns = [str(c) for c in data.columns]
    if len(columns) == 1 and any(sep in columns[0] for sep in (",", "\t", "|")):
        found = next(sep for sep in (",", "\t", "|") if sep in columns[0])
        raise DatasetError(
            f"Raw export '{where}' is not ';'-separated: its header is one column that "
            f"contains {found!r}. The City of Paris export uses ';' as delimiter."
        )
    missing = [c for c in REQUIRED_RAW_COLUMNS if c not in columns]
    if missing:
        raise DatasetError(
            f"Raw export '{where}' lacks required column(s) {missing}. "
            f"Expected the export's headers: {list(RAW_COLUMNS)}."
        )
    if data.empty:
        raise DatasetError(f"Raw export '{where}' has a header but no rows.")
