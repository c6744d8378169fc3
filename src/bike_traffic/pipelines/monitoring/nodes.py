"""Nodes of ``monitoring``: drift of a recent window against train_baseline, and a decision.

The statistics are SciPy's (Evidently does not install with this stack, see
docs/monitoring.md); they give the same scores as Evidently's defaults:

* numeric columns: Wasserstein distance normed by the reference's standard
  deviation (Evidently's ``wasserstein``), and the Kolmogorov-Smirnov statistic;
* categorical columns: Jensen-Shannon distance (base 2, Evidently's
  ``jensenshannon``) and the population stability index, with the chi-square
  test's p-value for information.

A column drifts when the chosen *distance* reaches its threshold. P-values are
reported but never decide: with hundreds of thousands of rows a meaningless
difference has a tiny p-value.

Two nodes read outside state and say so: :func:`score_champion_on_window`
(loads the champion from the registry) and :func:`record_decision` (asks
MLflow where this run's report was logged).
"""

from __future__ import annotations

import base64
import html
import io
import logging
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial import distance

from bike_traffic.calendar import PARIS_TZ
from bike_traffic.features import TARGET
from bike_traffic.models.plots import pyplot
from bike_traffic.models.spec import model_spec
from bike_traffic.raw_format import COUNTER, TIMESTAMP
from bike_traffic.registry import CHAMPION, RegistryError, now
from bike_traffic.registry.loading import load_model

if TYPE_CHECKING:
    from matplotlib.figure import Figure
else:  # matplotlib loads on the first plot; Kedro's type checks still resolve the hints
    Figure = Any

logger = logging.getLogger(__name__)

DECISIONS = ("ok", "alert", "retrain")
NUMERIC_STATS = ("wasserstein", "ks")
CATEGORICAL_STATS = ("jensenshannon", "psi")

#: Where ``monitoring.drift_report`` logs the HTML report inside the MLflow run
#: (``artifact_path`` / file name of its catalog entry; a test keeps them in step).
REPORT_ARTIFACT = "monitoring/drift_report.html"

_PSI_EPSILON = 1e-4


# ---------------------------------------------------------------- the window
def _local(value: Any) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize(PARIS_TZ) if stamp.tzinfo is None else stamp.tz_convert(PARIS_TZ)


def select_window(clean: pd.DataFrame, window: dict[str, Any]) -> tuple[pd.DataFrame, dict]:
    """The recent window of cleaned rows that is compared with the training baseline.

    By default the last ``days`` days up to the latest timestamp of ``clean``.
    An explicit range wins: ``start`` and/or ``end`` as local dates, both
    included (``end`` alone: the ``days`` days up to it; ``start`` alone: up to
    the latest timestamp).

    Args:
        clean: ``clean_counts``.
        window: ``params:monitoring.window`` (``days``, ``start``, ``end``).

    Returns:
        The window's rows, and its description (``start``, ``end``, ``rows``,
        ``counters``, ``days``, ``mode``).

    Raises:
        ValueError: When the window is inverted or holds no row.
    """
    stamps = clean[TIMESTAMP]
    latest = stamps.max()
    days = float(window.get("days") or 30)
    start, end = window.get("start"), window.get("end")
    if start is None and end is None:
        upper, lower, mode = latest, latest - pd.Timedelta(days=days), "last_days"
        selected = (stamps > lower) & (stamps <= upper)
    else:
        upper = _local(end) + pd.Timedelta(days=1) if end is not None else None
        lower = _local(start) if start is not None else upper - pd.Timedelta(days=days)
        if upper is not None and upper <= lower:
            raise ValueError(f"monitoring.window: end {end} is before start {start}")
        selected = stamps >= lower
        if upper is not None:
            selected &= stamps < upper
        mode = "explicit"
    rows = clean.loc[selected].reset_index(drop=True)
    if rows.empty:
        raise ValueError(
            f"monitoring.window {dict(window)} holds no row: clean_counts spans "
            f"{stamps.min()} to {latest}."
        )
    info = {
        "mode": mode,
        "days": days if mode == "last_days" else None,
        "start": rows[TIMESTAMP].min().isoformat(),
        "end": rows[TIMESTAMP].max().isoformat(),
        "rows": len(rows),
        "counters": int(rows[COUNTER].nunique()),
    }
    logger.info("Recent window: %s to %s, %d rows", info["start"], info["end"], len(rows))
    return rows, info


# ---------------------------------------------------------------- drift
def numeric_drift(reference: pd.Series, current: pd.Series) -> dict[str, float]:
    """Distances between two samples of a numeric column.

    Args:
        reference: The column on the reference rows.
        current: The column on the recent rows.

    Returns:
        ``wasserstein`` (normed by the reference's standard deviation, at least
        0.001), ``ks`` (Kolmogorov-Smirnov statistic), ``ks_pvalue`` and both means.
    """
    ref = reference.dropna().astype("float64").to_numpy()
    cur = current.dropna().astype("float64").to_numpy()
    norm = max(float(np.std(ref)), 0.001)
    ks = stats.ks_2samp(ref, cur)
    return {
        "wasserstein": float(stats.wasserstein_distance(ref, cur) / norm),
        "ks": float(ks.statistic),
        "ks_pvalue": float(ks.pvalue),
        "reference_mean": float(ref.mean()),
        "current_mean": float(cur.mean()),
    }


def categorical_drift(reference: pd.Series, current: pd.Series) -> dict[str, float]:
    """Distances between the category shares of two samples.

    Args:
        reference: The column on the reference rows.
        current: The column on the recent rows.

    Returns:
        ``jensenshannon`` (distance, base 2: 0 same shares, 1 disjoint), ``psi``
        (population stability index), ``chi2_pvalue`` (chi-square test of the
        2 x k table of counts; 1.0 with a single category) and ``categories``.
    """
    ref_counts = reference.dropna().astype(str).value_counts()
    cur_counts = current.dropna().astype(str).value_counts()
    categories = sorted(set(ref_counts.index) | set(cur_counts.index))
    table = np.vstack(
        [
            ref_counts.reindex(categories, fill_value=0).to_numpy(dtype="float64"),
            cur_counts.reindex(categories, fill_value=0).to_numpy(dtype="float64"),
        ]
    )
    shares = table / table.sum(axis=1, keepdims=True)
    smoothed = np.clip(shares, _PSI_EPSILON, None)
    psi = float(np.sum((smoothed[1] - smoothed[0]) * np.log(smoothed[1] / smoothed[0])))
    chi2_pvalue = (
        float(stats.chi2_contingency(table[:, table.sum(axis=0) > 0]).pvalue)
        if len(categories) > 1
        else 1.0
    )
    return {
        "jensenshannon": float(distance.jensenshannon(shares[0], shares[1], base=2)),
        "psi": psi,
        "chi2_pvalue": chi2_pvalue,
        "categories": float(len(categories)),
    }


def drift_table(
    reference: pd.DataFrame, current: pd.DataFrame, features: dict[str, list[str]], drift: dict
) -> pd.DataFrame:
    """Per-feature drift of the recent window against the reference.

    Args:
        reference: ``train_baseline``.
        current: The recent window.
        features: ``params:monitoring.features`` (``numeric``, ``categorical``).
        drift: ``params:monitoring.drift``: ``numeric`` and ``categorical``, each
            with ``stat`` (numeric: ``wasserstein`` or ``ks``; categorical:
            ``jensenshannon`` or ``psi``) and ``threshold``.

    Returns:
        One row per feature: ``feature``, ``kind``, ``stat``, ``score``,
        ``threshold``, ``drifted`` and every statistic computed.

    Raises:
        ValueError: On an unknown statistic.
        KeyError: When a feature is missing from either frame.
    """
    choices = {"numeric": NUMERIC_STATS, "categorical": CATEGORICAL_STATS}
    rows = []
    for kind, compute in (("numeric", numeric_drift), ("categorical", categorical_drift)):
        stat, threshold = drift[kind]["stat"], float(drift[kind]["threshold"])
        if stat not in choices[kind]:
            raise ValueError(
                f"monitoring.drift.{kind}.stat must be one of {choices[kind]}, got {stat!r}"
            )
        for feature in features.get(kind) or []:
            missing = [
                n for n, f in (("reference", reference), ("current", current)) if feature not in f
            ]
            if missing:
                raise KeyError(f"Drift feature {feature!r} is missing from the {missing} rows")
            scores = compute(reference[feature], current[feature])
            rows.append(
                {
                    "feature": feature,
                    "kind": kind,
                    "stat": stat,
                    "score": scores[stat],
                    "threshold": threshold,
                    "drifted": bool(scores[stat] >= threshold),
                    **scores,
                }
            )
    table = pd.DataFrame(rows)
    logger.info(
        "Drift: %d of %d features drifted (%s)",
        int(table["drifted"].sum()) if len(table) else 0,
        len(table),
        ", ".join(table.loc[table["drifted"], "feature"]) if len(table) else "",
    )
    return table


# ---------------------------------------------------------------- the champion
def score_champion_on_window(
    window_rows: pd.DataFrame,
    test: pd.DataFrame,
    history: list[dict],
    champion: dict[str, Any],
    settings: dict[str, Any],
) -> dict[str, Any]:
    """Reads the registry: the champion's error on the recent window and on test_baseline.

    Args:
        window_rows: The recent window.
        test: ``test_baseline``.
        history: ``summary.json`` (the fallback when the registry is unreachable).
        champion: ``params:monitoring.champion`` (``model_type``: a regressor).
        settings: ``params:registry`` (``env``).

    Returns:
        ``model_type``, ``available``; when a champion exists: ``version``,
        ``source``, ``window`` and ``test`` metrics (rmse, mae, r2) and
        ``rmse_ratio`` (window / test). Otherwise ``reason``.

    Raises:
        ValueError: When the model type is not a regressor.
    """
    spec = model_spec(champion["model_type"])
    model_type = spec.model_type
    if spec.is_classifier:
        raise ValueError(
            f"monitoring.champion.model_type must be a regressor (rf, nn), got {model_type!r}"
        )
    try:
        loaded = load_model(model_type, CHAMPION, history=history, env=settings["env"])
    except RegistryError as exc:
        logger.warning("No champion of %s to judge on the recent window: %s", model_type, exc)
        return {"model_type": model_type, "available": False, "reason": str(exc)}
    on_window = loaded.score(window_rows)
    on_test = loaded.score(test)
    result = {
        "model_type": model_type,
        "available": True,
        "version": loaded.version,
        "source": loaded.source,
        "window": on_window,
        "test": on_test,
        "rmse_ratio": on_window["rmse"] / on_test["rmse"] if on_test["rmse"] else None,
    }
    logger.info(
        "Champion %s v%s: RMSE %.2f / R2 %.3f on the window, RMSE %.2f / R2 %.3f on test",
        model_type,
        loaded.version,
        on_window["rmse"],
        on_window["r2"],
        on_test["rmse"],
        on_test["r2"],
    )
    return result


# ---------------------------------------------------------------- the decision
def decide(
    drift: pd.DataFrame, champion: dict[str, Any], window: dict[str, Any], rules: dict[str, Any]
) -> dict[str, Any]:
    """Decide ``ok``, ``alert`` or ``retrain``, with the reasons (no I/O; stamped with the time).

    The original rules, each threshold a parameter: retrain when the champion's
    R² on the window is below ``retrain_r2_below`` or its RMSE above
    ``retrain_rmse_above``; retrain when the drift share reaches
    ``drift_retrain_share`` and R² is below ``drift_retrain_r2_below``; alert
    when the drift share reaches ``alert_drift_share``, or when the champion's prediction
    interval covers less than ``alert_interval_coverage_below`` of the window's hours.

    Args:
        drift: Output of :func:`drift_table`.
        champion: Output of :func:`score_champion_on_window`.
        window: The window's description.
        rules: ``params:monitoring.rules``.

    Returns:
        ``timestamp``, ``decision``, ``reasons``, ``drift_share``,
        ``drifted_features``, ``features``, ``window``, ``champion`` and ``rules``.
    """
    n_features = len(drift)
    drifted = drift.loc[drift["drifted"], "feature"].tolist() if n_features else []
    share = len(drifted) / n_features if n_features else 0.0
    named = f" ({', '.join(drifted)})" if drifted else ""
    retrain: list[str] = []
    alert: list[str] = []
    notes: list[str] = []
    if champion.get("available"):
        label = f"champion {champion['model_type']} v{champion['version']}"
        r2, rmse = champion["window"]["r2"], champion["window"]["rmse"]
        if r2 < rules["retrain_r2_below"]:
            retrain.append(f"{label}: R² {r2:.3f} on the window < {rules['retrain_r2_below']}")
        if rmse > rules["retrain_rmse_above"]:
            retrain.append(
                f"{label}: RMSE {rmse:.1f} on the window > {rules['retrain_rmse_above']}"
            )
        if share >= rules["drift_retrain_share"] and r2 < rules["drift_retrain_r2_below"]:
            retrain.append(
                f"drift share {share:.2f} >= {rules['drift_retrain_share']}{named} and "
                f"{label}: R² {r2:.3f} < {rules['drift_retrain_r2_below']}"
            )
        coverage = champion["window"].get("interval_coverage")
        floor = rules.get("alert_interval_coverage_below")
        if coverage is not None and floor is not None and coverage < floor:
            alert.append(
                f"{label}: its interval covers {coverage:.0%} of the window's hours "
                f"< {floor:.0%}: the band no longer holds (a change of regime?)"
            )
        if not retrain:
            notes.append(
                f"{label}: R² {r2:.3f}, RMSE {rmse:.1f} on the window "
                f"(test: R² {champion['test']['r2']:.3f}, RMSE {champion['test']['rmse']:.1f})"
            )
    else:
        notes.append(
            f"no champion of {champion['model_type']}: the error rules were not applied "
            f"({champion.get('reason', 'unknown')})"
        )
    if share >= rules["alert_drift_share"]:
        alert.append(f"drift share {share:.2f} >= {rules['alert_drift_share']}{named}")
    else:
        notes.append(f"drift share {share:.2f} < {rules['alert_drift_share']}{named}")
    decision = "retrain" if retrain else "alert" if alert else "ok"
    result = {
        "timestamp": now(),
        "decision": decision,
        "reasons": retrain + alert + notes,
        "drift_share": share,
        "drifted_features": drifted,
        "features": n_features,
        "window": window,
        "champion": champion,
        "rules": dict(rules),
    }
    logger.info("Monitoring decision: %s (%s)", decision, "; ".join(result["reasons"]))
    return result


def decision_metrics(decision: dict[str, Any]) -> dict[str, float]:
    """The decision's figures as flat metrics (drift share, champion errors).

    Args:
        decision: Output of :func:`decide`.

    Returns:
        ``drift_share``, ``drifted_features``, ``window_rows``, ``retrain``
        (1/0) and, with a champion, its ``window_*`` and ``test_*`` metrics.
    """
    metrics = {
        "drift_share": decision["drift_share"],
        "drifted_features": float(len(decision["drifted_features"])),
        "window_rows": float(decision["window"]["rows"]),
        "retrain": float(decision["decision"] == "retrain"),
    }
    champion = decision["champion"]
    if champion.get("available"):
        for split in ("window", "test"):
            metrics |= {f"champion_{split}_{k}": v for k, v in champion[split].items()}
    return metrics


def record_decision(
    decision: dict[str, Any], report: str, settings: dict[str, Any]
) -> list[dict[str, Any]]:
    """Reads the active MLflow run: the ``drift`` entry to append to ``summary.json``.

    Args:
        decision: Output of :func:`decide`.
        report: The HTML report (an input so that the entry follows its save).
        settings: ``params:registry`` (``env``).

    Returns:
        One entry: ``timestamp``, ``entry_type`` (``drift``), ``env``,
        ``decision``, ``reasons``, ``drift_share``, ``drifted_features``,
        ``window``, ``champion``, ``rules``, ``report`` (where this run's HTML
        report was logged: MLflow artifact URI, on GCS in prod) and ``mlflow_run_id``.
    """
    import mlflow

    run = mlflow.active_run()
    if run is None:
        logger.warning("No active MLflow run: the drift entry names no report")
    entry = {
        "timestamp": decision["timestamp"],
        "entry_type": "drift",
        "env": settings["env"],
        "decision": decision["decision"],
        "reasons": decision["reasons"],
        "drift_share": decision["drift_share"],
        "drifted_features": decision["drifted_features"],
        "window": decision["window"],
        "champion": decision["champion"],
        "rules": decision["rules"],
        "report": mlflow.get_artifact_uri(REPORT_ARTIFACT) if run and report else None,
        "mlflow_run_id": run.info.run_id if run else None,
    }
    return [entry]


def latest_drift_entry(history: list[dict], env: str | None = None) -> dict | None:
    """The last ``drift`` entry of ``summary.json`` (for an env), or None. For the app.

    Args:
        history: ``summary.json``.
        env: Keep only this env's entries (None: any).

    Returns:
        The entry, or None when no monitoring run was recorded.
    """
    for entry in reversed(history):
        if entry.get("entry_type") == "drift" and (env is None or entry.get("env") == env):
            return entry
    return None


# ---------------------------------------------------------------- figure and report
def plot_drift(drift: pd.DataFrame, reference: pd.DataFrame, current: pd.DataFrame) -> Figure:
    """Drift score of each feature against its threshold, and the hourly counts' shapes.

    Args:
        drift: Output of :func:`drift_table`.
        reference: ``train_baseline``.
        current: The recent window.

    Returns:
        The figure.
    """
    fig, (scores, counts) = pyplot().subplots(1, 2, figsize=(12, 0.35 * max(len(drift), 6) + 2))
    labels = [f"{f} ({s})" for f, s in zip(drift["feature"], drift["stat"], strict=True)]
    ratio = drift["score"] / drift["threshold"].where(drift["threshold"] > 0, 1.0)
    colors = np.where(drift["drifted"], "firebrick", "seagreen")
    scores.barh(labels, ratio, color=colors)
    scores.axvline(1.0, color="black", linewidth=1, linestyle="--")
    scores.invert_yaxis()
    scores.set(xlabel="score / threshold (>= 1: drifted)", title="Drift by feature")
    top = float(np.nanpercentile(reference[TARGET], 99.5)) or 1.0
    bins = np.linspace(0, max(top, 1.0), 60)
    counts.hist(
        reference[TARGET].clip(upper=top),
        bins=bins,
        density=True,
        histtype="step",
        linewidth=1.5,
        label="train_baseline",
    )
    counts.hist(
        current[TARGET].clip(upper=top),
        bins=bins,
        density=True,
        histtype="step",
        linewidth=1.5,
        label="recent window",
    )
    counts.set(
        xlabel="hourly count (the last bin: 99.5th percentile and above)",
        ylabel="density",
        yscale="log",
        title="Hourly counts: reference vs recent window",
    )
    counts.legend()
    fig.tight_layout()
    return fig


def _figure_png(fig: Figure) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    pyplot().close(fig)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _metrics_row(name: str, metrics: dict[str, float]) -> str:
    cells = "".join(f"<td>{metrics.get(k, float('nan')):.3f}</td>" for k in ("rmse", "mae", "r2"))
    return f"<tr><th>{html.escape(name)}</th>{cells}</tr>"


def render_report(
    decision: dict[str, Any],
    drift: pd.DataFrame,
    reference: pd.DataFrame,
    current: pd.DataFrame,
) -> str:
    """A self-contained HTML drift report: decision, reasons, champion, table, figure.

    Args:
        decision: Output of :func:`decide`.
        drift: Output of :func:`drift_table`.
        reference: ``train_baseline``.
        current: The recent window.

    Returns:
        The HTML page (the figure embedded as a PNG data URI).
    """
    colour = {"ok": "#2e7d32", "alert": "#ef6c00", "retrain": "#c62828"}[decision["decision"]]
    window = decision["window"]
    champion = decision["champion"]
    reasons = "".join(f"<li>{html.escape(r)}</li>" for r in decision["reasons"])
    if champion.get("available"):
        champion_html = (
            f"<h2>Champion {html.escape(champion['model_type'])} v{champion['version']} "
            f"({html.escape(str(champion['source']))})</h2><table><tr><th></th><th>RMSE</th>"
            "<th>MAE</th><th>R²</th></tr>"
            + _metrics_row("recent window", champion["window"])
            + _metrics_row("test_baseline", champion["test"])
            + "</table>"
        )
    else:
        champion_html = f"<h2>Champion</h2><p>{html.escape(str(champion.get('reason')))}</p>"
    table = drift.round(4).to_html(index=False, classes="drift", border=0, escape=True)
    png = _figure_png(plot_drift(drift, reference, current))
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>bike_traffic drift report</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
.badge {{ display: inline-block; padding: .3em .8em; border-radius: .4em; color: white;
          background: {colour}; font-weight: bold; text-transform: uppercase; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
td, th {{ padding: .25em .7em; border-bottom: 1px solid #ddd; text-align: right; }}
</style></head><body>
<h1>Drift report <span class="badge">{html.escape(decision["decision"])}</span></h1>
<p>{html.escape(decision["timestamp"])}: recent window {html.escape(window["start"])} to
{html.escape(window["end"])} ({window["rows"]} rows, {window["counters"]} counters) against
train_baseline ({len(reference)} rows). Drift share
<b>{decision["drift_share"]:.2f}</b> ({len(decision["drifted_features"])} of
{decision["features"]} features).</p>
<h2>Reasons</h2><ul>{reasons}</ul>
{champion_html}
<h2>Drift by feature</h2>{table}
<img alt="drift by feature and hourly counts" src="data:image/png;base64,{png}">
</body></html>
"""
