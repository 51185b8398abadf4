"""The training loop: gradient descent in batch, stochastic or mini-batch mode.

One switch chooses the mode (the tutorials' three): ``batch_size=None`` is batch gradient descent
(every update sees all ``n`` samples), ``batch_size=1`` is stochastic gradient descent, anything
between is mini-batch. Each epoch visits every sample once, in an order shuffled by a seeded
generator. Each update is: gather the batch, forward, output delta, delta rule, gradients
(+ L2 ``λW``), optimizer step. The loop reuses one set of buffers per batch size and allocates
nothing per batch; batches are gathered by index, so ``x`` may be a ``np.memmap`` larger than
memory.

The error minimised is ``E = (1/n_b) Σᵢ J(oᵢ, tᵢ) + (λ/2) Σₗ ‖Wˡ‖²`` over each batch (biases are not
decayed). A run that diverges (a non-finite loss or weight) stops with :class:`DivergenceError` and
leaves the network with the weights it had at the end of its last good epoch.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .callbacks import Callback, EarlyStopping
from .losses import Loss, get_loss, rows_sum_to_one
from .network import Network, Workspace
from .norms import EpochNorms
from .optimizers import Optimizer, State, get_optimizer
from .penalty import L2Penalty
from .schedules import Schedule, get_schedule
from .validation import (
    as_2d_float,
    check_int,
    check_number,
    check_sample_weight,
)

Array = np.ndarray


class DivergenceError(ArithmeticError):
    """Training produced a non-finite loss or weight; the network keeps its last good weights."""

    def __init__(self, message: str, history: History):
        super().__init__(message)
        self.history = history


@dataclass
class History:
    """Per-epoch records of a run (lists indexed by epoch).

    ``grad_norm`` is ‖∂E/∂θ‖ over all parameters; ``layer_grad_norms[e][l]`` is
    ‖(∂E/∂Wˡ, ∂E/∂bˡ)‖; ``layer_delta_norms[e][l]`` is the root-mean-square per-sample ‖δˡ‖ —
    all averaged over the epoch's updates. Shrinking norms towards the input layer are the
    tutorials' vanishing gradients, made measurable. ``optimizer_state`` and ``schedule`` (the
    learning-rate schedule given to ``fit``, with what it learned) continue a resumed run.
    """

    loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    accuracy: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    layer_grad_norms: list[list[float]] = field(default_factory=list)
    layer_delta_norms: list[list[float]] = field(default_factory=list)
    learning_rate: list[float] = field(default_factory=list)
    epoch_seconds: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    optimizer_state: State | None = None
    schedule: Schedule | None = None
    updates: int = 0
    initial_epoch: int = 0

    @property
    def epochs(self) -> int:
        """Epochs run by this call of ``fit``."""
        return len(self.loss)

    @property
    def end_epoch(self) -> int:
        """Epochs run in all, counting earlier runs this one resumed (``initial_epoch``): pass
        it as the next resumed call's ``initial_epoch``."""
        return self.initial_epoch + len(self.loss)

    def as_dict(self) -> dict:
        """The records as plain lists (JSON-ready; optimizer state and schedule left out)."""
        return {k: v for k, v in vars(self).items() if k not in ("optimizer_state", "schedule")}


@dataclass
class TrainingRun:
    """What callbacks see: the network, the optimizer with its state, the history so far."""

    network: Network
    optimizer: Optimizer
    state: State
    history: History
    stop_training: bool = False


def _accuracy_kind(network: Network, loss: Loss) -> str | None:
    act = network.layers[-1].activation.name
    if act == "softmax" or (loss.name == "cross_entropy" and network.layers[-1].units > 1):
        return "argmax"
    if act == "sigmoid" or loss.name == "log_loss":
        return "threshold"
    return None


def _correct(kind: str, o: Array, t: Array) -> int:
    if kind == "argmax":
        return int(np.count_nonzero(o.argmax(axis=1) == t.argmax(axis=1)))
    return int(np.count_nonzero(((o > 0.5) == (t > 0.5)).all(axis=1)))


def default_loss(network: Network) -> str:
    """The loss that pairs with the output activation (its delta is ``o − t``)."""
    return {"softmax": "cross_entropy", "sigmoid": "log_loss"}.get(
        network.layers[-1].activation.name, "squared_error"
    )


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


def _as_inputs(network: Network, x, name: str) -> Array:
    if isinstance(x, np.memmap):
        # Kept on disk: checked and cast batch by batch, never copied whole.
        if x.ndim != 2 or x.shape[1] != network.layers[0].inputs:
            raise ValueError(
                f"{name} must have shape (n, {network.layers[0].inputs}), got {x.shape}"
            )
        return x
    return as_2d_float(x, name, network.dtype, n_columns=network.layers[0].inputs)


def _gather(x: Array, idx: Array | slice, ws: Workspace, out: Array | None = None) -> None:
    """Copy the batch ``x[idx]`` into the buffer ``out`` (default ``ws.x``), casting if need be."""
    out = ws.x if out is None else out
    if isinstance(idx, slice):
        np.copyto(out, x[idx], casting="unsafe")
    elif x.dtype == out.dtype:
        # mode="clip": the indices come from a permutation of range(n), so none is out of range;
        # the default mode="raise" buffers the copy and runs ~3× slower.
        x.take(idx, axis=0, out=out, mode="clip")
    else:
        np.copyto(out, np.take(x, idx, axis=0, mode="clip"), casting="unsafe")
    if isinstance(x, np.memmap):
        bad = ~np.isfinite(out)
        if bad.any():
            # Report the position in x, not in the batch (whose rows are x[idx]).
            i, j = (int(v) for v in np.argwhere(bad)[0])
            row = idx.start + i if isinstance(idx, slice) else int(idx[i])
            raise ValueError(f"x contains NaN or infinity (at index [{row}, {j}])")


def fit(
    network: Network,
    x,
    y,
    *,
    loss: str | Loss | None = None,
    optimizer: str | Optimizer | dict = "sgd",
    learning_rate: float | None = None,
    epochs: int = 10,
    batch_size: int | None = 32,
    shuffle: bool = True,
    seed: int | np.random.Generator | None = None,
    l2: float = 0.0,
    schedule: str | Schedule | None = None,
    validation_data: tuple | None = None,
    callbacks: Sequence[Callback] = (),
    early_stopping: int | EarlyStopping | None = None,
    optimizer_state: State | None = None,
    initial_epoch: int = 0,
    sample_weight=None,
    track_norms: bool = True,
    verbose: bool = False,
) -> History:
    """Train ``network`` in place on ``(x, y)`` and return its :class:`History`.

    ``loss`` defaults to the one that pairs with the output activation (softmax → cross-entropy,
    sigmoid → log loss, otherwise ½ squared error). ``optimizer`` is a name, a dict or an
    :class:`Optimizer`; ``learning_rate`` overrides its η. ``batch_size=None`` is full-batch
    gradient descent. ``early_stopping`` is a patience (int) or an :class:`EarlyStopping`.
    ``optimizer_state`` continues a previous run (``history.optimizer_state``), updated in place
    (arrays read from a file are first copied into one flat vector per slot, in the same dicts).
    ``initial_epoch`` is the number of epochs run before this call (``history.end_epoch`` of the
    run being resumed): the learning-rate schedule continues from there, so that 2 + 2 epochs
    equal 4, and messages number epochs from there. Unlike Keras's argument of that name,
    ``epochs`` still counts the epochs of this call, and the history's lists and the callbacks'
    ``epoch`` index this call's epochs from 0. The schedule instance itself (not a copy), with
    what it learned (a ``ReduceOnPlateau``'s best loss), is ``history.schedule``: model files
    keep it.
    ``sample_weight`` (n,) makes every batch error the weighted mean ``Σ wᵢ Jᵢ / Σ wᵢ``.
    """
    loss = get_loss(loss if loss is not None else default_loss(network))
    opt = get_optimizer(optimizer)
    if learning_rate is not None:
        opt.learning_rate = check_number(learning_rate, "learning rate", 0.0, low_inclusive=False)
    base_lr = opt.learning_rate
    epochs = check_int(epochs, "epochs", 0)
    initial_epoch = check_int(initial_epoch, "initial_epoch", 0)
    l2 = check_number(l2, "l2", 0.0)
    sched = get_schedule(schedule)
    X = _as_inputs(network, x, "x")
    n = X.shape[0]
    T = prepare_targets(network, y, n)
    # Softmax + cross-entropy's δ = o − t needs target rows summing to 1: checked here once for
    # all batches (one-hot rows from labels do) instead of once per batch. If some row does not,
    # each batch still checks its own rows (None), so only the batches holding such a row take
    # the general form, as without this shortcut.
    targets_normalised = True if rows_sum_to_one(T, exact=True) else None
    SW = None if sample_weight is None else check_sample_weight(sample_weight, n)
    bs = n if batch_size is None else min(check_int(batch_size, "batch_size", 1), n)
    val = None
    if validation_data is not None:
        if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
            raise ValueError("validation_data must be a pair (x_val, y_val)")
        xv = _as_inputs(network, validation_data[0], "x_val")
        val = (xv, prepare_targets(network, validation_data[1], xv.shape[0]))
    cbs = list(callbacks)
    if early_stopping is not None:
        es = early_stopping
        if not isinstance(es, EarlyStopping):
            es = EarlyStopping(patience=check_int(es, "early_stopping", 0))
        cbs.append(es)
    rng = np.random.default_rng(seed)
    network.flat_params()  # θ as one vector (re-laid-out if a layer's W was replaced)
    params = network.params()
    state = (
        opt.init(params) if optimizer_state is None else opt.lay_out_like(params, optimizer_state)
    )
    history = History(initial_epoch=initial_epoch, schedule=None if schedule is None else sched)
    run = TrainingRun(network, opt, state, history)
    acc_kind = _accuracy_kind(network, loss)
    penalty = L2Penalty(params)
    last_good = network.get_weights()

    norms = EpochNorms(network) if track_norms else None
    for cb in cbs:
        cb.on_train_begin(run)
    for epoch in range(epochs):
        started = time.perf_counter()
        counted = initial_epoch + epoch  # the epoch's index counting the runs this one resumes
        opt.learning_rate = sched.learning_rate(counted, base_lr)
        order = rng.permutation(n) if shuffle and bs < n else None
        total_loss = 0.0
        correct = 0
        if norms is not None:
            norms.reset()
        n_updates = 0
        ws = None
        flat = None
        for start in range(0, n, bs):
            stop = min(start + bs, n)
            if ws is None or ws.n != stop - start:
                ws = network.workspace(stop - start)
                # θ, its gradient and the optimizer's slots as whole vectors, found once per
                # workspace: each step is then one call per element-wise operation.
                flat = opt.flat_arrays(params, ws.grads_by_name, state)
            idx = slice(start, stop) if order is None else order[start:stop]
            try:
                _gather(X, idx, ws)
            except ValueError as exc:  # a NaN met in a memmap batch: keep the last good epoch
                network.set_weights(last_good)
                raise ValueError(
                    f"{exc}; training stopped in epoch {counted + 1} and the network keeps the "
                    f"weights of its last good epoch ({counted})"
                ) from None
            _gather(T, idx, ws, ws.t)
            fp = network.forward(ws.x, ws)
            w = None if SW is None else SW[idx]
            if w is not None and not w.sum() > 0:
                continue  # a batch of zero-weight samples carries no gradient
            batch_loss = loss.value(fp.output, ws.t, w)
            if l2:
                batch_loss += penalty.value(params, l2)
            if not math.isfinite(batch_loss):
                _diverged(network, last_good, history, counted, start // bs, batch_loss)
            total_loss += batch_loss * (stop - start)
            if acc_kind:
                correct += _correct(acc_kind, fp.output, ws.t)
            grads = network.backward(
                fp,
                ws.t,
                loss,
                ws,
                sample_weight=w,
                scale_deltas=True,
                target_rows_sum_to_one=targets_normalised,
            )
            if l2:
                penalty.add_gradient(params, ws.grads_by_name, l2)
            if norms is not None:
                norms.add(ws, grads)
            if flat is not None:
                opt.update_flat(*flat, state)
            else:
                opt.update(params, ws.grads_by_name, state)
            n_updates += 1
        if not all(np.isfinite(p).all() for p in params.values()):
            _diverged(network, last_good, history, counted, n_updates - 1, float("nan"))
        last_good = network.get_weights()
        history.updates += n_updates
        history.loss.append(total_loss / n)
        history.learning_rate.append(opt.learning_rate)
        if acc_kind:
            history.accuracy.append(correct / n)
        if norms is not None:
            layer_grad, total, layer_delta = norms.epoch(n_updates)
            history.layer_grad_norms.append(layer_grad)
            history.grad_norm.append(total)
            history.layer_delta_norms.append(layer_delta)
        logs = {"loss": history.loss[-1], "accuracy": history.accuracy[-1] if acc_kind else None}
        if val is not None:
            out = network.predict(val[0])
            history.val_loss.append(loss.value(out, val[1]))
            logs["val_loss"] = history.val_loss[-1]
            if acc_kind:
                history.val_accuracy.append(_correct(acc_kind, out, val[1]) / len(out))
                logs["val_accuracy"] = history.val_accuracy[-1]
        sched.observe(logs.get("val_loss", logs["loss"]))
        history.epoch_seconds.append(time.perf_counter() - started)
        if verbose:
            print(_format_epoch(counted, initial_epoch + epochs, logs))
        for cb in cbs:
            cb.on_epoch_end(epoch, logs, run)
        if run.stop_training:
            break
    for cb in cbs:
        cb.on_train_end(run)
    opt.learning_rate = base_lr
    history.optimizer_state = state
    return history


def _diverged(network, last_good, history, epoch, batch, value) -> None:
    network.set_weights(last_good)
    raise DivergenceError(
        f"training diverged at epoch {epoch + 1}, update {batch + 1}: the loss became {value} "
        f"(try a smaller learning rate); the network keeps the weights of its last good epoch "
        f"({epoch}).",
        history,
    )


def _format_epoch(epoch: int, epochs: int, logs: dict) -> str:
    parts = [f"epoch {epoch + 1}/{epochs}"]
    parts += [f"{k} {v:.4f}" for k, v in logs.items() if v is not None]
    return "  ".join(parts)
