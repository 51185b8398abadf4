"""Optimizers: update rules over named parameters, with state you can print.

An optimizer validates its hyperparameters once, then ``init(params) -> state`` and
``update(params, grads, state)``. ``state`` is a plain dict: ``state["step"]`` (t, the number of
updates made) and, per slot, a dict of arrays keyed like the parameters, e.g.
``state["m"]["W1"]``. ``update`` writes the new parameters and state in place (the training loop
allocates nothing per batch); :meth:`Optimizer.step` is the pure form, returning new copies.

Every rule is PyTorch's (``torch.optim``), so results match it step for step. Where textbooks
differ, PyTorch's choice is kept and stated: Adagrad, RMSProp and Adam add ε *outside* the square
root; Adadelta adds it inside; Adam's bias correction scales the step, ``lr/(1 − β₁ᵗ)``, and the
root, ``√v/√(1 − β₂ᵗ)``.

Identity (tested): Adam with ``β₁ = 0`` and ``ε = 0`` is RMSProp (``α = β₂``, ``ε = 0``) with the
learning rate scaled by ``√(1 − β₂ᵗ)``: ``θ ← θ − lr·g/√(v/(1 − β₂ᵗ))``.

Speed: every rule is element-wise, so when the parameters, the gradients and every state slot are
each laid out as consecutive views of one flat vector (as a :class:`~deltaprop.Network`'s
parameters and its training workspace's gradients are, and as ``init`` then makes the state), the
rule runs once over the whole vector instead of once per parameter: one NumPy call per operation
for all layers. Otherwise it runs per parameter; the arithmetic is the same. SGD (with or without
momentum) and Adam/AdamW write their sums of scaled vectors as BLAS ``axpy``/``axpby`` calls from
the OpenBLAS NumPy bundles (:mod:`deltaprop._blas`: one pass over memory per line, on every BLAS
thread), falling back to NumPy ufuncs where those routines are not found; the two differ only
in rounding (BLAS fuses the multiply-add). With Numba installed (``deltaprop[fast]``), Adam,
AdamW, Adagrad, Adadelta and RMSProp run as one compiled loop each (:mod:`deltaprop._fused`),
which does the NumPy lines' operations in their order: the same numbers, in one pass.
"""

from __future__ import annotations

import math

import numpy as np

from . import _blas, _fused
from .validation import check_number

Array = np.ndarray
State = dict


class Optimizer:
    """Base class: loops the per-parameter rule ``_update`` over named parameters."""

    name = "optimizer"
    slots: tuple[str, ...] = ()
    formula = ""

    def __init__(self, learning_rate: float, weight_decay: float = 0.0):
        self.learning_rate = check_number(learning_rate, "learning rate", 0.0, low_inclusive=False)
        self.weight_decay = check_number(weight_decay, "weight_decay value", 0.0)
        self._scratch: dict[tuple, Array] = {}

    def __setattr__(self, name: str, value) -> None:
        # A NumPy float scalar (say η from a custom schedule) would, under NumPy's promotion rules
        # (NEP 50), run a float32 model's update in float64, where the compiled loops and BLAS
        # round it to float32 first: every hyperparameter is kept a Python float.
        if isinstance(value, np.floating):
            value = float(value)
        super().__setattr__(name, value)

    def hyperparameters(self) -> dict[str, float | bool]:
        """Every setting of this optimizer, by name (not its derived ``slots`` and ``formula``)."""
        return {
            k: v
            for k, v in vars(self).items()
            if not k.startswith("_") and k not in ("slots", "formula")
        }

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({args})"

    def init(self, params: dict[str, Array]) -> State:
        """Fresh state: ``step = 0`` and every slot zero, shaped like its parameter.

        If the parameters are consecutive views of one flat vector, each slot is too (same
        layout), so that :meth:`update` can run over whole vectors.
        """
        state: State = {"step": 0}
        arrays = list(params.values())
        flat = flat_span(arrays)
        for slot in self.slots:
            if flat is None:
                state[slot] = {k: np.zeros_like(p) for k, p in params.items()}
            else:
                buf = np.zeros_like(flat)
                state[slot] = dict(zip(params, _views_like(buf, arrays), strict=True))
        return state

    def lay_out_like(self, params: dict[str, Array], state: State) -> State:
        """Re-lay ``state``'s slots out like ``params``, in place, and return it.

        A state read from a file, or built by hand, holds separate arrays; when the parameters are
        views of one flat vector, each slot's arrays are replaced (in the same slot dicts) by
        views of one new flat vector with the same values, so that a resumed run takes the same
        whole-vector path, and rounds the same, as one that never stopped. Slots that are not
        plain writeable arrays of the parameters' shapes and dtype are left as they are (the
        update then reports them, or runs per parameter).
        """
        arrays = list(params.values())
        if flat_span(arrays) is None:
            return state
        for slot in self.slots:
            values = state.get(slot)
            if not isinstance(values, dict) or set(values) != set(params):
                continue
            current = [values[k] for k in params]
            if not all(
                type(a) is np.ndarray
                and a.shape == p.shape
                and a.dtype == p.dtype
                and a.flags.writeable
                for a, p in zip(current, arrays, strict=True)
            ):
                continue
            if flat_span(current) is not None and all(
                a.strides == p.strides for a, p in zip(current, arrays, strict=True)
            ):
                continue
            views = _views_like(np.empty(sum(a.size for a in arrays), arrays[0].dtype), arrays)
            for k, view, value in zip(params, views, current, strict=True):
                np.copyto(view, value)
                values[k] = view
        return state

    def update(self, params: dict[str, Array], grads: dict[str, Array], state: State) -> None:
        """One step, in place: ``params`` and ``state`` are overwritten."""
        flat = self.flat_arrays(params, grads, state)
        if flat is not None:
            self.update_flat(*flat, state)
            return
        state["step"] += 1
        t = state["step"]
        for k, p in params.items():
            self._update_one(p, grads[k], {s: state[s][k] for s in self.slots}, t)

    def update_flat(self, theta: Array, g: Array, slots: dict[str, Array], state: State) -> None:
        """:meth:`update` on whole vectors, as :meth:`flat_arrays` returns them."""
        state["step"] += 1
        self._update_one(theta, g, slots, state["step"])

    def _update_one(self, p: Array, g: Array, s: dict[str, Array], t: int) -> None:
        if self.weight_decay and self._l2_in_gradient:
            decayed = np.multiply(p, self.weight_decay, out=self._tmp(p, 1))
            g = np.add(g, decayed, out=decayed)  # g ← g + λθ
        self._update(p, g, s, t, self._tmp(p))

    def flat_arrays(self, params, grads, state) -> tuple[Array, Array, dict[str, Array]] | None:
        """``(θ, g, {slot: vector})`` if each is one flat vector laid out alike, else None.

        The answer is cached for the same arrays (by identity), so calling it every step is cheap.
        """
        try:
            groups = [list(params.values()), [grads[k] for k in params]]
            groups += [[state[slot][k] for k in params] for slot in self.slots]
        except KeyError:
            return None  # let the per-parameter loop raise its usual error
        key = tuple(id(a) for group in groups for a in group)
        cached = self._flat_cache
        if cached is not None and cached[0] == key:
            return cached[2]
        spans = [flat_span(group) for group in groups]
        result = None
        if all(sp is not None for sp in spans) and all(
            all(a.strides == b.strides for a, b in zip(groups[0], group, strict=True))
            for group in groups[1:]
        ):
            result = (spans[0], spans[1], dict(zip(self.slots, spans[2:], strict=True)))
        # The arrays are kept alive with the key, so their ids cannot be reused while cached.
        self._flat_cache = (key, groups, result)
        return result

    _flat_cache: tuple | None = None

    def step(self, params: dict[str, Array], grads: dict[str, Array], state: State):
        """Pure form of :meth:`update`: returns ``(new_params, new_state)``, inputs untouched."""
        new_params = {k: v.copy(order="K") for k, v in params.items()}
        new_state = copy_state(state)
        self.update(new_params, grads, new_state)
        return new_params, new_state

    _l2_in_gradient = True

    def _tmp(self, p: Array, i: int = 0) -> Array:
        key = (p.shape, p.dtype.str, i)
        buf = self._scratch.get(key)
        if buf is None:
            buf = self._scratch[key] = np.empty_like(p)
        return buf

    def _update(self, p: Array, g: Array, s: dict[str, Array], t: int, tmp: Array) -> None:
        raise NotImplementedError


def copy_state(state: State) -> State:
    """A deep copy of an optimizer state (flat-laid-out slots stay flat in the copy)."""
    out: State = {}
    for k, v in state.items():
        if isinstance(v, dict):
            arrays = list(v.values())
            flat = flat_span(arrays) if arrays else None
            copies = (
                _views_like(flat.copy(), arrays) if flat is not None else [a.copy() for a in arrays]
            )
            out[k] = dict(zip(v, copies, strict=True))
        else:
            out[k] = v
    return out


def flat_span(arrays: list[Array]) -> Array | None:
    """The 1-D vector that ``arrays`` tile, back to back and in order, or None.

    Each array must be a contiguous (C or F) view of the same 1-D base, of one dtype, starting
    where the previous one ends.
    """
    if not arrays:
        return None
    first = arrays[0]
    base = first.base
    if not isinstance(base, np.ndarray) or base.ndim != 1 or not base.flags.c_contiguous:
        return None
    item = base.itemsize
    base_addr = base.__array_interface__["data"][0]
    start = first.__array_interface__["data"][0]
    expected = start
    for a in arrays:
        if (
            not isinstance(a, np.ndarray)
            or a.base is not base
            or a.dtype != base.dtype
            or not (a.flags.c_contiguous or a.flags.f_contiguous)
            or a.__array_interface__["data"][0] != expected
        ):
            return None
        expected += a.size * item
    lo = (start - base_addr) // item
    return base[lo : lo + (expected - start) // item]


def _views_like(flat: Array, arrays: list[Array]) -> list[Array]:
    """Views into ``flat`` with the shapes and memory order of ``arrays``, back to back.

    Each view takes the strides of its array where a C- or F-ordered view can: an array with a
    dimension of size 1 is both C- and F-contiguous, and only the strides tell which layout its
    neighbours (a parameter and its gradient) have.
    """
    views, offset = [], 0
    for a in arrays:
        chunk = flat[offset : offset + a.size]
        offset += a.size
        view = chunk.reshape(a.shape)  # C order
        if view.strides != a.strides:
            transposed = chunk.reshape(a.shape[::-1]).T  # F order
            if transposed.strides == a.strides or not a.flags.c_contiguous:
                view = transposed
        views.append(view)
    return views


class SGD(Optimizer):
    """Gradient descent, with optional (Nesterov) momentum, as ``torch.optim.SGD``.

    ``v ← μ v + g``;  ``θ ← θ − lr·v``  (Nesterov: ``θ ← θ − lr·(g + μ v)``);
    μ = 0: ``θ ← θ − lr·g``.
    """

    name = "sgd"
    formula = "θ ← θ − η·g"

    def __init__(
        self,
        learning_rate: float = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        weight_decay: float = 0.0,
    ):
        super().__init__(learning_rate, weight_decay)
        self.momentum = check_number(momentum, "momentum value", 0.0)
        self.nesterov = bool(nesterov)
        if self.nesterov and self.momentum == 0:
            raise ValueError("Nesterov momentum requires a momentum > 0")
        self.slots = ("velocity",) if self.momentum else ()
        if self.momentum:
            self.formula = (
                "v ← μ·v + g;  θ ← θ − η·(g + μ·v)"
                if self.nesterov
                else "v ← μ·v + g;  θ ← θ − η·v"
            )

    def _update(self, p, g, s, t, tmp):
        lr, mu = self.learning_rate, self.momentum
        v = s.get("velocity")
        if _blas.usable(p, g) if v is None else _blas.usable(p, g, v):
            # The same rule in one BLAS pass per line (see deltaprop._blas).
            if not mu:
                _blas.axpy(-lr, g, p)  # θ ← θ − η g
                return
            _blas.axpby(1.0, g, mu, v)  # v ← μ v + g
            if self.nesterov:
                _blas.axpy(-lr, g, p)  # θ ← θ − η g − η μ v
                _blas.axpy(-lr * mu, v, p)
            else:
                _blas.axpy(-lr, v, p)  # θ ← θ − η v
            return
        if not mu:
            np.multiply(g, lr, out=tmp)
        else:
            v = s["velocity"]
            v *= mu
            v += g
            if self.nesterov:
                np.multiply(v, mu, out=tmp)
                tmp += g
                tmp *= lr
            else:
                np.multiply(v, lr, out=tmp)
        p -= tmp


class Adagrad(Optimizer):
    """Adagrad, as ``torch.optim.Adagrad``: ``G ← G + g²``;  ``θ ← θ − η_t·g/(√G + ε)``.

    ``η_t = η / (1 + (t − 1)·lr_decay)``.
    """

    name = "adagrad"
    slots = ("sum",)
    formula = "G ← G + g²;  θ ← θ − η·g/(√G + ε)"

    def __init__(
        self,
        learning_rate: float = 0.01,
        eps: float = 1e-10,
        lr_decay: float = 0.0,
        initial_accumulator_value: float = 0.0,
        weight_decay: float = 0.0,
    ):
        super().__init__(learning_rate, weight_decay)
        self.eps = check_number(eps, "epsilon value", 0.0)
        self.lr_decay = check_number(lr_decay, "lr_decay", 0.0)
        self.initial_accumulator_value = check_number(
            initial_accumulator_value, "initial_accumulator_value", 0.0
        )

    def init(self, params):
        state = super().init(params)
        for a in state["sum"].values():
            a.fill(self.initial_accumulator_value)
        return state

    def _update(self, p, g, s, t, tmp):
        lr_t = self.learning_rate / (1 + (t - 1) * self.lr_decay)
        G = s["sum"]
        if _fused.adagrad(p, g, G, self.eps, lr_t):
            return  # the lines below in one compiled loop, bit for bit
        np.multiply(g, g, out=tmp)
        G += tmp
        np.sqrt(G, out=tmp)
        tmp += self.eps
        np.divide(g, tmp, out=tmp)
        tmp *= lr_t
        p -= tmp


class Adadelta(Optimizer):
    """Adadelta, as ``torch.optim.Adadelta`` (ε inside the roots):

    ``v ← ρ v + (1 − ρ) g²``;  ``Δ ← √(u + ε)/√(v + ε)·g``;  ``u ← ρ u + (1 − ρ) Δ²``;
    ``θ ← θ − η·Δ``.
    """

    name = "adadelta"
    slots = ("square_avg", "acc_delta")
    formula = "v ← ρv + (1−ρ)g²;  Δ ← √(u+ε)/√(v+ε)·g;  u ← ρu + (1−ρ)Δ²;  θ ← θ − η·Δ"

    def __init__(
        self, learning_rate: float = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay=0.0
    ):
        super().__init__(learning_rate, weight_decay)
        self.rho = check_number(rho, "rho value", 0.0, 1.0)
        self.eps = check_number(eps, "epsilon value", 0.0)

    def _update(self, p, g, s, t, tmp):
        rho, eps = self.rho, self.eps
        v, u = s["square_avg"], s["acc_delta"]
        if _fused.adadelta(p, g, v, u, rho, eps, self.learning_rate):
            return  # the lines below in one compiled loop, bit for bit
        v *= rho
        np.multiply(g, g, out=tmp)
        tmp *= 1 - rho
        v += tmp
        np.add(u, eps, out=tmp)
        np.sqrt(tmp, out=tmp)
        tmp /= np.sqrt(v + eps)
        tmp *= g  # Δ
        u *= rho
        u += (1 - rho) * tmp * tmp
        tmp *= self.learning_rate
        p -= tmp


class RMSProp(Optimizer):
    """RMSProp, as ``torch.optim.RMSprop``: ``v ← α v + (1 − α) g²``;  ``θ ← θ − η·g/(√v + ε)``.

    ``centered``: ``ḡ ← α ḡ + (1 − α) g`` and the root is ``√(v − ḡ²)``. ``momentum`` μ:
    ``b ← μ b + g/(√v + ε)``;  ``θ ← θ − η·b``.
    """

    name = "rmsprop"
    formula = "v ← αv + (1−α)g²;  θ ← θ − η·g/(√v + ε)"

    def __init__(
        self,
        learning_rate: float = 0.01,
        alpha: float = 0.99,
        eps: float = 1e-8,
        momentum: float = 0.0,
        centered: bool = False,
        weight_decay: float = 0.0,
    ):
        super().__init__(learning_rate, weight_decay)
        self.alpha = check_number(alpha, "alpha value", 0.0)
        self.eps = check_number(eps, "epsilon value", 0.0)
        self.momentum = check_number(momentum, "momentum value", 0.0)
        self.centered = bool(centered)
        self.slots = (
            ("square_avg",)
            + (("grad_avg",) if self.centered else ())
            + (("momentum_buffer",) if self.momentum else ())
        )

    def _update(self, p, g, s, t, tmp):
        a = self.alpha
        v = s["square_avg"]
        gbar = s["grad_avg"] if self.centered else None
        b = s["momentum_buffer"] if self.momentum else None
        if _fused.rmsprop(p, g, v, gbar, b, a, self.eps, self.momentum, self.learning_rate):
            return  # the lines below in one compiled loop, bit for bit
        v *= a
        np.multiply(g, g, out=tmp)
        tmp *= 1 - a
        v += tmp
        if self.centered:
            gbar *= a
            gbar += (1 - a) * g
            np.multiply(gbar, gbar, out=tmp)
            np.subtract(v, tmp, out=tmp)
            np.sqrt(tmp, out=tmp)
        else:
            np.sqrt(v, out=tmp)
        tmp += self.eps
        np.divide(g, tmp, out=tmp)
        if self.momentum:
            b *= self.momentum
            b += tmp
            np.multiply(b, self.learning_rate, out=tmp)
        else:
            tmp *= self.learning_rate
        p -= tmp


class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam``:

    ``m ← β₁ m + (1 − β₁) g``;  ``v ← β₂ v + (1 − β₂) g²``;
    ``θ ← θ − η/(1 − β₁ᵗ) · m / (√v/√(1 − β₂ᵗ) + ε)``.
    """

    name = "adam"
    slots = ("m", "v")
    formula = "m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  θ ← θ − η·m̂/(√v̂ + ε)"

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ):
        super().__init__(learning_rate, weight_decay)
        self.beta1 = check_number(
            beta1, "beta parameter at index 0", 0.0, 1.0, high_inclusive=False
        )
        self.beta2 = check_number(
            beta2, "beta parameter at index 1", 0.0, 1.0, high_inclusive=False
        )
        self.eps = check_number(eps, "epsilon value", 0.0)

    def _decoupled_decay(self) -> float:
        """The factor AdamW shrinks θ by before the step (1: none)."""
        return 1.0

    def _update(self, p, g, s, t, tmp):
        b1, b2 = self.beta1, self.beta2
        m, v = s["m"], s["v"]
        step_size = self.learning_rate / (1 - b1**t)
        root_bc2 = math.sqrt(1 - b2**t)
        # η/(1−β₁ᵗ)·m/(√v/√(1−β₂ᵗ) + ε) = m/(√v·c + ε·s) with c = 1/(√(1−β₂ᵗ)·step), s = 1/step:
        # the same ε placement, with the step size folded into the denominator (one pass fewer).
        c, shift = 1 / (root_bc2 * step_size), self.eps / step_size
        decay = self._decoupled_decay()
        if _fused.adam(p, g, m, v, b1, b2, c, shift, decay):
            return  # the NumPy path below in one compiled loop, bit for bit
        if decay != 1.0:
            p *= decay
        if _blas.usable(p, g, m, v, tmp):
            # The same rule with the moment updates as BLAS axpby (one pass each, see
            # deltaprop._blas), and the step written as η/(1−β₁ᵗ)·√(1−β₂ᵗ)·m/(√v + ε√(1−β₂ᵗ)).
            _blas.axpby(1 - b1, g, b1, m)  # m ← β₁ m + (1 − β₁) g
            np.multiply(g, g, out=tmp)
            _blas.axpby(1 - b2, tmp, b2, v)  # v ← β₂ v + (1 − β₂) g²
            np.sqrt(v, out=tmp)
            tmp += self.eps * root_bc2
            np.divide(m, tmp, out=tmp)
            _blas.axpy(-step_size * root_bc2, tmp, p)
            return
        m *= b1
        np.multiply(g, 1 - b1, out=tmp)
        m += tmp
        v *= b2
        np.multiply(g, g, out=tmp)
        tmp *= 1 - b2
        v += tmp
        np.sqrt(v, out=tmp)
        tmp *= c
        tmp += shift
        np.divide(m, tmp, out=tmp)
        p -= tmp


class AdamW(Adam):
    """AdamW, as ``torch.optim.AdamW``: decoupled decay ``θ ← θ(1 − η λ)``, then the Adam step."""

    name = "adamw"
    formula = "θ ← θ(1 − ηλ);  then Adam"
    _l2_in_gradient = False

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.01):
        super().__init__(learning_rate, beta1, beta2, eps, weight_decay)

    def _decoupled_decay(self) -> float:
        return 1 - self.learning_rate * self.weight_decay if self.weight_decay else 1.0


def _momentum(learning_rate=0.01, momentum=0.9, weight_decay=0.0):
    return SGD(learning_rate, momentum=momentum, weight_decay=weight_decay)


def _nesterov(learning_rate=0.01, momentum=0.9, weight_decay=0.0):
    return SGD(learning_rate, momentum=momentum, nesterov=True, weight_decay=weight_decay)


OPTIMIZERS = {
    "sgd": SGD,
    "gd": SGD,
    "momentum": _momentum,
    "nesterov": _nesterov,
    "adagrad": Adagrad,
    "adadelta": Adadelta,
    "rmsprop": RMSProp,
    "adam": Adam,
    "adamw": AdamW,
}


def get_optimizer(optimizer: str | Optimizer | dict = "sgd", **kwargs) -> Optimizer:
    """An optimizer by name and settings: ``get_optimizer("adam", learning_rate=1e-3)``.

    A dict ``{"name": "adam", "learning_rate": ...}`` works too; an :class:`Optimizer` passes
    through.
    """
    if isinstance(optimizer, Optimizer):
        if kwargs:
            raise ValueError("settings cannot be given with an optimizer instance")
        return optimizer
    if isinstance(optimizer, dict):
        kwargs = {**{k: v for k, v in optimizer.items() if k != "name"}, **kwargs}
        optimizer = optimizer.get("name", "sgd")
    if not isinstance(optimizer, str) or optimizer.lower() not in OPTIMIZERS:
        raise ValueError(
            f"unknown optimizer {optimizer!r}; expected one of {', '.join(sorted(OPTIMIZERS))}"
        )
    kwargs = {("learning_rate" if k in ("lr", "eta") else k): v for k, v in kwargs.items()}
    try:
        return OPTIMIZERS[optimizer.lower()](**kwargs)
    except TypeError as exc:
        raise ValueError(f"bad settings for optimizer {optimizer!r}: {exc}") from None


def available_optimizers() -> list[str]:
    """Names of every optimizer."""
    return sorted(OPTIMIZERS)
