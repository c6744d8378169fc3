"""One prediction path: `kedro run`, the loaded model, batch scoring and the app agree exactly.

(``mlflow models serve`` answers exactly what the loaded model does:
tests/models/test_mlflow_flavor.py.)
"""

from __future__ import annotations

import pandas as pd
import pytest

from bike_traffic.project import open_project
from bike_traffic.serving import forecasts, uploads


@pytest.mark.parametrize("model_type", ["rf", "nn", "affluence_classifier"])
def test_the_same_inputs_give_the_same_numbers_everywhere(trained_project, model_type):
    judged = pd.read_parquet(
        trained_project / f"data/07_model_output/{model_type}/test_predictions.parquet"
    )
    rows = judged.drop_duplicates("nom_du_compteur").head(4).reset_index(drop=True)
    column = "probability" if model_type == "affluence_classifier" else "predicted"
    ran = rows[column].tolist()  # what `kedro run` judged the model on

    with open_project(trained_project, "test") as project:
        model = project.load_model(model_type, 1)
    requests = pd.DataFrame(
        {
            "counter": rows["nom_du_compteur"],
            "timestamp": rows["date_et_heure_de_comptage"].map(pd.Timestamp.isoformat),
        }
    )
    answered = model.predict(requests)
    value = "probability" if model_type == "affluence_classifier" else "prediction"
    assert answered[value].tolist() == ran

    csv = requests.rename(
        columns={"counter": "nom_du_compteur", "timestamp": "date_et_heure_de_comptage"}
    ).to_csv(index=False)
    batch = uploads.score_upload(uploads.read_upload("r.csv", csv.encode(), 50, 100), model)
    scored = "p_high" if model_type == "affluence_classifier" else "predicted_count"
    assert batch.scored[scored].tolist() == ran

    shown = []
    for _, row in rows.iterrows():
        local = row["date_et_heure_de_comptage"]
        day = forecasts.predict_day(model, row["nom_du_compteur"], local.date())
        at = day.loc[day["date_et_heure_de_comptage"] == local].iloc[0]
        shown.append(at["prediction"])
    assert shown == ran
