"""Storing and loading fitted estimators without running code from the file.

* scikit-learn estimators are stored with skops and loaded with the project's own fixed
  allow-list (:data:`TRUSTED_SKOPS_TYPES`), never a list read from the artifact;
* Keras networks are stored as ``.keras`` and loaded in Keras' safe mode.

Nothing here unpickles: a tampered artifact cannot make loading run its code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

#: The types beyond skops' defaults that the project's scikit-learn estimators contain.
#: Fixed here, in code; an estimator with any other type is refused on save and on load.
#: (HistGradientBoosting with categorical features keeps ``functools.partial(check_array,
#: ...)``: a partial can only wrap a function that is itself on this list.)
TRUSTED_SKOPS_TYPES: tuple[str, ...] = (
    "numpy.dtype",
    "sklearn.tree._tree.Tree",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "functools.partial",
    "sklearn.utils.validation.check_array",
    # the project's own step (a table of strings and floats, no code of its own on load)
    "bike_traffic.models.profile.ProfileEncoder",
)


class UntrustedModelError(RuntimeError):
    """A stored estimator that holds types the project does not trust."""


def save_sklearn(estimator: Any, path: Path) -> None:
    """Store a scikit-learn estimator with skops, refusing types outside the allow-list.

    Raises:
        UntrustedModelError: When the estimator holds a type not in :data:`TRUSTED_SKOPS_TYPES`.
    """
    import skops.io as sio

    data = sio.dumps(estimator)
    untrusted = sorted(set(sio.get_untrusted_types(data=data)) - set(TRUSTED_SKOPS_TYPES))
    if untrusted:
        raise UntrustedModelError(
            f"The estimator holds types outside the project's skops allow-list: {untrusted}. "
            "Add them to bike_traffic.models.persistence.TRUSTED_SKOPS_TYPES after review."
        )
    path.write_bytes(data)


def load_sklearn(path: Path) -> Any:
    """Load a skops file with the project's fixed allow-list.

    Raises:
        UntrustedModelError: When the file holds any other type (a tampered artifact).
    """
    import skops.io as sio
    from skops.io.exceptions import UntrustedTypesFoundException

    try:
        return sio.load(path, trusted=list(TRUSTED_SKOPS_TYPES))
    except UntrustedTypesFoundException as exc:
        raise UntrustedModelError(
            f"{path} holds types the project does not trust, so it was not loaded: {exc}"
        ) from exc


def save_keras(network: Any, path: Path) -> None:
    """Store a Keras network in the ``.keras`` format."""
    network.save(path)


def load_keras(path: Path) -> Any:
    """Load a ``.keras`` network in safe mode (no Python code from the file is run).

    Raises:
        UntrustedModelError: When the file needs unsafe deserialisation (a Python lambda...).
    """
    import keras

    try:
        return keras.saving.load_model(path, safe_mode=True)
    except ValueError as exc:
        if "safe_mode" in str(exc) or "unsafe" in str(exc):
            raise UntrustedModelError(
                f"{path} needs unsafe deserialisation, so it was not loaded: {exc}"
            ) from exc
        raise
