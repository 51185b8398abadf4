"""RMSProp, as ``torch.optim.RMSprop``: steps scaled by a running RMS of the gradients."""

from __future__ import annotations

from ..notation import Expr, Frac, Func, Lit, Paren, Pow, row
from ..validation import check_number
from .base import Optimizer, ignore, namespace
from .display import Terms
from .registry import register_optimizer

ONE, TWO = Lit("1"), Lit("2")


class RMSProp(Optimizer):
    """RMSProp, as ``torch.optim.RMSprop``::

    input: η (lr), α, ε, λ (weight decay), μ (momentum), centered
    v ← 0, ḡ ← 0, B ← 0                      (v = square_avg, ḡ = grad_avg, B = momentum_buffer)
    for t = 1, 2, …:
        g ← ∂E/∂θ;  if λ ≠ 0: g ← g + λθ
        v ← α v + (1 − α) g²
        if centered:  ḡ ← α ḡ + (1 − α) g;  r ← √(v − ḡ²) + ε
        else:         r ← √v + ε
        if μ > 0:  B ← μ B + g/r;  θ ← θ − η B
        else:      θ ← θ − η g/r
    """

    name = "rmsprop"
    letters = {"square_avg": "v", "grad_avg": "ḡ", "momentum_buffer": "B"}
    symbols = {"η": "learning_rate", "μ": "momentum", "λ": "weight_decay"}
    symbols.update({"ε": "eps", "α": "alpha"})
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

    def rule(self, theta, g, s, t, note=ignore):
        xp = namespace(theta)
        a, lr = self.alpha, self.learning_rate
        v = s["square_avg"]
        v *= a
        v += (1 - a) * g**2  # v ← αv + (1 − α)g²
        if self.centered:
            gbar = s["grad_avg"]
            gbar *= a
            gbar += (1 - a) * g  # ḡ ← αḡ + (1 − α)g
            r = xp.sqrt(v - gbar**2) + self.eps
        else:
            r = xp.sqrt(v) + self.eps
        if self.momentum:
            B = s["momentum_buffer"]
            B *= self.momentum
            B += g / r  # B ← μB + g/r
            theta -= note("Δθ", lr * B)
        else:
            theta -= note("Δθ", lr * (g / r))  # θ ← θ − η·g/r (the product last, as torch)

    def display_rule(self, q: Terms) -> list[Expr]:
        alpha = q.setting("α")
        keep = Paren(row(ONE, "−", alpha))
        g2 = Pow(q.term("g"), TWO)
        lines = [q.assign("square_avg", alpha, "·", q.term("square_avg"), "+", keep, "·", g2)]
        if self.centered:
            avg = q.term("grad_avg")
            lines.append(q.assign("grad_avg", alpha, "·", avg, "+", keep, "·", q.term("g")))
            root = Func("√", [row(q.term("square_avg"), "−", Pow(q.term("grad_avg"), TWO))])
        else:
            root = Func("√", [q.term("square_avg")])
        step = Frac(q.term("g"), row(root, "+", q.setting("ε")))
        if self.momentum:
            buf = q.term("momentum_buffer")
            lines.append(q.assign("momentum_buffer", q.setting("μ"), "·", buf, "+", step))
            step = q.term("momentum_buffer")
        return [*lines, q.assign("θ", q.term("θ"), "−", q.setting("η"), "·", step)]


register_optimizer("rmsprop", RMSProp)
