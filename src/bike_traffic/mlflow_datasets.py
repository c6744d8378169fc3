"""MLflow datasets that add what kedro-mlflow's cannot know statically."""

from __future__ import annotations

import tempfile
from importlib.util import find_spec
from pathlib import Path, PurePosixPath
from typing import Any

import mlflow
from kedro.io import AbstractDataset, AbstractVersionedDataset
from kedro.io.core import DatasetError, get_filepath_str, parse_dataset_definition
from kedro_mlflow.io.models import MlflowModelTrackingDataset
from mlflow.models import infer_signature


class SignedMlflowModelDataset(MlflowModelTrackingDataset):
    """Log a model with a signature and an input example taken from the data.

    The node returns ``{"model": <fitted model>, "input_example": <a few rows>,
    "output_example": <the model's output for them>}``; the dataset infers the
    signature from the two examples and logs the model with
    ``<flavor>.log_model(model, signature=..., input_example=..., **save_args)``.
    Loading returns the model itself, as kedro-mlflow's dataset does.

    The flavour's module is imported when a model is saved or loaded, not when the
    dataset is built: kedro-mlflow builds every dataset of the catalog when it is
    created and checks the flavour by importing it, and ``mlflow.tensorflow``
    imports TensorFlow (about 5 s), which every ``kedro`` process then paid. At
    construction the flavour is only looked up (an unknown one still fails then).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Same arguments as kedro-mlflow's ``MlflowModelTrackingDataset``."""
        self._constructed = False
        super().__init__(*args, **kwargs)
        self._constructed = True

    @property
    def _mlflow_model_module(self) -> Any:
        if not self._constructed:  # kedro-mlflow's check in __init__: find, do not import
            if find_spec(self._flavor) is None:
                raise ImportError(f"'{self._flavor}' module not found: not an MLflow flavour.")
            return None
        return self._import_module(self._flavor)

    def _save(self, data: dict[str, Any]) -> None:
        example = data["input_example"]
        signature = infer_signature(example, data.get("output_example"))
        static_args = self._save_args
        self._save_args = {**static_args, "signature": signature, "input_example": example}
        try:
            super()._save(data["model"])
        finally:
            self._save_args = static_args


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
