"""Real servers for the tests, each on 127.0.0.1 only and stopped by the test that starts it.

* :func:`start_postgres`: a throw-away PostgreSQL cluster (Debian's ``postgresql``) in a
  temporary folder, with one database;
* :func:`start_process_server`: any HTTP server started as a command (``mlflow server``,
  ``mlflow models serve``), polled until a URL answers, stopped with its process group.

Missing software is a skip on a developer's machine, saying how to install it, and a
failure in CI (``BIKE_TRAFFIC_REQUIRE_ALL=1``, set by ``.ci/run``), which installs it.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

#: Seconds a server gets to answer after it starts.
STARTUP_TIMEOUT_S = 120.0


def missing(what: str, how: str) -> None:
    """Skip the test (fail in CI) because ``what`` is not installed; ``how`` installs it."""
    message = f"{what} is not installed: {how}"
    if os.environ.get("BIKE_TRAFFIC_REQUIRE_ALL"):
        pytest.fail(f"{message} (BIKE_TRAFFIC_REQUIRE_ALL is set: CI must have it)")
    pytest.skip(message)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(url: str, timeout: float = 2.0) -> bool:
    """Whether ``url`` answers an HTTP GET with a 2xx status."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            return 200 <= response.status < 300
    except (urllib.error.URLError, OSError):
        return False


# ---------------------------------------------------------------- any server process
@dataclass
class ServerProcess:
    """A server started as a command, in a process group of its own."""

    url: str
    port: int
    process: subprocess.Popen
    log_path: Path

    def is_running(self) -> bool:
        """Whether the process still runs."""
        return self.process.poll() is None

    def log(self) -> str:
        """The end of the server's output."""
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        """Stop the whole process group (terminate, then kill); idempotent."""
        if self.process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=15)


def start_process_server(
    command: Sequence[str],
    port: int,
    ready_path: str,
    log_path: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = STARTUP_TIMEOUT_S,
) -> ServerProcess:
    """Start ``command`` (which listens on 127.0.0.1:``port``) and wait until it answers.

    Args:
        command: The server's command line.
        port: Its port on 127.0.0.1.
        ready_path: A path that answers 2xx once it is ready (``/health``, ``/ping``).
        log_path: Where its output goes.
        env: Its environment (the current one when None).
        cwd: Its working directory.
        timeout: Seconds to wait for the answer.

    Returns:
        The running server.

    Raises:
        RuntimeError: When it exits or does not answer in time (its log attached).
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            list(command),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=cwd,
            start_new_session=True,  # its own process group: stop() ends its workers too
        )
    server = ServerProcess(f"http://127.0.0.1:{port}", port, process, log_path)
    deadline = time.monotonic() + timeout
    while server.is_running() and time.monotonic() < deadline:
        if answers(server.url + ready_path):
            return server
        time.sleep(0.2)  # polling interval, bounded by the deadline above
    server.stop()
    raise RuntimeError(
        f"{command[0]} did not answer on {server.url}{ready_path} within {timeout:.0f} s "
        f"(exit code {process.returncode}). Its log:\n{server.log()}"
    )


# ---------------------------------------------------------------- PostgreSQL
@dataclass
class Postgres:
    """A running throw-away PostgreSQL cluster."""

    port: int
    user: str
    database: str
    data_dir: Path
    bin_dir: Path
    run_as: str | None

    @property
    def url(self) -> str:
        """SQLAlchemy URL of the database (psycopg 3 driver, no password: trust auth)."""
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{self.database}"

    def stop(self) -> None:
        """Stop the cluster and remove its folder."""
        _as_owner(
            [str(self.bin_dir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "stop"],
            self.run_as,
            check=False,
        )
        shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def postgres_bin_dir() -> Path | None:
    """Folder of PostgreSQL's server programs (Debian: /usr/lib/postgresql/<v>/bin)."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    if candidates:
        return candidates[0].parent
    initdb = shutil.which("initdb")
    return Path(initdb).resolve().parent if initdb else None


def _as_owner(command: list[str], user: str | None, check: bool = True):
    """Run ``command``, as ``user`` when given (PostgreSQL refuses to run as root)."""
    if user is not None:
        command = ["runuser", "-u", user, "--", *command]
    return subprocess.run(command, check=check, capture_output=True, text=True, timeout=120)


def start_postgres(database: str = "mlflow", user: str = "mlflow") -> Postgres:
    """Create and start a PostgreSQL cluster in a fresh temporary folder, on 127.0.0.1.

    Authentication is ``trust`` for local connections only (the server listens on
    127.0.0.1 and on a socket in its own folder). As root, the cluster runs as
    ``nobody``, since PostgreSQL refuses to run as root.

    Returns:
        The running cluster with ``database`` created, owned by ``user``.
    """
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        missing("PostgreSQL (initdb, pg_ctl)", "apt-get install postgresql")
    run_as = None
    if os.geteuid() == 0:
        run_as = "nobody"
        pwd.getpwnam(run_as)
    root = Path(tempfile.mkdtemp(prefix="bike-traffic-pg-"))
    root.chmod(0o755)
    data_dir = root / "data"
    if run_as is not None:
        os.chown(root, pwd.getpwnam(run_as).pw_uid, -1)
    _as_owner(
        [str(bin_dir / "initdb"), "-D", str(data_dir), "-U", user, "--auth=trust", "-E", "UTF8"],
        run_as,
    )
    port = free_port()
    started = _as_owner(
        [
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data_dir),
            "-l",
            str(root / "server.log"),
            "-w",
            "-o",
            f"-h 127.0.0.1 -p {port} -k {root}",
            "start",
        ],
        run_as,
        check=False,
    )
    if started.returncode != 0:
        log = (root / "server.log").read_text(errors="replace") if root.exists() else ""
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"PostgreSQL did not start: {started.stderr}\n{log[-2000:]}")
    cluster = Postgres(port, user, database, data_dir, bin_dir, run_as)
    created = subprocess.run(
        [str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", user, database],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if created.returncode != 0:
        cluster.stop()
        raise RuntimeError(f"createdb {database} failed: {created.stderr}")
    return cluster
