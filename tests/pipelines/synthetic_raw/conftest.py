"""Fixtures of the generator's tests: its parameters as Kedro loads them, and one small run."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from kedro.config import OmegaConfigLoader
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from bike_traffic.pipelines.synthetic_raw import create_pipeline
from bike_traffic.settings import CONFIG_LOADER_ARGS
from tests.conftest import PROJECT_ROOT


def configured(env: str) -> dict[str, Any]:
    """``params:synthetic_raw`` as ``kedro run --env <env>`` loads it (base + env), with the
    restriction table it applies (``params:data_cleaning.restrictions``) as ``restrictions``."""
    loader = OmegaConfigLoader(str(PROJECT_ROOT / "conf"), env=env, **CONFIG_LOADER_ARGS)
    parameters = loader["parameters"]
    return {
        **parameters["synthetic_raw"],
        "restrictions": parameters["data_cleaning"]["restrictions"],
    }


@pytest.fixture(scope="session")
def base_params() -> dict[str, Any]:
    """The default generator parameters (conf/base): a year, ~100 counters."""
    return configured("base")


@pytest.fixture(scope="session")
def small_params() -> dict[str, Any]:
    """The small preset (conf/test): 4 weeks over the spring clock change, a few counters."""
    return configured("test")


class KeptDataset(MemoryDataset):
    """A ``MemoryDataset`` that the runner does not empty once its readers are done."""

    def _release(self) -> None:
        pass


def run_generator(params: dict[str, Any]) -> dict[str, Any]:
    """Run the whole pipeline in memory; every dataset it writes, by name."""
    pipeline = create_pipeline()
    catalog = DataCatalog()
    inputs = {
        "params:synthetic_raw": params,
        "params:data_cleaning.restrictions": params["restrictions"],
    }
    assert pipeline.inputs() == set(inputs)
    for name, value in inputs.items():
        catalog[name] = MemoryDataset(copy.deepcopy(value), copy_mode="assign")
    for name in pipeline.all_outputs():
        catalog[name] = KeptDataset(copy_mode="assign")
    SequentialRunner().run(pipeline, catalog)
    return {name: catalog[name].load() for name in pipeline.all_outputs()}


@pytest.fixture(scope="session")
def small_run(small_params) -> dict[str, Any]:
    """Every output of one run of the small preset."""
    return run_generator(small_params)
