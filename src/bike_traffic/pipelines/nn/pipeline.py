"""``nn``: train a Keras regressor on train_baseline, judge its predictor on test_baseline.

Registration is composed after it in ``pipeline_registry.py``.
"""

from kedro.pipeline import Node, Pipeline

from bike_traffic.models import nn, plots
from bike_traffic.models.evaluation import evaluate_regressor
from bike_traffic.pipelines.model_run import data_nodes, interval_node, metrics_node

from .nodes import calibrate_interval, package_model, plot_predictions


def evaluation_nodes() -> list[Node]:
    """Package, judge and plot a fitted network: what ``nn`` and ``retrain_nn`` share.

    Returns:
        The nodes from ``model``, ``preprocessor``, ``training_history`` and
        ``train``/``test`` to ``predictor``, ``mlflow_model``, ``metrics`` and figures.
    """
    return [
        interval_node(calibrate_interval),
        Node(
            package_model,
            {
                "model": "model",
                "preprocessor": "preprocessor",
                "train": "train",
                "test": "test",
                "context": "feature_context",
                "dates": "params:predictor",
                "interval": "interval",
            },
            ["predictor", "mlflow_model", "model_card"],
            name="package_model",
        ),
        Node(
            evaluate_regressor,
            ["predictor", "train", "test"],
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
            plots.plot_training_curves,
            "training_history",
            "training_curves_plot",
            name="plot_training_curves",
        ),
    ]


def create_pipeline(**kwargs) -> Pipeline:
    """Create the ``nn`` pipeline (namespace ``nn``).

    Returns:
        A pipeline from ``train_baseline``/``test_baseline`` to the logged predictor,
        its model card, metrics and figures.
    """
    fit = [
        Node(
            nn.fit_preprocessor,
            ["train", "params:features", "params:target"],
            "preprocessor",
            name="fit_preprocessor",
        ),
        Node(
            nn.fit,
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
    return Pipeline(
        [*data_nodes(), *fit, *evaluation_nodes(), metrics_node()],
        namespace="nn",
        inputs={"train_baseline", "test_baseline", "feature_context"},
        parameters={"params:run", "params:run.seed", "params:predictor", "params:intervals"},
    )
