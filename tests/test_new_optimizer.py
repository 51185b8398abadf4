"""An optimizer added in one file: Lion (Chen et al. 2023, "Symbolic Discovery of Optimization
Algorithms"), defined here, registered through ``register_optimizer``, and run end to end: ``fit``
(its updates against a NumPy computation of the rule written out below) and ``explain`` in all four
formats (its equations, with the engine's numbers).

Lion keeps one moment m and steps by the sign of an interpolation of m and g::

    c ← β₁ m + (1 − β₁) g
    θ ← θ(1 − ηλ) − η sign(c)          (decoupled decay, as AdamW)
    m ← β₂ m + (1 − β₂) g
"""

from __future__ import annotations

import json

import numpy as np
import pytest

import deltaprop as dp
from deltaprop.notation import Expr, Func, Lit, Num, Paren, Sym, row, to_latex, to_text
from deltaprop.optimizers import OPTIMIZERS, Optimizer, register_optimizer
from deltaprop.optimizers.base import ignore, namespace
from deltaprop.optimizers.display import Terms
from deltaprop.render.html import equation_html
from deltaprop.validation import check_number

ONE = Lit("1")


class Lion(Optimizer):
    """Lion: ``c ← β₁m + (1 − β₁)g``;  ``θ ← θ(1 − ηλ) − η·sign(c)``;  ``m ← β₂m + (1 − β₂)g``."""

    name = "lion"
    slots = ("m",)
    letters = {"m": "m"}
    symbols = {"η": "learning_rate", "λ": "weight_decay", "β₁": "beta1", "β₂": "beta2"}
    formula = "c ← β₁m + (1−β₁)g;  θ ← θ − η·sign(c);  m ← β₂m + (1−β₂)g"
    decoupled_weight_decay = True

    def __init__(self, learning_rate=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0):
        super().__init__(learning_rate, weight_decay)
        self.beta1 = check_number(beta1, "beta1", 0.0, 1.0)
        self.beta2 = check_number(beta2, "beta2", 0.0, 1.0)

    def rule(self, theta, g, s, t, note=ignore):
        xp = namespace(theta)
        b1, b2, m = self.beta1, self.beta2, s["m"]  # θ(1 − ηλ) is done: decoupled_weight_decay
        c = note("c", b1 * m + (1 - b1) * g)
        theta -= note("Δθ", self.learning_rate * xp.sign(c))
        m *= b2
        m += (1 - b2) * g

    def display_rule(self, q: Terms) -> list[Expr]:
        b1, b2, g = q.setting("β₁"), q.setting("β₂"), q.term("g")
        c = q.assign("c", b1, "·", q.term("m"), "+", Paren(row(ONE, "−", b1)), "·", g)
        step = q.assign("θ", q.term("θ"), "−", q.setting("η"), "·", Func("sign", [q.term("c")]))
        m = q.assign("m", b2, "·", q.term("m"), "+", Paren(row(ONE, "−", b2)), "·", g)
        return [c, step, m]


@pytest.fixture
def lion():
    saved = dict(OPTIMIZERS)
    register_optimizer("lion", Lion)
    yield Lion
    OPTIMIZERS.clear()
    OPTIMIZERS.update(saved)


def _lion_by_hand(theta, g, m, lr, b1, b2, wd):
    """The rule, once more in plain NumPy, from the docstring above."""
    c = b1 * m + (1 - b1) * g
    theta = theta * (1 - lr * wd) - lr * np.sign(c)
    return theta, b2 * m + (1 - b2) * g


SETTINGS = {"learning_rate": 0.01, "beta1": 0.8, "beta2": 0.95, "weight_decay": 0.1}


def test_registered_by_name(lion):
    assert "lion" in dp.available_optimizers() and OPTIMIZERS["lion"] is Lion
    opt = dp.get_optimizer("lion", lr=0.3)
    assert isinstance(opt, Lion) and opt.learning_rate == 0.3
    with pytest.raises(ValueError, match="already registered"):
        register_optimizer("lion", lambda **kw: Lion(**kw))


def test_fit_runs_the_rule(lion):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(20, 3)), rng.normal(size=(20, 2))
    net = dp.Network.from_sizes([3, 4, 2], ["tanh", "identity"], seed=1)
    start = net.copy()
    initial = net.get_weights()
    opt = dp.get_optimizer("lion", **SETTINGS)
    history = dp.fit(net, x, y, optimizer=opt, epochs=3, batch_size=None, shuffle=False)
    assert history.updates == 3
    # the same three full-batch steps, by hand
    theta = start.get_weights()
    m = {k: np.zeros_like(v) for k, v in theta.items()}
    for _ in range(3):
        start.set_weights(theta)
        grads = start.gradients(x, y, "squared_error").as_dict()
        for k in theta:
            theta[k], m[k] = _lion_by_hand(theta[k], grads[k], m[k], *SETTINGS.values())
    for k, v in net.get_weights().items():
        np.testing.assert_allclose(v, theta[k], rtol=1e-12, atol=1e-15)
        assert np.all(v != initial[k])
    assert history.loss[-1] < history.loss[0]


SPEC_NET = {"weights": [[[0.6, -0.3], [0.2, 0.8]], [[0.5, -0.7]]], "biases": [[0.1, -0.2], [0.05]]}


def _explained():
    net = dp.Network.from_sizes([2, 2, 1], ["sigmoid", "identity"])
    net.set_weights(
        {
            "W1": np.array(SPEC_NET["weights"][0]),
            "b1": np.array(SPEC_NET["biases"][0]),
            "W2": np.array(SPEC_NET["weights"][1]),
            "b2": np.array(SPEC_NET["biases"][1]),
        }
    )
    x, t = np.array([[1.0, -0.5], [0.3, 0.9]]), np.array([[0.25], [-0.4]])
    return net, x, t, dp.explain(net, x, t, optimizer={"name": "lion", **SETTINGS}, steps=2)


def test_explain_shows_its_equations_with_the_engines_numbers(lion):
    net, x, t, trace = _explained()
    text = trace.to_text()
    assert "Optimizer lion (learning_rate = 0.01, weight_decay = 0.1, beta1 = 0.8" in text
    for general in ("c ← β₁·m + (1 − β₁)·g", "θ ← θ·(1 − η·λ)", "θ ← θ − η·sign(c)"):
        assert f"    {general}\n" in text
    assert "    m ← β₂·m + (1 − β₂)·g\n" in text
    # step 2, w₁₁⁽¹⁾: every number is the engine's, and the rule by hand gives the same
    st = trace.steps[1]
    p, g, m0 = st.W[0][0, 0], st.dW[0][0, 0], st.state_before["m"]["W1"][0, 0]
    decayed, c = p * (1 - 0.01 * 0.1), 0.8 * m0 + 0.2 * g
    p1, m1 = _lion_by_hand(p, g, m0, *SETTINGS.values())
    assert p1 == pytest.approx(st.W_after[0][0, 0], rel=1e-14)
    assert m1 == pytest.approx(st.state_after["m"]["W1"][0, 0], rel=1e-14)
    assert st.optimizer_record["c"]["W1"][0, 0] == pytest.approx(c, rel=1e-14)

    def n(v):
        s = to_text(Num(v), 4)
        return f"({s})" if s.startswith("−") else s

    step2 = text.split("Step 2 of 2")[1]
    lines = [
        f"w₁₁⁽¹⁾ ← {to_text(Num(p), 4)}·(1 − 0.01·0.1) = {to_text(Num(decayed), 4)}",
        f"c₁₁⁽¹⁾ ← 0.8·{n(m0)} + (1 − 0.8)·{n(g)} = {to_text(Num(c), 4)}",
        f"w₁₁⁽¹⁾ ← {to_text(Num(decayed), 4)} − 0.01·sign({to_text(Num(c), 4)}) = "
        f"{to_text(Num(p1), 4)}",
        f"m₁₁⁽¹⁾ ← 0.95·{n(m0)} + (1 − 0.95)·{n(g)} = {to_text(Num(m1), 4)}",
    ]
    shown = [ln.strip() for ln in step2.splitlines()]
    start = shown.index(lines[0])
    assert shown[start : start + 4] == lines
    assert "What the rule computed on the way, not kept in its state:" in step2


def text_count_of_sign(trace) -> int:
    """sign(…) in the text: once in the formula, once in the rule, once per parameter, per step."""
    n = trace.to_text().count("sign(")
    assert n == 2 * (2 + 9)
    return n


@pytest.mark.parametrize("fmt", ["markdown", "html", "json"])
def test_explain_renders_in_every_format(lion, fmt):
    _, _, _, trace = _explained()
    out = trace.render(fmt)
    st = trace.steps[1]
    if fmt == "json":
        data = json.loads(out)
        assert data[1]["optimizer"] == {"name": "lion", **SETTINGS}
        np.testing.assert_array_equal(data[1]["weights_after"][0], st.W_after[0])
        m_after = data[1]["optimizer_state_after"]["m"]["W1"]
        np.testing.assert_array_equal(m_after, st.state_after["m"]["W1"])
        return
    # step 2's update of w₁₁⁽¹⁾, with the numbers of the rule by hand
    p, g, m0 = st.W[0][0, 0], st.dW[0][0, 0], st.state_before["m"]["W1"][0, 0]
    decayed, c = p * (1 - 0.01 * 0.1), 0.8 * m0 + 0.2 * g
    p1, _ = _lion_by_hand(p, g, m0, *SETTINGS.values())
    eq = row(Sym("w", "11", "(1)"), "←", Num(decayed), "−", Lit("0.01"), "·")
    eq = row(*eq.items, Func("sign", [Num(c)]), "=", Num(p1))
    if fmt == "markdown":
        assert f"- ${to_latex(eq)}$" in out
    else:
        assert equation_html(eq) in out  # the equation as the page sets it, broken at + and =
    assert out.count("sign") == text_count_of_sign(trace)
