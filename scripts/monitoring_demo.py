"""The monitor-and-retrain loop end to end, without and with an injected shift.

On a generated year of counts (a smaller preset than the default: ``--sites``), in a
scratch copy of the project's configuration (data, MLflow store, Airflow home; the
checkout is not touched), with the committed DAG pointed at it by ``KEDRO_PROJECT_PATH``:

1. generate, clean, train the champions (``rf``, ``nn``, ``affluence_classifier``);
2. ``kedro run --pipelines monitoring`` on the unshifted data, then the committed Airflow
   DAG with ``airflow dags test`` (its tasks run ``kedro`` from ``.venv``);
3. regenerate the same year with a month of strikes (every counter's traffic x1.8 in
   March 2025, the recent window), clean, and run monitoring and the DAG again;
4. move the split as a fresher export would (test from 2025-03-15: the first half of
   the strike is training data), let challengers learn from the last 28 days of it
   (``retrain.data.history_days``, in the copy's ``conf/local``) and run monitoring and
   the DAG once more.

It prints the decisions, the DAG's task states and the registry entries, and with
``--write-docs`` rewrites the section between ``<!-- demo:monitoring:start -->`` and
``<!-- demo:monitoring:end -->`` of docs/monitoring.md. Needs ``make install`` and
``make airflow-venv``.

    .venv/bin/python scripts/monitoring_demo.py --write-docs
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
KEDRO = Path(sys.prefix) / "bin" / "kedro"
AIRFLOW = Path(os.environ.get("BIKE_TRAFFIC_AIRFLOW_VENV") or PROJECT / ".venv-airflow")
DAG_ID = "bike_traffic_weekly_monitoring"
DOC = PROJECT / "docs" / "monitoring.md"
START, END = "<!-- demo:monitoring:start -->", "<!-- demo:monitoring:end -->"
STRIKE = (
    "synthetic_raw.shift.start=2025-03-01,synthetic_raw.shift.days=31,"
    "synthetic_raw.shift.counter_share=1.0,synthetic_raw.shift.factor=1.8"
)
MOVED_SPLIT = "2025-03-15"
HISTORY_DAYS = 28
TASKS = [
    "monitoring",
    "check_decision",
    "retrain_affluence_classifier",
    "retrain_nn",
    "retrain_rf",
    "registry",
]


class Demo:
    """Runs the steps in a scratch folder and keeps what they showed."""

    def __init__(self, scratch: Path, sites: int) -> None:
        self.scratch = scratch
        self.sites = sites
        self.project = scratch / "project"
        self.project.mkdir(parents=True, exist_ok=True)
        shutil.copy(PROJECT / "pyproject.toml", self.project)
        shutil.copytree(
            PROJECT / "conf", self.project / "conf", ignore=shutil.ignore_patterns("local")
        )
        (self.project / "conf" / "local").mkdir(exist_ok=True)
        (self.project / "src").mkdir(exist_ok=True)  # the package comes from .venv
        self.steps: list[tuple[str, float]] = []
        self.env = {
            **os.environ,
            "KEDRO_DISABLE_TELEMETRY": "true",
            "DO_NOT_TRACK": "true",
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "BIKE_TRAFFIC_DATA_ROOT": str(scratch / "data"),
            "MLFLOW_TRACKING_URI": f"sqlite:///{scratch / 'mlflow.db'}",
            "MLFLOW_ARTIFACT_LOCATION": str(scratch / "mlartifacts"),
            "AIRFLOW_HOME": str(scratch / "airflow"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT / "airflow" / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "KEDRO_PROJECT_PATH": str(self.project),
            "BIKE_TRAFFIC_VENV": sys.prefix,
        }
        for layer in ("01_raw", "02_intermediate", "04_feature", "05_model_input", "06_models"):
            (scratch / "data" / layer).mkdir(parents=True, exist_ok=True)
        (scratch / "data" / "07_model_output").mkdir(exist_ok=True)
        (scratch / "data" / "08_reporting").mkdir(exist_ok=True)

    def step(self, label: str, command: list[str], ok_codes: tuple[int, ...] = (0,)) -> None:
        started = time.perf_counter()
        out = subprocess.run(
            command, cwd=self.project, env=self.env, capture_output=True, text=True, check=False
        )
        elapsed = time.perf_counter() - started
        if out.returncode not in ok_codes:
            sys.stderr.write(out.stdout[-4000:] + out.stderr[-4000:])
            raise SystemExit(f"{label} failed ({out.returncode}): {' '.join(command)}")
        self.steps.append((label, elapsed))
        print(f"{elapsed:7.1f} s  {label}")

    def kedro(self, label: str, *args: str) -> None:
        self.step(label, [str(KEDRO), "run", *args])

    def decision(self) -> dict:
        path = self.scratch / "data/08_reporting/monitoring/decision.json"
        return json.loads(path.read_text())

    def summary(self) -> list[dict]:
        return json.loads((self.scratch / "data/06_models/summary.json").read_text())

    def dag_states(self) -> dict[str, str]:
        with closing(sqlite3.connect(self.scratch / "airflow" / "airflow.db")) as db:
            return dict(
                db.execute(
                    "SELECT task_id, state FROM task_instance WHERE run_id = "
                    "(SELECT run_id FROM dag_run ORDER BY logical_date DESC LIMIT 1)"
                ).fetchall()
            )


def scenario(demo: Demo, name: str, logical_date: str) -> dict:
    demo.kedro(f"{name}: kedro run --pipelines monitoring", "--pipelines", "monitoring")
    direct = demo.decision()
    before = len(demo.summary())
    demo.step(
        f"{name}: airflow dags test {DAG_ID} {logical_date}",
        [str(AIRFLOW / "bin" / "airflow"), "dags", "test", DAG_ID, logical_date],
    )
    return {"decision": direct, "states": demo.dag_states(), "entries": demo.summary()[before:]}


def entry_line(e: dict) -> str:
    kind = e["entry_type"]
    if kind == "drift":
        return f"drift: **{e['decision']}** ({'; '.join(e['reasons'])})"
    if kind == "model":
        score = f"RMSE {e['rmse']:.1f}" if "rmse" in e else f"F1 {e.get('f1_score', 0):.3f}"
        return f"model: {e['model_type']} v{e['version']} ({score})"
    if kind == "decision":
        reasons = "; ".join(e["reasons"])
        return f"decision: {e['model_type']} v{e['version']} **{e['outcome']}** ({reasons})"
    if kind == "rescore":
        metrics = e.get("metrics") or {}
        score = (
            f"RMSE {metrics['rmse']:.1f}" if "rmse" in metrics else f"F1 {metrics['f1_score']:.3f}"
        )
        return f"rescore: champion {e['model_type']} v{e['version']} on today's test set ({score})"
    return kind


def section(demo: Demo, rows: int, results: dict[str, dict]) -> str:
    lines = [
        START,
        "## Demo: the loop on generated data, without and with a month of strikes",
        "",
        f"- Run on {datetime.now(UTC):%Y-%m-%d}: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}.",
        "- Data: a generated year (2024-04-01 to 2025-03-31), "
        f"`synthetic_raw.n_sites={demo.sites}`: "
        f"{rows:,} clean rows; base parameters otherwise (models as `kedro run` trains them).",
        "- Shift: the same year regenerated with `--params "
        f'"{STRIKE}"` (every counter x1.8 in March 2025, the recent window).',
        "- Command: `.venv/bin/python scripts/monitoring_demo.py --write-docs` (a scratch "
        "copy of conf/ for data, MLflow and Airflow; the committed DAG of `airflow/dags/` "
        "with `KEDRO_PROJECT_PATH` pointing at the copy).",
        f"- Then the split moved: `data_cleaning.split.test_start={MOVED_SPLIT}`, as a "
        "fresher export moves it (the last 20% of a longer period): the first half of the "
        "strike month becomes training data, the second half the test set; and "
        f"`retrain.data.history_days: {HISTORY_DAYS}` (conf/local): challengers learn from "
        "the latest four weeks of train_baseline.",
        "",
        "| step | time (s) |",
        "| --- | ---: |",
        *[f"| {label} | {elapsed:.1f} |" for label, elapsed in demo.steps],
        "",
    ]
    for name, result in results.items():
        decision = result["decision"]
        drifted = ", ".join(decision["drifted_features"]) or "none"
        lines += [
            f"### {name}",
            "",
            f"`kedro run --pipelines monitoring`: **{decision['decision']}**, drift share "
            f"{decision['drift_share']:.2f} (drifted: {drifted}).",
            "",
            *[f"- {reason}" for reason in decision["reasons"]],
            "",
            "Airflow task states: "
            + ", ".join(f"{t} {result['states'].get(t, '?')}" for t in TASKS)
            + ".",
            "",
            "Appended to `summary.json` by the DAG run:",
            "",
            *[f"- {entry_line(e)}" for e in result["entries"]],
            "",
        ]
    lines.append(END)
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sites", type=int, default=20, help="counting sites (default 20)")
    parser.add_argument(
        "--write-docs", action="store_true", help="rewrite docs/monitoring.md's section"
    )
    parser.add_argument("--keep", type=Path, default=None, help="scratch folder to keep")
    args = parser.parse_args(argv)
    if not (AIRFLOW / "bin" / "airflow").exists():
        raise SystemExit(f"{AIRFLOW} has no Airflow: run `make airflow-venv` first")
    scratch = args.keep or Path(tempfile.mkdtemp(prefix="bike_traffic_monitoring_demo_"))
    print(f"Scratch folder: {scratch}")
    demo = Demo(scratch, args.sites)
    size = f"synthetic_raw.n_sites={args.sites}"
    demo.kedro("generate the year", "--pipelines", "synthetic_raw", "--params", size)
    demo.kedro("data_cleaning", "--pipelines", "data_cleaning")
    for model in ("rf", "nn", "affluence_classifier"):
        demo.kedro(f"train the {model} champion", "--pipelines", model)
    demo.step("airflow db migrate", [str(AIRFLOW / "bin" / "airflow"), "db", "migrate"])
    results = {"Unshifted year": scenario(demo, "unshifted", "2025-04-07")}
    demo.kedro(
        "regenerate with a month of strikes",
        "--pipelines",
        "synthetic_raw",
        "--params",
        f"{size},{STRIKE}",
    )
    demo.kedro("data_cleaning (shifted)", "--pipelines", "data_cleaning")
    results["A month of strikes"] = scenario(demo, "shifted", "2025-04-14")
    local = demo.project / "conf" / "local" / "parameters_retrain.yml"
    local.write_text(f"retrain:\n  data:\n    history_days: {HISTORY_DAYS}\n")
    demo.kedro(
        "data_cleaning, the split moved",
        "--pipelines",
        "data_cleaning",
        "--params",
        f"data_cleaning.split.test_start={MOVED_SPLIT}",
    )
    results["The split moved, as the next export moves it"] = scenario(
        demo, "split moved", "2025-04-21"
    )
    import pandas as pd

    rows = len(pd.read_parquet(scratch / "data/04_feature/clean_counts.parquet"))
    text = section(demo, rows, results)
    print(text)
    if args.write_docs:
        doc = DOC.read_text(encoding="utf-8")
        head, rest = doc.split(START, 1)
        DOC.write_text(head + text + rest.split(END, 1)[1], encoding="utf-8")
        print(f"Rewrote the demo section of {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
