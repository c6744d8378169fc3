"""The model registry's ``summary.json``: an append-only history, safe under concurrent runs.

Every registry event (a model logged, a promotion, a rollback, a decision, a drift check)
is one JSON object with at least a string ``timestamp`` and a string ``entry_type``.
:class:`SummaryJSONDataset` exposes the file as a Kedro dataset whose ``save`` *appends*
to the history and never rewrites or drops what is already there, and whose writes are
atomic and lose nothing when several runs save at the same time:

* on local disk, a :class:`filelock.FileLock` on ``<file>.lock`` serialises writers, and
  the new history is written to a temporary file in the same folder, fsynced, then
  renamed over the old one (``os.replace``), so a reader never sees a torn file;
* on Google Cloud Storage (``gs://``), a compare-and-swap loop: read the object and its
  generation, append, upload with ``if_generation_match=<that generation>`` and start
  again when another writer got there first (HTTP 412).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from filelock import FileLock, Timeout
from kedro.io import AbstractDataset
from kedro.io.core import DatasetError, get_protocol_and_path

logger = logging.getLogger(__name__)

_T = TypeVar("_T")

REQUIRED_KEYS = ("timestamp", "entry_type")
LOCAL_PROTOCOLS = ("file",)
GCS_PROTOCOLS = ("gs", "gcs")

#: (connect, read) seconds for every google-cloud-storage request.
GCS_TIMEOUT = (5.0, 30.0)
#: How long transient network errors (connection refused, timeouts, 5xx) are retried.
GCS_NETWORK_DEADLINE = 30.0
#: Most compare-and-swap attempts of one save before it gives up.
GCS_MAX_ATTEMPTS = 200
_RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class SummaryFormatError(DatasetError):
    """The summary history, or the entries given to append, are not the expected shape."""


def validate_summary(entries: object, where: str) -> list[dict]:
    """Check that ``entries`` is a summary history: a list of well-formed entries.

    Args:
        entries: The decoded JSON (or the entries about to be appended).
        where: What the entries come from (the file), named in every message.

    Returns:
        ``entries`` itself, typed as a list of dicts.

    Raises:
        SummaryFormatError: When ``entries`` is not a list, or an entry is not an
            object or lacks a non-empty string ``timestamp`` or ``entry_type``.
    """
    if not isinstance(entries, list):
        raise SummaryFormatError(
            f"Summary '{where}' must be a JSON list of entries, "
            f"found {_json_type(entries)} instead."
        )
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise SummaryFormatError(
                f"Summary '{where}': entry {index} is {_json_type(entry)}, "
                "not an object with 'timestamp' and 'entry_type'."
            )
        for key in REQUIRED_KEYS:
            if key not in entry:
                raise SummaryFormatError(
                    f"Summary '{where}': entry {index} lacks the key '{key}' "
                    f"(its keys: {sorted(map(str, entry))})."
                )
            value = entry[key]
            if not isinstance(value, str):
                raise SummaryFormatError(
                    f"Summary '{where}': entry {index} has '{key}' = {value!r} "
                    f"({_json_type(value)}); it must be a string."
                )
            if not value.strip():
                raise SummaryFormatError(f"Summary '{where}': entry {index} has an empty '{key}'.")
    return entries


def _json_type(value: object) -> str:
    """The JSON name of ``value``'s type, for messages ("an object", "a string"...)."""
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    for kind, name in names.items():
        if isinstance(value, kind):
            return name
    if isinstance(value, int | float):
        return "a number"
    return f"a {type(value).__name__}"


def _parse(raw: bytes, where: str) -> list[dict]:
    """Decode and validate the bytes of a summary file.

    Raises:
        SummaryFormatError: When the bytes are not UTF-8 JSON or not a valid history.
    """
    try:
        decoded = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise SummaryFormatError(
            f"Summary '{where}' is not UTF-8 text (byte {exc.start}): {exc.reason}."
        ) from exc
    except json.JSONDecodeError as exc:
        raise SummaryFormatError(
            f"Summary '{where}' is not valid JSON: {exc.msg} at line {exc.lineno}, "
            f"column {exc.colno}."
        ) from exc
    return validate_summary(decoded, where)


def _normalise_new(entries: object, where: str) -> list[dict]:
    """Validate the entries to append and return them as plain JSON values.

    The JSON round trip makes them compare equal to what a later read gives back
    (tuples become lists...), and refuses what cannot be written as strict JSON.
    """
    label = f"{where} (entries to append)"
    validate_summary(entries, label)
    normalised = []
    for index, entry in enumerate(entries):  # type: ignore[arg-type]
        try:
            normalised.append(json.loads(json.dumps(entry, allow_nan=False)))
        except (TypeError, ValueError) as exc:
            raise SummaryFormatError(
                f"Summary '{label}': entry {index} cannot be written as JSON: {exc}."
            ) from exc
    return normalised


def _dump(entries: list[dict]) -> bytes:
    """The file's bytes: indented by one space, so diffs stay readable and the file small."""
    return (json.dumps(entries, indent=1, ensure_ascii=False, allow_nan=False) + "\n").encode()


class SummaryJSONDataset(AbstractDataset[list[dict], list[dict]]):
    """The registry's append-only ``summary.json`` history, local or on ``gs://``.

    ``load`` returns every entry (``[]`` when the file does not exist yet); ``save``
    appends the entries it is given to the history, atomically, without losing the
    entries of a concurrent writer. A file that is not valid JSON or not a list of
    entries with string ``timestamp`` and ``entry_type`` is refused with a
    :class:`SummaryFormatError` and left byte-for-byte unchanged.

    Example catalog entry::

        registry_summary:
          type: bike_traffic.summary_store.SummaryJSONDataset
          filepath: ${globals:data_root}/06_models/summary.json
          credentials: gcp_credentials   # only read for gs:// paths
    """

    def __init__(
        self,
        filepath: str,
        credentials: dict | None = None,
        fs_args: dict | None = None,
        lock_timeout: float = 60.0,
        metadata: dict | None = None,
    ) -> None:
        """Create the dataset; nothing is read or written yet.

        Args:
            filepath: A local path (optionally ``file://``) or ``gs://bucket/path``.
            credentials: For ``gs://`` only: ``token`` (``"anon"``, ``"google_default"``
                or absent for Google's default credentials, a path to a service
                account JSON key or its parsed content) and optionally ``project``.
            fs_args: For ``gs://`` only: optionally ``project`` (``credentials`` wins).
            lock_timeout: The longest one ``save`` waits for its turn, in seconds: for
                the file lock locally, for the whole compare-and-swap loop on GCS. It
                also caps how long network errors are retried (at most 30 s).
            metadata: Free-form information about the dataset, ignored by Kedro.

        Raises:
            DatasetError: For a protocol other than local files and ``gs://``, a
                ``gs://`` path without an object name, or unknown ``fs_args``.
        """
        self._filepath = str(filepath)
        self._credentials = dict(credentials or {})
        self._fs_args = dict(fs_args or {})
        self._lock_timeout = float(lock_timeout)
        self.metadata = metadata
        self._client: Any = None

        protocol, path = get_protocol_and_path(self._filepath)
        if protocol in LOCAL_PROTOCOLS:
            self._protocol = "file"
            self._local_path = Path(path)
            self._where = str(self._local_path)
        elif protocol in GCS_PROTOCOLS:
            self._protocol = "gs"
            bucket, _, name = path.partition("/")
            if not bucket or not name or name.endswith("/"):
                raise DatasetError(
                    f"Summary path '{self._filepath}' must name an object: gs://bucket/path."
                )
            self._bucket_name, self._blob_name = bucket, name
            self._where = f"gs://{bucket}/{name}"
        else:
            raise DatasetError(
                f"SummaryJSONDataset does not support the '{protocol}' protocol of "
                f"'{self._filepath}': it needs an atomic append, which it implements for "
                "local files (a path or file://) and Google Cloud Storage (gs://) only."
            )
        unknown = sorted(set(self._fs_args) - {"project"})
        if unknown:
            raise DatasetError(
                f"SummaryJSONDataset '{self._filepath}' does not accept fs_args {unknown}; "
                "the only one it reads is 'project' (for gs:// paths)."
            )

    def __getstate__(self) -> dict[str, Any]:
        """Pickle without the storage client (it holds a network session)."""
        state = self.__dict__.copy()
        state["_client"] = None
        return state

    def _describe(self) -> dict[str, Any]:
        return {"filepath": self._filepath, "lock_timeout": self._lock_timeout}

    def load(self) -> list[dict]:
        """Read the whole history.

        Returns:
            Every entry, oldest first; ``[]`` when the file does not exist yet.

        Raises:
            SummaryFormatError: When the file is not valid JSON or not a history.
            DatasetError: When Google Cloud Storage cannot be reached or refuses.
        """
        if self._protocol == "file":
            # Writers replace the file atomically, so reading needs no lock.
            try:
                raw = self._local_path.read_bytes()
            except FileNotFoundError:
                return []
            return _parse(raw, self._where)
        raw, _ = self._gcs_read()
        return [] if raw is None else _parse(raw, self._where)

    def save(self, data: list[dict]) -> None:
        """Append ``data`` to the history, atomically and without losing concurrent appends.

        Args:
            data: The new entries, each with a string ``timestamp`` and ``entry_type``.

        Raises:
            SummaryFormatError: When ``data`` or the existing file is not the expected
                shape; the file is then left unchanged.
            DatasetError: When the lock cannot be taken within ``lock_timeout``, or
                Google Cloud Storage cannot be reached, refuses, or the object keeps
                changing for longer than ``lock_timeout`` (or 200 attempts).
        """
        new_entries = _normalise_new(data, self._where)
        if self._protocol == "file":
            self._save_local(new_entries)
        else:
            self._save_gcs(new_entries)

    def revision(self) -> tuple:
        """A cheap token that changes whenever the file does (no read of its content).

        Local: the modification time and size; Google Cloud Storage: the object's
        generation. The app keys its cached history on it, so that a promotion or an
        archive made elsewhere is seen on the next page run.
        """
        if self._protocol == "file":
            try:
                stat = self._local_path.stat()
            except FileNotFoundError:
                return ("absent",)
            return (stat.st_mtime_ns, stat.st_size)
        bucket = self._gcs_client().bucket(self._bucket_name)

        def generation() -> tuple:
            blob = bucket.get_blob(self._blob_name, timeout=GCS_TIMEOUT, retry=None)
            return ("absent",) if blob is None else (int(blob.generation),)

        return self._gcs_retrying(generation, "check the generation of")

    def _exists(self) -> bool:
        if self._protocol == "file":
            return self._local_path.exists()
        bucket = self._gcs_client().bucket(self._bucket_name)
        return self._gcs_retrying(
            lambda: bucket.blob(self._blob_name).exists(timeout=GCS_TIMEOUT, retry=None),
            "check whether it exists",
        )

    # Local files ---------------------------------------------------------------------

    def _save_local(self, new_entries: list[dict]) -> None:
        path = self._local_path
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(f"{path}.lock", timeout=self._lock_timeout)
        try:
            with lock:
                try:
                    raw = path.read_bytes()
                except FileNotFoundError:
                    existing: list[dict] = []
                    mode = 0o644
                else:
                    existing = _parse(raw, self._where)
                    mode = path.stat().st_mode & 0o777
                _remove_strays(path)
                _replace_atomically(path, _dump(existing + new_entries), mode)
        except Timeout as exc:
            raise DatasetError(
                f"Could not lock '{path}.lock' within {self._lock_timeout:g} s to append to "
                f"summary '{self._where}': another save holds it. Nothing was written."
            ) from exc
        logger.info("Appended %d entries to %s", len(new_entries), self._where)

    # Google Cloud Storage ------------------------------------------------------------

    def _gcs_client(self) -> Any:
        """The google-cloud-storage client, made once (honours STORAGE_EMULATOR_HOST)."""
        if self._client is not None:
            return self._client
        from google.auth.credentials import AnonymousCredentials, Credentials
        from google.auth.exceptions import GoogleAuthError
        from google.cloud import storage

        token = self._credentials.get("token", "google_default")
        project = self._credentials.get("project", self._fs_args.get("project"))
        try:
            if token == "anon":
                creds: Any = AnonymousCredentials()
                # An anonymous client needs a project name, any will do for reading
                # and writing objects (the emulator ignores it).
                project = project or os.environ.get("GOOGLE_CLOUD_PROJECT") or "anonymous"
            elif token in (None, "google_default"):
                creds = None  # Google's default credentials, or anonymous on the emulator
            elif isinstance(token, Credentials):
                creds = token
            elif isinstance(token, dict | str):
                from google.oauth2 import service_account

                if isinstance(token, dict):
                    creds = service_account.Credentials.from_service_account_info(token)
                else:
                    creds = service_account.Credentials.from_service_account_file(token)
            else:
                raise DatasetError(
                    f"Summary '{self._where}': unsupported credentials token of type "
                    f"{type(token).__name__}; use 'anon', 'google_default', a service "
                    "account key file or its content."
                )
            self._client = storage.Client(project=project, credentials=creds)
        except (GoogleAuthError, OSError, ValueError) as exc:
            raise DatasetError(
                f"Cannot create a Google Cloud Storage client for summary '{self._where}': "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        return self._client

    def _gcs_retrying(self, action: Callable[[], _T], doing: str) -> _T:
        """Run one storage request, retrying transient network errors for a bounded time.

        Raises:
            DatasetError: Naming the ``gs://`` path, when the error is not transient or
                persists past ``min(30 s, lock_timeout)``.
        """
        from google.api_core.exceptions import GoogleAPICallError

        deadline = time.monotonic() + min(GCS_NETWORK_DEADLINE, self._lock_timeout)
        delay = 0.05
        while True:
            try:
                return action()
            except Exception as exc:
                if not _is_transient(exc):
                    if isinstance(exc, GoogleAPICallError):
                        raise DatasetError(
                            f"Google Cloud Storage refused to {doing} for summary "
                            f"'{self._where}': {exc}"
                        ) from exc
                    raise
                if time.monotonic() + delay > deadline:
                    raise DatasetError(
                        f"Cannot reach Google Cloud Storage to {doing} for summary "
                        f"'{self._where}' (gave up after retrying for "
                        f"{min(GCS_NETWORK_DEADLINE, self._lock_timeout):g} s): "
                        f"{type(exc).__name__}: {exc}"
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 2.0)

    def _gcs_read(self) -> tuple[bytes | None, int]:
        """The object's bytes and generation, from one request: ``(None, 0)`` when absent."""
        from google.api_core.exceptions import NotFound

        bucket = self._gcs_client().bucket(self._bucket_name)

        def read() -> tuple[bytes | None, int]:
            blob = bucket.blob(self._blob_name)
            try:
                raw = blob.download_as_bytes(timeout=GCS_TIMEOUT, retry=None)
            except NotFound:
                return None, 0
            if blob.generation is None:  # GCS always sends x-goog-generation
                raise DatasetError(
                    f"Google Cloud Storage sent no generation for summary '{self._where}'; "
                    "cannot append safely."
                )
            return raw, int(blob.generation)

        return self._gcs_retrying(read, "read")

    def _save_gcs(self, new_entries: list[dict]) -> None:
        from google.api_core.exceptions import PreconditionFailed

        bucket = self._gcs_client().bucket(self._bucket_name)
        started = time.monotonic()
        # Full histories of uploads whose outcome is unknown (the connection broke after
        # sending). The history only grows, so if one is a prefix of what is read back,
        # that upload landed: appending again would duplicate the entries.
        unsure: list[list[dict]] = []
        for attempt in range(1, GCS_MAX_ATTEMPTS + 1):
            try:
                raw, generation = self._gcs_read()
            except DatasetError as exc:
                if not unsure:
                    raise
                raise DatasetError(f"{exc} An earlier upload's outcome is unknown.") from exc
            existing = [] if raw is None else _parse(raw, self._where)
            if any(existing[: len(history)] == history for history in unsure):
                return
            history = existing + new_entries
            try:
                # upload_from_string sends objects under 8 MiB in one multipart request;
                # fake-gcs-server only enforces ifGenerationMatch on such single-request
                # uploads, and indent=1 keeps a registry history far below that size.
                bucket.blob(self._blob_name).upload_from_string(
                    _dump(history),
                    content_type="application/json",
                    if_generation_match=generation,
                    timeout=GCS_TIMEOUT,
                    retry=None,
                )
            except PreconditionFailed:
                pass  # another writer saved first: read its history and try again
            except Exception as exc:
                if not _is_transient(exc):
                    raise DatasetError(
                        f"Google Cloud Storage refused to write summary '{self._where}': "
                        f"{type(exc).__name__}: {exc}"
                    ) from exc
                unsure.append(history)
            else:
                logger.info(
                    "Appended %d entries to %s (attempt %d)",
                    len(new_entries),
                    self._where,
                    attempt,
                )
                return
            elapsed = time.monotonic() - started
            if elapsed > self._lock_timeout:
                break
            time.sleep(random.uniform(0, min(0.25, 0.005 * 2 ** min(attempt, 8))))
        raise DatasetError(
            f"Could not append to summary '{self._where}': the object kept changing under "
            f"concurrent writers (HTTP 412) for {attempt} attempts in "
            f"{time.monotonic() - started:.1f} s (lock_timeout={self._lock_timeout:g} s)."
            + (
                " An earlier upload's outcome is unknown; check the history."
                if unsure
                else " Nothing was written."
            )
        )


def _is_transient(exc: BaseException) -> bool:
    """Whether a storage request failed in a way worth retrying (network, 408/429/5xx)."""
    import requests
    from google.api_core.exceptions import GoogleAPICallError
    from google.auth.exceptions import TransportError

    if isinstance(exc, requests.ConnectionError | requests.Timeout | TransportError):
        return True
    if isinstance(exc, GoogleAPICallError):
        return exc.code in _RETRYABLE_STATUS
    return isinstance(exc, ConnectionError | TimeoutError)


def _remove_strays(path: Path) -> None:
    """Remove the temporary files a killed writer left beside ``path``.

    Called with the lock held: no live writer has a temporary file then, so every
    ``.<name>.*.tmp`` there is a crash's leftover.
    """
    for stray in path.parent.glob(f".{path.name}.*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            stray.unlink()
            logger.info("Removed %s, left by a writer that was stopped", stray)


def _replace_atomically(path: Path, payload: bytes, mode: int) -> None:
    """Write ``payload`` to a temporary file beside ``path``, fsync it, rename it over ``path``.

    A reader sees either the old file or the new one, never a partial write; a crash
    leaves at worst a stray ``.<name>.*.tmp`` file, never a damaged ``path``.
    """
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as tmp:
            tmp.write(payload)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise
    # Make the rename itself durable; some filesystems cannot fsync a folder.
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
