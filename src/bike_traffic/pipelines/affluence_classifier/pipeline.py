"""``affluence_classifier``: is an hour high traffic for its counter?

Registration is composed after it in ``pipeline_registry.py``.
"""

from kedro.pipeline import Node, Pipeline

from bike_traffic.models import classifier, plots
from bike_traffic.models.evaluation import evaluate_classifier
from bike_traffic.pipelines.model_run import data_nodes, metrics_node

from .nodes import package_model


def model_nodes() -> list[Node]:
    """Thresholds, fit, package, judge and plot: what ``affluence_classifier`` and
    ``retrain_affluence_classifier`` share.

    Returns:
        The nodes from ``train``/``test`` to ``predictor``, ``mlflow_model``,
        ``model_card``, ``metrics`` and figures.
    """
    return [
        Node(
            classifier.fit_thresholds,
            ["train", "params:label"],
            "thresholds",
            name="fit_thresholds",
        ),
        Node(
            classifier.fit,
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
            package_model,
            {
                "model": "model",
                "thresholds": "thresholds",
                "train": "train",
                "test": "test",
                "context": "feature_context",
                "dates": "params:predictor",
            },
            ["predictor", "mlflow_model", "model_card"],
            name="package_model",
        ),
        Node(
            evaluate_classifier,
            ["predictor", "train", "test"],
            ["metrics", "test_predictions"],
            name="evaluate_model",
        ),
        Node(
            plots.plot_confusion_and_roc,
            "test_predictions",
            ["confusion_matrix_plot", "roc_curve_plot"],
            name="plot_confusion_and_roc",
        ),
    ]


def create_pipeline(**kwargs) -> Pipeline:
    """Create the ``affluence_classifier`` pipeline (namespace ``affluence_classifier``).

    Returns:
        A pipeline from ``train_baseline``/``test_baseline`` to the logged predictor,
        its model card, metrics and figures.
    """
    return Pipeline(
        [*data_nodes(), *model_nodes(), metrics_node()],
        namespace="affluence_classifier",
        inputs={"train_baseline", "test_baseline", "feature_context"},
        parameters={"params:run", "params:predictor"},
    )
