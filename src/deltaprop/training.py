"""The training loop: gradient descent in batch, stochastic or mini-batch mode.

``fit`` orchestrates: it checks the arguments once, then runs epochs (:func:`deltaprop.epoch.
run_epoch`, which runs :class:`deltaprop.step.TrainingStep` on every batch), and after each epoch
records the history, scores the validation data, lets the schedule and the callbacks speak.

The error minimised is ``E = (1/n_b) Σᵢ J(oᵢ, tᵢ) + (λ/2) Σₗ ‖Wˡ‖²`` over each batch (biases are not
decayed). A run that diverges (a non-finite loss or weight) stops with :class:`DivergenceError` and
leaves the network with the weights it had at the end of its last good epoch.
"""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .batches import NonFiniteBatch, as_inputs
from .buffers import forward_buffers
from .callbacks import Callback, EarlyStopping
from .divergence import DivergenceCheck, DivergenceError, chance_loss
from .epoch import EpochResult, run_epoch
from .history import History, TrainingRun
from .interrupt import TrainingInterrupted
from .losses import Loss, get_loss
from .norms import EpochNorms
from .optimizers import Optimizer, State, copy_state, get_optimizer
from .saturation import epoch_saturation, sample_rows
from .schedules import Schedule, get_schedule
from .step import TrainingStep, targets_normalised
from .targets import accuracy_kind, count_correct, default_loss, prepare_targets
from .trace import Trace
from .validation import check_finite, check_int, check_number, check_sample_weight
from .vanishing import VanishingWatch

if TYPE_CHECKING:
    from .network import Network

Array = np.ndarray

__all__ = [
    "DivergenceError",
    "History",
    "TrainingRun",
    "default_loss",
    "fit",
    "prepare_targets",
]


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
    trace_steps: Sequence[int] = (),
    divergence_check: bool | DivergenceCheck = True,
    stop: threading.Event | None = None,
    verbose: bool = False,
    record_update_loss: bool = False,
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
    ``trace_steps`` lists updates of this call (counted from 0) to record as worked solutions,
    exactly as :func:`deltaprop.explain` shows a step: ``history.traces``.
    A run whose loss or weights become non-finite stops with :class:`DivergenceError`; so does,
    with ``divergence_check`` (a :class:`DivergenceCheck`, or True for the default one), a run
    that stays far above the chance-level loss (:mod:`deltaprop.divergence`).
    ``stop`` (a ``threading.Event``, or anything with ``is_set()``) is checked after every batch:
    once set, the run goes back to its last complete epoch's end and raises
    :class:`~deltaprop.interrupt.TrainingInterrupted` (see :mod:`deltaprop.interrupt`).
    With ``track_norms`` the history records per-layer gradient and delta norms and, at each
    epoch's end on up to 1,024 evenly spaced training rows, the shares of saturated and dead
    units (:mod:`deltaprop.saturation`); a run whose first layer's gradient stays below 1e-4 of
    the last layer's warns once (:class:`~deltaprop.vanishing.VanishingGradientWarning`).
    ``record_update_loss`` keeps every update's batch error in ``history.update_loss``.
    """
    p = _plan(network, x, y, loss, optimizer, learning_rate, epochs, batch_size, seed, l2,
              schedule, validation_data, callbacks, early_stopping, optimizer_state,
              initial_epoch, sample_weight, trace_steps, divergence_check)  # fmt: skip
    run, opt, history = p.run, p.step.optimizer, p.run.history
    last_good = network.get_weights()
    norms = EpochNorms(network) if track_norms else None
    run.initial_loss = _untrained_loss(p)
    for cb in p.callbacks:
        cb.on_train_begin(run)
    per_update = history.update_loss if record_update_loss else None
    for epoch in range(p.epochs):
        started = time.perf_counter()
        counted = initial_epoch + epoch  # the epoch's index counting the runs this one resumes
        opt.learning_rate = p.schedule.learning_rate(counted, p.base_lr)
        entering = _Snapshot(run) if stop is not None else None
        order = run.rng.permutation(p.n) if shuffle and p.batch_size < p.n else None
        try:
            r = run_epoch(p.step, p.X, p.T, order, p.batch_size, sample_weight=p.W, l2=p.l2,
                          accuracy=p.accuracy, norms=norms, trace_at=p.trace_at,
                          first_update=history.updates,
                          stop=None if stop is None else stop.is_set,
                          update_loss=per_update)  # fmt: skip
        except NonFiniteBatch as exc:  # a NaN met in a memmap batch: keep the last good epoch
            network.set_weights(last_good)
            raise ValueError(
                f"{exc}; training stopped in epoch {counted + 1} and the network keeps the "
                f"weights of its last good epoch ({counted})"
            ) from None
        if r.interrupted:
            opt.learning_rate = p.base_lr
            entering.restore(run, last_good)
            _interrupted(run, p.callbacks, getattr(stop, "signal", None))
        history.traces += [_as_trace(p.step, st) for st in r.traces]
        if not r.finite or not all(np.isfinite(v).all() for v in p.step.params.values()):
            network.set_weights(last_good)
            _diverged(history, counted, r)
        last_good = network.get_weights()
        logs = _record(history, r, p, opt.learning_rate, norms is not None)
        p.schedule.observe(logs.get("val_loss", logs["loss"]))
        history.epoch_seconds.append(time.perf_counter() - started)
        if verbose:
            print(_format_epoch(counted, initial_epoch + p.epochs, logs))
        for cb in p.callbacks:
            cb.on_epoch_end(epoch, logs, run)
        if run.stop_training:
            break
    for cb in p.callbacks:
        cb.on_train_end(run)
    opt.learning_rate = p.base_lr
    history.optimizer_state = run.state
    return history


@dataclass
class _Plan:
    """The checked arguments of one ``fit`` call."""

    step: TrainingStep
    run: TrainingRun
    X: Array
    T: Array
    W: Array | None
    n: int
    batch_size: int
    epochs: int
    l2: float
    base_lr: float
    schedule: Schedule
    validation: tuple[Array, Array] | None
    callbacks: list[Callback]
    accuracy: str | None
    trace_at: frozenset[int]
    watch: VanishingWatch


def _plan(network, x, y, loss, optimizer, learning_rate, epochs, batch_size, seed, l2, schedule,
          validation_data, callbacks, early_stopping, optimizer_state, initial_epoch,
          sample_weight, trace_steps, divergence_check) -> _Plan:  # fmt: skip
    loss = get_loss(loss if loss is not None else default_loss(network))
    opt = get_optimizer(optimizer)
    if learning_rate is not None:
        opt.learning_rate = check_number(learning_rate, "learning rate", 0.0, low_inclusive=False)
    epochs = check_int(epochs, "epochs", 0)
    initial_epoch = check_int(initial_epoch, "initial_epoch", 0)
    l2 = check_number(l2, "l2", 0.0)
    sched = get_schedule(schedule)
    X = as_inputs(network, x, "x")
    n = X.shape[0]
    T = prepare_targets(network, y, n)
    W = None if sample_weight is None else check_sample_weight(sample_weight, n)
    bs = n if batch_size is None else min(check_int(batch_size, "batch_size", 1), n)
    val = None
    if validation_data is not None:
        if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
            raise ValueError("validation_data must be a pair (x_val, y_val)")
        xv = as_inputs(network, validation_data[0], "x_val")
        if isinstance(xv, np.memmap):  # scored whole every epoch: checked once, block by block
            check_finite(xv, "x_val")
        val = (xv, prepare_targets(network, validation_data[1], xv.shape[0]))
    cbs = list(callbacks)
    if early_stopping is not None:
        es = early_stopping
        if not isinstance(es, EarlyStopping):
            es = EarlyStopping(patience=check_int(es, "early_stopping", 0))
        cbs.append(es)
    if divergence_check is True:
        divergence_check = DivergenceCheck()
    if divergence_check:
        if not isinstance(divergence_check, DivergenceCheck):
            raise TypeError("divergence_check must be True, False or a DivergenceCheck")
        cbs.insert(0, divergence_check)
    if isinstance(trace_steps, int | str) or trace_steps is None:
        raise TypeError("trace_steps must be a list of update numbers, e.g. [0, 100]")
    trace_at = frozenset(check_int(k, "trace_steps entry", 0) for k in trace_steps)
    network.flat_params()  # θ as one vector (re-laid-out if a layer's W was replaced)
    params = network.params()
    state = (
        opt.init(params) if optimizer_state is None else opt.lay_out_like(params, optimizer_state)
    )
    step = TrainingStep(network, loss, opt, state, targets_normalised(T))
    accuracy = accuracy_kind(network, loss)
    history = History(initial_epoch=initial_epoch, schedule=None if schedule is None else sched,
                      optimizer_name=opt.name)  # fmt: skip
    run = TrainingRun(network, opt, state, history, rng=np.random.default_rng(seed),
                      chance_loss=chance_loss(loss, T, W), classifier=accuracy is not None,
                      base_learning_rate=opt.learning_rate)  # fmt: skip
    return _Plan(step, run, X, T, W, n, bs, epochs, l2, opt.learning_rate, sched, val, cbs,
                 accuracy, trace_at, VanishingWatch(epochs))  # fmt: skip


def _untrained_loss(p: _Plan) -> float:
    """The error before training, on the rows saturation is measured on (up to 1,024, evenly
    spaced): the divergence check's reference for a loss that explodes."""
    rows = sample_rows(p.n)
    o = p.step.network.predict(p.X[rows], check_finite=False)
    return p.step.loss.value(o, p.T[rows], None if p.W is None else p.W[rows])


def _saturation(p: _Plan) -> tuple[list[float], list[float]] | None:
    """The saturated and dead shares on up to 1,024 evenly spaced training rows, at the end of
    an epoch, through the training workspace's buffers (or 256-row ones for small batches);
    None if those rows hold a NaN (a memmap's: the next epoch says where)."""
    net = p.step.network
    if p.batch_size >= 32:
        buffers = net.workspace(p.batch_size).forward
    else:
        buffers = forward_buffers(net.layers, np.empty((256, p.X.shape[1]), dtype=net.dtype))
    try:
        return epoch_saturation(net, p.X, sample_rows(p.n), buffers)
    except NonFiniteBatch:
        return None


def _record(history: History, r: EpochResult, p: _Plan, lr: float, norms: bool) -> dict:
    """Append the epoch's records (and the validation scores) to ``history``; return the logs."""
    history.updates += r.updates
    history.loss.append(r.loss)
    history.learning_rate.append(lr)
    if p.accuracy:
        history.accuracy.append(r.correct / p.n)
    if norms:
        history.layer_grad_norms.append(r.layer_grad_norms)
        history.grad_norm.append(r.grad_norm)
        history.layer_delta_norms.append(r.layer_delta_norms)
        shares = _saturation(p)
        if shares is not None:
            history.layer_saturation.append(shares[0])
            history.layer_dead.append(shares[1])
        p.watch.observe(r.layer_grad_norms, history.end_epoch)
    logs = {"loss": history.loss[-1], "accuracy": history.accuracy[-1] if p.accuracy else None}
    if p.validation is not None:
        xv, tv = p.validation
        out = p.step.network.predict(xv, check_finite=False)  # a diverging run: NaN, no error
        history.val_loss.append(p.step.loss.value(out, tv))
        logs["val_loss"] = history.val_loss[-1]
        if p.accuracy:
            history.val_accuracy.append(count_correct(p.accuracy, out, tv) / len(out))
            logs["val_accuracy"] = history.val_accuracy[-1]
    return logs


class _Snapshot:
    """What an epoch starts from besides the weights: the optimizer state and the generator."""

    def __init__(self, run: TrainingRun):
        self.state = copy_state(run.state)
        self.rng = run.rng.bit_generator.state

    def restore(self, run: TrainingRun, weights: dict) -> None:
        run.network.set_weights(weights)
        for slot, value in self.state.items():
            if isinstance(value, dict):
                for k, a in value.items():
                    np.copyto(run.state[slot][k], a)
            else:
                run.state[slot] = value
        run.rng.bit_generator.state = self.rng


def _interrupted(run: TrainingRun, callbacks: list[Callback], signum: int | None) -> None:
    for cb in callbacks:
        cb.on_interrupt(run)
    done = run.history.end_epoch
    where = f"; checkpoint: {run.checkpoint}" if run.checkpoint else ""
    error = TrainingInterrupted(
        f"training interrupted during epoch {done + 1}: back at the end of epoch {done}{where}",
        run.history,
        signum,
    )
    error.checkpoint = run.checkpoint
    run.history.optimizer_state = run.state
    raise error


def _diverged(history: History, epoch: int, r: EpochResult) -> None:
    # A non-finite batch error stops the epoch before update r.updates + 1; non-finite weights
    # are found after the epoch's last update.
    update, value = (r.updates + 1, r.loss) if not r.finite else (r.updates, float("nan"))
    raise DivergenceError(
        f"training diverged at epoch {epoch + 1}, update {update}: the loss became {value} "
        f"(try a smaller learning rate); the network keeps the weights of its last good epoch "
        f"({epoch}).",
        history,
    )


def _as_trace(step: TrainingStep, st) -> Trace:
    """A recorded update as a one-step worked solution, with the optimizer's settings then."""
    net = step.network
    acts = [ly.activation for ly in net.layers]
    return Trace(net.sizes, acts, step.loss, copy.copy(step.optimizer), False, [st])


def _format_epoch(epoch: int, epochs: int, logs: dict) -> str:
    parts = [f"epoch {epoch + 1}/{epochs}"]
    parts += [f"{k} {v:.4f}" for k, v in logs.items() if v is not None]
    return "  ".join(parts)
