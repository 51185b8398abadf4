"""The tutorials' symbols that every phase of a worked solution shares: indices, ``z_i^(l)``,
``w_ij^(l)``, ``∂E/∂w``.

Each activation's and loss's own formulas live in its declaration (``Activation.notation``,
``Loss.notation``); the result of every equation is a number the engine computed.
"""

from __future__ import annotations

from ..notation import Frac, Sym


def idx(*ks: int | str) -> str:
    """Subscript of 1-based indices: ``12``, or ``1,10`` once an index has two digits."""
    sep = "," if any(len(str(k)) > 1 for k in ks) else ""
    return sep.join(str(k) for k in ks)


def layer_sym(name: str, i: int | str | None, layer: int | str) -> Sym:
    """``name_i^(layer)``; the activations of layer 0 are the inputs ``x_i``."""
    if name == "a" and layer == 0:
        return Sym("x", idx(i) if i is not None else "")
    return Sym(name, idx(i) if i is not None else "", f"({layer})")


def weight_sym(i: int | str, j: int | str, layer: int | str) -> Sym:
    return Sym("w", idx(i, j), f"({layer})")


def partial(of: str, wrt: Sym) -> Frac:
    """``∂of/∂wrt``."""
    return Frac(Sym("∂" + of), Sym("∂" + wrt.name, wrt.sub, wrt.sup))
