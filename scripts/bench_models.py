"""Benchmark the model pipelines on the full default data (~720k train rows).

Targets, on 2 CPU cores: the default ``kedro run`` (cleaning, the four models and their
registration) within 3 minutes; each regressor's test RMSE at least 15% below the naive
table's; ``gbm`` fitted within 30 s and stored under 20 MB; ``rf`` under 2 min, ``gbm``
under 2 min, ``nn`` under 5 min, ``affluence_classifier`` under 2 min on their own, peak
memory under 6 GB each; the stored rf model under 200 MB while its R² stays within 0.01 of
the unconstrained forest (``min_samples_leaf=1``).

Measured:

0. The default ``kedro run`` end to end in a subprocess, on a copy of ``data/01_raw``
   (the generated export, weather and school calendar), every output and the tracking
   store in a temporary folder: wall time, peak RSS, and each model's test metrics beside
   the naive table's (``summary.json``).
1. ``kedro run --pipelines <model>`` end to end in a subprocess (start-up, training,
   judging, figures, MLflow logging, registration): wall time and the child's peak RSS.
   Data come from the project's ``data/05_model_input`` (run ``make run`` first), but every
   output, the tracking store and the MLflow artifacts go to a temporary folder, so the
   project's registry is left as it is. The stored size is the logged predictor's folder
   (``predictor.json`` and the estimator: skops or Keras), test metrics are the run's own
   (``summary.json``), judged through that predictor.
2. The predictor each run registered, loaded back as the app loads it
   (:func:`bike_traffic.registry.loading.load_model`): load time, and the latency of
   :meth:`LoadedModel.predict` on raw requests (counter and ISO timestamp, as a user sends
   them), one request at a time and 10,000 at once.
3. ``models.gbm.fit`` in this process on the default train set with ``params:gbm``.
4. The rf size/quality trade-off: the same ``kedro run --pipelines rf`` with the original
   unconstrained forest (``--params rf.model.min_samples_leaf=1``) against the project's
   ``min_samples_leaf``: stored size and test R².

Run from the project root::

    .venv/bin/python scripts/bench_models.py               # print the figures
    .venv/bin/python scripts/bench_models.py --write-docs  # and record them in docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from script_support import QUIET_ENV, ROOT, config, machine, pin_cpus, replace_section  # noqa: E402

DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- bench:models:start -->", "<!-- bench:models:end -->"
COMMAND = ".venv/bin/python scripts/bench_models.py --write-docs"
TARGETS = {"rf": 120.0, "gbm": 120.0, "nn": 300.0, "affluence_classifier": 120.0}
REGRESSORS = ("rf", "gbm", "nn")
FULL_RUN_TARGET = 180.0
MIN_GAIN = 0.15
GBM_FIT_TARGET, GBM_SIZE_TARGET = 30.0, 20e6
MEMORY_TARGET = 6e9
SIZE_TARGET = 200e6
ORIGINAL_RF = "rf.model.min_samples_leaf=1"
BATCH = 10_000

CHILD = """
import resource, subprocess, sys, json, time
t = time.perf_counter()
done = subprocess.run(sys.argv[1:], capture_output=True, text=True)
print(json.dumps({"rc": done.returncode, "seconds": time.perf_counter() - t,
    "maxrss": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024,
    "tail": (done.stdout + done.stderr)[-2000:]}))
"""


def predictor_size(artifact_location: str) -> int:
    """Bytes of the logged predictor (``predictor.json`` and its estimator file)."""
    folder = Path(artifact_location.removeprefix("file://"))
    data = next(folder.rglob("predictor.json")).parent
    return sum(f.stat().st_size for f in data.rglob("*") if f.is_file())


def run_kedro(work: Path, arguments: list[str]) -> dict:
    """``kedro run <arguments>`` with outputs and tracking under ``work``: time and peak RSS."""
    env = {
        **os.environ,
        **QUIET_ENV,
        "BIKE_TRAFFIC_DATA_ROOT": str(work / "data"),
        "MLFLOW_TRACKING_URI": tracking_uri(work),
        "MLFLOW_ARTIFACT_LOCATION": str(work / "mlartifacts"),
    }
    kedro = str(Path(sys.executable).with_name("kedro"))
    command = [kedro, "run", *arguments]
    out = subprocess.run(
        [sys.executable, "-c", CHILD, *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["rc"] != 0:
        raise SystemExit(f"{' '.join(command[1:])} failed:\n{result['tail']}")
    return result


def model_figures(work: Path, name: str) -> dict:
    """The newest ``model`` entry of a type in ``work``'s summary.json, as benchmark figures."""
    from bike_traffic.models.spec import model_spec

    history = json.loads((work / "data/06_models/summary.json").read_text())
    summary_type = model_spec(name).summary_type
    entry = [e for e in history if e["entry_type"] == "model" and e["model_type"] == summary_type][
        -1
    ]
    metrics = entry["metrics"]
    return {
        "version": entry["version"],
        "is_champion": entry.get("is_champion"),
        "stored_bytes": predictor_size(entry["artifact_location"]),
        **{
            key: metrics.get(key)
            for key in (
                "r2",
                "rmse",
                "f1_score",
                "baseline_r2",
                "baseline_rmse",
                "train_rows",
                "interval_coverage",
                "interval_width",
            )
        },
    }


def run_pipeline(name: str, work: Path, params: str | None = None) -> dict:
    """``kedro run --pipelines name`` with outputs and tracking under ``work``."""
    result = run_kedro(work, ["--pipelines", name, *(["--params", params] if params else [])])
    return {"seconds": result["seconds"], "maxrss": result["maxrss"], **model_figures(work, name)}


def full_run(raw: Path) -> dict:
    """The default ``kedro run`` on a copy of ``raw`` (``data/01_raw``), in its own folder."""
    with tempfile.TemporaryDirectory(prefix="bench-full-run-") as tmp:
        work = Path(tmp)
        shutil.copytree(raw, work / "data/01_raw")
        result = run_kedro(work, [])
        models = {name: model_figures(work, name) for name in TARGETS}
    return {"seconds": result["seconds"], "maxrss": result["maxrss"], "models": models}


def gbm_fit_seconds(split: Path) -> tuple[float, int]:
    """``models.gbm.fit`` on the default train set with ``params:gbm``: seconds, rows."""
    import pandas as pd

    from bike_traffic.models import gbm

    params = config()["parameters"]["gbm"]
    train = pd.read_parquet(split / "train_baseline.parquet")
    started = time.perf_counter()
    gbm.fit(train, params["features"], params["model"], params["target"])
    return time.perf_counter() - started, len(train)


def gain(figures: dict) -> float | None:
    """How much lower the model's test RMSE is than the naive table's (0.2 = 20% lower)."""
    if figures.get("rmse") is None or not figures.get("baseline_rmse"):
        return None
    return 1 - figures["rmse"] / figures["baseline_rmse"]


def tracking_uri(work: Path) -> str:
    """The temporary folder's SQLite tracking store."""
    return f"sqlite:///{work / 'mlflow.db'}"


def latency(name: str, version: int, work: Path, repeats: int) -> dict:
    """Load a registered predictor as the app does and time its answers to raw requests."""
    import mlflow
    import pandas as pd

    from bike_traffic.registry.loading import load_model

    history = json.loads((work / "data/06_models/summary.json").read_text())
    # MLflow resolves a `models:/` source with its global tracking URI, whatever the client's
    mlflow.set_tracking_uri(tracking_uri(work))
    started = time.perf_counter()
    model = load_model(name, version, history=history, tracking_uri=tracking_uri(work))
    load = time.perf_counter() - started
    test = pd.read_parquet(work / "data/05_model_input/test_baseline.parquet")
    rows = test.sample(n=min(BATCH, len(test)), random_state=0)
    requests = model.predictor.input_example(rows, n=len(rows))  # ISO text, as users send
    model.predict(requests.head(1))  # first call: lazy imports
    times = []
    for i in range(repeats):
        one = requests.iloc[[i % len(requests)]]
        started = time.perf_counter()
        model.predict(one)
        times.append(time.perf_counter() - started)
    started = time.perf_counter()
    answers = model.predict(requests)
    return {
        "load": load,
        "single_median": statistics.median(times),
        "single_p95": sorted(times)[int(0.95 * (len(times) - 1))],
        "batch": time.perf_counter() - started,
        "batch_rows": len(requests),
        "served": int(answers["error"].isna().sum()),
    }


def _share(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _table_of_full_run(full: dict) -> tuple[list[str], bool]:
    """The default ``kedro run``'s lines, and whether its targets are met."""
    lines = [
        "",
        f"**The default `kedro run`** (data_cleaning, the four models and their registration) "
        f"on a copy of `data/01_raw`: **{full['seconds']:.0f} s** (target "
        f"{FULL_RUN_TARGET:.0f} s), peak memory {full['maxrss'] / 1e9:.2f} GB. Its models "
        "on the default split's test set, beside the naive table (mean count per counter x "
        "hour x weekday/weekend, learnt on train):",
        "",
        "| model | test R² / F1 | naive R² | test RMSE | naive RMSE | RMSE gain over naive | "
        "target | champion | 80% interval: coverage | width (bikes) |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    ok = full["seconds"] <= FULL_RUN_TARGET
    for name, f in full["models"].items():
        if name in REGRESSORS:
            g = gain(f)
            ok &= g is not None and g >= MIN_GAIN
            lines.append(
                f"| {name} | {f['r2']:.3f} | {f['baseline_r2']:.3f} | {f['rmse']:.1f} | "
                f"{f['baseline_rmse']:.1f} | **{g:.1%}** | >= {MIN_GAIN:.0%} | "
                f"{'yes' if f['is_champion'] else 'no'} | {_share(f['interval_coverage'])} | "
                f"{_number(f['interval_width'])} |"
            )
        else:
            lines.append(
                f"| {name} | {f['f1_score']:.3f} (F1) | | | | | | "
                f"{'yes' if f['is_champion'] else 'no'} | | |"
            )
    return lines, ok


def section(
    runs: dict,
    latencies: dict,
    original: dict | None,
    full: dict | None = None,
    gbm_fit: tuple[float, int] | None = None,
) -> str:
    """The markdown section for docs/benchmarks.md."""
    lines = [
        START,
        "## Model pipelines (full default data)",
        "",
        f"Command: `{COMMAND}`  ",
        f"Date: {dt.date.today().isoformat()}  ",
        f"Machine: {machine()}",
    ]
    ok = True
    if full is not None:
        more, met = _table_of_full_run(full)
        lines += more
        ok &= met
    if gbm_fit is not None:
        seconds, rows = gbm_fit
        lines += [
            "",
            f"`models.gbm.fit` alone, in process, on the {rows:,} train rows with `params:gbm`: "
            f"**{seconds:.1f} s** (target {GBM_FIT_TARGET:.0f} s).",
        ]
        ok &= seconds <= GBM_FIT_TARGET
    lines += [
        "",
        "`kedro run --pipelines <model>` end to end (start-up, training, judging through the "
        "predictor, figures, MLflow logging, registration), outputs and tracking in a "
        "temporary folder; stored model: the logged predictor (`predictor.json` and the "
        "estimator, skops or Keras):",
        "",
        "| pipeline | train rows | wall time (s) | target (s) | peak memory (GB) | stored predictor (MB) | test R² / F1 | naive baseline R² |",  # noqa: E501
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in runs.items():
        score = r["f1_score"] if name == "affluence_classifier" else r["r2"]
        base = "" if r["baseline_r2"] is None else f"{r['baseline_r2']:.3f}"
        size = r["stored_bytes"] / 1e6
        lines.append(
            f"| {name} | {int(r['train_rows'] or 0):,} | {r['seconds']:.0f} | {TARGETS[name]:.0f} "
            f"| {r['maxrss'] / 1e9:.2f} | {size:.{0 if size >= 10 else 2}f} | {score:.3f} "
            f"| {base} |"
        )
    if "gbm" in runs:
        lines += [
            "",
            f"Stored gbm predictor: {runs['gbm']['stored_bytes'] / 1e6:.1f} MB (target "
            f"{GBM_SIZE_TARGET / 1e6:.0f} MB).",
        ]
        ok &= runs["gbm"]["stored_bytes"] <= GBM_SIZE_TARGET
    lines += [
        "",
        "The registered predictors loaded back as the app loads them "
        "(`registry.loading.load_model`), answering raw requests (counter and ISO timestamp) "
        "through `LoadedModel.predict`:",
        "",
        "| model | version | load (s) | 1 request (ms, median) | 1 request (ms, p95) | "
        f"{min(f['batch_rows'] for f in latencies.values()):,} requests at once (s) |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    for name, f in latencies.items():
        lines.append(
            f"| {name} | v{runs[name]['version']} | {f['load']:.1f} | "
            f"{f['single_median'] * 1000:.0f} | {f['single_p95'] * 1000:.0f} | "
            f"{f['batch']:.2f} |"
        )
    ok &= all(r["seconds"] <= TARGETS[n] and r["maxrss"] <= MEMORY_TARGET for n, r in runs.items())
    if "rf" in runs:
        ok &= runs["rf"]["stored_bytes"] <= SIZE_TARGET
    if original is not None and "rf" in runs:
        p, o = runs["rf"], original
        lines += [
            "",
            "rf size against the original settings (same data, the same `kedro run --pipelines "
            f"rf` with `--params {ORIGINAL_RF}`):",
            "",
            "| forest | min_samples_leaf | kedro run (s) | stored predictor (MB) | test R² |",
            "| --- | --- | --- | --- | --- |",
            f"| original (unconstrained) | 1 | {o['seconds']:.0f} | {o['stored_bytes'] / 1e6:.0f} | {o['r2']:.4f} |",  # noqa: E501
            f"| project | {p['min_samples_leaf']} | {p['seconds']:.0f} | {p['stored_bytes'] / 1e6:.0f} | {p['r2']:.4f} |",  # noqa: E501
            "",
            f"Size ratio project/original: {p['stored_bytes'] / o['stored_bytes']:.2f}; "
            f"R² difference: {p['r2'] - o['r2']:+.4f} (allowed: within 0.01).",
        ]
        ok &= abs(p["r2"] - o["r2"]) <= 0.01
    lines += ["", f"**{'Targets met' if ok else 'Targets NOT met'}**.", END]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write-docs", action="store_true")
    parser.add_argument("--cpus", type=int, default=2, help="CPUs to use (0: all)")
    parser.add_argument("--pipelines", nargs="+", default=list(TARGETS), choices=list(TARGETS))
    parser.add_argument("--repeats", type=int, default=50, help="single requests per model")
    parser.add_argument(
        "--skip-original", action="store_true", help="skip the original-settings rf run"
    )
    parser.add_argument("--skip-full-run", action="store_true", help="skip the default `kedro run`")
    parser.add_argument(
        "--split",
        type=Path,
        default=ROOT / "data" / "05_model_input",
        help="folder of train_baseline/test_baseline.parquet (default: %(default)s)",
    )
    parser.add_argument(
        "--raw",
        type=Path,
        default=ROOT / "data" / "01_raw",
        help="folder of the raw export, weather and calendar (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    pin_cpus(args.cpus)
    split = args.split
    needed = ("train_baseline.parquet", "test_baseline.parquet", "feature_context.json")
    if not all((split / f).exists() for f in needed):
        raise SystemExit(f"No fixed split in {split}: run `make run` first.")
    full = None
    if not args.skip_full_run:
        full = full_run(args.raw)
        print(f"kedro run: {full}", flush=True)
    gbm_fit = gbm_fit_seconds(split) if "gbm" in args.pipelines else None
    if gbm_fit:
        print(f"gbm fit: {gbm_fit[0]:.1f} s on {gbm_fit[1]:,} rows", flush=True)
    leaf = config()["parameters"]["rf"]
    runs, latencies, original = {}, {}, None
    with tempfile.TemporaryDirectory(prefix="bench-models-") as tmp:
        work = Path(tmp)
        shutil.copytree(split, work / "data/05_model_input")
        for name in args.pipelines:
            runs[name] = run_pipeline(name, work)
            print(f"{name}: {runs[name]}", flush=True)
        if "rf" in runs:
            runs["rf"]["min_samples_leaf"] = leaf["model"]["min_samples_leaf"]
            if not args.skip_original:
                original = run_pipeline("rf", work, ORIGINAL_RF)
                print(f"rf, original settings: {original}", flush=True)
        for name, run in runs.items():
            latencies[name] = latency(name, run["version"], work, args.repeats)
            print(f"{name} predictor: {latencies[name]}", flush=True)
    text = section(runs, latencies, original, full, gbm_fit)
    print(text)
    if args.write_docs:
        replace_section(DOC, START, END, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
