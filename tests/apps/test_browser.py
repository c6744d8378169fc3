"""The app as a user sees it: ``streamlit run`` headless, driven in Chromium by Playwright."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bike_traffic.calendar import PARIS_TZ
from bike_traffic.features import counter_table
from bike_traffic.project import open_project
from bike_traffic.serving import forecasts
from tests.apps.browser import (
    HOW_TO_GET_ONE,
    choose,
    chromium,
    chromium_path,
    point_on_map,
    streamlit_server,
    wait_idle,
)
from tests.apps.conftest import APP

TIMEOUT_MS = 180_000


@contextmanager
def _replaced(path: Path, data: dict, original: str) -> Iterator[None]:
    """``path`` holds ``data`` (JSON) inside the block, ``original`` again after it."""
    path.write_text(json.dumps(data), encoding="utf-8")
    try:
        yield
    finally:
        path.write_text(original, encoding="utf-8")


def isolated(counters: pd.DataFrame) -> int:
    """Position of the counter farthest from any other (easy to click on the map)."""
    xy = counters[["latitude", "longitude"]].to_numpy() * [1.0, np.cos(np.radians(48.86))]
    distance = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
    np.fill_diagonal(distance, np.inf)
    return int(distance.min(axis=1).argmax())


@pytest.fixture
def browser_profile(tmp_path: Path) -> Path:
    if chromium_path() is None:
        pytest.fail(HOW_TO_GET_ONE)  # `make test` checks first (make browser) and stops
    return tmp_path / "profile"


def test_predict_then_score_a_file_in_a_real_browser(app_env, browser_profile, tmp_path):
    with open_project(app_env, "test") as project:
        model = project.load_model("rf")
        counters = counter_table(project.catalog.load("train_baseline"))
    counter = counters.iloc[0]["nom_du_compteur"]
    today = pd.Timestamp.now(tz=PARIS_TZ).date()

    def at_17(name: str) -> pd.Series:
        return forecasts.pick_hour(forecasts.predict_day(model, name, today), 17)

    def expected_at_17(name: str) -> float:
        return at_17(name)["prediction"]

    expected = expected_at_17(counter)
    bounds = at_17(counter)[["lower", "upper"]]
    picked = counters.iloc[isolated(counters)]
    expected_picked = expected_at_17(picked["nom_du_compteur"])

    raw = app_env / "data/01_raw/comptage-velo-donnees-compteurs.csv"
    with raw.open(encoding="utf-8") as source:
        lines = [next(source) for _ in range(41)]
    upload = tmp_path / "export.csv"
    upload.write_text("".join(lines), encoding="utf-8")

    # the counter picked on the map is believed down (its last hours flagged)
    outages = app_env / "data/08_reporting/outage_summary.json"
    before = outages.read_text(encoding="utf-8")
    down = {"since": "2024-04-01T07:00:00+02:00", "reason": "stuck_at_zero"}
    believed_down = {**json.loads(before), "down_at_end": {picked["nom_du_compteur"]: down}}

    with (
        _replaced(outages, believed_down, before),
        streamlit_server(APP, cwd=app_env, log=tmp_path / "streamlit.log") as (url, _),
        chromium(browser_profile) as browser,
    ):
        page = browser.new_page()
        page.goto(url)
        value = page.locator('[data-testid="stMetricValue"]').first
        value.wait_for(timeout=TIMEOUT_MS)
        choose(page, "Hour", "17:00")
        label = page.locator('[data-testid="stMetricLabel"]').first
        label.filter(has_text="17:00").wait_for(timeout=TIMEOUT_MS)
        wait_idle(page)
        assert label.inner_text().strip() == f"Predicted bikes at 17:00 on {today}"
        assert value.inner_text().strip() == f"{expected:,.0f}"
        # the range beside the number, and the band drawn on the profile (its legend entry
        # and a filled area in the chart's SVG)
        page.get_by_text(
            f"80% range: {bounds['lower']:,.0f} to {bounds['upper']:,.0f} bikes"
        ).wait_for(timeout=TIMEOUT_MS)
        chart = page.locator('[data-testid="stPlotlyChart"]').first
        chart.wait_for(timeout=TIMEOUT_MS)
        chart.locator("text.legendtext", has_text="80% interval").wait_for(timeout=TIMEOUT_MS)
        assert chart.locator("path.js-fill").count() >= 1

        # pick the counter farthest from any other on the map: the page predicts for it
        canvas = page.locator('[data-testid="stDeckGlJsonChart"] canvas').first
        x, y = point_on_map(
            canvas, forecasts.map_view(counters), picked["latitude"], picked["longitude"]
        )
        page.mouse.click(x, y)
        page.locator("h3").filter(has_text=picked["nom_du_compteur"]).wait_for(timeout=TIMEOUT_MS)
        wait_idle(page)
        assert value.inner_text().strip() == f"{expected_picked:,.0f}"
        warning = page.get_by_text(f"{picked['nom_du_compteur']} is believed down")
        warning.wait_for(timeout=TIMEOUT_MS)
        assert "01 April 2024 07:00" in warning.inner_text()
        shot = tmp_path / "predict.png"
        page.screenshot(path=str(shot), full_page=True)
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

        page.get_by_role("link", name="Batch").click()
        page.locator('input[type="file"]').set_input_files(str(upload))
        page.get_by_text("40 of 40 rows scored").wait_for(timeout=TIMEOUT_MS)
        with page.expect_download(timeout=TIMEOUT_MS) as download:
            page.get_by_role("button", name="Download the predictions (CSV)").click()
        saved = tmp_path / "predictions.csv"
        download.value.save_as(str(saved))
        page.screenshot(path=str(tmp_path / "batch.png"), full_page=True)

    scored = pd.read_csv(saved)
    assert len(scored) == 40
    assert scored["line"].tolist() == list(range(2, 42))
    assert {"counter", "timestamp", "hour", "predicted_count", "observed", "model"} <= set(
        scored.columns
    )
    assert (scored["predicted_count"] >= 0).all()
    keep = os.environ.get("BIKE_TRAFFIC_SCREENSHOTS")
    if keep:  # where a developer wants to look at them
        for name in ("predict.png", "batch.png"):
            shutil.copy(tmp_path / name, Path(keep) / name)
