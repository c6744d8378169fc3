"""One prediction path: `kedro run`, the loaded model, batch scoring and the app agree exactly.

Given the same inputs: the run built its test rows with the observed weather, which a
request gives with it; batch scoring and the app give none (the training climatology).

(``mlflow models serve`` answers exactly what the loaded model does:
tests/models/test_mlflow_flavor.py.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bike_traffic.models.predictor import requests_from_rows
from bike_traffic.project import open_project
from bike_traffic.serving import forecasts, uploads


def _as_user_writes(requests: pd.DataFrame) -> pd.DataFrame:
    """Requests with their timestamps as ISO text with the offset."""
    return requests.assign(timestamp=requests["timestamp"].map(pd.Timestamp.isoformat))


@pytest.mark.parametrize("model_type", ["rf", "nn", "affluence_classifier"])
def test_the_same_inputs_give_the_same_numbers_everywhere(trained_project, model_type):
    judged = pd.read_parquet(
        trained_project / f"data/07_model_output/{model_type}/test_predictions.parquet"
    )
    test = pd.read_parquet(trained_project / "data/05_model_input/test_baseline.parquet")
    test = test.loc[~test["outage"]].reset_index(drop=True)  # the rows judged
    picked = np.flatnonzero(~judged["nom_du_compteur"].duplicated().to_numpy())[:4]
    rows = test.iloc[picked].reset_index(drop=True)  # the judged rows, with their features
    for key in ("nom_du_compteur", "date_et_heure_de_comptage"):
        assert rows[key].tolist() == judged[key].iloc[picked].tolist()
    column = "probability" if model_type == "affluence_classifier" else "predicted"
    ran = judged[column].iloc[picked].tolist()  # what `kedro run` judged the model on

    with open_project(trained_project, "test") as project:
        model = project.load_model(model_type, 1)
    value = "probability" if model_type == "affluence_classifier" else "prediction"
    # given the weather the rows were built with, the loaded model answers what the run judged
    assert model.predict(_as_user_writes(requests_from_rows(rows)))[value].tolist() == ran

    # without weather (the training climatology): the loaded model, batch scoring and the
    # app give the same numbers
    requests = pd.DataFrame(
        {
            "counter": rows["nom_du_compteur"].astype(str),
            "timestamp": rows["date_et_heure_de_comptage"].map(pd.Timestamp.isoformat),
        }
    )
    answered = model.predict(requests)[value].tolist()

    csv = requests.rename(
        columns={"counter": "nom_du_compteur", "timestamp": "date_et_heure_de_comptage"}
    ).to_csv(index=False)
    batch = uploads.score_upload(uploads.read_upload("r.csv", csv.encode(), 50, 100), model)
    scored = "p_high" if model_type == "affluence_classifier" else "predicted_count"
    assert batch.scored[scored].tolist() == answered

    shown = []
    for _, row in rows.iterrows():
        local = row["date_et_heure_de_comptage"]
        day = forecasts.predict_day(model, row["nom_du_compteur"], local.date())
        at = day.loc[day["date_et_heure_de_comptage"] == local].iloc[0]
        shown.append(at["prediction"])
    assert shown == answered
