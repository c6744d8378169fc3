"""The complete predictor of a model type: from what a user knows to the prediction.

A :class:`Predictor` is what every model pipeline logs to MLflow (as an ``mlflow.pyfunc``
model whose loader is :mod:`bike_traffic.models.mlflow_flavor`) and what everything that
predicts calls: the judging of the model in its own run, the registry's re-scoring of
champions, monitoring, the Streamlit app, batch scoring, notebooks, benchmarks and
``mlflow models serve``.

It is asked about a counter (its name, as in the export) and an hour (a timestamp, or a
local date and hour) and answers, per row, the predicted count (regressors) or the
high/low label and its probability (the classifier), with the bounds of its prediction
interval when the regressor was calibrated (:mod:`bike_traffic.models.intervals`), or
the reason the row cannot be served (:mod:`bike_traffic.validation`). Between the two
it builds the features with :func:`bike_traffic.features.request_rows`, the function the
training pipeline runs.
"""

from __future__ import annotations

import importlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from bike_traffic.features import COUNTER_COLUMNS, WEATHER_COLUMNS, counter_table, request_rows
from bike_traffic.models import intervals, persistence
from bike_traffic.models.spec import ModelSpec, model_spec
from bike_traffic.raw_format import COUNTER, TIMESTAMP
from bike_traffic.validation import REQUEST_WEATHER, DateRange, parse_requests

logger = logging.getLogger(__name__)

#: The version of the stored predictor's layout (3: it carries its feature context). A model
#: logged before the raw-input predictor existed (a bare scikit-learn or TensorFlow model)
#: has none.
FORMAT_VERSION = 3

#: The file of a stored predictor that describes it.
DESCRIPTION_FILE = "predictor.json"

_ESTIMATOR_FILES = {"skops": "estimator.skops", "keras": "estimator.keras"}

#: The inputs a predictor takes: name, MLflow type, required, what it is.
INPUTS: tuple[tuple[str, str, bool, str], ...] = (
    ("counter", "string", True, "the counter's name, as in the export's 'Nom du compteur'"),
    ("timestamp", "string", False, "ISO 8601 with UTC offset; without one, Paris local time"),
    ("date", "string", False, "local date YYYY-MM-DD, with hour, when timestamp is not given"),
    ("hour", "any", False, "local hour 0-23, with date"),
    ("temperature", "any", False, "°C; default: the training climatology of that day and hour"),
    ("rain", "any", False, "mm in the hour; default: the climatology"),
    (
        "rain_last_3h",
        "any",
        False,
        "mm in the hour and the two before; default: rain, else the climatology",
    ),
    ("wind", "any", False, "m/s; default: the climatology"),
)


@dataclass
class Answers:
    """A predictor's raw answers to requests, one per request, in their order.

    Attributes:
        values: The count (regressors) or P(high) (classifier); NaN where refused.
        error: Why a request is refused (:func:`bike_traffic.validation.describe`);
            None where served.
        timestamp_utc: The instant each served request was read as.
    """

    values: np.ndarray
    error: pd.Series
    timestamp_utc: pd.Series

    @property
    def served(self) -> np.ndarray:
        """Which requests were served."""
        return self.error.isna().to_numpy()


class PredictorFormatError(RuntimeError):
    """A stored model that is not a predictor of this project (or of an older layout)."""


class OldLayoutError(PredictorFormatError):
    """A whole, readable model of another layout (logged before the raw-input predictor, or
    naming another loader): it cannot serve, and retraining is the cure. A model whose
    files are missing or damaged is a :class:`PredictorFormatError`, not this."""


def family_module(spec: ModelSpec) -> ModuleType:
    """The module of :mod:`bike_traffic.models` that fits and predicts a model type."""
    return importlib.import_module(f"bike_traffic.models.{spec.family}")


def requests_from_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """Requests for the rows of a feature table: their counter, (tz-aware) time and weather.

    The weather the rows were built with is given with the request, so that the
    predictor rebuilds exactly the features the rows have (observed weather, not the
    climatology).

    Args:
        frame: Rows with ``nom_du_compteur``, ``date_et_heure_de_comptage`` and the
            weather columns.

    Returns:
        ``counter``, ``timestamp`` and the weather inputs, one request per row, same index.
    """
    weather = {
        name: frame[feature]
        for name, (feature, _, _) in REQUEST_WEATHER.items()
        if feature in frame.columns
    }
    return pd.DataFrame(
        {"counter": frame[COUNTER].astype(str), "timestamp": frame[TIMESTAMP], **weather},
        index=frame.index,
    )


class Predictor:
    """A fitted model with everything it needs to answer raw requests.

    Attributes:
        spec: The model type.
        estimator: The fitted family estimator (scikit-learn Pipeline, Keras network).
        extras: JSON-able state beside it (the nn's preprocessing, the classifier's
            thresholds).
        counters: The training counters: name, identifiers, site, coordinates.
        context: The feature context (:func:`bike_traffic.features.feature_context`):
            school holidays, restrictions, weather climatology.
        dates: The local dates it serves.
        trained: What it was trained on (rows, period), for people.
        interval: The regressor's prediction interval
            (:func:`bike_traffic.models.intervals.fit_interval`), or None (the classifier,
            or a predictor stored before intervals: it serves no bounds).
    """

    def __init__(
        self,
        model_type: str,
        estimator: Any,
        extras: dict[str, Any],
        counters: pd.DataFrame,
        context: dict[str, Any],
        dates: DateRange,
        trained: dict[str, Any] | None = None,
        interval: dict[str, Any] | None = None,
    ) -> None:
        """Assemble a predictor (see the class attributes)."""
        self.spec = model_spec(model_type)
        self.estimator = estimator
        self.extras = extras
        self.counters = counters[list(COUNTER_COLUMNS)].reset_index(drop=True)
        self.context = context
        self.dates = dates
        self.trained = trained or {}
        self.interval = interval or None
        self._known = set(self.counters[COUNTER].astype(str))

    # ------------------------------------------------------------ predicting
    @property
    def known_counters(self) -> list[str]:
        """The counters it was trained on, sorted."""
        return sorted(self._known)

    def predict_values(self, model_input: pd.DataFrame) -> Answers:
        """The raw output and the refusal of each request.

        Args:
            model_input: Requests (see :data:`INPUTS`).

        Returns:
            The :class:`Answers`.
        """
        requests, error = parse_requests(model_input, self._known, self.dates)
        values = np.full(len(model_input), np.nan)
        served = error.isna().to_numpy()
        if served.any():
            rows = request_rows(
                requests.loc[served, "counter"],
                requests.loc[served, "timestamp_utc"],
                self.counters,
                self.context,
                requests.loc[served, list(WEATHER_COLUMNS)],
            )
            values[served] = family_module(self.spec).predict(self.estimator, self.extras, rows)
        return Answers(values, error, requests["timestamp_utc"])

    def bounds(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The prediction interval around predicted counts (NaN without an interval).

        Args:
            values: Predicted counts (:attr:`Answers.values`).

        Returns:
            ``(lower, upper)`` per value, at the level of :attr:`interval`.
        """
        return intervals.bounds(values, self.interval)

    def predict(self, model_input: pd.DataFrame, params: dict[str, Any] | None = None):
        """Answer each request: the prediction, or why the row cannot be served.

        This is the logged MLflow model's ``predict``: ``mlflow models serve`` calls it.

        Args:
            model_input: Requests (see :data:`INPUTS`).
            params: Unused (MLflow's inference parameters).

        Returns:
            For the regressors ``prediction`` (bikes in the hour), ``lower`` and ``upper``
            (its interval at :attr:`interval`'s level; null when it has none) and
            ``error``; for the
            classifier ``label`` (``high``/``low``), ``probability`` (of high) and
            ``error``. ``error`` is null where the row is served, and every other column
            null where it is not (nulls, not NaN, so that the served JSON is valid).
        """
        frame = model_input if isinstance(model_input, pd.DataFrame) else pd.DataFrame(model_input)
        answers = self.predict_values(frame)
        values, error, served = answers.values, answers.error, answers.served
        if self.spec.is_classifier:
            out = {"label": np.where(values >= 0.5, "high", "low"), "probability": values}
        else:
            lower, upper = self.bounds(values)
            out = {"prediction": values, "lower": lower, "upper": upper}
        result = pd.DataFrame(
            {
                name: pd.Series(
                    [
                        v.item() if ok and pd.notna(v) else None
                        for v, ok in zip(column, served, strict=True)
                    ],
                    index=frame.index,
                    dtype=object,
                )
                for name, column in out.items()
            }
        )
        result["error"] = error.astype(object).where(error.notna(), None)
        return result

    # ------------------------------------------------------------ MLflow
    def input_example(self, rows: pd.DataFrame, n: int = 3) -> pd.DataFrame:
        """A few requests as a user writes them (ISO text with offset), for MLflow.

        Args:
            rows: Rows of the feature table (test rows).
            n: How many.
        """
        head = rows.head(n)
        stamps = head[TIMESTAMP].map(lambda t: t.isoformat())
        return pd.DataFrame(
            {"counter": head[COUNTER].astype(str).to_numpy(), "timestamp": stamps.to_numpy()}
        )

    def signature(self):
        """The MLflow signature: the raw inputs of :data:`INPUTS`, the output columns."""
        from mlflow.models import ModelSignature
        from mlflow.types.schema import AnyType, ColSpec, Schema

        inputs = Schema(
            [
                ColSpec(AnyType() if kind == "any" else kind, name, required=required)
                for name, kind, required, _ in INPUTS
            ]
        )
        names = (
            ("label", "probability")
            if self.spec.is_classifier
            else ("prediction", "lower", "upper")
        )
        kinds = {"label": "string", "probability": "double"}
        outputs = Schema(
            [ColSpec(kinds.get(n, "double"), n, required=False) for n in names]
            + [ColSpec("string", "error", required=False)]
        )
        return ModelSignature(inputs=inputs, outputs=outputs)

    # ------------------------------------------------------------ storage
    def save(self, folder: Path) -> None:
        """Store the predictor in ``folder``: a JSON description and the estimator file.

        Raises:
            persistence.UntrustedModelError: When the estimator holds untrusted types.
        """
        folder.mkdir(parents=True, exist_ok=True)
        storage = family_module(self.spec).STORAGE
        estimator_file = _ESTIMATOR_FILES[storage]
        if storage == "skops":
            persistence.save_sklearn(self.estimator, folder / estimator_file)
        else:
            persistence.save_keras(self.estimator, folder / estimator_file)
        description = {
            "format": FORMAT_VERSION,
            "model_type": self.spec.model_type,
            "family": self.spec.family,
            "storage": storage,
            "estimator_file": estimator_file,
            "extras": self.extras,
            "counters": json.loads(self.counters.to_json(orient="records")),
            "context": self.context,
            "dates": self.dates.to_params(),
            "trained": self.trained,
            "interval": self.interval,
        }
        (folder / DESCRIPTION_FILE).write_text(json.dumps(description, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> Predictor:
        """Load a stored predictor without running any code from it.

        Raises:
            PredictorFormatError: When ``folder`` holds no predictor of this layout.
            persistence.UntrustedModelError: When the estimator holds untrusted types.
        """
        described = folder / DESCRIPTION_FILE
        if not described.is_file():
            raise PredictorFormatError(f"{folder} holds no {DESCRIPTION_FILE}: not a predictor.")
        description = json.loads(described.read_text(encoding="utf-8"))
        if description.get("format") != FORMAT_VERSION:
            raise OldLayoutError(
                f"{described} has format {description.get('format')!r}; this version of "
                f"bike_traffic reads format {FORMAT_VERSION}."
            )
        spec = model_spec(description["model_type"])
        storage = family_module(spec).STORAGE
        path = folder / _ESTIMATOR_FILES[storage]
        estimator = (
            persistence.load_sklearn(path) if storage == "skops" else persistence.load_keras(path)
        )
        return cls(
            spec.model_type,
            estimator,
            description["extras"],
            pd.DataFrame.from_records(description["counters"], columns=list(COUNTER_COLUMNS)),
            description["context"],
            DateRange.from_params(description["dates"]),
            description.get("trained"),
            description.get("interval"),
        )


def package_predictor(
    model_type: str,
    estimator: Any,
    extras: dict[str, Any],
    train: pd.DataFrame,
    test: pd.DataFrame,
    context: dict[str, Any],
    dates: dict[str, str],
    interval: dict[str, Any] | None = None,
) -> tuple[Predictor, dict[str, Any], dict[str, str]]:
    """Assemble a fitted model into its predictor, ready to judge and to log.

    Args:
        model_type: ``rf``, ``nn`` or ``affluence_classifier``.
        estimator: The fitted family estimator.
        extras: JSON-able state beside it (preprocessing, thresholds).
        train: The rows it was trained on (its counters, its period).
        test: Test rows (the input example is their first ones).
        context: The feature context the rows were built with (``feature_context``).
        dates: ``params:predictor`` (``first_date``, ``last_date``): the dates it serves.
        interval: Its prediction interval (regressors:
            :func:`bike_traffic.models.evaluation.calibrate_interval`), or None.

    Returns:
        The predictor; ``{"predictor", "input_example"}`` for the MLflow model dataset;
        the model card that tells the registry which model type was logged.
    """
    predictor = Predictor(
        model_type,
        estimator,
        extras,
        counter_table(train),
        context,
        DateRange.from_params(dates),
        trained={
            "rows": len(train),
            "start": train[TIMESTAMP].min().isoformat(),
            "end": train[TIMESTAMP].max().isoformat(),
        },
        interval=interval,
    )
    bundle = {"predictor": predictor, "input_example": predictor.input_example(test)}
    return predictor, bundle, {"model_type": model_type}
