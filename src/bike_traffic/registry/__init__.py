"""The model registry: the MLflow Model Registry (for people) and ``summary.json`` (for automation).

One module per job:

* :mod:`.rule`: the champion/challenger rule, :func:`~.rule.decide` (the one place it lives);
* :mod:`.history`: what ``summary.json`` says (champion of each type, its history, the best);
* :mod:`.client`: the MLflow client calls (aliases, tags, versions table, artifact locations);
* :mod:`.loading`: the loading API, :func:`~.loading.load_model` (registry first,
  ``summary.json`` when the tracking server is down), trusted: no code from the artifact runs;
* :mod:`.operations`: the manual operations (promote, roll back, archive).
"""

from __future__ import annotations

from datetime import UTC, datetime

CHAMPION = "champion"
CHALLENGER = "challenger"


class RegistryError(RuntimeError):
    """A registry request that cannot be carried out (unknown name, version...)."""


class NoChampionError(RegistryError):
    """The model type has no champion (no ``champion`` alias): nothing to compare with."""


def now() -> str:
    """The current UTC time, ISO 8601, as every summary entry stamps it."""
    return datetime.now(UTC).isoformat(timespec="seconds")
