"""bike_traffic.project: finding and opening the project, secrets, credentials in messages."""

from __future__ import annotations

import pytest

from bike_traffic import project as proj
from bike_traffic.redaction import redact


def test_find_project_takes_the_environment_variable_first(tmp_path, monkeypatch):
    (tmp_path / "pyproject.toml").write_text("[tool.kedro]\n", encoding="utf-8")
    monkeypatch.setenv(proj.PROJECT_PATH_ENV, str(tmp_path))
    assert proj.find_project() == tmp_path.resolve()
    assert proj.project_root() == tmp_path.resolve().as_posix()
    monkeypatch.delenv(proj.PROJECT_PATH_ENV)
    assert (proj.find_project() / "conf" / "base" / "catalog.yml").is_file()


def test_find_project_refuses_a_folder_that_is_no_project(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a Kedro project"):
        proj.find_project(tmp_path)


def test_secrets_go_to_the_environment_unless_it_already_has_them():
    environ = {"MLFLOW_TRACKING_USERNAME": "from-env"}
    secrets = {
        "MLFLOW_TRACKING_USERNAME": "from-secrets",
        "MLFLOW_TRACKING_PASSWORD": "s3cret",
        "SOMETHING_ELSE": "ignored",
    }
    assert proj.export_secrets(secrets, environ) == ["MLFLOW_TRACKING_PASSWORD"]
    assert environ == {"MLFLOW_TRACKING_USERNAME": "from-env", "MLFLOW_TRACKING_PASSWORD": "s3cret"}


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("https://alice:pw@mlflow.example.org/api", "https://***@mlflow.example.org/api"),
        (
            "cannot reach postgresql://u:p@db:5432/x now",
            "cannot reach postgresql://***@db:5432/x now",
        ),
        ("sqlite:////work/main/mlflow.db", "sqlite:////work/main/mlflow.db"),
        # a password holding '/' or ':' (unencoded): hidden whole, not cut at the '/'
        ("http://bob:pa/ss:w@127.0.0.1:5000 down", "http://***@127.0.0.1:5000 down"),
        (
            "two: https://a:b@h1/x and gs://k@bucket/y",
            "two: https://***@h1/x and gs://***@bucket/y",
        ),
    ],
)
def test_credentials_in_uris_are_never_shown(text, shown):
    assert redact(text) == shown


def test_an_open_project_has_its_catalog_parameters_and_tracking(cleaned_project):
    with proj.open_project(cleaned_project, "test") as project:
        assert project.registry_error is None
        assert project.tracking_uri == f"sqlite:///{cleaned_project / 'mlflow.db'}"
        assert project.registry_env == "test"
        assert len(project.catalog.load("train_baseline")) > 0
        assert project.history() == []
        assert project.session is not None
    assert project.session is None  # closed by the context manager


def test_an_unreachable_tracking_server_still_opens_the_catalog(cleaned_project, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://alice:pw@127.0.0.1:9/")
    with proj.open_project(cleaned_project, "test") as project:
        assert "unreachable" in project.registry_error
        assert "pw" not in project.registry_error and "***@127.0.0.1:9" in project.registry_error
        assert project.tracking_uri is None
        assert len(project.catalog.load("test_baseline")) > 0
        assert project.params["registry"]["env"] == "test"
