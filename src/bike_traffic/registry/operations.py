"""The registry's manual operations: promote, roll back, archive (``kedro models ...``).

Each checks its request against the registry, returns the ``summary.json`` entries that
record it, and changes nothing: the caller appends them (the authority) and then calls
:func:`publish`, which makes MLflow's aliases and tags follow. Killed between the two,
the next ``kedro models reconcile`` (run before every operation) finishes the job.
"""

from __future__ import annotations

import logging
from typing import Any

from bike_traffic.models.spec import model_spec
from bike_traffic.registry import RegistryError, now
from bike_traffic.registry.client import client, version_or_fail
from bike_traffic.registry.history import (
    _entries,
    archived_versions,
    current_champion,
    previous_champion,
)
from bike_traffic.registry.reconcile import sync_type

logger = logging.getLogger(__name__)


def _champion_version(history: list[dict], model_type: str, env: str) -> int | None:
    entry = current_champion(history, model_type, env)
    return int(entry["version"]) if entry else None


def _floor_problem(entry: dict | None, floor: dict[str, Any] | None) -> str | None:
    """Why a recorded version is below its type's floor (None when it clears it)."""
    if not floor or entry is None:
        return None
    metric, minimum = floor["metric"], float(floor["min"])
    value = entry.get(metric, (entry.get("metrics") or {}).get(metric))
    if value is None or float(value) >= minimum:
        return None
    return f"its {metric} {float(value):.4f} is below the floor {minimum}"


def promote(
    model_type: str,
    version: int,
    history: list[dict],
    env: str,
    reason: str = "manual",
    floor: dict[str, Any] | None = None,
    force: bool = False,
) -> list[dict]:
    """The ``promotion`` entry that makes ``version`` the champion by hand.

    Args:
        model_type: The model type.
        version: The version to promote.
        history: ``summary.json``.
        env: The registry's environment.
        reason: Recorded with the promotion.
        floor: The type's floor (``params:registry.models.<type>.floor``).
        force: Promote a quick-test-mode or below-floor version anyway.

    Raises:
        RegistryError: On an unknown or archived version; on a quick-test-mode or
            below-floor version without ``force``.
    """
    spec = model_spec(model_type)
    target = version_or_fail(client(), spec.registered_name, version)
    name = f"{spec.registered_name} v{version}"
    if (
        int(version) in archived_versions(history, spec.model_type, env)
        or (target.tags or {}).get("archived") == "true"
    ):
        raise RegistryError(f"{name} is archived: it cannot be promoted.")
    recorded = [
        e
        for e in _entries(history, spec.model_type, env)
        if e.get("entry_type") == "model" and e.get("version") == int(version)
    ]
    if not recorded:
        raise RegistryError(
            f"summary.json records no {name} (env {env}): an orphan of a stopped run, or "
            "another environment's. Promote a recorded version (`kedro models list`)."
        )
    if not force:
        if (target.tags or {}).get("test_mode") == "true":
            raise RegistryError(
                f"{name} was trained in quick test mode (run.test_mode): it is not promoted. "
                "Add --force to promote it anyway."
            )
        problem = _floor_problem(recorded[-1], floor)
        if problem:
            raise RegistryError(f"{name}: {problem}. Add --force to promote it anyway.")
    return [
        {
            "timestamp": now(),
            "entry_type": "promotion",
            "model_type": spec.summary_type,
            "env": env,
            "registered_model": spec.registered_name,
            "from_version": _champion_version(history, spec.model_type, env),
            "to_version": int(version),
            "reason": reason,
            "forced": bool(force),
        }
    ]


def rollback(model_type: str, history: list[dict], env: str) -> list[dict]:
    """The ``rollback`` entry that gives the champion back to the previous (unarchived) one.

    Raises:
        RegistryError: When the history holds no previous champion that is not archived.
    """
    spec = model_spec(model_type)
    target = previous_champion(history, spec.model_type, env)
    if target is None:
        raise RegistryError(
            f"summary.json holds no previous champion of {spec.model_type} (env {env}) that "
            "is not archived: nothing to roll back to."
        )
    version_or_fail(client(), spec.registered_name, target)
    return [
        {
            "timestamp": now(),
            "entry_type": "rollback",
            "model_type": spec.summary_type,
            "env": env,
            "registered_model": spec.registered_name,
            "from_version": _champion_version(history, spec.model_type, env),
            "to_version": int(target),
        }
    ]


def archive(model_type: str, version: int, history: list[dict], env: str) -> list[dict]:
    """The ``archive`` entry of a version (its aliases go when published).

    Raises:
        RegistryError: On an unknown version.
    """
    spec = model_spec(model_type)
    target = version_or_fail(client(), spec.registered_name, version)
    return [
        {
            "timestamp": now(),
            "entry_type": "archive",
            "model_type": spec.summary_type,
            "env": env,
            "registered_model": spec.registered_name,
            "version": int(version),
            "aliases_removed": sorted(target.aliases or []),
            "was_champion": _champion_version(history, spec.model_type, env) == int(version),
        }
    ]


def publish(model_type: str, history: list[dict], entries: list[dict], env: str) -> list[str]:
    """After ``entries`` are appended: MLflow's aliases and tags follow summary.json.

    Args:
        model_type: The type the entries are about.
        history: ``summary.json`` *including* the entries.
        entries: The entries just recorded (their tags are set).
        env: The registry's environment.

    Returns:
        One line per change made in MLflow.
    """
    spec = model_spec(model_type)
    mlflow_client = client()
    fixes = sync_type(mlflow_client, spec.model_type, history, env)
    for entry in entries:
        kind = entry.get("entry_type")
        if kind == "promotion":
            mlflow_client.set_model_version_tag(
                spec.registered_name, str(entry["to_version"]), "promoted", entry["reason"]
            )
        elif kind == "rollback":
            mlflow_client.set_model_version_tag(
                spec.registered_name,
                str(entry["to_version"]),
                "rolled_back_from",
                str(entry["from_version"]),
            )
    for fix in fixes:
        logger.info("%s", fix)
    return fixes
