"""``rf``: train a random forest on train_baseline, judge its predictor on test_baseline.

Registration (register, re-score the champion, decide, record) is composed after it in
``pipeline_registry.py``: this pipeline knows nothing of the registry.
"""

from kedro.pipeline import Node, Pipeline

from bike_traffic.models import plots, rf
from bike_traffic.models.evaluation import evaluate_regressor
from bike_traffic.pipelines.model_run import data_nodes, interval_node, metrics_node

from .nodes import calibrate_interval, package_model, plot_predictions


def model_nodes() -> list[Node]:
    """Fit, package, judge and plot the forest: what ``rf`` and ``retrain_rf`` share.

    Returns:
        The nodes from ``train``/``test`` to ``predictor``, ``mlflow_model``,
        ``model_card``, ``metrics`` and figures.
    """
    return [
        Node(
            rf.fit,
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
        Node(
            plots.plot_feature_importances,
            "model",
            "feature_importances_plot",
            name="plot_feature_importances",
        ),
    ]


def create_pipeline(**kwargs) -> Pipeline:
    """Create the ``rf`` pipeline (namespace ``rf``).

    Returns:
        A pipeline from ``train_baseline``/``test_baseline`` to the logged predictor
        ``rf.mlflow_model``, ``rf.model_card``, metrics and figures.
    """
    return Pipeline(
        [*data_nodes(), *model_nodes(), metrics_node()],
        namespace="rf",
        inputs={"train_baseline", "test_baseline", "feature_context"},
        parameters={"params:run", "params:run.seed", "params:predictor", "params:intervals"},
    )
