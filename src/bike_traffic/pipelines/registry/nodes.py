"""Nodes of the registry: register, re-score the champion, decide, record, publish.

``summary.json`` is the registry's authority (:mod:`bike_traffic.registry.reconcile`):
a decision is first *recorded* (:func:`record_decision` returns the entries the catalog
appends) and only then *published* to MLflow's aliases and tags (:func:`publish_decision`,
which reads the history after the append). A crash between the two leaves MLflow behind,
and the next reconciliation catches it up. Three nodes have side effects on the MLflow
Model Registry and say so in their name and docstring: :func:`register_model_version`,
:func:`publish_decision` and :func:`publish_champions`. Every decision is taken by
:func:`bike_traffic.registry.rule.decide`, the one place the rule lives.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from bike_traffic.models.evaluation import without_outages
from bike_traffic.models.predictor import OldLayoutError
from bike_traffic.models.spec import model_spec
from bike_traffic.registry import CHALLENGER, CHAMPION, NoChampionError, now
from bike_traffic.registry.client import (
    alias_version,
    client,
    describe_metrics,
    storage_location,
)
from bike_traffic.registry.history import archived_versions, current_champion
from bike_traffic.registry.loading import load_model
from bike_traffic.registry.reconcile import sync_type
from bike_traffic.registry.rule import decide, rule_for

logger = logging.getLogger(__name__)


def _headline(metrics: dict[str, float], kind: str) -> dict[str, float]:
    """The original summary fields: rmse and r2, or accuracy/precision/recall/f1_score."""
    keys = (
        ("accuracy", "precision", "recall", "f1_score") if kind == "classifier" else ("rmse", "r2")
    )
    return {k: metrics[k] for k in keys if k in metrics}


def register_model_version(
    model_card: dict[str, Any],
    metrics: dict[str, float],
    fingerprint: dict[str, Any],
    history: list[dict],
    settings: dict[str, Any],
) -> dict[str, Any]:
    """Side effect: register the model logged in this run as a new version, alias ``challenger``.

    ``history`` is read first so that a corrupt ``summary.json`` stops the run
    before anything is registered.

    Args:
        model_card: Which model type was just logged (from the model pipeline).
        metrics: Its test metrics.
        fingerprint: The data it saw.
        history: ``summary.json`` (validated on load).
        settings: ``params:registry`` (``env``, ``artifacts_destination``).

    Returns:
        The version's identity: registered name, version, run id, model URI, the
        model's storage location (for loading without the tracking server).

    Raises:
        RuntimeError: When no MLflow run is active or the run logged no model.
    """
    import mlflow

    spec = model_spec(model_card["model_type"])
    model_type = spec.model_type
    run = mlflow.active_run()
    if run is None:
        raise RuntimeError(
            f"No active MLflow run: {model_type} cannot be registered. Is tracking "
            "disabled for this pipeline in mlflow.yml?"
        )
    run_id = run.info.run_id
    logged = mlflow.search_logged_models(
        experiment_ids=[run.info.experiment_id],
        filter_string=f"source_run_id = '{run_id}' AND name = '{spec.logged_name}'",
        output_format="list",
    )
    if not logged:
        raise RuntimeError(f"Run {run_id} logged no model named {spec.logged_name!r}.")
    model = logged[-1]
    mlflow_client = client()
    name = spec.registered_name
    if not mlflow_client.search_registered_models(filter_string=f"name = '{name}'"):
        mlflow_client.create_registered_model(
            name, description=f"bike_traffic {model_type}: hourly bicycle counts in Paris."
        )
    run_info = mlflow_client.get_run(run_id)
    code_version = run_info.data.tags.get("git_commit", "unknown")
    tags = {
        "model_type": spec.summary_type,
        "env": settings["env"],
        "test_mode": str(bool(fingerprint.get("test_mode"))).lower(),
        "data_fingerprint": fingerprint["hash"],
        "code_version": code_version,
    }
    # A tracking server (MLflow 3) checks that the source belongs to the logged model
    # named by model_id; a local store does not, so both go together everywhere.
    version = mlflow_client.create_model_version(
        name,
        source=model.model_uri,
        run_id=run_id,
        model_id=model.model_id,
        tags=tags,
        description=describe_metrics(metrics, spec.kind),
    )
    mlflow_client.set_registered_model_alias(name, CHALLENGER, version.version)
    logger.info("Registered %s version %s (alias %s)", name, version.version, CHALLENGER)
    return {
        "model_type": model_type,
        "registered_model": name,
        "version": int(version.version),
        "run_id": run_id,
        "model_uri": model.model_uri,
        "model_id": model.model_id,
        "artifact_location": storage_location(
            model.artifact_location, settings.get("artifacts_destination")
        ),
        "code_version": code_version,
        "history_entries": len(history),
    }


def score_champion(
    registered: dict[str, Any],
    test: pd.DataFrame,
    history: list[dict],
    settings: dict[str, Any],
) -> dict[str, float]:
    """Re-score the current champion (the one summary.json names) on the challenger's rows.

    Args:
        registered: Output of :func:`register_model_version`.
        test: The test rows the challenger was judged on (today's ``test_baseline``).
        history: ``summary.json``, the registry's authority.
        settings: ``params:registry`` (``env``).

    Returns:
        The champion's metrics and version; an empty dict when the type has no champion;
        ``{"version", "cannot_serve"}`` when the champion is a whole model of a layout
        this code cannot load (logged before the current predictor): it cannot be
        compared, and cannot serve.

    Raises:
        Exception: Any other failure to load the champion (the tracking server or the
            artifact store unreachable, a file missing or damaged...): the decision cannot
            be taken, and is not taken as if there were no champion.
    """
    model_type = registered["model_type"]
    try:
        champion = load_model(model_type, CHAMPION, history=history, env=settings["env"])
    except NoChampionError:
        logger.info("%s has no champion yet", model_type)
        return {}
    except OldLayoutError as exc:
        logger.warning("The %s champion cannot serve: %s", model_type, exc)
        entry = current_champion(history, model_type, settings["env"])
        return {"version": entry["version"] if entry else None, "cannot_serve": str(exc)}
    scores = champion.score(test)
    logger.info(
        "Champion %s v%s re-scored on today's test set: %s", model_type, champion.version, scores
    )
    return {**scores, "version": champion.version}


def decide_promotion(
    registered: dict[str, Any],
    metrics: dict[str, float],
    champion: dict[str, float],
    spec: dict[str, Any],
    settings: dict[str, Any],
    run: dict[str, Any],
) -> dict[str, Any]:
    """Apply the champion/challenger rule (pure: :func:`bike_traffic.registry.decide`).

    Args:
        registered: The challenger's identity.
        metrics: The challenger's test metrics.
        champion: The champion's re-scored metrics (empty: no champion yet).
        spec: ``params:registry.models.<type>``.
        settings: ``params:registry``.
        run: ``params:run`` (test mode).

    Returns:
        The decision with the versions involved.
    """
    unservable = champion.get("cannot_serve") if champion else None
    compared = None if unservable or not champion else champion
    decision = decide(metrics, compared, rule_for(spec, settings), bool(run.get("test_mode")))
    if unservable:
        decision["reasons"].insert(
            0,
            f"the champion v{champion.get('version')} cannot serve and is not compared: "
            f"{unservable}",
        )
    decision["challenger_version"] = registered["version"]
    decision["champion_version"] = champion.get("version") if champion else None
    logger.info(
        "%s v%s %s: %s",
        registered["registered_model"],
        registered["version"],
        decision["outcome"],
        "; ".join(decision["reasons"]),
    )
    return decision


def record_decision(
    registered: dict[str, Any],
    decision: dict[str, Any],
    metrics: dict[str, float],
    fingerprint: dict[str, Any],
    settings: dict[str, Any],
) -> list[dict[str, Any]]:
    """The entries that record a decision in ``summary.json`` (appended by the catalog).

    Nothing in MLflow changes here: :func:`publish_decision` follows once they are saved.

    Args:
        registered: The challenger's identity.
        decision: Output of :func:`decide_promotion`.
        metrics: The challenger's test metrics.
        fingerprint: The data it saw.
        settings: ``params:registry`` (``env``).

    Returns:
        The model entry (``is_champion`` when promoted), then the decision entry.
    """
    spec = model_spec(registered["model_type"])
    stamp = now()
    common = {
        "model_type": spec.summary_type,
        "env": settings["env"],
        "test_mode": bool(fingerprint.get("test_mode")),
    }
    model_entry = {
        "timestamp": stamp,
        "entry_type": "model",
        **common,
        "run_id": registered["run_id"],
        "model_uri": registered["model_uri"],
        "artifact_location": registered["artifact_location"],
        "registered_model": registered["registered_model"],
        "version": registered["version"],
        **_headline(metrics, spec.kind),
        "metrics": {k: v for k, v in metrics.items() if not np.isnan(v)},
        "data_fingerprint": fingerprint,
        "code_version": registered["code_version"],
        "is_champion": decision["outcome"] == "promoted",
    }
    decision_entry = {
        "timestamp": stamp,
        "entry_type": "decision",
        **common,
        "registered_model": registered["registered_model"],
        "version": registered["version"],
        **decision,
    }
    return [model_entry, decision_entry]


def _tag_decision(mlflow_client: Any, decision: dict[str, Any]) -> None:
    """Tag the challenger with its decision and the champion it was compared with."""
    name, version = decision["registered_model"], decision["version"]
    champion_score = decision.get("champion_score")
    tags = {
        "decision": decision["outcome"],
        "decision_metric": decision["metric"],
        "challenger_score": f"{decision['challenger_score']:.6g}",
        "champion_score": str(champion_score),
        "min_improvement": str(decision["min_improvement"]),
    }
    for key, value in tags.items():
        mlflow_client.set_model_version_tag(name, str(version), key, value)
    if decision.get("champion_version") is not None:
        against = "cannot serve" if champion_score is None else f"{champion_score:.4g}"
        mlflow_client.set_model_version_tag(
            name,
            str(decision["champion_version"]),
            f"challenged_by_v{version}",
            f"{decision['outcome']} ({decision['challenger_score']:.4g} vs {against})",
        )


def publish_decision(
    history: list[dict], registered: dict[str, Any], settings: dict[str, Any]
) -> None:
    """Side effect: MLflow's ``champion`` alias and tags follow what summary.json recorded.

    Runs after :func:`record_decision`'s entries are appended: ``history`` is
    ``summary.json`` read back after that append, so the alias goes to the champion it
    names (this run's challenger when promoted, or whoever a concurrent run promoted).

    Args:
        history: ``summary.json`` after the append.
        registered: The challenger's identity.
        settings: ``params:registry`` (``env``).
    """
    mlflow_client = client()
    model_type = registered["model_type"]
    for fix in sync_type(mlflow_client, model_type, history, settings["env"]):
        logger.info("Published: %s", fix)
    decisions = [
        e
        for e in history
        if e.get("entry_type") == "decision"
        and e.get("registered_model") == registered["registered_model"]
        and e.get("version") == registered["version"]
    ]
    if decisions:
        _tag_decision(mlflow_client, decisions[-1])


def rescore_champions(
    test: pd.DataFrame,
    history: list[dict],
    settings: dict[str, Any],
    run: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Re-score every champion on today's test set and decide on pending challengers.

    A challenger is pending when it carries the ``challenger`` alias but
    ``summary.json`` holds no decision for it (its run stopped before recording one).
    Its decision is recorded with a ``model`` entry of its own (metrics: today's
    re-score), so that summary.json alone says which version is champion; MLflow's
    aliases follow in :func:`publish_champions`.

    Args:
        test: ``test_baseline``.
        history: ``summary.json``.
        settings: ``params:registry`` (``env``, ``min_improvement``, ``models``).
        run: ``params:run``: hours flagged as a counter being down are left out of the
            scores, as in every model run (``exclude_outages``).

    Returns:
        Entries to append: one ``rescore`` per champion (``cannot_serve`` for a champion
        of an older layout), then a ``model`` and a ``decision`` per pending challenger.

    Raises:
        Exception: When a champion cannot be loaded for any other reason (the store
            unreachable, files missing): re-scoring it is not skipped silently.
    """
    entries: list[dict[str, Any]] = []
    env = settings["env"]
    test = without_outages(test, run or {})
    mlflow_client = client()
    for model_type, rule_spec in settings["models"].items():
        info = model_spec(model_type)
        common = {"model_type": info.summary_type, "env": env}
        champion, champion_scores = None, None
        try:
            champion = load_model(model_type, CHAMPION, history=history, env=env)
        except NoChampionError as exc:
            logger.info("No champion to re-score for %s: %s", model_type, exc)
        except OldLayoutError as exc:
            entry = current_champion(history, model_type, env)
            entries.append(
                {
                    "timestamp": now(),
                    "entry_type": "rescore",
                    **common,
                    "registered_model": info.registered_name,
                    "version": entry["version"] if entry else None,
                    "cannot_serve": str(exc),
                }
            )
        if champion is not None:
            champion_scores = champion.score(test)
            entries.append(
                {
                    "timestamp": now(),
                    "entry_type": "rescore",
                    **common,
                    "registered_model": info.registered_name,
                    "version": champion.version,
                    "source": champion.source,
                    "metrics": champion_scores,
                    "test_rows": len(test),
                }
            )
        entries += _settle_pending(
            mlflow_client, model_type, rule_spec, history, settings, test, champion, champion_scores
        )
    return entries


def _settle_pending(
    mlflow_client: Any,
    model_type: str,
    rule_spec: dict[str, Any],
    history: list[dict],
    settings: dict[str, Any],
    test: pd.DataFrame,
    champion: Any,
    champion_scores: dict[str, float] | None,
) -> list[dict[str, Any]]:
    """The ``model`` and ``decision`` entries of a type's pending challenger (or none)."""
    info = model_spec(model_type)
    env = settings["env"]
    version = alias_version(mlflow_client, info.registered_name, CHALLENGER)
    decided = {
        e.get("version")
        for e in history
        if e.get("entry_type") == "decision" and e.get("registered_model") == info.registered_name
    }
    if (
        version is None
        or version in decided
        or version == getattr(champion, "version", None)
        or version in archived_versions(history, model_type, env)
    ):
        return []
    found = mlflow_client.get_model_version(info.registered_name, str(version))
    if (found.tags or {}).get("env") != env:
        return []
    pending = load_model(model_type, version)
    test_mode = found.tags.get("test_mode") == "true"
    scores = pending.score(test)
    decision = decide(scores, champion_scores, rule_for(rule_spec, settings), test_mode)
    decision.update(challenger_version=version, champion_version=getattr(champion, "version", None))
    logged = mlflow_client.get_logged_model(found.model_id) if found.model_id else None
    registered = {
        "model_type": info.model_type,
        "registered_model": info.registered_name,
        "version": version,
        "run_id": found.run_id,
        "model_uri": found.source,
        "artifact_location": storage_location(
            logged.artifact_location if logged else found.source,
            settings.get("artifacts_destination"),
        ),
        "code_version": found.tags.get("code_version", "unknown"),
    }
    fingerprint = {
        "hash": found.tags.get("data_fingerprint", "unknown"),
        "test_mode": test_mode,
    }
    model_entry, decision_entry = record_decision(
        registered, decision, scores, fingerprint, settings
    )
    decision_entry["pending"] = True
    logger.info("Pending %s v%s: %s", model_type, version, decision["outcome"])
    return [model_entry, decision_entry]


def publish_champions(history: list[dict], settings: dict[str, Any]) -> None:
    """Side effect: every type's ``champion`` alias and pending decisions' tags follow summary.json.

    Args:
        history: ``summary.json`` after :func:`rescore_champions`' entries were appended.
        settings: ``params:registry`` (``env``, ``models``).
    """
    mlflow_client = client()
    for model_type in settings["models"]:
        for fix in sync_type(mlflow_client, model_type, history, settings["env"]):
            logger.info("Published: %s", fix)
    for entry in history:
        if (
            entry.get("entry_type") == "decision"
            and entry.get("pending")
            and entry.get("env") == settings["env"]
        ):
            _tag_decision(mlflow_client, entry)
