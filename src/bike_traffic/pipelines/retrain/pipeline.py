"""``retrain``: a challenger per model type on recent data, judged by the registry's rule.

One namespace per model type (``retrain_rf``, ``retrain_nn``,
``retrain_affluence_classifier``), each a complete run: pick the rows, train with
the model pipeline's own nodes; ``pipeline_registry.py`` composes the registration
after each (register the version as ``challenger``, re-score the champion on the
same fixed ``test_baseline``, decide, append to ``summary.json``).
``kedro run --pipelines retrain --namespaces retrain_rf`` retrains one type; the
Airflow DAG runs each namespace as one task.
"""

from kedro.pipeline import Node, Pipeline

from bike_traffic.pipelines.affluence_classifier import pipeline as affluence_pipeline
from bike_traffic.pipelines.gbm import pipeline as gbm_pipeline
from bike_traffic.pipelines.model_run import data_nodes, metrics_node
from bike_traffic.pipelines.monitoring.nodes import select_window
from bike_traffic.pipelines.nn import pipeline as nn_pipeline
from bike_traffic.pipelines.rf import pipeline as rf_pipeline

from .nodes import build_training_rows, champion_preprocessor, fine_tune_nn, load_nn_champion

#: The model types ``retrain`` makes challengers for, in the DAG's order.
MODEL_TYPES = ("rf", "nn", "gbm", "affluence_classifier")


def _data_nodes() -> list[Node]:
    """Rows: recent window + history of train_baseline; the fixed test set; fingerprint."""
    return [
        Node(
            select_window,
            ["clean_counts", "params:window"],
            ["window_rows", "window_info"],
            name="select_window",
        ),
        Node(
            build_training_rows,
            {
                "train": "train_baseline",
                "window": "window_rows",
                "test": "test_baseline",
                "data": "params:data",
            },
            "training_rows",
            name="build_training_rows",
        ),
        *data_nodes(train="training_rows"),
        metrics_node(),
    ]


def _nn_nodes() -> list[Node]:
    """Fine-tune the champion network (not a new one), then ``nn``'s own evaluation nodes."""
    return [
        Node(
            load_nn_champion,
            ["summary_history", "params:registry"],
            "champion",
            name="load_champion",
        ),
        Node(
            champion_preprocessor,
            ["champion", "train", "params:features", "params:target"],
            "preprocessor",
            name="champion_preprocessor",
        ),
        Node(
            fine_tune_nn,
            {
                "champion": "champion",
                "train": "train",
                "preprocessor": "preprocessor",
                "params": "params:model",
                "fine_tune": "params:fine_tune",
                "seed": "params:run.seed",
            },
            ["model", "training_history"],
            name="fine_tune_model",
        ),
        *nn_pipeline.evaluation_nodes(),
    ]


_MODEL_NODES = {
    "rf": rf_pipeline.model_nodes,
    "nn": _nn_nodes,
    "gbm": gbm_pipeline.model_nodes,
    "affluence_classifier": affluence_pipeline.model_nodes,
}


def for_model_type(model_type: str) -> Pipeline:
    """The retrain pipeline of one model type, in namespace ``retrain_<type>``.

    Args:
        model_type: ``rf``, ``nn`` or ``affluence_classifier``.

    Returns:
        Data selection and the model pipeline's training nodes with that type's
        parameters (``params:<type>.*``).
    """
    parameters = {
        "params:window": "params:monitoring.window",
        "params:data": "params:retrain.data",
        "params:run": "params:run",
        "params:predictor": "params:predictor",
        "params:metric_prefix": f"params:{model_type}.metric_prefix",
        "params:features": f"params:{model_type}.features",
        "params:model": f"params:{model_type}.model",
    }
    if model_type == "nn":
        parameters |= {
            "params:registry": "params:registry",
            "params:fine_tune": "params:retrain.nn",
            "params:run.seed": "params:run.seed",
        }
    if model_type == "affluence_classifier":
        parameters["params:label"] = "params:affluence_classifier.label"
    else:
        parameters["params:target"] = f"params:{model_type}.target"
        parameters["params:intervals"] = "params:intervals"
        parameters["params:run.seed"] = "params:run.seed"
    return Pipeline(
        [*_data_nodes(), *_MODEL_NODES[model_type]()],
        namespace=f"retrain_{model_type}",
        inputs={"clean_counts", "train_baseline", "test_baseline", "feature_context"}
        | ({"summary_history"} if model_type == "nn" else set()),
        parameters=parameters,
    )


def create_pipeline(**kwargs) -> Pipeline:
    """Create the ``retrain`` pipeline: one namespace per model type.

    Returns:
        ``retrain_rf`` + ``retrain_nn`` + ``retrain_affluence_classifier``.
    """
    return sum((for_model_type(t) for t in MODEL_TYPES), Pipeline([]))
