"""Project settings. See https://docs.kedro.org/en/stable/kedro_project_setup/settings.html."""

import os
import warnings

from kedro.config import OmegaConfigLoader
from omegaconf.resolvers import oc

from bike_traffic.hooks import RegistryHooks, StorageCredentialsHooks, TrackingHooks
from bike_traffic.project import project_root

# Kedro's OmegaConfigLoader and kedro-mlflow still call OmegaConf.register_new_resolver,
# which the installed omegaconf deprecates: three warnings on every command, none of
# them actionable here. Drop this filter once they call register_resolver.
warnings.filterwarnings(
    "ignore", message=r"register_new_resolver\(\) is deprecated", category=UserWarning
)


def experiment_artifacts(default: str) -> str | None:
    """Where a new MLflow experiment keeps its artifacts: ``${experiment_artifacts:<default>}``.

    ``MLFLOW_ARTIFACT_LOCATION`` wins when set. With an MLflow server as tracking URI
    (``http(s)://``) the server decides (None): a server started with
    ``--serve-artifacts`` proxies them to its ``--artifacts-destination``, so clients
    need no storage credentials. Otherwise (SQLite, PostgreSQL) ``default``.
    """
    explicit = os.environ.get("MLFLOW_ARTIFACT_LOCATION")
    if explicit:
        return explicit
    if os.environ.get("MLFLOW_TRACKING_URI", "").startswith(("http://", "https://")):
        return None
    return default


CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # `${oc.env:...}` is allowed outside credentials.yml, so that globals.yml can
    # take the bucket name or a data folder from the environment.
    "custom_resolvers": {
        "oc.env": oc.env,
        "project_root": project_root,
        "experiment_artifacts": experiment_artifacts,
    },
    # a nested override in conf/prod keeps its siblings from conf/base
    "merge_strategy": {"parameters": "soft", "mlflow": "soft", "globals": "soft"},
    "config_patterns": {
        "mlflow": ["mlflow*", "mlflow*/**", "**/mlflow*"],
        "airflow": ["airflow*", "airflow*/**"],
    },
}

HOOKS = (TrackingHooks(), StorageCredentialsHooks(), RegistryHooks())
