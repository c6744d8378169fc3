"""What the Streamlit app needs beside its widgets: the project, models, features, batches.

Nothing here imports Streamlit, so all of it is tested without a browser:

* :func:`open_project` opens the Kedro project through a ``KedroSession`` (the
  catalog, the parameters, the MLflow tracking URI that kedro-mlflow sets); when
  the tracking server cannot be reached it still opens the catalog and models
  are then served from ``summary.json``'s stored artifact locations;
* :func:`hourly_rows` builds the feature rows of counters at given hours with
  ``data_cleaning``'s own :func:`add_time_features`, so inference applies
  exactly the training transform;
* :func:`read_upload` and :func:`score_upload` check an uploaded CSV (raw
  export or feature table) and score it row by row: a file that cannot be read
  raises :class:`UploadError` with a message naming the problem; rows that
  cannot be scored are returned with their line and reason, the others are scored.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pandas as pd

from bike_traffic import registry as reg
from bike_traffic.calendar import PARIS_TZ
from bike_traffic.modeling import TARGET, fit_naive_baseline
from bike_traffic.pipelines.data_cleaning.nodes import (
    ROW_NUMBER,
    add_time_features,
    fill_missing_identifiers,
    parse_fields,
    rename_columns,
)
from bike_traffic.raw_format import (
    COORDINATES,
    COUNT,
    COUNTER,
    COUNTER_ID,
    PARIS_BBOX,
    RAW_COLUMNS,
    REQUIRED_RAW_COLUMNS,
    SITE,
    SITE_ID,
    TIMESTAMP,
    to_snake_case,
)

logger = logging.getLogger(__name__)

#: Environment variable naming the Kedro project the app serves (tests, other checkouts).
PROJECT_PATH_ENV = "BIKE_TRAFFIC_PROJECT_PATH"

#: The three model types, as the app names them.
MODEL_LABELS: dict[str, str] = {
    "rf": "Random Forest",
    "nn": "Neural Net",
    "affluence_classifier": "RF Classifier (Affluence)",
}

#: App settings used when ``params:app`` does not give them.
DEFAULT_SETTINGS: dict[str, Any] = {
    "max_upload_mb": 50,
    "max_rows": 500_000,
    "preview_rows": 200,
    "default_model": "rf",
}

#: Secrets the app may take from ``st.secrets`` (the environment wins); never displayed.
SECRET_KEYS: tuple[str, ...] = (
    "MLFLOW_TRACKING_URI",
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_TRACKING_TOKEN",
    "MLFLOW_ARTIFACT_LOCATION",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "BIKE_TRAFFIC_DATA_ROOT",
    "BIKE_TRAFFIC_BUCKET",
)

FEATURE_FORMAT = "feature table"
RAW_FORMAT = "raw export"


# ---------------------------------------------------------------- project
def find_project(explicit: str | Path | None = None) -> Path:
    """The Kedro project to serve.

    Args:
        explicit: A path given by the caller; else ``$BIKE_TRAFFIC_PROJECT_PATH``;
            else the project around the working directory; else the checkout
            this package was installed from.

    Returns:
        The project's root folder.

    Raises:
        FileNotFoundError: When the chosen folder is not a Kedro project.
    """
    from kedro.utils import find_kedro_project

    given = explicit or os.environ.get(PROJECT_PATH_ENV)
    if given:
        path = Path(given).expanduser().resolve()
        if not (path / "pyproject.toml").is_file():
            raise FileNotFoundError(f"{path} is not a Kedro project (no pyproject.toml).")
        return path
    found = find_kedro_project(Path.cwd())
    return Path(found).resolve() if found else Path(__file__).resolve().parents[2]


def export_secrets(secrets: Mapping[str, Any], environ: dict[str, str] | None = None) -> list[str]:
    """Copy the known secrets into the environment, where Kedro and MLflow read them.

    A variable already set in the environment wins over the secret.

    Args:
        secrets: ``st.secrets`` (or any mapping).
        environ: The environment to fill (``os.environ`` by default).

    Returns:
        The names exported (never the values).
    """
    target = os.environ if environ is None else environ
    exported = []
    for key in SECRET_KEYS:
        if key in secrets and not target.get(key):
            target[key] = str(secrets[key])
            exported.append(key)
    return exported


def redact(text: str) -> str:
    """Hide credentials in URIs (``scheme://user:password@host`` -> ``scheme://***@host``)."""

    def hide(match: re.Match) -> str:
        parts = urlsplit(match.group(0))
        host = parts.netloc.rsplit("@", 1)[-1]
        return urlunsplit((parts.scheme, f"***@{host}", parts.path, parts.query, parts.fragment))

    return re.sub(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/@]+@[^\s]+", hide, str(text))


def _plain_context(path: Path, env: str | None, config_loader: Any = None) -> Any:
    """A KedroContext whose hooks do nothing: the project's catalog, read-only use.

    The app only loads datasets (Parquet, JSON), so it does not need the hooks
    that prepare a run; kedro-mlflow's ``after_catalog_created`` would also build
    every dataset of the catalog. No pipeline is imported either (parameters are
    not validated against them).
    """
    from kedro.framework.context import KedroContext
    from kedro.framework.hooks import specs
    from kedro.framework.hooks.markers import HOOK_NAMESPACE
    from kedro.framework.project import settings
    from pluggy import PluginManager

    hooks = PluginManager(HOOK_NAMESPACE)
    for spec in (
        specs.DataCatalogSpecs,
        specs.NodeSpecs,
        specs.PipelineSpecs,
        specs.DatasetSpecs,
        specs.KedroContextSpecs,
    ):
        hooks.add_hookspecs(spec)
    loader = config_loader or settings.CONFIG_LOADER_CLASS(
        conf_source=str(path / settings.CONF_SOURCE),
        env=env,
        **settings.CONFIG_LOADER_ARGS,
    )
    return KedroContext(
        package_name="bike_traffic",
        project_path=path,
        config_loader=loader,
        env=env,
        hook_manager=hooks,
        pipelines_to_validate=[],  # the app runs no pipeline: do not import them all
    )


@dataclass
class Project:
    """The served project: its catalog, parameters and where models come from."""

    path: Path
    env: str
    catalog: Any
    params: dict[str, Any]
    tracking_uri: str | None
    registry_error: str | None = None
    session: Any = field(default=None, repr=False)

    @property
    def registry_env(self) -> str:
        """The ``env`` whose entries count in ``summary.json`` (``params:registry.env``)."""
        return str((self.params.get("registry") or {}).get("env", self.env))

    @property
    def settings(self) -> dict[str, Any]:
        """The app's settings (``params:app``) over the defaults."""
        return {**DEFAULT_SETTINGS, **(self.params.get("app") or {})}

    @property
    def bbox(self) -> dict[str, float]:
        """The bounds of Paris the cleaning pipeline checks coordinates against."""
        return {**PARIS_BBOX, **(self.params.get("data_cleaning", {}).get("paris_bbox") or {})}

    def history(self) -> list[dict]:
        """The registry history (``summary_history``); empty when the file does not exist yet."""
        return list(self.catalog.load("summary_history") or [])

    def load_model(self, model_type: str, which: str | int = reg.CHAMPION) -> reg.LoadedModel:
        """Load a model through the registry's API (``summary.json`` when it is unreachable)."""
        return reg.load_model(
            model_type,
            which,
            history=self.history(),
            env=self.registry_env,
            tracking_uri=self.tracking_uri,
            use_registry=self.registry_error is None,
        )

    def close(self) -> None:
        """Close the Kedro session."""
        if self.session is not None:
            self.session.close()


def open_project(path: str | Path | None = None, env: str | None = None) -> Project:
    """Open the project through a ``KedroSession``, as ``kedro run`` does.

    Args:
        path: The project (see :func:`find_project`).
        env: Kedro environment; ``$KEDRO_ENV`` or ``local`` when None.

    Returns:
        The :class:`Project`. The session's context sets MLflow's tracking URI
        from ``mlflow.yml`` (kedro-mlflow) and checks that the server answers;
        the catalog is the project's, built without run hooks (see
        :func:`_plain_context`). When the server does not answer,
        ``registry_error`` says why and models come from ``summary.json``.
    """
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    from bike_traffic.hooks import TrackingUnreachableError

    root = find_project(path)
    env = env or os.environ.get("KEDRO_ENV") or "local"
    bootstrap_project(root)
    session = KedroSession.create(project_path=root, env=env)
    registry_error = None
    try:
        context = session.load_context()
        import mlflow

        tracking_uri = mlflow.get_tracking_uri()
        config_loader = context.config_loader
    except TrackingUnreachableError as exc:
        logger.warning("Serving from summary.json: %s", exc)
        session.close()
        session = None
        registry_error = redact(str(exc))
        tracking_uri = None
        config_loader = None
    context = _plain_context(root, env, config_loader)
    return Project(
        path=root,
        env=env,
        catalog=context.catalog,
        params=dict(context.params),
        tracking_uri=tracking_uri,
        registry_error=registry_error,
        session=session,
    )


# ---------------------------------------------------------------- versions
def model_versions(history: list[dict], model_type: str, env: str | None) -> pd.DataFrame:
    """Every version of a type that ``summary.json`` records, newest first.

    Returns:
        ``version``, ``timestamp``, ``test_mode``, ``is_champion`` (now), the
        headline metric and ``archived``, one row per version.
    """
    spec = reg.MODEL_TYPES[reg.model_type_of(model_type)]
    summary_type = spec["summary_type"]
    entries = [
        e
        for e in history
        if e.get("model_type") == summary_type and (env is None or e.get("env") == env)
    ]
    champion = reg.current_champion(history, model_type, env)
    archived = {e.get("version") for e in entries if e.get("entry_type") == "archive"}
    metric = "f1_score" if spec["kind"] == "classifier" else "rmse"
    rows = [
        {
            "version": int(e["version"]),
            "timestamp": e.get("timestamp"),
            "test_mode": bool(e.get("test_mode")),
            "is_champion": champion is not None and champion.get("version") == e["version"],
            metric: e.get(metric),
            "archived": e["version"] in archived,
        }
        for e in entries
        if e.get("entry_type") == "model" and e.get("version") is not None
    ]
    columns = ["version", "timestamp", "test_mode", "is_champion", metric, "archived"]
    table = pd.DataFrame(rows, columns=columns)
    return table.drop_duplicates("version", keep="last").sort_values("version", ascending=False)


# ---------------------------------------------------------------- counters & features
def counter_table(train: pd.DataFrame) -> pd.DataFrame:
    """One row per counter seen in training: identifiers, site, coordinates, mean count.

    Args:
        train: ``train_baseline``.

    Returns:
        Columns ``nom_du_compteur``, ``identifiant_du_compteur``,
        ``identifiant_du_site_de_comptage``, ``nom_du_site_de_comptage``,
        ``latitude``, ``longitude``, ``mean_count``, ``hours``; sorted by name.
    """

    grouped = train.groupby(COUNTER, observed=True)
    table = grouped.agg(
        **{
            COUNTER_ID: (COUNTER_ID, "first"),
            SITE_ID: (SITE_ID, "first"),
            SITE: (SITE, "first"),
            "latitude": ("latitude", "median"),
            "longitude": ("longitude", "median"),
            "mean_count": (TARGET, "mean"),
            "hours": (TARGET, "size"),
        }
    ).reset_index()
    table[COUNTER] = table[COUNTER].astype(str)
    return table.sort_values(COUNTER, kind="stable").reset_index(drop=True)


def historical_profile(train: pd.DataFrame) -> pd.DataFrame:
    """Mean count per counter x hour x weekday/weekend on train (the naive baseline)."""
    return fit_naive_baseline(train)


def high_share_profile(train: pd.DataFrame, thresholds: dict[str, Any]) -> pd.DataFrame:
    """Share of high-traffic hours per counter x hour x weekday/weekend on train.

    Args:
        train: ``train_baseline``.
        thresholds: The classifier's thresholds (its ``extras["thresholds"]``).

    Returns:
        Columns counter, ``hour``, ``is_weekend``, ``baseline`` (share in [0, 1]).
    """
    from bike_traffic.pipelines.affluence_classifier.nodes import label_rows

    labelled = train[[COUNTER, "hour", "is_weekend"]].assign(
        baseline=label_rows(thresholds, train).astype("float64")
    )
    return (
        labelled.groupby([COUNTER, "hour", "is_weekend"], observed=True)["baseline"]
        .mean()
        .reset_index()
    )


def day_hours(day: Any) -> pd.DatetimeIndex:
    """The hours of a local day in Paris, in UTC: 24, or 23/25 on clock-change days."""
    start = pd.Timestamp(day).normalize()
    return pd.date_range(
        start.tz_localize(PARIS_TZ),
        (start + pd.Timedelta(days=1)).tz_localize(PARIS_TZ),
        freq="h",
        inclusive="left",
    ).tz_convert("UTC")


def hourly_rows(counters: pd.DataFrame, stamps: Any) -> pd.DataFrame:
    """Feature rows of each counter at each hour, built by ``data_cleaning``'s own node.

    Args:
        counters: Rows of :func:`counter_table` (name, ids, site, coordinates).
        stamps: Tz-aware timestamps (any time zone).

    Returns:
        The clean feature table (:data:`FEATURE_COLUMNS`) with an unknown
        count, one row per counter and hour, sorted by counter then time.
    """
    utc = pd.DatetimeIndex(pd.to_datetime(stamps)).tz_convert("UTC")
    base = counters[[COUNTER, COUNTER_ID, SITE_ID, SITE, "latitude", "longitude"]]
    grid = base.loc[base.index.repeat(len(utc))].reset_index(drop=True)
    valid = grid.assign(
        timestamp_utc=np.tile(utc.to_numpy(), len(base)),
        count_value=np.nan,
        **{ROW_NUMBER: np.arange(len(grid), dtype=np.int64)},
    )
    valid["timestamp_utc"] = pd.to_datetime(valid["timestamp_utc"], utc=True)
    return add_time_features(valid)


def predict_day(
    model: reg.LoadedModel, counter: pd.Series | pd.DataFrame, day: Any
) -> pd.DataFrame:
    """The model's prediction for each hour of a local day at one counter.

    Args:
        model: A loaded model.
        counter: The counter's row of :func:`counter_table`.
        day: The local date.

    Returns:
        ``date_et_heure_de_comptage`` (local), ``hour``, ``is_weekend`` and
        ``prediction`` (count, or P(high) for the classifier), in time order.
    """
    frame = counter.to_frame().T if isinstance(counter, pd.Series) else counter
    rows = hourly_rows(frame.reset_index(drop=True), day_hours(day))
    return rows[[TIMESTAMP, "hour", "is_weekend"]].assign(prediction=model.predict(rows))


def pick_hour(profile: pd.DataFrame, hour: int) -> pd.Series | None:
    """The row of a day's profile at a local hour (the first of two on the autumn change).

    Returns:
        The row, or None when that hour does not exist that day (spring change).
    """
    found = profile.loc[profile["hour"] == int(hour)]
    return None if found.empty else found.iloc[0]


def predict_all_counters(
    model: reg.LoadedModel, counters: pd.DataFrame, day: Any, hour: int
) -> pd.DataFrame | None:
    """Every counter's prediction at one local hour of a day.

    Returns:
        ``counters`` with a ``prediction`` column, or None when the hour does
        not exist that day (spring clock change).
    """
    stamps = [s for s in day_hours(day) if s.tz_convert(PARIS_TZ).hour == int(hour)][:1]
    if not stamps:
        return None
    rows = hourly_rows(counters.reset_index(drop=True), stamps)
    predicted = pd.Series(model.predict(rows), index=rows[COUNTER].astype(str).to_numpy())
    return counters.assign(prediction=counters[COUNTER].astype(str).map(predicted).to_numpy())


def map_view(counters: pd.DataFrame) -> dict[str, float]:
    """Where the app's maps open: the counters' centre, at a zoom that shows Paris."""
    return {
        "latitude": float(counters["latitude"].mean()),
        "longitude": float(counters["longitude"].mean()),
        "zoom": 11.2,
    }


def model_counters(model: reg.LoadedModel, fallback: pd.Series) -> set[str]:
    """The counters a model was trained on (its encoder's or its vocabulary's).

    Args:
        model: A loaded model.
        fallback: Counter names to use when the model does not say (training counters).

    Returns:
        The set of counter names.
    """
    try:
        if model.model_type == "nn":
            return {str(c) for c in model.extras["preprocessor"]["vocabulary"]}
        encoder = model.model.named_steps["preprocess"].named_transformers_["counter"]
        return {str(c) for c in encoder.categories_[0]}
    except (AttributeError, KeyError, IndexError, TypeError):
        return {str(c) for c in fallback}


# ---------------------------------------------------------------- uploads
class UploadError(ValueError):
    """An uploaded file that cannot be scored at all; the message names the problem."""


@dataclass
class Upload:
    """An uploaded CSV read as text: its format and its rows."""

    name: str
    fmt: str  # RAW_FORMAT or FEATURE_FORMAT
    frame: pd.DataFrame  # every column as text


def _header_cells(line: str, sep: str) -> list[str]:
    return [c.strip().strip('"').strip() for c in next(csv.reader([line], delimiter=sep))]


def _has_feature_columns(snake: set[str]) -> bool:
    return COUNTER in snake and (TIMESTAMP in snake or {"date", "hour"} <= snake)


def read_upload(name: str, data: bytes, max_mb: float, max_rows: int) -> Upload:
    """Read an uploaded CSV and tell which format it is in.

    Two formats are accepted: the City of Paris raw export (``;``, French
    headers, as the portal gives it) and the clean feature table
    (``nom_du_compteur`` and ``date_et_heure_de_comptage``, or ``date`` and
    ``hour``; ``,`` or ``;``).

    Args:
        name: The file's name (for messages).
        data: Its bytes.
        max_mb: Size limit in MB (10^6 bytes).
        max_rows: Row limit.

    Returns:
        The :class:`Upload`.

    Raises:
        UploadError: On an empty file, a file over the limits, text that is
            not UTF-8, a wrong delimiter, missing columns, or no rows.
    """
    size_mb = len(data) / 1e6
    if size_mb > max_mb:
        size = f"{size_mb:.1f}" if size_mb >= 1 else f"{size_mb:.3f}"
        raise UploadError(f"{name} is {size} MB: the limit is {max_mb:g} MB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UploadError(
            f"{name} is not UTF-8 text (byte {exc.start}): save it as UTF-8 CSV."
        ) from exc
    if not text.strip():
        raise UploadError(f"{name} is empty: no header, no rows.")
    header = text.lstrip("\r\n").splitlines()[0]
    semicolon, comma = _header_cells(header, ";"), _header_cells(header, ",")
    required = set(REQUIRED_RAW_COLUMNS)
    if required <= set(semicolon):
        fmt, sep = RAW_FORMAT, ";"
    elif len(required & set(comma)) >= 3 or len(required & set(header.split("\t"))) >= 3:
        other = "," if len(required & set(comma)) >= 3 else "\t"
        raise UploadError(
            f"{name} uses {other!r} as delimiter: the raw export is ';'-separated "
            "(as the City of Paris portal gives it)."
        )
    elif _has_feature_columns({to_snake_case(c) for c in comma}):
        fmt, sep = FEATURE_FORMAT, ","
    elif _has_feature_columns({to_snake_case(c) for c in semicolon}):
        fmt, sep = FEATURE_FORMAT, ";"
    else:
        raw_found = [c for c in RAW_COLUMNS if c in semicolon]
        if raw_found:
            missing = [c for c in REQUIRED_RAW_COLUMNS if c not in semicolon]
            raise UploadError(f"{name} looks like the raw export but lacks column(s) {missing}.")
        snake = {to_snake_case(c) for c in (comma if len(comma) >= len(semicolon) else semicolon)}
        if snake & {COUNTER, TIMESTAMP, "date", "hour", "latitude", COUNT}:
            missing = [c for c in (COUNTER, TIMESTAMP) if c not in snake]
            raise UploadError(
                f"{name} looks like the feature table but lacks column(s) {missing} "
                "(the timestamp may be replaced by 'date' and 'hour')."
            )
        raise UploadError(
            f"{name} is neither the raw export (';'-separated, with columns "
            f"{list(REQUIRED_RAW_COLUMNS)}) nor the feature table (columns "
            f"{[COUNTER, TIMESTAMP]}). Its header is: {header[:200]!r}"
        )
    try:
        frame = pd.read_csv(
            io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, skip_blank_lines=True
        )
    except (pd.errors.ParserError, ValueError) as exc:
        raise UploadError(f"{name} is not a valid {sep!r}-separated CSV file: {exc}") from exc
    if frame.empty:
        raise UploadError(f"{name} has a header but no rows.")
    if len(frame) > max_rows:
        raise UploadError(f"{name} has {len(frame):,} rows: the limit is {max_rows:,}.")
    return Upload(name=name, fmt=fmt, frame=frame)


_OFFSET = re.compile(r"\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?\s*(?:Z|[+-]\d{2}:?\d{2})$")


def localise_timestamps(text: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Give Paris's UTC offset to timestamps written without one.

    The export always carries an offset; a hand-made file may not, and its
    times are then read as Paris local time. Local times that the clock
    change makes ambiguous or non-existent are refused.

    Args:
        text: Timestamps as text.

    Returns:
        The timestamps as text (with an offset wherever one could be given),
        and a reason per row (missing where there is none).
    """
    stripped = text.astype("string").str.strip()
    reasons = pd.Series(pd.NA, index=text.index, dtype="string")
    blank = stripped.isna() | (stripped == "")
    reasons = reasons.mask(blank, "missing timestamp")
    naive = ~blank & ~stripped.str.contains(_OFFSET, regex=True).fillna(False)
    if not naive.any():
        return stripped, reasons
    parsed = pd.to_datetime(stripped[naive], format="ISO8601", errors="coerce")
    local = parsed.dt.tz_localize(PARIS_TZ, ambiguous="NaT", nonexistent="NaT")
    clock = parsed.notna() & local.isna()
    reasons.loc[clock[clock].index] = (
        "local time is ambiguous or does not exist in Paris (clock change): add the UTC offset"
    )
    good = local.dropna()
    out = stripped.copy()
    out.loc[good.index] = good.map(lambda t: t.isoformat()).astype("string")
    return out, reasons


def _as_raw(upload: Upload) -> pd.DataFrame:
    """The upload in the export's snake_case columns (what ``parse_fields`` reads)."""
    frame = upload.frame
    renamed = frame.set_axis([to_snake_case(str(c)) for c in frame.columns], axis=1)
    renamed = renamed.loc[:, ~renamed.columns.duplicated()]
    if upload.fmt == RAW_FORMAT:
        return renamed
    blank = pd.Series("", index=renamed.index, dtype=object)
    if TIMESTAMP in renamed.columns:
        stamps = renamed[TIMESTAMP]
    else:  # date + hour, in Paris local time
        day = pd.to_datetime(renamed["date"].str.strip(), format="ISO8601", errors="coerce")
        hour = pd.to_numeric(renamed["hour"], errors="coerce")
        local = day.dt.normalize() + pd.to_timedelta(hour, unit="h")
        stamps = local.dt.strftime("%Y-%m-%dT%H:%M:%S").fillna("")
        stamps = stamps.mask(day.isna() | hour.isna(), renamed["date"] + " " + renamed["hour"])
    if {"latitude", "longitude"} <= set(renamed.columns):
        lat, lon = renamed["latitude"].str.strip(), renamed["longitude"].str.strip()
        coordinates = (lat + "," + lon).where((lat != "") & (lon != ""), "")
    else:
        coordinates = blank
    return pd.DataFrame(
        {
            COUNTER_ID: renamed.get(COUNTER_ID, blank),
            COUNTER: renamed[COUNTER],
            SITE_ID: renamed.get(SITE_ID, blank),
            SITE: renamed.get(SITE, blank),
            COUNT: renamed.get(COUNT, blank),
            TIMESTAMP: stamps,
            COORDINATES: coordinates,
        }
    )


@dataclass
class BatchResult:
    """A scored upload: the rows scored and the rows refused, each with its file line."""

    fmt: str
    rows_in: int
    scored: pd.DataFrame
    refused: pd.DataFrame


def score_upload(
    upload: Upload,
    model: reg.LoadedModel,
    counters: pd.DataFrame,
    bbox: dict[str, float] | None = None,
) -> BatchResult:
    """Score every row of an upload that can be scored; give the reason for the others.

    The rows go through ``data_cleaning``'s own nodes (rename, parse, fill
    identifiers, time features), as in training. A row is refused, with the
    first reason that applies, when its timestamp is missing or unparseable,
    its counter name is missing, its counter is not one the model was trained
    on ("unknown counter": the models would only guess for it), or its
    coordinates are missing (and not known from training) or outside Paris.
    The count is not needed; when given, it is returned as ``observed``.

    Args:
        upload: Output of :func:`read_upload`.
        model: The loaded model to score with.
        counters: :func:`counter_table` of the training data.
        bbox: Bounds of Paris (the cleaning pipeline's).

    Returns:
        The :class:`BatchResult` (both tables keep the file's order; ``line``
        is the line in the file, the header being line 1).
    """
    box = {**PARIS_BBOX, **(bbox or {})}
    raw = _as_raw(upload)
    stamps, stamp_reasons = localise_timestamps(raw[TIMESTAMP])
    coordinates = raw[COORDINATES].astype(str)
    if not coordinates.str.contains(",", regex=False).any():
        # parse_fields needs one "lat,lon" somewhere to split into two columns
        coordinates = coordinates + ","
    renamed = rename_columns(
        raw.assign(**{TIMESTAMP: stamps.fillna("").astype(object), COORDINATES: coordinates})
    )
    renamed = renamed.set_axis([str(c) for c in renamed.columns], axis=1)
    filled = fill_missing_identifiers(parse_fields(renamed))
    known = counters.set_index(COUNTER)
    for column in ("latitude", "longitude"):
        filled[column] = filled[column].fillna(filled[COUNTER].map(known[column]))
    trained_on = model_counters(model, counters[COUNTER])
    lat, lon = filled["latitude"], filled["longitude"]
    name = filled[COUNTER]
    shown_name = name.fillna("").astype(str)
    stamp_text = renamed[TIMESTAMP].astype(str)
    outside = ~lat.between(box["lat_min"], box["lat_max"]) | ~lon.between(
        box["lon_min"], box["lon_max"]
    )
    # (rows that fail, their reason): the text is built for the failing rows only
    checks = [
        (stamp_reasons.notna(), lambda rows: stamp_reasons[rows].astype(object)),
        (
            filled["timestamp_utc"].isna(),
            lambda rows: (
                "unparseable timestamp "
                + stamp_text[rows].map(repr)
                + " (expected ISO 8601, e.g. 2025-01-18T08:00:00+01:00)"
            ),
        ),
        (name.isna(), lambda rows: "missing counter name"),
        (
            ~shown_name.isin(trained_on),
            lambda rows: (
                "unknown counter "
                + shown_name[rows].map(repr)
                + ": the model was not trained on it"
            ),
        ),
        (lat.isna() | lon.isna(), lambda rows: "missing coordinates"),
        (
            outside,
            lambda rows: (
                "coordinates outside Paris ("
                + lat[rows].astype(str)
                + ", "
                + lon[rows].astype(str)
                + ")"
            ),
        ),
    ]
    reason = pd.Series(None, index=filled.index, dtype=object)
    for failed, why in checks:  # the first failing check wins
        rows = failed.fillna(False).astype(bool) & reason.isna()
        if rows.any():
            reason.loc[rows] = why(rows)
    bad = reason.notna().to_numpy()
    refused = pd.DataFrame(
        {
            "line": filled.loc[bad, ROW_NUMBER].to_numpy(),
            "counter": raw.loc[bad, COUNTER].to_numpy(),
            "timestamp": raw.loc[bad, TIMESTAMP].to_numpy(),
            "reason": reason[bad].to_numpy(),
        }
    )
    scored = _score_rows(filled.loc[~bad].reset_index(drop=True), model)
    return BatchResult(fmt=upload.fmt, rows_in=len(raw), scored=scored, refused=refused)


def _score_rows(valid: pd.DataFrame, model: reg.LoadedModel) -> pd.DataFrame:
    """Time features and predictions for the rows that can be scored, in file order."""
    if valid.empty:
        columns = ["line", "counter", "timestamp", "hour", _prediction_column(model)]
        return pd.DataFrame(columns=columns)
    features = add_time_features(valid).sort_values(ROW_NUMBER, kind="stable")
    features = features.reset_index(drop=True)
    output = model.predict(features)
    scored = pd.DataFrame(
        {
            "line": features[ROW_NUMBER].to_numpy(),
            "counter": features[COUNTER].astype(str).to_numpy(),
            "timestamp": iso_local(features[TIMESTAMP]),
            "hour": features["hour"].to_numpy(),
        }
    )
    if model.kind == "classifier":
        scored["p_high"] = np.round(output, 4)
        scored["traffic"] = np.where(output >= 0.5, "high", "low")
    else:
        scored["predicted_count"] = np.round(output, 1)
    if features[TARGET].notna().any():
        scored["observed"] = features[TARGET].to_numpy()
    scored["model"] = f"{model.model_type} v{model.version}"
    return scored


def iso_local(stamps: pd.Series) -> np.ndarray:
    """Tz-aware timestamps as ISO 8601 text with their offset, e.g. ``2024-07-05T08:00:00+02:00``.

    Vectorised: ``Timestamp.isoformat`` row by row takes over a second for 100k rows.
    """
    naive = stamps.dt.tz_localize(None)
    text = np.datetime_as_string(naive.to_numpy().astype("datetime64[s]"), unit="s")
    utc = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    minutes = ((naive - utc).dt.total_seconds() // 60).astype("int64")

    def offset(value: int) -> str:
        sign, value = ("+", value) if value >= 0 else ("-", -value)
        return f"{sign}{value // 60:02d}:{value % 60:02d}"

    suffix = minutes.map({v: offset(int(v)) for v in minutes.unique()}).to_numpy(dtype=str)
    return np.char.add(text.astype(str), suffix).astype(object)


def _prediction_column(model: reg.LoadedModel) -> str:
    return "p_high" if model.kind == "classifier" else "predicted_count"


def describe_refusals(refused: pd.DataFrame) -> pd.Series:
    """Count of refused rows per kind of reason (the reason without its values and details)."""
    kinds = refused["reason"].astype(str).str.split(r" '|: | \(", n=1, regex=True).str[0]
    return kinds.value_counts(sort=False)
