"""CSV text checked line by line before pandas parses it, and CSV cells made safe for people.

pandas guesses: a data row with one field more than the header makes the first column an
index and shifts every column by one; a line of a million fields is parsed as such.
:func:`read_checked` never lets it guess:

* every line is measured first: a line longer than ``max_line_chars`` or whose number of
  fields differs from the header's is set aside as *malformed*, with its line number and
  why, and never reaches pandas (the raw export sends them to quarantine, the app's
  Batch page lists them as refused);
* a separator that ends every line (header included, or data lines only) is an empty
  last field, not a column: it is dropped;
* what remains is parsed with ``index_col=False``, every column as text, and each row
  keeps the line it came from (blank lines are skipped and counted).

:func:`escape_formulas` prefixes with ``'`` the text cells that a spreadsheet would run
as a formula (``=``, ``+``, ``-``, ``@``, tab or carriage return first, not a number), for
every CSV written for people: the quarantine tables and the app's downloads.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: How much of a malformed line is kept to show (characters).
SHOWN_CHARS = 200
#: Lines parsed at once by :func:`read_checked_lines` (memory: one chunk of text).
CHUNK_LINES = 200_000
#: The first characters that make a spreadsheet cell a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class CheckedCsv:
    """A CSV text split into its well-formed rows and its malformed lines.

    Attributes:
        frame: The well-formed rows, every column as text, in the file's order.
        lines: The line in the file of each row of ``frame`` (the header's is given by
            ``header_line``; the first line is 1).
        malformed: ``line``, ``fields`` (None for an over-long line), ``problem`` and
            ``text`` (its first :data:`SHOWN_CHARS` characters), one row per line set aside.
        header_line: The line of the header.
    """

    frame: pd.DataFrame
    lines: np.ndarray
    malformed: pd.DataFrame
    header_line: int


def split_fields(line: str, sep: str) -> list[str]:
    """The fields of one CSV line (quotes honoured)."""
    return next(csv.reader([line], delimiter=sep), [])


def _count(line: str, sep: str) -> int:
    """The number of fields of a line (quotes honoured when there are any)."""
    return len(split_fields(line, sep)) if '"' in line else line.count(sep) + 1


def read_checked(text: str, sep: str, max_line_chars: int) -> CheckedCsv:
    """:func:`read_checked_lines` on a decoded text (an upload)."""
    return read_checked_lines(iter(text.splitlines()), sep, max_line_chars)


def _parse(kept: list[str], sep: str, names: list[str] | None) -> pd.DataFrame:
    """Well-formed lines as text columns (the header first when ``names`` is None)."""
    return pd.read_csv(
        io.StringIO("\n".join(kept)),
        sep=sep,
        dtype=str,
        keep_default_na=False,
        index_col=False,
        skip_blank_lines=False,
        quoting=csv.QUOTE_MINIMAL,
        header=0 if names is None else None,
        names=names,
    )


def read_checked_lines(
    lines: Iterator[str], sep: str, max_line_chars: int, chunk_lines: int = CHUNK_LINES
) -> CheckedCsv:
    """Split lines into well-formed rows (parsed) and malformed lines (set aside).

    The lines are read once, in chunks of ``chunk_lines``: memory holds the rows parsed
    so far and one chunk of text, whatever the size of the file.

    Args:
        lines: The file's lines, decoded, without their line ends.
        sep: The separator.
        max_line_chars: The longest line accepted (longer ones are malformed, unread).
        chunk_lines: How many lines are parsed at once.

    Returns:
        The :class:`CheckedCsv`. ``frame`` is empty (with the header's columns) when no
        line is well-formed.

    Raises:
        ValueError: When there is no header line, the header is longer than
            ``max_line_chars``, or a quoted field spans lines.
    """
    number, header = 0, None
    for number, candidate in enumerate(lines, start=1):  # noqa: B007  (number is used below)
        if candidate.strip():
            header = candidate
            break
    if header is None:
        raise ValueError("no header line")
    header_line = number
    if len(header) > max_line_chars:
        raise ValueError(
            f"its header (line {header_line}) has {len(header):,} characters; the limit is "
            f"{max_line_chars:,}"
        )
    names = split_fields(header, sep)
    if len(names) > 1 and not names[-1].strip():  # "a;b;c;": a trailing separator
        header = header.rstrip()[: -len(sep)]
        names = names[:-1]
    width = len(names)
    frames: list[pd.DataFrame] = []
    columns: list[str] | None = None
    kept, chunk_numbers, numbers, malformed = [header], [], [], []

    def flush() -> None:
        nonlocal columns, kept, chunk_numbers
        if columns is None:  # the first chunk carries the header: pandas names the columns
            frame = _parse(kept, sep, None)
            columns = [str(c) for c in frame.columns]
        elif chunk_numbers:
            frame = _parse(kept, sep, columns)
        else:
            frame = None
        if frame is not None:
            if len(frame) != len(chunk_numbers):  # a quoted field spanning lines
                raise ValueError(
                    f"{len(chunk_numbers)} lines made {len(frame)} rows: a quoted field spans lines"
                )
            frames.append(frame)
        numbers.extend(chunk_numbers)
        kept, chunk_numbers = [], []

    for number, raw in enumerate(lines, start=header_line + 1):
        if not raw.strip():
            continue
        if len(raw) > max_line_chars:
            problem = f"{len(raw):,} characters: the limit is {max_line_chars:,}"
            malformed.append((number, None, problem, raw[:SHOWN_CHARS]))
            continue
        line, count = raw, _count(raw, sep)
        if count == width + 1 and raw.rstrip().endswith(sep):
            line, count = raw.rstrip()[: -len(sep)], width
        if count != width:
            problem = f"{count} fields: the header has {width}"
            malformed.append((number, count, problem, raw[:SHOWN_CHARS]))
            continue
        kept.append(line)
        chunk_numbers.append(number)
        if len(chunk_numbers) >= chunk_lines:
            flush()
    flush()
    frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return CheckedCsv(
        frame=frame,
        lines=np.asarray(numbers, dtype=np.int64),
        malformed=pd.DataFrame(malformed, columns=["line", "fields", "problem", "text"]),
        header_line=header_line,
    )


def _looks_like_formula(value: object) -> bool:
    if not isinstance(value, str) or not value.startswith(FORMULA_START):
        return False
    try:
        float(value)
    except ValueError:
        return True
    return False  # "-5", "+3.2": a number, not a formula


def escape_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with every text cell a spreadsheet would run as a formula prefixed by ``'``.

    Numbers written with a sign (``-5``) are left as they are.
    """
    escaped = {}
    for column in frame.columns:
        values = frame[column]
        if values.dtype != object and not isinstance(values.dtype, pd.StringDtype):
            continue
        risky = values.map(_looks_like_formula).astype(bool)
        if risky.any():
            escaped[column] = values.where(~risky, "'" + values.astype(str))
    return frame.assign(**escaped) if escaped else frame
