"""Project commands: ``kedro models ...`` to inspect and steer the model registry.

    kedro models list                      champions and version counts per model type
    kedro models versions rf               every version: aliases, test metrics, created, run id
    kedro models champion rf               the current champion, and how it got there
    kedro models promote rf 3              make version 3 the champion (recorded)
    kedro models rollback rf               the champion returns to the previous champion
    kedro models archive rf 2              archive version 2 (aliases removed, recorded)

Every change goes to the MLflow Model Registry and is appended to summary.json.
``--env prod`` works on the production registry and bucket.
"""

from __future__ import annotations

from pathlib import Path

import click
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from kedro.utils import find_kedro_project

from bike_traffic import registry as reg


@click.group(name="bike_traffic")
def cli() -> None:
    """Commands of the bike_traffic project."""


class _Registry:
    """The catalog and settings a command needs, from a KedroSession."""

    def __init__(self, env: str | None) -> None:
        project = find_kedro_project(Path.cwd()) or Path(__file__).resolve().parents[2]
        bootstrap_project(project)
        self.session = KedroSession.create(project_path=project, env=env)
        self.context = self.session.load_context()  # kedro-mlflow sets the tracking URI
        self.catalog = self.context.catalog
        self.settings = self.catalog.load("params:registry")
        self.env = self.settings["env"]

    def history(self) -> list[dict]:
        return self.catalog.load("summary_history")

    def record(self, entries: list[dict]) -> None:
        self.catalog.save("registry.summary_entries", entries)

    def close(self) -> None:
        self.session.close()


def _open(env: str | None) -> _Registry:
    try:
        return _Registry(env)
    except Exception as exc:
        raise click.ClickException(str(exc)) from exc


def _run(env: str | None, action) -> None:
    registry = _open(env)
    try:
        action(registry)
    except reg.RegistryError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        registry.close()


env_option = click.option("--env", "-e", default=None, help="Kedro environment (default: local).")


@cli.group()
def models() -> None:
    """Inspect and steer the model registry (champion, versions, promotion, rollback)."""


@models.command("list")
@env_option
def list_models(env: str | None) -> None:
    """Each model type: registered name, champion version, number of versions."""

    def show(r: _Registry) -> None:
        history = r.history()
        for model_type, spec in reg.MODEL_TYPES.items():
            table = reg.versions_table(model_type)
            champion = reg.current_champion(history, model_type, r.env)
            click.echo(
                f"{model_type:22} {spec['registered_name']:24} versions={len(table):<3} "
                f"champion={'v' + str(champion['version']) if champion else '-'}"
            )

    _run(env, show)


@models.command("versions")
@click.argument("model_type")
@env_option
def list_versions(model_type: str, env: str | None) -> None:
    """Every version of MODEL_TYPE (rf, nn, affluence_classifier) with its test metrics."""

    def show(r: _Registry) -> None:
        table = reg.versions_table(reg.model_type_of(model_type))
        click.echo(table.to_string(index=False) if len(table) else "no version registered")

    _run(env, show)


@models.command("champion")
@click.argument("model_type")
@env_option
def show_champion(model_type: str, env: str | None) -> None:
    """The current champion of MODEL_TYPE and the history of champions."""

    def show(r: _Registry) -> None:
        history = r.history()
        champion = reg.current_champion(history, model_type, r.env)
        if champion is None:
            click.echo(f"{model_type}: no champion (env {r.env})")
            return
        headline = {k: champion[k] for k in ("rmse", "r2", "accuracy", "f1_score") if k in champion}
        click.echo(
            f"{model_type}: champion v{champion['version']} {headline} run {champion['run_id']}"
        )
        for change in reg.champion_history(history, model_type, r.env):
            click.echo(f"  {change['timestamp']}  v{change['version']}  ({change['entry_type']})")

    _run(env, show)


@models.command("promote")
@click.argument("model_type")
@click.argument("version", type=int)
@click.option("--reason", default="manual promotion", show_default=True)
@env_option
def promote_version(model_type: str, version: int, reason: str, env: str | None) -> None:
    """Make VERSION of MODEL_TYPE the champion."""

    def act(r: _Registry) -> None:
        r.record(reg.promote(model_type, version, r.history(), r.env, reason))
        click.echo(f"{model_type}: v{version} is champion")

    _run(env, act)


@models.command("rollback")
@click.argument("model_type")
@env_option
def rollback_champion(model_type: str, env: str | None) -> None:
    """Give the champion of MODEL_TYPE back to the previous champion."""

    def act(r: _Registry) -> None:
        entries = reg.rollback(model_type, r.history(), r.env)
        r.record(entries)
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
        r.record(reg.archive(model_type, version, r.env))
        click.echo(f"{model_type}: v{version} archived")

    _run(env, act)
