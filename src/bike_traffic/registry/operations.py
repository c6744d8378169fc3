"""The registry's manual operations: promote, roll back, archive (``kedro models ...``).

Each moves MLflow's aliases and tags and returns the ``summary.json`` entries that
record it (the caller appends them through the catalog).
"""

from __future__ import annotations

import logging

from bike_traffic.models.spec import model_spec
from bike_traffic.registry import CHAMPION, RegistryError, now
from bike_traffic.registry.client import alias_version, client, version_or_fail
from bike_traffic.registry.history import previous_champion

logger = logging.getLogger(__name__)


def promote(
    model_type: str, version: int, history: list[dict], env: str, reason: str = "manual"
) -> list[dict]:
    """Make ``version`` the champion by hand; returns the ``promotion`` entry to append.

    Raises:
        RegistryError: On an unknown type or version, or an archived version.
    """
    spec = model_spec(model_type)
    mlflow_client = client()
    target = version_or_fail(mlflow_client, spec.registered_name, version)
    if target.tags.get("archived") == "true":
        raise RegistryError(f"{spec.registered_name} v{version} is archived.")
    before = alias_version(mlflow_client, spec.registered_name, CHAMPION)
    mlflow_client.set_registered_model_alias(spec.registered_name, CHAMPION, int(version))
    mlflow_client.set_model_version_tag(spec.registered_name, str(version), "promoted", reason)
    logger.info("%s: champion v%s -> v%s (%s)", spec.registered_name, before, version, reason)
    return [
        {
            "timestamp": now(),
            "entry_type": "promotion",
            "model_type": spec.summary_type,
            "env": env,
            "registered_model": spec.registered_name,
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
    spec = model_spec(model_type)
    target = previous_champion(history, spec.model_type, env)
    if target is None:
        raise RegistryError(
            f"summary.json holds no previous champion of {spec.model_type} (env {env}): "
            "nothing to roll back to."
        )
    mlflow_client = client()
    version_or_fail(mlflow_client, spec.registered_name, target)
    before = alias_version(mlflow_client, spec.registered_name, CHAMPION)
    mlflow_client.set_registered_model_alias(spec.registered_name, CHAMPION, int(target))
    mlflow_client.set_model_version_tag(
        spec.registered_name, str(target), "rolled_back_from", str(before)
    )
    logger.info("%s: rolled back champion v%s -> v%s", spec.registered_name, before, target)
    return [
        {
            "timestamp": now(),
            "entry_type": "rollback",
            "model_type": spec.summary_type,
            "env": env,
            "registered_model": spec.registered_name,
            "from_version": before,
            "to_version": int(target),
        }
    ]


def archive(model_type: str, version: int, env: str) -> list[dict]:
    """Archive a version: tag it, drop its aliases; returns the ``archive`` entry.

    Raises:
        RegistryError: On an unknown version.
    """
    spec = model_spec(model_type)
    mlflow_client = client()
    target = version_or_fail(mlflow_client, spec.registered_name, version)
    for alias in list(target.aliases or []):
        mlflow_client.delete_registered_model_alias(spec.registered_name, alias)
    mlflow_client.set_model_version_tag(spec.registered_name, str(version), "archived", "true")
    return [
        {
            "timestamp": now(),
            "entry_type": "archive",
            "model_type": spec.summary_type,
            "env": env,
            "registered_model": spec.registered_name,
            "version": int(version),
            "aliases_removed": list(target.aliases or []),
        }
    ]
