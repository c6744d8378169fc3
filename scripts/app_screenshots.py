"""Screenshots of each page of the Streamlit app, for docs/app.md.

Starts ``streamlit run apps/bike_traffic_app.py`` headless on 127.0.0.1 against a
trained project (by default this checkout, after ``make run``), drives Debian's
Chromium with Playwright (``apt-get install chromium``) and saves one PNG per page::

    .venv/bin/python scripts/app_screenshots.py                   # -> docs/figures/app_*.png
    .venv/bin/python scripts/app_screenshots.py --project /tmp/p --env test --out /tmp/shots

The batch page is shown scoring the first 500 rows of the project's raw export,
with two rows broken on purpose (an unparseable date, an unknown counter).
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.apps.browser import choose, chromium, streamlit_server, wait_rendered  # noqa: E402

APP = ROOT / "apps" / "bike_traffic_app.py"
TIMEOUT_MS = 300_000
logger = logging.getLogger("app_screenshots")


def sample_upload(project: Path, rows: int, target: Path) -> Path:
    """The first rows of the raw export, with an unparseable date and an unknown counter."""
    raw = project / "data/01_raw/comptage-velo-donnees-compteurs.csv"
    with raw.open(encoding="utf-8") as source:
        lines = [next(source).rstrip("\n") for _ in range(rows + 1)]
    for index, (column, value) in ((4, (5, "32/13/2024 25:00")), (9, (1, "Compteur disparu"))):
        cells = lines[index].split(";")
        cells[column] = value
        lines[index] = ";".join(cells)
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def shoot(page, path: Path) -> None:
    """Save the page, cut below its last element."""
    page.mouse.click(5, 5)  # no widget keeps the focus ring
    wait_rendered(page)
    bottom = page.evaluate(
        "() => document.querySelector('[data-testid=\"stMainBlockContainer\"]')"
        ".getBoundingClientRect().bottom"
    )
    size = page.viewport_size
    height = min(size["height"], int(bottom) + 16)
    page.screenshot(path=str(path), clip={"x": 0, "y": 0, "width": size["width"], "height": height})
    logger.info("wrote %s", path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=ROOT)
    parser.add_argument("--env", default="local")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "figures")
    parser.add_argument("--counter", default=None, help="counter shown on the Predict page")
    parser.add_argument("--rows", type=int, default=500, help="rows of the batch upload")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args.out.mkdir(parents=True, exist_ok=True)
    env = {"BIKE_TRAFFIC_PROJECT_PATH": str(args.project.resolve()), "KEDRO_ENV": args.env}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        upload = sample_upload(args.project, args.rows, work / "comptage-velo-extrait.csv")
        with (
            streamlit_server(APP, cwd=args.project, log=work / "streamlit.log", env=env) as (
                url,
                _,
            ),
            chromium(work / "profile", width=1400, height=1700) as browser,
        ):
            page = browser.new_page()
            page.goto(url)
            page.locator('[data-testid="stMetricValue"]').first.wait_for(timeout=TIMEOUT_MS)
            if args.counter:
                choose(page, "Counter", args.counter)
            choose(page, "Hour", "08:00")
            page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=TIMEOUT_MS)
            shoot(page, args.out / "app_predict.png")

            page.get_by_role("link", name="Batch").click()
            page.locator('input[type="file"]').set_input_files(str(upload))
            page.get_by_text("rows scored").first.wait_for(timeout=TIMEOUT_MS)
            shoot(page, args.out / "app_batch.png")

            page.get_by_role("link", name="Registry").click()
            page.get_by_text("Full history (summary.json)").wait_for(timeout=TIMEOUT_MS)
            page.locator('[data-testid="stPlotlyChart"]').first.wait_for(timeout=TIMEOUT_MS)
            shoot(page, args.out / "app_registry.png")

            page.get_by_role("link", name="Map").click()
            page.get_by_text("busiest first").wait_for(timeout=TIMEOUT_MS)
            page.locator('[data-testid="stDeckGlJsonChart"] canvas').first.wait_for(
                timeout=TIMEOUT_MS
            )
            shoot(page, args.out / "app_map.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
