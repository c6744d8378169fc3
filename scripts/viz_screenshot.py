"""Take a picture of the full pipeline graph from `kedro viz`, in headless Chromium.

Starts ``kedro viz run`` on 127.0.0.1 (no browser), waits until it answers, opens it in
Debian's Chromium through Playwright, saves ``docs/figures/kedro_viz_graph.png`` and stops
the server. Run from the project root::

    .venv/bin/python scripts/viz_screenshot.py
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "figures" / "kedro_viz_graph.png"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, deadline_s: float = 240.0) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"kedro viz did not answer on {url} within {deadline_s:.0f} s")


def dismiss_overlays(page) -> None:
    """Close the offline version banner and the feature tour, hide the sidebar."""
    for locator in (
        page.get_by_text("Dismiss", exact=True),
        page.locator("[class*='feature-hints'] button[class*='close']"),
        page.get_by_role("button", name="Close"),
        page.locator("[class*='feature-hints__close']"),
    ):
        try:
            if locator.count() and locator.first.is_visible():
                locator.first.click(timeout=2_000)
        except Exception:  # noqa: BLE001  (an overlay that is not there is fine)
            pass
    page.keyboard.press("Escape")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="PNG to write (%(default)s)")
    args = parser.parse_args(argv)
    port = free_port()
    env = {**os.environ, "KEDRO_DISABLE_TELEMETRY": "true", "DO_NOT_TRACK": "true"}
    kedro = str(Path(sys.executable).with_name("kedro"))
    log = open(ROOT / "build-viz.log", "w", encoding="utf-8")  # noqa: SIM115
    server = subprocess.Popen(
        [kedro, "viz", "run", "--no-browser", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}/api/main")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            page = browser.new_page(viewport={"width": 1800, "height": 1400})
            page.goto(f"http://127.0.0.1:{port}/", wait_until="networkidle")
            page.wait_for_selector("svg .pipeline-node", timeout=60_000)
            dismiss_overlays(page)
            page.wait_for_timeout(1500)  # let the layout animation settle before the picture
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out))
            browser.close()
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
    print(f"saved {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
