"""The logged predictors served by MLflow's own server, and refused when they cannot serve."""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from bike_traffic.models.mlflow_flavor import LOADER_MODULE, load_predictor
from bike_traffic.models.predictor import PredictorFormatError
from bike_traffic.project import open_project
from tests.conftest import tracking_uri
from tests.servers import free_port, start_process_server

BIN = Path(sys.executable).parent


def _requests(test: pd.DataFrame) -> pd.DataFrame:
    """Three real rows as a user writes them, and four rows that cannot be served."""
    rows = test.drop_duplicates("nom_du_compteur").head(3)
    good = pd.DataFrame(
        {
            "counter": rows["nom_du_compteur"].astype(str).to_numpy(),
            "timestamp": [t.isoformat() for t in rows["date_et_heure_de_comptage"]],
        }
    )
    counter = good["counter"].iloc[0]
    bad = pd.DataFrame(
        {
            "counter": ["Nowhere boulevard N-S", counter, counter, counter],
            "timestamp": ["2024-04-02T08:00:00+02:00", None, None, "1900-01-01T08:00:00Z"],
            "date": [None, "2024-04-02", "2024-04-02", None],
            "hour": [None, 8, 99, None],
        }
    )
    return pd.concat([good, bad], ignore_index=True)


def _post(url: str, frame: pd.DataFrame) -> list[dict]:
    records = json.loads(frame.to_json(orient="records"))
    body = json.dumps({"dataframe_records": records}).encode()
    request = urllib.request.Request(
        f"{url}/invocations", data=body, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        text = response.read().decode()
    assert "NaN" not in text  # valid JSON: nulls, never bare NaN
    return json.loads(text)["predictions"]


def _serve(command: list[str], port: int, root: Path, log: Path):
    environ = {
        **os.environ,
        "MLFLOW_TRACKING_URI": tracking_uri(root),
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    return start_process_server(command, port, "/ping", log, env=environ, cwd=root)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("model_type", "command"),
    [
        ("rf", "kedro models serve rf --env test --port {port}"),
        ("nn", "mlflow models serve -m models:/bike-traffic-nn/1 --env-manager local -h 127.0.0.1 "
               "-p {port}"),
        # by the alias every registered version gets first: the small classifier of the
        # test data may stay below its floor, so it need not be champion
        ("affluence_classifier", "mlflow models serve -m models:/bike-traffic-affluence@challenger "
                                 "--env-manager local -h 127.0.0.1 -p {port}"),
    ],
)  # fmt: skip
def test_the_served_model_answers_raw_requests_as_the_predictor_does(
    trained_project, tmp_path, model_type, command
):
    with open_project(trained_project, "test") as project:
        test = project.catalog.load("test_baseline")
        which = {"nn": 1, "affluence_classifier": "challenger"}.get(model_type, "champion")
        in_process = project.load_model(model_type, which)
    assert in_process.version == 1
    requests = _requests(test)
    expected = in_process.predict(requests)

    port = free_port()
    argv = command.format(port=port).split()
    server = _serve([str(BIN / argv[0]), *argv[1:]], port, trained_project, tmp_path / "serve.log")
    try:
        answers = _post(server.url, requests)
    finally:
        server.stop()

    assert [list(a) for a in answers] == [list(expected.columns)] * len(expected)
    for column in expected.columns:
        # exactly the in-process answer, null where the row is not served
        assert [a[column] for a in answers] == expected[column].tolist(), column
    served = {c: [a[c] for a in answers] for c in expected.columns}
    errors = served["error"]
    assert errors[:3] == [None, None, None]
    assert errors[3].startswith("unknown_counter") and "Nowhere boulevard N-S" in errors[3]
    assert errors[4] is None  # date + hour is a request too
    assert errors[5].startswith("hour_out_of_range") and "'99'" in errors[5]
    assert errors[6].startswith("date_out_of_range") and "1900-01-01" in errors[6]
    value = "probability" if model_type == "affluence_classifier" else "prediction"
    assert [served[value][i] for i in (3, 5, 6)] == [None, None, None]
    assert all(isinstance(served[value][i], float) and served[value][i] >= 0 for i in (0, 1, 2, 4))
    if model_type != "affluence_classifier":
        # the regressors serve their interval: lower <= prediction <= upper, null where refused
        assert in_process.predictor.interval["level"] == 0.8
        for i in (0, 1, 2, 4):
            assert 0 <= served["lower"][i] <= served["prediction"][i] < served["upper"][i]
        assert [served["upper"][i] for i in (3, 5, 6)] == [None, None, None]


def test_a_model_logged_before_the_predictor_is_refused_with_how_to_retrain(tmp_path):
    folder = tmp_path / "old_model"
    folder.mkdir()
    (folder / "MLmodel").write_text(
        yaml.safe_dump(
            {"flavors": {"python_function": {"loader_module": "mlflow.sklearn"}, "sklearn": {}}}
        )
    )
    with pytest.raises(PredictorFormatError) as raised:
        load_predictor(folder, "bike-traffic-rf v3", "rf")
    message = str(raised.value)
    assert "bike-traffic-rf v3" in message and "before the raw-input predictor" in message
    assert "kedro run --pipelines rf" in message


def test_a_model_naming_another_loader_is_not_loaded(tmp_path):
    folder = tmp_path / "tampered"
    folder.mkdir()
    (folder / "MLmodel").write_text(
        yaml.safe_dump({"flavors": {"python_function": {"loader_module": "os", "data": "x"}}})
    )
    with pytest.raises(PredictorFormatError, match="'os'"):
        load_predictor(folder, "bike-traffic-rf v9", "rf")
    assert LOADER_MODULE == "bike_traffic.models.mlflow_flavor"


def test_the_logged_model_carries_its_signature_example_and_code(trained_project):
    import mlflow

    mlflow.set_tracking_uri(tracking_uri(trained_project))
    info = mlflow.models.get_model_info("models:/bike-traffic-rf/1")
    inputs = {c["name"]: c for c in info.signature.inputs.to_dict()}
    assert set(inputs) == {
        "counter",
        "timestamp",
        "date",
        "hour",
        "temperature",
        "rain",
        "rain_last_3h",
        "wind",
    }
    assert inputs["counter"]["required"]
    assert not any(c["required"] for name, c in inputs.items() if name != "counter")
    outputs = [c["name"] for c in info.signature.outputs.to_dict()]
    assert outputs == ["prediction", "lower", "upper", "error"]
    assert info.flavors["python_function"]["loader_module"] == LOADER_MODULE
    local = Path(mlflow.artifacts.download_artifacts("models:/bike-traffic-rf/1"))
    example = json.loads((local / "serving_input_example.json").read_text())
    assert set(example["dataframe_split"]["columns"]) == {"counter", "timestamp"}
    assert (local / "code" / "bike_traffic" / "models" / "predictor.py").is_file()
    assert not list(local.rglob("*.pkl"))  # nothing is pickled
    assert np.isfinite(len(example["dataframe_split"]["data"]))
