"""Predict: a counter, a date and an hour -> the predicted count (or high/low traffic)."""

from __future__ import annotations

import datetime as dt

import app_support as app
import pandas as pd
import plotly.graph_objects as go
import pydeck as pdk
import streamlit as st

from bike_traffic.calendar import PARIS_TZ
from bike_traffic.models.spec import MODEL_SPECS
from bike_traffic.serving import forecasts

COUNTER = "nom_du_compteur"
MAP_KEY = "counter_map"


def pick_from_map() -> None:
    """Make the counter clicked on the map the chosen one."""
    state = st.session_state.get(MAP_KEY) or {}
    objects = (state.get("selection") or {}).get("objects") or {}
    clicked = objects.get("counters") or []
    if clicked:
        st.session_state["counter"] = clicked[0][COUNTER]


def counter_map(counters: pd.DataFrame, chosen: str) -> pdk.Deck:
    """Every counter on a map of Paris, the chosen one in red."""
    is_chosen = counters[COUNTER] == chosen
    data = (
        counters[[COUNTER, "latitude", "longitude"]]
        .assign(
            color=[[214, 39, 40, 255] if c else [31, 119, 180, 190] for c in is_chosen],
            radius=[380 if c else 150 for c in is_chosen],
            chosen=is_chosen.to_numpy(),
        )
        .sort_values("chosen", kind="stable")
    )  # the chosen counter drawn last, on top
    return app.counters_deck(data, counters, "counters", [255, 255, 255], "{nom_du_compteur}")


def profile_chart(
    profile: pd.DataFrame,
    reference: pd.DataFrame,
    hour: int,
    classifier: bool,
    day: dt.date,
    level: float | None = None,
) -> go.Figure:
    """The day's predicted hourly profile, its interval as a band (``level``: the
    regressor's interval level), beside the counter's historical average."""
    weekend = bool(profile["is_weekend"].iloc[0])
    kind = "weekends" if weekend else "weekdays"
    shown = profile.drop_duplicates("hour")
    history = reference.loc[reference["is_weekend"] == weekend].sort_values("hour")
    fig = go.Figure()
    if shown["upper"].notna().any():
        # the interval as a band under the line: upper first, lower filled up to it
        fig.add_scatter(
            x=shown["hour"],
            y=shown["upper"],
            mode="lines",
            line={"width": 0},
            showlegend=False,
            hoverinfo="skip",
            name="upper",
        )
        fig.add_scatter(
            x=shown["hour"],
            y=shown["lower"],
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor="rgba(31, 119, 180, 0.2)",
            hoverinfo="skip",
            name=f"{level:.0%} interval",
        )
    fig.add_scatter(
        x=shown["hour"], y=shown["prediction"], mode="lines+markers", name=f"predicted, {day}"
    )
    fig.add_scatter(
        x=history["hour"],
        y=history["baseline"],
        mode="lines",
        line={"dash": "dash"},
        name=f"{'share of high hours' if classifier else 'average'} on {kind}, training data",
    )
    fig.add_vline(x=hour, line_width=1, line_color="grey")
    fig.update_layout(
        xaxis={"title": "hour (Europe/Paris)", "dtick": 2, "range": [-0.5, 23.5]},
        yaxis={
            "title": "P(high traffic)" if classifier else "bikes per hour",
            "rangemode": "tozero",
        },
        legend={"orientation": "h", "y": -0.25},
        margin={"t": 30, "b": 10},
        height=380,
    )
    return fig


counters = app.counters()
names = counters[COUNTER].tolist()
model_type, _ = app.selection()
classifier = MODEL_SPECS[model_type].is_classifier

st.title("Predict hourly bike traffic")
described = st.empty()  # which model, once it is loaded
if st.session_state.get("counter") not in names:
    st.session_state["counter"] = names[0]

left, right = st.columns([2, 3], gap="large")
with left:
    counter = st.selectbox(
        "Counter", names, key="counter", help="Type to search, or click a counter on the map."
    )
    down = app.down_note(counter)
    if down:
        st.warning(down, icon=":material/sensors_off:")
    day = st.date_input("Date", value=pd.Timestamp.now(tz=PARIS_TZ).date(), key="day")
    hour = st.selectbox(
        "Hour", list(range(24)), index=8, format_func="{:02d}:00".format, key="hour"
    )
    with st.expander("Weather at that hour (what if?)"):
        st.caption(
            "Unset, the model takes the usual weather of that day and hour (the training "
            "climatology)."
        )
        temperature = st.number_input(
            "Temperature (°C)", -20.0, 45.0, value=None, step=1.0, key="what_if_temperature"
        )
        rain = st.number_input(
            "Rain in the hour (mm)", 0.0, 50.0, value=None, step=0.5, key="what_if_rain"
        )
    what_if = {
        name: value
        for name, value in (("temperature", temperature), ("rain", rain))
        if value is not None
    }
with right:
    st.pydeck_chart(
        counter_map(counters, counter),
        on_select=pick_from_map,
        selection_mode="single-object",
        key=MAP_KEY,
        height=380,
    )

with left:
    loaded = app.model()  # loaded in the background; a spinner here until it is there
    interval = loaded.predictor.interval or {}
    interval_level = interval.get("level")
    calibrated = " to ".join(
        str(interval.get(k, "?"))[:10] for k in ("calibration_start", "calibration_end")
    )
    described.caption(
        f"{app.MODEL_LABELS[loaded.model_type]} v{loaded.version}: "
        + (
            "probability that the hour is busier than the counter's usual level."
            if classifier
            else "predicted number of bikes in the hour."
        )
    )
    with app.shown_errors("Cannot predict"):
        profile = forecasts.predict_day(loaded, counter, day, {hour: what_if} if what_if else None)
        at = forecasts.pick_hour(profile, hour)
    if at is None:
        st.warning(f"{hour:02d}:00 does not exist on {day} in Paris: the clocks go forward.")
    elif pd.notna(at["error"]):
        st.warning(f"No prediction for {counter} at {hour:02d}:00 on {day}: {at['error']}")
    elif classifier:
        level = "High" if at["prediction"] >= 0.5 else "Low"
        st.metric(
            f"Traffic at {hour:02d}:00 on {day}",
            f"{level} traffic",
            help="High: above the counter's mean hourly count on the training data.",
        )
        st.metric("Probability of high traffic", f"{at['prediction']:.2f}")
    else:
        st.metric(
            f"Predicted bikes at {hour:02d}:00 on {day}",
            f"{at['prediction']:,.0f}",
            help="Bikes counted in the hour starting at that time.",
        )
        if pd.notna(at["upper"]):
            st.caption(
                f"{interval_level:.0%} range: **{at['lower']:,.0f} to {at['upper']:,.0f}** "
                f"bikes. {interval_level:.0%} of hours fall in such a range when the days "
                f"ahead behave like the days it was calibrated on ({calibrated})."
            )
    if what_if:
        usual = forecasts.pick_hour(forecasts.predict_day(loaded, counter, day), hour)
        shown = "probability" if classifier else "bikes"
        st.caption(
            f"With that weather; with the usual weather of the day: "
            f"{usual['prediction']:,.2f} {shown}."
            if usual is not None and pd.notna(usual["prediction"])
            else "With that weather."
        )

reference = app.reference_profile(loaded)
reference = reference.loc[reference[COUNTER].astype(str) == counter]
st.subheader(f"{counter}, {day:%A %d %B %Y}")
st.plotly_chart(
    profile_chart(profile, reference, hour, classifier, day, interval_level), key="profile_chart"
)
