"""Adam and AdamW, as ``torch.optim.Adam`` and ``torch.optim.AdamW``."""

from __future__ import annotations

from ..notation import Expr, Frac, Func, Lit, Paren, Pow, row
from ..validation import check_number
from .base import Optimizer, ignore, namespace
from .display import Terms
from .registry import register_optimizer

ONE, TWO = Lit("1"), Lit("2")


class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam``::

        input: η (lr), β₁, β₂, ε, λ (weight decay)
        m ← 0, v ← 0
        for t = 1, 2, …:
            g ← ∂E/∂θ;  if λ ≠ 0: g ← g + λθ
            m ← β₁ m + (1 − β₁) g
            v ← β₂ v + (1 − β₂) g²
            m̂ ← m / (1 − β₁ᵗ)
            v̂ ← v / (1 − β₂ᵗ)
            θ ← θ − η m̂ / (√v̂ + ε)

    ε is added outside the root, as PyTorch does. Identity (tested): with ``β₁ = 0`` and
    ``ε = 0`` this is RMSProp (``α = β₂``, ``ε = 0``) with the learning rate scaled by
    ``√(1 − β₂ᵗ)``.
    """

    name = "adam"
    slots = ("m", "v")
    letters = {"m": "m", "v": "v"}
    symbols = {"η": "learning_rate", "λ": "weight_decay", "ε": "eps"}
    symbols.update({"β₁": "beta1", "β₂": "beta2"})
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
        b = "beta parameter at index"
        self.beta1 = check_number(beta1, f"{b} 0", 0.0, 1.0, high_inclusive=False)
        self.beta2 = check_number(beta2, f"{b} 1", 0.0, 1.0, high_inclusive=False)
        self.eps = check_number(eps, "epsilon value", 0.0)

    def rule(self, theta, g, s, t, note=ignore):
        xp = namespace(theta)
        b1, b2 = self.beta1, self.beta2
        m, v = s["m"], s["v"]
        m *= b1
        m += (1 - b1) * g  # m ← β₁m + (1 − β₁)g
        v *= b2
        v += (1 - b2) * g**2  # v ← β₂v + (1 − β₂)g²
        m_hat = note("m̂", m / (1 - b1**t))  # m̂ ← m/(1 − β₁ᵗ)
        v_hat = note("v̂", v / (1 - b2**t))  # v̂ ← v/(1 − β₂ᵗ)
        # θ ← θ − η·m̂/(√v̂ + ε)
        theta -= note("Δθ", self.learning_rate * m_hat / (xp.sqrt(v_hat) + self.eps))

    def display_rule(self, q: Terms) -> list[Expr]:
        # m̂ and v̂ written out, η/(1 − β₁ᵗ)·m/(√v/√(1 − β₂ᵗ) + ε), as the worked examples do
        b1, b2, t = q.setting("β₁"), q.setting("β₂"), q.step()
        g = q.term("g")
        m = q.assign("m", b1, "·", q.term("m"), "+", Paren(row(ONE, "−", b1)), "·", g)
        v = q.assign("v", b2, "·", q.term("v"), "+", Paren(row(ONE, "−", b2)), "·", Pow(g, TWO))
        step = Frac(q.setting("η"), row(ONE, "−", Pow(b1, t)))
        root = Frac(Func("√", [q.term("v")]), Func("√", [row(ONE, "−", Pow(b2, t))]))
        scaled = Frac(q.term("m"), row(root, "+", q.setting("ε")))
        return [m, v, q.assign("θ", q.term("θ"), "−", step, "·", scaled)]


class AdamW(Adam):
    """AdamW, as ``torch.optim.AdamW``: the decay is decoupled from the gradient::

    for t = 1, 2, …:
        θ ← θ (1 − η λ)
        then Adam's step with g = ∂E/∂θ
    """

    name = "adamw"
    formula = "θ ← θ(1 − ηλ);  then Adam"
    decoupled_weight_decay = True

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta1: float = 0.9,
        beta2: float = 0.999,
        eps: float = 1e-8,
        weight_decay: float = 0.01,
    ):
        super().__init__(learning_rate, beta1, beta2, eps, weight_decay)


register_optimizer("adam", Adam)
register_optimizer("adamw", AdamW)
