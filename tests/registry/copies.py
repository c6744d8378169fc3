"""More versions in a trained project's registry, without training again."""

from __future__ import annotations

import json
from pathlib import Path

from mlflow import MlflowClient

from bike_traffic.models.spec import model_spec
from tests.conftest import tracking_uri


def register_copy(root: Path, model_type: str) -> dict:
    """Register another version of a type of ``root`` from its v1's logged model.

    A second run would log the same small model on the same data: registering v1's
    logged model again gives the same registry state in a fraction of the time.

    Returns:
        The ``model`` entry a run would have appended to summary.json for the new
        version (not champion); appending it is the caller's business.
    """
    spec = model_spec(model_type)
    mlflow_client = MlflowClient(tracking_uri=tracking_uri(root))
    first = mlflow_client.get_model_version(spec.registered_name, "1")
    version = mlflow_client.create_model_version(
        spec.registered_name,
        source=first.source,
        run_id=first.run_id,
        model_id=first.model_id,
        tags={"model_type": spec.summary_type, "test_mode": "false", "env": "test"},
    )
    summary = root / "data" / "06_models" / "summary.json"
    [entry] = [
        e
        for e in json.loads(summary.read_text(encoding="utf-8"))
        if e["entry_type"] == "model" and e["model_type"] == spec.summary_type and e["version"] == 1
    ]
    return {**entry, "version": int(version.version), "is_champion": False}
