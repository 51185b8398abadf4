"""Loss functions ``J(o, t)``, their gradients ``∂J/∂o``, and the output delta ``δᴸ = ∂J/∂zᴸ``.

Shapes: outputs ``o`` and targets ``t`` are ``(n, k)``. ``value`` returns the batch error
``E = (1/n) Σᵢ J(oᵢ, tᵢ)``; ``gradient`` returns the per-sample ``∂J/∂o`` (not divided by ``n``:
the ``1/n`` of the batch mean is applied once, when gradients are formed from deltas).

=================  ==========================================  =================================
name               J(o, t) for one sample                      ∂J/∂o
=================  ==========================================  =================================
squared_error      ½ Σₖ (oₖ − tₖ)²     (the tutorials' ½)       o − t
mse                (1/k) Σₖ (oₖ − tₖ)²                          2(o − t)/k
log_loss           −Σₖ [tₖ log oₖ + (1 − tₖ) log(1 − oₖ)]       (o − t) / (o(1 − o))
cross_entropy      −Σₖ tₖ log oₖ                                −t / o
=================  ==========================================  =================================

Logarithms are taken of outputs clipped to ``[ε, 1 − ε]`` (ε = machine epsilon of the dtype), so
a saturated output gives a large finite loss, never ``log(0)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields

import numpy as np

from .activations import Activation
from .notation import HALF, Expr, Frac, Func, Lit, Op, Paren, Pow, Row, Sum, Sym, join, row

Array = np.ndarray


_EPS: dict[np.dtype, float] = {}


def _clip(o: Array) -> Array:
    eps = _EPS.get(o.dtype)
    if eps is None:
        eps = np.finfo(o.dtype).eps if np.issubdtype(o.dtype, np.floating) else 1e-15
        _EPS[o.dtype] = eps
    # np.minimum(np.maximum(·)) is np.clip without its Python-level wrapper (called every batch).
    return np.minimum(np.maximum(o, eps), 1 - eps)


def _squared_error(o, t):
    d = o - t
    return 0.5 * np.einsum("ij,ij->i", d, d)


def _squared_error_grad(o, t, out):
    return np.subtract(o, t, out=out)


def _mse(o, t):
    d = o - t
    return np.einsum("ij,ij->i", d, d) / d.shape[1]


def _mse_grad(o, t, out):
    np.subtract(o, t, out=out)
    out *= 2.0 / o.shape[1]
    return out


def _log_loss(o, t):
    c = _clip(o)
    return -(np.einsum("ij,ij->i", t, np.log(c)) + np.einsum("ij,ij->i", 1 - t, np.log1p(-c)))


def _log_loss_grad(o, t, out):
    c = _clip(o)
    np.subtract(o, t, out=out)
    out /= c * (1 - c)
    return out


def _cross_entropy(o, t):
    return -np.einsum("ij,ij->i", t, np.log(_clip(o)))


def _cross_entropy_grad(o, t, out):
    np.divide(t, _clip(o), out=out)
    np.negative(out, out=out)
    return out


@dataclass(frozen=True)
class LossNotation:
    """A loss's formulas as expressions (:mod:`deltaprop.notation`), rendered in every format.

    ``value``: ``J`` for one sample, symbolic in ``o_k`` and ``t_k``. ``value_with(o, t)``: ``J``
    with one sample's numbers (``o``, ``t`` lists of ``Num``). ``gradient(o, t, k)``: ``∂J/∂o_i``
    from ``o_i`` and ``t_i`` (symbols with ``k`` None, or numbers with ``k`` the number of outputs).
    """

    value: Expr
    value_with: Callable[[list[Expr], list[Expr]], Expr]
    gradient: Callable[[Expr, Expr, int | None], Expr]


@dataclass(frozen=True)
class Loss:
    """A loss: ``value(o, t)`` is the batch mean, ``gradient(o, t)`` the per-sample ``∂J/∂o``.

    ``fused_activation``: the output activation after which ``δᴸ = o − t`` (the shortcut), and
    ``shortcut_reason`` why it holds; with ``shortcut_unit_rows`` it holds only where every target
    row sums to 1, and the engine otherwise takes its exact generalisation ``δ = o Σₖtₖ − t``.
    ``notation``: the formulas as expressions (None: a worked solution shows the numbers only).
    """

    name: str
    per_sample_fn: Callable[[Array, Array], Array]
    gradient_fn: Callable[[Array, Array, Array], Array]
    formula: str
    gradient_formula: str
    fused_activation: str | None = None
    shortcut_reason: str = field(default="", compare=False)
    shortcut_unit_rows: bool = field(default=False, compare=False)
    notation: LossNotation | None = field(default=None, compare=False)

    def __reduce__(self):
        # A registered loss pickles as its name (its formulas are lambdas), any other by field.
        if LOSSES.get(self.name) is self:
            return get_loss, (self.name,)
        return Loss, tuple(getattr(self, f.name) for f in fields(self))

    def per_sample(self, o: Array, t: Array) -> Array:
        """``J(oᵢ, tᵢ)`` for every sample, shape ``(n,)``."""
        return self.per_sample_fn(o, t)

    def value(self, o: Array, t: Array, sample_weight: Array | None = None) -> float:
        """Batch error ``E = (1/n) Σᵢ J(oᵢ, tᵢ)``, or ``Σᵢ wᵢ J(oᵢ, tᵢ) / Σᵢ wᵢ`` with weights."""
        j = self.per_sample_fn(o, t)
        if sample_weight is None:
            return float(np.add.reduce(j) / j.shape[0])  # j.mean(), minus its Python wrapper
        return float(np.dot(j, sample_weight) / np.sum(sample_weight))

    def gradient(self, o: Array, t: Array, out: Array | None = None) -> Array:
        """Per-sample ``∂J/∂o``, shape ``(n, k)``: in ``o``'s float dtype (float64 for integer
        outputs, which ``value`` accepts too), or written into ``out``."""
        if out is None:
            o = np.asarray(o)
            out = np.empty(o.shape, o.dtype if o.dtype.kind == "f" else np.float64)
        return self.gradient_fn(o, t, out)

    def has_shortcut(self, activation: Activation) -> bool:
        """Whether ``δᴸ = o − t`` holds for this loss after ``activation``."""
        return self.fused_activation == activation.name


# --- the formulas ------------------------------------------------------------------------------

ONE, TWO = Lit("1"), Lit("2")
O_K, T_K = Sym("o", "k"), Sym("t", "k")


def _square(o: Expr, t: Expr) -> Expr:
    return Pow(Paren(row(o, "−", t)), TWO)


def _written_out(terms: list[Expr]) -> Expr:
    """One term as it is, several as ``(a + b + …)``."""
    return terms[0] if len(terms) == 1 else Paren(join(terms, "+"))


def _log_term(o: Expr, t: Expr) -> Row:
    """``t·log(o) + (1 − t)·log(1 − o)``."""
    left = row(t, "·", Func("log", [o]))
    return row(left, "+", row(Paren(row(ONE, "−", t)), "·", Func("log", [row(ONE, "−", o)])))


def _ce_term(o: Expr, t: Expr) -> Row:
    """``t·log(o)``."""
    return row(t, "·", Func("log", [o]))


def _mse_gradient(o: Expr, t: Expr, k: int | None) -> Expr:
    d = row(TWO, "·", Paren(row(o, "−", t)))  # 2(o − t)/k; with one output, 2(o − t)
    return d if k == 1 else Frac(d, Sym("k") if k is None else Lit(str(k)))


def _mse_value_with(o: list[Expr], t: list[Expr]) -> Expr:
    body = _written_out([_square(a, b) for a, b in zip(o, t, strict=True)])
    return body if len(o) == 1 else row(Frac(ONE, Lit(str(len(o)))), body)


# The shortcut δ = o − t is valid for exactly three (activation, loss) pairs, because in each the
# activation's derivative cancels the loss's denominator:
#   identity + squared_error: ∂J/∂o = o − t and f' = 1;
#   sigmoid + log_loss:       (o − t)/(o(1 − o)) · o(1 − o) = o − t;
#   softmax + cross_entropy:  Σᵢ (−tᵢ/oᵢ) oᵢ(δᵢⱼ − oⱼ) = oⱼ Σᵢ tᵢ − tⱼ = oⱼ − tⱼ (Σ t = 1).
SQUARED_ERROR = Loss(
    "squared_error",
    _squared_error,
    _squared_error_grad,
    "½ Σ (o − t)²",
    "o − t",
    "identity",
    shortcut_reason="an identity output with the squared error: f′ = 1, so δ = ∂J/∂o = o − t",
    notation=LossNotation(
        row(HALF, Sum("k", _square(O_K, T_K))),
        lambda o, t: row(HALF, _written_out([_square(a, b) for a, b in zip(o, t, strict=True)])),
        lambda o, t, k: row(o, "−", t),
    ),
)
MSE = Loss(
    "mse",
    _mse,
    _mse_grad,
    "(1/k) Σ (o − t)²",
    "2(o − t)/k",
    notation=LossNotation(
        row(Frac(ONE, Sym("k")), Sum("k", _square(O_K, T_K))), _mse_value_with, _mse_gradient
    ),
)
LOG_LOSS = Loss(
    "log_loss",
    _log_loss,
    _log_loss_grad,
    "−Σ [t log o + (1 − t) log(1 − o)]",
    "(o − t) / (o(1 − o))",
    "sigmoid",
    shortcut_reason=(
        "a sigmoid output with the log loss: f′ = o(1 − o) cancels the denominator of ∂J/∂o"
    ),
    notation=LossNotation(
        Row([Op("−"), Sum("k", Paren(_log_term(O_K, T_K)))]),
        lambda o, t: Row(
            [Op("−"), Paren(join([_log_term(a, b) for a, b in zip(o, t, strict=True)], "+"))]
        ),
        lambda o, t, k: Frac(row(o, "−", t), row(o, "·", Paren(row(ONE, "−", o)))),
    ),
)
CROSS_ENTROPY = Loss(
    "cross_entropy",
    _cross_entropy,
    _cross_entropy_grad,
    "−Σ t log o",
    "−t / o",
    "softmax",
    shortcut_reason=(
        "a softmax output with the cross-entropy: Σᵢ (−tᵢ/oᵢ)·oᵢ([i = j] − oⱼ) = oⱼ Σᵢ tᵢ − tⱼ, "
        "which is oⱼ − tⱼ when the targets sum to 1"
    ),
    shortcut_unit_rows=True,
    notation=LossNotation(
        Row([Op("−"), Sum("k", _ce_term(O_K, T_K))]),
        lambda o, t: Row([Op("−"), Paren(join(list(map(_ce_term, o, t)), "+"))]),
        lambda o, t, k: Row([Op("−"), Frac(t, o)]),
    ),
)

LOSSES: dict[str, Loss] = {
    loss.name: loss for loss in (SQUARED_ERROR, MSE, LOG_LOSS, CROSS_ENTROPY)
}


def register_loss(
    name: str | Loss,
    per_sample: Callable[[Array, Array], Array] | None = None,
    gradient: Callable[[Array, Array], Array] | None = None,
    formula: str = "",
    gradient_formula: str = "",
    *,
    notation: LossNotation | None = None,
    fused_activation: str | None = None,
    shortcut_reason: str = "",
) -> Loss:
    """Register a user-defined loss, or a ready :class:`Loss`.

    ``per_sample(o, t) -> J`` of shape ``(n,)`` and ``gradient(o, t) -> ∂J/∂o`` of shape
    ``(n, k)`` take plain arrays (they need not support ``out=``). The name can then be used
    anywhere a loss name is accepted; ``notation`` gives its formulas to worked solutions;
    ``fused_activation`` names the output activation after which ``δᴸ = o − t`` (and
    ``shortcut_reason`` says why).
    """
    if isinstance(name, Loss):
        LOSSES[name.name] = name
        return name
    if not name or not isinstance(name, str):
        raise ValueError(f"loss name must be a non-empty string, got {name!r}")
    if not callable(per_sample) or not callable(gradient):
        raise TypeError("per_sample and gradient must be callables")

    def grad(o, t, out):
        out[...] = gradient(o, t)
        return out

    loss = Loss(
        name,
        per_sample,
        grad,
        formula or f"{name}(o, t)",
        gradient_formula or f"∂{name}/∂o",
        fused_activation,
        shortcut_reason=shortcut_reason,
        notation=notation,
    )
    LOSSES[name] = loss
    return loss


_ALIASES = {
    "squared": "squared_error",
    "sse": "squared_error",
    "mean_squared_error": "mse",
    "binary_cross_entropy": "log_loss",
    "bce": "log_loss",
    "categorical_cross_entropy": "cross_entropy",
    "softmax_cross_entropy": "cross_entropy",
}


def get_loss(name: str | Loss) -> Loss:
    """Look a loss up by name, or pass a :class:`Loss` through.

    A name is found as it was registered (a user's may have capitals), else in lower case or as
    an alias (``bce``, ``mean_squared_error``, …)."""
    if isinstance(name, Loss):
        return name
    if not isinstance(name, str):
        raise TypeError(f"loss must be a name (str), got {type(name).__name__}")
    if name in LOSSES:
        return LOSSES[name]
    key = _ALIASES.get(name.lower(), name.lower())
    if key not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; expected one of {', '.join(sorted(LOSSES))}")
    return LOSSES[key]


def output_delta(
    loss: Loss,
    activation: Activation,
    z: Array,
    o: Array,
    t: Array,
    out: Array | None = None,
    use_shortcut: bool = True,
    *,
    target_rows_sum_to_one: bool | None = None,
) -> Array:
    """The output-layer delta ``δᴸ = ∂J/∂zᴸ``, shape ``(n, k)``, one row per sample.

    General form (any pair): ``δᴸ = J_f(zᴸ)ᵀ ∂J/∂o``, which for an element-wise ``f`` is
    ``∂J/∂o ⊙ f'(zᴸ)``. With ``use_shortcut`` and one of the three pairs listed in ``LOSSES``,
    the algebraically equal ``δᴸ = o − t``, which is cheaper and has no division by ``o(1 − o)``.
    Softmax + cross-entropy's shortcut is ``δᴸ = o Σᵢtᵢ − t``, exact for any targets and any
    ``o``; where every target row sums to exactly 1 it is ``o − t``
    (``target_rows_sum_to_one=True`` says so when the caller has already checked: the training
    loop checks all its targets once; otherwise every call checks). The general form's ``−t/o``
    must clip ``o`` to ε, so it shrinks δ wherever an output has underflowed below ε; so does
    the numerical derivative of the (clipped) loss value there, e.g. in :func:`gradcheck`.
    """
    if out is None:
        out = np.empty_like(o)
    if use_shortcut and loss.has_shortcut(activation):
        if not loss.shortcut_unit_rows:
            return np.subtract(o, t, out=out)
        # Softmax + CE: Σᵢ (−tᵢ/oᵢ)·oᵢ(δᵢⱼ − oⱼ) = oⱼ Σᵢ tᵢ − tⱼ, no division by o, exact for any
        # o; it is o − t where every row sums to exactly 1 (one-hot rows do).
        if target_rows_sum_to_one is None:
            target_rows_sum_to_one = rows_sum_to_one(t, exact=True)
        if target_rows_sum_to_one:
            return np.subtract(o, t, out=out)
        np.multiply(o, np.add.reduce(t, axis=1, keepdims=True), out=out)
        return np.subtract(out, t, out=out)
    loss.gradient(o, t, out=out)
    return activation.vjp(z, o, out, out=out)


def shortcut_applies(loss: Loss, activation: Activation, t: Array) -> bool:
    """Whether ``δᴸ = o − t`` holds for this pair and these targets ``t`` (to 1e-6: what a worked
    solution calls valid; the engine itself takes ``o − t`` only on exact row sums)."""
    if not loss.has_shortcut(activation):
        return False
    return not loss.shortcut_unit_rows or rows_sum_to_one(t)


def rows_sum_to_one(t: Array, exact: bool = False) -> bool:
    """Whether every row of ``t`` sums to 1 (to 1e-6, or ``exact``ly): the condition of softmax +
    CE's shortcut ``o − t`` (the engine takes it only on exact sums; explain calls it valid to
    1e-6)."""
    # Σᵢ (−tᵢ/oᵢ)·oᵢ(δᵢⱼ − oⱼ) = oⱼ Σᵢ tᵢ − tⱼ, which is oⱼ − tⱼ only where Σᵢ tᵢ = 1.
    row_sums = np.add.reduce(t, axis=1)
    if row_sums.size == 0:
        return True
    if exact:
        return bool(np.all(row_sums == 1))
    return bool(np.abs(row_sums - 1).max() <= 1e-6)


def available_losses() -> list[str]:
    """Names of every loss."""
    return sorted(LOSSES)
