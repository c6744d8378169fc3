"""The MLflow Model Registry through MLflow's client: versions, aliases, artifact locations."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlparse

import pandas as pd

from bike_traffic.models.spec import model_spec
from bike_traffic.registry import RegistryError


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


def version_or_fail(mlflow_client: Any, name: str, version: int) -> Any:
    try:
        return mlflow_client.get_model_version(name, str(int(version)))
    except Exception as exc:  # noqa: BLE001  (MlflowException: RESOURCE_DOES_NOT_EXIST)
        raise RegistryError(f"{name} has no version {version}.") from exc


def not_found(exc: Exception) -> bool:
    """Whether the registry answered that a registered model or an alias does not exist.

    MLflow says ``RESOURCE_DOES_NOT_EXIST`` for an unknown registered model and
    ``INVALID_PARAMETER_VALUE`` ("Registered model alias ... not found") for an unset
    alias, from a local store and from a server alike.
    """
    code = getattr(exc, "error_code", None)
    message = str(getattr(exc, "message", exc))
    return code == "RESOURCE_DOES_NOT_EXIST" or (
        code == "INVALID_PARAMETER_VALUE" and "alias" in message and "not found" in message
    )


def alias_version(mlflow_client: Any, name: str, alias: str) -> int | None:
    """The version an alias points to; None when the registry says there is none.

    Raises:
        Exception: Any other failure (the tracking server unreachable...): "I could not
            ask" is never taken for "there is none".
    """
    from mlflow.exceptions import MlflowException

    try:
        return int(mlflow_client.get_model_version_by_alias(name, alias).version)
    except MlflowException as exc:
        if not_found(exc):
            return None
        raise


def versions_table(model_type: str) -> pd.DataFrame:
    """Every version of a type: version, aliases, test metrics, created, run id, tags.

    The original ``compare_models`` table, read from the MLflow Model Registry.
    """
    spec = model_spec(model_type)
    mlflow_client = client()
    rows = []
    for found in mlflow_client.search_model_versions(f"name = '{spec.registered_name}'"):
        # search results carry no aliases: read each version
        v = mlflow_client.get_model_version(spec.registered_name, found.version)
        metrics = mlflow_client.get_run(v.run_id).data.metrics if v.run_id else {}
        prefix = f"{spec.summary_type if spec.is_classifier else spec.model_type}."
        keys = ("f1_score", "accuracy", "roc_auc") if spec.is_classifier else ("rmse", "mae", "r2")
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
