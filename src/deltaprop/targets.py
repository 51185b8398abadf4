"""Targets: what the network should output, the loss that pairs with its output, and accuracy.

``y`` arrives as the user has it — integer class labels or a target matrix — and becomes
``t`` of shape ``(n, outputs)`` in the network's dtype. The default loss is the one whose output
delta is ``o − t`` for the output activation (softmax → cross-entropy, sigmoid → log loss,
otherwise ½ squared error). Accuracy is counted where the outputs are classes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .losses import LOSSES, Loss

if TYPE_CHECKING:
    from .network import Network

Array = np.ndarray


def default_loss(network: Network) -> str:
    """The loss that pairs with the output activation (its delta is ``o − t``: each loss declares
    its activation), else the squared error."""
    act = network.layers[-1].activation.name
    return next((k for k, v in LOSSES.items() if v.fused_activation == act), "squared_error")


def prepare_targets(network: Network, y, n: int) -> Array:
    """Targets as ``(n, outputs)``: 1-D integer class labels become one-hot rows."""
    k = network.layers[-1].units
    arr = np.asarray(y)
    if arr.ndim == 1 and k > 1 and arr.shape[0] == n:
        if not np.issubdtype(arr.dtype, np.integer):
            if not np.issubdtype(arr.dtype, np.number) or not np.all(arr == np.round(arr)):
                raise ValueError(f"y is 1-D: expected integer class labels 0…{k - 1}")
            arr = arr.astype(np.int64)
        if arr.min() < 0 or arr.max() >= k:
            raise ValueError(
                f"class labels must lie in 0…{k - 1} for {k} outputs, got {arr.min()}…{arr.max()}"
            )
        t = np.zeros((n, k), dtype=network.dtype)
        t[np.arange(n), arr] = 1
        return t
    return network.check_target(arr, n)


def accuracy_kind(network: Network, loss: Loss) -> str | None:
    """How outputs are read as classes: ``"argmax"`` (softmax, or several outputs with the
    cross-entropy), ``"threshold"`` at 0.5 (sigmoid or log loss), or None (regression)."""
    act = network.layers[-1].activation.name
    if act == "softmax" or (loss.name == "cross_entropy" and network.layers[-1].units > 1):
        return "argmax"
    if act == "sigmoid" or loss.name == "log_loss":
        return "threshold"
    return None


def count_correct(kind: str | None, o: Array, t: Array) -> int:
    """Correctly classified rows of a batch, read the ``kind`` way (None counts nothing)."""
    if kind == "argmax":
        return int(np.count_nonzero(o.argmax(axis=1) == t.argmax(axis=1)))
    if kind == "threshold":
        return int(np.count_nonzero(((o > 0.5) == (t > 0.5)).all(axis=1)))
    return 0
