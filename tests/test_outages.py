"""Outage detection: runs of implausible zeros and frozen values, flagged with a reason."""

from __future__ import annotations

import numpy as np
import pandas as pd

from bike_traffic.models.evaluation import select_model_data
from bike_traffic.outages import (
    detect_outages,
    outage_periods,
    outage_summary,
    precision_recall,
)

PARAMS = {"min_expected_bikes": 20, "min_hours": 2, "flat_hours": 6}


def _counts(values: dict[str, list[float]], start: str = "2024-03-04") -> pd.DataFrame:
    """Hourly counts of counters from ``start`` (Paris time), one list per counter."""
    frames = []
    for name, counts in values.items():
        stamps = pd.date_range(start, periods=len(counts), freq="h", tz="Europe/Paris")
        frames.append(
            pd.DataFrame(
                {
                    "nom_du_compteur": name,
                    "date_et_heure_de_comptage": stamps,
                    "comptage_horaire": np.asarray(counts, dtype=float),
                    "hour": stamps.hour,
                    "is_weekend": stamps.dayofweek >= 5,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _day(busy: float) -> list[float]:
    """A day's profile: quiet nights (zeros at 1-4h), ``busy`` bikes an hour by day."""
    return [0.0 if 1 <= h <= 4 else busy + (h % 3) for h in range(24)]


def test_a_day_of_zeros_at_a_busy_counter_is_flagged_and_a_quiet_night_is_not():
    days = [_day(50.0) for _ in range(14)]
    days[9] = [0.0] * 24  # the counter is down for a day
    counts = _counts({"Busy N-S": sum(days, [])})
    flags = detect_outages(counts, PARAMS)
    down = flags["outage"].to_numpy()
    assert down[9 * 24 : 10 * 24].all()
    # its night zeros join the run; other nights' zeros are normal
    assert not down[: 9 * 24 - 4].any() and not down[10 * 24 + 5 :].any()
    assert set(flags.loc[flags["outage"], "outage_reason"]) == {"stuck_at_zero"}
    summary = outage_summary(flags, counts)
    assert summary["by_counter"] == {"Busy N-S": int(down.sum())}
    [period] = outage_periods(counts.join(flags)).to_dict("records")
    assert (period["counter"], period["reason"], period["hours"]) == (
        "Busy N-S",
        "stuck_at_zero",
        int(down.sum()),
    )
    assert period["first"] == counts["date_et_heure_de_comptage"][down].min()
    assert summary["by_reason"]["stuck_at_zero"] == summary["hours_flagged"]


def test_a_quiet_counter_reading_zero_for_a_few_hours_is_not_flagged():
    quiet = sum([_day(1.0) for _ in range(14)], [])
    quiet[10 * 24 + 9 : 10 * 24 + 13] = [0.0] * 4  # 4 hours that usually see ~2 bikes each
    assert not detect_outages(_counts({"Quiet E-O": quiet}), PARAMS)["outage"].any()


def test_a_frozen_value_is_a_flat_line():
    values = sum([_day(50.0) for _ in range(7)], [])
    values[30:38] = [17.0] * 8
    flags = detect_outages(_counts({"Frozen": values}), PARAMS)
    assert flags["outage"].to_numpy().nonzero()[0].tolist() == list(range(30, 38))
    assert set(flags.loc[flags["outage"], "outage_reason"]) == {"flat_line"}


def test_a_missing_hour_breaks_a_run_and_rows_keep_their_order():
    values = sum([_day(50.0) for _ in range(7)], [])
    counts = _counts({"A": values, "B": values}).sample(frac=1.0, random_state=1)
    flags = detect_outages(counts, PARAMS)
    assert flags.index.equals(counts.index) and not flags["outage"].any()


def test_flagged_hours_are_left_out_of_training_and_metrics_unless_asked():
    counts = _counts({"Busy N-S": sum([_day(50.0) for _ in range(3)], [])})
    counts["outage"] = counts.index % 10 == 0
    train, test = select_model_data(counts, counts, {"exclude_outages": True})
    assert len(train) == len(test) == int((~counts["outage"]).sum())
    kept, _ = select_model_data(counts, counts, {"exclude_outages": False})
    assert len(kept) == len(counts)


def test_precision_and_recall_on_hours():
    flagged = np.array([1, 1, 0, 0, 1], bool)
    truth = np.array([1, 0, 1, 0, 1], bool)
    assert precision_recall(flagged, truth) == (2 / 3, 2 / 3)


def test_a_counter_down_at_the_end_of_the_data_is_named_with_since_when():
    working = sum([_day(50.0) for _ in range(10)], [])  # Monday 4 to Wednesday 13 March
    broken = working[: 8 * 24] + [0.0] * (2 * 24)  # down for its last two days
    counts = _counts({"Broken N-S": broken, "Working S-N": working})
    flags = detect_outages(counts, PARAMS)
    down = outage_summary(flags, counts)["down_at_end"]
    assert list(down) == ["Broken N-S"]
    assert down["Broken N-S"] == {"since": "2024-03-12T00:00:00+01:00", "reason": "stuck_at_zero"}


#: Four weeks without a clock change (the day lists are by hour of the day).
NO_CLOCK_CHANGE = "2024-04-08"

SHIFT = {
    "low": 0.55,
    "high": 1.7,
    "min_days": 2,
    "max_days": 45,
    "min_daily_bikes": 200,
    "min_hours_per_day": 20,
    "merge_gap_days": 7,
}
WITH_SHIFTS = {**PARAMS, "level_shift": SHIFT}


def _rising_day(busy: float) -> list[float]:
    """A day whose counts rise through the day (never flat): zeros at 1-4h."""
    return [0.0 if 1 <= h <= 4 else round(busy * (0.6 + 0.05 * h)) for h in range(24)]


def _network(days: int, busy: float = 60.0) -> dict[str, list[list[float]]]:
    """Five counters with the same daily profile, a little apart in level."""
    return {f"C{i} N-S": [_rising_day(busy + 7 * i) for _ in range(days)] for i in range(5)}


def test_a_counter_counting_a_third_of_its_day_for_days_is_a_level_shift():
    network = _network(40)
    for d in range(10, 15):  # a lane lost for five days, then repaired
        network["C2 N-S"][d] = [round(v / 3) for v in network["C2 N-S"][d]]
    for d in range(20, 24):  # double counting for four days
        network["C4 N-S"][d] = [2 * v for v in network["C4 N-S"][d]]
    counts = _counts({name: sum(days, []) for name, days in network.items()}, NO_CLOCK_CHANGE)
    flags = detect_outages(counts, WITH_SHIFTS)
    shifted = counts.join(flags).loc[lambda f: f["outage_reason"] == "level_shift"]
    days = shifted.groupby("nom_du_compteur")["date_et_heure_de_comptage"].agg(
        lambda s: sorted({t.day for t in s})
    )
    assert days.to_dict() == {"C2 N-S": [18, 19, 20, 21, 22], "C4 N-S": [1, 28, 29, 30]}
    # a shift that comes back after four days of normal level, then lasts to the data's
    # end, is one episode still running: a change of the street, not flagged
    for d in range(30, 40):
        if d not in (33, 34, 35, 36):
            network["C1 N-S"][d] = [round(v / 3) for v in network["C1 N-S"][d]]
    counts = _counts({name: sum(days, []) for name, days in network.items()}, NO_CLOCK_CHANGE)
    flags = counts.join(detect_outages(counts, WITH_SHIFTS))
    assert "C1 N-S" not in set(flags.loc[flags["outage"], "nom_du_compteur"])
    # without the rule, nothing of it is flagged
    assert not detect_outages(counts, PARAMS)["outage"].any()


def test_every_counter_down_together_is_traffic_not_a_fault_and_a_lasting_shift_is_kept():
    network = _network(28)
    for name in network:  # a lockdown: every counter at a third
        for d in range(10, 18):
            network[name][d] = [round(v / 3) for v in network[name][d]]
    for d in range(22, 28):  # a new lane: one counter doubles until the data's end
        network["C1 N-S"][d] = [2 * v for v in network["C1 N-S"][d]]
    counts = _counts({name: sum(days, []) for name, days in network.items()}, NO_CLOCK_CHANGE)
    flags = detect_outages(counts, WITH_SHIFTS)
    assert not flags["outage"].any(), flags["outage_reason"].value_counts()


def test_a_counter_reading_another_ones_counts_is_a_duplicate_and_renames_are_reported():
    network = _network(6)
    network["C9 bis N-S"] = network["C3 N-S"]  # one sensor under two names
    counts = _counts({name: sum(days, []) for name, days in network.items()}, NO_CLOCK_CHANGE)
    params = {**PARAMS, "duplicate": {"min_hours": 48, "min_share": 0.9}}
    flags = counts.join(detect_outages(counts, params))
    duplicated = flags.loc[flags["outage_reason"] == "duplicate_counter", "nom_du_compteur"]
    assert set(duplicated) == {"C9 bis N-S"}  # the later name; C3's hours stay
    assert len(duplicated) == 6 * 24

    # one identifier under an old name, then a new one: reported, not flagged
    counts["identifiant_du_compteur"] = counts["nom_du_compteur"]
    later = counts["date_et_heure_de_comptage"] >= pd.Timestamp("2024-04-11", tz="Europe/Paris")
    renamed = later & (counts["nom_du_compteur"] == "C0 N-S")
    counts.loc[renamed, "nom_du_compteur"] = "C0 renamed N-S"
    counts.loc[counts["nom_du_compteur"].str.startswith("C0"), "identifiant_du_compteur"] = "id0"
    summary = outage_summary(detect_outages(counts, PARAMS), counts)
    [found] = summary["renamed"]
    assert (found["id"], found["old"], found["new"]) == ("id0", "C0 N-S", "C0 renamed N-S")
    assert found["old_last"] < found["new_first"]
