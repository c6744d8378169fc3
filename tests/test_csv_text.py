"""CSV lines checked before pandas parses them, whatever the chunk or block boundaries."""

from __future__ import annotations

import pandas as pd
import pytest
from kedro.io.core import DatasetError

from bike_traffic.csv_text import escape_formulas, read_checked, read_checked_lines
from bike_traffic.datasets import raw_export

TEXT = "\n".join(
    [
        "a;b;c",
        "1;2;3",
        "4;5",  # too few fields
        "",  # a blank line: skipped, numbers stay the file's
        "6;7;8;",  # a trailing separator: read as the header's fields
        '"9;x";10;11',  # a quoted separator
        "12;13;14;15",  # too many
        "16;17;18",
    ]
)


@pytest.mark.parametrize("chunk", [1, 2, 3, 1000])
def test_chunks_give_the_same_rows_lines_and_refusals(chunk):
    checked = read_checked_lines(iter(TEXT.split("\n")), ";", 100, chunk_lines=chunk)
    assert checked.frame.to_dict("records") == [
        {"a": "1", "b": "2", "c": "3"},
        {"a": "6", "b": "7", "c": "8"},
        {"a": "9;x", "b": "10", "c": "11"},
        {"a": "16", "b": "17", "c": "18"},
    ]
    assert checked.lines.tolist() == [2, 5, 6, 8]
    assert checked.malformed[["line", "problem"]].to_dict("records") == [
        {"line": 3, "problem": "2 fields: the header has 3"},
        {"line": 7, "problem": "4 fields: the header has 3"},
    ]


def test_a_header_only_text_has_its_columns_and_no_row():
    checked = read_checked("a;b;c\n", ";", 100)
    assert list(checked.frame.columns) == ["a", "b", "c"] and checked.frame.empty


def test_the_bad_byte_is_named_across_blocks(tmp_path, monkeypatch, small_raw):
    monkeypatch.setattr(raw_export, "BLOCK_BYTES", 1000)  # many blocks
    path = tmp_path / "export.csv"
    small_raw.head(200).to_csv(path, sep=";", index=False, encoding="utf-8")
    data = bytearray(path.read_bytes())
    where = 23_456 if len(data) > 23_456 else len(data) // 2
    data[where] = 0xFF
    path.write_bytes(bytes(data))
    line = data[:where].count(b"\n") + 1
    with pytest.raises(DatasetError, match=rf"byte {where} \(line {line}\) is b'\\xff'"):
        raw_export.RawExportDataset(filepath=str(path)).load()
    # and a sound file reads the same in small blocks as in one
    small_raw.head(200).to_csv(path, sep=";", index=False, encoding="utf-8")
    loaded = raw_export.RawExportDataset(filepath=str(path)).load()
    pd.testing.assert_frame_equal(
        loaded.drop(columns=["_line", "_malformed"]), small_raw.head(200).reset_index(drop=True)
    )


def test_formula_escaping_leaves_numbers_and_other_types_alone():
    table = pd.DataFrame({"text": ["=1+1", "-4", "@x", "plain"], "number": [1, -2, 3, 4]})
    escaped = escape_formulas(table)
    assert escaped["text"].tolist() == ["'=1+1", "-4", "'@x", "plain"]
    assert escaped["number"].tolist() == [1, -2, 3, 4]
