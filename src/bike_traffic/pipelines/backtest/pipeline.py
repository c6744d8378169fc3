"""``backtest``: rolling-origin evaluation of every model type and the naive references.

    kedro run --pipelines backtest                      # the generated data
    kedro run --pipelines backtest --env real           # the real year (docs/model_quality.md)
    kedro run --pipelines backtest --params run.test_mode=true

Scores per fold go to ``data/08_reporting/backtest/`` and MLflow.
"""

from kedro.pipeline import Node, Pipeline

from .nodes import (
    backtest_classifier,
    backtest_gbm,
    backtest_nn,
    backtest_rf,
    combine_scores,
    make_folds,
    plot_folds,
    reference_scores,
    summarise,
    to_mlflow_metrics,
)

#: The model types without prediction intervals (they predict a label's probability).
_CLASSIFIERS = {"affluence_classifier"}

_MODELS = {
    "rf": backtest_rf,
    "nn": backtest_nn,
    "gbm": backtest_gbm,
    "affluence_classifier": backtest_classifier,
}


def create_pipeline(**kwargs) -> Pipeline:
    """Create the ``backtest`` pipeline (namespace ``backtest``).

    Returns:
        From ``clean_counts`` and ``feature_context`` to ``backtest.scores``,
        ``backtest.summary``, its MLflow metrics and ``backtest.folds_plot``.
    """
    models = [
        Node(
            function,
            {
                "clean": "clean_counts",
                "folds": "folds",
                "context": "feature_context",
                "params": f"params:{model_type}",
                "run": "params:run",
                "dates": "params:predictor",
                **({} if model_type in _CLASSIFIERS else {"settings": "params:intervals"}),
            },
            f"{model_type}_scores",
            name=f"backtest_{model_type}",
        )
        for model_type, function in _MODELS.items()
    ]
    return Pipeline(
        [
            Node(make_folds, ["clean_counts", "params:backtest"], "folds", name="make_folds"),
            Node(
                reference_scores,
                ["clean_counts", "folds", "params:run"],
                "reference_scores",
                name="reference_scores",
            ),
            *models,
            Node(
                combine_scores,
                ["folds", "reference_scores", *(f"{t}_scores" for t in _MODELS)],
                "scores",
                name="combine_scores",
            ),
            Node(summarise, ["scores", "params:backtest"], "summary", name="summarise"),
            Node(to_mlflow_metrics, "summary", "mlflow_metrics", name="log_metrics"),
            Node(plot_folds, "scores", "folds_plot", name="plot_folds"),
        ],
        namespace="backtest",
        inputs={"clean_counts", "feature_context"},
        parameters={
            "params:backtest",
            "params:run",
            "params:predictor",
            "params:intervals",
            *(f"params:{t}" for t in _MODELS),
        },
    )
