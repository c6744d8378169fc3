"""``affluence_classifier``: is an hour high traffic for its counter?"""

from kedro.pipeline import Node, Pipeline

from bike_traffic.pipelines.model_run import data_nodes, metrics_node
from bike_traffic.pipelines.registry.pipeline import for_model

from .nodes import (
    evaluate_model,
    fit_thresholds,
    package_model,
    plot_confusion_and_roc,
    train_model,
)


def model_nodes() -> list[Node]:
    """Thresholds, fit, judge, plot and package: what ``affluence_classifier`` and
    ``retrain_affluence_classifier`` share.

    Returns:
        The nodes from ``train``/``test`` to ``mlflow_model``, ``metrics`` and figures.
    """
    return [
        Node(fit_thresholds, ["train", "params:label"], "thresholds", name="fit_thresholds"),
        Node(
            train_model,
            {
                "train": "train",
                "thresholds": "thresholds",
                "features": "params:features",
                "model": "params:model",
            },
            "model",
            name="train_model",
        ),
        Node(
            evaluate_model,
            {
                "model": "model",
                "thresholds": "thresholds",
                "train": "train",
                "test": "test",
                "features": "params:features",
            },
            ["metrics", "test_predictions"],
            name="evaluate_model",
        ),
        Node(
            plot_confusion_and_roc,
            "test_predictions",
            ["confusion_matrix_plot", "roc_curve_plot"],
            name="plot_confusion_and_roc",
        ),
        Node(
            package_model,
            ["model", "test", "params:features"],
            ["mlflow_model", "model_card"],
            name="package_model",
        ),
    ]


def create_pipeline(**kwargs) -> Pipeline:
    """Create the ``affluence_classifier`` pipeline (namespace ``affluence_classifier``).

    Returns:
        A pipeline from ``train_baseline``/``test_baseline`` to the thresholds,
        the MLflow model, metrics and figures.
    """
    training = Pipeline(
        [*data_nodes(), *model_nodes(), metrics_node()],
        namespace="affluence_classifier",
        inputs={"train_baseline", "test_baseline"},
        parameters={"params:run"},
    )
    return training + for_model("affluence_classifier")
