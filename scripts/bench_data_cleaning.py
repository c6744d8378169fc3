"""Benchmark ``data_cleaning`` on the full default raw export (about 900k rows).

Target (issue): the whole pipeline in under 60 s on a 2-core machine, peak memory
under 3 GB. Two measurements:

1. ``kedro run --pipelines data_cleaning`` end to end in a subprocess (start-up,
   MLflow tracking, loading, the six nodes, saving every output): wall time and the
   child's peak RSS (``getrusage(RUSAGE_CHILDREN)``). Its outputs go to a temporary
   data folder (``BIKE_TRAFFIC_DATA_ROOT``), so the project's ``data/`` is left as it is.
2. In this process: the same pipeline (``create_pipeline()``) on Kedro's
   ``SequentialRunner`` with the project's catalog (a ``KedroSession``'s, outputs in a
   temporary data folder), timed by Kedro hooks: loading the raw CSV
   (``RawExportDataset``), each node, saving the outputs, with the process's peak RSS
   (``getrusage(RUSAGE_SELF)``) after each step.

Run from the project root (the raw export must exist: ``make run``, or
``kedro run --pipelines synthetic_raw``)::

    .venv/bin/python scripts/bench_data_cleaning.py               # print the figures
    .venv/bin/python scripts/bench_data_cleaning.py --write-docs  # and record them

``--write-docs`` rewrites the section between ``<!-- bench:data_cleaning:start -->``
and ``<!-- bench:data_cleaning:end -->`` in ``docs/benchmarks.md`` (created when
missing); other sections of that file are kept as they are.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from kedro.framework.hooks import hook_impl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from script_support import QUIET_ENV, ROOT, machine, pin_cpus, raw_file  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
START = "<!-- bench:data_cleaning:start -->"
END = "<!-- bench:data_cleaning:end -->"
COMMAND = ".venv/bin/python scripts/bench_data_cleaning.py --write-docs"
TARGET_SECONDS = 60.0
TARGET_BYTES = 3e9  # 3 GB


@dataclass
class Step:
    name: str
    seconds: float
    peak_rss: int  # bytes, peak of the process so far
    note: str = ""


@dataclass
class Results:
    raw: Path
    rows: int = 0
    steps: list[Step] = field(default_factory=list)
    kedro_seconds: float | None = None
    kedro_peak_rss: int | None = None
    kedro_pipeline_seconds: float | None = None  # Kedro's own "completed in" figure
    kedro_command: str = ""
    in_process_seconds: float | None = None  # SequentialRunner.run, in this process
    cpus: int | None = None


def _maxrss_bytes(who: int) -> int:
    """Peak RSS in bytes (``ru_maxrss`` is in KiB on Linux, in bytes on macOS)."""
    value = resource.getrusage(who).ru_maxrss
    return value if sys.platform == "darwin" else value * 1024


def _gb(n: float | None) -> str:
    return "" if n is None else f"{n / 1e9:.2f}"


def run_kedro(raw: Path, results: Results) -> None:
    """``kedro run --pipelines data_cleaning`` in a subprocess, outputs in a temporary folder."""
    kedro = Path(sys.executable).with_name("kedro")
    base = [str(kedro)] if kedro.exists() else [sys.executable, "-m", "kedro"]
    args = ["run", "--pipelines", "data_cleaning", "--params", f"raw_file={raw.resolve()}"]
    results.kedro_command = "kedro " + " ".join(args[:3])
    with tempfile.TemporaryDirectory(prefix="bench_data_cleaning_") as tmp:
        data_root = Path(tmp) / "data"
        for layer in ("02_intermediate", "04_feature", "05_model_input", "08_reporting"):
            (data_root / layer).mkdir(parents=True)
        env = {**os.environ, **QUIET_ENV, "BIKE_TRAFFIC_DATA_ROOT": str(data_root)}
        log = Path(tmp) / "kedro.log"
        before = _maxrss_bytes(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        with log.open("w", encoding="utf-8") as out:
            proc = subprocess.run(
                [*base, *args], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, check=False
            )
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-40:]
            sys.exit(f"`kedro run` failed (exit {proc.returncode}):\n" + "\n".join(tail))
        if not (data_root / "04_feature" / "clean_counts.parquet").exists():
            sys.exit("`kedro run` ended without writing clean_counts.parquet; see its log.")
        # Kedro's rich log wraps lines and puts `runner.py:119` between the words
        text = re.sub(r"\S+\.py:\d+", " ", log.read_text(encoding="utf-8", errors="replace"))
        found = re.search(
            r"completed\s+successfully\s+in\s+([0-9.]+)\s*sec", " ".join(text.split())
        )
        results.kedro_pipeline_seconds = float(found.group(1)) if found else None
    peak = _maxrss_bytes(resource.RUSAGE_CHILDREN)
    results.kedro_seconds = seconds
    # ru_maxrss of children is the largest child's peak; `before` only matters if an
    # earlier child was larger (none is: this runs first)
    results.kedro_peak_rss = max(peak, before)


class StepTimer:
    """Kedro hooks timing what the runner does: loading, each node, saving the outputs."""

    def __init__(self, results: Results) -> None:
        self.results = results
        self.started = 0.0
        self.saving = 0.0

    def _step(self, name: str, note: str = "") -> None:
        seconds = time.perf_counter() - self.started
        step = Step(name, seconds, _maxrss_bytes(resource.RUSAGE_SELF), note)
        self.results.steps.append(step)
        print(f"  {name:<32} {seconds:7.2f} s   peak RSS so far {_gb(step.peak_rss)} GB")

    @hook_impl
    def before_dataset_loaded(self, dataset_name: str) -> None:
        self.started = time.perf_counter()

    @hook_impl
    def after_dataset_loaded(self, dataset_name: str, data) -> None:
        if dataset_name == "raw_counts":
            self.results.rows = len(data)
            self._step("load raw CSV (RawExportDataset)")

    @hook_impl
    def before_node_run(self) -> None:
        self.started = time.perf_counter()

    @hook_impl
    def after_node_run(self, node, outputs: dict) -> None:
        note = ""
        if "quarantine_summary" in outputs:
            note = f"{outputs['quarantine_summary']['rows_quarantined']} rows quarantined"
        if "split_info" in outputs:
            info = outputs["split_info"]
            note = f"{info['train_rows']:,} train / {info['test_rows']:,} test rows"
        self._step(node.name, note)

    @hook_impl
    def before_dataset_saved(self) -> None:
        self.started = time.perf_counter()

    @hook_impl
    def after_dataset_saved(self) -> None:
        self.saving += time.perf_counter() - self.started


def run_in_process(raw: Path, results: Results) -> None:
    """``data_cleaning`` on ``SequentialRunner`` with the project's catalog, timed by hooks."""
    from kedro.framework.hooks.markers import HOOK_NAMESPACE
    from kedro.framework.hooks.specs import DatasetSpecs, NodeSpecs
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project
    from kedro.runner import SequentialRunner
    from pluggy import PluginManager

    from bike_traffic.pipelines.data_cleaning import create_pipeline

    timer = StepTimer(results)
    hooks = PluginManager(HOOK_NAMESPACE)
    hooks.add_hookspecs(NodeSpecs)
    hooks.add_hookspecs(DatasetSpecs)
    hooks.register(timer)
    with tempfile.TemporaryDirectory(prefix="bench_data_cleaning_") as tmp:
        saved = os.environ.get("BIKE_TRAFFIC_DATA_ROOT")
        os.environ["BIKE_TRAFFIC_DATA_ROOT"] = tmp  # every output of the catalog goes there
        bootstrap_project(ROOT)
        params = {"raw_file": str(raw.resolve())}
        with KedroSession.create(project_path=ROOT, runtime_params=params) as session:
            catalog = session.load_context().catalog
            start = time.perf_counter()
            SequentialRunner().run(create_pipeline(), catalog, hook_manager=hooks)
            results.in_process_seconds = time.perf_counter() - start
        os.environ.pop("BIKE_TRAFFIC_DATA_ROOT")
        if saved is not None:
            os.environ["BIKE_TRAFFIC_DATA_ROOT"] = saved
    peak = _maxrss_bytes(resource.RUSAGE_SELF)
    results.steps.append(Step("save the outputs (CSV, Parquet, JSON)", timer.saving, peak))


def table(results: Results) -> str:
    """The figures as a markdown table."""
    lines = [
        "| step | time (s) | peak RSS (GB) | note |",
        "| --- | ---: | ---: | --- |",
    ]
    if results.kedro_seconds is not None:
        lines.append(
            f"| **`{results.kedro_command}`** (subprocess, end to end: start-up, MLflow, "
            f"load, nodes, saving every output) | **{results.kedro_seconds:.1f}** | "
            f"**{_gb(results.kedro_peak_rss)}** | peak RSS of the kedro process |"
        )
        if results.kedro_pipeline_seconds is not None:
            lines.append(
                f"| of which pipeline execution (Kedro's own figure: load, nodes, saves) | "
                f"{results.kedro_pipeline_seconds:.1f} | | the rest is start-up (imports, "
                "configuration, MLflow run) and shutdown |"
            )
    for s in results.steps:
        lines.append(f"| {s.name} | {s.seconds:.2f} | {_gb(s.peak_rss)} | {s.note} |")
    if results.in_process_seconds is not None:
        lines.append(
            f"| **`data_cleaning` on `SequentialRunner`, in process (load, six nodes, saves)** | "
            f"**{results.in_process_seconds:.1f}** | **{_gb(results.steps[-1].peak_rss)}** | "
            "peak RSS of the Python process (imports included) |"
        )
    return "\n".join(lines)


def verdict(results: Results) -> tuple[bool, str]:
    """Whether the targets are met, in words."""
    checks = []
    if results.kedro_seconds is not None:
        checks.append(("kedro run wall time", results.kedro_seconds, TARGET_SECONDS, "s"))
        checks.append(
            ("kedro run peak RSS", results.kedro_peak_rss / 1e9, TARGET_BYTES / 1e9, "GB")
        )
    if results.in_process_seconds is not None:
        checks.append(("in-process total", results.in_process_seconds, TARGET_SECONDS, "s"))
        checks.append(
            ("in-process peak RSS", results.steps[-1].peak_rss / 1e9, TARGET_BYTES / 1e9, "GB")
        )
    ok = all(value < limit for _, value, limit, _ in checks)
    words = "; ".join(
        f"{name} {value:.2f} {unit} {'<' if value < limit else '>='} {limit:g} {unit}"
        for name, value, limit, unit in checks
    )
    return ok, words


def section(results: Results, machine_line: str) -> str:
    """The marked section of docs/benchmarks.md."""
    ok, words = verdict(results)
    size = results.raw.stat().st_size / 1e6
    try:
        raw_text = results.raw.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        raw_text = results.raw.as_posix()
    return f"""{START}
## data_cleaning on the full default data

Target: the whole `data_cleaning` pipeline on the full default raw export (about
900k rows) in under {TARGET_SECONDS:.0f} s on a 2-core machine, peak memory under
{TARGET_BYTES / 1e9:.0f} GB.

- Measured on {dt.date.today().isoformat()}.
- Machine: {machine_line}; the benchmark ran on {results.cpus or "all"} CPUs.
- Input: `{raw_text}`, {results.rows:,} rows, {size:.0f} MB
  (the default generated export: `make run` or `kedro run --pipelines synthetic_raw`).
- Command (from the project root):

```bash
{COMMAND}
```

The first line is the real run, `kedro run --pipelines data_cleaning` in a subprocess
(outputs written to a temporary `BIKE_TRAFFIC_DATA_ROOT`, MLflow tracking as
configured); the other lines are the same pipeline run in this process on Kedro's
`SequentialRunner` with the project's catalog (outputs in a temporary folder), timed by
Kedro hooks: the loading, each node in pipeline order and the saving of the outputs,
with the process's peak RSS so far after each step (GB = 10^9 bytes, from `getrusage`'s
`ru_maxrss`).

{table(results)}

**{"Targets met" if ok else "Targets NOT met"}**: {words}.
{END}"""


def write_docs(results: Results, path: Path) -> None:
    """Replace (or add) the data_cleaning section of docs/benchmarks.md."""
    machine_line = machine()
    new = section(results, machine_line)
    if path.exists():
        text = path.read_text(encoding="utf-8")
        if START in text and END in text:
            head, rest = text.split(START, 1)
            tail = rest.split(END, 1)[1]
            text = head + new + tail
        else:
            text = text.rstrip("\n") + "\n\n" + new + "\n"
    else:
        text = (
            "# Benchmarks\n\n"
            "Measured performance of the project's pipelines. Each section is written by the "
            "script named in it (between `<!-- bench:NAME:start -->` and "
            "`<!-- bench:NAME:end -->` markers; edit the script, not the section) and "
            "records the machine, the date, the command and the figures.\n\n"
            f"Machine (when this file was created): {machine_line}.\n\n" + new + "\n"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--raw", type=Path, default=None, help="raw export (default: the catalog's raw_counts)"
    )
    parser.add_argument(
        "--cpus",
        type=int,
        default=2,
        help="run on this many CPUs (sched_setaffinity; 0 = all). Default: 2, the target machine",
    )
    parser.add_argument("--skip-kedro", action="store_true", help="skip the `kedro run` measure")
    parser.add_argument(
        "--skip-nodes", action="store_true", help="skip the in-process (SequentialRunner) measure"
    )
    parser.add_argument(
        "--write-docs", action="store_true", help=f"record the figures in {DOC.relative_to(ROOT)}"
    )
    parser.add_argument("--doc", type=Path, default=DOC, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    raw = args.raw or raw_file()
    if not raw.exists():
        sys.exit(
            f"Raw export not found: {raw}\n"
            "Generate the default one first: `make run`, or "
            "`kedro run --pipelines synthetic_raw` (with .venv active)."
        )
    results = Results(raw=raw, cpus=pin_cpus(args.cpus))
    print(f"Machine: {machine()}")
    print(f"Raw export: {raw} ({raw.stat().st_size / 1e6:.0f} MB), CPUs used: {results.cpus}")

    # The kedro subprocess runs first, while this process is small: a child started
    # (vfork + exec) by a big process inherits its peak RSS in ru_maxrss.
    if not args.skip_kedro:
        print("kedro run --pipelines data_cleaning ...")
        run_kedro(raw, results)
        print(f"  {results.kedro_seconds:.1f} s, peak RSS {_gb(results.kedro_peak_rss)} GB")
    if not args.skip_nodes:
        print("data_cleaning on SequentialRunner, in process:")
        run_in_process(raw, results)
    if not results.rows:
        import pandas as pd

        results.rows = len(pd.read_csv(raw, sep=";", usecols=[0], dtype=str))

    print()
    print(table(results))
    ok, words = verdict(results)
    print()
    print(("Targets met: " if ok else "Targets NOT met: ") + words)
    if args.write_docs:
        write_docs(results, args.doc)
        print(f"wrote {args.doc}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
