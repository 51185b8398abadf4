"""Why a network trains or stalls, per layer: ``dp.diagnose(network, x, y)``.

For each layer ``l`` on the data ``(x, y)`` (one batch of all rows):

- ``grad_norm``: ``‖(∂E/∂Wˡ, ∂E/∂bˡ)‖``, and ``grad_ratio``, its ratio to the output layer's —
  far below 1 near the input are the tutorials' vanishing gradients;
- ``saturated``: the share of (sample, unit) entries with ``|f′(z)| < 1 %`` of its maximum, and
  ``dead``: the share of units with ``f′ = 0`` on every sample (:mod:`deltaprop.saturation`);
- ``update_ratio``: ``‖Δθˡ‖ / ‖θˡ‖`` of one update (a rule of thumb wants about 1e-3): the step
  the optimizer takes from here, with its state (``optimizer_state``, e.g. a history's) or fresh,
  by the engine's own training step on a copy of the network (the network is not changed).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .losses import Loss, get_loss
from .optimizers import Optimizer, State, copy_state, get_optimizer
from .saturation import layer_saturation, measured
from .step import TrainingStep, targets_normalised
from .targets import default_loss, prepare_targets
from .validation import check_number

if TYPE_CHECKING:
    from .network import Network

COLUMNS = ("layer", "units", "activation", "grad_norm", "grad_ratio", "saturated", "dead",
           "update_ratio")  # fmt: skip


@dataclass
class Diagnosis:
    """Per-layer diagnostics as data (``rows``: one dict per layer, keys :data:`COLUMNS`) and as
    a table (``print(report)``). ``saturated``/``dead`` are None where the layer's activation
    does not saturate (cannot die)."""

    rows: list[dict]
    loss: float
    optimizer: str

    def as_dict(self) -> dict:
        """JSON-ready: the loss, the optimizer's name and the rows."""
        layers = [dict(r) for r in self.rows]
        return {"loss": self.loss, "optimizer": self.optimizer, "layers": layers}

    def __str__(self) -> str:
        head = ["layer", "units", "activation", "‖∂E/∂θˡ‖", "÷ output", "saturated", "dead",
                "‖Δθˡ‖/‖θˡ‖"]  # fmt: skip
        body = [
            [str(r["layer"]), str(r["units"]), r["activation"], f"{r['grad_norm']:.3e}",
             f"{r['grad_ratio']:.3e}", _share(r["saturated"]), _share(r["dead"]),
             f"{r['update_ratio']:.3e}"]  # fmt: skip
            for r in self.rows
        ]
        widths = [max(len(row[k]) for row in [head, *body]) for k in range(len(head))]
        lines = [f"loss E = {self.loss:.6g}; update by {self.optimizer}"]
        for row in [head, *body]:
            lines.append("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))
        lines.insert(2, "  ".join("-" * w for w in widths))
        return "\n".join(lines)

    __repr__ = __str__


def diagnose(
    network: Network,
    x,
    y,
    loss: str | Loss | None = None,
    *,
    optimizer: str | dict | Optimizer = "sgd",
    learning_rate: float | None = None,
    optimizer_state: State | None = None,
) -> Diagnosis:
    """Per-layer gradient norms, their ratio to the output layer's, saturated and dead units, and
    the update-to-weight ratio of one step of ``optimizer`` (η = ``learning_rate``, or its own;
    ``optimizer_state``, e.g. ``history.optimizer_state``, continues a run) on all of ``(x, y)``.

    ``network`` itself is left unchanged: the step runs on a copy.
    """
    loss = get_loss(loss if loss is not None else default_loss(network))
    opt = copy.deepcopy(get_optimizer(optimizer))
    if learning_rate is not None:
        opt.learning_rate = check_number(learning_rate, "learning rate", 0.0, low_inclusive=False)
    X = network.check_input(x)
    T = prepare_targets(network, y, X.shape[0])
    net = network.copy()
    params = net.params()
    state = (opt.init(params) if optimizer_state is None
             else opt.lay_out_like(params, copy_state(optimizer_state)))  # fmt: skip
    step = TrainingStep(net, loss, opt, state, targets_normalised(T))
    ws = net.workspace(X.shape[0])
    np.copyto(ws.x, X)
    np.copyto(ws.t, T)
    result = step.evaluate(ws)
    if not result.finite:
        raise ValueError(f"the loss on these data is {result.loss}: nothing to diagnose")
    grads = step.backward(ws)
    grad_norms = [_norm(gW, gb) for gW, gb in zip(grads.weights, grads.biases, strict=True)]
    before = [(ly.W.copy(), None if ly.b is None else ly.b.copy()) for ly in net.layers]
    step.update(ws)
    saturated, dead = layer_saturation(network, X)
    saturates, dies = measured(network)
    rows = []
    for i, layer in enumerate(network.layers):
        W0, b0 = before[i]
        moved = _norm(net.layers[i].W - W0, None if b0 is None else net.layers[i].b - b0)
        size = _norm(W0, b0)
        rows.append({
            "layer": i + 1,
            "units": layer.units,
            "activation": layer.activation.name,
            "grad_norm": grad_norms[i],
            "grad_ratio": grad_norms[i] / grad_norms[-1] if grad_norms[-1] > 0 else math.nan,
            "saturated": saturated[i] if saturates[i] else None,
            "dead": dead[i] if dies[i] else None,
            "update_ratio": moved / size if size > 0 else math.inf if moved > 0 else 0.0,
        })  # fmt: skip
    return Diagnosis(rows, result.loss, opt.name)


def _norm(W, b) -> float:
    """``‖(W, b)‖``, the Euclidean norm of a layer's parameters (or of their gradients)."""
    total = float(np.sum(np.square(W, dtype=np.float64)))
    if b is not None:
        total += float(np.sum(np.square(b, dtype=np.float64)))
    return math.sqrt(total)


def _share(v: float | None) -> str:
    return "–" if v is None else f"{100 * v:.1f} %"
