"""Gradient descent, with optional (Nesterov) momentum, as ``torch.optim.SGD``."""

from __future__ import annotations

from ..notation import Expr, Frac, Paren, Sym, row
from ..validation import check_number
from .base import Optimizer, ignore
from .display import Terms, lit
from .registry import register_optimizer


class SGD(Optimizer):
    """Gradient descent, as ``torch.optim.SGD``::

    input: η (lr), μ (momentum), λ (weight decay), nesterov
    for t = 1, 2, …:
        g ← ∂E/∂θ;  if λ ≠ 0: g ← g + λθ
        if μ ≠ 0:
            v ← μ v + g                      (v = velocity; v = g at t = 1, as 0·μ + g)
            g ← g + μ v  if nesterov,  else  g ← v
        θ ← θ − η g
    """

    name = "sgd"
    letters = {"velocity": "v"}
    symbols = {"η": "learning_rate", "μ": "momentum", "λ": "weight_decay"}
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

    def rule(self, theta, g, s, t, note=ignore):
        lr, mu = self.learning_rate, self.momentum
        step = g
        if mu:
            v = s["velocity"]
            v *= mu
            v += g  # v ← μv + g
            step = g + mu * v if self.nesterov else v
        theta -= note("Δθ", lr * step)  # θ ← θ − η·step

    def display_rule(self, q: Terms) -> list[Expr]:
        eta = q.setting("η")
        if not self.momentum:
            return [q.assign("θ", q.term("θ"), "−", eta, "·", q.term("g"))]
        mu = q.setting("μ")
        v = q.assign("velocity", mu, "·", q.term("velocity"), "+", q.term("g"))
        if self.nesterov:
            step = Paren(row(q.term("g"), "+", mu, "·", q.term("velocity")))
        else:
            step = q.term("velocity")
        return [v, q.assign("θ", q.term("θ"), "−", eta, "·", step)]

    def brief(self) -> list[Expr | str] | None:
        if self.momentum or self.weight_decay:
            return None
        theta = Sym("θ")
        rule = row(theta, "←", theta, "−", Sym("η"), "·", Frac(Sym("∂E"), Sym("∂θ")))
        eta = row(Sym("η"), "=", lit(self.learning_rate))
        return ["Gradient descent, ", rule, " with ", eta, ", for every weight and bias θ:"]


def momentum(learning_rate: float = 0.01, momentum: float = 0.9, weight_decay: float = 0.0) -> SGD:
    """SGD with momentum μ (0.9 unless given)."""
    return SGD(learning_rate, momentum=momentum, weight_decay=weight_decay)


def nesterov(learning_rate: float = 0.01, momentum: float = 0.9, weight_decay: float = 0.0) -> SGD:
    """SGD with Nesterov momentum μ (0.9 unless given)."""
    return SGD(learning_rate, momentum=momentum, nesterov=True, weight_decay=weight_decay)


register_optimizer("sgd", SGD)
register_optimizer("gd", SGD)
register_optimizer("momentum", momentum)
register_optimizer("nesterov", nesterov)
