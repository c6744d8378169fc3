"""What the scripts share: the project's configuration, pipeline slices and Kedro sessions.

Scripts never chain node functions by hand: they run a slice of a pipeline on Kedro's
``SequentialRunner`` over an in-memory catalog (:func:`run_slice`), or a whole pipeline
in a ``KedroSession`` of a Kedro environment (:func:`run_session`), as ``kedro run`` does.
Not a script itself: the scripts import it (``scripts/`` is on their ``sys.path``).
"""

from __future__ import annotations

import os
import platform
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

#: Nothing phones home, TensorFlow stays quiet.
QUIET_ENV = {
    "KEDRO_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "TF_CPP_MIN_LOG_LEVEL": "2",
}
for _name, _value in QUIET_ENV.items():
    os.environ.setdefault(_name, _value)
# omegaconf 2.4 deprecates the resolver registration Kedro's config loader uses
warnings.filterwarnings("ignore", message=".*register_new_resolver", category=UserWarning)


def config(env: str | None = None, runtime_params: dict[str, Any] | None = None):
    """The project's configuration as ``kedro run --env <env>`` loads it (base + env).

    Args:
        env: The Kedro environment (``local`` when None, as ``kedro run``).
        runtime_params: ``--params`` values (nested dict).

    Returns:
        An ``OmegaConfigLoader`` with the project's settings.
    """
    from kedro.config import OmegaConfigLoader

    from bike_traffic.settings import CONFIG_LOADER_ARGS

    return OmegaConfigLoader(
        str(ROOT / "conf"), env=env, runtime_params=runtime_params, **CONFIG_LOADER_ARGS
    )


def parameter(params: dict[str, Any], name: str) -> Any:
    """The value of the dataset ``params:a.b.c`` in ``params``.

    Raises:
        KeyError: Naming the dataset, when ``params`` lacks it.
    """
    value: Any = params
    for key in name.removeprefix("params:").split("."):
        if not isinstance(value, dict) or key not in value:
            raise KeyError(f"{name} is not in the parameters")
        value = value[key]
    return value


def run_slice(
    pipeline, inputs: dict[str, Any], params: dict[str, Any], keep: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Run ``pipeline`` (a slice) on ``SequentialRunner`` over an in-memory catalog.

    Args:
        pipeline: The pipeline or slice (``create_pipeline().to_outputs(...)``...).
        inputs: Its data inputs by dataset name: values, or datasets (a
            ``RawExportDataset`` on a file).
        params: The parameters its ``params:`` inputs are read from.
        keep: Intermediate datasets to return as well.

    Returns:
        Its free outputs (and ``keep``), loaded, by name.
    """
    from kedro.io import AbstractDataset, DataCatalog, MemoryDataset
    from kedro.runner import SequentialRunner

    catalog = DataCatalog()
    for name, value in inputs.items():
        is_dataset = isinstance(value, AbstractDataset)
        catalog[name] = value if is_dataset else MemoryDataset(value, copy_mode="assign")
    for name in pipeline.inputs():
        if name.startswith("params:"):
            catalog[name] = MemoryDataset(parameter(params, name), copy_mode="assign")

    class Kept(MemoryDataset):
        """Kept for the caller: the runner's release after the last reader is ignored."""

        def _release(self) -> None:
            pass

    for name in pipeline.all_outputs():  # tables are large: never copied between nodes
        catalog[name] = (Kept if name in keep else MemoryDataset)(copy_mode="assign")
    kept = {name: catalog[name] for name in keep}
    returned = SequentialRunner().run(pipeline, catalog)
    return {
        **{name: dataset.load() for name, dataset in returned.items()},
        **{name: dataset.load() for name, dataset in kept.items()},
    }


def run_session(pipeline: str, env: str, runtime_params: dict[str, Any] | None = None) -> None:
    """``kedro run --pipelines <pipeline> --env <env> --params ...`` in this process."""
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    bootstrap_project(ROOT)
    with KedroSession.create(project_path=ROOT, env=env, runtime_params=runtime_params) as s:
        s.run(pipeline_names=[pipeline])


def parse_params(items: list[str]) -> dict[str, Any]:
    """``["rf.model.min_samples_leaf=1"]`` -> ``{"rf": {"model": {"min_samples_leaf": 1}}}``.

    One dotted key and its YAML value per item, as ``kedro run --params`` takes them.
    """
    import yaml

    nested: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise SystemExit(f"--params expects KEY=VALUE, got {item!r}")
        node = nested
        *parents, leaf = key.strip().split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = yaml.safe_load(value)
    return nested


def raw_file(env: str | None = None) -> Path:
    """Where the catalog of ``env`` reads the raw export (``globals.yml``), from the root."""
    found = config(env)["globals"]
    path = Path(found["data_root"]) / found["raw_file"]
    return path if path.is_absolute() else ROOT / path


def machine() -> str:
    """One line about this machine: CPU, cores usable, memory, OS, Python, pandas."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            names = [
                line.split(":", 1)[1].strip() for line in info if line.startswith("model name")
            ]
        cpu = names[0] if names else cpu
    except OSError:
        pass
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        memory_text = f"{memory:.1f} GiB RAM"
    except (ValueError, OSError, AttributeError):
        memory_text = "RAM unknown"
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    import pandas as pd

    return (
        f"{cpu}, {os.cpu_count()} CPUs ({usable} usable by the benchmark), {memory_text}, "
        f"{platform.system()} {platform.release()}, Python {platform.python_version()}, "
        f"pandas {pd.__version__}"
    )


def pin_cpus(n: int) -> int | None:
    """Restrict this process (and its children) to ``n`` CPUs; return how many it has."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    available = sorted(os.sched_getaffinity(0))
    if n > 0 and len(available) > n:
        os.sched_setaffinity(0, available[:n])
    return len(os.sched_getaffinity(0))


def markdown_table(header: str, rows: list[list[str]], left: int = 1) -> str:
    """A markdown table: ``header`` as ``"a|b|c"``, the first ``left`` columns and the last
    aligned left, the others right."""
    names = header.split("|")
    marks = ["---"] * left + ["---:"] * (len(names) - left - 1) + ["---"]
    return "\n".join("| " + " | ".join(r) + " |" for r in [names, marks, *rows]) + "\n"


def replace_section(path: Path, start: str, end: str, text: str) -> None:
    """Replace the part of ``path`` from ``start`` to ``end`` by ``text`` (appended if absent)."""
    doc = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if start in doc and end in doc:
        head, rest = doc.split(start, 1)
        doc = head + text + rest.split(end, 1)[1]
    else:
        doc = doc.rstrip("\n") + "\n\n" + text + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(doc, encoding="utf-8")
