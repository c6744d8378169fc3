"""The facts of each model type, in one place: names, kind, label, family."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSpec:
    """One model type of the project.

    Attributes:
        model_type: Its pipeline and namespace (``rf``, ``nn``, ``affluence_classifier``).
        registered_name: Its name in the MLflow Model Registry.
        summary_type: Its ``model_type`` in ``summary.json`` (the original's names).
        logged_name: The name of the logged MLflow model in a run.
        kind: ``regressor`` (predicts counts) or ``classifier`` (high/low traffic).
        label: How people see it (the app, figures).
        family: The module of :mod:`bike_traffic.models` that fits and predicts it.
    """

    model_type: str
    registered_name: str
    summary_type: str
    logged_name: str
    kind: str
    label: str
    family: str

    @property
    def is_classifier(self) -> bool:
        """Whether it predicts high/low traffic rather than counts."""
        return self.kind == "classifier"

    @property
    def headline_metric(self) -> str:
        """The test metric that ranks its versions (RMSE down, or F1 up)."""
        return "f1_score" if self.is_classifier else "rmse"


MODEL_SPECS: dict[str, ModelSpec] = {
    spec.model_type: spec
    for spec in (
        ModelSpec("rf", "bike-traffic-rf", "rf", "rf_model", "regressor", "Random Forest", "rf"),
        ModelSpec("nn", "bike-traffic-nn", "nn", "nn_model", "regressor", "Neural Net", "nn"),
        ModelSpec(
            "gbm", "bike-traffic-gbm", "gbm", "gbm_model", "regressor", "Gradient Boosting", "gbm"
        ),
        ModelSpec(
            "affluence_classifier",
            "bike-traffic-affluence",
            "rf_class",
            "affluence_model",
            "classifier",
            "RF Classifier (Affluence)",
            "classifier",
        ),
    )
}


class UnknownModelTypeError(ValueError):
    """A name that is none of the project's model types."""


def model_spec(name: str) -> ModelSpec:
    """The spec of a model type named by its pipeline, summary or registered name.

    Args:
        name: ``rf``, ``rf_class``, ``bike-traffic-nn``...

    Returns:
        Its :class:`ModelSpec`.

    Raises:
        UnknownModelTypeError: When the name is none of the project's model types.
    """
    for spec in MODEL_SPECS.values():
        if name in (spec.model_type, spec.summary_type, spec.registered_name):
            return spec
    known = ", ".join(f"{s.model_type} ({s.registered_name})" for s in MODEL_SPECS.values())
    raise UnknownModelTypeError(f"Unknown model type {name!r}. Known: {known}.")
