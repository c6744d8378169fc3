"""Convert the real Paris counts (parquet, English columns) into the raw export format.

The reference parquet ``../shared/data/paris_counts_2020-09_2021-08.parquet`` (City of
Paris, ODbL: "Real data: Ville de Paris") holds real hourly counts of 52 counters with
English column names and naive UTC timestamps. This script writes them as the portal's
raw export, the file ``data_cleaning`` ingests:

* ``;``-separated UTF-8 CSV with the 16 French headers of
  :data:`bike_traffic.raw_format.RAW_COLUMNS`, in that order;
* timestamps converted from UTC to Europe/Paris and written with their offset
  (``2021-03-28T03:00:00+02:00``);
* coordinates as one ``lat,lon`` string, installation date as ``YYYY-MM-DD``;
* the six photo/URL columns empty, ``mois_annee_comptage`` as ``YYYY-MM`` (local time);
* counts written as they are (the parquet's floats, ``3.0``, as the portal writes them).

Run from the project root::

    .venv/bin/python scripts/real_to_raw_export.py            # where conf/real reads it
    .venv/bin/python scripts/real_to_raw_export.py --input PATH --output PATH
    .venv/bin/python scripts/real_to_raw_export.py --check   # and check the round trip

``--check`` runs the ``data_cleaning`` pipeline up to ``clean_counts`` on the written
file (a slice on Kedro's ``SequentialRunner``, the file read by ``RawExportDataset``) and
checks: same rows, none quarantined, same total count and the same instants as the
parquet (exit status 1 otherwise).

The output goes where the ``real`` environment's catalog reads it (``conf/real/globals.yml``:
``data/real/01_raw/``, git-ignored): the real data is never committed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from script_support import ROOT, config, raw_file, run_slice  # noqa: E402

from bike_traffic.calendar import PARIS_TZ  # noqa: E402
from bike_traffic.datasets.raw_export import RawExportDataset  # noqa: E402
from bike_traffic.raw_format import RAW_COLUMNS  # noqa: E402

DEFAULT_INPUT = ROOT.parent / "shared" / "data" / "paris_counts_2020-09_2021-08.parquet"
#: The Kedro environment whose catalog reads the converted export.
ENV = "real"

#: Parquet columns the conversion needs.
INPUT_COLUMNS = (
    "counter_id",
    "counter_name",
    "site_id",
    "site_name",
    "bike_count",
    "date",
    "counter_installation_date",
    "counter_technical_id",
    "latitude",
    "longitude",
)


def _text(values: pd.Series) -> pd.Series:
    """Values as plain strings (categories and numbers alike), missing ones empty."""
    return values.astype("object").astype("string").fillna("")


def _iso_with_offset(local: pd.Series) -> pd.Series:
    """``2021-03-28T03:00:00+02:00`` for tz-aware timestamps (``%z`` gives ``+0200``)."""
    stamp = local.dt.strftime("%Y-%m-%dT%H:%M:%S%z")
    return stamp.str[:-2] + ":" + stamp.str[-2:]


def _coordinate(values: pd.Series) -> pd.Series:
    """Coordinates as the shortest exact decimal text (``48.846028``)."""
    return pd.Series([repr(float(v)) for v in values], index=values.index, dtype="string")


def to_raw_export(real: pd.DataFrame) -> pd.DataFrame:
    """Map the real parquet's rows onto the raw export's 16 columns.

    Args:
        real: The parquet's rows (columns of :data:`INPUT_COLUMNS`; ``date`` naive UTC).

    Returns:
        One text column per header of :data:`RAW_COLUMNS`, in that order, row for row.

    Raises:
        ValueError: When a needed column is missing.
    """
    missing = [c for c in INPUT_COLUMNS if c not in real.columns]
    if missing:
        raise ValueError(f"Input lacks column(s) {missing}; expected {list(INPUT_COLUMNS)}")
    stamps = pd.to_datetime(real["date"])
    local = (
        stamps.dt.tz_localize("UTC") if stamps.dt.tz is None else stamps.dt.tz_convert("UTC")
    ).dt.tz_convert(PARIS_TZ)
    installed = pd.to_datetime(real["counter_installation_date"]).dt.strftime("%Y-%m-%d")
    empty = pd.Series("", index=real.index, dtype="string")
    columns = {
        "Identifiant du compteur": _text(real["counter_id"]),
        "Nom du compteur": _text(real["counter_name"]),
        "Identifiant du site de comptage": _text(real["site_id"]),
        "Nom du site de comptage": _text(real["site_name"]),
        "Comptage horaire": _text(real["bike_count"]),
        "Date et heure de comptage": _iso_with_offset(local),
        "Date d'installation du site de comptage": installed.astype("string").fillna(""),
        "Lien vers photo du site de comptage": empty,
        "Coordonnées géographiques": _coordinate(real["latitude"])
        + ","
        + _coordinate(real["longitude"]),
        "Identifiant technique compteur": _text(real["counter_technical_id"]),
        "ID Photos": empty,
        "test_lien_vers_photos_du_site_de_comptage_": empty,
        "id_photo_1": empty,
        "url_sites": empty,
        "type_dimage": empty,
        "mois_annee_comptage": local.dt.strftime("%Y-%m").astype("string"),
    }
    frame = pd.DataFrame(columns, index=real.index)[list(RAW_COLUMNS)]
    return frame.reset_index(drop=True)


def convert(source: Path, target: Path) -> int:
    """Read the parquet at ``source``, write the raw export at ``target``.

    Args:
        source: The real parquet.
        target: The CSV to write (folders created).

    Returns:
        The number of rows written.
    """
    real = pd.read_parquet(source, columns=list(INPUT_COLUMNS))
    # Rows in the export's usual order: counter, then time.
    real = real.sort_values(["counter_name", "date"], kind="stable")
    raw = to_raw_export(real)
    target.parent.mkdir(parents=True, exist_ok=True)
    RawExportDataset(filepath=str(target)).save(raw)
    return len(raw)


def check_round_trip(source: Path, target: Path) -> list[str]:
    """Load ``target`` as ``data_cleaning`` does and compare it with ``source``.

    Args:
        source: The real parquet.
        target: The raw export written from it.

    Returns:
        The problems found (empty when the round trip is exact).
    """
    from bike_traffic.pipelines.data_cleaning import create_pipeline

    real = pd.read_parquet(source, columns=["bike_count", "date"])
    out = run_slice(
        create_pipeline().to_outputs("clean_counts", "quarantine_summary"),
        {"raw_counts": RawExportDataset(filepath=str(target))},
        config(ENV)["parameters"],
    )
    features, summary = out["clean_counts"], out["quarantine_summary"]
    problems = []
    if len(features) != len(real):
        problems.append(f"{len(features):,} clean rows for {len(real):,} in the parquet")
    if summary["rows_quarantined"]:
        problems.append(f"{summary['rows_quarantined']:,} rows quarantined: {summary['by_reason']}")
    total, expected = features["comptage_horaire"].sum(), real["bike_count"].sum()
    if total != expected:
        problems.append(f"total count {total:,.0f} instead of {expected:,.0f}")
    written = features["date_et_heure_de_comptage"].dt.tz_convert("UTC").dt.tz_localize(None)
    if not written.sort_values().to_numpy().astype("datetime64[s]").tolist() == (
        real["date"].sort_values().to_numpy().astype("datetime64[s]").tolist()
    ):
        problems.append("timestamps differ from the parquet's (UTC)")
    print(
        f"Round trip: {len(features):,} clean rows, {summary['rows_quarantined']} quarantined, "
        f"total count {total:,.0f} (parquet {expected:,.0f})."
    )
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--input", type=Path, default=DEFAULT_INPUT, help="real parquet (default: %(default)s)"
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=None,
        help=f"raw export to write (default: where conf/{ENV} reads it, data/real/01_raw/)",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="clean the output with the data_cleaning pipeline and compare",
    )
    args = parser.parse_args(argv)
    if not args.input.is_file():
        print(
            f"Input not found: {args.input}\n"
            "The real Paris counts are read from ../shared/data/ (next to the project); "
            "pass --input PATH to point elsewhere.",
            file=sys.stderr,
        )
        return 2
    args.output = args.output or raw_file(ENV)
    start = time.perf_counter()
    rows = convert(args.input, args.output)
    size = args.output.stat().st_size / 1e6
    print(
        f"Wrote {rows:,} rows ({size:.1f} MB) to {args.output} "
        f"in {time.perf_counter() - start:.1f} s. Real data: Ville de Paris (ODbL)."
    )
    if args.check:
        problems = check_round_trip(args.input, args.output)
        for problem in problems:
            print(f"Round trip FAILED: {problem}", file=sys.stderr)
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
