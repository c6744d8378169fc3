"""Nodes of ``retrain``: the challenger's training rows, and the nn champion to fine-tune.

Everything else a challenger needs is the model pipelines' own nodes (train,
package, judge) and the registration composed after it in ``pipeline_registry.py``
(register, re-score the champion, decide with :func:`bike_traffic.registry.rule.decide`,
record): ``retrain`` only chooses the rows and, for ``nn``, where training starts.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from bike_traffic.models.nn import fit as train_nn
from bike_traffic.models.nn import fit_preprocessor
from bike_traffic.raw_format import COUNTER, TIMESTAMP
from bike_traffic.registry import CHAMPION, RegistryError
from bike_traffic.registry.loading import load_model

logger = logging.getLogger(__name__)

_KEYS = [COUNTER, TIMESTAMP]


def build_training_rows(
    train: pd.DataFrame, window: pd.DataFrame, test: pd.DataFrame, data: dict[str, Any]
) -> pd.DataFrame:
    """The challenger's training rows: recent history of train_baseline + the recent window.

    Rows of the window that are also in ``test_baseline`` are left out: the
    challenger is judged on that fixed test set, which it must not have seen.

    Args:
        train: ``train_baseline``.
        window: The recent window (``monitoring.nodes.select_window``).
        test: ``test_baseline``.
        data: ``params:retrain.data`` (``history_days``: the last days of
            train_baseline to keep; null keeps all of it).

    Returns:
        The rows, one per counter and hour (the window's wins), in time order.

    Raises:
        ValueError: When no training row is left.
    """
    history = train
    days = data.get("history_days")
    if days:
        cutoff = train[TIMESTAMP].max() - pd.Timedelta(days=float(days))
        history = train.loc[train[TIMESTAMP] > cutoff]
    seen_in_test = pd.MultiIndex.from_frame(window[_KEYS]).isin(
        pd.MultiIndex.from_frame(test[_KEYS])
    )
    fresh = window.loc[~seen_in_test]
    if seen_in_test.any():
        logger.warning(
            "%d of the window's %d rows are in test_baseline and are not trained on%s",
            int(seen_in_test.sum()),
            len(window),
            " (the whole window lies in the test period)" if fresh.empty else "",
        )
    rows = (
        pd.concat([history, fresh], ignore_index=True)
        .drop_duplicates(_KEYS, keep="last")
        .sort_values(TIMESTAMP, kind="stable")
        .reset_index(drop=True)
    )
    if rows.empty:
        raise ValueError("retrain: no training row left (history_days too small?)")
    logger.info(
        "Challenger rows: %d from train_baseline (%s), %d from the recent window, %s to %s",
        len(history),
        f"last {days} days" if days else "all",
        len(fresh),
        rows[TIMESTAMP].min(),
        rows[TIMESTAMP].max(),
    )
    return rows


def load_nn_champion(history: list[dict], settings: dict[str, Any]) -> dict[str, Any]:
    """Reads the registry: the nn champion and its preprocessing, to fine-tune from.

    Args:
        history: ``summary.json`` (the fallback when the registry is unreachable).
        settings: ``params:registry`` (``env``).

    Returns:
        ``{"model", "preprocessor", "version"}``; empty when nn has no champion.
    """
    try:
        champion = load_model("nn", CHAMPION, history=history, env=settings["env"])
    except RegistryError as exc:
        logger.warning("No nn champion to fine-tune (%s): the challenger starts afresh", exc)
        return {}
    logger.info("Fine-tuning starts from the nn champion v%s", champion.version)
    return {
        "model": champion.predictor.estimator,
        "preprocessor": champion.predictor.extras["preprocessor"],
        "version": champion.version,
    }


def champion_preprocessor(
    champion: dict[str, Any], train: pd.DataFrame, features: dict[str, Any], target: str
) -> dict[str, Any]:
    """The champion's preprocessing (its weights expect it), or a new one without champion.

    Counters the champion never saw share its out-of-vocabulary slot until the
    next full training (``kedro run --pipelines nn``).

    Args:
        champion: Output of :func:`load_nn_champion`.
        train: The challenger's training rows.
        features: ``params:nn.features``.
        target: ``params:nn.target`` (a new preprocessing's; the champion keeps its own).

    Returns:
        The preprocessing the challenger is trained and served with.
    """
    if not champion:
        return fit_preprocessor(train, features, target)
    preprocessor = champion["preprocessor"]
    known = set(preprocessor["vocabulary"])
    unseen = sorted(set(train[preprocessor["counter_column"]].astype(str)) - known)
    if unseen:
        logger.warning(
            "%d counter(s) unknown to the champion share its out-of-vocabulary slot: %s",
            len(unseen),
            ", ".join(unseen[:5]) + (" ..." if len(unseen) > 5 else ""),
        )
    return preprocessor


def fine_tune_nn(
    champion: dict[str, Any],
    train: pd.DataFrame,
    preprocessor: dict[str, Any],
    params: dict[str, Any],
    fine_tune: dict[str, Any],
    seed: int,
) -> tuple[Any, dict[str, list[float]]]:
    """Go on training the champion's network with a lower learning rate (or train afresh).

    Args:
        champion: Output of :func:`load_nn_champion` (empty: no champion).
        train: The challenger's training rows.
        preprocessor: Output of :func:`champion_preprocessor`.
        params: ``params:nn.model``.
        fine_tune: ``params:retrain.nn`` (``learning_rate``; ``epochs``, null:
            ``nn.model.epochs``).
        seed: ``params:run.seed``.

    Returns:
        The network and its training history, as ``nn``'s ``train_model``.
    """
    if not champion:
        return train_nn(train, preprocessor, params, seed)
    tuned = {
        **params,
        "learning_rate": float(fine_tune["learning_rate"]),
        "epochs": int(fine_tune.get("epochs") or params["epochs"]),
    }
    logger.info(
        "Fine-tuning nn v%s: learning rate %g (training: %g), up to %d epochs",
        champion["version"],
        tuned["learning_rate"],
        float(params["learning_rate"]),
        tuned["epochs"],
    )
    return train_nn(train, preprocessor, tuned, seed, initial_model=champion["model"])
