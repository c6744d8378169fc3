"""models.target: what a regressor learns (counts or log1p), and back to counts."""

from __future__ import annotations

import numpy as np
import pytest

from bike_traffic.models import nn, rf, target
from tests.models.conftest import NN_FEATURES, RF_FEATURES, RF_MODEL

COUNTS = np.array([0, 1, 3, 42, 1234], dtype="int64")


def test_the_transforms_are_none_and_log1p():
    assert target.TRANSFORMS == ("none", "log1p")
    for kind in target.TRANSFORMS:
        assert target.check(kind) == kind


@pytest.mark.parametrize("kind", ["log", "sqrt", "", None, "LOG1P"])
def test_an_unknown_name_is_refused_everywhere(kind):
    for call in (
        lambda: target.check(kind),
        lambda: target.forward(COUNTS, kind),
        lambda: target.inverse(COUNTS, kind),
    ):
        with pytest.raises(ValueError, match=r"target must be one of \('none', 'log1p'\)"):
            call()


def test_forward_gives_the_values_a_regressor_is_fitted_on():
    plain = target.forward(COUNTS, "none")
    assert plain.dtype == np.float64 and np.array_equal(plain, COUNTS.astype("float64"))
    logged = target.forward(COUNTS, "log1p")
    assert logged.dtype == np.float64
    np.testing.assert_allclose(logged, np.log(1 + COUNTS.astype("float64")))
    assert logged[0] == 0.0  # zero counts stay finite
    assert target.forward([2.0, 5.0], "none").tolist() == [2.0, 5.0]  # lists too


@pytest.mark.parametrize("kind", ["none", "log1p"])
def test_inverse_undoes_forward(kind):
    np.testing.assert_allclose(target.inverse(target.forward(COUNTS, kind), kind), COUNTS)


def test_inverse_never_gives_a_negative_count():
    assert target.inverse(np.array([-3.0, 0.0, 2.5]), "none").tolist() == [0.0, 0.0, 2.5]
    below = target.inverse(np.array([-5.0, -0.1]), "log1p")  # expm1 of a negative: > -1
    assert below.tolist() == [0.0, 0.0]
    np.testing.assert_allclose(target.inverse(np.array([np.log(11.0)]), "log1p"), [10.0])


def test_the_families_fit_and_predict_with_the_transform(small_split):
    train, test = small_split
    rows = test.head(200)
    forest = rf.fit(train, RF_FEATURES, RF_MODEL, "log1p")
    raw = forest.predict(rows[forest.feature_names_in_])
    assert raw.max() < np.log1p(train["comptage_horaire"].max()) + 1e-9  # leaves hold logs
    np.testing.assert_allclose(
        rf.predict(forest, {"target": "log1p"}, rows), np.clip(np.expm1(raw), 0, None)
    )
    with pytest.raises(ValueError, match="target must be one of"):
        rf.fit(train, RF_FEATURES, RF_MODEL, "sqrt")
    # the network's preprocessing keeps the transform and scales the transformed count
    preprocessor = nn.fit_preprocessor(train, NN_FEATURES, "log1p")
    assert preprocessor["target"] == "log1p"
    assert preprocessor["target_scale"] == pytest.approx(np.log1p(train["comptage_horaire"]).mean())
    assert nn.fit_preprocessor(train, NN_FEATURES)["target"] == "none"
    with pytest.raises(ValueError, match="target must be one of"):
        nn.fit_preprocessor(train, NN_FEATURES, "sqrt")
