"""The optimizers' settings and wording that the step-for-step oracles do not reach.

``test_optimizers_oracle.py`` runs every rule against ``torch.optim`` with its settings given;
these tests pin what a user gets without giving them — each default against the signature of the
``torch.optim`` class the rule copies (``inspect.signature``, an independent source), SGD's own
documented ones — and the one-sentence introduction the worked solution prints for plain SGD.
Written for the mutation run of ``optimizers/*.py`` (docs/testing.md).
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch

import deltaprop as dp
from deltaprop.notation import Expr, to_text
from deltaprop.optimizers.base import namespace


def torch_defaults(cls) -> dict:
    return {k: p.default for k, p in inspect.signature(cls).parameters.items() if k != "params"}


# our class → (torch class, our setting → torch's keyword, or (keyword, index) into a tuple)
SAME_AS_TORCH = {
    dp.Adam: (
        torch.optim.Adam,
        {"learning_rate": "lr", "beta1": ("betas", 0), "beta2": ("betas", 1), "eps": "eps",
         "weight_decay": "weight_decay"},
    ),
    dp.AdamW: (
        torch.optim.AdamW,
        {"learning_rate": "lr", "beta1": ("betas", 0), "beta2": ("betas", 1), "eps": "eps",
         "weight_decay": "weight_decay"},
    ),
    dp.Adagrad: (
        torch.optim.Adagrad,
        {"learning_rate": "lr", "eps": "eps", "lr_decay": "lr_decay",
         "initial_accumulator_value": "initial_accumulator_value", "weight_decay": "weight_decay"},
    ),
    dp.Adadelta: (
        torch.optim.Adadelta,
        {"learning_rate": "lr", "rho": "rho", "eps": "eps", "weight_decay": "weight_decay"},
    ),
    dp.RMSProp: (
        torch.optim.RMSprop,
        {"learning_rate": "lr", "alpha": "alpha", "eps": "eps", "momentum": "momentum",
         "centered": "centered", "weight_decay": "weight_decay"},
    ),
}  # fmt: skip


@pytest.mark.parametrize("cls", list(SAME_AS_TORCH), ids=lambda c: c.__name__)
def test_defaults_are_torchs(cls):
    torch_cls, names = SAME_AS_TORCH[cls]
    theirs = torch_defaults(torch_cls)
    ours = cls().hyperparameters()
    assert set(ours) == set(names)
    for ours_name, key in names.items():
        expected = theirs[key[0]][key[1]] if isinstance(key, tuple) else theirs[key]
        assert ours[ours_name] == expected, ours_name


def test_sgd_defaults():
    """SGD keeps η = 0.01 (torch's SGD now defaults to 10⁻³; deltaprop's public default predates
    that and is kept); momentum() and nesterov() are SGD with μ = 0.9 and the same η."""
    assert dp.SGD().hyperparameters() == {
        "learning_rate": 0.01, "momentum": 0.0, "nesterov": False, "weight_decay": 0.0,
    }  # fmt: skip
    with_momentum = {"learning_rate": 0.01, "momentum": 0.9, "weight_decay": 0.0}
    assert dp.get_optimizer("momentum").hyperparameters() == {**with_momentum, "nesterov": False}
    assert dp.get_optimizer("nesterov").hyperparameters() == {**with_momentum, "nesterov": True}


def _sentence(parts: list) -> str:
    return "".join(to_text(p) if isinstance(p, Expr) else p for p in parts)


@pytest.mark.parametrize(("lr", "shown"), [(0.25, "0.25"), (0.001, "0.001"), (1e-5, "1×10⁻⁵")])
def test_plain_sgd_is_introduced_in_one_sentence(lr, shown):
    assert _sentence(dp.SGD(lr).brief()) == (
        f"Gradient descent, θ ← θ − η·∂E/∂θ with η = {shown}, for every weight and bias θ:"
    )
    # anything more than θ − ηg gets the rule, legend and state table instead
    assert dp.SGD(lr, momentum=0.5).brief() is None
    assert dp.SGD(lr, weight_decay=0.1).brief() is None


# the whole message (a substring match lets a mangled message through): torch.optim's wording
# for the value, then the range it must be in
@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: dp.SGD(nesterov=True), "Nesterov momentum requires a momentum > 0"),
        (lambda: dp.SGD(momentum=-0.5), "Invalid momentum value: -0.5 (expected >= 0.0)"),
        (lambda: dp.SGD(learning_rate=0.0), "Invalid learning rate: 0.0 (expected > 0.0)"),
        (
            lambda: dp.SGD(weight_decay=-1e-4),
            "Invalid weight_decay value: -0.0001 (expected >= 0.0)",
        ),
        (lambda: dp.Adam(beta1=1.0), "Invalid beta parameter at index 0: 1.0 (expected < 1.0)"),
        (lambda: dp.Adam(beta1=-0.1), "Invalid beta parameter at index 0: -0.1 (expected >= 0.0)"),
        (lambda: dp.Adam(beta2=1.0), "Invalid beta parameter at index 1: 1.0 (expected < 1.0)"),
        (lambda: dp.Adam(beta2=-0.1), "Invalid beta parameter at index 1: -0.1 (expected >= 0.0)"),
        (lambda: dp.Adam(eps=-1.0), "Invalid epsilon value: -1.0 (expected >= 0.0)"),
        (lambda: dp.AdamW(beta2=1.5), "Invalid beta parameter at index 1: 1.5 (expected < 1.0)"),
        (lambda: dp.Adadelta(rho=1.5), "Invalid rho value: 1.5 (expected <= 1.0)"),
        (lambda: dp.Adadelta(rho=-0.5), "Invalid rho value: -0.5 (expected >= 0.0)"),
        (lambda: dp.Adadelta(eps=-1.0), "Invalid epsilon value: -1.0 (expected >= 0.0)"),
        (lambda: dp.RMSProp(alpha=-0.9), "Invalid alpha value: -0.9 (expected >= 0.0)"),
        (lambda: dp.RMSProp(eps=-1.0), "Invalid epsilon value: -1.0 (expected >= 0.0)"),
        (lambda: dp.RMSProp(momentum=-0.1), "Invalid momentum value: -0.1 (expected >= 0.0)"),
        (lambda: dp.Adagrad(lr_decay=-1.0), "Invalid lr_decay: -1.0 (expected >= 0.0)"),
        (lambda: dp.Adagrad(eps=-1e-10), "Invalid epsilon value: -1e-10 (expected >= 0.0)"),
        (
            lambda: dp.Adagrad(initial_accumulator_value=-1),
            "Invalid initial_accumulator_value: -1 (expected >= 0.0)",
        ),
    ],
)
def test_bad_settings_are_named_in_the_whole_message(make, message):
    with pytest.raises(ValueError) as err:
        make()
    assert str(err.value) == message


# the edges torch.optim accepts: β in [0, 1), ρ in [0, 1], ε = 0, α and μ = 0
@pytest.mark.parametrize(
    "make",
    [
        lambda: dp.Adam(beta1=0.0, beta2=0.0, eps=0.0),
        lambda: dp.AdamW(beta1=0.0, beta2=0.0, eps=0.0, weight_decay=0.0),
        lambda: dp.Adadelta(rho=0.0, eps=0.0),
        lambda: dp.Adadelta(rho=1.0),
        lambda: dp.RMSProp(alpha=0.0, eps=0.0, momentum=0.0),
        lambda: dp.Adagrad(eps=0.0, lr_decay=0.0, initial_accumulator_value=0.0),
    ],
)
def test_the_edges_of_each_range_are_accepted(make):
    make()


# the one-line formula the worked solution prints after the settings
@pytest.mark.parametrize(
    ("settings", "formula"),
    [
        ({}, "θ ← θ − η·g"),
        ({"momentum": 0.9}, "v ← μ·v + g;  θ ← θ − η·v"),
        ({"momentum": 0.9, "nesterov": True}, "v ← μ·v + g;  θ ← θ − η·(g + μ·v)"),
    ],
)
def test_sgd_formula_follows_its_settings(settings, formula):
    assert dp.SGD(0.1, **settings).formula == formula


class _CountingNamespace:
    """An array namespace whose ``sqrt`` is NumPy's, counted."""

    def __init__(self) -> None:
        self.sqrt_calls = 0

    def sqrt(self, x):
        self.sqrt_calls += 1
        return np.sqrt(x)


class _OtherArray(np.ndarray):
    """An array that names its own namespace (``__array_namespace__``), as Array API arrays do."""

    namespace: _CountingNamespace | None = None

    def __array_namespace__(self, api_version=None):
        return _OtherArray.namespace


@pytest.mark.parametrize(
    "make",
    [dp.Adam, dp.AdamW, dp.Adagrad, dp.Adadelta, lambda: dp.RMSProp(centered=True)],
    ids=["adam", "adamw", "adagrad", "adadelta", "rmsprop"],
)
def test_the_rules_take_sqrt_from_the_arrays_namespace(make, monkeypatch):
    """The rules are written for any Array API library: the root comes from θ's namespace."""
    monkeypatch.setattr(_OtherArray, "namespace", _CountingNamespace())
    rng = np.random.default_rng(3)
    theta, g = rng.normal(size=5), rng.normal(size=5)
    opt = make()
    plain = {s: np.full(5, 0.5) for s in opt.slots}
    other = {s: a.copy().view(_OtherArray) for s, a in plain.items()}
    p_plain, p_other = theta.copy(), theta.copy().view(_OtherArray)
    opt.reference(p_plain, g, plain, 2)
    opt.reference(p_other, g.view(_OtherArray), other, 2)
    assert _OtherArray.namespace.sqrt_calls >= 1
    np.testing.assert_array_equal(np.asarray(p_other), p_plain)
    assert not np.array_equal(p_plain, theta)


def test_repr_lists_every_setting_in_the_order_they_are_set():
    assert repr(dp.Adam()) == (
        "Adam(learning_rate=0.001, weight_decay=0.0, beta1=0.9, beta2=0.999, eps=1e-08)"
    )
    assert repr(dp.SGD(0.5, momentum=0.9, nesterov=True)) == (
        "SGD(learning_rate=0.5, weight_decay=0.0, momentum=0.9, nesterov=True)"
    )


def test_numpy_float_settings_are_kept_as_python_floats():
    """A NumPy scalar η (say from a schedule) would, by NEP 50's promotion, run a float32 model's
    update in float64: every setting is stored as a Python float; other values as given."""
    opt = dp.SGD(0.1, momentum=0.5, nesterov=True)
    opt.learning_rate = np.float32(0.25)
    opt.momentum = np.float64(0.75)
    assert type(opt.learning_rate) is float and opt.learning_rate == 0.25
    assert type(opt.momentum) is float and opt.momentum == 0.75
    assert opt.nesterov is True and opt.slots == ("velocity",)


def test_intermediates_give_a_noted_number_once_as_a_float():
    """A rule's numbers (NumPy scalars too) are recorded once, not per parameter."""

    class Noting(dp.SGD):
        def rule(self, theta, g, s, t, note=lambda n, v: v):
            half = note("η/2", np.float64(self.learning_rate) / 2)
            note("t", t)
            theta -= note("Δθ", half * g)

    opt = Noting(0.5)
    params = {"w": np.array([1.0, 2.0]), "b": np.array([3.0])}
    grads = {"w": np.array([4.0, -4.0]), "b": np.array([2.0])}
    noted = opt.intermediates(params, grads, {"step": 6})
    assert set(noted) == {"η/2", "t", "Δθ"}
    assert type(noted["η/2"]) is float and noted["η/2"] == 0.25
    assert type(noted["t"]) is float and noted["t"] == 7.0
    np.testing.assert_array_equal(noted["Δθ"]["w"], [1.0, -1.0])
    np.testing.assert_array_equal(noted["Δθ"]["b"], [0.5])
    np.testing.assert_array_equal(params["w"], [1.0, 2.0])


def test_a_value_without_an_array_namespace_is_numpys():
    """NumPy 1.26's arrays (``numpy>=1.26`` is supported) have no ``__array_namespace__``; nor
    have a list or a Python number: their library is NumPy."""
    assert namespace(np.zeros(2)) is np
    assert namespace([0.5, 1.5]) is np
    assert namespace(2.0) is np


class _CopyingNamespace(_CountingNamespace):
    """Also ``asarray``, whose copies stay of the array's own type."""

    def asarray(self, x, copy=None):
        return np.array(x, copy=copy).view(_OtherArray)


def test_intermediates_copy_with_the_arrays_own_namespace(monkeypatch):
    """θ, g and the slots are copied, and every noted array recorded, by their library's
    ``asarray``: the record is of the arrays' own type."""
    monkeypatch.setattr(_OtherArray, "namespace", _CopyingNamespace())
    opt = dp.Adam(0.1)
    params = {"w": np.array([0.5, -1.0]).view(_OtherArray)}
    grads = {"w": np.array([0.25, 2.0]).view(_OtherArray)}
    state = {"step": 0, "m": {"w": np.zeros(2).view(_OtherArray)}}
    state["v"] = {"w": np.zeros(2).view(_OtherArray)}
    noted = opt.intermediates(params, grads, state)
    assert set(noted) == {"m̂", "v̂", "Δθ"}
    for name, by_param in noted.items():
        assert type(by_param["w"]) is _OtherArray, name
    # m̂ = (1 − β₁)g/(1 − β₁) at t = 1: exactly g, whose entries are powers of two
    np.testing.assert_array_equal(np.asarray(noted["m̂"]["w"]), [0.25, 2.0])


def test_intermediates_leave_the_gradients_to_a_rule_that_writes_into_g():
    """The rule runs on copies: one that scales g in place does not change the caller's."""

    class HalvedGradient(dp.SGD):
        def rule(self, theta, g, s, t, note=lambda n, v: v):
            g *= 0.5
            theta -= note("Δθ", self.learning_rate * g)

    grads = {"w": np.array([2.0, -4.0])}
    noted = HalvedGradient(0.5).intermediates({"w": np.array([1.0, 1.0])}, grads, {"step": 0})
    np.testing.assert_array_equal(noted["Δθ"]["w"], [0.5, -1.0])
    np.testing.assert_array_equal(grads["w"], [2.0, -4.0])


def test_an_optimizer_without_weight_decay_given_has_none():
    """``Optimizer.__init__(learning_rate, weight_decay=0.0)``: a new rule that passes only η."""

    class Plain(dp.Optimizer):
        def __init__(self):
            super().__init__(0.1)

    assert Plain().hyperparameters() == {"learning_rate": 0.1, "weight_decay": 0.0}
