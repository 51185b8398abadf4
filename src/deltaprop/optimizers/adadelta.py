"""Adadelta, as ``torch.optim.Adadelta``: steps scaled by the RMS of past steps over gradients."""

from __future__ import annotations

from ..notation import Expr, Frac, Func, Lit, Paren, Pow, row
from ..validation import check_number
from .base import Optimizer, ignore, namespace
from .display import Terms
from .registry import register_optimizer

ONE, TWO = Lit("1"), Lit("2")


class Adadelta(Optimizer):
    """Adadelta, as ``torch.optim.Adadelta`` (ε inside the roots)::

    input: η (lr), ρ, ε, λ (weight decay)
    v ← 0, u ← 0                             (v = square_avg, u = acc_delta)
    for t = 1, 2, …:
        g ← ∂E/∂θ;  if λ ≠ 0: g ← g + λθ
        v ← ρ v + (1 − ρ) g²
        Δ ← √(u + ε) / √(v + ε) · g
        u ← ρ u + (1 − ρ) Δ²
        θ ← θ − η Δ
    """

    name = "adadelta"
    slots = ("square_avg", "acc_delta")
    letters = {"square_avg": "v", "acc_delta": "u"}
    symbols = {"η": "learning_rate", "λ": "weight_decay", "ε": "eps", "ρ": "rho"}
    formula = "v ← ρv + (1−ρ)g²;  Δ ← √(u+ε)/√(v+ε)·g;  u ← ρu + (1−ρ)Δ²;  θ ← θ − η·Δ"

    def __init__(
        self,
        learning_rate: float = 1.0,
        rho: float = 0.9,
        eps: float = 1e-6,
        weight_decay: float = 0.0,
    ):
        super().__init__(learning_rate, weight_decay)
        self.rho = check_number(rho, "rho value", 0.0, 1.0)
        self.eps = check_number(eps, "epsilon value", 0.0)

    def rule(self, theta, g, s, t, note=ignore):
        xp = namespace(theta)
        rho, eps = self.rho, self.eps
        v, u = s["square_avg"], s["acc_delta"]
        v *= rho
        v += (1 - rho) * g**2  # v ← ρv + (1 − ρ)g²
        delta = note("Δ", xp.sqrt(u + eps) / xp.sqrt(v + eps) * g)  # Δ ← √(u + ε)/√(v + ε)·g
        u *= rho
        u += (1 - rho) * delta**2  # u ← ρu + (1 − ρ)Δ²
        theta -= note("Δθ", self.learning_rate * delta)  # θ ← θ − η·Δ

    def display_rule(self, q: Terms) -> list[Expr]:
        rho, eps = q.setting("ρ"), q.setting("ε")
        keep, g2 = Paren(row(ONE, "−", rho)), Pow(q.term("g"), TWO)
        v = q.assign("square_avg", rho, "·", q.term("square_avg"), "+", keep, "·", g2)
        ratio = Frac(
            Func("√", [row(q.term("acc_delta"), "+", eps)]),
            Func("√", [row(q.term("square_avg"), "+", eps)]),
        )
        delta = q.assign("Δ", ratio, "·", q.term("g"))
        d2 = Pow(q.term("Δ"), TWO)
        u = q.assign("acc_delta", rho, "·", q.term("acc_delta"), "+", keep, "·", d2)
        return [v, delta, u, q.assign("θ", q.term("θ"), "−", q.setting("η"), "·", q.term("Δ"))]


register_optimizer("adadelta", Adadelta)
