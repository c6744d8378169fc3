"""The champion/challenger rule: the one place where promotion is decided."""

from __future__ import annotations

from typing import Any

import numpy as np


def rule_for(spec: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """The rule of one model type from the registry parameters.

    Args:
        spec: ``params:registry.models.<type>`` (``metric``, ``higher_is_better``, ``floor``).
        settings: ``params:registry`` (``min_improvement``).

    Returns:
        The ``rule`` argument of :func:`decide`.
    """
    return {
        "metric": spec["metric"],
        "higher_is_better": spec["higher_is_better"],
        "floor": spec["floor"],
        "min_improvement": settings["min_improvement"],
    }


def decide(
    challenger: dict[str, float],
    champion: dict[str, float] | None,
    rule: dict[str, Any],
    test_mode: bool,
) -> dict[str, Any]:
    """Decide whether a challenger becomes champion. The one place this rule lives.

    The challenger is promoted when it clears the absolute floor and is better
    than the champion by at least ``min_improvement`` (relative, in the right
    direction for the metric); the first model of a type is promoted when it
    clears the floor. Test-mode models are never promoted.

    Args:
        challenger: The challenger's test metrics.
        champion: The champion's metrics re-scored on the same test set, or
            None when the type has no champion yet.
        rule: ``metric``, ``higher_is_better``, ``min_improvement`` (e.g. 0.05)
            and ``floor`` (``{"metric": ..., "min": ...}``).
        test_mode: Whether the challenger was trained in quick test mode.

    Returns:
        ``outcome`` (``promoted`` or ``kept``), ``reasons``, ``metric``, both
        scores, the relative ``improvement`` and the rule's thresholds.
    """
    metric, higher = rule["metric"], bool(rule["higher_is_better"])
    floor_metric, floor_min = rule["floor"]["metric"], float(rule["floor"]["min"])
    threshold = float(rule["min_improvement"])
    score = float(challenger[metric])
    floor_value = float(challenger[floor_metric])
    reasons: list[str] = []
    improvement = None
    if champion is not None:
        reference = float(champion[metric])
        gain = (score - reference) if higher else (reference - score)
        improvement = gain / abs(reference) if reference else (np.inf if gain > 0 else 0.0)
    if test_mode:
        reasons.append("test-mode models are never promoted")
    if floor_value < floor_min:
        reasons.append(f"{floor_metric} {floor_value:.4f} is below the floor {floor_min}")
    if champion is not None and improvement is not None and improvement < threshold:
        reasons.append(
            f"{metric} {score:.4f} vs champion {float(champion[metric]):.4f}: "
            f"{improvement:+.1%} is less than the required {threshold:.0%}"
        )
    promoted = not reasons
    if promoted:
        reasons.append(
            "first model of its type above the floor"
            if champion is None
            else f"{metric} better by {improvement:.1%} (>= {threshold:.0%})"
        )
    return {
        "outcome": "promoted" if promoted else "kept",
        "reasons": reasons,
        "metric": metric,
        "higher_is_better": higher,
        "challenger_score": score,
        "champion_score": None if champion is None else float(champion[metric]),
        "improvement": None if improvement is None else float(improvement),
        "min_improvement": threshold,
        "floor": {"metric": floor_metric, "min": floor_min, "value": floor_value},
    }
