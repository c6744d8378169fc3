"""What every page of the app shares: data, the project and models, the sidebar, errors.

The page shows at once: its data come from the project's catalog built from the
configuration alone (:func:`bike_traffic.project.open_catalog`, no session, no MLflow).
Meanwhile a background thread opens the project through a ``KedroSession``
(:func:`bike_traffic.project.open_project`: the tracking URI, the registry) and loads
the chosen model through the registry's API
(:func:`bike_traffic.registry.loading.load_model`); the page waits for it behind a
spinner only where it shows a prediction. Every prediction is the logged MLflow model's.
Tables derived from the catalog are cached with ``st.cache_data``; the sidebar's
"Reload" button forgets everything, e.g. after a promotion.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pandas as pd
import pydeck as pdk
import streamlit as st

from bike_traffic.features import counter_table
from bike_traffic.models.spec import MODEL_SPECS
from bike_traffic.outages import OUTAGE
from bike_traffic.project import (
    Project,
    export_secrets,
    find_project,
    open_catalog,
    open_project,
)
from bike_traffic.raw_format import PARIS_BBOX
from bike_traffic.redaction import redact
from bike_traffic.registry import CHAMPION
from bike_traffic.registry.history import current_champion, recorded_versions
from bike_traffic.registry.loading import LoadedModel
from bike_traffic.serving import forecasts

#: The model types, as the app names them.
MODEL_LABELS: dict[str, str] = {name: spec.label for name, spec in MODEL_SPECS.items()}

#: App settings used when ``params:app`` does not give them.
DEFAULT_SETTINGS: dict[str, Any] = {
    "max_upload_mb": 50,
    "max_rows": 500_000,
    "preview_rows": 200,
    "default_model": "rf",
}

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
    return str(find_project()), os.environ.get("KEDRO_ENV") or "local"


@contextmanager
def shown_errors(what: str) -> Iterator[None]:
    """Show any error as one clear message (credentials hidden) and stop the page."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001  (never a traceback; st.stop/st.rerun pass through)
        st.error(f"{what}: {redact(str(exc)) or type(exc).__name__}")
        st.stop()


def load_secrets() -> None:
    """Export known secrets from ``st.secrets`` to the environment (values never shown)."""
    try:
        secrets = dict(st.secrets)
    except Exception:  # noqa: BLE001  (no secrets.toml: nothing to export)
        return
    export_secrets(secrets)


#: Opening the project and loading models, off the page's thread (one at a time).
_BACKGROUND = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bike-traffic-load")
_JOBS_LOCK = threading.Lock()


@st.cache_resource(show_spinner=False)
def _jobs() -> dict[tuple, Future]:
    """The background jobs by key; a Streamlit resource, so "Reload" forgets them too."""
    return {}


def _background(key: tuple, work: Callable[[], Any]) -> Future:
    """The background job of ``key``, started on first ask (kept until "Reload")."""
    jobs = _jobs()
    with _JOBS_LOCK:
        job = jobs.get(key)
        if job is None:
            job = jobs[key] = _BACKGROUND.submit(work)
        return job


def _project_job(path: str, env: str) -> Future:
    return _background(("project", path, env), lambda: open_project(path, env))


def _model_job(path: str, env: str, model_type: str, which: str | int) -> Future:
    project_job = _project_job(path, env)  # queued first: the model's job waits on it

    def load() -> LoadedModel:
        return project_job.result().load_model(model_type, which)

    return _background(("model", path, env, model_type, which), load)


def start_loading() -> None:
    """Start opening the project and loading the chosen model, while the page draws."""
    _model_job(*project_key(), *selection())


@st.cache_resource(show_spinner=False)
def _catalog(path: str, env: str) -> tuple[Any, dict[str, Any]]:
    return open_catalog(path, env)


def catalog() -> Any:
    """The project's catalog, from its configuration alone (fast; cached)."""
    return _catalog(*project_key())[0]


def params() -> dict[str, Any]:
    """The project's parameters."""
    return _catalog(*project_key())[1]


def project() -> Project:
    """The served project through its KedroSession (waits for the background job)."""
    job = _project_job(*project_key())
    if not job.done():
        with st.spinner("Opening the Kedro project..."):
            return job.result()
    return job.result()


def settings() -> dict[str, Any]:
    """The app's settings (``params:app``) over the defaults."""
    return {**DEFAULT_SETTINGS, **(params().get("app") or {})}


def bbox() -> dict[str, float]:
    """The bounds of Paris the cleaning pipeline checks coordinates against."""
    cleaning = params().get("data_cleaning") or {}
    return {**PARIS_BBOX, **(cleaning.get("paris_bbox") or {})}


def registry_env() -> str:
    """The ``env`` whose entries count in ``summary.json`` (``params:registry.env``)."""
    return str((params().get("registry") or {}).get("env", project_key()[1]))


def _model(path: str, env: str, model_type: str, which: str | int) -> LoadedModel:
    job = _model_job(path, env, model_type, which)
    if not job.done():
        with st.spinner(f"Loading {MODEL_LABELS[model_type]}..."):
            return job.result()
    return job.result()


@st.cache_resource(show_spinner="Loading the training data...")
def _train(path: str, env: str) -> pd.DataFrame:
    train = _catalog(path, env)[0].load("train_baseline")
    if OUTAGE in train.columns:  # a counter's usual level is measured while it works
        train = train.loc[~train[OUTAGE].fillna(False).astype(bool)]
    return train[TRAIN_COLUMNS].copy()


@st.cache_data(show_spinner=False)
def _down(path: str, env: str) -> dict[str, dict[str, str]]:
    try:
        summary = _catalog(path, env)[0].load("outage_summary")
    except Exception:  # noqa: BLE001  (no summary yet, or from before outages were flagged)
        return {}
    return dict((summary or {}).get("down_at_end") or {})


def down_counters() -> dict[str, dict[str, str]]:
    """The counters believed down (their last hours in the data flagged), since when."""
    return _down(*project_key())


def down_note(counter: str) -> str | None:
    """What to tell a user about a counter believed down, or None when it works."""
    down = down_counters().get(counter)
    if not down:
        return None
    since = pd.Timestamp(down["since"]).strftime("%d %B %Y %H:%M")
    return (
        f"{counter} is believed down: its counts are flagged ({down['reason']}) since "
        f"{since}, the end of the data. The forecast is what it would count if it worked."
    )


@st.cache_data(show_spinner=False, max_entries=4)
def _history(path: str, env: str, revision: tuple) -> list[dict]:
    return list(_catalog(path, env)[0].load("summary_history") or [])


def _summary_revision(path: str, env: str) -> tuple:
    """The summary file's revision (mtime and size, or GCS generation): the history's key."""
    try:
        return _catalog(path, env)[0].get("summary_history").revision()
    except Exception:  # noqa: BLE001  (unreachable storage: the cached history, if any)
        return ("unknown",)


@st.cache_data(show_spinner=False)
def _counters(path: str, env: str) -> pd.DataFrame:
    return counter_table(_train(path, env))


@st.cache_data(show_spinner=False)
def _profile(path: str, env: str) -> pd.DataFrame:
    return forecasts.historical_profile(_train(path, env))


@st.cache_data(show_spinner=False)
def _high_share(path: str, env: str, model_type: str, which: str | int) -> pd.DataFrame:
    thresholds = _model(path, env, model_type, which).predictor.extras["thresholds"]
    return forecasts.high_share_profile(_train(path, env), thresholds)


def history() -> list[dict]:
    """``summary.json``, read again whenever the file changes (a promotion, an archive)."""
    key = project_key()
    return _history(*key, _summary_revision(*key))


def counters() -> pd.DataFrame:
    """One row per counter seen in training, with its coordinates (cached)."""
    return _counters(*project_key())


def selection() -> tuple[str, str | int]:
    """The model type and version chosen in the sidebar.

    "champion" is resolved to the version ``summary.json`` names now, so that a model
    promoted, rolled back or archived elsewhere is what the next page run serves.
    """
    model_type = st.session_state.get("model_type") or settings()["default_model"]
    which = st.session_state.get(f"which_{model_type}", CHAMPION)
    if which == CHAMPION:
        champion = current_champion(history(), model_type, registry_env())
        if champion is not None:
            which = int(champion["version"])
    return model_type, which


def model() -> LoadedModel:
    """The model chosen in the sidebar, loaded in the background (the page waits here)."""
    with shown_errors("Cannot load this model"):
        loaded = _model(*project_key(), *selection())
    _show_serving(loaded)
    return loaded


def reference_profile(loaded: LoadedModel) -> pd.DataFrame:
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
    metric = MODEL_SPECS[model_type].headline_metric

    def label(which: str | int) -> str:
        if which == CHAMPION:
            return "champion"
        row = rows.loc[which]
        notes = [f"{metric} {row[metric]:.3f}"] if pd.notna(row[metric]) else []
        notes += ["champion"] if row["is_champion"] else []
        notes += ["test mode"] if row["test_mode"] else []
        notes += ["archived"] if row["archived"] else []
        return f"v{which}" + (f" ({', '.join(notes)})" if notes else "")

    return label


def sidebar() -> None:
    """Model type and version, "Reload", and where the chosen model is served from.

    Drawn without waiting for the model: which version serves, and from where, is
    written in by :func:`model` once the background job has loaded it.
    """
    env = registry_env()
    with st.sidebar:
        st.selectbox(
            "Model",
            list(MODEL_LABELS),
            index=list(MODEL_LABELS).index(settings()["default_model"]),
            format_func=MODEL_LABELS.get,
            key="model_type",
        )
        model_type = st.session_state["model_type"]
        versions = recorded_versions(history(), model_type, env)
        if versions.empty:
            st.error(
                f"No {MODEL_LABELS[model_type]} has been trained yet "
                f"(env {env}): run `make run` or `kedro run --pipelines {model_type}`."
            )
            st.stop()
        has_champion = bool(versions["is_champion"].any())
        # archived versions last: without a champion, the latest unarchived one is shown
        ordered = versions.sort_values(["archived", "version"], ascending=[True, False])
        options: list[str | int] = ([CHAMPION] if has_champion else []) + [
            int(v) for v in ordered["version"]
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
                f"{MODEL_LABELS[model_type]} has no champion yet "
                f"(env {env}): the latest version not archived is shown."
            )
        st.session_state["_serving_status"] = st.empty()
        start_loading()
        if st.button("Reload models", help="After a promotion or a new training run."):
            reload()
            st.rerun()
        with st.expander("Project"):
            path, kedro_env = project_key()
            st.caption(f"Project: `{path}`  \nKedro env: `{kedro_env}`")
            job = _project_job(path, kedro_env)
            if not job.done() or job.exception() is not None:
                st.caption("Tracking: opening the project...")
                return
            current = job.result()
            st.caption(f"Tracking: `{redact(current.tracking_uri or 'none')}`")
            if current.registry_error:
                st.warning(current.registry_error)


def _show_serving(loaded: LoadedModel) -> None:
    """Say in the sidebar which version serves, and from where."""
    source = (
        "the MLflow Model Registry"
        if loaded.source == "registry"
        else "summary.json (registry unreachable)"
    )
    status = st.session_state.get("_serving_status")
    shown = status if status is not None else st.sidebar
    shown.caption(f"Serving **{loaded.spec.label} v{loaded.version}** from {source}.")


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
        initial_view_state=pdk.ViewState(**forecasts.map_view(counters)),
        map_style="light",
        tooltip={"text": tooltip},
    )
