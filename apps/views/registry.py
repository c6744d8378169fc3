"""Registry: which model serves, and how it got there (summary.json's history)."""

from __future__ import annotations

import json

import app_support as app
import pandas as pd
import plotly.express as px
import streamlit as st

from bike_traffic.models.spec import MODEL_SPECS
from bike_traffic.registry.history import champion_history, current_champion

METRICS = {
    "rmse": "RMSE (regressors, lower is better)",
    "r2": "R² (regressors)",
    "mae": "MAE (regressors)",
    "f1_score": "F1 (classifier)",
    "accuracy": "accuracy (classifier)",
    "roc_auc": "ROC-AUC (classifier)",
}
WIDE = {"details": st.column_config.TextColumn("details", width="large")}
HOW = {
    "model": "promoted when registered",
    "decision": "promoted when registered",
    "promotion": "promoted by hand or as a pending challenger",
    "rollback": "rolled back to",
}
TYPE_LABELS = {spec.summary_type: spec.label for spec in MODEL_SPECS.values()}


def _text(value: object) -> str:
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, default=str)
    return "" if value is None else str(value)


def history_table(entries: list[dict]) -> pd.DataFrame:
    """One row per entry with the fields people read; nested fields as text."""
    rows = []
    for e in entries:
        version = e.get("version", e.get("to_version"))
        rows.append(
            {
                "timestamp": e.get("timestamp"),
                "entry": e.get("entry_type"),
                "model": TYPE_LABELS.get(e.get("model_type"), e.get("model_type")),
                "env": e.get("env"),
                "version": None if version is None else int(version),
                "outcome": e.get("outcome") or e.get("decision"),
                "details": _text(e.get("reasons") or e.get("reason") or e.get("source")),
                "rmse": e.get("rmse", (e.get("metrics") or {}).get("rmse")),
                "r2": e.get("r2", (e.get("metrics") or {}).get("r2")),
                "f1_score": e.get("f1_score", (e.get("metrics") or {}).get("f1_score")),
                "test_mode": e.get("test_mode"),
            }
        )
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    table["timestamp"] = pd.to_datetime(table["timestamp"], utc=True, errors="coerce")
    return table.sort_values("timestamp", ascending=False, kind="stable")


def metrics_over_time(entries: list[dict], metric: str) -> pd.DataFrame:
    """Test metrics of registered versions and of champion re-scorings, over time."""
    rows = []
    for e in entries:
        kind = e.get("entry_type")
        if kind not in ("model", "rescore"):
            continue
        value = (e.get("metrics") or {}).get(metric, e.get(metric))
        if value is None:
            continue
        rows.append(
            {
                "timestamp": pd.Timestamp(e["timestamp"]),
                metric: float(value),
                "model": TYPE_LABELS.get(e.get("model_type"), e.get("model_type")),
                "what": "champion re-scored"
                if kind == "rescore"
                else ("new version (test mode)" if e.get("test_mode") else "new version"),
                "version": e.get("version"),
            }
        )
    return pd.DataFrame(rows)


def generic_table(entries: list[dict]) -> pd.DataFrame:
    """Any entries as a table, nested values as text (drift reports have their own fields)."""
    return pd.DataFrame([{k: _text(v) for k, v in e.items()} for e in entries])


everything = app.history()
with app.shown_errors("Cannot open the Kedro project"):
    current = app.project()
st.title("Model registry")
if current.registry_error:
    st.warning(
        f"MLflow registry unreachable, models are served from summary.json: "
        f"{current.registry_error}"
    )
else:
    st.caption(
        f"MLflow Model Registry at `{app.redact(current.tracking_uri or '')}`; history "
        f"from summary.json ({len(everything):,} entries)."
    )
all_envs = st.toggle("All environments", value=False, help=f"Default: env {current.registry_env}")
entries = [e for e in everything if all_envs or e.get("env") in (None, current.registry_env)]

st.subheader("Champions")
columns = st.columns(len(MODEL_SPECS))
for column, model_type in zip(columns, MODEL_SPECS, strict=True):
    label = app.MODEL_LABELS[model_type]
    champion = current_champion(everything, model_type, current.registry_env)
    with column:
        if champion is None:
            st.metric(label, "none")
            st.caption("No version has cleared the promotion rule yet.")
            continue
        changes = champion_history(everything, model_type, current.registry_env)
        headline = ", ".join(
            f"{k} {champion[k]:.3f}"
            for k in ("rmse", "r2", "accuracy", "f1_score")
            if isinstance(champion.get(k), int | float)
        )
        how = HOW.get(changes[-1]["entry_type"], changes[-1]["entry_type"])
        st.metric(label, f"v{champion['version']}")
        st.caption(f"Champion since {changes[-1]['timestamp']} ({how}). Test: {headline}.")

st.subheader("Test metrics over time")
metric = st.selectbox("Metric", list(METRICS), format_func=METRICS.get, key="registry_metric")
points = metrics_over_time(entries, metric)
if points.empty:
    st.info(f"No entry records {metric} yet.")
else:
    fig = px.line(
        points.sort_values("timestamp"),
        x="timestamp",
        y=metric,
        color="model",
        symbol="what",
        markers=True,
        hover_data=["version"],
    )
    fig.update_traces(marker={"size": 10})
    fig.update_layout(height=360, margin={"t": 20}, legend={"orientation": "h", "y": -0.3})
    st.plotly_chart(fig, key="metrics_chart")

st.subheader("Promotions, rollbacks and decisions")
events = [
    e for e in entries if e.get("entry_type") in ("promotion", "rollback", "archive", "decision")
]
if events:
    st.dataframe(history_table(events), hide_index=True, key="events", column_config=WIDE)
else:
    st.info("No promotion, rollback or decision recorded yet.")

drift = [e for e in entries if e.get("entry_type") == "drift"]
if drift:
    st.subheader("Drift monitoring")
    latest = max(drift, key=lambda e: str(e.get("timestamp")))
    a, b = st.columns(2)
    a.metric("Latest drift decision", str(latest.get("decision", "?")))
    if isinstance(latest.get("drift_share"), int | float):
        b.metric("Share of drifted features", f"{latest['drift_share']:.0%}")
    st.caption(f"{latest.get('timestamp')}: {_text(latest.get('reasons')) or 'no reason given'}")
    st.dataframe(generic_table(drift), hide_index=True, key="drift")

st.subheader("Full history (summary.json)")
st.dataframe(history_table(entries), hide_index=True, key="history", column_config=WIDE)
