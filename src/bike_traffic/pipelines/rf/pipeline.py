"""``rf``: train a RandomForest regressor on train_baseline, judge it on test_baseline."""

from kedro.pipeline import Node, Pipeline

from bike_traffic.pipelines.model_run import data_nodes, metrics_node
from bike_traffic.pipelines.registry.pipeline import for_model

from .nodes import (
    evaluate_model,
    package_model,
    plot_feature_importances,
    plot_predictions,
    train_model,
)


def model_nodes() -> list[Node]:
    """Fit, judge, plot and package the forest: what ``rf`` and ``retrain_rf`` share.

    Returns:
        The nodes from ``train``/``test`` to ``mlflow_model``, ``metrics`` and figures.
    """
    return [
        Node(
            train_model, ["train", "params:features", "params:model"], "model", name="train_model"
        ),
        Node(
            evaluate_model,
            {"model": "model", "train": "train", "test": "test", "features": "params:features"},
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
            plot_feature_importances,
            "model",
            "feature_importances_plot",
            name="plot_feature_importances",
        ),
        Node(
            package_model,
            ["model", "test", "params:features"],
            ["mlflow_model", "model_card"],
            name="package_model",
        ),
    ]


def create_pipeline(**kwargs) -> Pipeline:
    """Create the ``rf`` pipeline (namespace ``rf``).

    Returns:
        A pipeline from ``train_baseline``/``test_baseline`` to the MLflow model
        ``rf.mlflow_model``, metrics and figures.
    """
    training = Pipeline(
        [*data_nodes(), *model_nodes(), metrics_node()],
        namespace="rf",
        inputs={"train_baseline", "test_baseline"},
        parameters={"params:run"},
    )
    return training + for_model("rf")
