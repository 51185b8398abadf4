"""The terms an optimizer writes its rule's equations in: symbols, or one parameter's numbers.

Each optimizer writes its rule once as equations (``display_rule``) with a :class:`Terms`; the
worked solution prints it twice from that one description: in symbols (``v ← μ·v + g``), then for
every weight and bias with the numbers substituted (``v₁₁⁽¹⁾ ← 0.9·0.0120 + 0.0340 = 0.0448``).
The numbers come from the engine only: the values before the step (θ, g, the state), and after it
(the new state, the new θ, and the quantities the rule noted on the way, such as ``g + λθ``).
"""

from __future__ import annotations

from ..notation import Expr, Lit, Num, Pow, Row, Sym, row


def lit(v: float) -> Expr:
    """A setting as written: ``0.9``, ``0.001``; ``1×10⁻⁸`` rather than ``1e-08``."""
    s = f"{v:g}"
    if "e" not in s:
        return Lit(s)
    mantissa, exponent = s.split("e")
    return row(Lit(mantissa), "×", Pow(Lit("10"), Lit(str(int(exponent)))))


class Terms:
    """The terms of a rule: its symbols (``before`` None), or the numbers of one parameter.

    ``before`` holds each term's value before the step (``θ``, ``g`` and the state slots);
    ``after`` the value each assignment gives, by name: the slots and ``θ`` after the step, and
    the noted quantities (``"g + λθ"``, ``"θ(1 − ηλ)"``, ``"Δ"``, ``"η_t"``).
    """

    def __init__(self, opt, t: int, sym: Sym | None = None, before=None, after=None):
        self.opt, self.t, self.sym = opt, t, sym or Sym("θ")
        self.before, self.after = before, after
        self.slots_used: dict[str, str] = {}  # letter → slot, as the general rule uses them
        self.settings_used: set[str] = set()

    @property
    def general(self) -> bool:
        return self.before is None

    def legend(self) -> list[tuple[str, str]]:
        """``(symbol, name)`` of the settings, then of the state slots, the general rule used."""
        settings = [(s, n) for s, n in self.opt.symbols.items() if s in self.settings_used]
        return settings + [(s, n) for s, n in self.slots_used.items() if s != n]

    def _symbol(self, key: str) -> Sym:
        if key == "θ":
            return self.sym
        letters = self.opt.letters
        if key in letters:
            self.slots_used.setdefault(letters[key], key)
        return Sym(letters.get(key, key), self.sym.sub, self.sym.sup)

    def term(self, key: str) -> Expr:
        """θ, g, Δ or a state slot: its symbol, or its current number."""
        return self._symbol(key) if self.general else Num(self.before[key])

    def setting(self, symbol: str) -> Expr:
        """A setting: its symbol (``α``), or its value as written (``0.99``)."""
        if self.general:
            self.settings_used.add(symbol)
            return Sym(symbol)
        return lit(getattr(self.opt, self.opt.symbols[symbol]))

    def step(self) -> Expr:
        """The step counter: ``t``, or its value."""
        return Sym("t") if self.general else Lit(str(self.t))

    def quantity(self, symbol: Sym, name: str) -> Expr:
        """A noted per-step quantity (``η_t``): its symbol, or the number the rule noted."""
        return symbol if self.general else Num(self.after[name])

    def define(self, symbol: Sym, rhs: Expr, name: str) -> Row:
        """``symbol = rhs``, and ``= value`` with the number the rule noted as ``name``."""
        if self.general:
            return row(symbol, "=", rhs)
        return row(symbol, "=", rhs, "=", Num(self.after[name]))

    def assign(self, key: str, *rhs: Expr | str, value: str | None = None) -> Row:
        """``key ← rhs``, and for a parameter ``= `` the value the engine gave it (``after`` of
        ``value``, by default of ``key``), which is then the term's current number."""
        lhs = self._symbol(key)
        if self.general:
            return row(lhs, "←", *rhs)
        number = self.after[value or key]
        self.before[key] = number
        return row(lhs, "←", *rhs, "=", Num(number))
