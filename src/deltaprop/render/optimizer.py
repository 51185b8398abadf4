"""The update phase of a worked solution: the optimizer's rule, once in symbols and then number by
number for every weight and bias, followed by its state (velocity, m, v, …) before and after.

Every result — new parameter, new state — is the array the optimizer's ``update`` wrote. Four
quantities that the optimizer does not store are computed here, for display only, the way the
optimizer computes them: the L2-decayed gradient ``g + λθ``, AdamW's decayed ``θ(1 − ηλ)``,
Adagrad's decayed learning rate ``η_t`` and Adadelta's step ``Δ`` (the tests check that each one
reproduces the stored results).
"""

from __future__ import annotations

import math

from ..notation import Expr, Frac, Func, Lit, Num, Paren, Pow, Sym, row
from ..optimizers import Optimizer
from ..trace import StepTrace, Trace, optimizer_settings
from .document import Eq, Para, Table
from .formulas import layer_sym, partial, weight_sym

ONE, TWO = Lit("1"), Lit("2")

# The letter of each state slot in the equations (the state table names the slots).
LETTERS = {"velocity": "v", "sum": "G", "square_avg": "v", "acc_delta": "u", "grad_avg": "ḡ"}
LETTERS.update({"momentum_buffer": "B", "m": "m", "v": "v"})
# The symbol of each setting, and the setting's name.
SETTINGS = {"η": "learning_rate", "μ": "momentum", "λ": "weight_decay", "ε": "eps", "α": "alpha"}
SETTINGS.update({"ρ": "rho", "β₁": "beta1", "β₂": "beta2", "d": "lr_decay"})


def _lit(v: float) -> Expr:
    """A setting as written: ``0.9``, ``0.001``; ``1×10⁻⁸`` rather than ``1e-08``."""
    s = f"{v:g}"
    if "e" not in s:
        return Lit(s)
    mantissa, exponent = s.split("e")
    return row(Lit(mantissa), "×", Pow(Lit("10"), Lit(str(int(exponent)))))


def _params(trace: Trace, st: StepTrace):
    """``(name, layer, symbol, index, θ, g, θ_after)`` for every weight and bias, layer by layer."""
    for ly in range(1, len(trace.activations) + 1):
        W, dW, Wn = st.W[ly - 1], st.dW[ly - 1], st.W_after[ly - 1]
        for i in range(W.shape[0]):
            for j in range(W.shape[1]):
                yield (
                    f"W{ly}",
                    ly,
                    weight_sym(i + 1, j + 1, ly),
                    (i, j),
                    W[i, j],
                    dW[i, j],
                    Wn[i, j],
                )
        b = st.b[ly - 1]
        if b is not None:
            db, bn = st.db[ly - 1], st.b_after[ly - 1]
            for i in range(b.shape[0]):
                yield f"b{ly}", ly, layer_sym("b", i + 1, ly), (i,), b[i], db[i], bn[i]


def update_section(doc, trace: Trace, st: StepTrace) -> None:
    opt = trace.optimizer
    hp = optimizer_settings(opt)
    eta = _lit(opt.learning_rate)
    theta = Sym("θ")
    if opt.name == "sgd" and not hp.get("momentum") and not hp.get("weight_decay"):
        rule = row(theta, "←", theta, "−", Sym("η"), "·", partial("E", theta))
        doc.add(
            Para(
                [
                    "Gradient descent, ",
                    rule,
                    " with ",
                    row(Sym("η"), "=", eta),
                    ", for every weight and bias θ:",
                ]
            )
        )
        for _, _, sym, _, p, g, p_new in _params(trace, st):
            doc.add(Eq(row(sym, "←", Num(p), "−", eta, "·", Num(g), "=", Num(p_new))))
        return
    settings = ", ".join(
        f"{k} = {v:g}" if not isinstance(v, bool) else f"{k} = {v}" for k, v in hp.items()
    )
    doc.add(Para([f"Optimizer {opt.name} ({settings}): {opt.formula}."]))
    _substituted(doc, trace, st)
    t0, t1 = st.state_before["step"], st.state_after["step"]
    doc.add(Para([f"Its state before and after this step (step counter t: {t0} → {t1}):"]))
    slots = [k for k in st.state_before if k != "step"]
    header = ["parameter", "θ", "∂E/∂θ"]
    header += [f"{s} before" for s in slots] + [f"{s} after" for s in slots] + ["θ after"]
    rows = []
    for name, _, sym, ix, p, g, p_new in _params(trace, st):
        cells = [sym, Num(p), Num(g)]
        cells += [Num(st.state_before[s][name][ix]) for s in slots]
        cells += [Num(st.state_after[s][name][ix]) for s in slots]
        rows.append([*cells, Num(p_new)])
    doc.add(Table(header, rows))


# --- quantities the optimizer computes but does not store (for display) ----------------------


def l2_gradient(opt: Optimizer, p: float, g: float) -> float:
    """The gradient with L2 weight decay, ``g + λθ`` (every optimizer but AdamW)."""
    return g + p * opt.weight_decay


def decoupled_decay(opt: Optimizer, p: float) -> float:
    """AdamW's decayed parameter ``θ(1 − ηλ)``, before its Adam step."""
    return p * (1 - opt.learning_rate * opt.weight_decay)


def adagrad_rate(opt: Optimizer, t: int) -> float:
    """Adagrad's learning rate at step ``t``: ``η_t = η/(1 + (t − 1)·lr_decay)``."""
    return opt.learning_rate / (1 + (t - 1) * opt.lr_decay)


def adadelta_step(opt: Optimizer, u: float, v: float, g: float) -> float:
    """Adadelta's ``Δ = √(u + ε)/√(v + ε)·g``, with ``u`` before and ``v`` after the step."""
    return math.sqrt(u + opt.eps) / math.sqrt(v + opt.eps) * g


def _l2(opt: Optimizer) -> bool:
    return bool(opt.weight_decay) and opt.name != "adamw"


# --- the rules ------------------------------------------------------------------------------


class _Terms:
    """The terms of a rule: the symbols of the general rule (``before`` None), or the numbers of
    one parameter. Each rule below is written once with these terms and printed both ways.

    ``before`` holds each term's current value (θ, g and the state slots); ``after`` lists, for
    each term, the values it is assigned, in order (AdamW assigns θ twice: decayed, then stepped).
    """

    def __init__(self, opt: Optimizer, t: int, sym: Sym | None = None, before=None, after=None):
        self.opt, self.t, self.sym = opt, t, sym or Sym("θ")
        self.before, self.after = before, after
        self.slots_used: dict[str, str] = {}  # letter → slot, as the general rule uses them
        self.settings_used: set[str] = set()

    def legend(self) -> list[tuple[str, str]]:
        """``(symbol, name)`` of the settings, then of the state slots, the general rule used."""
        settings = [(s, name) for s, name in SETTINGS.items() if s in self.settings_used]
        return settings + [(s, name) for s, name in self.slots_used.items() if s != name]

    @property
    def general(self) -> bool:
        return self.before is None

    def _symbol(self, key: str) -> Sym:
        if key == "θ":
            return self.sym
        if key in LETTERS:
            self.slots_used.setdefault(LETTERS[key], key)
        return Sym(LETTERS.get(key, key), self.sym.sub, self.sym.sup)

    def term(self, key: str) -> Expr:
        """θ, g, Δ or a state slot: its symbol, or its current number."""
        return self._symbol(key) if self.general else Num(self.before[key])

    def setting(self, symbol: str) -> Expr:
        """A setting: its symbol (``α``), or its value as written (``0.99``)."""
        name = SETTINGS[symbol]
        if self.general:
            self.settings_used.add(symbol)
            return Sym(symbol)
        return _lit(getattr(self.opt, name))

    def step(self) -> Expr:
        return Sym("t") if self.general else Lit(str(self.t))

    def assign(self, key: str, *rhs: Expr | str) -> Eq:
        """``key ← rhs``, and for a parameter ``= `` the value the optimizer gave it."""
        lhs = self._symbol(key)
        if self.general:
            return Eq(row(lhs, "←", *rhs))
        value = self.after[key].pop(0)
        self.before[key] = value
        return Eq(row(lhs, "←", *rhs, "=", Num(value)))


def _weight_decay(q: _Terms) -> list[Eq]:
    """L2 decay ``g ← g + λθ`` before the rule; AdamW's decoupled ``θ ← θ(1 − ηλ)`` instead."""
    if not q.opt.weight_decay:
        return []
    if not _l2(q.opt):  # AdamW
        decay = Paren(row(ONE, "−", q.setting("η"), "·", q.setting("λ")))
        return [q.assign("θ", q.term("θ"), "·", decay)]
    return [q.assign("g", q.term("g"), "+", q.setting("λ"), "·", q.term("θ"))]


def _sgd(q: _Terms) -> list[Eq]:
    """SGD: θ ← θ − η·g; momentum v ← μv + g, θ ← θ − η·v; Nesterov θ ← θ − η·(g + μv)."""
    eta = q.setting("η")
    if not q.opt.momentum:
        return [q.assign("θ", q.term("θ"), "−", eta, "·", q.term("g"))]
    mu = q.setting("μ")
    lines = [q.assign("velocity", mu, "·", q.term("velocity"), "+", q.term("g"))]
    if q.opt.nesterov:
        step = Paren(row(q.term("g"), "+", mu, "·", q.term("velocity")))
    else:
        step = q.term("velocity")
    return [*lines, q.assign("θ", q.term("θ"), "−", eta, "·", step)]


def _adagrad_rate(q: _Terms) -> Eq:
    """η_t = η/(1 + (t − 1)·d), once per step (only with an lr_decay d)."""
    rate = Frac(q.setting("η"), row(ONE, "+", Paren(row(q.step(), "−", ONE)), "·", q.setting("d")))
    if q.general:
        return Eq(row(Sym("η", "t"), "=", rate))
    return Eq(row(Sym("η", str(q.t)), "=", rate, "=", Num(adagrad_rate(q.opt, q.t))))


def _adagrad(q: _Terms) -> list[Eq]:
    """G ← G + g²;  θ ← θ − η_t·g/(√G + ε)."""
    lines = [q.assign("sum", q.term("sum"), "+", Pow(q.term("g"), TWO))]
    if not q.opt.lr_decay:
        rate = q.setting("η")
    else:
        rate = Sym("η", "t") if q.general else Num(adagrad_rate(q.opt, q.t))
    scaled = Frac(q.term("g"), row(Func("√", [q.term("sum")]), "+", q.setting("ε")))
    return [*lines, q.assign("θ", q.term("θ"), "−", rate, "·", scaled)]


def _adadelta(q: _Terms) -> list[Eq]:
    """v ← ρv + (1 − ρ)g²;  Δ ← √(u + ε)/√(v + ε)·g;  u ← ρu + (1 − ρ)Δ²;  θ ← θ − η·Δ."""
    rho, eps = q.setting("ρ"), q.setting("ε")
    keep, g2 = Paren(row(ONE, "−", rho)), Pow(q.term("g"), TWO)
    v = q.assign("square_avg", rho, "·", q.term("square_avg"), "+", keep, "·", g2)
    ratio = Frac(
        Func("√", [row(q.term("acc_delta"), "+", eps)]),
        Func("√", [row(q.term("square_avg"), "+", eps)]),
    )
    delta = q.assign("Δ", ratio, "·", q.term("g"))
    u = q.assign("acc_delta", rho, "·", q.term("acc_delta"), "+", keep, "·", Pow(q.term("Δ"), TWO))
    return [v, delta, u, q.assign("θ", q.term("θ"), "−", q.setting("η"), "·", q.term("Δ"))]


def _rmsprop(q: _Terms) -> list[Eq]:
    """v ← αv + (1 − α)g²; centered ḡ ← αḡ + (1 − α)g, root √(v − ḡ²); θ ← θ − η·g/(√v + ε);
    with momentum μ: B ← μB + g/(√v + ε), θ ← θ − η·B."""
    alpha = q.setting("α")
    keep = Paren(row(ONE, "−", alpha))
    g2 = Pow(q.term("g"), TWO)
    lines = [q.assign("square_avg", alpha, "·", q.term("square_avg"), "+", keep, "·", g2)]
    if q.opt.centered:
        avg = q.term("grad_avg")
        lines.append(q.assign("grad_avg", alpha, "·", avg, "+", keep, "·", q.term("g")))
        root = Func("√", [row(q.term("square_avg"), "−", Pow(q.term("grad_avg"), TWO))])
    else:
        root = Func("√", [q.term("square_avg")])
    step = Frac(q.term("g"), row(root, "+", q.setting("ε")))
    if q.opt.momentum:
        buf = q.term("momentum_buffer")
        lines.append(q.assign("momentum_buffer", q.setting("μ"), "·", buf, "+", step))
        step = q.term("momentum_buffer")
    return [*lines, q.assign("θ", q.term("θ"), "−", q.setting("η"), "·", step)]


def _adam(q: _Terms) -> list[Eq]:
    """m ← β₁m + (1 − β₁)g;  v ← β₂v + (1 − β₂)g²;  θ ← θ − η/(1 − β₁ᵗ)·m/(√v/√(1 − β₂ᵗ) + ε)."""
    b1, b2, t = q.setting("β₁"), q.setting("β₂"), q.step()
    g = q.term("g")
    m = q.assign("m", b1, "·", q.term("m"), "+", Paren(row(ONE, "−", b1)), "·", g)
    v = q.assign("v", b2, "·", q.term("v"), "+", Paren(row(ONE, "−", b2)), "·", Pow(g, TWO))
    step = Frac(q.setting("η"), row(ONE, "−", Pow(b1, t)))
    root = Frac(Func("√", [q.term("v")]), Func("√", [row(ONE, "−", Pow(b2, t))]))
    scaled = Frac(q.term("m"), row(root, "+", q.setting("ε")))
    return [m, v, q.assign("θ", q.term("θ"), "−", step, "·", scaled)]


RULES = {"sgd": _sgd, "adagrad": _adagrad, "adadelta": _adadelta, "rmsprop": _rmsprop}
RULES.update({"adam": _adam, "adamw": _adam})


def _parameter_terms(trace: Trace, st: StepTrace):
    """The numbers of every weight and bias, with the values the optimizer assigned them."""
    opt, t = trace.optimizer, st.state_after["step"]
    slots = [k for k in st.state_before if k != "step"]
    for name, _, sym, ix, p, g, p_new in _params(trace, st):
        before = {"θ": p, "g": g, **{s: st.state_before[s][name][ix] for s in slots}}
        after = {s: [st.state_after[s][name][ix]] for s in slots}
        after["θ"] = [p_new]
        if _l2(opt):
            g = l2_gradient(opt, p, g)
            after["g"] = [g]
        elif opt.name == "adamw" and opt.weight_decay:
            after["θ"].insert(0, decoupled_decay(opt, p))
        if opt.name == "adadelta":
            after["Δ"] = [adadelta_step(opt, before["acc_delta"], after["square_avg"][0], g)]
        yield _Terms(opt, t, sym, before, after)


def _substituted(doc, trace: Trace, st: StepTrace) -> None:
    """The rule in symbols, then substituted number by number for every weight and bias."""
    opt = trace.optimizer
    rule = RULES[opt.name]
    general = _Terms(opt, st.state_after["step"])
    lines = [*_weight_decay(general), *rule(general)]
    if opt.name == "adagrad" and opt.lr_decay:
        lines.insert(0, _adagrad_rate(general))
    legend: list[str | Expr] = []
    for symbol, name in general.legend():
        legend += [", " if legend else "", Sym(symbol), f" = {name}"]
    g = row(Sym("g"), "=", partial("E", Sym("θ")))
    doc.add(Para(["The rule, for every weight and bias θ with gradient ", g, " (", *legend, "):"]))
    doc.add(*lines)
    doc.add(Para(["Substituted, parameter by parameter:"]))
    if opt.name == "adagrad" and opt.lr_decay:
        doc.add(_adagrad_rate(_Terms(opt, st.state_after["step"], before={})))
    for q in _parameter_terms(trace, st):
        doc.add(*_weight_decay(q), *rule(q))
