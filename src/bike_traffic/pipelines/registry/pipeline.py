"""``registry``: the registration that follows every model run, and the standalone re-scoring.

:func:`registration` is composed after each model pipeline (and each namespace of
``retrain``) by ``pipeline_registry.py``; the model pipelines do not import it.
``kedro run --pipelines registry`` is :func:`create_pipeline`.
"""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    decide_promotion,
    publish_champions,
    publish_decision,
    record_decision,
    register_model_version,
    rescore_champions,
    score_champion,
)


def registration_template() -> Pipeline:
    """Register, re-score the champion, decide, record, publish: one template for every model run.

    Inside a model run's namespace it reads that namespace's ``model_card``,
    ``metrics``, ``data_fingerprint`` and ``test``, and appends to ``summary.json``
    through ``<namespace>.summary_entries``.

    Returns:
        The un-namespaced template.
    """
    return Pipeline(
        [
            Node(
                register_model_version,
                {
                    "model_card": "model_card",
                    "metrics": "metrics",
                    "fingerprint": "data_fingerprint",
                    "history": "summary_history",
                    "settings": "params:registry",
                },
                "registered_version",
                name="register_model_version",
            ),
            Node(
                score_champion,
                {
                    "registered": "registered_version",
                    "test": "test",
                    "history": "summary_history",
                    "settings": "params:registry",
                },
                "champion_scores",
                name="score_champion",
            ),
            Node(
                decide_promotion,
                {
                    "registered": "registered_version",
                    "metrics": "metrics",
                    "champion": "champion_scores",
                    "spec": "params:registry_spec",
                    "settings": "params:registry",
                    "run": "params:run",
                },
                "promotion_decision",
                name="decide_promotion",
            ),
            Node(
                record_decision,
                {
                    "registered": "registered_version",
                    "decision": "promotion_decision",
                    "metrics": "metrics",
                    "fingerprint": "data_fingerprint",
                    "settings": "params:registry",
                },
                "summary_entries",
                name="record_decision",
            ),
            # summary.json first, MLflow after: the append above is the decision; this
            # node reads the history back and moves MLflow's alias to what it says.
            Node(
                publish_decision,
                {
                    "history": "summary_entries",
                    "registered": "registered_version",
                    "settings": "params:registry",
                },
                None,
                name="publish_decision",
            ),
        ]
    )


def registration(namespace: str, model_type: str) -> Pipeline:
    """The registration of one model run, inside that run's namespace.

    Args:
        namespace: The model run's namespace (``rf``, ``retrain_nn``...).
        model_type: Its model type, whose rule applies (``params:registry.models.<type>``).

    Returns:
        The namespaced registration nodes; ``summary_history`` and ``params:registry``
        stay shared, ``<namespace>.summary_entries`` appends to ``summary.json``.
    """
    return Pipeline(
        registration_template(),
        namespace=namespace,
        inputs={"summary_history"},
        parameters={
            "params:registry": "params:registry",
            "params:run": "params:run",
            "params:registry_spec": f"params:registry.models.{model_type}",
        },
    )


def create_pipeline(**kwargs) -> Pipeline:
    """``kedro run --pipelines registry``: re-score champions, settle pending challengers.

    Returns:
        A one-node pipeline from ``test_baseline`` and ``summary_history`` to
        ``registry.summary_entries`` (appended to ``summary.json``).
    """
    return Pipeline(
        [
            Node(
                rescore_champions,
                {
                    "test": "test_baseline",
                    "history": "summary_history",
                    "settings": "params:registry",
                    "run": "params:run",
                },
                "summary_entries",
                name="rescore_champions",
            ),
            Node(
                publish_champions,
                {"history": "summary_entries", "settings": "params:registry"},
                None,
                name="publish_champions",
            ),
        ],
        namespace="registry",
        inputs={"test_baseline", "summary_history"},
        parameters={"params:registry", "params:run"},
    )
