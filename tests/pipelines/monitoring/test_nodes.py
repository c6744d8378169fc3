"""monitoring nodes: the window, SciPy drift scores, the decision rules, the report, the gate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bike_traffic.pipelines.monitoring import gate
from bike_traffic.pipelines.monitoring.nodes import (
    categorical_drift,
    decide,
    decision_metrics,
    drift_table,
    latest_drift_entry,
    numeric_drift,
    record_decision,
    render_report,
    select_window,
)

FEATURES = {
    "numeric": ["comptage_horaire", "hour", "day_of_week", "latitude", "longitude"],
    "categorical": ["nom_du_compteur", "is_weekend", "is_holiday"],
}
DRIFT = {
    "numeric": {"stat": "wasserstein", "threshold": 0.1},
    "categorical": {"stat": "jensenshannon", "threshold": 0.1},
}
RULES = {
    "retrain_r2_below": 0.45,
    "retrain_rmse_above": 90.0,
    "drift_retrain_share": 0.5,
    "drift_retrain_r2_below": 0.55,
    "alert_drift_share": 0.3,
}
WINDOW = {
    "mode": "last_days",
    "days": 7.0,
    "start": "2024-04-01T00:00:00+02:00",
    "end": "2024-04-07T23:00:00+02:00",
    "rows": 10,
    "counters": 2,
}


def shifted(frame: pd.DataFrame, factor: float, share: float = 1.0) -> pd.DataFrame:
    """The rows with the counts of a share of the counters multiplied by ``factor``."""
    counters = sorted(frame["nom_du_compteur"].unique())
    chosen = counters[: max(1, round(share * len(counters)))]
    hit = frame["nom_du_compteur"].isin(chosen)
    return frame.assign(
        comptage_horaire=np.where(
            hit, np.round(frame["comptage_horaire"] * factor), frame["comptage_horaire"]
        ).astype("int64")
    )


def champion(r2: float, rmse: float) -> dict:
    return {
        "model_type": "rf",
        "available": True,
        "version": 3,
        "source": "registry",
        "window": {"rmse": rmse, "mae": rmse / 2, "r2": r2},
        "test": {"rmse": 50.0, "mae": 25.0, "r2": 0.7},
        "rmse_ratio": rmse / 50.0,
    }


def table(drifted: int, total: int = 8) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "feature": [f"f{i}" for i in range(total)],
            "stat": "wasserstein",
            "score": [0.5] * drifted + [0.01] * (total - drifted),
            "threshold": 0.1,
            "drifted": [True] * drifted + [False] * (total - drifted),
        }
    )


# ---------------------------------------------------------------- window
def test_default_window_is_the_last_days_up_to_the_latest_row(small_clean):
    rows, info = select_window(small_clean, {"days": 7, "start": None, "end": None})
    latest = small_clean["date_et_heure_de_comptage"].max()
    assert rows["date_et_heure_de_comptage"].max() == latest
    assert rows["date_et_heure_de_comptage"].min() > latest - pd.Timedelta(days=7)
    assert info["mode"] == "last_days" and info["rows"] == len(rows) > 0
    assert info["counters"] == small_clean["nom_du_compteur"].nunique()


def test_explicit_window_keeps_both_local_dates(small_clean):
    rows, info = select_window(
        small_clean, {"days": 30, "start": "2024-03-20", "end": "2024-03-21"}
    )
    local_days = rows["date_et_heure_de_comptage"].dt.strftime("%Y-%m-%d").unique().tolist()
    assert local_days == ["2024-03-20", "2024-03-21"]
    assert info["mode"] == "explicit"


def test_empty_or_inverted_windows_fail_clearly(small_clean):
    with pytest.raises(ValueError, match="holds no row"):
        select_window(small_clean, {"days": 30, "start": "2030-01-01", "end": None})
    with pytest.raises(ValueError, match="before start"):
        select_window(small_clean, {"days": 30, "start": "2024-03-20", "end": "2024-03-19"})


# ---------------------------------------------------------------- drift scores
def test_numeric_drift_is_zero_on_the_same_sample_and_grows_with_a_shift():
    rng = np.random.default_rng(0)
    reference = pd.Series(rng.normal(100, 20, 5000))
    same = numeric_drift(reference, reference.sample(frac=0.3, random_state=1))
    moved = numeric_drift(reference, reference + 20)  # one standard deviation
    assert same["wasserstein"] < 0.05 and same["ks"] < 0.05
    assert moved["wasserstein"] == pytest.approx(1.0, abs=0.01)
    assert moved["ks"] > 0.3 and moved["ks_pvalue"] < 1e-6


def test_numeric_drift_of_a_constant_column_does_not_divide_by_zero():
    scores = numeric_drift(pd.Series([48.85] * 100), pd.Series([48.86] * 10))
    assert np.isfinite(scores["wasserstein"]) and scores["wasserstein"] > 1


def test_categorical_drift_scores_shares_and_new_categories():
    reference = pd.Series(["a"] * 50 + ["b"] * 50)
    assert categorical_drift(reference, reference)["jensenshannon"] == pytest.approx(0.0)
    disjoint = categorical_drift(reference, pd.Series(["c"] * 40))
    assert disjoint["jensenshannon"] == pytest.approx(1.0)
    assert disjoint["categories"] == 3 and disjoint["chi2_pvalue"] < 1e-6
    tilted = categorical_drift(reference, pd.Series(["a"] * 80 + ["b"] * 20))
    assert 0.1 < tilted["jensenshannon"] < 0.5 and tilted["psi"] > 0.1
    single = categorical_drift(pd.Series([True] * 10), pd.Series([True] * 5))
    assert single["chi2_pvalue"] == 1.0 and single["jensenshannon"] == pytest.approx(0.0)


def test_doubling_traffic_drifts_the_counts_only(small_split):
    train, test = small_split
    calm = drift_table(train, test, FEATURES, DRIFT)
    doubled = drift_table(train, shifted(test, 2.0), FEATURES, DRIFT)
    assert list(calm["feature"]) == FEATURES["numeric"] + FEATURES["categorical"]
    assert not calm.set_index("feature").loc["comptage_horaire", "drifted"]
    assert doubled.set_index("feature")["drifted"].to_dict() == {
        **calm.set_index("feature")["drifted"].to_dict(),
        "comptage_horaire": True,
    }
    assert {"ks", "ks_pvalue", "jensenshannon", "psi", "chi2_pvalue"} <= set(doubled.columns)


def test_the_deciding_statistic_and_threshold_are_parameters(small_split):
    train, test = small_split
    by_ks = drift_table(
        train, shifted(test, 2.0), FEATURES, {**DRIFT, "numeric": {"stat": "ks", "threshold": 0.9}}
    )
    row = by_ks.set_index("feature").loc["comptage_horaire"]
    assert row["stat"] == "ks" and row["score"] == row["ks"] and not row["drifted"]
    with pytest.raises(ValueError, match="must be one of"):
        drift_table(
            train, test, FEATURES, {**DRIFT, "numeric": {"stat": "pvalue", "threshold": 0.05}}
        )
    with pytest.raises(KeyError, match="temperature"):
        drift_table(train, test, {"numeric": ["temperature"]}, DRIFT)


# ---------------------------------------------------------------- decision
def test_a_healthy_champion_and_little_drift_say_ok():
    decision = decide(table(1), champion(r2=0.7, rmse=55.0), WINDOW, RULES)
    assert decision["decision"] == "ok"
    assert decision["drift_share"] == pytest.approx(1 / 8)
    assert any("R² 0.700" in r for r in decision["reasons"])


@pytest.mark.parametrize(
    ("r2", "rmse", "drifted", "expected", "reason"),
    [
        (0.40, 60.0, 0, "retrain", "R² 0.400 on the window < 0.45"),
        (0.70, 95.0, 0, "retrain", "RMSE 95.0 on the window > 90.0"),
        (0.50, 60.0, 4, "retrain", "drift share 0.50 >= 0.5"),
        (0.60, 60.0, 4, "alert", "drift share 0.50 >= 0.3"),
        (0.70, 60.0, 3, "alert", "drift share 0.38 >= 0.3"),
        (0.70, 60.0, 2, "ok", "drift share 0.25 < 0.3"),
    ],
)
def test_the_original_rules(r2, rmse, drifted, expected, reason):
    decision = decide(table(drifted), champion(r2, rmse), WINDOW, RULES)
    assert decision["decision"] == expected
    assert any(reason in r for r in decision["reasons"]), decision["reasons"]


def test_thresholds_change_the_decision():
    state = (table(3), champion(r2=0.5, rmse=80.0), WINDOW)
    assert decide(*state, RULES)["decision"] == "alert"
    assert decide(*state, {**RULES, "alert_drift_share": 0.5})["decision"] == "ok"
    assert decide(*state, {**RULES, "retrain_rmse_above": 75.0})["decision"] == "retrain"
    assert decide(*state, {**RULES, "retrain_r2_below": 0.6})["decision"] == "retrain"


def test_a_band_that_no_longer_covers_the_window_is_an_alert():
    healthy = champion(r2=0.7, rmse=55.0)
    broken = {**healthy, "window": {**healthy["window"], "interval_coverage": 0.55}}
    rules = {**RULES, "alert_interval_coverage_below": 0.7}
    decision = decide(table(1), broken, WINDOW, rules)
    assert decision["decision"] == "alert"
    assert any("interval covers 55%" in r for r in decision["reasons"]), decision["reasons"]
    held = {**healthy, "window": {**healthy["window"], "interval_coverage": 0.78}}
    assert decide(table(1), held, WINDOW, rules)["decision"] == "ok"
    # a champion without an interval (logged before them) is judged by the other rules
    assert decide(table(1), healthy, WINDOW, rules)["decision"] == "ok"


def test_without_a_champion_only_drift_decides():
    none = {"model_type": "rf", "available": False, "reason": "no champion yet"}
    assert decide(table(1), none, WINDOW, RULES)["decision"] == "ok"
    decision = decide(table(8), none, WINDOW, RULES)
    assert decision["decision"] == "alert"
    assert any("no champion of rf" in r for r in decision["reasons"])


def test_metrics_entry_and_latest_entry():
    decision = decide(table(3), champion(r2=0.4, rmse=95.0), WINDOW, RULES)
    metrics = decision_metrics(decision)
    assert metrics["retrain"] == 1.0 and metrics["champion_window_rmse"] == 95.0
    assert metrics["drift_share"] == pytest.approx(3 / 8)
    (entry,) = record_decision(decision, "<html></html>", {"env": "test"})
    assert entry["entry_type"] == "drift" and entry["env"] == "test"
    assert entry["decision"] == "retrain" and entry["reasons"] == decision["reasons"]
    assert entry["window"] == WINDOW and entry["champion"]["version"] == 3
    assert entry["report"] is None  # no MLflow run here: nothing logged
    history = [{"entry_type": "model", "env": "test"}, entry, {"entry_type": "decision"}]
    assert latest_drift_entry(history, "test") is entry
    assert latest_drift_entry(history, "prod") is None


def test_report_is_a_self_contained_page(small_split):
    train, test = small_split
    drift = drift_table(train, shifted(test, 2.0), FEATURES, DRIFT)
    decision = decide(drift, champion(r2=0.3, rmse=120.0), WINDOW, RULES)
    page = render_report(decision, drift, train, shifted(test, 2.0))
    assert page.startswith("<!DOCTYPE html>") and "retrain" in page
    assert "R² 0.300 on the window &lt; 0.45" in page  # reasons are escaped
    assert "comptage_horaire" in page and "data:image/png;base64," in page


def test_the_gate_exits_0_only_for_retrain():
    assert gate.exit_code({"decision": "retrain"}) == 0
    assert gate.exit_code({"decision": "alert"}) == gate.SKIP_EXIT_CODE == 99
    assert gate.exit_code({"decision": "ok"}) == 99
