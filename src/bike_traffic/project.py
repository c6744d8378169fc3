"""Finding and opening the Kedro project: the one way in for the app, the CLI and scripts.

* :func:`find_project`: which project (an explicit path, ``$BIKE_TRAFFIC_PROJECT_PATH``,
  the project around the working directory, or the checkout the package came from);
* :func:`project_root`: the same as text, the ``${project_root:}`` resolver of the
  configuration (so the SQLite tracking store resolves the same from any directory);
* :func:`open_project`: a ``KedroSession`` on it, through Kedro's public API, with the
  catalog, the parameters and the MLflow tracking URI kedro-mlflow sets; when the
  tracking server cannot be reached the project still opens and says why.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bike_traffic.redaction import redact

logger = logging.getLogger(__name__)

#: Environment variable naming the Kedro project to serve (tests, other checkouts).
PROJECT_PATH_ENV = "BIKE_TRAFFIC_PROJECT_PATH"


#: Secrets the app may take from ``st.secrets`` (the environment wins); never displayed.
SECRET_KEYS: tuple[str, ...] = (
    "MLFLOW_TRACKING_URI",
    "MLFLOW_TRACKING_USERNAME",
    "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_TRACKING_TOKEN",
    "MLFLOW_ARTIFACT_LOCATION",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "BIKE_TRAFFIC_DATA_ROOT",
    "BIKE_TRAFFIC_BUCKET",
)


def find_project(explicit: str | Path | None = None) -> Path:
    """The Kedro project to work on.

    Args:
        explicit: A path given by the caller; else ``$BIKE_TRAFFIC_PROJECT_PATH``;
            else the project around the working directory; else the checkout this
            package was installed from.

    Returns:
        The project's root folder.

    Raises:
        FileNotFoundError: When the chosen folder is not a Kedro project.
    """
    from kedro.utils import find_kedro_project

    given = explicit or os.environ.get(PROJECT_PATH_ENV)
    if given:
        path = Path(given).expanduser().resolve()
        if not (path / "pyproject.toml").is_file():
            raise FileNotFoundError(f"{path} is not a Kedro project (no pyproject.toml).")
        return path
    found = find_kedro_project(Path.cwd())
    return Path(found).resolve() if found else Path(__file__).resolve().parents[2]


def project_root() -> str:
    """:func:`find_project` as a POSIX path: the ``${project_root:}`` resolver."""
    return find_project().as_posix()


def export_secrets(secrets: Mapping[str, Any], environ: dict[str, str] | None = None) -> list[str]:
    """Copy the known secrets into the environment, where Kedro and MLflow read them.

    A variable already set in the environment wins over the secret.

    Args:
        secrets: ``st.secrets`` (or any mapping).
        environ: The environment to fill (``os.environ`` by default).

    Returns:
        The names exported (never the values).
    """
    target = os.environ if environ is None else environ
    exported = []
    for key in SECRET_KEYS:
        if key in secrets and not target.get(key):
            target[key] = str(secrets[key])
            exported.append(key)
    return exported


@dataclass
class Project:
    """An open project: its catalog, parameters and where models come from."""

    path: Path
    env: str
    catalog: Any
    params: dict[str, Any]
    tracking_uri: str | None
    registry_error: str | None = None
    session: Any = field(default=None, repr=False)

    @property
    def registry_env(self) -> str:
        """The ``env`` whose entries count in ``summary.json`` (``params:registry.env``)."""
        return str((self.params.get("registry") or {}).get("env", self.env))

    def history(self) -> list[dict]:
        """The registry history (``summary_history``); empty when the file does not exist yet."""
        return list(self.catalog.load("summary_history") or [])

    def load_model(self, model_type: str, which: str | int = "champion"):
        """A model's predictor through the registry (``summary.json`` when it is unreachable).

        Returns:
            A :class:`bike_traffic.registry.loading.LoadedModel`.
        """
        from bike_traffic.registry.loading import load_model

        return load_model(
            model_type,
            which,
            history=self.history(),
            env=self.registry_env,
            tracking_uri=self.tracking_uri,
            use_registry=self.registry_error is None,
        )

    def close(self) -> None:
        """Close the Kedro session."""
        if self.session is not None:
            self.session.close()
            self.session = None

    def __enter__(self) -> Project:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_project(path: str | Path | None = None, env: str | None = None) -> Project:
    """Open the project through a ``KedroSession``, as ``kedro run`` does.

    Args:
        path: The project (see :func:`find_project`).
        env: Kedro environment; ``$KEDRO_ENV`` or ``local`` when None.

    Returns:
        The :class:`Project`. The session's context sets MLflow's tracking URI from
        ``mlflow.yml`` (kedro-mlflow) and the project hook checks that the server
        answers; when it does not, ``registry_error`` says why (credentials hidden),
        the catalog still opens, and models come from ``summary.json``.
    """
    from kedro.framework.session import KedroSession
    from kedro.framework.startup import bootstrap_project

    from bike_traffic.hooks import TrackingUnreachableError

    root = find_project(path)
    env = env or os.environ.get("KEDRO_ENV") or "local"
    bootstrap_project(root)
    session = KedroSession.create(project_path=root, env=env)
    try:
        context = session.load_context()
    except TrackingUnreachableError as exc:
        session.close()
        error = redact(str(exc))
        logger.warning("Serving from summary.json: %s", error)
        catalog, params = open_catalog(root, env)
        return Project(root, env, catalog, params, None, registry_error=error)
    import mlflow

    return Project(
        path=root,
        env=env,
        catalog=context.catalog,
        params=dict(context.params),
        tracking_uri=mlflow.get_tracking_uri(),
        session=session,
    )


def open_catalog(path: str | Path | None = None, env: str | None = None) -> tuple[Any, dict]:
    """The project's catalog and parameters, from its configuration alone: fast.

    What a session's context gives, without a session or its run hooks: no MLflow, no
    tracking server contacted (kedro-mlflow's hook would, and retry for minutes when it
    is down). The app reads its data through this while the full project opens.

    Args:
        path: The project (see :func:`find_project`).
        env: Kedro environment; ``$KEDRO_ENV`` or ``local`` when None.

    Returns:
        The ``DataCatalog`` and the parameters.
    """
    from kedro.config import MissingConfigException
    from kedro.framework.project import settings
    from kedro.framework.startup import bootstrap_project
    from kedro.io import DataCatalog

    from bike_traffic.hooks import use_gcs_credentials

    root = find_project(path)
    env = env or os.environ.get("KEDRO_ENV") or "local"
    bootstrap_project(root)

    config = settings.CONFIG_LOADER_CLASS(
        conf_source=str(root / settings.CONF_SOURCE), env=env, **settings.CONFIG_LOADER_ARGS
    )
    try:
        credentials = config["credentials"]
    except MissingConfigException:
        credentials = {}
    use_gcs_credentials((credentials or {}).get("gcp_credentials"))
    return DataCatalog.from_config(config["catalog"], credentials), dict(config["parameters"])
