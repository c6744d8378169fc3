"""The model registry: MLflow Model Registry (for people) + ``summary.json`` (for automation).

This module holds what the ``registry`` pipeline, the ``kedro models`` CLI, the
Streamlit app and the notebooks share:

* the promotion rule (:func:`decide`), which exists once;
* reading the history (:func:`current_champion`, :func:`champion_history`,
  :func:`best_entry`) — the champion of each type can always be derived from
  ``summary.json`` alone;
* registry operations through :class:`mlflow.MlflowClient` (register a version,
  move the ``champion``/``challenger`` aliases, tag versions);
* the loading API (:func:`load_model`): by ``champion`` (the default), ``best``
  or a version number, through the registry alias, falling back to
  ``summary.json``'s stored artifact locations when the tracking server cannot
  be reached, and saying which source it used.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

import numpy as np
import pandas as pd

from bike_traffic.modeling import TARGET, classification_metrics, regression_metrics

logger = logging.getLogger(__name__)

CHAMPION = "champion"
CHALLENGER = "challenger"

#: Each model type of the project: its pipeline, registered name, summary type,
#: MLflow flavour, the metric that ranks it and its extra artifacts.
MODEL_TYPES: dict[str, dict[str, Any]] = {
    "rf": {
        "registered_name": "bike-traffic-rf",
        "summary_type": "rf",
        "flavor": "mlflow.sklearn",
        "logged_name": "rf_model",
        "kind": "regressor",
        "extras": {},
    },
    "nn": {
        "registered_name": "bike-traffic-nn",
        "summary_type": "nn",
        "flavor": "mlflow.tensorflow",
        "logged_name": "nn_model",
        "kind": "regressor",
        "extras": {"preprocessor": "nn/preprocessor.json"},
    },
    "affluence_classifier": {
        "registered_name": "bike-traffic-affluence",
        "summary_type": "rf_class",
        "flavor": "mlflow.sklearn",
        "logged_name": "affluence_model",
        "kind": "classifier",
        "extras": {"thresholds": "affluence_classifier/thresholds.json"},
    },
}
SUMMARY_TYPES = {spec["summary_type"]: name for name, spec in MODEL_TYPES.items()}


class RegistryError(RuntimeError):
    """A registry request that cannot be carried out (unknown name, version...)."""


def now() -> str:
    """The current UTC time, ISO 8601, as every summary entry stamps it."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def model_type_of(name: str) -> str:
    """Pipeline name of a model type given as pipeline name, summary type or registered name.

    Raises:
        RegistryError: When the name is none of the project's model types.
    """
    for pipeline, spec in MODEL_TYPES.items():
        if name in (pipeline, spec["summary_type"], spec["registered_name"]):
            return pipeline
    known = ", ".join(f"{p} ({s['registered_name']})" for p, s in MODEL_TYPES.items())
    raise RegistryError(f"Unknown model type {name!r}. Known: {known}.")


# ---------------------------------------------------------------- the rule
def decide(
    challenger: dict[str, float],
    champion: dict[str, float] | None,
    rule: dict[str, Any],
    test_mode: bool,
) -> dict[str, Any]:
    """Decide whether a challenger becomes champion. The one place this rule lives.

    The challenger is promoted when it clears the absolute floor and is better
    than the champion by at least ``min_improvement`` (relative, in the right
    direction for the metric); the first model of a type is promoted when it
    clears the floor. Test-mode models are never promoted.

    Args:
        challenger: The challenger's test metrics.
        champion: The champion's metrics re-scored on the same test set, or
            None when the type has no champion yet.
        rule: ``metric``, ``higher_is_better``, ``min_improvement`` (e.g. 0.05)
            and ``floor`` (``{"metric": ..., "min": ...}``).
        test_mode: Whether the challenger was trained in quick test mode.

    Returns:
        ``outcome`` (``promoted`` or ``kept``), ``reasons``, ``metric``, both
        scores, the relative ``improvement`` and the rule's thresholds.
    """
    metric, higher = rule["metric"], bool(rule["higher_is_better"])
    floor_metric, floor_min = rule["floor"]["metric"], float(rule["floor"]["min"])
    threshold = float(rule["min_improvement"])
    score = float(challenger[metric])
    floor_value = float(challenger[floor_metric])
    reasons: list[str] = []
    improvement = None
    if champion is not None:
        reference = float(champion[metric])
        gain = (score - reference) if higher else (reference - score)
        improvement = gain / abs(reference) if reference else (np.inf if gain > 0 else 0.0)
    if test_mode:
        reasons.append("test-mode models are never promoted")
    if floor_value < floor_min:
        reasons.append(f"{floor_metric} {floor_value:.4f} is below the floor {floor_min}")
    if champion is not None and improvement is not None and improvement < threshold:
        reasons.append(
            f"{metric} {score:.4f} vs champion {float(champion[metric]):.4f}: "
            f"{improvement:+.1%} is less than the required {threshold:.0%}"
        )
    promoted = not reasons
    if promoted:
        reasons.append(
            "first model of its type above the floor"
            if champion is None
            else f"{metric} better by {improvement:.1%} (>= {threshold:.0%})"
        )
    return {
        "outcome": "promoted" if promoted else "kept",
        "reasons": reasons,
        "metric": metric,
        "higher_is_better": higher,
        "challenger_score": score,
        "champion_score": None if champion is None else float(champion[metric]),
        "improvement": None if improvement is None else float(improvement),
        "min_improvement": threshold,
        "floor": {"metric": floor_metric, "min": floor_min, "value": floor_value},
    }


# ---------------------------------------------------------------- history
def _entries(history: list[dict], model_type: str, env: str | None) -> list[dict]:
    summary_type = MODEL_TYPES[model_type_of(model_type)]["summary_type"]
    return [
        e
        for e in history
        if e.get("model_type") == summary_type and (env is None or e.get("env") == env)
    ]


def champion_history(history: list[dict], model_type: str, env: str | None) -> list[dict]:
    """Every change of champion of a type, oldest first, derived from the history.

    A model entry with ``is_champion``, a promoted decision, a manual promotion
    and a rollback each make a version champion; an archive of the champion
    leaves the type without one.

    Returns:
        ``{"version", "timestamp", "entry_type", "run_id", "model_uri"}`` per change
        (``version`` None when the champion was archived).
    """
    changes: list[dict] = []
    models = {
        e.get("version"): e
        for e in _entries(history, model_type, env)
        if e.get("entry_type") == "model"
    }
    for e in _entries(history, model_type, env):
        kind = e.get("entry_type")
        version = None
        if kind == "model" and e.get("is_champion"):
            version = e.get("version")
        elif kind in ("promotion", "rollback"):
            version = e.get("to_version")
        elif kind == "archive" and changes and changes[-1]["version"] == e.get("version"):
            changes.append({"version": None, "timestamp": e["timestamp"], "entry_type": kind})
            continue
        if version is None:
            continue
        if changes and changes[-1]["version"] == version:
            continue
        source = models.get(version, {})
        changes.append(
            {
                "version": version,
                "timestamp": e["timestamp"],
                "entry_type": kind,
                "run_id": source.get("run_id"),
                "model_uri": source.get("model_uri"),
            }
        )
    return changes


def current_champion(history: list[dict], model_type: str, env: str | None) -> dict | None:
    """The model entry of the current champion of a type (per env), or None."""
    changes = champion_history(history, model_type, env)
    if not changes or changes[-1]["version"] is None:
        return None
    version = changes[-1]["version"]
    for e in reversed(_entries(history, model_type, env)):
        if e.get("entry_type") == "model" and e.get("version") == version:
            return e
    return None


def previous_champion(history: list[dict], model_type: str, env: str | None) -> int | None:
    """The version that was champion before the current one (for a rollback), or None."""
    versions = [c["version"] for c in champion_history(history, model_type, env)]
    current = versions[-1] if versions else None
    for version in reversed(versions[:-1]):
        if version is not None and version != current:
            return version
    return None


def best_entry(
    history: list[dict], model_type: str, env: str | None, test_mode: bool = False
) -> dict | None:
    """The model entry with the best test metric, filtered by env and test mode.

    As the original ``get_best_model_from_summary``: lowest RMSE for the
    regressors, highest F1 for the classifier. Archived versions are skipped.
    """
    spec = MODEL_TYPES[model_type_of(model_type)]
    archived = {
        e.get("version")
        for e in _entries(history, model_type, env)
        if e.get("entry_type") == "archive"
    }
    models = [
        e
        for e in _entries(history, model_type, env)
        if e.get("entry_type") == "model"
        and bool(e.get("test_mode")) == test_mode
        and e.get("version") not in archived
    ]
    if not models:
        return None
    if spec["kind"] == "classifier":
        return max(models, key=lambda e: e.get("f1_score", -np.inf))
    return min(models, key=lambda e: e.get("rmse", np.inf))


# ---------------------------------------------------------------- MLflow
def client(tracking_uri: str | None = None):
    """An :class:`mlflow.MlflowClient` on the configured (or given) tracking URI."""
    from mlflow import MlflowClient

    return MlflowClient(tracking_uri=tracking_uri)


#: The URI scheme of artifacts that an MLflow server proxies (``--serve-artifacts``).
PROXIED_SCHEME = "mlflow-artifacts:"


def storage_location(uri: str, destination: str | None) -> str:
    """Where an artifact really lies, so that it can be read without the tracking server.

    An MLflow server started with ``--serve-artifacts --artifacts-destination D`` hands
    out ``mlflow-artifacts:/<path>`` URIs, which only the server can resolve; the
    object itself is ``D/<path>``. Any other URI (``gs://``, a local folder) is
    returned as it is.

    Args:
        uri: An artifact URI as MLflow reports it.
        destination: The server's ``--artifacts-destination`` (``params:registry.
            artifacts_destination``), or None when unknown.

    Returns:
        A URI that fsspec and MLflow can read without the server.
    """
    if not uri.startswith(PROXIED_SCHEME) or not destination:
        return uri
    path = urlparse(uri).path.lstrip("/")  # mlflow-artifacts:/p or mlflow-artifacts://host/p
    return f"{destination.rstrip('/')}/{path}"


def describe_metrics(metrics: dict[str, float], kind: str) -> str:
    """A one-line description of a version's test metrics, for the registry UI."""
    keys = (
        ("accuracy", "precision", "recall", "f1_score", "roc_auc", "positive_rate")
        if kind == "classifier"
        else ("rmse", "mae", "r2", "baseline_rmse", "baseline_r2")
    )
    parts = [f"{k}={metrics[k]:.4f}" for k in keys if k in metrics and metrics[k] is not None]
    return "Test metrics (fixed test set): " + ", ".join(parts)


def version_tags(version_info: Any) -> dict[str, str]:
    """Tags of a model version as a plain dict."""
    return dict(version_info.tags or {})


@dataclass
class LoadedModel:
    """A model of the project ready to predict, and where it came from."""

    model_type: str
    model: Any
    version: int | None
    source: str  # "registry" or "summary.json"
    model_uri: str
    run_id: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """``regressor`` or ``classifier``."""
        return MODEL_TYPES[self.model_type]["kind"]

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        """Predicted counts (regressors) or P(high traffic) (classifier), one per row."""
        if self.model_type == "nn":
            from bike_traffic.pipelines.nn.nodes import predict

            return predict(self.model, self.extras["preprocessor"], frame)
        columns = list(self.model.feature_names_in_)
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise KeyError(f"Input lacks the model's feature column(s) {missing}")
        if self.kind == "classifier":
            proba = self.model.predict_proba(frame[columns])
            classes = list(self.model.classes_)
            return proba[:, classes.index(1)] if 1 in classes else np.zeros(len(frame))
        return np.clip(self.model.predict(frame[columns]), 0, None)

    def score(self, test: pd.DataFrame) -> dict[str, float]:
        """Test metrics of this model on ``test`` (labels from its own thresholds)."""
        output = self.predict(test)
        if self.kind == "classifier":
            from bike_traffic.pipelines.affluence_classifier.nodes import label_rows

            y = label_rows(self.extras["thresholds"], test)
            return classification_metrics(y, (output >= 0.5).astype("int8"), output)
        return regression_metrics(test[TARGET].to_numpy(), output)


def _load_flavor(model_type: str, uri: str) -> Any:
    import importlib

    flavor = importlib.import_module(MODEL_TYPES[model_type]["flavor"])
    return flavor.load_model(uri)


def _load_json(uri: str) -> Any:
    import fsspec

    with fsspec.open(uri, "r", encoding="utf-8") as handle:
        return json.load(handle)


def _extras_from_run(model_type: str, run_id: str, mlflow_client: Any) -> dict[str, Any]:
    """The JSON artifacts a model needs beside it (nn preprocessing, classifier thresholds)."""
    import mlflow

    base = mlflow_client.get_run(run_id).info.artifact_uri.rstrip("/")
    return {
        key: mlflow.artifacts.load_dict(f"{base}/{path}")
        for key, path in MODEL_TYPES[model_type]["extras"].items()
    }


def resolve_version(
    model_type: str,
    which: str | int,
    history: list[dict] | None,
    env: str | None,
    mlflow_client: Any,
) -> Any:
    """The registry's ModelVersion for ``champion``, ``challenger``, ``best`` or a number."""
    name = MODEL_TYPES[model_type]["registered_name"]
    if isinstance(which, int) or str(which).isdigit():
        return mlflow_client.get_model_version(name, str(int(which)))
    if which in (CHAMPION, CHALLENGER):
        return mlflow_client.get_model_version_by_alias(name, which)
    if which == "best":
        entry = best_entry(history or [], model_type, env)
        if entry is None:
            raise RegistryError(f"No model entry of type {model_type!r} in summary.json.")
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


def load_model(
    model_type: str,
    which: str | int = CHAMPION,
    *,
    history: list[dict] | None = None,
    env: str | None = None,
    tracking_uri: str | None = None,
    use_registry: bool = True,
) -> LoadedModel:
    """Load a model of the project by ``champion`` (default), ``best`` or version.

    Resolves through the MLflow Model Registry; when the tracking server is
    unreachable, falls back to the artifact locations ``summary.json`` stored
    for that version. Logs which source it used.

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
        RegistryError: When neither the registry nor ``summary.json`` knows the model.
    """
    model_type = model_type_of(model_type)
    try:
        if not use_registry:
            raise ConnectionError("the MLflow registry was reported unreachable")
        mlflow_client = client(tracking_uri)
        version = resolve_version(model_type, which, history, env, mlflow_client)
        model = _load_flavor(model_type, version.source)
        extras = _extras_from_run(model_type, version.run_id, mlflow_client)
        logger.info(
            "Loaded %s version %s (%s) from the MLflow Model Registry",
            model_type,
            version.version,
            which,
        )
        return LoadedModel(
            model_type,
            model,
            int(version.version),
            "registry",
            version.source,
            version.run_id,
            extras,
        )
    except RegistryError:
        raise
    except Exception as exc:  # noqa: BLE001  (server down, alias missing...: try summary.json)
        if not history:
            raise RegistryError(
                f"Cannot load {model_type} {which} from the registry ({exc}) and no "
                "summary.json history was given to fall back on."
            ) from exc
        reason = exc
    entry = _entry_for(history, model_type, which, env)
    location = entry.get("artifact_location") or entry["model_uri"]
    model = _load_flavor(model_type, location)
    extras = {key: _load_json(uri) for key, uri in (entry.get("extra_artifacts") or {}).items()}
    logger.warning(
        "Registry unavailable (%s): loaded %s version %s from summary.json's %s",
        reason,
        model_type,
        entry.get("version"),
        location,
    )
    return LoadedModel(
        model_type,
        model,
        entry.get("version"),
        "summary.json",
        location,
        entry.get("run_id"),
        extras,
    )


# ---------------------------------------------------------------- manual operations
def _version_or_fail(mlflow_client: Any, name: str, version: int) -> Any:
    try:
        return mlflow_client.get_model_version(name, str(int(version)))
    except Exception as exc:  # noqa: BLE001  (MlflowException: RESOURCE_DOES_NOT_EXIST)
        raise RegistryError(f"{name} has no version {version}.") from exc


def _alias_version(mlflow_client: Any, name: str, alias: str) -> int | None:
    try:
        return int(mlflow_client.get_model_version_by_alias(name, alias).version)
    except Exception:  # noqa: BLE001  (no such alias)
        return None


def promote(
    model_type: str, version: int, history: list[dict], env: str, reason: str = "manual"
) -> list[dict]:
    """Make ``version`` the champion by hand; returns the ``promotion`` entry to append.

    Raises:
        RegistryError: On an unknown type or version, or an archived version.
    """
    model_type = model_type_of(model_type)
    spec = MODEL_TYPES[model_type]
    mlflow_client = client()
    target = _version_or_fail(mlflow_client, spec["registered_name"], version)
    if target.tags.get("archived") == "true":
        raise RegistryError(f"{spec['registered_name']} v{version} is archived.")
    before = _alias_version(mlflow_client, spec["registered_name"], CHAMPION)
    mlflow_client.set_registered_model_alias(spec["registered_name"], CHAMPION, int(version))
    mlflow_client.set_model_version_tag(spec["registered_name"], str(version), "promoted", reason)
    logger.info("%s: champion v%s -> v%s (%s)", spec["registered_name"], before, version, reason)
    return [
        {
            "timestamp": now(),
            "entry_type": "promotion",
            "model_type": spec["summary_type"],
            "env": env,
            "registered_model": spec["registered_name"],
            "from_version": before,
            "to_version": int(version),
            "reason": reason,
        }
    ]


def rollback(model_type: str, history: list[dict], env: str) -> list[dict]:
    """Give the champion back to the previous champion; returns the ``rollback`` entry.

    Raises:
        RegistryError: When the history holds no previous champion.
    """
    model_type = model_type_of(model_type)
    spec = MODEL_TYPES[model_type]
    target = previous_champion(history, model_type, env)
    if target is None:
        raise RegistryError(
            f"summary.json holds no previous champion of {model_type} (env {env}): "
            "nothing to roll back to."
        )
    mlflow_client = client()
    _version_or_fail(mlflow_client, spec["registered_name"], target)
    before = _alias_version(mlflow_client, spec["registered_name"], CHAMPION)
    mlflow_client.set_registered_model_alias(spec["registered_name"], CHAMPION, int(target))
    mlflow_client.set_model_version_tag(
        spec["registered_name"], str(target), "rolled_back_from", str(before)
    )
    logger.info("%s: rolled back champion v%s -> v%s", spec["registered_name"], before, target)
    return [
        {
            "timestamp": now(),
            "entry_type": "rollback",
            "model_type": spec["summary_type"],
            "env": env,
            "registered_model": spec["registered_name"],
            "from_version": before,
            "to_version": int(target),
        }
    ]


def archive(model_type: str, version: int, env: str) -> list[dict]:
    """Archive a version: tag it, drop its aliases; returns the ``archive`` entry.

    Raises:
        RegistryError: On an unknown version.
    """
    model_type = model_type_of(model_type)
    spec = MODEL_TYPES[model_type]
    mlflow_client = client()
    target = _version_or_fail(mlflow_client, spec["registered_name"], version)
    for alias in list(target.aliases or []):
        mlflow_client.delete_registered_model_alias(spec["registered_name"], alias)
    mlflow_client.set_model_version_tag(spec["registered_name"], str(version), "archived", "true")
    return [
        {
            "timestamp": now(),
            "entry_type": "archive",
            "model_type": spec["summary_type"],
            "env": env,
            "registered_model": spec["registered_name"],
            "version": int(version),
            "aliases_removed": list(target.aliases or []),
        }
    ]


def versions_table(model_type: str) -> pd.DataFrame:
    """Every version of a type: version, aliases, test metrics, created, run id, tags.

    The original ``compare_models`` table, read from the MLflow Model Registry.
    """
    model_type = model_type_of(model_type)
    spec = MODEL_TYPES[model_type]
    mlflow_client = client()
    rows = []
    for found in mlflow_client.search_model_versions(f"name = '{spec['registered_name']}'"):
        # search results carry no aliases: read each version
        v = mlflow_client.get_model_version(spec["registered_name"], found.version)
        metrics = mlflow_client.get_run(v.run_id).data.metrics if v.run_id else {}
        prefix = f"{spec['summary_type'] if spec['kind'] == 'classifier' else model_type}."
        keys = (
            ("f1_score", "accuracy", "roc_auc")
            if spec["kind"] == "classifier"
            else ("rmse", "mae", "r2")
        )
        rows.append(
            {
                "version": int(v.version),
                "aliases": ",".join(sorted(v.aliases or [])),
                **{k: metrics.get(prefix + k) for k in keys},
                "created": datetime.fromtimestamp(v.creation_timestamp / 1000, UTC).strftime(
                    "%Y-%m-%d %H:%M"
                ),
                "run_id": v.run_id,
                "test_mode": (v.tags or {}).get("test_mode"),
                "archived": (v.tags or {}).get("archived") == "true",
            }
        )
    return pd.DataFrame(rows).sort_values("version") if rows else pd.DataFrame(rows)
