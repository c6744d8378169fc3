"""The loading API: a model type's predictor by ``champion``, ``best``, ``challenger`` or version.

:func:`load_model` resolves through the MLflow Model Registry; when the tracking server
cannot be reached it falls back to the locations ``summary.json`` stored for that
version, and says which source it used. Either way the logged model's folder is
downloaded and the predictor loaded by
:func:`bike_traffic.models.mlflow_flavor.load_predictor`: no code from the artifact runs
(no pickle, skops with the project's own allow-list, Keras in safe mode).
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from bike_traffic.models.evaluation import score_predictor
from bike_traffic.models.mlflow_flavor import load_predictor
from bike_traffic.models.predictor import Predictor
from bike_traffic.models.spec import ModelSpec, model_spec
from bike_traffic.registry import CHALLENGER, CHAMPION, NoChampionError, RegistryError
from bike_traffic.registry.client import client, not_found
from bike_traffic.registry.history import _entries, best_entry, current_champion

logger = logging.getLogger(__name__)


@dataclass
class LoadedModel:
    """A model of the project ready to predict, and where it came from."""

    spec: ModelSpec
    predictor: Predictor
    version: int | None
    source: str  # "registry" or "summary.json"
    model_uri: str
    run_id: str | None = None

    @property
    def model_type(self) -> str:
        """``rf``, ``nn`` or ``affluence_classifier``."""
        return self.spec.model_type

    @property
    def kind(self) -> str:
        """``regressor`` or ``classifier``."""
        return self.spec.kind

    def predict(self, model_input: pd.DataFrame) -> pd.DataFrame:
        """The logged model's answer to raw requests (:meth:`Predictor.predict`)."""
        return self.predictor.predict(model_input)

    def score(self, test: pd.DataFrame) -> dict[str, float]:
        """Test metrics on the rows of a feature table (:func:`score_predictor`)."""
        return score_predictor(self.predictor, test)


def resolve_version(
    spec: ModelSpec,
    which: str | int,
    history: list[dict] | None,
    env: str | None,
    mlflow_client: Any,
) -> Any:
    """The registry's ModelVersion for ``champion``, ``challenger``, ``best`` or a number."""
    name = spec.registered_name
    if isinstance(which, int) or str(which).isdigit():
        return mlflow_client.get_model_version(name, str(int(which)))
    if which == CHAMPION and history is not None:
        # summary.json is the registry's authority (docs/registry.md): the champion it
        # names is the one served, even before `kedro models reconcile` moves the alias.
        entry = current_champion(history, spec.model_type, env)
        if entry is None:
            raise NoChampionError(
                f"{name} has no champion: summary.json names none (env {env}). Train one "
                f"above its floor, or `kedro models promote {spec.model_type} <version>`."
            )
        return mlflow_client.get_model_version(name, str(int(entry["version"])))
    if which in (CHAMPION, CHALLENGER):
        from mlflow.exceptions import MlflowException

        try:
            return mlflow_client.get_model_version_by_alias(name, which)
        except MlflowException as exc:
            if which == CHAMPION and not_found(exc):
                raise NoChampionError(
                    f"{name} has no champion (the registry says: {exc.message}). Train one "
                    f"above its floor, or `kedro models promote {spec.model_type} <version>`."
                ) from exc
            raise
    if which == "best":
        entry = best_entry(history or [], spec.model_type, env)
        if entry is None:
            raise RegistryError(f"No model entry of type {spec.model_type!r} in summary.json.")
        return mlflow_client.get_model_version(name, str(entry["version"]))
    raise RegistryError(f"Unknown selector {which!r}: use 'champion', 'best' or a version.")


def _entry_for(history: list[dict], model_type: str, which: str | int, env: str | None) -> dict:
    if isinstance(which, int) or str(which).isdigit():
        for e in reversed(_entries(history, model_type, env)):
            if e.get("entry_type") == "model" and e.get("version") == int(which):
                return e
        raise RegistryError(f"No version {which} of {model_type} in summary.json.")
    entry = (
        best_entry(history, model_type, env)
        if which == "best"
        else current_champion(history, model_type, env)
    )
    if entry is None:
        raise RegistryError(f"summary.json names no {which} of type {model_type!r} (env {env}).")
    return entry


def _download(uri: str, tracking_uri: str | None, destination: Path) -> Path:
    """The logged model's folder, on the local disk (``models:/``, ``gs://``, a path...)."""
    path = uri.removeprefix("file://")
    if "://" not in path and not uri.startswith("models:") and Path(path).is_dir():
        return Path(path)
    if uri.startswith(("gs://", "s3://", "http://", "https://")):
        import fsspec

        fs, path = fsspec.core.url_to_fs(uri)
        fs.get(path.rstrip("/") + "/", str(destination), recursive=True)
        return destination
    import mlflow

    # MLflow resolves a logged model's ``models:/m-...`` URI through its global tracking
    # URI, whatever ``tracking_uri`` says: point it there for the download.
    previous = mlflow.get_tracking_uri()
    if tracking_uri:
        mlflow.set_tracking_uri(tracking_uri)
    try:
        return Path(
            mlflow.artifacts.download_artifacts(
                artifact_uri=uri, dst_path=str(destination), tracking_uri=tracking_uri
            )
        )
    finally:
        if tracking_uri:
            mlflow.set_tracking_uri(previous)


def _load(spec: ModelSpec, uri: str, tracking_uri: str | None, what: str) -> Predictor:
    with tempfile.TemporaryDirectory(prefix="bike_traffic_model_") as tmp:
        return load_predictor(_download(uri, tracking_uri, Path(tmp)), what, spec.model_type)


def load_model(
    model_type: str,
    which: str | int = CHAMPION,
    *,
    history: list[dict] | None = None,
    env: str | None = None,
    tracking_uri: str | None = None,
    use_registry: bool = True,
) -> LoadedModel:
    """Load a model type's predictor by ``champion`` (default), ``best`` or version.

    Args:
        model_type: ``rf``, ``nn`` or ``affluence_classifier`` (or their
            summary/registered names).
        which: ``"champion"``, ``"best"``, ``"challenger"`` or a version number.
        history: The ``summary.json`` history (needed for ``best`` and the fallback).
        env: Environment whose entries count in ``summary.json``.
        tracking_uri: The tracking URI (MLflow's current one when None).
        use_registry: False when the tracking server is known to be unreachable:
            go straight to ``summary.json`` instead of waiting on the server.

    Returns:
        A :class:`LoadedModel`.

    Raises:
        NoChampionError: When the registry answers that the type has no champion.
        RegistryError: When neither the registry nor ``summary.json`` knows the model.
        PredictorFormatError: When the model found cannot serve (logged before the
            raw-input predictor, or with another loader), saying how to retrain.
    """
    spec = model_spec(model_type)
    try:
        if not use_registry:
            raise ConnectionError("the MLflow registry was reported unreachable")
        mlflow_client = client(tracking_uri)
        version = resolve_version(spec, which, history, env, mlflow_client)
    except RegistryError:  # NoChampionError among them: the registry answered
        raise
    except Exception as exc:  # noqa: BLE001  (server down, alias missing...: try summary.json)
        if not history:
            raise RegistryError(
                f"Cannot load {spec.model_type} {which} from the registry ({exc}) and no "
                "summary.json history was given to fall back on."
            ) from exc
        reason = exc
    else:
        what = f"{spec.registered_name} v{version.version}"
        predictor = _load(spec, version.source, tracking_uri, what)
        logger.info(
            "Loaded %s version %s (%s) from the MLflow Model Registry",
            spec.model_type,
            version.version,
            which,
        )
        return LoadedModel(
            spec, predictor, int(version.version), "registry", version.source, version.run_id
        )
    entry = _entry_for(history, spec.model_type, which, env)
    location = entry.get("artifact_location") or entry["model_uri"]
    predictor = _load(spec, location, tracking_uri, f"{spec.registered_name} v{entry['version']}")
    logger.warning(
        "Registry unavailable (%s): loaded %s version %s from summary.json's %s",
        reason,
        spec.model_type,
        entry.get("version"),
        location,
    )
    return LoadedModel(
        spec, predictor, entry.get("version"), "summary.json", location, entry.get("run_id")
    )
