"""The raw export of the City of Paris portal, read as text and checked on load."""

from __future__ import annotations

import codecs
import logging
from collections.abc import Iterator
from typing import Any

import pandas as pd
from kedro.io.core import DatasetError, get_filepath_str
from kedro_datasets.pandas import CSVDataset

from bike_traffic.csv_text import SHOWN_CHARS, read_checked_lines, split_fields
from bike_traffic.raw_format import LINE, MALFORMED, RAW_COLUMNS, REQUIRED_RAW_COLUMNS

logger = logging.getLogger(__name__)

#: The longest line read (characters): the export's lines have about 300.
MAX_LINE_CHARS = 4096


class RawExportDataset(CSVDataset):
    """The Paris counter export (``;``-separated, French headers), checked on load.

    Every column is read as text, so nothing is lost or coerced before
    ``data_cleaning`` decides, row by row, what is valid. Each line is measured before
    pandas sees it (:func:`bike_traffic.csv_text.read_checked`): a line with another
    number of fields than the header, or longer than ``max_line_chars``, comes back as a
    row whose :data:`~bike_traffic.raw_format.MALFORMED` column says why (its fields cut
    to what could be read), and ``data_cleaning`` quarantines it with its line number;
    every row carries its line in :data:`~bike_traffic.raw_format.LINE`. A file that
    cannot be the export (empty, another delimiter, a required column missing, not
    UTF-8) is refused at once with a :class:`DatasetError` that names the file and the
    problem. Works on any fsspec filesystem: a local path, ``gs://`` or ``https://``.
    """

    DEFAULT_LOAD_ARGS: dict[str, Any] = {"sep": ";", "encoding": "utf-8"}
    DEFAULT_SAVE_ARGS: dict[str, Any] = {"sep": ";", "index": False, "encoding": "utf-8"}

    def __init__(self, *, max_line_chars: int = MAX_LINE_CHARS, **kwargs: Any) -> None:
        """As :class:`kedro_datasets.pandas.CSVDataset`, plus the longest line read."""
        super().__init__(**kwargs)
        self._max_line_chars = int(max_line_chars)

    def _where(self) -> str:
        path = str(self._filepath)
        return path if self._protocol == "file" else f"{self._protocol}://{path}"

    def load(self) -> pd.DataFrame:
        """Load the export, set malformed lines aside, and check the export's shape.

        Returns:
            The raw rows, every column as text, with :data:`LINE` and :data:`MALFORMED`.

        Raises:
            DatasetError: When the file is missing, empty, not UTF-8, uses another
                delimiter or lacks a required column.
        """
        where = self._where()
        path = get_filepath_str(self._get_load_path(), self._protocol)
        encoding = self._load_args.get("encoding", "utf-8")
        sep = self._load_args.get("sep", ";")
        try:
            with self._fs.open(path, mode="rb") as handle:
                lines = _decoded_lines(handle, encoding, where)
                checked = read_checked_lines(lines, sep, self._max_line_chars)
        except FileNotFoundError as exc:
            raise DatasetError(f"Raw export '{where}' does not exist: {exc}") from None
        except ValueError as exc:
            if str(exc) == "no header line":
                raise DatasetError(f"Raw export '{where}' is empty: no header, no rows.") from None
            raise DatasetError(f"Raw export '{where}' cannot be read: {exc}.") from None
        except OSError as exc:
            raise DatasetError(
                f"Raw export '{where}' could not be read: {type(exc).__name__}: {exc}"
            ) from None
        header = self._as_export_header(checked.frame)
        check_raw_columns(header, where, has_rows=False)  # rows: checked below
        frame = header.assign(**{LINE: checked.lines, MALFORMED: ""})
        if not checked.malformed.empty:
            frame = _with_malformed(frame, checked.malformed, sep, where)
        if frame.empty:
            raise DatasetError(f"Raw export '{where}' has a header but no rows.")
        return frame

    def _as_export_header(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The rows under the export's headers (here as read; archives rename theirs)."""
        return frame

    def save(self, data: pd.DataFrame) -> None:
        """Save the rows as the portal does (the reader's own columns left out)."""
        super().save(data.drop(columns=[LINE, MALFORMED], errors="ignore"))


#: Bytes read and decoded at once.
BLOCK_BYTES = 1 << 24


def _decoded_lines(handle, encoding: str, where: str) -> Iterator[str]:
    """The file's lines, decoded block by block (no line end, no byte-order mark).

    Raises:
        DatasetError: At the first byte that is not ``encoding``, naming its offset in the
            file and its line.
    """
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = newlines = 0
    pending, first = "", True
    while True:
        data = handle.read(BLOCK_BYTES)
        final = not data
        try:
            text = decoder.decode(data, final=final)
        except UnicodeDecodeError as exc:
            buffered = len(exc.object) - len(data)  # bytes of the last block, undecoded
            at = offset - buffered + exc.start
            line = newlines + exc.object[: exc.start].count(b"\n") + 1
            bad = exc.object[exc.start : exc.start + 1]
            raise DatasetError(
                f"Raw export '{where}' is not {encoding.upper()} text: byte {at} "
                f"(line {line}) is {bad!r}: {exc.reason}. The City of Paris export is UTF-8."
            ) from None
        if first:
            text, first = text.removeprefix("\ufeff"), False
        parts = (pending + text).split("\n")
        pending = "" if final else parts.pop()
        for part in parts:
            yield part.rstrip("\r")
        offset += len(data)
        newlines += data.count(b"\n")
        if final:
            return


def _with_malformed(
    frame: pd.DataFrame, malformed: pd.DataFrame, sep: str, where: str
) -> pd.DataFrame:
    """The well-formed rows and the malformed lines (cut to the header's fields), in order."""
    columns = [c for c in frame.columns if c not in (LINE, MALFORMED)]
    rows = []
    for line, text, problem in malformed[["line", "text", "problem"]].itertuples(index=False):
        fields = [f[:SHOWN_CHARS] for f in split_fields(text, sep)][: len(columns)]
        rows.append(
            {
                **dict(zip(columns, fields + [""] * (len(columns) - len(fields)), strict=True)),
                LINE: line,
                MALFORMED: problem,
            }  # fmt: skip
        )
    shown = "; ".join(f"line {r[LINE]}: {r[MALFORMED]}" for r in rows[:5])
    logger.warning(
        "Raw export '%s': %d malformed line(s) set aside for quarantine (%s%s)",
        where,
        len(rows),
        shown,
        "; ..." if len(rows) > 5 else "",
    )
    merged = pd.concat([frame, pd.DataFrame(rows, columns=frame.columns)], ignore_index=True)
    return merged.sort_values(LINE, kind="stable").reset_index(drop=True)


def check_raw_columns(data: pd.DataFrame, where: str, has_rows: bool = True) -> None:
    """Raise a clear error when ``data`` cannot be the Paris export.

    Args:
        data: The frame as read with ``sep=';'``.
        where: The file it came from, for the message.
        has_rows: False to accept a frame without rows (its lines may all be malformed).

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
    if has_rows and data.empty:
        raise DatasetError(f"Raw export '{where}' has a header but no rows.")
