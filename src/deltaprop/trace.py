"""A worked solution as data: every array one training step of the engine computed.

:func:`explain` trains a copy of a network for a few steps and returns a :class:`Trace`;
:func:`record_step` runs training's own step (:class:`deltaprop.step.TrainingStep`, phase by
phase, with the same buffers' equations and the same optimizer dispatch as ``fit``) and keeps
copies of what each phase produced, with the optimizer state before and after and the forward pass
again with the new parameters. ``fit(..., trace_steps=[…])`` records chosen steps of a real run
the same way. Renderers (``deltaprop.render``) only format these numbers; they compute none.

Shapes, for ``n`` samples and layers ``l = 1 … L`` (list index ``l − 1``): ``x`` (n, inputs),
``t`` and every output quantity (n, k); ``z[l-1]``, ``a[l]``, ``deltas[l-1]`` (n, units_l);
``W[l-1]``, ``dW[l-1]`` (units_l, units_{l−1}); ``b[l-1]``, ``db[l-1]`` (units_l,) or None.
"""

from __future__ import annotations

import copy
import json
import math
import numbers
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from .activations import Activation
from .losses import Loss, get_loss, output_delta, shortcut_applies
from .optimizers import Optimizer, State, copy_state, get_optimizer
from .step import StepResult, TrainingStep, targets_normalised
from .targets import default_loss
from .validation import check_int, check_number

if TYPE_CHECKING:
    from .network import Network

Array = np.ndarray


@dataclass
class StepTrace:
    """One training step: forward, loss, deltas, gradients, update, forward again."""

    step: int
    x: Array
    t: Array
    W: list[Array]
    b: list[Array | None]
    z: list[Array]
    a: list[Array]  # a[0] = x, a[l] = f(z[l-1]); a[-1] is the output o
    loss_per_sample: Array  # J(oₛ, tₛ), shape (n,)
    loss: float  # E = (1/n) Σₛ J(oₛ, tₛ)
    dJ_do: Array  # per-sample ∂J/∂o (n, k)
    fprime: list[Array | None]  # f'(zˡ) for element-wise activations, else None
    jacobian: list[Array | None]  # Jacobians ∂aᵢ/∂zⱼ (n, units, units) where not element-wise
    back: list[Array | None]  # ∂J/∂aˡ = (Wˡ⁺¹)ᵀ δˡ⁺¹ per sample (n, units); None for the output
    delta_general: Array  # δᴸ by the general chain rule (use_shortcut=False)
    shortcut: bool  # δᴸ = o − t is valid for this (activation, loss) pair
    deltas: list[Array]  # what the engine's backward pass returned (training's own delta)
    dW: list[Array]
    db: list[Array | None]
    state_before: State
    state_after: State
    W_after: list[Array]
    b_after: list[Array | None]
    z_after: list[Array]
    a_after: list[Array]
    loss_per_sample_after: Array
    loss_after: float
    l2: float = 0.0  # λ of the L2 penalty (λ/2) Σ ‖Wˡ‖² (fit's l2), 0 without
    penalty: float = 0.0  # its value before the step; loss is the data error alone
    g: dict[str, Array] | None = None  # the gradient the optimizer received: ∂E/∂θ + λW
    # what the optimizer's reference rule computed on the way (m̂, v̂, η_t, Δ, g + λθ, Δθ …)
    optimizer_record: dict = field(default_factory=dict)

    @property
    def output(self) -> Array:
        return self.a[-1]

    @property
    def output_after(self) -> Array:
        return self.a_after[-1]

    @property
    def n(self) -> int:
        return self.x.shape[0]

    def as_dict(self, single_sample: bool = False) -> dict:
        """JSON-ready record at full precision; per-sample arrays are vectors if ``single_sample``.

        Per-layer values are lists with one entry per non-input layer.
        """

        def s(arr):  # a per-sample array: (n, k), or (k,) for one sample given as a vector
            return _plain(arr[0] if single_sample else arr)

        return {
            "step": self.step,
            "input": s(self.x),
            "target": s(self.t),
            "weights": _plain(self.W),
            "biases": _plain(self.b),
            "z": [s(z) for z in self.z],
            "a": [s(a) for a in self.a[1:]],
            "output": s(self.output),
            "loss": self.loss,
            "loss_per_sample": _plain(self.loss_per_sample),
            "dloss_doutput": s(self.dJ_do),
            "output_delta_general": s(self.delta_general),
            "output_delta_shortcut_valid": self.shortcut,
            "deltas": [s(d) for d in self.deltas],
            "grad_weights": _plain(self.dW),
            "grad_biases": _plain(self.db),
            "optimizer_state_before": _plain(self.state_before),
            "optimizer_state_after": _plain(self.state_after),
            "weights_after": _plain(self.W_after),
            "biases_after": _plain(self.b_after),
            "z_after": [s(z) for z in self.z_after],
            "a_after": [s(a) for a in self.a_after[1:]],
            "output_after": s(self.output_after),
            "loss_after": self.loss_after,
        }


@dataclass
class Trace:
    """A worked solution of ``len(steps)`` training steps of one network on one batch.

    ``single_sample`` records that the input was given as one vector (not a list of samples).
    """

    sizes: list[int]
    activations: list[Activation]
    loss: Loss
    optimizer: Optimizer
    single_sample: bool
    steps: list[StepTrace]

    @property
    def learning_rate(self) -> float:
        return self.optimizer.learning_rate

    def as_dict(self) -> dict | list[dict]:
        """The JSON data: one step's record, or a list of records (one per step) for several."""
        records = []
        for st in self.steps:
            rec = {
                "layers": list(self.sizes),
                "activations": [act.name for act in self.activations],
                "loss_function": self.loss.name,
                "optimizer": {"name": self.optimizer.name, **optimizer_settings(self.optimizer)},
                "batch_size": st.n,
                **st.as_dict(self.single_sample),
            }
            records.append(rec)
        return records[0] if len(records) == 1 else records

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`as_dict` as JSON text: floats at full precision, NaN and ±∞ (a diverged step)
        as ``null``, so that the text is always valid JSON."""
        return json.dumps(_finite_or_none(self.as_dict()), indent=indent, allow_nan=False)

    def render(self, fmt: str = "text", decimals: int = 4, summary: bool = False) -> str:
        """The worked solution as ``"text"``, ``"markdown"``, ``"html"`` or ``"json"``;
        ``summary``: the set-up, the first step in full, then the per-step table and charts."""
        from .render import render

        return render(self, fmt, decimals, summary)

    def to_text(self, decimals: int = 4, summary: bool = False) -> str:
        return self.render("text", decimals, summary)

    def to_markdown(self, decimals: int = 4, summary: bool = False) -> str:
        return self.render("markdown", decimals, summary)

    def to_html(self, decimals: int = 4, summary: bool = False) -> str:
        return self.render("html", decimals, summary)

    def __str__(self) -> str:
        return self.to_text()


def explain(
    network: Network,
    x,
    target,
    learning_rate: float | None = None,
    optimizer: str | dict | Optimizer = "sgd",
    steps: int = 1,
    loss: str | Loss | None = None,
) -> Trace:
    """The worked solution of ``steps`` training steps of ``network`` on the batch ``(x, target)``.

    A copy of ``network`` is trained (the original is left as it was) by the engine's own forward
    pass, backward pass and optimizer update; the :class:`Trace` holds every array they produced.
    ``x`` is one sample (a vector) or a batch (n, inputs); the error of a batch is the mean
    ``E = (1/n) Σₛ J(oₛ, tₛ)``. ``loss`` defaults to the one that pairs with the output activation.
    ``learning_rate`` overrides the optimizer's η.
    """
    steps = check_int(steps, "steps", 1)
    net = network.copy()
    loss = get_loss(loss if loss is not None else default_loss(net))
    opt = copy.deepcopy(get_optimizer(optimizer))
    if learning_rate is not None:
        opt.learning_rate = check_number(learning_rate, "learning rate", 0.0, low_inclusive=False)
    single = getattr(x, "ndim", None) == 1 or (
        isinstance(x, list | tuple) and all(isinstance(v, numbers.Real) for v in x)
    )
    X = net.check_input(x)
    T = net.check_target(target, X.shape[0])
    step = TrainingStep(net, loss, opt, opt.init(net.params()), targets_normalised(T))
    ws = net.workspace(X.shape[0], keep_all=True)
    np.copyto(ws.x, X)
    np.copyto(ws.t, T)
    records = [record_step(step, ws, number=k)[1] for k in range(1, steps + 1)]
    acts = [ly.activation for ly in net.layers]
    return Trace(net.sizes, acts, loss, opt, single, records)


def record_step(
    step: TrainingStep, ws, sample_weight: Array | None = None, l2: float = 0.0, number: int = 1
) -> tuple[StepResult, StepTrace]:
    """Run ``step`` on the batch in ``ws`` phase by phase, as training does, recording each phase.

    ``ws`` must keep every intermediate (``network.workspace(n, keep_all=True)``): its ``z``,
    ``a``, ``(Wˡ⁺¹)ᵀ δˡ⁺¹`` and deltas are the step's own. The parameters, gradients and optimizer
    state recorded are the arrays training computed, bit for bit.
    """
    network, loss, opt = step.network, step.loss, step.optimizer
    layers = network.layers
    W = [ly.W.copy() for ly in layers]
    b = [None if ly.b is None else ly.b.copy() for ly in layers]
    params_before = {k: v.copy() for k, v in step.params.items()}
    state_before = copy_state(step.state)
    result = step.evaluate(ws, sample_weight, l2)
    grads = step.backward(ws, sample_weight)
    dW = [g.copy() for g in grads.weights]
    db = [None if g is None else g.copy() for g in grads.biases]
    step.penalise(ws, l2)
    g = {k: v.copy() for k, v in ws.grads_by_name.items()}
    record = opt.intermediates(params_before, g, state_before)
    step.update(ws)
    fp, x, t = ws.forward, ws.x, ws.t
    o = fp.output
    last = layers[-1].activation
    fprime, jac = [], []
    for i, ly in enumerate(layers):
        act = ly.activation
        fprime.append(act.derivative(fp.z[i], fp.a[i + 1]) if act.elementwise else None)
        # the full Jacobian where f couples its outputs (softmax); f′ alone says it otherwise
        jac.append(None if act.elementwise else act.jacobian(fp.z[i], fp.a[i + 1]))
    fp_after = network.forward(x)
    trace = StepTrace(
        step=number,
        x=x.copy(),
        t=t.copy(),
        W=W,
        b=b,
        z=[z.copy() for z in fp.z],
        a=[a.copy() for a in fp.a],
        loss_per_sample=loss.per_sample(o, t),
        loss=result.data_loss,
        dJ_do=loss.gradient(o, t),
        fprime=fprime,
        jacobian=jac,
        back=[None if v is None else v.copy() for v in grads.back],
        delta_general=output_delta(loss, last, fp.z[-1], o, t, use_shortcut=False),
        shortcut=shortcut_applies(loss, last, t),
        deltas=[d.copy() for d in grads.deltas],
        dW=dW,
        db=db,
        state_before=state_before,
        state_after=copy_state(step.state),
        W_after=[ly.W.copy() for ly in layers],
        b_after=[None if ly.b is None else ly.b.copy() for ly in layers],
        z_after=fp_after.z,
        a_after=fp_after.a,
        loss_per_sample_after=loss.per_sample(fp_after.output, t),
        loss_after=loss.value(fp_after.output, t),
        l2=l2,
        penalty=result.penalty,
        g=g,
        optimizer_record=record,
    )
    return result, trace


def trace_step(
    network: Network, x: Array, t: Array, loss: Loss, optimizer: Optimizer, state: State,
    step: int = 1,
) -> StepTrace:  # fmt: skip
    """Deprecated: :func:`record_step` of a :class:`~deltaprop.step.TrainingStep`. Trains
    ``network`` one step on ``(x, t)`` in place (``state`` updated in place) and records it."""
    import warnings

    warnings.warn(
        "trace_step is deprecated: use record_step(TrainingStep(network, loss, optimizer, "
        "state), workspace) (deltaprop.trace), which runs training's own step",
        DeprecationWarning,
        stacklevel=2,
    )
    x = network.check_input(x)
    t = network.check_target(t, x.shape[0])
    ws = network.workspace(x.shape[0], keep_all=True)
    np.copyto(ws.x, x)
    np.copyto(ws.t, t)
    training = TrainingStep(network, loss, optimizer, state, targets_normalised(t))
    return record_step(training, ws, number=step)[1]


def optimizer_settings(optimizer: Optimizer) -> dict[str, float | bool]:
    """The optimizer's numeric settings (``hyperparameters()`` also lists slots and formula)."""
    return {
        k: v
        for k, v in optimizer.hyperparameters().items()
        if isinstance(v, bool | int | float) and k not in ("slots", "formula")
    }


def _finite_or_none(value):
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite_or_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite_or_none(v) for v in value]
    return value


def _plain(value):
    """Arrays, dicts and lists as nested Python lists of floats (None stays None)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value
