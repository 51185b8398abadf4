"""The update phase shows every optimizer's rule in symbols, then number by number.

Each variant runs the command line on a 2-2-1 spec for two steps (so the state before the second
step is not zero). The test writes out, independently of the renderer, every line the update phase
must print — PyTorch's rule with the engine's stored numbers (state before and after, parameters
before and after) at the printed precision — and checks that the update phase prints exactly
those lines, in order. For each line it also evaluates the rule's right-hand side at full
precision from the operands shown and checks it equals the stored result, so that a line with the
right numbers but the wrong rule cannot pass. The quantities the optimizer does not store (g + λθ,
AdamW's θ(1 − ηλ), Adagrad's η_t, Adadelta's Δ, Adam's m̂ and v̂, every Δθ) come from the record
its rule keeps on the way (``StepTrace.optimizer_record``); they are checked against the results
of the engine's update (the fast path, as in training) within the fast paths' stated ulps.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from ulps import TOLERANCE, update_ulps

import deltaprop as dp
from deltaprop.cli import main
from deltaprop.notation import Num, to_text
from deltaprop.spec import spec_from_dict

SPEC = {
    "layers": [2, 2, 1],
    "activations": ["sigmoid", "identity"],
    "loss": "squared_error",
    "weights": [[[0.6, -0.3], [0.2, 0.8]], [[0.5, -0.7]]],
    "biases": [[0.1, -0.2], [0.05]],
    "input": [[1.0, -0.5], [0.3, 0.9]],
    "target": [[0.25], [-0.4]],
}

# (spec learning rate, optimizer table) per variant
VARIANTS = {
    "sgd": (0.1, {"name": "sgd"}),
    "momentum": (0.1, {"name": "momentum", "momentum": 0.9}),
    "nesterov": (0.1, {"name": "nesterov", "momentum": 0.9}),
    "adagrad": (0.1, {"name": "adagrad"}),
    "adagrad_lr_decay_initial": (
        0.1,
        {"name": "adagrad", "lr_decay": 0.1, "initial_accumulator_value": 0.2},
    ),
    "adadelta": (1.0, {"name": "adadelta"}),
    "rmsprop": (0.01, {"name": "rmsprop"}),
    "rmsprop_centered": (0.01, {"name": "rmsprop", "centered": True}),
    "rmsprop_momentum": (0.01, {"name": "rmsprop", "momentum": 0.5}),
    "rmsprop_centered_momentum": (0.01, {"name": "rmsprop", "centered": True, "momentum": 0.5}),
    "adam": (0.01, {"name": "adam"}),
    "adamw": (0.01, {"name": "adamw", "weight_decay": 0.1}),
    "adamw_no_decay": (0.01, {"name": "adamw", "weight_decay": 0.0}),
    "sgd_weight_decay": (0.1, {"name": "sgd", "weight_decay": 0.05}),
    "momentum_weight_decay": (0.1, {"name": "momentum", "momentum": 0.9, "weight_decay": 0.05}),
    "nesterov_weight_decay": (0.1, {"name": "nesterov", "momentum": 0.9, "weight_decay": 0.01}),
    "adagrad_weight_decay": (0.1, {"name": "adagrad", "lr_decay": 0.1, "weight_decay": 0.05}),
    "adadelta_weight_decay": (1.0, {"name": "adadelta", "rho": 0.8, "weight_decay": 0.1}),
    "rmsprop_all_weight_decay": (
        0.01,
        {"name": "rmsprop", "alpha": 0.9, "centered": True, "momentum": 0.5, "weight_decay": 0.1},
    ),
    "adam_weight_decay": (0.01, {"name": "adam", "beta1": 0.8, "weight_decay": 0.1}),
}

# (key, index, symbol, the symbol's subscript and superscript) of every weight and bias
PARAMS = [
    ("W1", (0, 0), "w₁₁⁽¹⁾", "₁₁⁽¹⁾"),
    ("W1", (0, 1), "w₁₂⁽¹⁾", "₁₂⁽¹⁾"),
    ("W1", (1, 0), "w₂₁⁽¹⁾", "₂₁⁽¹⁾"),
    ("W1", (1, 1), "w₂₂⁽¹⁾", "₂₂⁽¹⁾"),
    ("b1", (0,), "b₁⁽¹⁾", "₁⁽¹⁾"),
    ("b1", (1,), "b₂⁽¹⁾", "₂⁽¹⁾"),
    ("W2", (0, 0), "w₁₁⁽²⁾", "₁₁⁽²⁾"),
    ("W2", (0, 1), "w₁₂⁽²⁾", "₁₂⁽²⁾"),
    ("b2", (0,), "b₁⁽²⁾", "₁⁽²⁾"),
]

SUP = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
SUB = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def run(tmp_path, capsys, lr: float, opt: dict, decimals: int = 4):
    """The text worked solution of 2 steps (by the command line) and the engine's trace."""
    path = tmp_path / "spec.json"
    path.write_text(json.dumps({**SPEC, "learning_rate": lr, "optimizer": opt}), "utf-8")
    capsys.readouterr()
    assert main(["explain", str(path), "--steps", "2", "--decimals", str(decimals)]) == 0
    out = capsys.readouterr().out
    return out, dp.load_spec(path).explain(steps=2)


def update_lines(out: str, step: int) -> list[str]:
    """The equation lines of the update phase of ``step`` (1 or 2), without the state table."""
    section = out.split(f"\nStep {step} of 2\n")[1].split("\nStep ")[0]
    phase = section.split(" Update\n")[1].split("Forward pass with the new parameters")[0]
    phase = phase.split("Its state before and after this step")[0]
    return [ln[4:] for ln in phase.splitlines() if ln.startswith("    ")]


def lit(v: float) -> str:
    """A setting as the worked solution writes it: 0.9, 1×10⁻⁸."""
    s = f"{v:g}"
    if "e" not in s:
        return s
    m, e = s.split("e")
    return f"{m}×10{str(int(e)).translate(SUP)}"


def settings(opt: dict, lr: float) -> dict:
    optimizer = dp.get_optimizer(opt)
    return {**optimizer.hyperparameters(), "name": optimizer.name, "learning_rate": lr}


def general_rule(o: dict) -> list[str]:
    """The rule in symbols, as the worked solution must state it before the numbers."""
    name, wd = o["name"], o["weight_decay"]
    lines = ["g ← g + λ·θ"] if wd and name != "adamw" else []
    if name == "sgd":
        if not o["momentum"]:
            return [*lines, "θ ← θ − η·g"]
        step = "(g + μ·v)" if o["nesterov"] else "v"
        return [*lines, "v ← μ·v + g", f"θ ← θ − η·{step}"]
    if name == "adagrad":
        if not o["lr_decay"]:
            return [*lines, "G ← G + g²", "θ ← θ − η·g/(√(G) + ε)"]
        return ["ηₜ = η/(1 + (t − 1)·d)", *lines, "G ← G + g²", "θ ← θ − ηₜ·g/(√(G) + ε)"]
    if name == "adadelta":
        return [
            *lines,
            "v ← ρ·v + (1 − ρ)·g²",
            "Δ ← (√(u + ε)/√(v + ε))·g",
            "u ← ρ·u + (1 − ρ)·Δ²",
            "θ ← θ − η·Δ",
        ]
    if name == "rmsprop":
        lines.append("v ← α·v + (1 − α)·g²")
        root = "√(v)"
        if o["centered"]:
            lines.append("ḡ ← α·ḡ + (1 − α)·g")
            root = "√(v − ḡ²)"
        if o["momentum"]:
            return [*lines, f"B ← μ·B + g/({root} + ε)", "θ ← θ − η·B"]
        return [*lines, f"θ ← θ − η·g/({root} + ε)"]
    if name == "adamw" and wd:
        lines.append("θ ← θ·(1 − η·λ)")
    return [
        *lines,
        "m ← β₁·m + (1 − β₁)·g",
        "v ← β₂·v + (1 − β₂)·g²",
        "θ ← θ − (η/(1 − β₁ᵗ))·m/(√(v)/√(1 − β₂ᵗ) + ε)",
    ]


def substituted(o: dict, st, d: int) -> list[tuple[str, float, float | None]]:
    """``(line, right-hand side at full precision, stored result or None)`` for every line.

    The right-hand side is evaluated here from the operands the line shows; the stored result
    is the engine's. An intermediate the engine does not store has None, and is checked through
    the lines that use it.
    """

    def n(x) -> str:  # a number after an operator: negative ones in parentheses
        s = to_text(Num(x), d)
        return f"({s})" if s.startswith("−") else s

    def n0(x) -> str:  # a number first in its group
        return to_text(Num(x), d)

    name, wd, lr, t = o["name"], o["weight_decay"], o["learning_rate"], st.state_after["step"]
    out: list[tuple[str, float, float | None]] = []

    def line(lhs: str, rhs: str, value: float, stored: float | None):
        out.append(
            (f"{lhs} ← {rhs} = {n0(stored if stored is not None else value)}", value, stored)
        )

    rate = lr
    if name == "adagrad" and o["lr_decay"]:
        rate = lr / (1 + (t - 1) * o["lr_decay"])
        text = f"η{str(t).translate(SUB)} = {lit(lr)}/(1 + ({t} − 1)·{lit(o['lr_decay'])})"
        out.append((f"{text} = {n0(rate)}", rate, None))
    layers = {"W1": (st.W[0], st.dW[0], st.W_after[0]), "W2": (st.W[1], st.dW[1], st.W_after[1])}
    layers |= {"b1": (st.b[0], st.db[0], st.b_after[0]), "b2": (st.b[1], st.db[1], st.b_after[1])}
    for key, ix, sym, idx in PARAMS:
        p, g, p1 = (a[ix] for a in layers[key])
        s0 = {k: v[key][ix] for k, v in st.state_before.items() if k != "step"}
        s1 = {k: v[key][ix] for k, v in st.state_after.items() if k != "step"}
        if wd and name != "adamw":
            g2 = g + wd * p
            line(f"g{idx}", f"{n0(g)} + {lit(wd)}·{n(p)}", g2, None)
            g = g2
        if name == "sgd" and not o["momentum"]:
            line(sym, f"{n0(p)} − {lit(lr)}·{n(g)}", p - lr * g, p1)
        elif name == "sgd":
            mu, v1 = o["momentum"], s1["velocity"]
            line(f"v{idx}", f"{lit(mu)}·{n(s0['velocity'])} + {n(g)}", mu * s0["velocity"] + g, v1)
            if o["nesterov"]:
                rhs = f"{n0(p)} − {lit(lr)}·({n0(g)} + {lit(mu)}·{n(v1)})"
                line(sym, rhs, p - lr * (g + mu * v1), p1)
            else:
                line(sym, f"{n0(p)} − {lit(lr)}·{n(v1)}", p - lr * v1, p1)
        elif name == "adagrad":
            G0, G1, eps = s0["sum"], s1["sum"], o["eps"]
            line(f"G{idx}", f"{n0(G0)} + {n(g)}²", G0 + g * g, G1)
            shown = lit(lr) if not o["lr_decay"] else n(rate)
            rhs = f"{n0(p)} − {shown}·{n(g)}/(√({n0(G1)}) + {lit(eps)})"
            line(sym, rhs, p - rate * g / (math.sqrt(G1) + eps), p1)
        elif name == "adadelta":
            rho, eps = o["rho"], o["eps"]
            v0, v1, u0, u1 = s0["square_avg"], s1["square_avg"], s0["acc_delta"], s1["acc_delta"]
            keep = f"(1 − {lit(rho)})"
            line(
                f"v{idx}", f"{lit(rho)}·{n(v0)} + {keep}·{n(g)}²", rho * v0 + (1 - rho) * g * g, v1
            )
            delta = math.sqrt(u0 + eps) / math.sqrt(v1 + eps) * g
            e = lit(eps)
            line(f"Δ{idx}", f"(√({n0(u0)} + {e})/√({n0(v1)} + {e}))·{n(g)}", delta, None)
            line(
                f"u{idx}",
                f"{lit(rho)}·{n(u0)} + {keep}·{n(delta)}²",
                rho * u0 + (1 - rho) * delta**2,
                u1,
            )
            line(sym, f"{n0(p)} − {lit(lr)}·{n(delta)}", p - lr * delta, p1)
        elif name == "rmsprop":
            a, eps, keep = o["alpha"], o["eps"], f"(1 − {lit(o['alpha'])})"
            v0, v1 = s0["square_avg"], s1["square_avg"]
            line(f"v{idx}", f"{lit(a)}·{n(v0)} + {keep}·{n(g)}²", a * v0 + (1 - a) * g * g, v1)
            root, root_text = math.sqrt(v1), f"√({n0(v1)})"
            if o["centered"]:
                c0, c1 = s0["grad_avg"], s1["grad_avg"]
                line(f"ḡ{idx}", f"{lit(a)}·{n(c0)} + {keep}·{n(g)}", a * c0 + (1 - a) * g, c1)
                root, root_text = math.sqrt(v1 - c1 * c1), f"√({n0(v1)} − {n(c1)}²)"
            scaled, scaled_text = g / (root + eps), f"{n(g)}/({root_text} + {lit(eps)})"
            if o["momentum"]:
                mu, b0, b1 = o["momentum"], s0["momentum_buffer"], s1["momentum_buffer"]
                line(f"B{idx}", f"{lit(mu)}·{n(b0)} + {scaled_text}", mu * b0 + scaled, b1)
                line(sym, f"{n0(p)} − {lit(lr)}·{n(b1)}", p - lr * b1, p1)
            else:
                line(sym, f"{n0(p)} − {lit(lr)}·{scaled_text}", p - lr * scaled, p1)
        else:
            b1, b2, eps = o["beta1"], o["beta2"], o["eps"]
            if name == "adamw" and wd:
                decayed = p * (1 - lr * wd)
                line(sym, f"{n0(p)}·(1 − {lit(lr)}·{lit(wd)})", decayed, None)
                p = decayed
            m0, m1, v0, v1 = s0["m"], s1["m"], s0["v"], s1["v"]
            line(
                f"m{idx}", f"{lit(b1)}·{n(m0)} + (1 − {lit(b1)})·{n(g)}", b1 * m0 + (1 - b1) * g, m1
            )
            rhs = f"{lit(b2)}·{n(v0)} + (1 − {lit(b2)})·{n(g)}²"
            line(f"v{idx}", rhs, b2 * v0 + (1 - b2) * g * g, v1)
            tt = str(t).translate(SUP)
            step = f"({lit(lr)}/(1 − {lit(b1)}{tt}))"
            denom = f"(√({n0(v1)})/√(1 − {lit(b2)}{tt}) + {lit(eps)})"
            rhs = f"{n0(p)} − {step}·{n(m1)}/{denom}"
            value = p - lr / (1 - b1**t) * m1 / (math.sqrt(v1) / math.sqrt(1 - b2**t) + eps)
            line(sym, rhs, value, p1)
    return out


def check_update(out: str, trace, o: dict, d: int) -> None:
    for k, st in enumerate(trace.steps, start=1):
        shown = update_lines(out, k)
        expected = substituted(o, st, d)
        rule = [] if o["name"] == "sgd" and not o["momentum"] and not o["weight_decay"] else None
        if rule is None:
            rule = general_rule(o)
        assert shown == rule + [text for text, _, _ in expected]
        for text, value, stored in expected:
            if stored is not None:  # the rule, evaluated from its operands, gives the result
                assert value == pytest.approx(stored, rel=1e-12, abs=1e-15), text


@pytest.mark.parametrize("variant", VARIANTS)
def test_every_rule_is_shown_number_by_number(tmp_path, capsys, variant):
    lr, opt = VARIANTS[variant]
    out, trace = run(tmp_path, capsys, lr, opt)
    o = settings(opt, lr)
    assert trace.steps[1].state_after["step"] == 2
    check_update(out, trace, o, 4)
    if "momentum" in variant or variant in ("adagrad", "adadelta", "rmsprop", "adam", "adamw"):
        # the second step starts from a non-zero state, and the equations show it
        slots = [k for k in trace.steps[1].state_before if k != "step"]
        assert all(np.any(trace.steps[1].state_before[s]["W1"] != 0) for s in slots)


@pytest.mark.parametrize("variant", ["rmsprop_all_weight_decay", "adadelta", "adamw"])
def test_more_decimals_show_the_same_values(tmp_path, capsys, variant):
    lr, opt = VARIANTS[variant]
    out, trace = run(tmp_path, capsys, lr, opt, decimals=7)
    check_update(out, trace, settings(opt, lr), 7)


def test_the_state_table_follows_the_equations(tmp_path, capsys):
    out, trace = run(tmp_path, capsys, 0.01, VARIANTS["rmsprop_centered_momentum"][1])
    section = out.split("\nStep 2 of 2\n")[1]
    rule = section.index("The rule, for every weight and bias θ with gradient g = ∂E/∂θ")
    numbers = section.index("Substituted, parameter by parameter:")
    table = section.index("Its state before and after this step (step counter t: 1 → 2):")
    assert rule < numbers < table
    header = "square_avg before  grad_avg before  momentum_buffer before  square_avg after"
    assert header in section[table:]
    legend = section[rule:numbers].replace("\n", " ")
    for entry in ("η = learning_rate", "μ = momentum", "ε = eps", "α = alpha"):
        assert entry in legend
    for entry in ("v = square_avg", "ḡ = grad_avg", "B = momentum_buffer"):
        assert entry in legend


@pytest.mark.parametrize("fmt", ["markdown", "html"])
@pytest.mark.parametrize("variant", VARIANTS)
def test_other_formats_show_the_same_equations(variant, fmt):
    lr, opt = VARIANTS[variant]
    spec = spec_from_dict({**SPEC, "learning_rate": lr, "optimizer": opt})
    trace = spec.explain(steps=2)
    text = trace.to_text()
    out = trace.render(fmt)
    n_eq = sum(len(update_lines(text, k)) for k in (1, 2))
    heading, eq = (" Update\n", "\n- $") if fmt == "markdown" else (" Update</h3>", 'class="eq"')
    phases = [s.split("Forward pass with the new parameters")[0] for s in out.split(heading)[1:]]
    assert len(phases) == 2
    assert sum(s.count(eq) for s in phases) == n_eq
    if fmt == "markdown":
        assert all(ln.count("$") % 2 == 0 for ln in out.splitlines())


# --- the quantities the optimizer does not store: its rule's record ----------------------------


def _values(trace, name="W1"):
    """Per step: (t, θ, ∂E/∂θ, state before, state after, θ after, record) of one parameter."""
    i = int(name[1:]) - 1
    for st in trace.steps:
        arrays = (st.W, st.dW, st.W_after) if name[0] == "W" else (st.b, st.db, st.b_after)
        before = {k: v[name] for k, v in st.state_before.items() if k != "step"}
        after = {k: v[name] for k, v in st.state_after.items() if k != "step"}
        rec = {k: v[name] if isinstance(v, dict) else v for k, v in st.optimizer_record.items()}
        t = st.state_after["step"]
        yield t, arrays[0][i], arrays[1][i], before, after, arrays[2][i], rec


def _trace(variant: str):
    """``(η, optimizer settings, two-step trace)`` of one of the VARIANTS."""
    lr, opt = VARIANTS[variant]
    spec = spec_from_dict({**SPEC, "learning_rate": lr, "optimizer": opt})
    return lr, opt, spec.explain(steps=2)


def _close(a, b) -> None:
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


def _tolerance(opt) -> int:
    """The largest of the ulps its fast paths may differ from its rule by (tests/ulps.py)."""
    if opt.name == "sgd":
        return TOLERANCE["sgd-blas"]["θ"]
    if opt.name.startswith("adam"):
        return max(TOLERANCE["adam-loop"]["θ"], TOLERANCE["adam-blas"]["θ"])
    return TOLERANCE["loop"]["θ"]


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_recorded_step_is_the_engines_within_its_ulps(variant):
    """Δθ, as the rule noted it, is the step the engine's update (the fast path) took."""
    _, _, trace = _trace(variant)
    tol = _tolerance(trace.optimizer)
    for name in ("W1", "b1", "W2", "b2"):
        for _, p, _, _, _, p1, rec in _values(trace, name):
            if "θ(1 − ηλ)" in rec:  # AdamW steps from the decayed θ
                p = rec["θ(1 − ηλ)"]
            assert update_ulps(p, p1, p - rec["Δθ"]) <= tol
            assert np.all(rec["Δθ"] != 0)


@pytest.mark.parametrize("name", ["W1", "b1", "W2", "b2"])
def test_l2_gradient_reproduces_the_engine(name):
    lr, opt, trace = _trace("sgd_weight_decay")
    for _, p, g, _, _, p1, rec in _values(trace, name):
        g2 = rec["g + λθ"]
        _close(g2, g + 0.05 * p)
        _close(p - lr * g2, p1)  # SGD: θ ← θ − η(g + λθ) is what the engine wrote
        assert not np.allclose(p - lr * g, p1, rtol=1e-6, atol=0)  # the decay matters
    lr, opt, trace = _trace("rmsprop_all_weight_decay")
    for _, p, g, s0, s1, _, rec in _values(trace, name):
        _close(rec["g + λθ"], g + 0.1 * p)
        _close(0.9 * s0["grad_avg"] + 0.1 * rec["g + λθ"], s1["grad_avg"])


@pytest.mark.parametrize("name", ["W1", "b1", "W2", "b2"])
def test_adamw_decay_reproduces_the_engine(name):
    lr, opt, trace = _trace("adamw")
    for t, p, _, _, s1, p1, rec in _values(trace, name):
        decayed = rec["θ(1 − ηλ)"]
        _close(decayed, p * (1 - 0.01 * 0.1))
        m, v = s1["m"], s1["v"]
        step = 0.01 / (1 - 0.9**t) * m / (np.sqrt(v) / math.sqrt(1 - 0.999**t) + 1e-8)
        _close(decayed - step, p1)
        assert not np.allclose(p - step, p1, rtol=1e-9, atol=0)


@pytest.mark.parametrize("variant", ["adam", "adam_weight_decay", "adamw"])
@pytest.mark.parametrize("name", ["W1", "b1", "W2", "b2"])
def test_adam_bias_corrected_moments_are_the_engines(variant, name):
    """m̂ = m/(1 − β₁ᵗ) and v̂ = v/(1 − β₂ᵗ) of the moments the engine's update stored (its loop
    updates m and v as the rule does: bit for bit)."""
    _, _, trace = _trace(variant)
    o = trace.optimizer
    for t, _, _, _, s1, _, rec in _values(trace, name):
        np.testing.assert_array_equal(rec["m̂"], s1["m"] / (1 - o.beta1**t))
        np.testing.assert_array_equal(rec["v̂"], s1["v"] / (1 - o.beta2**t))


@pytest.mark.parametrize("variant", ["adagrad_lr_decay_initial", "adagrad_weight_decay"])
def test_adagrad_rate_reproduces_the_engine(variant):
    lr, opt, trace = _trace(variant)
    o = trace.optimizer
    assert trace.steps[0].state_before["sum"]["W1"][0, 0] == opt.get("initial_accumulator_value", 0)
    for t, p, g, _, s1, p1, rec in _values(trace):
        rate = rec["η_t"]
        assert rate == lr / (1 + (t - 1) * 0.1)
        if o.weight_decay:
            g = g + o.weight_decay * p
        _close(p - rate * g / (np.sqrt(s1["sum"]) + o.eps), p1)
    assert trace.steps[1].optimizer_record["η_t"] < lr  # the decay matters at step 2


@pytest.mark.parametrize("variant", ["adadelta", "adadelta_weight_decay"])
@pytest.mark.parametrize("name", ["W1", "b1", "W2", "b2"])
def test_adadelta_step_reproduces_the_engine(variant, name):
    lr, opt, trace = _trace(variant)
    o = trace.optimizer
    for _, p, g, s0, s1, p1, rec in _values(trace, name):
        if o.weight_decay:
            g = g + o.weight_decay * p
        u0, v1, u1 = s0["acc_delta"], s1["square_avg"], s1["acc_delta"]
        delta = rec["Δ"]
        _close(delta, np.sqrt(u0 + o.eps) / np.sqrt(v1 + o.eps) * g)
        _close(o.rho * u0 + (1 - o.rho) * delta**2, u1)
        _close(p - lr * delta, p1)


def test_the_recorded_quantities_are_shown_in_a_table(tmp_path, capsys):
    """Adam's m̂, v̂ and Δθ, printed after the state table, are the record's numbers."""
    lr, opt = VARIANTS["adam"]
    out, trace = run(tmp_path, capsys, lr, opt)
    section = out.split("\nStep 2 of 2\n")[1]
    table = section.split("What the rule computed on the way, not kept in its state:\n")[1]
    lines = table.splitlines()
    assert lines[0].split() == ["parameter", "m̂", "v̂", "Δθ"]
    assert len(lines) >= 2 + len(PARAMS)
    rec = trace.steps[1].optimizer_record
    for (key, ix, sym, _), line in zip(PARAMS, lines[2:], strict=False):
        cells = line.split()
        assert cells[0] == sym
        assert cells[1:] == [to_text(Num(rec[q][key][ix]), 4) for q in ("m̂", "v̂", "Δθ")]
