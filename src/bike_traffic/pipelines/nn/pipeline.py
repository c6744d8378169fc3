"""``nn``: train a Keras regressor on train_baseline, judge it on test_baseline."""

from kedro.pipeline import Node, Pipeline

from bike_traffic.pipelines.model_run import data_nodes, metrics_node
from bike_traffic.pipelines.registry.pipeline import for_model

from .nodes import (
    evaluate_model,
    fit_preprocessor,
    package_model,
    plot_predictions,
    plot_training_curves,
    train_model,
)


def evaluation_nodes() -> list[Node]:
    """Judge, plot and package a fitted network: what ``nn`` and ``retrain_nn`` share.

    Returns:
        The nodes from ``model``, ``preprocessor``, ``training_history`` and
        ``train``/``test`` to ``mlflow_model``, ``metrics`` and figures.
    """
    return [
        Node(
            evaluate_model,
            {"model": "model", "preprocessor": "preprocessor", "train": "train", "test": "test"},
            ["metrics", "test_predictions"],
            name="evaluate_model",
        ),
        Node(
            plot_predictions,
            "test_predictions",
            ["predicted_vs_actual_plot", "error_by_hour_plot"],
            name="plot_predictions",
        ),
        Node(
            plot_training_curves,
            "training_history",
            "training_curves_plot",
            name="plot_training_curves",
        ),
        Node(
            package_model,
            ["model", "preprocessor", "test"],
            ["mlflow_model", "model_card"],
            name="package_model",
        ),
    ]


def create_pipeline(**kwargs) -> Pipeline:
    """Create the ``nn`` pipeline (namespace ``nn``).

    Returns:
        A pipeline from ``train_baseline``/``test_baseline`` to the ``.keras``
        model, its preprocessing, the MLflow model, metrics and figures.
    """
    fit = [
        Node(
            fit_preprocessor, ["train", "params:features"], "preprocessor", name="fit_preprocessor"
        ),
        Node(
            train_model,
            {
                "train": "train",
                "preprocessor": "preprocessor",
                "params": "params:model",
                "seed": "params:run.seed",
            },
            ["model", "training_history"],
            name="train_model",
        ),
    ]
    training = Pipeline(
        [*data_nodes(), *fit, *evaluation_nodes(), metrics_node()],
        namespace="nn",
        inputs={"train_baseline", "test_baseline"},
        parameters={"params:run", "params:run.seed"},
    )
    return training + for_model("nn")
