"""What an activation is: ``f`` and ``f′`` side by side, with everything else that names them.

An :class:`Activation` is declared once and carries

- the kernels: ``function(z, out)`` for ``a = f(z)``, ``derivative_fn(z, a, out)`` for the
  element-wise ``f′(z)`` (from the output ``a`` where the tutorials write it so), and ``vjp_fn``
  where the Jacobian is not diagonal (softmax);
- its formulas: ``formula`` and ``derivative_formula`` as short text, and an
  :class:`ActivationNotation` whose expressions (:mod:`deltaprop.notation`) a worked solution
  renders as text, LaTeX and MathML, symbolic and with the numbers substituted;
- its equivalents elsewhere: an :class:`OnnxGraph` (opset 17) and a ``torch.nn`` module.

Nothing outside the declaration branches on an activation's name.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np

from ..notation import Expr, Func, Lit, Num, Sum, Sym, join

Array = np.ndarray

E, ONE, TWO = Sym("e"), Lit("1"), Lit("2")  # symbols the formulas share
SATURATION_SHARE = 0.01  # |f′| below this share of its maximum: the unit is saturated


def row_sum(index: str, zs: Sym | Sequence[Expr], term: Callable[[Expr], Expr]) -> Expr:
    """``Σ_index term(z_index)`` for the symbolic row ``zs`` (one symbol), or the terms of the
    numbers ``zs`` written out with ``+``: what a row-wise formula (softmax) needs."""
    if isinstance(zs, Sym):
        return Sum(index, term(zs))
    return join([term(v) for v in zs], "+")


@dataclass(frozen=True)
class Branch:
    """One piece of a piecewise ``f``: it holds where ``holds(z)``; ``note`` says so (``"z > 0"``).

    ``value`` replaces the activation's own value formula on this piece (None: keep it);
    ``derivative`` is ``f′`` on this piece (None: no formula, ``f′`` is shown as its number).
    """

    note: str
    holds: Callable[[float], bool]
    value: Callable[[Expr], Expr] | None = None
    derivative: Callable[[Expr, Expr], Expr] | None = None


@dataclass(frozen=True)
class ActivationNotation:
    """An activation's formulas as expressions, from which every format renders.

    ``value(z)`` is ``f(z)`` for ``z`` a symbol or a number (``Num``), so that one formula gives
    both ``σ(z₁⁽¹⁾)`` and ``σ(0.3000)``; a ``row_wise`` activation (softmax) is called as
    ``value(z, zs)`` with its whole row: a symbol ``z_j`` in the symbolic form, a list of numbers
    in the substituted one (see :func:`row_sum`). ``derivative(z, a)`` is ``f′`` in terms of the
    input ``z`` and the output ``a`` (bare symbols, or numbers); None: no formula, ``f′`` is shown
    as its number. ``branches`` are the pieces of a piecewise ``f``.
    """

    value: Callable[..., Expr]
    derivative: Callable[[Expr, Expr], Expr] | None = None
    branches: tuple[Branch, ...] = ()
    row_wise: bool = False

    def _branch(self, zv: float) -> Branch | None:
        return next((b for b in self.branches if b.holds(zv)), None)

    def value_at(self, z: Sym, zv: float, zs: Sequence[float] = ()) -> tuple[Expr, Expr | None]:
        """``f(z)`` symbolic and with ``zv`` (and its row ``zs``) substituted; the substituted form
        is None where ``f(z)`` is ``z`` itself, which has nothing to substitute."""
        branch = self._branch(zv)
        f = branch.value if branch is not None and branch.value is not None else self.value
        if self.row_wise:
            sym = f(z, Sym("z", "j", z.sup))
            return sym, f(Num(zv), [Num(float(v)) for v in zs])
        sym = f(z)
        return sym, (None if sym is z else f(Num(zv)))

    def derivative_at(self, zv: float, av: float) -> tuple[Expr | None, Expr | None, str]:
        """``(f′ symbolic, f′ with z and a substituted, the note of the piece that holds)``.

        ``(None, None, note)``: f′ has no formula here and is shown as its number. A formula
        without z or a in it (identity's ``1``) comes back with None for the substituted form.
        """
        branch = self._branch(zv)
        f = self.derivative if branch is None else branch.derivative
        note = f"as {branch.note}" if branch is not None else ""
        if f is None:
            return None, None, note
        sym = f(Sym("z"), Sym("a"))
        sub = f(Num(zv), Num(av))
        return sym, (None if sub == sym else sub), note


@dataclass(frozen=True)
class _Applied:
    """``name(z)``: the value formula of an activation that declares none."""

    name: str

    def __call__(self, z: Expr) -> Expr:
        return Func(self.name, [z])


Node = tuple[str, tuple[str, ...], str, dict[str, Any]]


@dataclass(frozen=True)
class OnnxGraph:
    """``a = f(z)`` in ONNX (opset 17): ``nodes`` are ``(op, inputs, output, attributes)``.

    ``"z"`` names the pre-activation and ``"a"`` the activation; other names are local to the
    layer. ``constants`` are scalars, stored as initializers of the network's dtype. No nodes:
    ``a = z`` (identity adds nothing to the graph).
    """

    nodes: tuple[Node, ...] = ()
    constants: tuple[tuple[str, float], ...] = ()


def onnx_op(op: str, **attributes: Any) -> OnnxGraph:
    """One ONNX operator from ``z`` to ``a``: ``onnx_op("LeakyRelu", alpha=0.01)``."""
    return OnnxGraph(((op, ("z",), "a", attributes),))


@dataclass(frozen=True)
class Activation:
    """An activation ``f`` with its derivative ``f'``, its formulas and its equivalents.

    ``function(z, out)`` writes ``f(z)`` into ``out`` (which may be ``z`` itself) and returns it.
    ``derivative(z, a, out)`` writes the element-wise ``f'(z)`` into ``out`` and returns it; it may
    read the output ``a = f(z)`` instead of ``z``. ``elementwise`` is false for activations such as
    softmax whose Jacobian is not diagonal; those supply ``vjp`` instead of a useful ``derivative``.
    ``derivative_from_output`` says the derivative reads ``a`` only (true of every built-in but
    silu and gelu), so the training loop may compute ``a`` over ``z`` in place.

    ``notation``: the formulas as expressions (default: ``name(z)``, ``f′`` as its number).
    ``onnx``: the ONNX graph (None: no ONNX equivalent); ``onnx_float64`` replaces it for float64
    where onnxruntime has no float64 kernel of its op. ``torch(nn)``: the ``torch.nn`` module, given
    the ``torch.nn`` namespace (None: no equivalent; a function returning None: no module, ``a =
    z``). ``jacobian_fn(z, a)``: the full Jacobian (n, k, k) of a non-element-wise activation.
    ``label``: a short name for drawings (default: the name's first five letters).
    ``initializer``: the weights it starts from by default (:mod:`deltaprop.initializers`): He
    (variance 2/fan_in) for the ReLU-like ones, which pass about half their input's variance on;
    Glorot otherwise.

    What a diagnosis reads (:mod:`deltaprop.saturation`): ``max_derivative`` is the largest
    ``|f′|`` of an activation that saturates (σ: ¼, tanh: 1), None if it does not; an entry with
    ``|f′(z)| < 1 % · max_derivative`` is saturated (:meth:`saturated`). ``can_die`` says ``f′``
    is exactly 0 on a half-line (ReLU): a unit with ``f′ = 0`` on every sample is dead
    (:meth:`inactive`).
    """

    name: str
    function: Callable[[Array, Array], Array]
    derivative_fn: Callable[[Array, Array, Array], Array] | None
    formula: str
    derivative_formula: str
    elementwise: bool = True
    vjp_fn: Callable[[Array, Array, Array, Array], Array] | None = None
    derivative_from_output: bool = True
    notation: ActivationNotation | None = field(default=None, compare=False)
    onnx: OnnxGraph | None = field(default=None, compare=False)
    onnx_float64: OnnxGraph | None = field(default=None, compare=False)
    torch: Callable[[Any], Any] | None = field(default=None, compare=False)
    jacobian_fn: Callable[[Array, Array], Array] | None = field(default=None, compare=False)
    label: str = field(default="", compare=False)
    initializer: str = field(default="glorot_uniform", compare=False)
    max_derivative: float | None = field(default=None, compare=False)
    can_die: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        if self.notation is None:
            object.__setattr__(self, "notation", ActivationNotation(_Applied(self.name)))
        if not self.label:
            object.__setattr__(self, "label", self.name[:5])

    def __reduce__(self):
        # A registered activation pickles as its name (its formulas and equivalents are lambdas):
        # unpickling looks it up again. Any other pickles field by field.
        registry = sys.modules.get("deltaprop.activations")
        if registry is not None and registry._REGISTRY.get(self.name) is self:
            return registry.get_activation, (self.name,)
        return Activation, tuple(getattr(self, f.name) for f in fields(self))

    def forward(self, z: Array, out: Array | None = None) -> Array:
        """``a = f(z)``; with ``out`` the result is written there (``out`` may be ``z``)."""
        return self.function(z, np.empty_like(z) if out is None else out)

    def derivative(self, z: Array, a: Array, out: Array | None = None) -> Array:
        """The element-wise derivative ``f'(z)`` (diagonal of the Jacobian)."""
        if self.derivative_fn is None:
            raise ValueError(f"activation {self.name!r} has no element-wise derivative; use vjp")
        return self.derivative_fn(z, a, np.empty_like(z) if out is None else out)

    def vjp(self, z: Array, a: Array, grad_a: Array, out: Array | None = None) -> Array:
        """``∂E/∂z = J_f(z)ᵀ ∂E/∂a``; ``out`` may be ``grad_a`` itself."""
        if out is None:
            out = np.empty_like(grad_a)
        if self.vjp_fn is not None:
            return self.vjp_fn(z, a, grad_a, out)
        if out is grad_a:
            d = self.derivative_fn(z, a, np.empty_like(z))
            return np.multiply(grad_a, d, out=out)
        self.derivative_fn(z, a, out)
        return np.multiply(out, grad_a, out=out)

    def saturated(self, z: Array, a: Array) -> Array | None:
        """Mask of the entries where ``|f′(z)| < 1 % · max |f′|``; None if ``f`` does not saturate
        (no ``max_derivative``) or is not element-wise."""
        if self.max_derivative is None or not self.elementwise:
            return None
        return np.abs(self.derivative(z, a)) < SATURATION_SHARE * self.max_derivative

    def inactive(self, z: Array, a: Array) -> Array | None:
        """Mask of the entries where ``f′(z) = 0`` exactly (a ReLU off); None unless ``can_die``."""
        if not self.can_die or not self.elementwise:
            return None
        return self.derivative(z, a) == 0

    def jacobian(self, z: Array, a: Array) -> Array:
        """``J[n, i, j] = ∂aᵢ/∂zⱼ`` for a batch (n, k): diagonal for an element-wise ``f``."""
        if self.jacobian_fn is not None:
            return self.jacobian_fn(z, a)
        if not self.elementwise:
            raise ValueError(f"activation {self.name!r} declares no Jacobian")
        d = self.derivative(z, a)
        return d[:, :, None] * np.eye(d.shape[1], dtype=d.dtype)
