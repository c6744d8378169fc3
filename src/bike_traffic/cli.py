"""Project commands: ``kedro models ...`` to inspect and steer the model registry.

    kedro models list                      champions and version counts per model type
    kedro models versions rf               every version: aliases, test metrics, created, run id
    kedro models champion rf               the current champion, and how it got there
    kedro models promote rf 3              make version 3 the champion (recorded)
    kedro models rollback rf               the champion returns to the previous champion
    kedro models archive rf 2              archive version 2 (aliases removed, recorded)
    kedro models reconcile                 make MLflow's registry follow summary.json
    kedro models serve rf                  serve the champion over HTTP (mlflow models serve)

summary.json is the registry's authority: every change is appended to it first, and
MLflow's aliases and tags follow (docs/registry.md). Every command that changes the
registry reconciles first. ``--env prod`` works on the production registry and bucket.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import click
from kedro.io import DatasetError

from bike_traffic.models.spec import MODEL_SPECS, UnknownModelTypeError, model_spec
from bike_traffic.project import Project, open_project
from bike_traffic.redaction import redact
from bike_traffic.registry import CHAMPION, RegistryError
from bike_traffic.registry.client import versions_table
from bike_traffic.registry.history import champion_history, current_champion
from bike_traffic.registry.operations import archive, promote, publish, rollback
from bike_traffic.registry.reconcile import reconcile


@click.group(name="bike_traffic")
def cli() -> None:
    """Commands of the bike_traffic project."""


class _Registry:
    """The project a command works on, and the registry's history through its catalog."""

    def __init__(self, env: str | None) -> None:
        self.project: Project = open_project(env=env)
        if self.project.registry_error:
            self.project.close()
            raise click.ClickException(self.project.registry_error)
        self.env = self.project.registry_env

    def history(self) -> list[dict]:
        return self.project.history()

    def record(self, entries: list[dict]) -> None:
        self.project.catalog.save("registry.summary_entries", entries)

    def reconcile(self) -> list[str]:
        """Make MLflow follow summary.json; record the orphans found; say what changed."""
        done = reconcile(self.history(), self.env)
        if done.entries:
            self.record(done.entries)
        for fix in done.fixes:
            click.echo(f"reconciled: {fix}")
        return done.fixes

    def change(self, model_type: str, make_entries) -> list[dict]:
        """Reconcile, record the entries ``make_entries(history)`` returns, then publish them."""
        self.reconcile()
        entries = make_entries(self.history())
        self.record(entries)  # summary.json first: the authority
        publish(model_type, self.history(), entries, self.env)
        return entries

    def floor(self, model_type: str) -> dict | None:
        models = (self.project.params.get("registry") or {}).get("models") or {}
        return (models.get(model_spec(model_type).model_type) or {}).get("floor")

    def close(self) -> None:
        self.project.close()


def _open(env: str | None) -> _Registry:
    try:
        return _Registry(env)
    except click.ClickException:
        raise
    except Exception as exc:
        raise click.ClickException(redact(str(exc))) from exc


def _verbose() -> bool:
    """Whether ``kedro models --verbose`` asked for tracebacks."""
    context = click.get_current_context(silent=True)
    while context is not None:
        if (context.obj or {}).get("verbose"):
            return True
        context = context.parent
    return False


def _run(env: str | None, action) -> None:
    registry = _open(env)
    try:
        action(registry)
    except Exception as exc:
        if _verbose():
            raise
        if isinstance(exc, RegistryError | UnknownModelTypeError | DatasetError):
            raise click.ClickException(redact(str(exc))) from None
        # anything else (the registry or storage refused, a bug): one line, the type named;
        # `kedro models --verbose ...` shows the traceback
        raise click.ClickException(
            f"{type(exc).__name__}: {redact(str(exc))} (--verbose shows the traceback)"
        ) from None
    finally:
        registry.close()


env_option = click.option("--env", "-e", default=None, help="Kedro environment (default: local).")


@cli.group()
@click.option("--verbose", "-v", is_flag=True, help="Show the traceback of a failure.")
@click.pass_context
def models(context: click.Context, verbose: bool) -> None:
    """Inspect and steer the model registry (champion, versions, promotion, rollback)."""
    context.ensure_object(dict)["verbose"] = verbose


@models.command("list")
@env_option
def list_models(env: str | None) -> None:
    """Each model type: registered name, champion version, number of versions."""

    def show(r: _Registry) -> None:
        history = r.history()
        for model_type, spec in MODEL_SPECS.items():
            table = versions_table(model_type)
            champion = current_champion(history, model_type, r.env)
            click.echo(
                f"{model_type:22} {spec.registered_name:24} versions={len(table):<3} "
                f"champion={'v' + str(champion['version']) if champion else '-'}"
            )

    _run(env, show)


@models.command("versions")
@click.argument("model_type")
@env_option
def list_versions(model_type: str, env: str | None) -> None:
    """Every version of MODEL_TYPE (rf, nn, affluence_classifier) with its test metrics."""

    def show(r: _Registry) -> None:
        table = versions_table(_model_type(model_type))
        click.echo(table.to_string(index=False) if len(table) else "no version registered")

    _run(env, show)


@models.command("champion")
@click.argument("model_type")
@env_option
def show_champion(model_type: str, env: str | None) -> None:
    """The current champion of MODEL_TYPE and the history of champions."""

    def show(r: _Registry) -> None:
        history = r.history()
        champion = current_champion(history, model_type, r.env)
        if champion is None:
            click.echo(f"{model_type}: no champion (env {r.env})")
            return
        headline = {k: champion[k] for k in ("rmse", "r2", "accuracy", "f1_score") if k in champion}
        click.echo(
            f"{model_type}: champion v{champion['version']} {headline} run {champion['run_id']}"
        )
        for change in champion_history(history, model_type, r.env):
            click.echo(f"  {change['timestamp']}  v{change['version']}  ({change['entry_type']})")

    _run(env, show)


@models.command("promote")
@click.argument("model_type")
@click.argument("version", type=int)
@click.option("--reason", default="manual promotion", show_default=True)
@click.option("--force", is_flag=True, help="Promote a quick-test-mode or below-floor version.")
@env_option
def promote_version(
    model_type: str, version: int, reason: str, force: bool, env: str | None
) -> None:
    """Make VERSION of MODEL_TYPE the champion."""

    def act(r: _Registry) -> None:
        floor = r.floor(model_type)
        r.change(
            model_type,
            lambda history: promote(model_type, version, history, r.env, reason, floor, force),
        )
        click.echo(f"{model_type}: v{version} is champion")

    _run(env, act)


@models.command("rollback")
@click.argument("model_type")
@env_option
def rollback_champion(model_type: str, env: str | None) -> None:
    """Give the champion of MODEL_TYPE back to the previous champion."""

    def act(r: _Registry) -> None:
        entries = r.change(model_type, lambda history: rollback(model_type, history, r.env))
        click.echo(
            f"{model_type}: champion v{entries[0]['from_version']} -> v{entries[0]['to_version']}"
        )

    _run(env, act)


@models.command("archive")
@click.argument("model_type")
@click.argument("version", type=int)
@env_option
def archive_version(model_type: str, version: int, env: str | None) -> None:
    """Archive VERSION of MODEL_TYPE (its aliases are removed)."""

    def act(r: _Registry) -> None:
        r.change(model_type, lambda history: archive(model_type, version, history, r.env))
        click.echo(f"{model_type}: v{version} archived")

    _run(env, act)


@models.command("reconcile")
@env_option
def reconcile_registry(env: str | None) -> None:
    """Make MLflow's aliases follow summary.json, record orphans, close killed runs."""

    def act(r: _Registry) -> None:
        if not r.reconcile():
            click.echo("MLflow's registry already agrees with summary.json: nothing to do")

    _run(env, act)


@models.command("serve")
@click.argument("model_type")
@click.option("--version", "which", default=CHAMPION, show_default=True,
              help="A version number, or an alias (champion, challenger).")  # fmt: skip
@click.option("--port", default=5001, show_default=True, type=int)
@click.option("--host", default="127.0.0.1", show_default=True)
@env_option
def serve_model(model_type: str, which: str, port: int, host: str, env: str | None) -> None:
    """Serve MODEL_TYPE's champion (or --version) over HTTP with `mlflow models serve`.

    POST rows to http://HOST:PORT/invocations (README: "Serve a model over HTTP").
    """
    spec = model_spec(_model_type(model_type))
    project = open_project(env=env)
    try:
        if project.registry_error:
            raise click.ClickException(project.registry_error)
        tracking_uri = project.tracking_uri
    finally:
        project.close()
    selector = f"/{which}" if str(which).isdigit() else f"@{which}"
    uri = f"models:/{spec.registered_name}{selector}"
    # `mlflow models serve` starts uvicorn through the shell: it must be on PATH.
    bin_dir = str(Path(sys.executable).parent)
    environ = {
        **os.environ,
        "MLFLOW_TRACKING_URI": tracking_uri or "",
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
    }
    command = [str(Path(bin_dir) / "mlflow"), "models", "serve", "-m", uri,
               "--env-manager", "local", "--host", host, "--port", str(port)]  # fmt: skip
    click.echo(f"Serving {uri} on http://{host}:{port}/invocations (Ctrl-C stops it)")
    raise SystemExit(subprocess.call(command, env=environ))


def _model_type(name: str) -> str:
    try:
        return model_spec(name).model_type
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
