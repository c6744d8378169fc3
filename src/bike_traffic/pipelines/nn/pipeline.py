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


def create_pipeline(**kwargs) -> Pipeline:
    """Create the ``nn`` pipeline (namespace ``nn``).

    Returns:
        A pipeline from ``train_baseline``/``test_baseline`` to the ``.keras``
        model, its preprocessing, the MLflow model, metrics and figures.
    """
    nodes = [
        *data_nodes(),
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
        Node(
            evaluate_model,
            {"model": "model", "preprocessor": "preprocessor", "train": "train", "test": "test"},
            ["metrics", "test_predictions"],
            name="evaluate_model",
        ),
        metrics_node(),
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
    training = Pipeline(
        nodes,
        namespace="nn",
        inputs={"train_baseline", "test_baseline"},
        parameters={"params:run", "params:run.seed"},
    )
    return training + for_model("nn")
