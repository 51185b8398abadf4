"""The optimizer class: hyperparameters, state layout and the one update door.

An optimizer validates its hyperparameters once, then ``init(params) -> state`` and
``update(params, grads, state)``. ``state`` is a plain dict: ``state["step"]`` (t, the number of
updates made) and, per slot, a dict of arrays keyed like the parameters, e.g.
``state["m"]["W1"]``. ``update`` writes the new parameters and state in place (the training loop
allocates nothing per batch); :meth:`Optimizer.step` is the pure form, returning new copies.

Each rule (``sgd.py``, ``adagrad.py``, ``adadelta.py``, ``rmsprop.py``, ``adam.py``) is written
once, as :meth:`Optimizer.rule`, in ``torch.optim``'s documented form and with the operations the
Python Array API standard has: that rule is the definition. :meth:`Optimizer.update` hands the
arrays to :func:`deltaprop.optimizers.fast.update`, which runs a compiled or BLAS form of the same
rule where the arrays allow it, and the rule itself otherwise; the fast forms are tested against
the rule within stated numbers of ulps (``tests/test_optimizer_fast_paths.py``).

When the parameters, the gradients and every state slot are each laid out as consecutive views of
one flat vector (as a :class:`~deltaprop.Network`'s parameters and its training workspace's
gradients are, and as ``init`` then makes the state), the rule runs once over the whole vector
instead of once per parameter.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..notation import Expr, Lit, Paren, row
from ..validation import check_number
from . import fast
from .display import Terms

Array = np.ndarray
State = dict


def namespace(a: Any):
    """The array library of ``a`` (NumPy for an ndarray), for the rules' ``sqrt``."""
    get = getattr(a, "__array_namespace__", None)
    return np if get is None else get()


def ignore(name: str, value):
    """The `note` of a rule run for training: the value, unrecorded."""
    return value


class Recorder:
    """``note(name, value) -> value`` that keeps a copy of each value by name.

    The rules pass every intermediate they compute through ``note``; during training ``note``
    returns it untouched, and :meth:`Optimizer.intermediates` records it with one of these.
    """

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def __call__(self, name: str, value):
        if isinstance(value, int | float | np.floating):
            self.values[name] = float(value)
        else:
            self.values[name] = namespace(value).asarray(value, copy=True)
        return value


class Optimizer:
    """Base class: the hyperparameters, the state's layout, and ``update`` through one door.

    A subclass sets ``name``, ``slots`` (its state arrays), ``letters`` (slot → letter in the
    equations), ``symbols`` (equation symbol → setting name, in legend order) and ``formula``,
    and writes :meth:`rule` (the reference update) and :meth:`display_rule` (the same rule as
    equations). The weight decay is applied here, before the rule, in its equations as in
    :meth:`reference`: L2 ``g ← g + λθ``, or ``θ ← θ(1 − ηλ)`` if ``decoupled_weight_decay``.
    """

    name = "optimizer"
    slots: tuple[str, ...] = ()
    formula = ""
    letters: dict[str, str] = {}
    symbols: dict[str, str] = {"η": "learning_rate", "λ": "weight_decay"}
    decoupled_weight_decay = False

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

    # --- the rule ---------------------------------------------------------------------------

    def rule(self, theta, g, s: dict, t: int, note=ignore) -> None:
        """One step of the rule on one parameter ``theta`` (in place, with its slots ``s``), at
        step ``t`` (1 for the first update), gradient ``g`` (already L2-decayed). Every
        intermediate goes through ``note(name, value)``."""
        raise NotImplementedError

    def reference(self, theta, g, s: dict, t: int, note=ignore) -> None:
        """The reference update, in place: the weight decay, then :meth:`rule`.

        L2 decay ``g ← g + λθ``; or, for a rule with ``decoupled_weight_decay`` (AdamW),
        ``θ ← θ(1 − ηλ)`` before the rule's step.
        """
        if self.weight_decay and self.decoupled_weight_decay:
            theta *= 1 - self.learning_rate * self.weight_decay
            note("θ(1 − ηλ)", theta)
        elif self.weight_decay:
            g = note("g + λθ", g + self.weight_decay * theta)
        self.rule(theta, g, s, t, note)

    def update(self, params: dict[str, Array], grads: dict[str, Array], state: State) -> None:
        """One step, in place: ``params`` and ``state`` are overwritten."""
        flat = self.flat_arrays(params, grads, state)
        if flat is not None:
            self.update_flat(*flat, state)
            return
        state["step"] += 1
        t = state["step"]
        for k, p in params.items():
            fast.update(self, p, grads[k], {s: state[s][k] for s in self.slots}, t)

    def update_flat(self, theta: Array, g: Array, slots: dict[str, Array], state: State) -> None:
        """:meth:`update` on whole vectors, as :meth:`flat_arrays` returns them."""
        state["step"] += 1
        fast.update(self, theta, g, slots, state["step"])

    def step(self, params: dict[str, Array], grads: dict[str, Array], state: State):
        """Pure form of :meth:`update`: returns ``(new_params, new_state)``, inputs untouched."""
        new_params = {k: v.copy(order="K") for k, v in params.items()}
        new_state = copy_state(state)
        self.update(new_params, grads, new_state)
        return new_params, new_state

    def intermediates(
        self, params: dict[str, Array], grads: dict[str, Array], state: State
    ) -> dict[str, Any]:
        """What the reference rule computes on the way through the next step, by quantity name.

        Runs :meth:`reference` on copies (the inputs are untouched) at step ``state["step"] + 1``
        and returns every noted value: arrays as ``{quantity: {parameter: array}}`` (e.g.
        ``{"m̂": {"W1": …, "b1": …}}``), numbers once (``{"η_t": 0.09}``).
        """
        t = state["step"] + 1
        out: dict[str, Any] = {}
        for k, p in params.items():
            note, xp = Recorder(), namespace(p)
            slots = {s: xp.asarray(state[s][k], copy=True) for s in self.slots}
            p, g = xp.asarray(p, copy=True), xp.asarray(grads[k], copy=True)
            self.reference(p, g, slots, t, note)
            for name, value in note.values.items():
                if isinstance(value, float):
                    out[name] = value
                else:
                    out.setdefault(name, {})[k] = value
        return out

    # --- the rule as equations ---------------------------------------------------------------

    def display_step(self, q: Terms) -> list[Expr]:
        """Equations written once per step, before the parameters' (Adagrad's ``η_t``)."""
        return []

    def display_rule(self, q: Terms) -> list[Expr]:
        """:meth:`rule` as equations, in the terms ``q`` (symbols, or one parameter's numbers)."""
        raise NotImplementedError

    def display(self, q: Terms) -> list[Expr]:
        """The equations of one parameter's update: the weight decay, then :meth:`display_rule`."""
        if not self.weight_decay:
            return self.display_rule(q)
        if self.decoupled_weight_decay:
            decay = Paren(row(Lit("1"), "−", q.setting("η"), "·", q.setting("λ")))
            first = q.assign("θ", q.term("θ"), "·", decay, value="θ(1 − ηλ)")
        else:
            decayed = (q.term("g"), "+", q.setting("λ"), "·", q.term("θ"))
            first = q.assign("g", *decayed, value="g + λθ")
        return [first, *self.display_rule(q)]

    def brief(self) -> list[Expr | str] | None:
        """A one-sentence introduction replacing the rule, legend and state table (plain SGD)."""
        return None

    # --- the state and its layout ---------------------------------------------------------------

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


def copy_state(state: State) -> State:
    """A deep copy of an optimizer state, laid out as it was (flat slots stay flat in the copy)."""
    out: State = {}
    for k, v in state.items():
        if isinstance(v, dict):
            arrays = list(v.values())
            flat = flat_span(arrays) if arrays else None
            if flat is not None:
                copies = _views_like(flat.copy(), arrays)
            else:  # each laid out as it was (an F-ordered W stays F: the fast paths need that)
                copies = [a.copy(order="K") for a in arrays]
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


__all__ = ["Optimizer", "Recorder", "State", "copy_state", "flat_span", "ignore", "namespace"]
