"""The counter's usual hour: the naive table, as a feature and as an offset.

The mean of the target per counter x hour x weekday/weekend, learnt on the training rows,
is what the naive baseline predicts. The tree models take it as one more input
(:class:`ProfileEncoder`, a step of their scikit-learn pipeline, ``features.profile:
true``): what they learn about weather, holidays and restrictions is then shared by the
counters of the same usual level instead of being learnt counter by counter. The network
multiplies it (``features.offset: naive``, :mod:`bike_traffic.models.nn`). Both use
:func:`fit_table` and :func:`lookup`; the table is plain JSON-like data.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from bike_traffic.features import COUNTER

#: The naive table's key: counter, local hour, weekend (or public holiday) flag.
KEYS: tuple[str, ...] = (COUNTER, "hour", "is_weekend")
#: The column the encoder adds.
COLUMN = "profile"


def _keys(frame: pd.DataFrame) -> pd.Series:
    """One string per row: ``counter|hour|weekend`` (``Nom|8|0``)."""
    counter, hour, weekend = (frame[k] for k in KEYS)
    hour_text = pd.to_numeric(hour, errors="coerce").fillna(-1).astype("int64").astype(str)
    weekend_text = weekend.fillna(False).astype(bool).astype("int64").astype(str)
    return counter.astype(str) + "|" + hour_text + "|" + weekend_text


def fit_table(
    frame: pd.DataFrame, y: np.ndarray | pd.Series, decimals: int | None = 6
) -> dict[str, Any]:
    """The mean of ``y`` per key, per counter (for unseen keys) and overall.

    Args:
        frame: Rows with the :data:`KEYS` columns.
        y: The target of each row (counts, a transformed count, 0/1 labels).
        decimals: Rounding of the stored means (None: exact, for judging on the fly).

    Returns:
        ``{"keys", "values", "per_counter", "overall"}``.
    """
    values = pd.Series(np.asarray(y, dtype="float64"), index=frame.index)
    by_key = values.groupby(_keys(frame)).mean()
    per_counter = values.groupby(frame[COUNTER].astype(str)).mean()
    if decimals is not None:
        by_key, per_counter = by_key.round(decimals), per_counter.round(decimals)
    return {
        "keys": by_key.index.tolist(),
        "values": by_key.tolist(),
        "per_counter": {str(k): float(v) for k, v in per_counter.items()},
        "overall": float(values.mean()),
    }


def lookup(table: dict[str, Any], frame: pd.DataFrame) -> np.ndarray:
    """The table's value for each row: its key's, else its counter's, else the overall mean."""
    by_key = pd.Series(table["values"], index=table["keys"], dtype="float64")
    found = _keys(frame).map(by_key)
    found = found.fillna(frame[COUNTER].astype(str).map(table["per_counter"]))
    return found.fillna(table["overall"]).to_numpy(dtype="float64")


class ProfileEncoder(TransformerMixin, BaseEstimator):
    """A scikit-learn step: the columns :data:`KEYS` -> the mean target of their key.

    Fitted on the training rows and their target (in-sample means: the naive table),
    it adds one column, :data:`COLUMN`. It holds only the table (strings and floats), so
    skops stores it without running code on load.
    """

    def fit(self, X: pd.DataFrame, y: np.ndarray) -> ProfileEncoder:  # noqa: N803 (sklearn)
        """Learn the table from the rows ``X`` (the :data:`KEYS` columns) and their target."""
        frame = pd.DataFrame(X, columns=list(KEYS))
        self.table_ = fit_table(frame, y)
        self.n_features_in_ = len(KEYS)
        return self

    def transform(self, X: pd.DataFrame) -> np.ndarray:  # noqa: N803 (sklearn)
        """One column: the table's value for each row."""
        frame = pd.DataFrame(X, columns=list(KEYS))
        return lookup(self.table_, frame).reshape(-1, 1)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The name of the column it makes: :data:`COLUMN`."""
        return np.asarray([COLUMN], dtype=object)
