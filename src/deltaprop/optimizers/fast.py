"""The fast forms of the rules, behind one door: :func:`update`.

Each rule's definition is its ``rule`` method (``sgd.py``, ``adam.py`` …), written as
``torch.optim``'s documentation writes it; it makes one pass over memory per operation, and
allocates its temporaries. When the arrays allow it — one float dtype, the same shape and memory
layout, contiguous, aligned, writeable, no two overlapping (:func:`deltaprop._memory.flat_alike`)
and no array given twice — :func:`update` runs a fast form of the same rule instead:

- the compiled loops (:mod:`deltaprop._fused_kernels`, with ``deltaprop[fast]``: Numba, loaded on
  first use by :mod:`deltaprop._fused`) for Adam, AdamW, Adagrad, Adadelta and RMSProp: the whole
  rule in one pass, reading and writing each number once;
- BLAS level 1 (:mod:`deltaprop._blas`: ``axpy``/``axpby`` from NumPy's own OpenBLAS) for SGD with
  or without (Nesterov) momentum, and for Adam/AdamW where the loops are missing: one pass per sum
  of scaled vectors, on every BLAS thread;
- for Adagrad, Adadelta and RMSProp where the loops are missing, the rule's own operations in its
  order, written into work arrays kept between steps (NumPy's ``out=``) rather than into
  temporaries allocated every step: the rule's numbers, bit for bit.

They compute the same rule with the algebra arranged for one pass (Adam's step as
``m/(√v·c + s)``, constants folded in) and BLAS fusing multiply-adds, so they round differently
from the definition: by at most the numbers of ulps that ``tests/test_optimizer_fast_paths.py``
states and checks, for every optimizer and setting, both dtypes, flat and per-parameter layouts.
Otherwise, or with both switched off (``DELTAPROP_NUMBA=0``, ``DELTAPROP_BLAS=0``, the
``disabled()`` blocks of :mod:`deltaprop._fused` and :mod:`deltaprop._blas`, or :func:`disabled`
here for both), the definition runs.

Only the built-in classes take these paths: a subclass elsewhere may change the rule.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

import numpy as np

from .. import _blas, _fused
from .._memory import flat, flat_alike

Array = np.ndarray


def update(opt, theta: Array, g: Array, s: dict[str, Array], t: int) -> None:
    """One step of ``opt``'s rule on ``theta`` (in place, with its state slots ``s``) at step
    ``t``: by a fast path where the arrays allow one, else by the rule itself
    (``opt.reference``)."""
    cls = type(opt)
    path = _CHOSEN.get(cls, False)
    if path is False:
        path = _CHOSEN[cls] = _PATHS.get(cls.__name__) if cls.__module__.startswith(_HERE) else None
    if path is None or not path(opt, theta, g, s, t):
        opt.reference(theta, g, s, t)


@contextmanager
def disabled() -> Iterator[None]:
    """Run the block with every fast path off: each update is its rule (process-wide; nests).

    The same as ``deltaprop._fused.disabled()`` (the compiled loops) and
    ``deltaprop._blas.disabled()`` (BLAS) together.
    """
    global _off
    with _fused.disabled(), _blas.disabled():
        _off += 1
        try:
            yield
        finally:
            _off -= 1


def _distinct(arrays: tuple) -> bool:
    """No array given twice (say ``g`` is ``θ``): the rule would then read values that an
    earlier line changed, where a one-pass loop reads each operand first."""
    return len({id(a) for a in arrays}) == len(arrays)


def _scratch(opt, p: Array, i: int = 0) -> Array:
    """A work array laid out like ``p``, kept by the optimizer between steps."""
    key = (p.shape, p.strides, p.dtype.str, i)
    buf = opt._scratch.get(key)
    if buf is None:
        buf = opt._scratch[key] = np.empty_like(p)
    return buf


def _l2(opt, p: Array, g: Array) -> Array:
    """``g + λθ`` (the rules' L2 decay) in a work array; ``g`` itself without decay."""
    if not opt.weight_decay or opt.decoupled_weight_decay:
        return g
    decayed = np.multiply(p, opt.weight_decay, out=_scratch(opt, p, 1))
    return np.add(g, decayed, out=decayed)


def _kernels(*arrays: Array) -> ModuleType | None:
    """The compiled loops, if loaded and these arrays can go to them as flat vectors."""
    k = _fused.kernels()
    if k is None or not _distinct(arrays) or not flat_alike(*arrays):
        return None
    return k


def _sgd(opt, p, g, s, t) -> bool:
    """``v ← μv + g`` as one ``axpby``; ``θ ← θ − η·v`` (Nesterov ``θ − η·g − ημ·v``) as axpys."""
    v = s.get("velocity")
    arrays = (p, g) if v is None else (p, g, v)
    if not _distinct(arrays) or not _blas.usable(*arrays):
        return False
    g = _l2(opt, p, g)
    lr, mu = opt.learning_rate, opt.momentum
    if not mu:
        _blas.axpy(-lr, g, p)
        return True
    _blas.axpby(1.0, g, mu, v)
    if opt.nesterov:
        _blas.axpy(-lr, g, p)
        _blas.axpy(-lr * mu, v, p)
    else:
        _blas.axpy(-lr, v, p)
    return True


def _adam(opt, p, g, s, t) -> bool:
    """Adam's step, ``θ ← θ·d − η_t·m/(√v/√(1 − β₂ᵗ) + ε)`` with ``η_t = η/(1 − β₁ᵗ)``: the loop
    computes it as ``m/(√v·c + s)`` with ``c = 1/(√(1 − β₂ᵗ)·η_t)`` and ``s = ε/η_t``; BLAS as
    ``η_t·√(1 − β₂ᵗ)·m/(√v + ε√(1 − β₂ᵗ))``. AdamW's decoupled decay is ``d = 1 − ηλ``."""
    b1, b2, m, v = opt.beta1, opt.beta2, s["m"], s["v"]
    step_size = opt.learning_rate / (1 - b1**t)
    root_bc2 = math.sqrt(1 - b2**t)
    decay = 1 - opt.learning_rate * opt.weight_decay if opt.decoupled_weight_decay else 1.0
    k = _kernels(p, g, m, v)
    if k is not None:
        c, shift = 1 / (root_bc2 * step_size), opt.eps / step_size
        _run(k.adam, (p, _l2(opt, p, g), m, v), (b1, 1 - b1, b2, 1 - b2, c, shift, decay))
        return True
    tmp = _scratch(opt, p)
    if not _distinct((p, g, m, v)) or not _blas.usable(p, g, m, v, tmp):
        return False
    g = _l2(opt, p, g)
    if decay != 1.0:
        p *= decay
    _blas.axpby(1 - b1, g, b1, m)  # m ← β₁ m + (1 − β₁) g
    np.multiply(g, g, out=tmp)
    _blas.axpby(1 - b2, tmp, b2, v)  # v ← β₂ v + (1 − β₂) g²
    np.sqrt(v, out=tmp)
    tmp += opt.eps * root_bc2
    np.divide(m, tmp, out=tmp)
    _blas.axpy(-step_size * root_bc2, tmp, p)
    return True


def _adagrad(opt, p, g, s, t) -> bool:
    """The loop: ``G ← G + g²``; ``θ ← θ − η_t·g/(√G + ε)``."""
    G, lr_t = s["sum"], opt.learning_rate / (1 + (t - 1) * opt.lr_decay)
    k = _kernels(p, g, G)
    if k is None:
        return _numpy_adagrad(opt, p, g, G, lr_t) if _numpy_ready(p, g, G) else False
    _run(k.adagrad, (p, _l2(opt, p, g), G), (opt.eps, lr_t))
    return True


def _adadelta(opt, p, g, s, t) -> bool:
    """The loop: Adadelta's four lines per element."""
    v, u = s["square_avg"], s["acc_delta"]
    k = _kernels(p, g, v, u)
    if k is None:
        return _numpy_adadelta(opt, p, g, v, u) if _numpy_ready(p, g, v, u) else False
    rho = opt.rho
    _run(k.adadelta, (p, _l2(opt, p, g), v, u), (rho, 1 - rho, opt.eps, opt.learning_rate))
    return True


def _rmsprop(opt, p, g, s, t) -> bool:
    """The loop, with empty arrays standing for the slots the options leave out."""
    v, gbar, b = s["square_avg"], s.get("grad_avg"), s.get("momentum_buffer")
    arrays = [p, g, v, *[a for a in (gbar, b) if a is not None]]
    k = _kernels(*arrays)
    if k is None:
        return _numpy_rmsprop(opt, p, g, v, gbar, b) if _numpy_ready(*arrays) else False
    none = np.empty(0, dtype=p.dtype)
    a, x = opt.alpha, p.dtype.type
    k.rmsprop(
        flat(p), flat(_l2(opt, p, g)), flat(v),
        none if gbar is None else flat(gbar), none if b is None else flat(b),
        x(a), x(1 - a), x(opt.eps), x(opt.momentum), x(opt.learning_rate),
        gbar is not None, b is not None,
    )  # fmt: skip
    return True


# --- without the loops: the rule's own operations, in its order, into work arrays ------------
# (the same numbers as the rule, bit for bit, without allocating its temporaries each step)


def _numpy_ready(*arrays: Array) -> bool:
    return not _off and _distinct(arrays) and flat_alike(*arrays)


def _numpy_adagrad(opt, p, g, G, lr_t) -> bool:
    g, tmp = _l2(opt, p, g), _scratch(opt, p)
    G += np.multiply(g, g, out=tmp)  # G ← G + g²
    q = np.divide(g, np.add(np.sqrt(G, out=tmp), opt.eps, out=tmp), out=tmp)  # g/(√G + ε)
    p -= np.multiply(q, lr_t, out=tmp)  # θ ← θ − η_t·g/(√G + ε)
    return True


def _numpy_adadelta(opt, p, g, v, u) -> bool:
    g = _l2(opt, p, g)
    rho, eps, tmp, tmp2 = opt.rho, opt.eps, _scratch(opt, p), _scratch(opt, p, 2)
    v *= rho
    v += np.multiply(np.multiply(g, g, out=tmp), 1 - rho, out=tmp)  # v ← ρv + (1 − ρ)g²
    delta = np.sqrt(np.add(u, eps, out=tmp), out=tmp)
    delta /= np.sqrt(np.add(v, eps, out=tmp2), out=tmp2)
    delta *= g  # Δ ← √(u + ε)/√(v + ε)·g
    u *= rho
    u += np.multiply(np.multiply(delta, delta, out=tmp2), 1 - rho, out=tmp2)  # u ← ρu + (1 − ρ)Δ²
    p -= np.multiply(delta, opt.learning_rate, out=tmp)  # θ ← θ − η·Δ
    return True


def _numpy_rmsprop(opt, p, g, v, gbar, b) -> bool:
    g = _l2(opt, p, g)
    a, lr, tmp = opt.alpha, opt.learning_rate, _scratch(opt, p)
    v *= a
    v += np.multiply(np.multiply(g, g, out=tmp), 1 - a, out=tmp)  # v ← αv + (1 − α)g²
    if gbar is not None:
        gbar *= a
        gbar += np.multiply(g, 1 - a, out=tmp)  # ḡ ← αḡ + (1 − α)g
        r = np.sqrt(np.subtract(v, np.multiply(gbar, gbar, out=tmp), out=tmp), out=tmp)
    else:
        r = np.sqrt(v, out=tmp)
    r += opt.eps
    q = np.divide(g, r, out=tmp)  # g/r
    if b is not None:
        b *= opt.momentum
        b += q  # B ← μB + g/r
        q = b
    p -= np.multiply(q, lr, out=tmp)  # θ ← θ − η·B, or θ − η·g/r
    return True


def _run(loop, arrays: tuple[Array, ...], scalars: tuple[float, ...]) -> None:
    """Run a compiled loop on the arrays' memory, the scalars rounded to their dtype first."""
    x = arrays[0].dtype.type
    loop(*(flat(a) for a in arrays), *(x(c) for c in scalars))


_HERE = __name__.rpartition(".")[0] + "."
_CHOSEN: dict[type, object] = {}  # class → its path (None: the rule), found once per class
_off = 0  # disabled() blocks running
_PATHS = {"SGD": _sgd, "Adam": _adam, "AdamW": _adam, "Adagrad": _adagrad}
_PATHS.update({"Adadelta": _adadelta, "RMSProp": _rmsprop})
