"""The validation set that scikit-learn's ``early_stopping`` holds out of the training data."""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

Array = np.ndarray


def hold_out(fraction: float, rs, stratify, X, T: Array, y, sw: Array | None):
    """Split off ``fraction`` of the samples (stratified by ``stratify`` unless None) as in
    scikit-learn: returns ``(X_val, T_val, y_val, sw_val)`` and the rest ``(X, T, sw)``."""
    try:
        train, held = train_test_split(
            np.arange(X.shape[0]), random_state=rs, test_size=fraction, stratify=stratify
        )
    except ValueError as exc:
        raise ValueError(
            f"early_stopping could not hold out a validation set: {exc}. Increase "
            "'validation_fraction' or the size of your dataset."
        ) from exc
    if held.shape[0] < 2:
        raise ValueError(
            "The validation set is too small. Increase 'validation_fraction' or the size "
            "of your dataset."
        )
    val = (X[held], T[held], _take(y, held), None if sw is None else sw[held])
    return val, (X[train], T[train], None if sw is None else sw[train])


def _take(y, idx: Array):
    return y[idx] if hasattr(y, "shape") else np.asarray(y)[idx]


