"""Optimizers: update rules over named parameters, with state you can print.

One file per rule family — :mod:`.sgd` (with momentum and Nesterov), :mod:`.adagrad`,
:mod:`.adadelta`, :mod:`.rmsprop`, :mod:`.adam` (with AdamW) — each holding the rule written once
(``rule``, PyTorch's definition, in ``torch.optim``'s documented form), its equations for the worked
solution (``display_rule``) and its settings. :mod:`.base` holds what they share (validation,
the state's layout, ``update``); :mod:`.fast` the compiled and BLAS forms of the rules, tested
against them; :mod:`.registry` the names. Every rule is PyTorch's, so results match it step for
step. Where textbooks differ, PyTorch's choice is kept and stated: Adagrad, RMSProp and Adam add ε
*outside* the square root; Adadelta adds it inside.

Adding an optimizer touches one file: subclass :class:`Optimizer` (``rule``, ``display_rule``,
``slots``, ``letters``, ``symbols``) and :func:`register_optimizer` it there, as each built-in
file does (the built-in files are imported below so that they register).
"""

from .adadelta import Adadelta
from .adagrad import Adagrad
from .adam import Adam, AdamW
from .base import Optimizer, State, copy_state, flat_span
from .registry import OPTIMIZERS, available_optimizers, get_optimizer, register_optimizer
from .rmsprop import RMSProp
from .sgd import SGD

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "Adadelta",
    "Adagrad",
    "Adam",
    "AdamW",
    "Optimizer",
    "RMSProp",
    "State",
    "available_optimizers",
    "copy_state",
    "flat_span",
    "get_optimizer",
    "register_optimizer",
]
