"""The project's predictors as MLflow models (``mlflow.pyfunc``, loader-module workflow).

:func:`log_predictor` logs a :class:`~bike_traffic.models.predictor.Predictor` with its
signature and an input example; its ``MLmodel`` names this module as the loader, so
``mlflow.pyfunc.load_model`` and ``mlflow models serve`` call :func:`_load_pyfunc`,
which loads the predictor without unpickling anything (:mod:`bike_traffic.models.persistence`).
The package's code is logged with the model (``code_paths``), so a project without
bike_traffic installed can load it too, given the same dependencies.

:func:`load_predictor` is the project's own, stricter way in (the registry's loading API):
it refuses a model whose ``MLmodel`` names another loader, and a model logged before the
raw-input predictor, with a message saying how to retrain.
"""

from __future__ import annotations

import logging
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from bike_traffic.models.predictor import OldLayoutError, Predictor, PredictorFormatError

logger = logging.getLogger(__name__)

#: The loader module the ``MLmodel`` of a project predictor names.
LOADER_MODULE = __name__

#: The folder of the logged model that holds the stored predictor.
DATA_DIR = "predictor"

#: The distributions a served predictor needs, pinned to the versions installed.
_REQUIREMENTS = (
    "mlflow",
    "pandas",
    "numpy",
    "scikit-learn",
    "skops",
    "holidays",
    "pyarrow",
)
_KERAS_REQUIREMENTS = ("keras", "tensorflow-cpu")


def _load_pyfunc(data_path: str) -> Predictor:
    """MLflow's entry point: the stored predictor in ``data_path``."""
    return Predictor.load(Path(data_path))


def requirements(predictor: Predictor) -> list[str]:
    """``name==version`` of what serving the predictor needs (installed versions)."""
    names = _REQUIREMENTS + (_KERAS_REQUIREMENTS if predictor.spec.family == "nn" else ())
    pinned = []
    for name in names:
        try:
            pinned.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pinned.append(name)
    return pinned


def log_predictor(predictor: Predictor, name: str, example: pd.DataFrame) -> Any:
    """Log ``predictor`` to the active MLflow run as the model ``name``.

    Args:
        predictor: The predictor.
        name: The logged model's name (the model type's ``logged_name``).
        example: A few requests (:meth:`Predictor.input_example`).

    Returns:
        MLflow's ``ModelInfo`` (``model_uri``, ``model_id``...).
    """
    import mlflow

    package = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory(prefix="bike_traffic_predictor_") as tmp:
        folder = Path(tmp) / DATA_DIR
        predictor.save(folder)
        return mlflow.pyfunc.log_model(
            name=name,
            loader_module=LOADER_MODULE,
            data_path=str(folder),
            code_paths=[str(package)],
            signature=predictor.signature(),
            input_example=example,
            pip_requirements=requirements(predictor),
            metadata={"bike_traffic_model_type": predictor.spec.model_type},
        )


def retrain_hint(model_type: str) -> str:
    """How to get a model of the current layout."""
    return (
        f"Retrain it with `kedro run --pipelines {model_type}` (then promote the new "
        f"version if the registry keeps the old champion: `kedro models promote {model_type} "
        "<version>`)."
    )


def load_predictor(local_dir: Path, what: str, model_type: str) -> Predictor:
    """Load a logged predictor from its downloaded folder, checking what it claims to be.

    Args:
        local_dir: The logged model's folder (with its ``MLmodel``).
        what: How to name it in messages (``bike-traffic-rf v3``).
        model_type: The model type it should be.

    Returns:
        The predictor.

    Raises:
        PredictorFormatError: When the model is not a predictor of this project (another
            loader, or a model logged before the raw-input predictor), with how to retrain.
    """
    mlmodel = local_dir / "MLmodel"
    if not mlmodel.is_file():
        raise PredictorFormatError(f"{what}: {local_dir} holds no MLmodel file.")
    flavors = (yaml.safe_load(mlmodel.read_text(encoding="utf-8")) or {}).get("flavors") or {}
    pyfunc = flavors.get("python_function") or {}
    if pyfunc.get("loader_module") != LOADER_MODULE:
        older = {"sklearn", "tensorflow", "keras"} & set(flavors)
        reason = (
            f"it was logged before the raw-input predictor ({', '.join(sorted(older))} flavour, "
            "which expects the engineered feature table) and cannot serve"
            if older
            else f"its MLmodel names the loader {pyfunc.get('loader_module')!r}, not "
            f"{LOADER_MODULE!r}, so it is not loaded"
        )
        raise OldLayoutError(f"{what}: {reason}. {retrain_hint(model_type)}")
    data = local_dir / str(pyfunc.get("data") or DATA_DIR)
    try:
        predictor = Predictor.load(data)
    except PredictorFormatError as exc:
        raise type(exc)(f"{what}: {exc} {retrain_hint(model_type)}") from exc
    if predictor.spec.model_type != model_type:
        raise PredictorFormatError(
            f"{what} is a {predictor.spec.model_type} predictor, not a {model_type} one."
        )
    return predictor
