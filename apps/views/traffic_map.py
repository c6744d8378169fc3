"""Map: every counter of Paris coloured by its predicted traffic at a date and hour."""

from __future__ import annotations

import app_support as app
import numpy as np
import pandas as pd
import streamlit as st

from bike_traffic.calendar import PARIS_TZ
from bike_traffic.serving import forecasts

COUNTER = "nom_du_compteur"
#: Low -> high: green, yellow, red.
STOPS = np.array([[26, 150, 65], [255, 204, 0], [215, 25, 28]], dtype=float)


def colours(values: pd.Series, top: float) -> list[list[int]]:
    """RGBA colours from green (0) through yellow to red (``top`` and above)."""
    share = np.clip(values.to_numpy(dtype=float) / (top or 1.0), 0, 1) * (len(STOPS) - 1)
    low = np.floor(share).astype(int).clip(0, len(STOPS) - 2)
    mix = (share - low)[:, None]
    rgb = STOPS[low] * (1 - mix) + STOPS[low + 1] * mix
    return [[*map(int, c), 220] for c in rgb]


loaded = app.model()
classifier = loaded.kind == "classifier"
counters = app.counters()
st.title("Predicted traffic across Paris")
left, right = st.columns(2)
day = left.date_input("Date", value=pd.Timestamp.now(tz=PARIS_TZ).date(), key="map_day")
hour = right.selectbox(
    "Hour", list(range(24)), index=8, format_func="{:02d}:00".format, key="map_hour"
)
with app.shown_errors("Cannot predict"):
    predicted = forecasts.predict_all_counters(loaded, counters, day, hour)
if predicted is None:
    st.warning(f"{hour:02d}:00 does not exist on {day} in Paris: the clocks go forward.")
    st.stop()

top = 1.0 if classifier else float(np.nanpercentile(predicted["prediction"], 95))
down = app.down_counters()
is_down = predicted[COUNTER].astype(str).isin(list(down)).to_numpy()
colour = colours(predicted["prediction"], top)
shown = predicted.assign(
    # a counter believed down is drawn grey: its forecast is what it would count if it worked
    color=[[128, 128, 128, 200] if d else c for d, c in zip(is_down, colour, strict=True)],
    radius=80 + 260 * np.clip(predicted["prediction"].to_numpy() / (top or 1.0), 0, 1),
    label=[
        (f"P(high) {p:.2f}" if classifier else f"{p:,.0f} bikes/h")
        + (f" (counter down since {down[name]['since'][:10]})" if name in down else "")
        for p, name in zip(predicted["prediction"], predicted[COUNTER].astype(str), strict=True)
    ],
)
st.caption(
    f"{app.MODEL_LABELS[loaded.model_type]} v{loaded.version}, {day:%A %d %B %Y} at "
    f"{hour:02d}:00. Colour: "
    + (
        "probability of high traffic, green 0 to red 1."
        if classifier
        else f"predicted bikes per hour, green 0 to red {top:,.0f} (95th percentile) and above."
    )
    + (f" Grey: {len(down)} counter(s) believed down (docs/outages.md)." if down else "")
)
# the busiest first, so that a quiet counter beside a busy one stays visible on top
busiest_first = shown.sort_values("prediction", ascending=False)[
    [COUNTER, "latitude", "longitude", "color", "radius", "label"]
]
st.pydeck_chart(
    app.counters_deck(
        busiest_first, counters, "traffic", [80, 80, 80], "{nom_du_compteur}\n{label}"
    ),
    height=560,
    key="traffic_map",
)
ranked = predicted.sort_values("prediction", ascending=False)[[COUNTER, "prediction"]]
ranked = ranked.rename(
    columns={COUNTER: "counter", "prediction": "P(high)" if classifier else "predicted bikes/h"}
)
with st.expander(f"All {len(ranked)} counters, busiest first"):
    st.dataframe(ranked.round(2), hide_index=True, key="ranking")
