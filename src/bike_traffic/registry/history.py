"""What ``summary.json`` says: the champion of each type, the history of champions, the best.

The champion of each type can always be derived from ``summary.json`` alone; these are
pure functions of its entries.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from bike_traffic.models.spec import model_spec


def _entries(history: list[dict], model_type: str, env: str | None) -> list[dict]:
    summary_type = model_spec(model_type).summary_type
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


def archived_versions(history: list[dict], model_type: str, env: str | None) -> set[int]:
    """The versions of a type that ``summary.json`` records as archived."""
    return {
        int(e["version"])
        for e in _entries(history, model_type, env)
        if e.get("entry_type") == "archive" and e.get("version") is not None
    }


def previous_champion(history: list[dict], model_type: str, env: str | None) -> int | None:
    """The version that was champion before the current one (for a rollback), or None.

    Archived versions are skipped: a rollback never re-instates one.
    """
    versions = [c["version"] for c in champion_history(history, model_type, env)]
    current = versions[-1] if versions else None
    archived = archived_versions(history, model_type, env)
    for version in reversed(versions[:-1]):
        if version is not None and version != current and version not in archived:
            return version
    return None


def best_entry(
    history: list[dict], model_type: str, env: str | None, test_mode: bool = False
) -> dict | None:
    """The model entry with the best test metric, filtered by env and test mode.

    As the original ``get_best_model_from_summary``: lowest RMSE for the
    regressors, highest F1 for the classifier. Archived versions are skipped.
    """
    spec = model_spec(model_type)
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
    if spec.is_classifier:
        return max(models, key=lambda e: e.get("f1_score", -np.inf))
    return min(models, key=lambda e: e.get("rmse", np.inf))


def recorded_versions(history: list[dict], model_type: str, env: str | None) -> pd.DataFrame:
    """Every version of a type that ``summary.json`` records, newest first.

    Returns:
        ``version``, ``timestamp``, ``test_mode``, ``is_champion`` (now), the
        headline metric and ``archived``, one row per version.
    """
    spec = model_spec(model_type)
    summary_type = spec.summary_type
    entries = [
        e
        for e in history
        if e.get("model_type") == summary_type and (env is None or e.get("env") == env)
    ]
    champion = current_champion(history, model_type, env)
    archived = {e.get("version") for e in entries if e.get("entry_type") == "archive"}
    metric = spec.headline_metric
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
