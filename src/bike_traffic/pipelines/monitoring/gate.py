"""The latest monitoring decision as an exit status, for schedulers (the Airflow DAG's gate).

    python -m bike_traffic.pipelines.monitoring.gate [--env ENV]

Loads ``monitoring.decision`` through the project's catalog (so ``--env prod``
reads it from GCS), prints it, and exits 0 when the decision is ``retrain`` and
:data:`SKIP_EXIT_CODE` (99) otherwise: Airflow's ``BashOperator`` marks a task that
exits 99 as skipped, and with it the retraining tasks that follow. Any other
failure (no decision saved yet, unreadable file) exits 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

#: Airflow's BashOperator default ``skip_on_exit_code``.
SKIP_EXIT_CODE = 99
#: The catalog entry of the decision.
DECISION = "monitoring.decision"


def load_decision(env: str | None, project_path: Path | None = None) -> dict:
    """The decision the last monitoring run saved, as the catalog defines it for ``env``.

    Only the ``monitoring.decision`` entry is built (with the environment's
    credentials), not the whole catalog: that would import TensorFlow for the
    ``.keras`` datasets, 10 s for a JSON file.

    Args:
        env: Kedro environment (None: the default, ``local``).
        project_path: The Kedro project (default: found from the working directory).

    Returns:
        The content of ``monitoring.decision``.
    """
    from kedro.config import MissingConfigException
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project
    from kedro.io import DataCatalog
    from kedro.utils import find_kedro_project

    project = project_path or find_kedro_project(Path.cwd()) or Path(__file__).resolve().parents[4]
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env=env) as session:
        config_loader = session.load_context().config_loader
        try:
            credentials = config_loader["credentials"]
        except MissingConfigException:
            credentials = {}
        entry = {DECISION: config_loader["catalog"][DECISION]}
        return DataCatalog.from_config(entry, credentials=credentials).load(DECISION)


def exit_code(decision: dict) -> int:
    """0 when the decision asks for retraining, :data:`SKIP_EXIT_CODE` otherwise."""
    return 0 if decision.get("decision") == "retrain" else SKIP_EXIT_CODE


def main(argv: list[str] | None = None) -> int:
    """Print the latest decision and return the gate's exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--env", "-e", default=None, help="Kedro environment (default: local)")
    args = parser.parse_args(argv)
    decision = load_decision(args.env)
    summary = {k: decision.get(k) for k in ("timestamp", "decision", "reasons", "drift_share")}
    sys.stdout.write(json.dumps(summary, ensure_ascii=False, indent=1) + "\n")
    code = exit_code(decision)
    sys.stdout.write(
        "retrain: the retraining tasks run\n"
        if code == 0
        else f"{decision.get('decision')}: nothing to retrain (exit {code}, task skipped)\n"
    )
    return code


if __name__ == "__main__":
    sys.exit(main())
