"""``affluence_classifier`` on SequentialRunner over an in-memory catalog."""

from __future__ import annotations

import matplotlib.figure
import pandas as pd
import pytest

from bike_traffic.models.classifier import label_rows
from bike_traffic.models.plots import pyplot
from bike_traffic.models.predictor import Predictor
from bike_traffic.pipelines.affluence_classifier import create_pipeline
from tests.pipelines.slices import parameter, run_slice

NS = "affluence_classifier"
FREE_OUTPUTS = {
    f"{NS}.mlflow_model",
    f"{NS}.model_card",
    f"{NS}.mlflow_metrics",
    f"{NS}.data_fingerprint",
    f"{NS}.confusion_matrix_plot",
    f"{NS}.roc_curve_plot",
}
KEPT = [f"{NS}.metrics", f"{NS}.thresholds", f"{NS}.test_predictions"]


#: conf's features but month and day of year: four weeks of history cannot teach a season,
#: and the test days (April) lie past every month and day of year the trees saw.
FOUR_WEEK_FEATURES = [
    c for c in parameter(f"params:{NS}.features")["numeric"] if c not in ("month", "day_of_year")
]


@pytest.fixture(scope="module")
def out(small_split, small_context):
    train, test = small_split
    outputs = run_slice(
        create_pipeline(),
        {"train_baseline": train, "test_baseline": test, "feature_context": small_context},
        keep=KEPT,
        overrides={f"{NS}.features.numeric": FOUR_WEEK_FEATURES},
    )
    yield outputs
    pyplot().close("all")


def test_the_run_returns_its_free_outputs(out):
    assert set(out) == FREE_OUTPUTS | set(KEPT)
    assert out[f"{NS}.model_card"] == {"model_type": NS}
    assert isinstance(out[f"{NS}.roc_curve_plot"], matplotlib.figure.Figure)


def test_thresholds_are_conf_s_statistic_on_train_only(out, run_split):
    train, test = run_split
    thresholds = out[f"{NS}.thresholds"]
    statistic = parameter(f"params:{NS}.label")["statistic"]
    assert thresholds["statistic"] == statistic == "median"
    per_counter = train.groupby("nom_du_compteur", observed=True)["comptage_horaire"].median()
    assert thresholds["per_counter"] == pytest.approx(per_counter.to_dict())
    # the test set is labelled with them: nothing of it leaks into its labels
    observed = out[f"{NS}.test_predictions"]["observed"]
    assert observed.tolist() == label_rows(thresholds, test).tolist()


def test_metrics_are_sane(out, run_split):
    metrics = out[f"{NS}.metrics"]
    assert {"accuracy", "precision", "recall", "f1_score", "roc_auc", "train_f1_score"} <= set(
        metrics
    )
    assert metrics["f1_score"] > 0.7 and metrics["accuracy"] > 0.75 and metrics["roc_auc"] > 0.85
    assert 0 < metrics["positive_rate"] < 1
    assert metrics["test_rows"] == len(run_split[1]) and metrics["test_rows_refused"] == 0
    # logged under the original's prefix
    prefix = parameter(f"params:{NS}.metric_prefix")
    assert prefix == "rf_class"
    logged = out[f"{NS}.mlflow_metrics"]
    assert logged[f"{prefix}.f1_score"] == {"value": metrics["f1_score"], "step": 0}


def test_the_bundle_holds_the_predictor_with_its_thresholds(out):
    bundle = out[f"{NS}.mlflow_model"]
    assert set(bundle) == {"predictor", "input_example"}
    predictor = bundle["predictor"]
    assert isinstance(predictor, Predictor) and predictor.spec.is_classifier
    assert predictor.extras == {"thresholds": out[f"{NS}.thresholds"]}
    assert predictor.estimator.named_steps["forest"].n_estimators == 10  # conf/test
    assert list(predictor.estimator.feature_names_in_) == ["nom_du_compteur", *FOUR_WEEK_FEATURES]
    answer = predictor.predict(bundle["input_example"])
    assert answer["error"].isna().all()
    assert answer["probability"].between(0, 1).all()
    assert set(answer["label"]) <= {"high", "low"}


def test_the_predictor_answers_raw_requests(out, small_split):
    predictor = out[f"{NS}.mlflow_model"]["predictor"]
    counter = str(small_split[1]["nom_du_compteur"].iloc[0])
    answer = predictor.predict(
        pd.DataFrame(
            {"counter": [counter, counter], "timestamp": ["2024-04-05T08:00:00+02:00", "soon"]}
        )
    )
    assert answer["label"].iloc[0] in {"high", "low"} and 0 <= answer["probability"].iloc[0] <= 1
    assert answer["error"].iloc[1].startswith("unparseable_timestamp")
    assert answer["label"].iloc[1] is None and answer["probability"].iloc[1] is None
