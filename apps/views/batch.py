"""Batch: upload a CSV (raw export or feature table) -> a prediction per row, as CSV."""

from __future__ import annotations

import app_support as app
import pandas as pd
import streamlit as st

from bike_traffic.serving import uploads


def example_file(counters: pd.DataFrame) -> bytes:
    """A small feature-table file a new user can start from."""
    names = counters["nom_du_compteur"].head(2).tolist()
    rows = [
        {"nom_du_compteur": name, "date_et_heure_de_comptage": f"2025-06-02T{h:02d}:00:00+02:00"}
        for name in names
        for h in (8, 18)
    ]
    return pd.DataFrame(rows).to_csv(index=False).encode("utf-8")


@st.cache_data(show_spinner="Scoring...", max_entries=4)
def scored(
    name: str, data: bytes, model_type: str, which: str | int, project_key: tuple
) -> uploads.BatchResult:
    """Read and score an upload (cached per file and model: reruns do not score again)."""
    settings = app.settings()
    upload = uploads.read_upload(name, data, settings["max_upload_mb"], settings["max_rows"])
    return uploads.score_upload(upload, app.model())


loaded = app.model()
settings = app.settings()
st.title("Score a file")
st.markdown(
    "Upload a CSV in either format:\n"
    "- the **raw export** of the City of Paris portal (`;`-separated, French headers such as "
    "`Nom du compteur`, `Date et heure de comptage`, `Coordonnées géographiques`), as "
    "downloaded;\n"
    "- a **requests table** (`nom_du_compteur` and `date_et_heure_de_comptage`, or `date` "
    "and `hour`). Times without a UTC offset are Paris time.\n\n"
    f"Each row gets a prediction from **{app.MODEL_LABELS[loaded.model_type]} "
    f"v{loaded.version}** (change it in the sidebar). Rows that cannot be scored are listed "
    f"with the reason; the others are still scored. Limit: {settings['max_upload_mb']:g} MB, "
    f"{settings['max_rows']:,} rows."
)
st.download_button(
    "Example file",
    example_file(app.counters()),
    file_name="example_feature_table.csv",
    mime="text/csv",
    on_click="ignore",
)
uploaded = st.file_uploader(
    "CSV file", type=["csv"], key="batch_file", max_upload_size=int(settings["max_upload_mb"])
)
if uploaded is None:
    st.stop()

model_type, which = app.selection()
try:
    result = scored(uploaded.name, uploaded.getvalue(), model_type, which, app.project_key())
except uploads.UploadError as exc:
    st.error(str(exc))
    st.stop()
except Exception as exc:  # noqa: BLE001  (never a traceback on the page)
    st.error(f"Cannot score {uploaded.name}: {app.redact(str(exc)) or type(exc).__name__}")
    st.stop()

st.success(
    f"{uploaded.name} ({result.fmt}): {len(result.scored):,} of {result.rows_in:,} rows scored, "
    f"{len(result.refused):,} refused."
)
a, b, c = st.columns(3)
a.metric("Rows in the file", f"{result.rows_in:,}")
b.metric("Rows scored", f"{len(result.scored):,}")
c.metric("Rows refused", f"{len(result.refused):,}")

if len(result.scored):
    stem = uploaded.name.rsplit(".", 1)[0]
    st.download_button(
        "Download the predictions (CSV)",
        uploads.as_csv(result.scored),
        file_name=f"{stem}_predictions.csv",
        mime="text/csv",
        type="primary",
        on_click="ignore",
        key="download_predictions",
    )
    shown = min(len(result.scored), int(settings["preview_rows"]))
    st.subheader(f"Predictions (first {shown:,} rows)")
    st.dataframe(result.scored.head(shown), hide_index=True, key="preview")
else:
    st.error(f"No row of {uploaded.name} could be scored: see the reasons below.")

if len(result.refused):
    st.subheader("Rows that could not be scored")
    counts = uploads.describe_refusals(result.refused)
    st.warning(
        "; ".join(f"{n:,} row(s): {reason}" for reason, n in counts.items())
        + ". `line` is the line in the file (the header is line 1)."
    )
    st.dataframe(result.refused, hide_index=True, key="refused")
    st.download_button(
        "Download the refused rows (CSV)",
        uploads.as_csv(result.refused),
        file_name=f"{uploaded.name.rsplit('.', 1)[0]}_refused.csv",
        mime="text/csv",
        on_click="ignore",
        key="download_refused",
    )
