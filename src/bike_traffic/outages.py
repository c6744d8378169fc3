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
* ``level_shift``: days on which a counter counts a fraction (a lane lost) or a multiple
  (double counting) of its usual day, *relative to the other counters that day* (so that a
  lockdown, a strike or a rainy day, which move every counter, are not faults): the day's
  ratio of observed to usual bikes, divided by the median ratio over counters, below
  ``level_shift.low`` or above ``level_shift.high``, on at least ``min_days`` days of an
  episode of at most ``max_days`` days (off days at most ``merge_gap_days`` apart are one
  episode), on days the counter usually sees ``min_daily_bikes``; and the counter back to
  its level for more than ``merge_gap_days`` days afterwards (a shift still running at the
  data's end, or longer than ``max_days``, may be a real change of the street: not
  flagged).
* ``duplicate_counter``: the hours a counter reads exactly the counts of another counter
  (the same sensor under two names), when they agree on at least ``duplicate.min_share``
  of at least ``duplicate.min_hours`` common non-zero hours; the alphabetically later name's
  hours are flagged, so that each bike is counted once.

Runs are broken by a missing hour. :func:`renamed_counters` lists counters that look
renamed (one identifier, two names, one after the other): they are not flagged (their
hours are real) but reported, to be mapped to one name (``counter_names``,
docs/history.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from bike_traffic.raw_format import COUNT, COUNTER, COUNTER_ID, TIMESTAMP

OUTAGE = "outage"
OUTAGE_REASON = "outage_reason"
#: The rules, in the order they win.
RULES: tuple[str, ...] = ("stuck_at_zero", "flat_line", "duplicate_counter", "level_shift")


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

    if params.get("duplicate"):
        duplicate = _duplicate_hours(frame, params["duplicate"])
        reason[duplicate & reason.isna()] = "duplicate_counter"
    if params.get("level_shift"):
        shifted = _level_shift_hours(frame, usual, reason.notna(), params["level_shift"])
        reason[shifted & reason.isna()] = "level_shift"

    result = pd.DataFrame({OUTAGE: reason.notna(), OUTAGE_REASON: reason}, index=frame.index)
    return result.reindex(counts.index)


def _level_shift_hours(
    frame: pd.DataFrame, usual: pd.Series, flagged: pd.Series, params: dict[str, Any]
) -> pd.Series:
    """Hours of the days a counter's level is off, relative to every counter that day.

    ``frame`` is sorted by counter and time; ``usual`` is each hour's usual count;
    ``flagged`` the hours other rules already flagged (left out of the day's totals).
    """
    day = frame[TIMESTAMP].dt.tz_localize(None).dt.normalize()  # the local (Paris) day
    counted = frame[COUNT].astype("float64").where(~flagged)
    daily = (
        pd.DataFrame({COUNTER: frame[COUNTER].astype(str), "day": day, "observed": counted})
        .assign(usual=usual.where(~flagged), hours=(~flagged).astype(int))
        .groupby([COUNTER, "day"], sort=True)[["observed", "usual", "hours"]]
        .sum()
        .reset_index()
    )
    complete = (daily["hours"] >= int(params.get("min_hours_per_day", 20))) & (
        daily["usual"] >= float(params["min_daily_bikes"])
    )
    daily["ratio"] = (daily["observed"] / daily["usual"]).where(complete)
    network = daily.groupby("day")["ratio"].transform("median")
    relative = daily["ratio"] / network
    off = (relative < float(params["low"])) | (relative > float(params["high"]))
    bad_days = _shift_episodes(daily.assign(off=off), params)
    if not bad_days:
        return pd.Series(False, index=frame.index)
    keys = pd.MultiIndex.from_arrays([frame[COUNTER].astype(str), day])
    return pd.Series(keys.isin(list(bad_days)), index=frame.index)


def _shift_episodes(daily: pd.DataFrame, params: dict[str, Any]) -> set[tuple[str, Any]]:
    """The (counter, day) pairs of the level-shift episodes that are faults.

    A counter's off days separated by at most ``merge_gap_days`` days of normal level are
    one episode (a fault does not always show every day); an episode is a fault when it
    has ``min_days`` off days, spans at most ``max_days`` days, and the counter is judged
    normal for more than ``merge_gap_days`` days after it (back to its level). Every day of
    a fault episode is flagged.
    """
    merge = int(params.get("merge_gap_days", 7))
    found: set[tuple[str, Any]] = set()
    for name, rows in daily.groupby(COUNTER, sort=False):
        judged = rows.loc[rows["ratio"].notna(), "day"]
        off_days = rows.loc[rows["off"].fillna(False).astype(bool), "day"].sort_values()
        if judged.empty or off_days.empty:
            continue
        episodes: list[list[Any]] = []
        for day in off_days:
            if episodes and (day - episodes[-1][1]).days <= merge + 1:
                episodes[-1][1] = day
            else:
                episodes.append([day, day])
        for first, last in episodes:
            span = (last - first).days + 1
            n_off = int(((off_days >= first) & (off_days <= last)).sum())
            recovered = (judged.max() - last).days > merge
            if n_off >= int(params["min_days"]) and span <= int(params["max_days"]) and recovered:
                found |= {(str(name), first + pd.Timedelta(days=k)) for k in range(span)}
    return found


def _duplicate_hours(frame: pd.DataFrame, params: dict[str, Any]) -> pd.Series:
    """Hours a counter reads exactly another counter's counts (see the module)."""
    wide = frame.pivot_table(
        index=TIMESTAMP, columns=COUNTER, values=COUNT, aggfunc="first", observed=True
    )
    names = sorted(str(c) for c in wide.columns)
    wide.columns = [str(c) for c in wide.columns]
    values = wide[names].to_numpy(dtype="float64")
    nonzero = np.nan_to_num(values) > 0
    duplicated = np.zeros_like(nonzero)
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            common = nonzero[:, i] & nonzero[:, j]
            n = int(common.sum())
            if n < int(params["min_hours"]):
                continue
            equal = common & (values[:, i] == values[:, j])
            if equal.sum() >= float(params["min_share"]) * n:
                duplicated[:, j] |= values[:, i] == values[:, j]
    if not duplicated.any():
        return pd.Series(False, index=frame.index)
    marked = pd.DataFrame(duplicated, index=wide.index, columns=names).stack()
    marked = marked[marked]
    keys = pd.MultiIndex.from_arrays([frame[TIMESTAMP], frame[COUNTER].astype(str)])
    return pd.Series(keys.isin(marked.index), index=frame.index)


def renamed_counters(counts: pd.DataFrame) -> list[dict[str, str]]:
    """Counters that look renamed: one identifier under two names, one after the other.

    Args:
        counts: Rows with ``identifiant_du_compteur``, ``nom_du_compteur`` and the time.

    Returns:
        ``[{"id", "old", "new", "old_last", "new_first"}]``: the older name's last hour
        is before the newer name's first.
    """
    if COUNTER_ID not in counts.columns:
        return []
    known = counts.loc[counts[COUNTER_ID].notna(), [COUNTER_ID, COUNTER, TIMESTAMP]]
    spans = known.groupby([COUNTER_ID, COUNTER], observed=True)[TIMESTAMP].agg(["min", "max"])
    found = []
    for ident, names in spans.groupby(level=0):
        ordered = names.droplevel(0).sort_values("min")
        for (old, a), (new, b) in zip(
            ordered.iloc[:-1].iterrows(), ordered.iloc[1:].iterrows(), strict=True
        ):
            if a["max"] < b["min"]:
                found.append(
                    {
                        "id": str(ident),
                        "old": str(old),
                        "new": str(new),
                        "old_last": a["max"].isoformat(),
                        "new_first": b["min"].isoformat(),
                    }
                )
    return found


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
        "renamed": renamed_counters(counts),
    }


def precision_recall(flagged: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Precision and recall of flagged hours against known outage hours."""
    flagged, truth = np.asarray(flagged, bool), np.asarray(truth, bool)
    hits = float((flagged & truth).sum())
    precision = hits / flagged.sum() if flagged.any() else float("nan")
    recall = hits / truth.sum() if truth.any() else float("nan")
    return precision, recall
