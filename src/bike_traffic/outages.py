"""Counters that are down: hours flagged, with the reason, never deleted.

Real counters die for weeks and read zeros (``20 Avenue de Clichy`` for much of April to
July 2021), or freeze on one value. Trained on as traffic, such hours teach a model that
bikes vanish; judged on, they blame it for not foreseeing a broken sensor. Each rule
flags hours; the rows stay in the data with ``outage`` (True) and ``outage_reason``:

* ``stuck_at_zero``: a run of consecutive zero hours of a counter in which the counter
  usually sees at least ``min_expected_bikes`` bikes in all (the mean of its hour and
  day type, learnt on all its hours), and at least ``min_hours`` long. A quiet night
  reads zero; a whole day does not.
* ``flat_line``: the same non-zero count for at least ``flat_hours`` hours in a row.

Runs are broken by a missing hour. Level shifts and renamed or double-counted counters
are not detected here (docs/outages.md says why and what is measured).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from bike_traffic.raw_format import COUNT, COUNTER, TIMESTAMP

OUTAGE = "outage"
OUTAGE_REASON = "outage_reason"
#: The rules, in the order they win.
RULES: tuple[str, ...] = ("stuck_at_zero", "flat_line")


def _runs(frame: pd.DataFrame, same: pd.Series) -> pd.Series:
    """An id per run of consecutive hours (per counter) over which ``same`` holds.

    ``frame`` is sorted by counter then time; a new run starts at a new counter, at a
    gap of more than one hour, or where ``same`` stops holding.
    """
    counter = frame[COUNTER].astype(str)
    stamps = frame[TIMESTAMP]
    gap = stamps.diff() != pd.Timedelta(hours=1)
    new_counter = counter != counter.shift()
    broken = ~same | ~same.shift(fill_value=False) | gap | new_counter
    return broken.cumsum()


def detect_outages(counts: pd.DataFrame, params: dict[str, Any]) -> pd.DataFrame:
    """Flag the hours a counter was down, with the reason.

    Args:
        counts: Valid rows with ``nom_du_compteur``, ``date_et_heure_de_comptage``
            (tz-aware), ``comptage_horaire``, ``hour`` and ``is_weekend``.
        params: ``min_expected_bikes``, ``min_hours``, ``flat_hours``
            (``params:data_cleaning.outages``).

    Returns:
        ``outage`` (bool) and ``outage_reason`` (a rule, or None), aligned with ``counts``.
    """
    order = counts.sort_values([COUNTER, TIMESTAMP], kind="stable").index
    frame = counts.loc[order, [COUNTER, TIMESTAMP, COUNT, "hour", "is_weekend"]]
    count = frame[COUNT].astype("float64")
    usual = frame.groupby([COUNTER, "hour", "is_weekend"], observed=True)[COUNT].transform("mean")

    reason = pd.Series(None, index=frame.index, dtype=object)
    zero = count == 0
    zero_run = _runs(frame, zero)
    grouped = usual.where(zero, 0.0).groupby(zero_run)
    expected, length = grouped.transform("sum"), zero.groupby(zero_run).transform("sum")
    stuck = (
        zero
        & (expected >= float(params["min_expected_bikes"]))
        & (length >= int(params["min_hours"]))
    )
    reason[stuck] = "stuck_at_zero"

    same_value = (count == count.shift()) & (count > 0)
    # a run of equal values starts one row before the first "same as previous"
    flat_run = _runs(frame, same_value | same_value.shift(-1, fill_value=False))
    flat_length = (count > 0).groupby(flat_run).transform("size")
    equal_in_run = count.groupby(flat_run).transform("nunique") == 1
    flat = (count > 0) & equal_in_run & (flat_length >= int(params["flat_hours"]))
    reason[flat & reason.isna()] = "flat_line"

    result = pd.DataFrame({OUTAGE: reason.notna(), OUTAGE_REASON: reason}, index=frame.index)
    return result.reindex(counts.index)


def outage_periods(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per run of consecutive flagged hours of a counter.

    Args:
        frame: Rows with ``nom_du_compteur``, ``date_et_heure_de_comptage``, ``outage``
            and ``outage_reason``.

    Returns:
        ``counter``, ``reason`` (the run's first), ``first`` and ``last`` hour, ``hours``.
    """
    ordered = frame.sort_values([COUNTER, TIMESTAMP], kind="stable")
    flagged = ordered[OUTAGE].fillna(False).astype(bool)
    down = ordered.loc[flagged].assign(run=_runs(ordered, flagged)[flagged])
    columns = ["counter", "reason", "first", "last", "hours"]
    if down.empty:
        return pd.DataFrame(columns=columns)
    periods = down.groupby("run").agg(
        counter=(COUNTER, "first"),
        reason=(OUTAGE_REASON, "first"),
        first=(TIMESTAMP, "min"),
        last=(TIMESTAMP, "max"),
        hours=(OUTAGE, "size"),
    )
    return periods[columns].reset_index(drop=True)


def down_at_end(flags: pd.DataFrame, counts: pd.DataFrame) -> dict[str, dict[str, str]]:
    """The counters whose last hour in the data is flagged: believed down now.

    Returns:
        ``{counter: {"since": first hour of that last outage (ISO 8601), "reason": rule}}``.
    """
    frame = counts[[COUNTER, TIMESTAMP]].join(flags)
    periods = outage_periods(frame)
    last_hour = frame.groupby(COUNTER, observed=True)[TIMESTAMP].max()
    ongoing = periods.loc[periods["last"].to_numpy() == periods["counter"].map(last_hour)]
    return {
        str(p.counter): {"since": pd.Timestamp(p.first).isoformat(), "reason": str(p.reason)}
        for p in ongoing.sort_values("counter").itertuples()
    }


def outage_summary(flags: pd.DataFrame, counts: pd.DataFrame) -> dict[str, Any]:
    """Hours flagged per rule and per counter, and the counters down at the data's end."""
    flagged = flags[OUTAGE].to_numpy()
    per_counter = counts.loc[flagged, COUNTER].astype(str).value_counts()
    return {
        "hours_flagged": int(flagged.sum()),
        "by_reason": {rule: int((flags[OUTAGE_REASON] == rule).sum()) for rule in RULES},
        "by_counter": {str(k): int(v) for k, v in per_counter.items()},
        "down_at_end": down_at_end(flags, counts),
    }


def precision_recall(flagged: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Precision and recall of flagged hours against known outage hours."""
    flagged, truth = np.asarray(flagged, bool), np.asarray(truth, bool)
    hits = float((flagged & truth).sum())
    precision = hits / flagged.sum() if flagged.any() else float("nan")
    recall = hits / truth.sum() if truth.any() else float("nan")
    return precision, recall
