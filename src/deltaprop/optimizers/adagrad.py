"""Adagrad, as ``torch.optim.Adagrad``: a learning rate per weight, shrinking with its gradients."""

from __future__ import annotations

from ..notation import Expr, Frac, Func, Lit, Paren, Pow, Sym, row
from ..validation import check_number
from .base import Optimizer, ignore, namespace
from .display import Terms
from .registry import register_optimizer

ONE, TWO = Lit("1"), Lit("2")


class Adagrad(Optimizer):
    """Adagrad, as ``torch.optim.Adagrad``::

    input: η (lr), λ (weight decay), ε, d (lr_decay), G₀ (initial_accumulator_value)
    G ← G₀                                   (G = sum)
    for t = 1, 2, …:
        g ← ∂E/∂θ;  if λ ≠ 0: g ← g + λθ
        η_t ← η / (1 + (t − 1)·d)
        G ← G + g²
        θ ← θ − η_t · g / (√G + ε)
    """

    name = "adagrad"
    slots = ("sum",)
    letters = {"sum": "G"}
    symbols = {"η": "learning_rate", "λ": "weight_decay", "ε": "eps", "d": "lr_decay"}
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

    def rule(self, theta, g, s, t, note=ignore):
        xp = namespace(theta)
        lr_t = note("η_t", self.learning_rate / (1 + (t - 1) * self.lr_decay))
        G = s["sum"]
        G += g**2  # G ← G + g²
        # θ ← θ − η_t·g/(√G + ε), the product taken last, as torch does (addcdiv)
        theta -= note("Δθ", lr_t * (g / (xp.sqrt(G) + self.eps)))

    def display_step(self, q: Terms) -> list[Expr]:
        if not self.lr_decay:
            return []
        den = row(ONE, "+", Paren(row(q.step(), "−", ONE)), "·", q.setting("d"))
        eta_t = Sym("η", "t" if q.general else str(q.t))
        return [q.define(eta_t, Frac(q.setting("η"), den), "η_t")]

    def display_rule(self, q: Terms) -> list[Expr]:
        G = q.assign("sum", q.term("sum"), "+", Pow(q.term("g"), TWO))
        rate = q.quantity(Sym("η", "t"), "η_t") if self.lr_decay else q.setting("η")
        scaled = Frac(q.term("g"), row(Func("√", [q.term("sum")]), "+", q.setting("ε")))
        return [G, q.assign("θ", q.term("θ"), "−", rate, "·", scaled)]


register_optimizer("adagrad", Adagrad)
