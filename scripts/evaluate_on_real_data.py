"""Model quality on real data: ``kedro run --env real``, then docs/model_quality.md.

The checks on real Paris counts (Ville de Paris, ODbL): the last 4 weeks held out, the best
regressor R² >= 0.82, ``rf``, ``nn`` and ``gbm`` each an RMSE at least 8% below the naive
table's, the classifier F1 >= 0.85; on the 6-fold rolling backtest each regressor beats the
naive table on at least 5 folds with a mean RMSE gain of at least 10%.
Nothing here trains or judges a model: it writes the raw export of the environment
``conf/real`` when absent (``real_to_raw_export.py``) and copies the real weather and school
calendar beside it, runs each default pipeline and ``backtest`` in a ``KedroSession`` of that
environment, then reads what the runs wrote through the catalog (``<model>.metrics``,
``backtest.summary``, ``summary.json``...) and adds reference points that are not models.
Exit status 1 when a target is missed, 2 without the real data::

    .venv/bin/python scripts/evaluate_on_real_data.py --write-docs   # keeps the hand-written notes
    .venv/bin/python scripts/evaluate_on_real_data.py --models nn --params nn.model.loss=poisson
    .venv/bin/python scripts/evaluate_on_real_data.py --no-run       # report the last runs
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shlex
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import script_support as support  # noqa: E402
from real_to_raw_export import DEFAULT_INPUT, convert  # noqa: E402

ENV = "real"
MODELS = ("rf", "nn", "gbm", "affluence_classifier")
REGRESSORS = ("rf", "nn", "gbm")
#: Targets: best regressor R², each regressor's RMSE gain over the naive table, classifier F1;
#: on the backtest, folds beaten and mean gain.
BEST_R2, MIN_GAIN, MIN_F1 = 0.82, 0.08, 0.85
MIN_FOLDS_WON, MIN_MEAN_GAIN = 5, 0.10
#: The real files beside the raw export (conf/real/globals.yml names them).
SHARED = support.ROOT.parent / "shared" / "data"
EXOGENOUS = ("synop_07149_paris-orly_2020-09_2021-10.csv", "fr-en-calendrier-scolaire.csv")
NOTES_MARKER = "<!-- hand-written notes below: kept by --write-docs -->"
COUNT, COUNTER, TIME = "comptage_horaire", "nom_du_compteur", "date_et_heure_de_comptage"


def reference_points(train, test, label: dict) -> list[str]:
    """What counter x hour x day of week can reach on this test set ("oracle": sees test)."""
    import numpy as np
    import pandas as pd

    from bike_traffic.models.classifier import fit_thresholds, label_rows
    from bike_traffic.models.evaluation import classification_metrics, regression_metrics

    def r2(y, pred) -> str:
        return f"{regression_metrics(y, pred)['r2']:.3f}"

    def f1(y, pred) -> str:
        return f"{classification_metrics(y, pred, pred)['f1_score']:.3f}"

    cell = [COUNTER, "hour", "day_of_week"]

    def means(frame, values) -> np.ndarray:  # per cell of ``frame``, at each test row
        by = pd.Series(values, frame.index).groupby([frame[c] for c in cell], observed=True)
        return by.mean().reindex(pd.MultiIndex.from_frame(test[cell])).to_numpy(dtype=float)

    y = test[COUNT].to_numpy(dtype="float64")
    profile, p = means(test, y), means(train, train[COUNT])
    per_day = pd.Series(profile, test.index).groupby(test["date"]).transform("sum")
    level = (test.groupby("date")[COUNT].transform("sum") / per_day).to_numpy()
    y_k, p_k = y[~np.isnan(p)], p[~np.isnan(p)]
    scale = float(p_k @ y_k / (p_k @ p_k))
    thresholds = fit_thresholds(train, label)
    y_label = label_rows(thresholds, test)
    train_vote = np.nan_to_num(means(train, label_rows(thresholds, train))) >= 0.5
    every = pd.concat([train, test])[[COUNTER, TIME, COUNT]]
    before = []
    for days in (1, 7):
        earlier = every.assign(**{TIME: every[TIME] + pd.Timedelta(days=days)})
        seen = test[[COUNTER, TIME, COUNT]].merge(earlier, on=[COUNTER, TIME], suffixes=("", "_"))
        before.append(r2(seen[COUNT], seen[f"{COUNT}_"]))
    return [
        f"- Mean hourly count: train {train[COUNT].mean():.1f}, last 28 days of train "
        f"{train[COUNT][train['date'] >= test['date'].min() - pd.Timedelta(days=28)].mean():.1f}"
        f", test {y.mean():.1f}.",
        f"- Regression, per counter x hour x day of week: train means R² {r2(y_k, p_k)}; the "
        f"same rescaled by the best single factor ({scale:.2f}, fitted on test) R² "
        f"{r2(y_k, scale * p_k)}; means of the test rows themselves (oracle) R² "
        f"{r2(y, profile)}; that oracle times each test day's own level (oracle) R² "
        f"{r2(y, profile * level)}.",
        "- Persistence (not a model of this project: it needs the counts just before the hour "
        "predicted, which a forecast for any date does not have): the same counter's count 24 h "
        f"earlier R² {before[0]}, 7 days earlier R² {before[1]}.",
        "- Classifier (train thresholds), per counter x hour x day of week: majority label of "
        f"train F1 {f1(y_label, train_vote)}; majority label of the test rows themselves "
        f"(oracle) F1 {f1(y_label, means(test, y_label) >= 0.5)}.",
    ]


def read_runs(models: list[str]) -> dict:
    """What the last runs of env ``real`` wrote, through its catalog and ``summary.json``."""
    from bike_traffic.models.spec import model_spec
    from bike_traffic.project import open_project

    with open_project(support.ROOT, ENV) as project:
        cat, history = project.catalog, project.history()
        found = [m for m in models if cat.exists(f"{m}.metrics")]
        runs = {k: cat.load(k) for k in ("split_info", "quarantine_summary", "train_baseline")}
        runs |= {"test_baseline": cat.load("test_baseline"), "params": project.params}
        runs["metrics"] = {m: cat.load(f"{m}.metrics") for m in found}
        runs["scored"] = {m: len(cat.load(f"{m}.test_predictions")) for m in found}
        runs["notes"] = {m: [] for m in found}
        if cat.exists("backtest.summary"):
            runs["backtest"] = cat.load("backtest.summary")
            runs["backtest_scores"] = cat.load("backtest.scores")
        if "nn" in found:
            loss = cat.load("nn.training_history")["val_loss"]
            runs["notes"]["nn"] = [f"{len(loss)} epochs, best {loss.index(min(loss)) + 1}"]
    for name in found:  # the version each run registered, and its logged predictor's size
        spec = model_spec(name)
        mine = [e for e in history if e.get("model_type") == spec.summary_type]
        entry = [e for e in mine if e["entry_type"] == "model"][-1]
        outcome = [e for e in mine if e["entry_type"] == "decision"][-1]["outcome"]
        folder = Path(str(entry["artifact_location"]).removeprefix("file://"))
        files = next(folder.rglob("predictor.json")).parent.rglob("*")
        size = sum(f.stat().st_size for f in files if f.is_file()) / 1e6
        note = f"`{spec.registered_name}` v{entry['version']} ({outcome}), predictor {size:.1f} MB"
        runs["notes"][name].insert(0, note)
    return runs


HEADERS = {
    "regression": "R²|RMSE|MAE|RMSE log1p|baseline R²|baseline RMSE|RMSE vs baseline|"
    "train R² (50k sample)",
    "classifier": "accuracy|precision|recall|F1|ROC-AUC|positive rate|train F1 (50k sample)",
}


def _f(value, digits: int = 3) -> str:
    return "n/a" if value is None or value != value else f"{value:.{digits}f}"  # noqa: PLR0124


def _cells(m: dict) -> list[str]:
    """A model's metric cells: a regressor's or the classifier's."""
    if "r2" not in m:
        keys = ("accuracy", "precision", "recall", "f1_score", "roc_auc", "positive_rate")
        return [_f(m[k]) for k in (*keys, "train_f1_score")]
    keys = ("r2", "rmse", "mae", "rmse_log1p", "baseline_r2", "baseline_rmse")
    gain = f"{100 * m['rmse_gain_vs_baseline']:+.1f}%"
    return [*(_f(m[k], 3 if "r2" in k else 2) for k in keys), gain, _f(m["train_r2"])]


def report(runs: dict, seconds: dict[str, float], overrides: list[str], command: str) -> str:
    """docs/model_quality.md, above its notes marker."""
    from importlib.metadata import version

    split, quarantine, params = runs["split_info"], runs["quarantine_summary"], runs["params"]
    took = {n: f"{t:.0f}" for n, t in seconds.items()}
    rows: dict[str, list] = {"regression": [], "classifier": []}
    for name, m in runs["metrics"].items():
        notes = "; ".join(runs["notes"][name])
        tail = [f"{runs['scored'][name]:,}", took.get(name, "n/a"), notes]
        rows["regression" if "r2" in m else "classifier"].append([f"`{name}`", *_cells(m), *tail])
    verdicts = targets(runs)
    tail = "|rows scored|pipeline time (s)|notes"
    tables = [support.markdown_table(f"model|{HEADERS[k]}{tail}", r) for k, r in rows.items() if r]
    train, test = runs["train_baseline"], runs["test_baseline"]
    total = train[COUNT].sum() + test[COUNT].sum()
    lines = [
        "# Model quality on real data\n",
        "The project's models trained and judged on real Paris counts by its own pipelines, "
        "`kedro run --env real` (environment `conf/real/`), each judged through its logged "
        "predictor answering raw requests (counter and time). Written by "
        "`scripts/evaluate_on_real_data.py`: edit only below the notes marker at the end.\n",
        "**Real data: Ville de Paris (ODbL).** `../shared/data/paris_counts_2020-09_2021-08"
        '.parquet` (52 counters, hourly, 2020-09-01 to 2021-08-09, the public "bike_counters" '
        "teaching data set), written as the portal's raw export by `scripts/real_to_raw_export"
        ".py` into `data/real/01_raw/` (git-ignored: never in the repository).\n",
        f"- Measured on {dt.date.today().isoformat()}. Machine: {support.machine()}, "
        + ", ".join(f"{p} {version(p)}" for p in ("scikit-learn", "tensorflow-cpu", "keras"))
        + ".",
        f"- Data: {quarantine['rows_in']:,} rows, {quarantine['rows_quarantined']} quarantined, "
        f"total count {total:,.0f}; `data_cleaning` {took.get('data_cleaning', 'n/a')} s.",
        "- Split (`data_cleaning.split.test_start` in `conf/real`: the last 28 days): cutoff "
        f"{split['cutoff']}; train {split['train_rows']:,} rows ({split['train_start']} to "
        f"{split['train_end']}), test {split['test_rows']:,} rows ({split['test_start']} to "
        f"{split['test_end']}).",
        "- Parameters: `conf/base` (`parameters_<model>.yml`) + `conf/real`, as `kedro run "
        "--env real` loads them"
        + (", with `--params` " + ", ".join(f"`{o}`" for o in overrides) if overrides else "")
        + ".",
        f"- Command (from the project root):\n\n```bash\n{command}\n```\n",
        "## Test metrics\n",
        "Naive baseline: mean count per counter x hour x weekday/weekend, learnt on train. Rows "
        "scored: those the predictor serves. Pipeline time: `kedro run --env real --pipelines "
        "<model>` end to end (fit, judging, figures, MLflow, registration), wall clock.\n",
        *tables,
        "## Rolling-origin backtest\n",
        *backtest_section(runs, took),
        "## Targets\n",
        "On the last 4 weeks: the best regressor R² >= 0.82, `rf`, `nn` and `gbm` each an RMSE "
        "at least 8% below the naive table's, the classifier F1 >= 0.85; on the 6-fold "
        "backtest: each regressor beats the naive table on at least 5 folds, with a mean RMSE "
        "gain of at least 10% (else exit status 1).\n",
        support.markdown_table("check|target|measured|result", verdicts, 3),
        "## Reference points\n",
        "Not models: what counter, hour and day of week can reach on these test weeks (summer "
        'holidays, which train never saw; an "oracle" figure looks at the test rows).\n',
        *reference_points(train, test, params["affluence_classifier"]["label"]),
    ]
    return "\n".join(lines) + "\n"


def targets(runs: dict) -> list[list[str]]:
    """One row per check: what, the target, the measured figure, pass or FAIL."""
    metrics, rows = runs["metrics"], []

    def row(what: str, target: str, measured: str, ok: bool) -> None:
        rows.append([what, target, measured, "**pass**" if ok else "**FAIL**"])

    regressors = [n for n in REGRESSORS if n in metrics]
    if regressors:
        best = max(regressors, key=lambda n: metrics[n]["r2"])
        r2 = metrics[best]["r2"]
        row(f"best regressor R² (`{best}`)", f">= {BEST_R2}", _f(r2), r2 >= BEST_R2)
    for name in regressors:
        gain = metrics[name]["rmse_gain_vs_baseline"]
        row(f"`{name}` RMSE vs naive", f"<= -{MIN_GAIN:.0%}", f"{-gain:+.1%}", gain >= MIN_GAIN)
    if "affluence_classifier" in metrics:
        f1 = metrics["affluence_classifier"]["f1_score"]
        row("classifier F1", f">= {MIN_F1}", _f(f1), f1 >= MIN_F1)
    summary = (runs.get("backtest") or {}).get("models", {})
    for name in (n for n in REGRESSORS if n in summary):
        won, gain = summary[name]["folds_beating_naive"], summary[name]["mean_rmse_gain_vs_naive"]
        folds = runs["backtest"]["folds"]
        row(f"`{name}` backtest folds beating naive", f">= {MIN_FOLDS_WON} of {folds}", str(won),
            won >= MIN_FOLDS_WON)  # fmt: skip
        row(f"`{name}` backtest mean RMSE gain", f">= {MIN_MEAN_GAIN:.0%}", f"{gain:+.1%}",
            gain >= MIN_MEAN_GAIN)  # fmt: skip
    return rows


def backtest_section(runs: dict, took: dict[str, str]) -> list[str]:
    """The backtest's summary per model, its RMSE per fold, and its figure."""
    if "backtest" not in runs:
        return ["Not run (`kedro run --env real --pipelines backtest`).\n"]
    summary, scores = runs["backtest"], runs["backtest_scores"]
    regression, classifier = [], []
    for name, m in summary["models"].items():
        if "mean_rmse" in m:
            regression.append([
                f"`{name}`", _f(m["mean_r2"]), _f(m["worst_r2"]), _f(m["mean_rmse"], 2),
                _f(m["worst_rmse"], 2), _f(m["mean_rmse_log1p"]), _f(m["worst_rmse_log1p"]),
                f"{100 * m['mean_rmse_gain_vs_naive']:+.1f}%",
                f"{m['folds_beating_naive']} of {summary['folds']}",
            ])  # fmt: skip
        else:
            classifier.append([f"`{name}`", _f(m["mean_f1_score"]), _f(m["worst_f1_score"]),
                               _f(m["mean_accuracy"])])  # fmt: skip
    rmse = scores.pivot(index="model", columns="origin", values="rmse").dropna(how="all")
    origins = [str(o)[:10] for o in rmse.columns]
    per_fold = [[f"`{n}`", *(_f(v, 2) for v in rmse.loc[n])] for n in rmse.index]
    figure = support.ROOT / "docs" / "figures" / "backtest_real.png"
    source = support.ROOT / "data" / "real" / "08_reporting" / "backtest" / "folds.png"
    if source.is_file():
        shutil.copy(source, figure)
    return [
        f"{summary['folds']} folds of 28 days ending at the data's end (`params:backtest`); each "
        "fold trains every model on everything before its origin and judges it through its "
        "predictor, beside the naive table (counter x hour x weekday/weekend, all training "
        "rows) and a seasonal-naive reference (counter x hour x weekday, the 4 weeks before "
        f"the origin). `kedro run --env real --pipelines backtest`: {took.get('backtest', 'n/a')}"
        " s.\n",
        support.markdown_table(
            "model|mean R²|worst R²|mean RMSE|worst RMSE|mean RMSE log1p|worst RMSE log1p|"
            "mean RMSE gain vs naive|folds beating naive",
            regression,
        ),
        support.markdown_table("classifier|mean F1|worst F1|mean accuracy", classifier),
        "RMSE per fold (fold origin):\n",
        support.markdown_table("model|" + "|".join(origins), per_fold),
        "![RMSE per fold](figures/backtest_real.png)\n",
    ]


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--no-backtest", action="store_true", help="skip the backtest")
    parser.add_argument("--params", action="append", default=[], help="as kedro run --params")
    parser.add_argument("--no-run", action="store_true", help="report the last runs only")
    parser.add_argument("--write-docs", action="store_true", help="write docs/model_quality.md")
    doc = support.ROOT / "docs" / "model_quality.md"
    parser.add_argument("--doc", type=Path, default=doc, help="the file --write-docs writes")
    args = parser.parse_args(argv)
    os.chdir(support.ROOT)  # the catalog's paths (data/real/...) are the project root's
    raw = support.raw_file(ENV)
    if not raw.is_file() and not DEFAULT_INPUT.is_file():
        print(f"Neither {raw} nor the real parquet {DEFAULT_INPUT} exists.", file=sys.stderr)
        return 2
    if not raw.is_file():
        print(f"Writing the raw export {raw} ({convert(DEFAULT_INPUT, raw):,} rows)", flush=True)
    for name in EXOGENOUS:  # the real weather and calendar, beside the raw export
        if not (raw.parent / name).is_file() and (SHARED / name).is_file():
            shutil.copy(SHARED / name, raw.parent / name)
    seconds: dict[str, float] = {}
    steps = ["data_cleaning", *args.models, *([] if args.no_backtest else ["backtest"])]
    for name in [] if args.no_run else steps:
        print(f"kedro run --env {ENV} --pipelines {name} ...", flush=True)
        start = time.perf_counter()
        support.run_session(name, ENV, support.parse_params(args.params) or None)
        seconds[name] = time.perf_counter() - start
    runs = read_runs(args.models)
    command = shlex.join([".venv/bin/python", "scripts/evaluate_on_real_data.py", *argv])
    text = report(runs, seconds, args.params, command)
    print(text)
    if args.write_docs:
        old = args.doc.read_text(encoding="utf-8") if args.doc.exists() else ""
        if NOTES_MARKER in old:  # the hand-written part below the marker is kept as it is
            text = text.rstrip("\n") + "\n\n" + NOTES_MARKER + old.split(NOTES_MARKER, 1)[1]
        args.doc.write_text(text, encoding="utf-8")
        print(f"\nWrote {args.doc}")
    return 0 if all(row[-1] == "**pass**" for row in targets(runs)) else 1


if __name__ == "__main__":
    sys.exit(main())
