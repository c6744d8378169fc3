"""MLflow datasets: the logged predictor, and artifacts whose file may be on ``gs://``."""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

import mlflow
from kedro.io import AbstractDataset, AbstractVersionedDataset
from kedro.io.core import DatasetError, get_filepath_str, parse_dataset_definition


class MlflowPredictorDataset(AbstractDataset):
    """Log a model type's predictor to the active MLflow run (``mlflow.pyfunc``).

    The node returns ``{"predictor": <Predictor>, "input_example": <a few requests>}``;
    the dataset logs it with :func:`bike_traffic.models.mlflow_flavor.log_predictor`
    (signature, input example, the loader module). Loading is the registry's job
    (:func:`bike_traffic.registry.loading.load_model`), by version or alias, so this
    dataset only saves. kedro-mlflow switches logging off, as for its own ``Mlflow*``
    datasets, for the pipelines whose tracking ``mlflow.yml`` disables.
    """

    def __init__(self, name: str, metadata: dict[str, Any] | None = None) -> None:
        """Args: name: the logged model's name (the model type's ``logged_name``)."""
        self.name = name
        self.metadata = metadata
        self._logging_activated = True

    def _describe(self) -> dict[str, Any]:
        return {"name": self.name}

    def load(self) -> Any:
        """Not supported: load a logged predictor through the registry."""
        raise DatasetError(
            f"MlflowPredictorDataset({self.name!r}) only logs; load a model with "
            "bike_traffic.registry.loading.load_model (by version or alias)."
        )

    def save(self, data: dict[str, Any]) -> None:
        """Log the predictor to the active run (nothing when logging is switched off)."""
        if not self._logging_activated:
            return
        from bike_traffic.models.mlflow_flavor import log_predictor

        if mlflow.active_run() is None:
            raise DatasetError(
                f"No active MLflow run to log the model {self.name!r} into: is tracking "
                "disabled for this pipeline in mlflow.yml?"
            )
        log_predictor(data["predictor"], self.name, data["input_example"])


class MlflowArtifactDataset(AbstractDataset):
    """A file dataset whose every save is also logged as an artifact of the active MLflow run.

    The same catalog entry as kedro-mlflow's ``MlflowArtifactDataset`` (``dataset`` and
    ``artifact_path``), for an inner dataset on any fsspec filesystem. kedro-mlflow 2.0.3
    logs the inner file with ``mlflow.log_artifact(<its path>)``, which only exists
    locally: with the inner ``filepath`` on ``gs://`` (conf/prod) it fails with
    ``FileNotFoundError``. This one saves through the inner dataset, then logs the file
    it wrote, copied to a temporary folder first when it is not on the local disk.
    Loading reads the inner dataset. kedro-mlflow switches logging off, as for its own
    datasets, for the pipelines whose tracking ``mlflow.yml`` disables.
    """

    def __init__(
        self,
        dataset: str | dict[str, Any],
        artifact_path: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Create the inner dataset.

        Args:
            dataset: The inner dataset's type, or its whole catalog definition.
            artifact_path: Folder of the run's artifacts to log the file into.
            metadata: Free-form information about the dataset, ignored by Kedro.

        Raises:
            DatasetError: When the inner dataset is not a single-file dataset.
        """
        config = {"type": dataset} if isinstance(dataset, str) else dict(dataset)
        dataset_class, dataset_args = parse_dataset_definition(config=config)
        self._dataset = dataset_class(**dataset_args)
        if not hasattr(self._dataset, "_filepath"):
            raise DatasetError(
                f"MlflowArtifactDataset wraps single-file datasets; "
                f"{dataset_class.__name__} has no filepath."
            )
        self.artifact_path = artifact_path
        self.metadata = metadata
        self._logging_activated = True  # kedro-mlflow's switch, for every Mlflow* dataset

    def _describe(self) -> dict[str, Any]:
        return {"dataset": self._dataset._describe(), "artifact_path": self.artifact_path}

    def _exists(self) -> bool:
        return self._dataset.exists()

    def load(self) -> Any:
        """Load the inner dataset."""
        return self._dataset.load()

    def save(self, data: Any) -> None:
        """Save through the inner dataset, then log the written file to the active run."""
        if isinstance(self._dataset, AbstractVersionedDataset):
            path = self._dataset._get_save_path()  # resolve the version before saving
        else:
            path = PurePosixPath(self._dataset._filepath)
        self._dataset.save(data)
        if self._logging_activated:
            self._log(PurePosixPath(path))

    def _log(self, path: PurePosixPath) -> None:
        protocol = getattr(self._dataset, "_protocol", "file")
        if protocol == "file":
            mlflow.log_artifact(path.as_posix(), self.artifact_path)
            return
        with tempfile.TemporaryDirectory(prefix="bike_traffic_artifact_") as tmp:
            local = Path(tmp) / path.name
            self._dataset._fs.get(get_filepath_str(path, protocol), str(local))
            mlflow.log_artifact(str(local), self.artifact_path)
