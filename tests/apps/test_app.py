"""Each page of the Streamlit app through ``streamlit.testing.v1.AppTest``."""

from __future__ import annotations

import datetime as dt
import json
import socket
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from bike_traffic.datasets.summary_store import SummaryJSONDataset
from bike_traffic.features import counter_table
from bike_traffic.models.spec import MODEL_SPECS
from bike_traffic.project import Project, open_project
from bike_traffic.registry import CHAMPION
from bike_traffic.registry.history import current_champion
from bike_traffic.registry.operations import archive, promote
from bike_traffic.serving import forecasts
from tests.apps.conftest import APP

DAY = dt.date(2024, 4, 2)
TIMEOUT = 180


@pytest.fixture
def app(app_env: Path) -> AppTest:
    """The app, first run done, serving the trained test project."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


@pytest.fixture(scope="module")
def served(app_project: Path) -> Project:
    """The test project as the app opens it, to compute what the page must show."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{app_project / 'mlflow.db'}")
        patch.chdir(app_project)
        project = open_project(app_project, "test")
        yield project
        project.close()
        mlflow.set_tracking_uri(None)


@pytest.fixture
def fresh_caches():
    """Forget the cached project and models before and after the test."""
    st.cache_resource.clear()
    st.cache_data.clear()
    yield
    st.cache_resource.clear()
    st.cache_data.clear()


def expected_count(project: Project, which, counter: str, day, hour: int) -> float:
    model = project.load_model("rf", which)
    return float(
        forecasts.pick_hour(forecasts.predict_day(model, counter, day), hour)["prediction"]
    )


def predict(at: AppTest, counter: str, day=DAY, hour: int = 8) -> AppTest:
    at.selectbox(key="counter").select(counter)
    at.date_input(key="day").set_value(day)
    at.selectbox(key="hour").select(hour)
    return at.run()


def raw_lines(root: Path, rows: int) -> list[str]:
    with (root / "data/01_raw/comptage-velo-donnees-compteurs.csv").open(encoding="utf-8") as f:
        return [next(f).rstrip("\n") for _ in range(rows + 1)]


def upload(at: AppTest, name: str, content: bytes) -> AppTest:
    at.switch_page("views/batch.py").run()
    at.file_uploader(key="batch_file").set_value((name, content, "text/csv"))
    return at.run()


def table(at: AppTest, column: str) -> pd.DataFrame:
    """The first table on the page that has ``column``."""
    for frame in at.dataframe:
        if column in frame.value.columns:
            return frame.value
    raise AssertionError(f"no table with a {column!r} column")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------- Predict
def test_predict_shows_the_champions_count_for_a_counter_and_hour(app, served):
    assert app.sidebar.selectbox(key="model_type").value == "rf"
    assert app.sidebar.selectbox(key="which_rf").value == CHAMPION
    counters = app.selectbox(key="counter").options
    counter = counters[-1]
    predict(app, counter, DAY, 17)
    assert not app.exception
    champion = current_champion(served.history(), "rf", "test")["version"]
    assert f"Random Forest v{champion}" in app.sidebar.caption[0].value
    expected = expected_count(served, CHAMPION, counter, DAY, 17)
    [metric] = app.metric
    assert metric.label == f"Predicted bikes at 17:00 on {DAY}"
    assert metric.value == f"{expected:,.0f}"
    # the range beside the number, and the band on the day's profile
    row = forecasts.pick_hour(
        forecasts.predict_day(served.load_model("rf", CHAMPION), counter, DAY), 17
    )
    assert row["lower"] <= row["prediction"] < row["upper"]
    ranges = [c.value for c in app.caption if "80% range" in c.value]
    assert ranges == [ranges[0]] and f"{row['lower']:,.0f} to {row['upper']:,.0f}" in ranges[0]
    [chart] = app.get("plotly_chart")
    traces = json.loads(chart.proto.spec)["data"]
    [band] = [t for t in traces if t.get("fill") == "tonexty"]
    assert band["name"] == "80% interval"
    assert traces[traces.index(band) - 1]["name"] == "upper"  # filled up to the upper bound
    assert app.subheader[0].value.startswith(counter)


def test_a_chosen_version_serves_instead_of_the_champion(app, served):
    app.sidebar.selectbox(key="which_rf").select(2).run()
    counter = app.selectbox(key="counter").value
    predict(app, counter, DAY, 8)
    assert "Random Forest v2" in app.sidebar.caption[0].value
    assert app.metric[0].value == f"{expected_count(served, 2, counter, DAY, 8):,.0f}"


@pytest.mark.parametrize("model_type", ["nn", "affluence_classifier"])
def test_each_model_type_predicts(app, model_type):
    app.sidebar.selectbox(key="model_type").select(model_type).run()
    predict(app, app.selectbox(key="counter").options[0], DAY, 8)
    assert not app.exception and not app.error
    label = MODEL_SPECS[model_type].label
    assert label in app.sidebar.caption[0].value
    if model_type == "affluence_classifier":
        level, probability = app.metric
        assert level.value in ("High traffic", "Low traffic")
        assert 0 <= float(probability.value) <= 1
        assert (level.value == "High traffic") == (float(probability.value) >= 0.5)
    else:
        assert float(app.metric[0].value.replace(",", "")) >= 0


def test_an_hour_lost_to_the_clock_change_is_explained(app):
    predict(app, app.selectbox(key="counter").value, dt.date(2024, 3, 31), 2)
    assert not app.metric
    assert "does not exist" in app.warning[0].value


def test_the_app_follows_a_promotion_and_an_archive_made_elsewhere(app, app_project):
    summary = SummaryJSONDataset(filepath=str(app_project / "data/06_models/summary.json"))
    before = current_champion(summary.load(), "rf", "test")["version"]
    after = 2 if before == 1 else 1
    app.run()
    assert f"Random Forest v{before}" in app.sidebar.caption[0].value
    summary.save(promote("rf", after, summary.load(), "test", reason="app test"))
    try:
        app.run()  # no "Reload": summary.json changed, the champion it names is served
        assert f"Random Forest v{after}" in app.sidebar.caption[0].value
        history = summary.load()
        summary.save(archive("rf", after, history, "test"))
        app.run()
        # never the archived version: without a champion, the latest one not archived
        assert "has no champion yet" in app.sidebar.info[0].value
        assert f"Random Forest v{before}" in app.sidebar.caption[0].value
    finally:
        summary.save(promote("rf", before, summary.load(), "test", reason="app test"))
        st.cache_resource.clear()
        st.cache_data.clear()


# ---------------------------------------------------------------- Batch
def test_batch_scores_a_raw_export_and_lists_the_rows_it_cannot(app, app_project, served):
    header, *rows = raw_lines(app_project, 30)
    cells = rows[3].split(";")
    cells[5] = "le 2 avril"  # timestamp
    rows[3] = ";".join(cells)
    cells = rows[7].split(";")
    cells[1] = "Compteur inconnu"  # counter name
    rows[7] = ";".join(cells)
    upload(app, "export.csv", "\n".join([header, *rows]).encode("utf-8"))
    assert not app.exception and not app.error
    assert "28 of 30 rows scored, 2 refused" in app.success[0].value
    preview = table(app, "hour")
    assert len(preview) == 28
    assert {"line", "counter", "timestamp", "hour", "predicted_count", "observed"} <= set(
        preview.columns
    )
    refused = table(app, "reason")
    assert refused["line"].tolist() == [5, 9]
    assert refused["reason"].iloc[0].startswith("unparseable_timestamp")
    assert "(got 'le 2 avril')" in refused["reason"].iloc[0]
    assert refused["reason"].iloc[1].startswith("unknown_counter")
    assert "(got 'Compteur inconnu')" in refused["reason"].iloc[1]
    assert "Download the predictions (CSV)" in [b.proto.label for b in app.get("download_button")]
    # the predictions are the model's on the same rows
    raw = pd.read_csv(
        app_project / "data/01_raw/comptage-velo-donnees-compteurs.csv", sep=";", nrows=30
    )
    expected = raw.drop(index=[3, 7]).reset_index(drop=True)
    assert preview["observed"].tolist() == pytest.approx(expected["Comptage horaire"].tolist())


def test_batch_scores_a_requests_table(app, served):
    names = app.selectbox(key="counter").options[:2]
    features = pd.DataFrame(
        {"nom_du_compteur": [names[0], names[1], names[0]], "date": ["2024-04-02"] * 3}
    ).assign(hour=[7, 8, 18])
    upload(app, "features.csv", features.to_csv(index=False).encode("utf-8"))
    assert not app.exception and not app.error
    preview = table(app, "hour")
    assert preview["hour"].tolist() == [7, 8, 18]
    assert preview["timestamp"].iloc[0] == "2024-04-02T07:00:00+02:00"
    first = expected_count(served, CHAMPION, names[0], DAY, 7)
    assert preview["predicted_count"].iloc[0] == first


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (
            "Identifiant du compteur,Nom du compteur,Identifiant du site de comptage,"
            "Nom du site de comptage,Comptage horaire,Date et heure de comptage,"
            "Coordonnées géographiques\n1,a,2,b,3,2024-04-02T08:00:00+02:00,48.8\n".encode(),
            "uses ',' as delimiter",
        ),
        (
            b"Nom du compteur;Comptage horaire\nX;3\n",
            "lacks column(s) ['Identifiant du compteur'",
        ),
        (b"a,b,c\n1,2,3\n", "is neither the raw export"),
        (b"nom_du_compteur,date_et_heure_de_comptage\n", "has a header but no rows"),
        (b"\xff\xfe\x00a", "is not UTF-8"),
    ],
    ids=["empty", "wrong-delimiter", "missing-columns", "unknown-format", "no-rows", "not-utf8"],
)
def test_batch_refuses_a_bad_file_with_a_clear_message(app, content, message):
    upload(app, "bad.csv", content)
    assert not app.exception
    assert len(app.error) == 1
    assert message in app.error[0].value
    assert "bad.csv" in app.error[0].value


@pytest.mark.parametrize(
    ("rows", "reason"),
    [
        (["X,2024-13-45T08:00:00", "X,yesterday"], "unparseable_timestamp"),
        (["Compteur inconnu,2024-04-02T08:00:00+02:00"], "unknown_counter"),
    ],
    ids=["unparseable-dates", "unknown-counters"],
)
def test_batch_says_why_when_no_row_can_be_scored(app, rows, reason):
    counter = app.selectbox(key="counter").options[0]
    lines = ["nom_du_compteur,date_et_heure_de_comptage"] + [
        r.replace("X,", f"{counter},") if r.startswith("X,") else r for r in rows
    ]
    upload(app, "rows.csv", "\n".join(lines).encode("utf-8"))
    assert not app.exception
    assert "could be scored" in app.error[0].value
    refused = table(app, "reason")
    assert len(refused) == len(rows)
    assert refused["reason"].str.startswith(reason).all()


# ---------------------------------------------------------------- Registry
def test_registry_page_shows_champions_history_events_and_drift(app, served):
    app.switch_page("views/registry.py").run()
    assert not app.exception and not app.error
    history = served.history()
    metrics = {m.label: m.value for m in app.metric}
    for model_type, spec in MODEL_SPECS.items():
        label = spec.label
        champion = current_champion(history, model_type, "test")
        assert metrics[label] == (f"v{champion['version']}" if champion else "none")
    events = table(app, "entry")
    assert "promotion" in set(events["entry"])
    assert "decision" in set(events["entry"])
    assert metrics["Latest drift decision"] == "alert"
    assert metrics["Share of drifted features"] == "33%"
    full = app.dataframe[-1].value
    assert len(full) == len([e for e in history if e.get("env") == "test"])
    assert len(app.get("plotly_chart")) == 1
    app.selectbox(key="registry_metric").select("f1_score").run()
    assert not app.exception


# ---------------------------------------------------------------- Map
def test_map_page_colours_every_counter_by_its_prediction(app, served):
    app.switch_page("views/traffic_map.py").run()
    app.date_input(key="map_day").set_value(DAY)
    app.selectbox(key="map_hour").select(8).run()
    assert not app.exception and not app.error
    ranking = table(app, "counter")
    counters = counter_table(served.catalog.load("train_baseline"))
    expected = forecasts.predict_all_counters(served.load_model("rf"), counters, DAY, 8)
    assert len(ranking) == len(counters)
    top = expected.sort_values("prediction", ascending=False).iloc[0]
    assert ranking.iloc[0]["counter"] == top["nom_du_compteur"]
    assert ranking.iloc[0]["predicted bikes/h"] == pytest.approx(round(top["prediction"], 2))
    assert len(app.get("deck_gl_json_chart")) == 1


# ---------------------------------------------------------------- a counter that is down
def test_a_counter_believed_down_is_said_on_predict_and_grey_on_the_map(
    app_env, app_project, fresh_caches
):
    import json

    path = app_project / "data/08_reporting/outage_summary.json"
    before = path.read_text(encoding="utf-8")
    summary = json.loads(before)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    name = at.selectbox(key="counter").options[-1]
    summary["down_at_end"] = {
        name: {"since": "2024-04-01T07:00:00+02:00", "reason": "stuck_at_zero"}
    }
    path.write_text(json.dumps(summary), encoding="utf-8")
    try:
        st.cache_data.clear()
        at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
        working = at.selectbox(key="counter").options[0]
        predict(at, working)
        assert not [w for w in at.warning if "believed down" in w.value]
        predict(at, name)
        [warning] = [w.value for w in at.warning if "believed down" in w.value]
        assert warning.startswith(f"{name} is believed down") and "01 April 2024 07:00" in warning
        assert len(at.metric) == 1  # the forecast is still given
        at.switch_page("views/traffic_map.py").run()
        assert not at.exception
        assert "Grey: 1 counter(s) believed down" in at.caption[0].value
    finally:
        path.write_text(before, encoding="utf-8")


# ---------------------------------------------------------------- no tracking server
def test_the_app_serves_from_summary_json_when_the_tracking_server_is_down(
    app_env, monkeypatch, fresh_caches
):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{_closed_port()}")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception and not at.error
    assert "summary.json (registry unreachable)" in at.sidebar.caption[0].value
    predict(at, at.selectbox(key="counter").options[0])
    assert float(at.metric[0].value.replace(",", "")) >= 0
    at.switch_page("views/registry.py").run()
    assert "unreachable" in at.warning[0].value
    assert "127.0.0.1" in at.warning[0].value
