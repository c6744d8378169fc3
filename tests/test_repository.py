"""What the repository itself promises: the app is not exposed, secrets stay out of git."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_the_app_listens_on_this_machine_only():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["address"] == "127.0.0.1"
    assert config["browser"]["gatherUsageStats"] is False


SECRET_FILES = [
    ".env",
    ".env.production",
    "conf/local/credentials.yml",
    "conf/base/credentials.yml",
    ".streamlit/secrets.toml",
    "service-account-prod.json",
    "credentials-gcs.json",
    "key.json.key",
    "server.pem",
    "tls.key",
    "client.p12",
    ".pgpass",
    ".netrc",
    "id_rsa",
    "id_ed25519.pub",
]


@pytest.mark.skipif(
    shutil.which("git") is None or not (ROOT / ".git").exists(),
    reason="needs git and a git checkout of the project",
)
@pytest.mark.parametrize("name", SECRET_FILES)
def test_secret_files_are_ignored_by_git(name):
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", "-q", name],  # noqa: S607
        cwd=ROOT,
        check=False,
    )
    assert ignored.returncode == 0, f"{name} would be committed"


def test_the_prod_credentials_template_holds_no_secret():
    text = (ROOT / "conf" / "prod" / "credentials.yml").read_text(encoding="utf-8")
    for line in text.splitlines():
        if ":" in line and not line.lstrip().startswith("#"):
            value = line.split(":", 1)[1].strip()
            assert value in ("", "null", "~") or value.startswith("${"), line
