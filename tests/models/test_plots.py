"""models.plots: each figure draws what its data holds, off-screen."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from bike_traffic.models import plots, rf
from bike_traffic.models.evaluation import predictions_table


@pytest.fixture
def pyplot():
    module = plots.pyplot()
    yield module
    module.close("all")


def test_pyplot_is_off_screen(pyplot):
    import matplotlib

    assert matplotlib.get_backend().lower() == "agg"


def test_regression_figures_have_the_model_in_their_titles(pyplot, small_split):
    test = small_split[1]
    predictions = predictions_table(test, test["comptage_horaire"].to_numpy() * 0.9)
    scatter, by_hour = plots.plot_regression_predictions(predictions, "Random forest")
    assert scatter.axes[0].get_title() == "Random forest: test set"
    assert by_hour.axes[0].get_title().startswith("Random forest: error by hour")
    bars = by_hour.axes[0].patches
    assert len(bars) == test["hour"].nunique()
    assert all(bar.get_height() >= 0 for bar in bars)


def test_feature_importances_show_one_bar_per_input(pyplot, rf_estimator):
    figure = plots.plot_feature_importances(rf_estimator)
    heights = sorted(bar.get_width() for bar in figure.axes[0].patches)
    assert heights == pytest.approx(sorted(rf.feature_importances(rf_estimator)))


def test_training_curves_show_both_losses_by_epoch(pyplot):
    figure = plots.plot_training_curves({"loss": [3.0, 2.0, 1.5], "val_loss": [3.5, 2.5, 2.4]})
    lines = figure.axes[0].get_lines()
    assert [list(line.get_xdata()) for line in lines] == [[1, 2, 3], [1, 2, 3]]
    assert list(lines[1].get_ydata()) == [3.5, 2.5, 2.4]


@pytest.mark.parametrize("observed", [[0, 1, 1, 0], [1, 1, 1, 1]])
def test_confusion_and_roc_with_one_or_two_classes(pyplot, observed):
    probability = np.array([0.2, 0.8, 0.4, 0.6])
    predictions = pd.DataFrame(
        {
            "observed": observed,
            "probability": probability,
            "predicted": (probability >= 0.5).astype("int8"),
        }
    )
    confusion, roc = plots.plot_confusion_and_roc(predictions)
    assert "confusion matrix" in confusion.axes[0].get_title()
    cells = [t.get_text() for t in confusion.axes[0].texts]
    assert sum(int(c) for c in cells) == 4
    # the ROC curve is drawn only when both classes are present; the diagonal always
    assert len(roc.axes[0].get_lines()) == (2 if len(set(observed)) == 2 else 1)
