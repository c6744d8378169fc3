"""Paris bike traffic: predict, score a file, follow the registry, see the map.

Run from the project root, after training (``make run``)::

    streamlit run apps/bike_traffic_app.py

The app serves the Kedro project around the working directory (or the one
named by ``BIKE_TRAFFIC_PROJECT_PATH``) in the environment ``KEDRO_ENV``
(default ``local``): data through the project's catalog, models through the
registry's loading API, loaded in the background while the page shows.
Credentials come from ``st.secrets`` or the environment and are never displayed.
"""

from __future__ import annotations

import app_support as app
import streamlit as st

st.set_page_config(page_title="Paris bike traffic", page_icon=":bike:", layout="wide")

app.load_secrets()
with app.shown_errors("Cannot open the Kedro project"):
    app.catalog()  # the configuration alone: the page shows while the model loads

pages = st.navigation(
    [
        st.Page("views/predict.py", title="Predict", icon=":material/online_prediction:"),
        st.Page("views/batch.py", title="Batch", icon=":material/upload_file:"),
        st.Page("views/registry.py", title="Registry", icon=":material/history:"),
        st.Page("views/traffic_map.py", title="Map", icon=":material/map:"),
    ]
)
app.sidebar()
pages.run()
