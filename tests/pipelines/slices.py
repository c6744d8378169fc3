"""Run a pipeline on Kedro's SequentialRunner over an in-memory DataCatalog (no files, no MLflow).

The kedro-starters pattern: every input is a ``MemoryDataset``, parameters are read from
``conf/base`` + ``conf/<env>`` with the project's own config loader settings, and the
test checks the data the run returns.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from functools import cache
from typing import Any

from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, MemoryDataset
from kedro.pipeline import Pipeline
from kedro.runner import SequentialRunner

from bike_traffic.settings import CONFIG_LOADER_ARGS
from tests.conftest import PROJECT_ROOT

#: Datasets the project's catalog keeps out of deep copies (a Keras network, the predictor).
_ASSIGNED = (".model", ".predictor", ".mlflow_model", "_plot")


class KeptDataset(MemoryDataset):
    """A memory dataset the runner cannot release, so a test can read it after the run."""

    def _release(self) -> None:
        pass


@cache
def _parameters(env: str) -> dict[str, Any]:
    loader = OmegaConfigLoader(str(PROJECT_ROOT / "conf"), env=env, **CONFIG_LOADER_ARGS)
    return loader["parameters"]


def parameters(env: str = "test", overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The parameters of ``kedro run --env <env> --params <overrides>``.

    Args:
        env: The configuration environment over ``base``.
        overrides: Values that win, by dotted path (``{"run.test_mode": True}``).
    """
    params = copy.deepcopy(_parameters(env))
    for path, value in (overrides or {}).items():
        *parents, last = path.split(".")
        node = params
        for key in parents:
            node = node.setdefault(key, {})
        node[last] = value
    return params


def parameter(name: str, env: str = "test", overrides: dict[str, Any] | None = None) -> Any:
    """The value of the dataset ``params:a.b.c`` (see :func:`parameters`)."""
    value: Any = parameters(env, overrides)
    for key in name.removeprefix("params:").split("."):
        value = value[key]
    return value


def run_slice(
    pipeline: Pipeline,
    inputs: dict[str, Any],
    keep: Iterable[str] = (),
    env: str = "test",
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run ``pipeline`` over an in-memory catalog and return what it produced.

    Args:
        pipeline: The pipeline (or slice) to run.
        inputs: Its data inputs, by dataset name.
        keep: Intermediate datasets to read back too (the runner releases them otherwise).
        env: The configuration environment its ``params:`` inputs come from.
        overrides: Parameter values that win, by dotted path.

    Returns:
        The free outputs (``SequentialRunner.run`` returns their datasets; here they are
        loaded) and the datasets of ``keep``, by name.
    """
    catalog = DataCatalog({name: MemoryDataset(value) for name, value in inputs.items()})
    params = parameters(env, overrides)
    for name in pipeline.inputs():
        if name.startswith("params:"):
            value: Any = params
            for key in name.removeprefix("params:").split("."):
                value = value[key]
            catalog[name] = MemoryDataset(value)
    kept = set(keep)
    for name in pipeline.all_outputs():
        mode = "assign" if name.endswith(_ASSIGNED) else None
        catalog[name] = (KeptDataset if name in kept else MemoryDataset)(copy_mode=mode)
    returned = SequentialRunner().run(pipeline, catalog)
    return {
        **{name: dataset.load() for name, dataset in returned.items()},
        **{name: catalog.load(name) for name in kept},
    }
