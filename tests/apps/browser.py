"""A real ``streamlit run`` on 127.0.0.1 and a headless Chromium driven by Playwright.

Shared by the browser test and ``scripts/app_screenshots.py`` / ``scripts/bench_app.py``.
The browser is the one :func:`chromium_path` finds: ``$BIKE_TRAFFIC_CHROMIUM``, the
system's (Debian's ``chromium``, what CI installs), or Playwright's own
(``python -m playwright install chromium``). ``python -m tests.apps.browser`` says which,
or how to get one (``make browser`` runs it before the tests).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

#: Where the system's Chromium usually is, in order.
SYSTEM_CHROMIUMS = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")
HOW_TO_GET_ONE = (
    "No Chromium for the browser test. Get one with `sudo apt-get install chromium` (Debian, "
    "Ubuntu; what CI does), or `.venv/bin/python -m playwright install chromium` (Playwright's "
    "own, from the internet), or point BIKE_TRAFFIC_CHROMIUM at a Chromium or Chrome binary."
)
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
QUIET = {
    "KEDRO_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "true",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "TF_CPP_MIN_LOG_LEVEL": "2",
}


def chromium_path() -> str | None:
    """The Chromium the tests drive: ``$BIKE_TRAFFIC_CHROMIUM``, the system's, or Playwright's."""
    import shutil

    explicit = os.environ.get("BIKE_TRAFFIC_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).is_file() else None
    for candidate in (*SYSTEM_CHROMIUMS, shutil.which("chromium"), shutil.which("chrome")):
        if candidate and Path(candidate).is_file():
            return candidate
    try:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as pw:
            bundled = pw.chromium.executable_path
    except Exception:  # noqa: BLE001  (Playwright's driver missing or broken: no browser)
        return None
    return bundled if bundled and Path(bundled).is_file() else None


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:  # noqa: S310
            return answer.status == 200
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def streamlit_server(
    app: Path, cwd: Path, log: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> Iterator[tuple[str, subprocess.Popen]]:
    """``streamlit run app`` headless on 127.0.0.1, stopped (its whole process group) on exit.

    Yields:
        The app's URL, once ``/_stcore/health`` answers, and the process.

    Raises:
        RuntimeError: When the server exits or does not answer within ``timeout`` s.
    """
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(app),
        "--server.headless=true",
        "--server.address=127.0.0.1",
        f"--server.port={port}",
        "--browser.gatherUsageStats=false",
        "--server.fileWatcherType=none",
        "--server.runOnSave=false",
        "--server.maxUploadSize=50",
        "--theme.base=light",
        "--client.toolbarMode=minimal",
    ]
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603
            command,
            cwd=cwd,
            env={**os.environ, **QUIET, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + timeout
            while not _healthy(url):
                if process.poll() is not None:
                    raise RuntimeError(f"streamlit exited ({process.returncode}): see {log}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"streamlit did not answer on {url} in {timeout} s")
                time.sleep(0.1)  # polling the health endpoint, not waiting blindly
            yield url, process
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=30)


@contextmanager
def chromium(profile: Path, width: int = 1400, height: int = 1000) -> Iterator:
    """A headless Chromium (:func:`chromium_path`) with a fresh profile, through Playwright.

    Raises:
        RuntimeError: When no Chromium is found, saying how to get one.
    """
    executable = chromium_path()
    if executable is None:
        raise RuntimeError(HOW_TO_GET_ONE)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile),
            executable_path=executable,
            headless=True,
            args=CHROMIUM_ARGS,
            accept_downloads=True,
            viewport={"width": width, "height": height},
        )
        try:
            yield context
        finally:
            context.close()


def choose(page, label: str, option: str) -> None:
    """Pick ``option`` in the Streamlit selectbox labelled ``label`` (type, then Enter)."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    box.locator("input").click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option, exact=True).first.click()


def wait_idle(page, timeout: float = 120_000) -> None:
    """Wait until Streamlit has finished running the script.

    The app's root says so: ``data-test-script-state`` is ``running`` during a run.
    """
    page.wait_for_function(
        """() => {
            const app = document.querySelector('[data-testid="stApp"]');
            return app && app.getAttribute('data-test-script-state') !== 'running';
        }""",
        timeout=timeout,
    )


def wait_rendered(page, timeout: float = 120_000) -> None:
    """Wait until the script has run and every table, chart and map on the page is drawn."""
    wait_idle(page, timeout)
    page.wait_for_function(
        """() => {
            const all = (sel) => Array.from(document.querySelectorAll(sel))
                // shown: not in a closed expander
                .filter((e) => e.closest('details:not([open])') === null && e.checkVisibility());
            const drawn = (sel, inner) => all(sel).every((e) => e.querySelector(inner));
            // elements whose code is still loading show a skeleton first
            return !document.querySelector('[data-testid="stMain"] [data-testid="stSkeleton"]')
                && drawn('[data-testid="stDataFrame"]', '[role=gridcell]')
                && drawn('[data-testid="stPlotlyChart"]', '.main-svg')
                && drawn('[data-testid="stDeckGlJsonChart"]', 'canvas');
        }""",
        timeout=timeout,
    )


def _mercator(latitude: float, longitude: float, zoom: float) -> tuple[float, float]:
    """Web Mercator pixel coordinates of a point at a zoom (deck.gl's 512-pixel world)."""
    import math

    size = 512 * 2**zoom
    lat = math.radians(latitude)
    x = (longitude + 180) / 360 * size
    y = (1 - math.log(math.tan(lat) + 1 / math.cos(lat)) / math.pi) / 2 * size
    return x, y


def point_on_map(canvas, view: dict[str, float], latitude: float, longitude: float, timeout=30):
    """Page coordinates of a point on a deck.gl map that opened on ``view``.

    Waits until the map's box stops moving (the page is laid out), polling.
    """
    deadline = time.monotonic() + timeout
    box = canvas.bounding_box()
    while True:
        time.sleep(0.2)
        again = canvas.bounding_box()
        if again == box or time.monotonic() > deadline:
            break
        box = again
    cx, cy = _mercator(view["latitude"], view["longitude"], view["zoom"])
    x, y = _mercator(latitude, longitude, view["zoom"])
    return box["x"] + box["width"] / 2 + x - cx, box["y"] + box["height"] / 2 + y - cy


if __name__ == "__main__":
    import sys

    found = chromium_path()
    sys.stdout.write(
        f"Chromium for the browser test: {found}\n" if found else HOW_TO_GET_ONE + "\n"
    )
    sys.exit(0 if found else 1)
