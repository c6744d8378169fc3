"""MLflow datasets that add what kedro-mlflow's cannot know statically."""

from __future__ import annotations

from typing import Any

from kedro_mlflow.io.models import MlflowModelTrackingDataset
from mlflow.models import infer_signature


class SignedMlflowModelDataset(MlflowModelTrackingDataset):
    """Log a model with a signature and an input example taken from the data.

    The node returns ``{"model": <fitted model>, "input_example": <a few rows>,
    "output_example": <the model's output for them>}``; the dataset infers the
    signature from the two examples and logs the model with
    ``<flavor>.log_model(model, signature=..., input_example=..., **save_args)``.
    Loading returns the model itself, as kedro-mlflow's dataset does.
    """

    def _save(self, data: dict[str, Any]) -> None:
        example = data["input_example"]
        signature = infer_signature(example, data.get("output_example"))
        static_args = self._save_args
        self._save_args = {**static_args, "signature": signature, "input_example": example}
        try:
            super()._save(data["model"])
        finally:
            self._save_args = static_args
