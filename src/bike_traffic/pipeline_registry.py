"""Project pipelines: each model run followed by its registration.

The model pipelines (``rf``, ``nn``, ``affluence_classifier``) and ``retrain`` train and
judge; they know nothing of the registry. Here each model run is composed with the
registration of :mod:`bike_traffic.pipelines.registry` (register, re-score the champion,
decide, record), so ``kedro run --pipelines rf`` trains, judges and registers.
"""

from kedro.framework.project import find_pipelines
from kedro.pipeline import Pipeline

from bike_traffic.pipelines.registry.pipeline import registration

#: Pipelines that make up `kedro run`. `synthetic_raw` is not among them: it only
#: runs when no raw export is present (see the README's first command).
DEFAULT_PIPELINES = ("data_cleaning", "rf", "nn", "gbm", "affluence_classifier")

#: The model runs that end with a registration: pipeline -> {namespace: model type}.
MODEL_RUNS: dict[str, dict[str, str]] = {
    "rf": {"rf": "rf"},
    "nn": {"nn": "nn"},
    "gbm": {"gbm": "gbm"},
    "affluence_classifier": {"affluence_classifier": "affluence_classifier"},
    "retrain": {
        f"retrain_{model_type}": model_type
        for model_type in ("rf", "nn", "gbm", "affluence_classifier")
    },
}


def register_pipelines() -> dict[str, Pipeline]:
    """Register the project's pipelines.

    Returns:
        A mapping from pipeline names to ``Pipeline`` objects (only those asked for
        when ``kedro run --pipelines`` names some).
    """
    pipelines = find_pipelines(raise_errors=True)
    for name, runs in MODEL_RUNS.items():
        if name in pipelines:
            pipelines[name] = sum(
                (registration(namespace, model_type) for namespace, model_type in runs.items()),
                pipelines[name],
            )
    defaults = [pipelines[name] for name in DEFAULT_PIPELINES if name in pipelines]
    pipelines["__default__"] = sum(defaults, Pipeline([]))
    return pipelines
