"""The neural network: Keras 3 (TensorFlow) with an embedding of the counter.

With ``features.offset: naive`` the network learns a multiplier of the naive table (the
mean count of the row's counter x hour x weekday/weekend on train): its output is
``naive x exp(f(x))``, so it starts from the lookup table and learns what weather,
calendar, restrictions and trend change to it (a log-link with an offset, as in a
Poisson GLM); train with ``loss: poisson``.

The fitted preprocessing (counter vocabulary, numeric means and scales, target scale)
is a plain JSON-able dict that travels with the network in the logged predictor, so
inference applies exactly the transform training used. TensorFlow is imported inside
the functions that need it: importing this module stays cheap.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from bike_traffic.features import TARGET
from bike_traffic.models import profile
from bike_traffic.models import target as target_transform
from bike_traffic.raw_format import TIMESTAMP

logger = logging.getLogger(__name__)

#: How the logged predictor stores this family's estimator (models.persistence).
STORAGE = "keras"

#: Index of the out-of-vocabulary slot: counters never seen in training.
OOV_INDEX = 0

#: :func:`predict` runs the network on blocks of exactly this many rows (the last one
#: padded), by direct forward passes: a float32 network may round a row's last bit
#: differently with the size of its batch, so a fixed block size makes a row's count the
#: same whether it comes alone (the app) or among a test set (the run that judged it).
#: Direct calls also skip ``model.predict``'s ~50 ms of set-up per call.
BLOCK_ROWS = 1024


def fit_preprocessor(
    train: pd.DataFrame, features: dict[str, Any], target: str = "none"
) -> dict[str, Any]:
    """Learn the counter vocabulary and the scaling of numeric features and target.

    Args:
        train: Train rows.
        features: ``params:nn.features`` (``counter``: column name, ``numeric``: columns,
            ``offset``: ``naive`` to learn a multiplier of the naive table, else none).
        target: ``params:nn.target``: ``none`` or ``log1p``.

    Returns:
        ``{"counter_column", "vocabulary", "numeric", "mean", "scale", "target",
        "target_scale"}`` and, with an offset, ``"offset"`` (the naive table and its
        fallbacks); the network learns the transformed count divided by ``target_scale``.
    """
    numeric = list(features["numeric"])
    values = train[numeric].astype("float64")
    scale = values.std(ddof=0).replace(0, 1.0)
    offset = {}
    if features.get("offset") == "naive":
        offset = {"offset": profile.fit_table(train, train[TARGET].to_numpy())}
    return {
        **offset,
        "counter_column": features["counter"],
        "vocabulary": sorted(train[features["counter"]].dropna().astype(str).unique().tolist()),
        "numeric": numeric,
        "mean": values.mean().round(10).tolist(),
        "scale": scale.round(10).tolist(),
        # the range seen in training: beyond it a value is held at the edge (as trees do)
        "low": values.min().round(10).tolist(),
        "high": values.max().round(10).tolist(),
        "target": target_transform.check(target),
        "target_scale": float(
            max(target_transform.forward(train[TARGET].to_numpy(), target).mean(), 1e-6)
        ),
    }


def naive_offset(preprocessor: dict[str, Any], frame: pd.DataFrame) -> np.ndarray:
    """The naive table's count for each row (counter, then overall means for unseen keys)."""
    return profile.lookup(preprocessor["offset"], frame)


def transform(preprocessor: dict[str, Any], frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Apply the fitted preprocessing: counter -> index (0 = unseen), numbers -> z-scores
    of the value held within the range seen in training (a network would extrapolate a
    hotter summer or a later date linearly; trees hold the edge, and so does this).

    Args:
        preprocessor: Output of :func:`fit_preprocessor`.
        frame: Rows with the counter and numeric columns (and, with an offset, hour
            and weekend flag).

    Returns:
        ``{"counter": int32 (n, 1), "numeric": float32 (n, k)}``, the model's inputs, and
        with an offset ``"offset"``: the log of the naive count, scaled as the target.
    """
    lookup = {name: i + 1 for i, name in enumerate(preprocessor["vocabulary"])}
    counter = frame[preprocessor["counter_column"]].astype(str).map(lookup)
    counter = counter.fillna(OOV_INDEX).to_numpy(dtype="int32").reshape(-1, 1)
    numeric = frame[preprocessor["numeric"]].astype("float64").to_numpy()
    if "low" in preprocessor:
        numeric = np.clip(numeric, preprocessor["low"], preprocessor["high"])
    numeric = (numeric - np.asarray(preprocessor["mean"])) / np.asarray(preprocessor["scale"])
    inputs = {"counter": counter, "numeric": numeric.astype("float32")}
    if "offset" in preprocessor:
        scaled = naive_offset(preprocessor, frame) / preprocessor["target_scale"]
        inputs["offset"] = np.log(np.maximum(scaled, 1e-3)).astype("float32").reshape(-1, 1)
    return inputs


def build_model(vocabulary_size: int, n_numeric: int, params: dict[str, Any], offset: bool = False):
    """Embedding(counter) ++ numeric -> Dense 128 -> Dropout -> 64 -> Dropout -> 32 -> 1.

    Args:
        vocabulary_size: Known counters (one more slot is added for unseen ones).
        n_numeric: Number of numeric inputs.
        params: ``params:nn.model`` (``embedding_dim``, ``units``, ``dropout``,
            ``learning_rate``, ``loss``).
        offset: Whether the output multiplies the naive count (input ``offset``, its log):
            ``exp(offset + f(x))``.

    Returns:
        A compiled ``keras.Model`` with inputs ``counter``, ``numeric`` (and ``offset``).
    """
    import keras

    counter = keras.Input(shape=(1,), dtype="int32", name="counter")
    numeric = keras.Input(shape=(n_numeric,), dtype="float32", name="numeric")
    embedded = keras.layers.Embedding(
        vocabulary_size + 1, int(params["embedding_dim"]), name="counter_embedding"
    )(counter)
    x = keras.layers.Concatenate()([keras.layers.Flatten()(embedded), numeric])
    units, dropout = list(params["units"]), list(params["dropout"])
    for i, width in enumerate(units):
        x = keras.layers.Dense(int(width), activation="relu")(x)
        if i < len(dropout) and dropout[i]:
            x = keras.layers.Dropout(float(dropout[i]))(x)
    inputs = {"counter": counter, "numeric": numeric}
    if offset:
        inputs["offset"] = keras.Input(shape=(1,), dtype="float32", name="offset")
        change = keras.layers.Dense(1, activation="linear", name="log_multiplier")(x)
        log_rate = keras.layers.Add()([inputs["offset"], change])
        output = keras.layers.Activation("exponential", name="count")(log_rate)
    else:
        activation = "softplus" if params["loss"] == "poisson" else "linear"
        output = keras.layers.Dense(1, activation=activation, name="count")(x)
    model = keras.Model(inputs=inputs, outputs=output)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=float(params["learning_rate"])),
        loss=params["loss"],
    )
    return model


def fit(
    train: pd.DataFrame,
    preprocessor: dict[str, Any],
    params: dict[str, Any],
    seed: int,
    initial_model: Any = None,
) -> tuple[Any, dict[str, list[float]]]:
    """Fit the network with early stopping on the last, time-ordered slice of train.

    Args:
        train: Train rows.
        preprocessor: Output of :func:`fit_preprocessor`.
        params: ``params:nn.model`` (architecture, ``epochs``, ``batch_size``,
            ``patience``, ``validation_fraction``).
        seed: Random seed (``params:run.seed``).
        initial_model: A fitted network to go on training (fine-tuning, with
            ``params["learning_rate"]``) instead of a new one; ``preprocessor``
            must be the one it was trained with.

    Returns:
        The fitted ``keras.Model`` and its training history (a dict of lists).
    """
    import keras

    keras.utils.set_random_seed(int(seed))
    ordered = train.sort_values(TIMESTAMP, kind="stable")
    n_val = max(int(len(ordered) * float(params["validation_fraction"])), 1)
    fit_rows, val_rows = ordered.iloc[:-n_val], ordered.iloc[-n_val:]
    scale = preprocessor["target_scale"]
    kind = preprocessor.get("target", "none")
    if initial_model is None:
        model = build_model(
            len(preprocessor["vocabulary"]),
            len(preprocessor["numeric"]),
            params,
            offset="offset" in preprocessor,
        )
    else:
        model = initial_model
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=float(params["learning_rate"])),
            loss=params["loss"],
        )
    history = model.fit(
        transform(preprocessor, fit_rows),
        (target_transform.forward(fit_rows[TARGET], kind) / scale).astype("float32"),
        validation_data=(
            transform(preprocessor, val_rows),
            (target_transform.forward(val_rows[TARGET], kind) / scale).astype("float32"),
        ),
        epochs=int(params["epochs"]),
        batch_size=int(params["batch_size"]),
        callbacks=[
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=int(params["patience"]), restore_best_weights=True
            )
        ],
        verbose=0,
    )
    logs = {k: [float(v) for v in values] for k, values in history.history.items()}
    logger.info(
        "Trained %d epochs on %d rows (validation %d rows): best val_loss %.4f",
        len(logs["loss"]),
        len(fit_rows),
        len(val_rows),
        min(logs["val_loss"]),
    )
    return model, logs


def fit_estimator(
    train: pd.DataFrame, params: dict[str, Any], seed: int
) -> tuple[Any, dict[str, Any]]:
    """Preprocessing then network from ``params:nn``, as the ``nn`` pipeline chains them.

    Args:
        train: Train rows.
        params: ``params:nn`` (``features``, ``model``, ``target``).
        seed: ``params:run.seed``.

    Returns:
        The fitted network and ``{"preprocessor": ...}``.
    """
    preprocessor = fit_preprocessor(train, params["features"], params.get("target", "none"))
    network, _ = fit(train, preprocessor, params["model"], seed)
    return network, {"preprocessor": preprocessor}


def predict(model: Any, extras: dict[str, Any], frame: pd.DataFrame) -> np.ndarray:
    """Predicted hourly counts, never negative.

    Args:
        model: The fitted ``keras.Model``.
        extras: ``{"preprocessor": ...}``: its preprocessing (:func:`fit_preprocessor`).
        frame: Rows of the feature table.

    Returns:
        One predicted count per row.
    """
    preprocessor = extras["preprocessor"]
    if frame.empty:
        return np.zeros(0)
    inputs = transform(preprocessor, frame)
    rows = len(frame)
    blocks = []
    for start in range(0, rows, BLOCK_ROWS):
        block = {}
        for name, values in inputs.items():
            part = values[start : start + BLOCK_ROWS]
            pad = [(0, BLOCK_ROWS - len(part))] + [(0, 0)] * (part.ndim - 1)
            block[name] = np.pad(part, pad, mode="edge")
        blocks.append(np.asarray(model(block, training=False)).ravel())
    out = np.concatenate(blocks)[:rows]
    scaled = out.astype("float64") * preprocessor["target_scale"]
    return target_transform.inverse(scaled, preprocessor.get("target", "none"))
