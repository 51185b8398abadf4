"""The estimators' parameters: checks at fit time, and the optimizer each ``solver`` names.

scikit-learn stores constructor arguments unchanged and checks them when ``fit`` is called; so do
these functions, each error naming the parameter, the bad value and what was expected.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np

from ..activations import get_activation
from ..optimizers import Optimizer, get_optimizer
from ..validation import check_dtype, check_int, check_number

SOLVERS = (
    "lbfgs",
    "sgd",
    "adam",
    "momentum",
    "nesterov",
    "adagrad",
    "adadelta",
    "rmsprop",
    "adamw",
)
SGD_FAMILY = ("sgd", "momentum", "nesterov")  # the solvers that follow ``learning_rate``
SCHEDULES = ("constant", "invscaling", "adaptive")


def hidden_sizes(est) -> list[int]:
    """``hidden_layer_sizes`` as a list of positive ints (an int is one hidden layer)."""
    sizes = est.hidden_layer_sizes
    sizes = [sizes] if isinstance(sizes, Integral) else list(sizes)
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, Integral) or s < 1:
            raise ValueError(f"hidden_layer_sizes must be > 0, got {est.hidden_layer_sizes}.")
    return [int(s) for s in sizes]


def hidden_activations(est, n_hidden: int) -> list[str]:
    """One activation name per hidden layer: ``activation`` repeated, or its list as given."""
    acts = est.activation
    acts = [acts] * n_hidden if isinstance(acts, str) else list(acts)
    if len(acts) != n_hidden:
        raise ValueError(
            f"activation has {len(acts)} entries, expected one per hidden layer ({n_hidden})"
        )
    for a in acts:
        get_activation(a)  # a clear error for an unknown name
    return acts


def check_params(est) -> None:
    """Refuse a bad setting by name, before any work."""
    if est.solver not in SOLVERS:
        raise ValueError(f"solver must be one of {', '.join(SOLVERS)}; got {est.solver!r}")
    if est.learning_rate not in SCHEDULES:
        raise ValueError(
            f"learning_rate must be one of {', '.join(SCHEDULES)}; got {est.learning_rate!r}"
        )
    if not (est.batch_size == "auto" or isinstance(est.batch_size, Integral)):
        raise ValueError(f"batch_size must be 'auto' or an int; got {est.batch_size!r}")
    if est.batch_size != "auto":
        check_int(est.batch_size, "batch_size", 1)
    check_number(est.alpha, "alpha", 0.0)
    check_number(est.learning_rate_init, "learning_rate_init", 0.0, low_inclusive=False)
    check_number(est.power_t, "power_t", 0.0)
    check_int(est.max_iter, "max_iter", 1)
    check_int(est.max_fun, "max_fun", 1)
    check_number(est.tol, "tol", 0.0)
    check_number(est.momentum, "momentum", 0.0, 1.0)
    check_number(est.validation_fraction, "validation_fraction", 0.0, 1.0, False, False)
    check_number(est.beta_1, "beta_1", 0.0, 1.0, high_inclusive=False)
    check_number(est.beta_2, "beta_2", 0.0, 1.0, high_inclusive=False)
    check_number(est.epsilon, "epsilon", 0.0, low_inclusive=False)
    if est.n_iter_no_change != np.inf:
        check_int(est.n_iter_no_change, "n_iter_no_change", 1)
    if est.solver_params is not None and not isinstance(est.solver_params, dict):
        raise ValueError(f"solver_params must be a dict or None; got {est.solver_params!r}")
    check_dtype(est.dtype)
    hidden_activations(est, len(hidden_sizes(est)))


def make_optimizer(est) -> Optimizer:
    """The deltaprop optimizer that ``solver`` names, scikit-learn's settings mapped onto it.

    ``sgd``: ``momentum`` and ``nesterovs_momentum``; ``momentum``/``nesterov``: ``momentum``;
    ``adam``/``adamw``: ``beta_1``, ``beta_2``, ``epsilon``; ``adagrad``/``rmsprop``: ``epsilon``.
    Adadelta keeps its own ε (1e-6), which sets its first steps' size, not only stability.
    ``learning_rate_init`` is η for all; ``solver_params`` overrides or adds any other setting of
    the optimizer (e.g. AdamW's ``weight_decay``, RMSProp's ``alpha``, Adadelta's ``eps``).
    """
    name, kwargs = est.solver, {}
    if name == "sgd":
        kwargs = dict(momentum=est.momentum, nesterov=bool(est.nesterovs_momentum and est.momentum))
    elif name in ("momentum", "nesterov"):
        kwargs = dict(momentum=est.momentum)
    elif name in ("adam", "adamw"):
        kwargs = dict(beta1=est.beta_1, beta2=est.beta_2, eps=est.epsilon)
    elif name in ("adagrad", "rmsprop"):
        kwargs = dict(eps=est.epsilon)
    kwargs.update(est.solver_params or {})
    return get_optimizer(name, learning_rate=est.learning_rate_init, **kwargs)
