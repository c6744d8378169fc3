"""Hostile CSV files: read (or refused) in seconds per MB, with bounded memory.

Each case is written into a temporary folder, then read the way the project reads it:
the raw export through ``RawExportDataset`` (what ``data_cleaning`` loads), an upload
through ``bike_traffic.serving.uploads.read_upload`` (the app's Batch page). Each is
timed, and its peak Python memory measured with ``tracemalloc``.

    python scripts/bench_hostile_csv.py                 # prints the figures
    python scripts/bench_hostile_csv.py --write-docs    # and writes docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from script_support import ROOT, machine, markdown_table, replace_section  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench:hostile:start -->", "<!-- bench:hostile:end -->"
HEADER = (
    "Identifiant du compteur;Nom du compteur;Identifiant du site de comptage;"
    "Nom du site de comptage;Comptage horaire;Date et heure de comptage;"
    "Date d'installation du site de comptage;Lien vers photo du site de comptage;"
    "Coordonnées géographiques;Identifiant technique compteur;ID Photos;"
    "test_lien_vers_photos_du_site_de_comptage_;id_photo_1;url_sites;type_dimage;"
    "mois_annee_comptage"
)


def _row(i: int) -> str:
    hour = i % 24
    return (
        f"100003096-353242251;97 avenue Denfert Rochereau SO-NE;100003096;"
        f"97 avenue Denfert Rochereau;{i % 97};2021-09-01T{hour:02d}:00:00+02:00;2012-02-22;"
        "https://example.org/p.jpg;48.83504,2.33314;X2H20012081;;;;;jpg;2021-09"
    )


def _export(path: Path, megabytes: float, edit=None) -> Path:
    """A raw export of about ``megabytes`` MB, its lines edited by ``edit``."""
    line = _row(0)
    rows = int(megabytes * 1e6 / (len(line) + 1))
    lines = [HEADER, *(_row(i) for i in range(rows))]
    if edit is not None:
        lines = edit(lines)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


CASES = {
    "raw export, 30 MB, sound": (30, None),
    "raw export, 30 MB, a ';' ending every line": (30, lambda ls: [x + ";" for x in ls]),
    "raw export, 30 MB, one 1,000,000-character line": (
        30,
        lambda ls: [*ls[:1000], ";" * 1_000_000, *ls[1000:]],
    ),
    "raw export, 30 MB, one extra field on the first data row": (
        30,
        lambda ls: [ls[0], ls[1] + ";extra", *ls[2:]],
    ),
}


def measure(work, size_mb: float) -> dict:
    tracemalloc.start()
    started = time.perf_counter()
    outcome = work()
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "seconds": seconds,
        "per_mb": seconds / size_mb,
        "peak_mb": peak / 1e6,
        "outcome": outcome,
    }


def run() -> list[tuple[str, float, dict]]:
    from bike_traffic.datasets.raw_export import RawExportDataset
    from bike_traffic.raw_format import MALFORMED
    from bike_traffic.serving import uploads

    results = []
    with tempfile.TemporaryDirectory(prefix="bench-hostile-") as tmp:
        for number, (name, (megabytes, edit)) in enumerate(CASES.items()):
            path = _export(Path(tmp) / f"case{number}.csv", megabytes, edit)
            size = path.stat().st_size / 1e6

            def load(path=path) -> str:
                frame = RawExportDataset(filepath=str(path)).load()
                bad = int((frame[MALFORMED] != "").sum())
                return f"{len(frame):,} rows, {bad} malformed"

            results.append((name, size, measure(load, size)))
        wide = Path(tmp) / "wide.csv"
        _export(wide, 0.3, lambda ls: [*ls[:10], ";" * 300_000, *ls[10:]])
        data = wide.read_bytes()

        def upload() -> str:
            read = uploads.read_upload("wide.csv", data, 50, 1_000_000)
            return f"{len(read.frame):,} rows, {len(read.malformed)} refused unread"

        size = len(data) / 1e6
        results.append(("upload, 0.6 MB, one 300,000-character row", size, measure(upload, size)))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args(argv)
    results = run()
    rows = []
    for name, size, figures in results:
        print(
            f"{name}: {size:.1f} MB in {figures['seconds']:.2f} s "
            f"({figures['per_mb']:.3f} s/MB), peak {figures['peak_mb']:.0f} MB: "
            f"{figures['outcome']}",
            flush=True,
        )
        rows.append(
            [
                name,
                f"{size:.1f}",
                f"{figures['seconds']:.2f}",
                f"{figures['per_mb']:.3f}",
                f"{figures['peak_mb']:.0f}",
                figures["outcome"],
            ]
        )
    worst = max(figures["per_mb"] for _, _, figures in results)
    if args.write_docs:
        text = "\n".join(
            [
                START,
                "## Hostile CSV files (raw export and uploads)",
                "",
                "Command: `.venv/bin/python scripts/bench_hostile_csv.py --write-docs`  ",
                f"Date: {time.strftime('%Y-%m-%d')}  ",
                f"Machine: {machine()}",
                "",
                "Each file read the way the project reads it (`RawExportDataset.load`, the "
                "app's `read_upload`); peak Python memory by `tracemalloc`. Lines that do not "
                "split into the header's fields, or longer than 4,096 characters, are set "
                "aside unread (bike_traffic.csv_text).",
                "",
                markdown_table("file|MB|seconds|s per MB|peak MB|outcome", rows),
                "The raw export is read in 16 MB blocks and parsed 200,000 lines at a time, "
                "so memory holds the rows read and one block, whatever the file; peak memory "
                "is the text table itself (about 6.5 times the file).",
                "",
                f"Target: a few seconds per MB; worst measured {worst:.3f} s/MB.",
                END,
            ]
        )
        replace_section(DOC, START, END, text)
        print(f"wrote {DOC}")
    return 0 if worst < 2.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
