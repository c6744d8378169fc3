"""The nodes every model run shares, around a model's own training nodes.

``rf``, ``nn``, ``affluence_classifier`` and each namespace of ``retrain`` train a
different model but open and close their MLflow run the same way: pick the rows
(``params:run``: the quick test mode samples them), fingerprint the data the
run saw, and turn the test metrics into MLflow metrics. Those nodes are built
here once; the registry's part of a run is
:func:`bike_traffic.pipelines.registry.pipeline.registration`, composed after
each model run in ``pipeline_registry.py``.

A module, not a pipeline folder: Kedro's ``find_pipelines`` registers folders only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kedro.pipeline import Node

from bike_traffic.models.evaluation import data_fingerprint, select_model_data, to_mlflow_metrics


def data_nodes(train: str = "train_baseline", test: str = "test_baseline") -> list[Node]:
    """Rows of the run and their fingerprint: ``train``, ``test`` and ``data_fingerprint``.

    Args:
        train: The dataset the training rows come from.
        test: The fixed test set.

    Returns:
        ``select_model_data`` and ``data_fingerprint``.
    """
    return [
        Node(
            select_model_data,
            [train, test, "params:run"],
            ["train", "test"],
            name="select_model_data",
        ),
        Node(
            data_fingerprint,
            ["train", "test", "params:run"],
            "data_fingerprint",
            name="data_fingerprint",
        ),
    ]


def interval_node(calibrate: Callable[..., dict[str, Any]]) -> Node:
    """``train`` -> ``interval``: a regressor's prediction interval (its pipeline's
    ``calibrate_interval``, which names the model type to
    :func:`bike_traffic.models.evaluation.calibrate_interval`).

    Args:
        calibrate: The model pipeline's ``calibrate_interval`` node function.
    """
    return Node(
        calibrate,
        {
            "train": "train",
            "features": "params:features",
            "model": "params:model",
            "target": "params:target",
            "settings": "params:intervals",
            "context": "feature_context",
            "dates": "params:predictor",
            "seed": "params:run.seed",
        },
        "interval",
        name="calibrate_interval",
    )


def metrics_node() -> Node:
    """``metrics`` -> ``mlflow_metrics`` (kedro-mlflow's metrics dataset), prefixed."""
    return Node(
        to_mlflow_metrics,
        ["metrics", "params:metric_prefix"],
        "mlflow_metrics",
        name="log_metrics",
    )
