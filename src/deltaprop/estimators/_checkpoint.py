"""Checkpoints of a scikit-learn estimator's training: nothing lost, nothing unpickled.

With ``checkpoint_dir`` set, the stochastic solvers write the run after every epoch as an ordinary
model file (``epoch-00012.deltaprop``, the two newest kept, atomic): the network, the optimizer
with its state, the history, and in its metadata the estimator's parameters and fitted state (the
epoch and update counts, the loss curve, the early-stopping bookkeeping, the classes). Ctrl-C
during ``fit`` keeps scikit-learn's behaviour (a warning, the model as it stands) and names the
newest checkpoint. :meth:`from_checkpoint` builds the fitted estimator back from such a file:
it predicts, and ``warm_start=True`` or ``partial_fit`` continue its training with the saved
optimizer state.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from sklearn.preprocessing import LabelBinarizer

from .. import io
from ..checkpoints import PATTERN, prune

KEEP = 2
# Fitted attributes saved as they are (numbers and lists of numbers).
_FITTED = ("n_iter_", "t_", "n_outputs_", "n_layers_", "n_features_in_", "out_activation_",
           "loss_curve_", "best_loss_", "_no_improvement_count", "validation_scores_",
           "best_validation_score_")  # fmt: skip


def _plain(value):
    """A JSON-ready copy: tuples and arrays as lists, NumPy scalars as Python numbers."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None if np.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def _number(value):
    return {"inf": np.inf, "-inf": -np.inf, None: np.nan}.get(value, value) if (
        value is None or isinstance(value, str)) else value  # fmt: skip


class CheckpointMixin:
    """``checkpoint_dir`` and ``from_checkpoint`` for the estimators."""

    def _write_checkpoint(self) -> Path | None:
        """Save the run as it stands after an epoch (if ``checkpoint_dir`` is set)."""
        if self.checkpoint_dir is None:
            return None
        folder = Path(self.checkpoint_dir)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / PATTERN.format(self.n_iter_)
        params = {k: v for k, v in self.get_params(deep=False).items() if k != "checkpoint_dir"}
        state = {"class": type(self).__name__, "params": _plain(params),
                 "fitted": {k: _plain(vars(self).get(k)) for k in _FITTED}}  # fmt: skip
        if "classes_" in vars(self):
            state["classes"] = _plain(self.classes_)
            state["y_type"] = self._label_binarizer.y_type_
        io.save(path, self.network_, optimizer=self._optimizer,
                optimizer_state=self._optimizer_state, history=self.history_,
                metadata={"estimator": state})  # fmt: skip
        prune(folder, KEEP)
        return path

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike):
        """The fitted estimator a checkpoint holds (written with ``checkpoint_dir``)."""
        saved = io.load(path)
        state = (saved.metadata or {}).get("estimator")
        if not isinstance(state, dict) or state.get("class") != cls.__name__:
            raise ValueError(f"{path} is not a checkpoint of a {cls.__name__}")
        try:
            params = dict(state["params"])
            if isinstance(params.get("hidden_layer_sizes"), list):  # a tuple, written as a list
                params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
            est = cls(**params)
            for k, v in state["fitted"].items():
                if k in ("best_loss_", "best_validation_score_") or k == "loss_curve_":
                    v = [_number(x) for x in v] if isinstance(v, list) else _number(v)
                setattr(est, k, v)
            if "classes" in state:
                _restore_classes(est, state["classes"], state["y_type"])
        except (TypeError, KeyError, ValueError) as exc:
            raise ValueError(f"{path}: a damaged estimator checkpoint ({exc})") from None
        est.network_ = saved.network
        est.history_ = saved.history
        est._optimizer = saved.optimizer
        est._optimizer_state = saved.optimizer.lay_out_like(saved.network.params(),
                                                             saved.optimizer_state)  # fmt: skip
        est._best_weights = saved.network.get_weights()
        return est


def _restore_classes(est, classes: list, y_type: str) -> None:
    binarizer = LabelBinarizer()
    if y_type.startswith("multilabel"):
        binarizer.fit(np.eye(len(classes), dtype=int))
    else:
        binarizer.fit(np.asarray(classes))
    binarizer.classes_ = np.asarray(classes)
    est._label_binarizer = binarizer
    est.classes_ = binarizer.classes_
