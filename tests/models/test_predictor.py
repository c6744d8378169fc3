"""models.predictor: raw requests in, the training path's predictions out, stored safely."""

from __future__ import annotations

import functools
import json

import numpy as np
import pandas as pd
import pytest
import skops.io

from bike_traffic.models import classifier, nn, persistence, rf
from bike_traffic.models.predictor import (
    DESCRIPTION_FILE,
    FORMAT_VERSION,
    Predictor,
    PredictorFormatError,
    package_predictor,
    requests_from_rows,
)
from bike_traffic.models.spec import UnknownModelTypeError
from bike_traffic.validation import DateRange
from tests.models.conftest import DATES

COUNTER = "nom_du_compteur"
TIMESTAMP = "date_et_heure_de_comptage"


def as_user_writes(rows: pd.DataFrame) -> pd.DataFrame:
    """The rows as requests in ISO text with their offset, as a user or a client sends them."""
    return pd.DataFrame(
        {
            "counter": rows[COUNTER].astype(str).to_numpy(),
            "timestamp": [t.isoformat() for t in rows[TIMESTAMP]],
        },
        index=rows.index,
    )


@pytest.fixture(scope="module")
def counter(small_split) -> str:
    return str(small_split[0][COUNTER].iloc[0])


@pytest.fixture(scope="module")
def mixed(counter) -> pd.DataFrame:
    """Served and refused requests, under an index that is neither sorted nor from 0."""
    return pd.DataFrame(
        {
            "counter": [counter, "Nowhere N-S", counter, counter, counter, None, counter, counter],
            "timestamp": [
                "2024-04-02T08:00:00+02:00",
                "2024-04-02T08:00:00+02:00",
                None,
                None,
                "1900-01-01T08:00:00Z",
                "2024-04-02T08:00:00+02:00",
                "2024-03-31T02:30:00",  # no such local time (clock change), no offset
                "yesterday",
            ],
            "date": [None, None, "2024-04-02", "2024-04-02", None, None, None, None],
            "hour": [None, None, 8, 99, None, None, None, None],
        },
        index=[70, 10, 60, 20, 50, 30, 40, 0],
    )


# ---------------------------------------------------------------- served rows
def test_served_rows_get_exactly_the_training_paths_predictions(
    rf_predictor, rf_estimator, small_split
):
    test = small_split[1]
    expected = rf.predict(rf_estimator, {}, test)
    for requests in (requests_from_rows(test), as_user_writes(test)):
        answer = rf_predictor.predict(requests)
        assert list(answer.columns) == ["prediction", "lower", "upper", "error"]
        assert answer["error"].isna().all()
        # a predictor without an interval serves no bounds (nulls), never made-up ones
        assert rf_predictor.interval is None and answer["upper"].isna().all()
        assert np.array_equal(answer["prediction"].to_numpy(dtype="float64"), expected)


def test_the_nn_predictor_predicts_as_the_network(
    nn_predictor, nn_fitted, nn_preprocessor, small_split
):
    test = small_split[1]
    expected = nn.predict(nn_fitted[0], {"preprocessor": nn_preprocessor}, test)
    answer = nn_predictor.predict(as_user_writes(test))
    assert answer["error"].isna().all()
    assert np.allclose(answer["prediction"].to_numpy(dtype="float64"), expected, rtol=1e-6)


def test_a_date_and_hour_or_a_naive_time_are_paris_local_time(rf_predictor, counter):
    requests = pd.DataFrame(
        {
            "counter": [counter] * 4,
            "timestamp": [
                "2024-04-02T08:00:00+02:00",
                "2024-04-02T06:00:00Z",
                "2024-04-02T08:00:00",
                None,
            ],
            "date": [None, None, None, "2024-04-02"],
            "hour": [None, None, None, 8],
        }
    )
    answers = rf_predictor.predict_values(requests)
    assert answers.served.all()
    assert answers.timestamp_utc.nunique() == 1
    assert answers.timestamp_utc.iloc[0] == pd.Timestamp("2024-04-02T06:00:00Z")
    assert len(set(answers.values)) == 1


# ---------------------------------------------------------------- refused rows
def test_refused_rows_get_none_and_their_reason_in_input_order(rf_predictor, mixed):
    answer = rf_predictor.predict(mixed)
    assert answer.index.equals(mixed.index)
    reasons = [e.split(":")[0] if e else None for e in answer["error"]]
    assert reasons == [
        None,
        "unknown_counter",
        None,
        "hour_out_of_range",
        "date_out_of_range",
        "missing_counter_name",
        "clock_change",
        "unparseable_timestamp",
    ]
    assert "'Nowhere N-S'" in answer.loc[10, "error"] and "'99'" in answer.loc[20, "error"]
    served = answer["error"].isna()
    assert answer.loc[~served, "prediction"].map(lambda v: v is None).all()
    values = answer.loc[served, "prediction"]
    assert all(isinstance(v, float) and v >= 0 for v in values)
    # nulls, never NaN: the served JSON is valid
    assert "NaN" not in answer.to_json(orient="records")
    # each row is answered as if asked alone
    for label in mixed.index[served.to_numpy()]:
        alone = rf_predictor.predict(mixed.loc[[label]])
        assert alone.loc[label, "prediction"] == answer.loc[label, "prediction"]


def test_raw_answers_are_nan_where_refused(rf_predictor, mixed):
    answers = rf_predictor.predict_values(mixed)
    assert answers.served.tolist() == [True, False, True, False, False, False, False, False]
    assert np.isnan(answers.values[~answers.served]).all()
    assert (answers.values[answers.served] >= 0).all()


def test_records_are_requests_too(rf_predictor, counter):
    answer = rf_predictor.predict([{"counter": counter, "date": "2024-04-02", "hour": 8}])
    assert answer["error"].tolist() == [None] and answer["prediction"].iloc[0] >= 0


def test_dates_outside_the_served_range_are_refused(
    rf_estimator, small_split, small_context, counter
):
    narrow, _, _ = package_predictor(
        "rf",
        rf_estimator,
        {},
        *small_split,
        small_context,
        {"first_date": "2024-04-01", "last_date": "2024-04-30"},
    )
    answer = narrow.predict(
        pd.DataFrame(
            {"counter": [counter] * 2, "date": ["2024-03-31", "2024-04-01"], "hour": [12, 12]}
        )
    )
    assert answer["error"].iloc[0].startswith("date_out_of_range")
    assert "2024-04-01 to 2024-04-30" in answer["error"].iloc[0]
    assert answer["error"].iloc[1] is None


# ---------------------------------------------------------------- the classifier
def test_the_classifier_answers_a_label_and_its_probability(
    classifier_predictor, classifier_estimator, small_split, mixed
):
    test = small_split[1]
    answer = classifier_predictor.predict(as_user_writes(test))
    assert list(answer.columns) == ["label", "probability", "error"]
    probability = answer["probability"].to_numpy(dtype="float64")
    assert np.array_equal(probability, classifier.predict(classifier_estimator, {}, test))
    assert ((probability >= 0) & (probability <= 1)).all()
    assert set(answer["label"]) == {"high", "low"}
    assert (answer["label"] == np.where(probability >= 0.5, "high", "low")).all()
    refused = classifier_predictor.predict(mixed).loc[[10, 20]]
    assert refused[["label", "probability"]].map(lambda v: v is None).all().all()


# ---------------------------------------------------------------- packaging
def test_package_predictor_gives_the_predictor_its_bundle_and_card(
    rf_estimator, small_split, small_context
):
    train, test = small_split
    predictor, bundle, card = package_predictor(
        "rf", rf_estimator, {}, train, test, small_context, DATES
    )
    assert card == {"model_type": "rf"}
    assert bundle["predictor"] is predictor and predictor.estimator is rf_estimator
    assert predictor.known_counters == sorted(train[COUNTER].unique())
    assert predictor.dates == DateRange.from_params(DATES)
    assert predictor.trained == {
        "rows": len(train),
        "start": train[TIMESTAMP].min().isoformat(),
        "end": train[TIMESTAMP].max().isoformat(),
    }
    example = bundle["input_example"]
    assert list(example.columns) == ["counter", "timestamp"] and len(example) == 3
    assert example["timestamp"].str.match(r"^\d{4}-\d\d-\d\dT\d\d:00:00[+-]\d\d:00$").all()
    assert predictor.predict(example)["error"].isna().all()


def test_requests_from_rows_keep_the_index(small_split):
    rows = small_split[1].iloc[[5, 2, 9]]
    requests = requests_from_rows(rows)
    assert requests.index.equals(rows.index)
    assert list(requests.columns) == [
        "counter", "timestamp", "temperature", "rain", "rain_last_3h", "wind"
    ]  # fmt: skip
    assert requests["temperature"].tolist() == rows["temperature_c"].tolist()


def test_an_unknown_model_type_is_refused(rf_estimator, small_split, small_context):
    with pytest.raises(UnknownModelTypeError, match="xgboost"):
        package_predictor("xgboost", rf_estimator, {}, *small_split, small_context, DATES)


def test_signature_lists_the_raw_inputs_and_the_outputs(rf_predictor, classifier_predictor):
    signature = rf_predictor.signature()
    inputs = {c["name"]: c["required"] for c in signature.inputs.to_dict()}
    assert inputs == {
        "counter": True,
        "timestamp": False,
        "date": False,
        "hour": False,
        "temperature": False,
        "rain": False,
        "rain_last_3h": False,
        "wind": False,
    }
    assert [c["name"] for c in signature.outputs.to_dict()] == [
        "prediction",
        "lower",
        "upper",
        "error",
    ]
    outputs = classifier_predictor.signature().outputs.to_dict()
    assert [c["name"] for c in outputs] == ["label", "probability", "error"]
    assert not any(c["required"] for c in outputs)


# ---------------------------------------------------------------- storage
@pytest.mark.parametrize("name", ["rf_predictor", "classifier_predictor", "nn_predictor"])
def test_save_and_load_give_identical_predictions(request, tmp_path, small_split, mixed, name):
    predictor = request.getfixturevalue(name)
    folder = tmp_path / "predictor"
    predictor.save(folder)
    storage = "estimator.keras" if name == "nn_predictor" else "estimator.skops"
    assert sorted(p.name for p in folder.iterdir()) == sorted([DESCRIPTION_FILE, storage])
    loaded = Predictor.load(folder)
    assert loaded.spec == predictor.spec and loaded.dates == predictor.dates
    assert loaded.extras == predictor.extras and loaded.trained == predictor.trained
    assert loaded.known_counters == predictor.known_counters
    requests = pd.concat([as_user_writes(small_split[1].head(200)), mixed])
    pd.testing.assert_frame_equal(loaded.predict(requests), predictor.predict(requests))


def test_a_stored_estimator_with_an_untrusted_type_is_not_loaded(rf_predictor, tmp_path):
    folder = tmp_path / "tampered"
    rf_predictor.save(folder)
    skops.io.dump(functools.partial(print, 1), folder / "estimator.skops")
    with pytest.raises(persistence.UntrustedModelError, match="does not trust"):
        Predictor.load(folder)


def test_an_estimator_with_an_untrusted_type_is_not_saved(rf_predictor, tmp_path):
    odd = Predictor(
        "rf",
        functools.partial(print, 1),
        {},
        rf_predictor.counters,
        rf_predictor.context,
        rf_predictor.dates,
    )
    with pytest.raises(persistence.UntrustedModelError, match="allow-list"):
        odd.save(tmp_path / "odd")
    assert not (tmp_path / "odd" / "estimator.skops").exists()


@pytest.mark.parametrize("layout", [1, None])
def test_a_folder_of_another_layout_is_refused(rf_predictor, tmp_path, layout):
    folder = tmp_path / "old"
    rf_predictor.save(folder)
    described = folder / DESCRIPTION_FILE
    description = json.loads(described.read_text())
    assert description["format"] == FORMAT_VERSION == 3
    if layout is None:
        description.pop("format")
    else:
        description["format"] = layout
    described.write_text(json.dumps(description))
    with pytest.raises(PredictorFormatError, match=f"format {layout!r}"):
        Predictor.load(folder)


def test_a_folder_without_a_description_is_not_a_predictor(tmp_path):
    with pytest.raises(PredictorFormatError, match="not a predictor"):
        Predictor.load(tmp_path)
