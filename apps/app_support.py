"""What every page of the app shares: the cached project and models, the sidebar, errors.

The project is opened once per process through a ``KedroSession``
(:func:`bike_traffic.serving.open_project`); models are loaded through the
registry's API. Both are cached with ``st.cache_resource``, the tables derived
from the catalog with ``st.cache_data``; the sidebar's "Reload" button clears
them, e.g. after a promotion.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import pydeck as pdk
import streamlit as st

from bike_traffic import registry as reg
from bike_traffic import serving

#: The columns of ``train_baseline`` the app keeps in memory.
TRAIN_COLUMNS = [
    "nom_du_compteur",
    "identifiant_du_compteur",
    "identifiant_du_site_de_comptage",
    "nom_du_site_de_comptage",
    "latitude",
    "longitude",
    "hour",
    "is_weekend",
    "comptage_horaire",
]


def project_key() -> tuple[str, str]:
    """Which project and Kedro environment this process serves (the cache key)."""
    return str(serving.find_project()), os.environ.get("KEDRO_ENV") or "local"


@contextmanager
def shown_errors(what: str) -> Iterator[None]:
    """Show any error as one clear message (credentials hidden) and stop the page."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001  (never a traceback; st.stop/st.rerun pass through)
        st.error(f"{what}: {serving.redact(str(exc)) or type(exc).__name__}")
        st.stop()


def load_secrets() -> None:
    """Export known secrets from ``st.secrets`` to the environment (values never shown)."""
    try:
        secrets = dict(st.secrets)
    except Exception:  # noqa: BLE001  (no secrets.toml: nothing to export)
        return
    serving.export_secrets(secrets)


@st.cache_resource(show_spinner="Opening the Kedro project...")
def _project(path: str, env: str) -> serving.Project:
    return serving.open_project(path, env)


def project() -> serving.Project:
    """The served project (cached)."""
    return _project(*project_key())


@st.cache_resource(show_spinner="Loading the model...", max_entries=6)
def _model(path: str, env: str, model_type: str, which: str | int) -> reg.LoadedModel:
    return _project(path, env).load_model(model_type, which)


@st.cache_resource(show_spinner="Loading the training data...")
def _train(path: str, env: str) -> pd.DataFrame:
    train = _project(path, env).catalog.load("train_baseline")
    return train[TRAIN_COLUMNS].copy()


@st.cache_data(show_spinner=False)
def _history(path: str, env: str) -> list[dict]:
    return _project(path, env).history()


@st.cache_data(show_spinner=False)
def _counters(path: str, env: str) -> pd.DataFrame:
    return serving.counter_table(_train(path, env))


@st.cache_data(show_spinner=False)
def _profile(path: str, env: str) -> pd.DataFrame:
    return serving.historical_profile(_train(path, env))


@st.cache_data(show_spinner=False)
def _high_share(path: str, env: str, model_type: str, which: str | int) -> pd.DataFrame:
    thresholds = _model(path, env, model_type, which).extras["thresholds"]
    return serving.high_share_profile(_train(path, env), thresholds)


def history() -> list[dict]:
    """``summary.json`` (cached until "Reload")."""
    return _history(*project_key())


def counters() -> pd.DataFrame:
    """One row per counter seen in training, with its coordinates (cached)."""
    return _counters(*project_key())


def selection() -> tuple[str, str | int]:
    """The model type and version chosen in the sidebar."""
    model_type = st.session_state.get("model_type") or project().settings["default_model"]
    return model_type, st.session_state.get(f"which_{model_type}", reg.CHAMPION)


def model() -> reg.LoadedModel:
    """The model chosen in the sidebar (cached)."""
    return _model(*project_key(), *selection())


def reference_profile(loaded: reg.LoadedModel) -> pd.DataFrame:
    """What a prediction is shown beside: mean count, or share of high hours, on train."""
    if loaded.kind == "classifier":
        return _high_share(*project_key(), *selection())
    return _profile(*project_key())


def reload() -> None:
    """Forget the cached project, models and tables (after a promotion, a new run)."""
    st.cache_resource.clear()
    st.cache_data.clear()


def _version_label(versions: pd.DataFrame, model_type: str) -> Any:
    rows = versions.set_index("version")
    metric = "f1_score" if reg.MODEL_TYPES[model_type]["kind"] == "classifier" else "rmse"

    def label(which: str | int) -> str:
        if which == reg.CHAMPION:
            return "champion"
        row = rows.loc[which]
        notes = [f"{metric} {row[metric]:.3f}"] if pd.notna(row[metric]) else []
        notes += ["champion"] if row["is_champion"] else []
        notes += ["test mode"] if row["test_mode"] else []
        notes += ["archived"] if row["archived"] else []
        return f"v{which}" + (f" ({', '.join(notes)})" if notes else "")

    return label


def sidebar() -> None:
    """Model type and version, which model serves and from where, and "Reload"."""
    current = project()
    with st.sidebar:
        st.selectbox(
            "Model",
            list(serving.MODEL_LABELS),
            index=list(serving.MODEL_LABELS).index(current.settings["default_model"]),
            format_func=serving.MODEL_LABELS.get,
            key="model_type",
        )
        model_type = st.session_state["model_type"]
        versions = serving.model_versions(history(), model_type, current.registry_env)
        if versions.empty:
            st.error(
                f"No {serving.MODEL_LABELS[model_type]} has been trained yet "
                f"(env {current.registry_env}): run `make run` or "
                f"`kedro run --pipelines {model_type}`."
            )
            st.stop()
        has_champion = bool(versions["is_champion"].any())
        options: list[str | int] = ([reg.CHAMPION] if has_champion else []) + [
            int(v) for v in versions["version"]
        ]
        st.selectbox(
            "Version",
            options,
            format_func=_version_label(versions, model_type),
            key=f"which_{model_type}",
            help="The champion by default; any recorded version can be chosen.",
        )
        if not has_champion:
            st.info(
                f"{serving.MODEL_LABELS[model_type]} has no champion yet "
                f"(env {current.registry_env}): the latest version is shown."
            )
        with shown_errors("Cannot load this model"):
            loaded = model()
        source = (
            "the MLflow Model Registry"
            if loaded.source == "registry"
            else "summary.json (registry unreachable)"
        )
        name = serving.MODEL_LABELS[model_type]
        st.caption(f"Serving **{name} v{loaded.version}** from {source}.")
        if st.button("Reload models", help="After a promotion or a new training run."):
            reload()
            st.rerun()
        with st.expander("Project"):
            st.caption(f"Project: `{current.path}`  \nKedro env: `{current.env}`")
            tracking = serving.redact(current.tracking_uri or "none")
            st.caption(f"Tracking: `{tracking}`")
            if current.registry_error:
                st.warning(current.registry_error)


def counters_deck(
    data: pd.DataFrame,
    counters: pd.DataFrame,
    layer_id: str,
    line_color: list[int],
    tooltip: str,
) -> pdk.Deck:
    """Counters as dots on a light map of Paris framed on every counter.

    Args:
        data: One row per dot: ``latitude``, ``longitude``, ``color`` (RGBA) and
            ``radius`` (metres), drawn in row order (the last on top).
        counters: Every counter (:func:`counters`), which the view frames.
        layer_id: The layer's id (selections name it).
        line_color: The dots' outline colour.
        tooltip: pydeck's tooltip text, ``{column}`` for a value of ``data``.

    Returns:
        The deck for ``st.pydeck_chart``.
    """
    layer = pdk.Layer(
        "ScatterplotLayer",
        data=data,
        id=layer_id,
        get_position="[longitude, latitude]",
        get_fill_color="color",
        get_radius="radius",
        radius_min_pixels=4,
        stroked=True,
        get_line_color=line_color,
        line_width_min_pixels=1,
        pickable=True,
    )
    return pdk.Deck(
        layers=[layer],
        initial_view_state=pdk.ViewState(**serving.map_view(counters)),
        map_style="light",
        tooltip={"text": tooltip},
    )
