"""One epoch of mini-batch training with scikit-learn's L2 penalty, on the engine's kernels.

scikit-learn's batch error is ``E_b = Σᵢ wᵢ J(oᵢ, tᵢ) / Σᵢ wᵢ + α/(2 Σᵢ wᵢ) Σₗ ‖Wˡ‖²`` over the
batch (``Σᵢ wᵢ = n_b`` unweighted), so the engine's ``λ`` of ``(λ/2) Σ ‖W‖²`` is ``α / Σ_b w``
and changes from batch to batch: the last, smaller batch and every weighted batch get their own.
That per-batch λ is why this loop exists beside :func:`deltaprop.training.fit` (whose ``l2`` is one
number per run); everything else — forward, deltas, gradients, optimizer step — is the engine's.
It is what makes a sample of weight 2 train exactly as the sample given twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..losses import Loss
from ..network import Network, Workspace
from ..norms import EpochNorms
from ..optimizers import Optimizer, State
from ..penalty import L2Penalty

Array = np.ndarray


@dataclass
class EpochResult:
    """What one epoch measured.

    ``loss`` is ``Σ_b n_b·E_b / n`` with ``E_b`` the reported batch error (scikit-learn's
    ``loss_``); ``layer_grad_norms[l]`` is the root-mean-square over updates of ‖(∂E/∂Wˡ, ∂E/∂bˡ)‖
    (L2 term included) and ``layer_delta_norms[l]`` the RMS per-sample ‖δˡ‖, as in
    :class:`deltaprop.History`. ``finite`` is false if a batch error was NaN or infinite (the epoch
    stopped there).
    """

    loss: float
    correct: int
    updates: int
    layer_grad_norms: list[float]
    layer_delta_norms: list[float]
    finite: bool = True

    @property
    def grad_norm(self) -> float:
        return math.sqrt(sum(g * g for g in self.layer_grad_norms))


def gather(X, idx, out: Array) -> None:
    """Copy the rows ``X[idx]`` into ``out``; a sparse ``X`` is densified batch by batch."""
    if hasattr(X, "toarray"):
        np.copyto(out, X[idx].toarray(), casting="unsafe")
    elif isinstance(idx, slice):
        np.copyto(out, X[idx], casting="unsafe")
    else:
        np.take(X, idx, axis=0, out=out)


def count_correct(kind: str | None, o: Array, t: Array) -> int:
    """Correct predictions in a batch: ``"argmax"`` (softmax) or ``"threshold"`` (logistic)."""
    if kind == "argmax":
        return int(np.count_nonzero(o.argmax(axis=1) == t.argmax(axis=1)))
    if kind == "threshold":
        return int(np.count_nonzero(((o > 0.5) == (t > 0.5)).all(axis=1)))
    return 0


def run_epoch(
    network: Network,
    optimizer: Optimizer,
    state: State,
    X,
    T: Array,
    sample_weight: Array | None,
    order: Array | None,
    batch_size: int,
    alpha: float,
    loss: Loss,
    loss_scale: float = 1.0,
    accuracy: str | None = None,
) -> EpochResult:
    """Visit ``X`` (n, inputs) in ``order`` (None: as stored), ``batch_size`` samples an update.

    Per batch: forward, ``δᴸ`` and the delta rule (``network.backward``), ``∂E/∂W += λ W`` with
    ``λ = α / Σ_b w``, then ``optimizer.update``. ``T`` (n, outputs) has the network's dtype. A
    batch whose weights sum to zero carries no gradient and is skipped. ``loss_scale`` scales the
    *reported* data error only (scikit-learn reports the squared error averaged over outputs while
    its gradient is that of the sum).
    """
    n = X.shape[0]
    params = network.params()
    penalty = L2Penalty(params)
    norms = EpochNorms(network)
    total, correct, updates = 0.0, 0, 0
    for start in range(0, n, batch_size):
        stop = min(start + batch_size, n)
        idx = slice(start, stop) if order is None else order[start:stop]
        w = None if sample_weight is None else sample_weight[idx]
        w_sum = float(stop - start) if w is None else float(w.sum())
        if not w_sum > 0:
            continue  # a batch of zero-weight samples carries no gradient
        ws: Workspace = network.workspace(stop - start)
        gather(X, idx, ws.x)
        gather(T, idx, ws.t)
        fp = network.forward(ws.x, ws)
        lam = alpha / w_sum
        batch_loss = loss_scale * loss.value(fp.output, ws.t, w)
        if lam:
            batch_loss += penalty.value(params, lam)
        if not math.isfinite(batch_loss):
            return EpochResult(batch_loss, correct, updates, [], [], finite=False)
        total += batch_loss * (stop - start)
        correct += count_correct(accuracy, fp.output, ws.t)
        grads = network.backward(fp, ws.t, loss, ws, sample_weight=w, scale_deltas=True)
        if lam:
            penalty.add_gradient(params, ws.grads_by_name, lam)
        norms.add(ws, grads)
        optimizer.update(params, ws.grads_by_name, state)
        updates += 1
    layer_grad, _, layer_delta = norms.epoch(updates)
    return EpochResult(total / n, correct, updates, layer_grad, layer_delta)
