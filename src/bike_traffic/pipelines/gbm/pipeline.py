"""``gbm``: train gradient-boosted trees on train_baseline, judge their predictor on test_baseline.

Registration is composed after it in ``pipeline_registry.py``.
"""

from kedro.pipeline import Node, Pipeline

from bike_traffic.models import gbm
from bike_traffic.models.evaluation import evaluate_regressor
from bike_traffic.pipelines.model_run import data_nodes, interval_node, metrics_node

from .nodes import calibrate_interval, package_model, plot_predictions


def model_nodes() -> list[Node]:
    """Fit, package, judge and plot the trees: what ``gbm`` and ``retrain_gbm`` share.

    Returns:
        The nodes from ``train``/``test`` to ``predictor``, ``mlflow_model``,
        ``model_card``, ``metrics`` and figures.
    """
    return [
        Node(
            gbm.fit,
            ["train", "params:features", "params:model", "params:target"],
            "model",
            name="train_model",
        ),
        interval_node(calibrate_interval),
        Node(
            package_model,
            {
                "model": "model",
                "target": "params:target",
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
    ]


def create_pipeline(**kwargs) -> Pipeline:
    """Create the ``gbm`` pipeline (namespace ``gbm``).

    Returns:
        A pipeline from ``train_baseline``/``test_baseline`` to the logged predictor
        ``gbm.mlflow_model``, ``gbm.model_card``, metrics and figures.
    """
    return Pipeline(
        [*data_nodes(), *model_nodes(), metrics_node()],
        namespace="gbm",
        inputs={"train_baseline", "test_baseline", "feature_context"},
        parameters={"params:run", "params:run.seed", "params:predictor", "params:intervals"},
    )
