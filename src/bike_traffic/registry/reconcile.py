"""One registry truth: ``summary.json`` is the authority, MLflow's registry follows it.

Every registry operation records what it decided in ``summary.json`` first (an atomic
append) and only then moves MLflow's aliases and tags (:func:`publish`). A crash in
between leaves MLflow behind, never ahead; :func:`reconcile` brings it back in line:

* the ``champion`` alias of each type is moved to the version ``summary.json`` names
  (or removed when it names none);
* versions ``summary.json`` archived lose their aliases and carry ``archived=true``;
* versions MLflow registered but ``summary.json`` never recorded (their run was killed
  between registration and recording) are recorded as ``orphan`` entries: never served,
  never compared, listed;
* MLflow runs of this machine left ``RUNNING`` by a killed process are closed as
  ``KILLED``.

:func:`reconcile` runs at the start of every pipeline that reads ``summary.json``
(:class:`bike_traffic.hooks.RegistryHooks`), of every ``kedro models`` command that
changes the registry, and alone as ``kedro models reconcile``. Every step is idempotent:
running it twice changes nothing the second time.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass, field
from typing import Any

from bike_traffic.models.spec import MODEL_SPECS, model_spec
from bike_traffic.registry import CHAMPION, now
from bike_traffic.registry.client import alias_version, client, not_found
from bike_traffic.registry.history import _entries, archived_versions, current_champion

logger = logging.getLogger(__name__)

#: Run tags that let :func:`close_dead_runs` tell a killed run from a live one.
HOST_TAG = "bike_traffic.host"
PID_TAG = "bike_traffic.pid"


@dataclass
class Reconciliation:
    """What :func:`reconcile` did: the entries to append and one line per fix."""

    entries: list[dict[str, Any]] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)


def run_identity() -> dict[str, str]:
    """The tags that mark an MLflow run as this process's (host name and process id)."""
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(os.getpid())}


def _alive(pid: int) -> bool:
    """Whether a process of this machine with that id is running."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def close_dead_runs(mlflow_client: Any) -> list[str]:
    """Close as ``KILLED`` the ``RUNNING`` runs that a process of this machine left behind.

    A run counts as dead when its :data:`HOST_TAG` is this machine and the process of
    its :data:`PID_TAG` no longer exists. Runs of other machines are left alone (this
    one cannot know whether they are alive).

    Returns:
        One line per closed run.
    """
    host = socket.gethostname()
    experiments = [e.experiment_id for e in mlflow_client.search_experiments()]
    if not experiments:
        return []
    fixes = []
    for run in mlflow_client.search_runs(
        experiments, filter_string="attributes.status = 'RUNNING'", max_results=1000
    ):
        tags = run.data.tags
        pid = tags.get(PID_TAG, "")
        if tags.get(HOST_TAG) != host or not pid.isdigit() or _alive(int(pid)):
            continue
        mlflow_client.set_terminated(run.info.run_id, status="KILLED")
        fixes.append(f"run {run.info.run_id}: its process {pid} is gone, closed as KILLED")
    return fixes


def _registered(mlflow_client: Any, name: str) -> bool:
    from mlflow.exceptions import MlflowException

    try:
        mlflow_client.get_registered_model(name)
    except MlflowException as exc:
        if not_found(exc):
            return False
        raise
    return True


def sync_type(mlflow_client: Any, model_type: str, history: list[dict], env: str) -> list[str]:
    """Make MLflow's ``champion`` alias and archive tags of one type say what summary.json says.

    Returns:
        One line per change made (empty when MLflow already agreed).
    """
    spec = model_spec(model_type)
    name = spec.registered_name
    if not _registered(mlflow_client, name):
        return []
    fixes = []
    for version in sorted(archived_versions(history, spec.model_type, env)):
        try:
            found = mlflow_client.get_model_version(name, str(version))
        except Exception as exc:  # noqa: BLE001  (a version deleted by hand: nothing to fix)
            if not_found(exc):
                continue
            raise
        for alias in list(found.aliases or []):
            mlflow_client.delete_registered_model_alias(name, alias)
            fixes.append(f"{name} v{version}: alias {alias!r} removed (archived)")
        if (found.tags or {}).get("archived") != "true":
            mlflow_client.set_model_version_tag(name, str(version), "archived", "true")
            fixes.append(f"{name} v{version}: tagged archived")
    champion = current_champion(history, spec.model_type, env)
    wanted = int(champion["version"]) if champion else None
    actual = alias_version(mlflow_client, name, CHAMPION)
    if wanted == actual:
        return fixes
    if wanted is None:
        mlflow_client.delete_registered_model_alias(name, CHAMPION)
        fixes.append(f"{name}: alias 'champion' removed from v{actual} (summary.json names none)")
    else:
        mlflow_client.set_registered_model_alias(name, CHAMPION, wanted)
        was = "nowhere" if actual is None else f"v{actual}"
        fixes.append(f"{name}: alias 'champion' moved from {was} to v{wanted} (summary.json)")
    return fixes


def orphans(mlflow_client: Any, model_type: str, history: list[dict], env: str) -> list[dict]:
    """``orphan`` entries for the versions of ``env`` that summary.json never recorded.

    A version whose run is still ``RUNNING`` is being registered by a live run and is
    left to it.
    """
    spec = model_spec(model_type)
    name = spec.registered_name
    if not _registered(mlflow_client, name):
        return []
    recorded = {
        int(e["version"])
        for e in _entries(history, spec.model_type, env)
        if e.get("entry_type") in ("model", "orphan") and e.get("version") is not None
    }
    found = []
    for version in mlflow_client.search_model_versions(f"name = '{name}'"):
        number = int(version.version)
        if number in recorded or (version.tags or {}).get("env") != env:
            continue
        if version.run_id and mlflow_client.get_run(version.run_id).info.status == "RUNNING":
            continue
        found.append(
            {
                "timestamp": now(),
                "entry_type": "orphan",
                "model_type": spec.summary_type,
                "env": env,
                "registered_model": name,
                "version": number,
                "run_id": version.run_id,
                "model_uri": version.source,
                "reason": "registered in MLflow but never recorded in summary.json (its run "
                "stopped between registration and recording): never served or compared",
            }
        )
    return found


def reconcile(
    history: list[dict],
    env: str,
    model_types: list[str] | None = None,
    mlflow_client: Any = None,
) -> Reconciliation:
    """Bring MLflow's registry in line with ``summary.json``; list what was fixed.

    Args:
        history: ``summary.json``.
        env: The environment whose entries count (``params:registry.env``).
        model_types: The types to reconcile (all by default).
        mlflow_client: A client (the configured tracking URI's by default).

    Returns:
        The ``orphan`` entries to append to ``summary.json``, and one line per fix.

    Raises:
        Exception: When the tracking server cannot be reached: nothing is changed.
    """
    mlflow_client = mlflow_client or client()
    done = Reconciliation()
    done.fixes += close_dead_runs(mlflow_client)
    for model_type in model_types or list(MODEL_SPECS):
        found = orphans(mlflow_client, model_type, history, env)
        done.entries += found
        done.fixes += [f"{e['registered_model']} v{e['version']}: recorded orphan" for e in found]
        done.fixes += sync_type(mlflow_client, model_type, history, env)
    for fix in done.fixes:
        logger.warning("Reconciled: %s", fix)
    return done
