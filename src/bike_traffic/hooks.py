"""Project hooks: fail fast on an unreachable tracking server, tag runs, reconcile the registry."""

from __future__ import annotations

import base64
import logging
import os
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from kedro.config import MissingConfigException
from kedro.framework.hooks import hook_impl

from bike_traffic.redaction import redact

logger = logging.getLogger(__name__)

# MLflow retries an unreachable server for minutes by default: keep it short.
os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "15")
# No model of this project is a pickle (skops with a fixed allow-list, Keras in safe mode,
# models.persistence): MLflow must not unpickle what an artifact store hands it either.
os.environ.setdefault("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "false")


class TrackingUnreachableError(RuntimeError):
    """The MLflow tracking server named in the configuration does not answer."""


def check_tracking_uri(uri: str, timeout: float = 5.0) -> None:
    """Raise at once, naming the URI (credentials hidden), when the store cannot be reached.

    A ``user:password@`` in an ``http(s)://`` URI is sent as HTTP Basic authentication,
    as MLflow's client (``requests``) sends it, and never appears in a message.

    Args:
        uri: An MLflow tracking URI (``http(s)://``, ``sqlite:///``, a path...).
        timeout: Seconds to wait for an HTTP server's answer.

    Raises:
        TrackingUnreachableError: When an HTTP server does not answer in time,
            or the folder of a SQLite file does not exist.
    """
    if uri.startswith(("http://", "https://")):
        request = _health_request(uri)
        try:
            with urllib.request.urlopen(request, timeout=timeout):  # noqa: S310
                return
        except urllib.error.HTTPError:
            return  # it answered: a proxy, a login, or an older server without /health
        except (urllib.error.URLError, OSError, TimeoutError, ValueError) as exc:
            reason = redact(str(getattr(exc, "reason", exc)))
            raise TrackingUnreachableError(
                f"MLflow tracking server {redact(uri)} is unreachable ({reason}). Start it, "
                "or unset MLFLOW_TRACKING_URI to use the local SQLite store."
            ) from None  # the chained error would repeat the URI, credentials included
    if uri.startswith("sqlite:///"):
        folder = Path(uri.removeprefix("sqlite:///")).parent
        if not folder.is_dir():
            raise TrackingUnreachableError(
                f"MLflow tracking store {uri}: folder {folder} does not exist."
            )


def _health_request(uri: str) -> urllib.request.Request:
    """A GET of the server's ``/health``, the URI's user information as Basic auth."""
    scheme, _, rest = uri.rstrip("/").partition("://")
    userinfo, at, location = rest.partition("@")
    if not at or "/" in userinfo.partition(":")[0]:  # no user information (an '@' later on)
        userinfo, location = "", rest
    request = urllib.request.Request(f"{scheme}://{location}/health")  # noqa: S310
    if userinfo:
        user, _, password = userinfo.partition(":")
        token = base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    return request


class CopiedStoreError(RuntimeError):
    """A local tracking store whose experiment writes its artifacts into another project."""


def _local_path(location: str | None) -> Path | None:
    """A local folder of an artifact location (``file://`` or a path), else None."""
    if not location or ("://" in location and not location.startswith("file://")):
        return None
    return Path(location.removeprefix("file://")).resolve()


def check_store_location(uri: str, experiment: dict[str, Any]) -> None:
    """Refuse a SQLite store copied from another project (it would write into that one).

    MLflow records an experiment's artifact location as an absolute path when it creates
    it. A project folder copied with its ``mlflow.db`` keeps the original's path, so every
    run of the copy would write its models into the original's folder.

    Args:
        uri: The ``sqlite:///...`` tracking URI.
        experiment: ``mlflow.yml``'s ``tracking.experiment`` (``name`` and the
            ``create_experiment_kwargs.artifact_location`` this project configures).

    Only the project's own store (the database beside the configured artifact folder) is
    checked: a store named on purpose by ``MLFLOW_TRACKING_URI`` is the user's choice.

    Raises:
        CopiedStoreError: When the experiment exists and its local artifact location is
            not the configured one, naming both and how to fix it.
    """
    wanted = _local_path(
        (experiment.get("create_experiment_kwargs") or {}).get("artifact_location")
    )
    database = Path(uri.removeprefix("sqlite:///")).resolve()
    if wanted is None or not database.is_file() or database.parent != wanted.parent:
        return  # not this project's own store (MLFLOW_TRACKING_URI names another one)
    from mlflow import MlflowClient

    found = MlflowClient(tracking_uri=uri).get_experiment_by_name(experiment.get("name", ""))
    actual = _local_path(found.artifact_location) if found is not None else None
    if actual is None or actual == wanted:
        return
    raise CopiedStoreError(
        f"The tracking store {database} keeps the artifacts of experiment "
        f"{found.name!r} in {actual}, not in this project's {wanted}: it was copied from "
        "another project, and runs would write their models into that one. Remove the "
        "copied mlflow.db (and mlartifacts/) to start a fresh store here, or point "
        "MLFLOW_TRACKING_URI at the original project's store."
    )


def git_commit(path: Path) -> str | None:
    """The checked-out git commit of ``path``, or None outside a repository."""
    try:
        out = subprocess.run(
            ["git", "-C", str(path), "rev-parse", "HEAD"],  # noqa: S607
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


class TrackingHooks:
    """Check the tracking store before a run starts, and tag the run it makes."""

    def __init__(self) -> None:
        self._project_path: Path | None = None
        self._tracked = False
        self._tags: dict[str, str] = {}

    @hook_impl(tryfirst=True)
    def after_context_created(self, context) -> None:
        """Check the tracking store before kedro-mlflow contacts it (it would retry for minutes)."""
        self._project_path = Path(context.project_path)
        try:
            server = context.config_loader["mlflow"].get("server") or {}
        except Exception:  # noqa: BLE001  (no mlflow.yml: kedro-mlflow uses its defaults)
            server = {}
        uri = server.get("mlflow_tracking_uri") or os.environ.get("MLFLOW_TRACKING_URI")
        if uri:
            check_tracking_uri(str(uri))
        if uri and str(uri).startswith("sqlite:"):
            try:
                experiment = context.config_loader["mlflow"]["tracking"]["experiment"]
            except (KeyError, TypeError, MissingConfigException):
                return
            check_store_location(str(uri), experiment)

    @hook_impl(tryfirst=True)
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        """Prepare the tags of the run: env, test mode, git commit.

        Also forgets the MLflow run of a previous Kedro run in this process:
        kedro-mlflow's hook is one object per process and, for a pipeline whose
        tracking is disabled, would reopen that stale run (tests, notebooks and
        Airflow's ``dags test`` run several pipelines in one process).
        """
        try:
            from kedro_mlflow.framework.hooks.mlflow_hook import mlflow_hook
        except ImportError:
            pass
        else:
            mlflow_hook.run_id = None

        try:
            run = catalog.load("params:run")
        except Exception:  # noqa: BLE001  (a project without the `run` group)
            run = {}
        commit = git_commit(self._project_path or Path.cwd())
        from bike_traffic.registry.reconcile import run_identity

        self._tags = {
            "kedro_env": str(run_params.get("env") or "local"),
            "test_mode": str(bool(run.get("test_mode", False))).lower(),
            # which process owns the run: `kedro models reconcile` closes it if killed
            **run_identity(),
        }
        if commit:
            self._tags["mlflow.source.git.commit"] = commit
            self._tags["git_commit"] = commit
        self._tracked = True

    @hook_impl
    def before_node_run(self, node, catalog, inputs) -> None:
        """Tag the active MLflow run once it exists (kedro-mlflow opens it)."""
        if not self._tracked or not self._tags:
            return
        import mlflow

        if mlflow.active_run() is not None:
            mlflow.set_tags(self._tags)
            self._tags = {}

    @hook_impl
    def after_node_run(self, node, catalog, inputs, outputs) -> None:
        """Record each data fingerprint a node produces as tags of the run."""
        if not self._tracked:
            return
        import mlflow

        if mlflow.active_run() is None:
            return
        for name, value in outputs.items():
            if name.endswith("data_fingerprint") and isinstance(value, dict):
                prefix = name.removesuffix("data_fingerprint").rstrip(".") or "data"
                mlflow.set_tags({f"{prefix}.data.{k}": str(v) for k, v in value.items()})


def reads_registry(pipeline) -> bool:
    """Whether a pipeline reads or appends to ``summary.json`` (a registry pipeline)."""
    return any(
        name == "summary_history" or name.endswith(".summary_entries")
        for name in pipeline.datasets()
    )


class RegistryHooks:
    """Before a pipeline that works on the registry: check summary.json, then reconcile.

    A corrupt ``summary.json`` stops the run here, before any training, naming the file.
    Then MLflow's registry is brought in line with it
    (:func:`bike_traffic.registry.reconcile.reconcile`), and the orphans found are
    appended, so that a run killed earlier never leaves two champions behind.
    """

    @hook_impl
    def before_pipeline_run(self, run_params: dict[str, Any], pipeline, catalog) -> None:
        """Load summary.json (validated), reconcile MLflow with it, append what was found."""
        if not reads_registry(pipeline):
            return
        from bike_traffic.registry.reconcile import reconcile

        history = catalog.load("summary_history")
        settings = catalog.load("params:registry")
        done = reconcile(history, settings["env"])
        if done.entries:
            catalog.save("summary_history", done.entries)


#: fsspec's per-protocol defaults that :func:`use_gcs_credentials` set last.
_GCS_DEFAULTS_SET: set[str] = set()


def use_gcs_credentials(credentials: dict[str, Any] | None) -> None:
    """Make ``credentials`` the default keyword arguments of every gcsfs filesystem.

    fsspec applies ``fsspec.config.conf["gs"]`` to each ``gs://`` filesystem it
    creates, so every kedro-datasets entry, the inner files of the MLflow artifact
    datasets and :func:`bike_traffic.registry.load_model`'s fallback read with these
    credentials, without a ``credentials:`` key on each catalog entry. Arguments given
    explicitly to a dataset still win. ``None`` removes what an earlier call set.

    Args:
        credentials: gcsfs arguments (``token``, optionally ``project``), or None.
    """
    import fsspec.config

    defaults = fsspec.config.conf.setdefault("gs", {})
    for key in _GCS_DEFAULTS_SET:
        defaults.pop(key, None)
    _GCS_DEFAULTS_SET.clear()
    for key, value in (credentials or {}).items():
        defaults[key] = value
        _GCS_DEFAULTS_SET.add(key)
    if not defaults:
        fsspec.config.conf.pop("gs", None)


class StorageCredentialsHooks:
    """Give ``gs://`` paths the credentials of ``credentials.yml``'s ``gcp_credentials``.

    conf/prod/credentials.yml names them once (a token from ``GCS_TOKEN``, Google's
    default credentials otherwise); an environment without them leaves gcsfs to its
    own defaults. The credentials are never logged.
    """

    @hook_impl(tryfirst=True)
    def after_context_created(self, context) -> None:
        """Set (or clear) gcsfs' default credentials before the catalog is created."""
        try:
            credentials = context.config_loader["credentials"]
        except MissingConfigException:
            credentials = {}
        use_gcs_credentials((credentials or {}).get("gcp_credentials"))
