"""``monitoring``: compare a recent window with train_baseline, judge the champion, decide."""

from kedro.pipeline import Node, Pipeline

from bike_traffic.models.evaluation import to_mlflow_metrics

from .nodes import (
    decide,
    decision_metrics,
    drift_table,
    plot_drift,
    record_decision,
    render_report,
    score_champion_on_window,
    select_window,
)


def create_pipeline(**kwargs) -> Pipeline:
    """Create the ``monitoring`` pipeline (namespace ``monitoring``).

    Returns:
        A pipeline from ``clean_counts``, ``train_baseline``, ``test_baseline`` and
        ``summary_history`` to the drift table, figure and HTML report, the
        decision (``monitoring.decision``, which the Airflow DAG branches on) and
        a ``drift`` entry appended to ``summary.json``.
    """
    return Pipeline(
        [
            Node(
                select_window,
                ["clean_counts", "params:window"],
                ["window_rows", "window_info"],
                name="select_window",
            ),
            Node(
                drift_table,
                {
                    "reference": "train_baseline",
                    "current": "window_rows",
                    "features": "params:features",
                    "drift": "params:drift",
                },
                "drift_table",
                name="drift_table",
            ),
            Node(
                score_champion_on_window,
                {
                    "window_rows": "window_rows",
                    "test": "test_baseline",
                    "history": "summary_history",
                    "champion": "params:champion",
                    "settings": "params:registry",
                },
                "champion_scores",
                name="score_champion_on_window",
            ),
            Node(
                decide,
                {
                    "drift": "drift_table",
                    "champion": "champion_scores",
                    "window": "window_info",
                    "rules": "params:rules",
                },
                "decision",
                name="decide",
            ),
            Node(decision_metrics, "decision", "metrics", name="decision_metrics"),
            Node(
                to_mlflow_metrics,
                ["metrics", "params:metric_prefix"],
                "mlflow_metrics",
                name="log_metrics",
            ),
            Node(
                plot_drift,
                {"drift": "drift_table", "reference": "train_baseline", "current": "window_rows"},
                "drift_plot",
                name="plot_drift",
            ),
            Node(
                render_report,
                {
                    "decision": "decision",
                    "drift": "drift_table",
                    "reference": "train_baseline",
                    "current": "window_rows",
                },
                "drift_report",
                name="render_report",
            ),
            Node(
                record_decision,
                {"decision": "decision", "report": "drift_report", "settings": "params:registry"},
                "summary_entries",
                name="record_decision",
            ),
        ],
        namespace="monitoring",
        inputs={"clean_counts", "train_baseline", "test_baseline", "summary_history"},
        parameters={"params:registry"},
    )
