"""How well data_cleaning finds counters that are down: generated truth, and the real year.

1. **Generated data** (the default preset, or ``--params``): the ``synthetic_raw`` slice
   knows which hours it zeroed (``synthetic_hourly_counts.outage``); the ``data_cleaning``
   slice flags hours (:mod:`bike_traffic.outages`). Precision and recall on hours.
2. **The real year** (``data/real/01_raw``, from ``scripts/real_to_raw_export.py``, when
   present): the outages the cleaning slice flags, per counter, with their dates.

    python scripts/outage_quality.py                 # prints the figures
    python scripts/outage_quality.py --write-docs    # and writes docs/outages.md
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from script_support import (  # noqa: E402
    ROOT,
    config,
    machine,
    markdown_table,
    parse_params,
    raw_file,
    replace_section,
    run_slice,
)

DOC = ROOT / "docs" / "outages.md"
START, END = "<!-- outages:start -->", "<!-- outages:end -->"
TRUTH = ("synthetic_hourly_counts", "synthetic_counters", "synthetic_calendar")


def generated(params: dict) -> dict:
    """Flagged hours against the generator's own outages."""
    from bike_traffic.outages import precision_recall
    from bike_traffic.pipelines.data_cleaning import create_pipeline as cleaning
    from bike_traffic.pipelines.synthetic_raw import create_pipeline as generator

    started = time.perf_counter()
    made = run_slice(generator(), {}, params, keep=(*TRUTH, "raw_weather", "raw_school_calendar"))
    inputs = {k: made[k] for k in ("raw_counts", "raw_weather", "raw_school_calendar")}
    clean = run_slice(cleaning().to_outputs("clean_counts"), inputs, params, keep=("clean_counts",))
    clean = clean["clean_counts"]
    counts, counters, calendar = (made[k] for k in TRUTH)
    truth = pd.DataFrame(
        {
            "nom_du_compteur": counters["counter_name"].to_numpy()[counts["counter_index"]],
            "date_et_heure_de_comptage": calendar["ts_local"].array.take(
                counts["hour_index"].to_numpy()
            ),
            "truth": counts["outage"].to_numpy(),
            "fault": counts["fault"].astype(str).to_numpy(),
        }
    )
    joined = clean.merge(truth, on=["nom_du_compteur", "date_et_heure_de_comptage"], how="left")
    matched = joined["truth"].notna()
    precision, recall = precision_recall(joined["outage"], joined["truth"].fillna(False))
    by_reason = joined.loc[joined["outage"], "outage_reason"].value_counts().to_dict()
    # recall per kind of simulated fault: runs of zeros, days counting wrong
    recall_by_fault = {
        kind: float(joined.loc[joined["fault"] == kind, "outage"].mean())
        for kind in ("zero", "level_shift")
        if (joined["fault"] == kind).any()
    }
    return {
        "recall_by_fault": recall_by_fault,
        "rows": len(clean),
        "matched": int(matched.sum()),
        "outage_hours": int(joined["truth"].fillna(False).sum()),
        "flagged": int(joined["outage"].sum()),
        "precision": precision,
        "recall": recall,
        "by_reason": by_reason,
        "seconds": time.perf_counter() - started,
    }


def real_year() -> pd.DataFrame | None:
    """The outages ``data_cleaning`` flags on the real year, one row per run of flagged hours.

    The ``real`` environment's own inputs (``data/real/01_raw``, written by
    ``scripts/real_to_raw_export.py``) through the cleaning slice, as ``kedro run --env
    real`` reads them.
    """
    from bike_traffic.outages import outage_periods
    from bike_traffic.pipelines.data_cleaning import create_pipeline as cleaning
    from bike_traffic.project import open_catalog

    if not raw_file("real").exists():
        return None
    catalog, params = open_catalog(ROOT, "real")
    inputs = {k: catalog.load(k) for k in ("raw_counts", "raw_weather", "raw_school_calendar")}
    frame = run_slice(
        cleaning().to_outputs("clean_counts"), inputs, params, keep=("clean_counts",)
    )["clean_counts"]
    return outage_periods(frame).sort_values("hours", ascending=False, kind="stable")


def report(figures: dict, real: pd.DataFrame | None, command: str) -> str:
    """The docs/outages.md section."""
    lines = [
        START,
        f"Command: `{command}`  ",
        f"Date: {time.strftime('%Y-%m-%d')}  ",
        f"Machine: {machine()}",
        "",
        "**Generated data** (the default preset): hours the generator zeroed or made count "
        "wrong (level-shift faults) against hours `data_cleaning` flagged.",
        "",
        markdown_table(
            "rows|outage hours (truth)|hours flagged|precision|recall",
            [
                [
                    f"{figures['rows']:,}",
                    f"{figures['outage_hours']:,}",
                    f"{figures['flagged']:,}",
                    f"{figures['precision']:.3f}",
                    f"{figures['recall']:.3f}",
                ]
            ],
        ),
        "",
        f"Flagged by rule: {figures['by_reason']}. Recall by simulated fault: "
        + ", ".join(f"{k} {v:.3f}" for k, v in figures["recall_by_fault"].items())
        + ".",
        "",
    ]
    if real is None:
        lines.append(
            "The real year is not here (`scripts/real_to_raw_export.py` writes it): not measured."
        )
    else:
        lines += [
            f"**The real year** (52 counters, 2020-09 to 2021-08): {len(real)} runs of flagged "
            f"hours, {int(real['hours'].sum()):,} hours in all; the 15 longest:",
            "",
            markdown_table(
                "counter|rule|first hour|last hour|hours",
                [
                    [r.counter, r.reason, str(r.first)[:16], str(r.last)[:16], f"{r.hours:,}"]
                    for r in real.head(15).itertuples()
                ],
            ),
        ]
    lines.append(END)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--params", action="append", default=[], help="as kedro run --params")
    parser.add_argument("--write-docs", action="store_true", help="write docs/outages.md")
    args = parser.parse_args(argv)
    params = config(runtime_params=parse_params(args.params))["parameters"]
    figures = generated(params)
    print(
        f"generated: {figures['outage_hours']:,} outage hours, {figures['flagged']:,} flagged, "
        f"precision {figures['precision']:.3f}, recall {figures['recall']:.3f} "
        f"(by fault: {figures['recall_by_fault']}; by rule: {figures['by_reason']}) "
        f"({figures['seconds']:.0f} s)",
        flush=True,
    )
    real = real_year()
    if real is not None:
        print(f"real year: {len(real)} runs, {int(real['hours'].sum()):,} hours flagged")
        print(real.head(15).to_string(index=False))
    if args.write_docs:
        command = "python scripts/outage_quality.py --write-docs"
        replace_section(DOC, START, END, report(figures, real, command))
        print(f"wrote {DOC}")
    met = figures["precision"] >= 0.9 and figures["recall"] >= 0.9
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
