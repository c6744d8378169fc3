"""The champion/challenger rule: the one place where promotion is decided."""

from __future__ import annotations

import pytest

from bike_traffic.registry.rule import decide, rule_for

REGRESSOR = {
    "metric": "rmse",
    "higher_is_better": False,
    "min_improvement": 0.05,
    "floor": {"metric": "r2", "min": 0.5},
}
CLASSIFIER = {
    "metric": "f1_score",
    "higher_is_better": True,
    "min_improvement": 0.05,
    "floor": {"metric": "accuracy", "min": 0.85},
}


def reg_metrics(rmse: float, r2: float = 0.8) -> dict[str, float]:
    return {"rmse": rmse, "r2": r2}


@pytest.mark.parametrize(
    ("challenger_rmse", "outcome"),
    [(94.0, "promoted"), (96.0, "kept"), (110.0, "kept"), (95.0, "promoted")],
)
def test_regressor_promoted_only_when_better_by_5_percent(challenger_rmse, outcome):
    decision = decide(reg_metrics(challenger_rmse), reg_metrics(100.0), REGRESSOR, False)
    assert decision["outcome"] == outcome
    assert decision["improvement"] == pytest.approx((100 - challenger_rmse) / 100)
    assert decision["champion_score"] == 100.0 and decision["min_improvement"] == 0.05
    assert decision["challenger_score"] == challenger_rmse
    assert decision["metric"] == "rmse" and decision["higher_is_better"] is False


@pytest.mark.parametrize(("f1", "outcome"), [(0.848, "promoted"), (0.832, "kept"), (0.7, "kept")])
def test_classifier_higher_f1_is_better(f1, outcome):
    champion = {"f1_score": 0.8, "accuracy": 0.9}
    assert (
        decide({"f1_score": f1, "accuracy": 0.9}, champion, CLASSIFIER, False)["outcome"] == outcome
    )


def test_test_mode_is_never_promoted_even_when_much_better():
    decision = decide(reg_metrics(10.0), reg_metrics(100.0), REGRESSOR, test_mode=True)
    assert decision["outcome"] == "kept"
    assert decision["reasons"] == ["test-mode models are never promoted"]


def test_first_model_becomes_champion_only_above_the_floor():
    first = decide(reg_metrics(50.0, r2=0.7), None, REGRESSOR, False)
    assert first["outcome"] == "promoted"
    assert first["reasons"] == ["first model of its type above the floor"]
    assert first["champion_score"] is None and first["improvement"] is None
    below = decide(reg_metrics(50.0, r2=0.3), None, REGRESSOR, False)
    assert below["outcome"] == "kept" and "floor" in below["reasons"][0]
    assert below["floor"] == {"metric": "r2", "min": 0.5, "value": 0.3}
    assert decide({"f1_score": 0.9, "accuracy": 0.84}, None, CLASSIFIER, False)["outcome"] == "kept"


def test_better_challenger_below_the_floor_is_kept():
    decision = decide(reg_metrics(50.0, r2=0.4), reg_metrics(100.0, 0.3), REGRESSOR, False)
    assert decision["outcome"] == "kept"
    assert decision["improvement"] == pytest.approx(0.5)
    assert [r.split()[0] for r in decision["reasons"]] == ["r2"]


def test_every_failing_reason_is_listed():
    decision = decide(reg_metrics(101.0, r2=0.1), reg_metrics(100.0), REGRESSOR, test_mode=True)
    assert decision["outcome"] == "kept"
    assert len(decision["reasons"]) == 3
    assert "test-mode" in decision["reasons"][0]
    assert "below the floor" in decision["reasons"][1]
    assert "less than the required 5%" in decision["reasons"][2]


def test_a_zero_champion_score_does_not_divide_by_zero():
    rule = {**CLASSIFIER, "floor": {"metric": "accuracy", "min": 0.0}}
    better = decide({"f1_score": 0.4, "accuracy": 0.9}, {"f1_score": 0.0}, rule, False)
    assert better["outcome"] == "promoted" and better["improvement"] == float("inf")
    same = decide({"f1_score": 0.0, "accuracy": 0.9}, {"f1_score": 0.0}, rule, False)
    assert same["outcome"] == "kept" and same["improvement"] == 0.0


def test_a_missing_metric_fails_loudly():
    with pytest.raises(KeyError, match="rmse"):
        decide({"r2": 0.9}, None, REGRESSOR, False)


def test_rule_for_takes_the_type_spec_and_the_shared_threshold():
    spec = {"metric": "rmse", "higher_is_better": False, "floor": {"metric": "r2", "min": 0.5}}
    settings = {"env": "test", "min_improvement": 0.05, "models": {"rf": spec}}
    assert rule_for(spec, settings) == REGRESSOR
    with pytest.raises(KeyError, match="min_improvement"):
        rule_for(spec, {"env": "test"})


def test_the_project_parameters_give_a_rule_for_every_model_type():
    import yaml

    from bike_traffic.models.spec import MODEL_SPECS
    from tests.conftest import PROJECT_ROOT

    params = yaml.safe_load(
        (PROJECT_ROOT / "conf" / "base" / "parameters_registry.yml").read_text(encoding="utf-8")
    )["registry"]
    assert set(params["models"]) == set(MODEL_SPECS)
    assert rule_for(params["models"]["rf"], params) == REGRESSOR
    assert rule_for(params["models"]["affluence_classifier"], params) == CLASSIFIER
