"""losses.py unit by unit: what a student reads, and the small rules around the kernels.

- every loss's formulas as a worked solution shows them — symbolic, with one sample's numbers
  substituted, and the number they give — against the formula written out by hand here and its
  value computed here in NumPy (squared error with ½, mse with 1/k, log loss, cross-entropy), for
  one output and for several;
- the clipping of outputs before a logarithm: to the dtype's ε (float32 too), to 1e-15 for
  integer outputs, ε looked up once per dtype;
- pickling: a registered loss as its name, any other field by field;
- ``register_loss``'s defaults and arguments, ``get_loss``'s aliases, a name with capitals, and
  its whole message;
- ``output_delta``'s default shortcut and the targets' row check (when it runs, when it is
  skipped), ``rows_sum_to_one``'s tolerance, exact form and empty batch.
"""

from __future__ import annotations

import math
import pickle
import re

import numpy as np
import pytest

import deltaprop as dp
from deltaprop import losses
from deltaprop.losses import (
    CROSS_ENTROPY,
    LOG_LOSS,
    LOSSES,
    MSE,
    SQUARED_ERROR,
    Loss,
    get_loss,
    output_delta,
    register_loss,
    rows_sum_to_one,
)
from deltaprop.notation import Num, Sym, to_latex, to_text

# --- numbers as a worked solution writes them -----------------------------------------------------


def num(v: float) -> str:
    """``v`` at 4 decimals with a Unicode minus (notation.py: fixed point, ``−0.0000`` as 0)."""
    assert 1e-4 <= abs(v) < 1e6  # no scientific form, no zero-sign question
    scaled = abs(v) * 1e4
    # Not within 1e-6 of a rounding tie: the engine's value and this test's may differ in the last
    # bit, which must not change the fourth decimal.
    assert abs(scaled - math.floor(scaled) - 0.5) > 1e-6, v
    return f"{v:.4f}".replace("-", "−")


def tex(e) -> str:
    """LaTeX without its spaces (they carry no meaning in math mode)."""
    return "".join(to_latex(e).split())


def nums(values) -> list[Num]:
    return [Num(float(v)) for v in values]


O3, T3 = [0.25, 0.75, 0.6], [0.0, 1.0, 0.5]  # one sample, three outputs
SUB = "₁₂₃"


# --- the formulas, rendered --------------------------------------------------------------------


def test_squared_error_formulas_as_written():
    """J = ½Σₖ(oₖ − tₖ)²; one output is not wrapped in a sum's parentheses; ∂J/∂o = o − t."""
    n = SQUARED_ERROR.notation
    assert to_text(n.value) == "½Σₖ (oₖ − tₖ)²"
    assert to_text(n.value_with(nums([0.25]), nums([1.0]))) == "½(0.2500 − 1.0000)²"
    assert to_text(n.value_with(nums(O3), nums(T3))) == (
        "½((0.2500 − 0.0000)² + (0.7500 − 1.0000)² + (0.6000 − 0.5000)²)"
    )
    assert tex(n.value_with(nums([0.25]), nums([1.0]))) == (
        r"\frac{1}{2}{\left(0.2500-1.0000\right)}^{2}"
    )
    assert to_text(n.gradient(Sym("o", "1"), Sym("t", "1"), None)) == "o₁ − t₁"
    assert to_text(n.gradient(Num(0.25), Num(1.0), 3)) == "0.2500 − 1.0000"


def test_mse_formulas_as_written():
    """J = (1/k)Σₖ(oₖ − tₖ)², ∂J/∂o = 2(o − t)/k: with one output no 1/k (k = 1) and no
    parentheses around the single square; with k = 2 the factor is ½, with 3 it is 1/3."""
    n = MSE.notation
    assert to_text(n.value) == "(1/k)Σₖ (oₖ − tₖ)²"
    assert to_text(n.value_with(nums([0.25]), nums([1.0]))) == "(0.2500 − 1.0000)²"
    assert to_text(n.value_with(nums([0.25, 0.75]), nums([0.0, 1.0]))) == (
        "½((0.2500 − 0.0000)² + (0.7500 − 1.0000)²)"
    )
    assert to_text(n.value_with(nums(O3), nums(T3))) == (
        "(1/3)((0.2500 − 0.0000)² + (0.7500 − 1.0000)² + (0.6000 − 0.5000)²)"
    )
    assert to_text(n.gradient(Sym("o", "1"), Sym("t", "1"), None)) == "(2·(o₁ − t₁))/k"
    assert tex(n.gradient(Sym("o", "1"), Sym("t", "1"), None)) == (
        r"\frac{2\cdot\left(o_{1}-t_{1}\right)}{k}"
    )
    assert to_text(n.gradient(Num(0.25), Num(1.0), 1)) == "2·(0.2500 − 1.0000)"
    assert to_text(n.gradient(Num(0.25), Num(1.0), 3)) == "(2·(0.2500 − 1.0000))/3"


def test_log_loss_formulas_as_written():
    """J = −Σₖ[tₖ·log oₖ + (1 − tₖ)·log(1 − oₖ)], ∂J/∂o = (o − t)/(o(1 − o))."""
    n = LOG_LOSS.notation
    assert to_text(n.value) == "−Σₖ (tₖ·log(oₖ) + (1 − tₖ)·log(1 − oₖ))"
    assert to_text(n.value_with(nums([0.25]), nums([1.0]))) == (
        "−(1.0000·log(0.2500) + (1 − 1.0000)·log(1 − 0.2500))"
    )
    assert to_text(n.value_with(nums(O3[:2]), nums(T3[:2]))) == (
        "−(0.0000·log(0.2500) + (1 − 0.0000)·log(1 − 0.2500)"
        " + 1.0000·log(0.7500) + (1 − 1.0000)·log(1 − 0.7500))"
    )
    assert tex(n.value_with(nums([0.25]), nums([1.0]))) == (
        r"-\left(1.0000\cdot\log\left(0.2500\right)+\left(1-1.0000\right)\cdot"
        r"\log\left(1-0.2500\right)\right)"
    )
    assert to_text(n.gradient(Sym("o", "1"), Sym("t", "1"), None)) == "(o₁ − t₁)/(o₁·(1 − o₁))"
    assert to_text(n.gradient(Num(0.25), Num(1.0), 3)) == "(0.2500 − 1.0000)/(0.2500·(1 − 0.2500))"


def test_cross_entropy_formulas_as_written():
    """J = −Σₖ tₖ·log oₖ, ∂J/∂o = −t/o."""
    n = CROSS_ENTROPY.notation
    assert to_text(n.value) == "−Σₖ tₖ·log(oₖ)"
    assert to_text(n.value_with(nums([0.25]), nums([1.0]))) == "−(1.0000·log(0.2500))"
    assert to_text(n.value_with(nums(O3), nums(T3))) == (
        "−(0.0000·log(0.2500) + 1.0000·log(0.7500) + 0.5000·log(0.6000))"
    )
    assert tex(n.value_with(nums([0.25]), nums([1.0]))) == (
        r"-\left(1.0000\cdot\log\left(0.2500\right)\right)"
    )
    assert to_text(n.gradient(Sym("o", "1"), Sym("t", "1"), None)) == "−t₁/o₁"
    assert to_text(n.gradient(Num(0.25), Num(1.0), 3)) == "−1.0000/0.2500"


# --- a worked solution with each loss, against NumPy --------------------------------------------

W = np.array([[0.5, -0.5], [0.2, 0.1], [-0.3, 0.8]])
B = np.array([0.1, -0.2, 0.05])
X = np.array([1.0, 2.0])
T = np.array([0.0, 1.0, 0.0])  # a one-hot row: every loss, the softmax shortcut too


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def _softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def _squared_error_lines(o, t):
    squares = " + ".join(f"({num(a)} − {b:.4f})²" for a, b in zip(o, t, strict=True))
    value = f"½Σₖ (oₖ − tₖ)² = ½({squares}) = {num(0.5 * np.sum((o - t) ** 2))}"
    grads = [
        f"o{s} − t{s} = {num(a)} − {b:.4f} = {num(a - b)}"
        for s, a, b in zip(SUB, o, t, strict=True)
    ]
    return value, grads


def _mse_lines(o, t):
    squares = " + ".join(f"({num(a)} − {b:.4f})²" for a, b in zip(o, t, strict=True))
    value = f"(1/k)Σₖ (oₖ − tₖ)² = (1/3)({squares}) = {num(np.mean((o - t) ** 2))}"
    grads = [
        f"(2·(o{s} − t{s}))/k = (2·({num(a)} − {b:.4f}))/3 = {num(2 * (a - b) / 3)}"
        for s, a, b in zip(SUB, o, t, strict=True)
    ]
    return value, grads


def _log_loss_lines(o, t):
    terms = " + ".join(
        f"{b:.4f}·log({num(a)}) + (1 − {b:.4f})·log(1 − {num(a)})"
        for a, b in zip(o, t, strict=True)
    )
    j = -np.sum(t * np.log(o) + (1 - t) * np.log(1 - o))
    value = f"−Σₖ (tₖ·log(oₖ) + (1 − tₖ)·log(1 − oₖ)) = −({terms}) = {num(j)}"
    grads = [
        f"(o{s} − t{s})/(o{s}·(1 − o{s})) = ({num(a)} − {b:.4f})/({num(a)}·(1 − {num(a)}))"
        f" = {num((a - b) / (a * (1 - a)))}"
        for s, a, b in zip(SUB, o, t, strict=True)
    ]
    return value, grads


def _cross_entropy_lines(o, t):
    terms = " + ".join(f"{b:.4f}·log({num(a)})" for a, b in zip(o, t, strict=True))
    value = f"−Σₖ tₖ·log(oₖ) = −({terms}) = {num(-np.sum(t * np.log(o)))}"
    # −t/o: "−0.0000/o = 0.0000" where t = 0 (the renderer prints −0.0 as 0.0000)
    grads = [
        f"−t{s}/o{s} = −{b:.4f}/{num(a)} = " + (num(-b / a) if b else "0.0000")
        for s, a, b in zip(SUB, o, t, strict=True)
    ]
    return value, grads


@pytest.mark.parametrize(
    ("loss", "activation", "forward", "lines"),
    [
        ("squared_error", "sigmoid", _sigmoid, _squared_error_lines),
        ("mse", "sigmoid", _sigmoid, _mse_lines),
        ("log_loss", "sigmoid", _sigmoid, _log_loss_lines),
        ("cross_entropy", "softmax", _softmax, _cross_entropy_lines),
    ],
)
def test_worked_solution_shows_each_loss_and_its_gradient_with_numpys_numbers(
    loss, activation, forward, lines
):
    """The lines E = J = <formula> = <numbers> = <value> and ∂J/∂oᵢ = … of a one-sample step
    of a 2 → 3 network, with o = f(Wx + b), J and ∂J/∂o computed here in NumPy."""
    net = dp.Network.from_weights([W.tolist()], [B.tolist()], activation)
    text = dp.explain(net, X.tolist(), T.tolist(), learning_rate=0.1, loss=loss).to_text()
    shown = [line.strip() for line in text.splitlines()]
    o = forward(W @ X + B)
    value, grads = lines(o, T)
    assert f"E = J = {value}" in shown  # before the step
    for s, grad in zip(SUB, grads, strict=True):
        assert f"∂J/∂o{s} = {grad}" in shown


# --- the clipping before a logarithm -----------------------------------------------------------


def test_integer_outputs_are_clipped_to_1e_15():
    """An integer o has no machine ε: it is clipped to [1e-15, 1 − 1e-15] (a 0/1 prediction
    that is wrong gives a large finite loss), in float64."""
    o, t = np.array([[0, 1]]), np.array([[1, 0]])
    lo, hi = 1e-15, 1 - 1e-15
    expected = -(np.log(lo) + np.log(1 - hi))  # t₁ log o₁ + (1 − t₂) log(1 − o₂)
    assert LOG_LOSS.value(o, t) == pytest.approx(expected, rel=1e-12)  # log1p vs log(1 − ·)
    assert CROSS_ENTROPY.value(o, t) == pytest.approx(-np.log(lo), rel=1e-15)
    assert CROSS_ENTROPY.value(np.array([[1, 0]]), np.array([[0, 1]])) == pytest.approx(
        -np.log(lo), rel=1e-15
    )


def test_float32_outputs_are_clipped_to_float32_eps():
    """float32 saturated outputs clip to [ε₃₂, 1 − ε₃₂] (float64's ε would round 1 − ε to 1 and
    give log 0 = −∞): each wrong term is −log ε₃₂, about 15.94."""
    eps = float(np.finfo(np.float32).eps)
    o = np.array([[0.0, 1.0]], dtype=np.float32)
    t = np.array([[1.0, 0.0]], dtype=np.float32)
    # 1 − (1 − ε₃₂) = ε₃₂ exactly in float32, so both terms are −log ε₃₂.
    assert LOG_LOSS.value(o, t) == pytest.approx(-2 * math.log(eps), rel=1e-6)  # float32 log
    assert CROSS_ENTROPY.value(o, t) == pytest.approx(-math.log(eps), rel=1e-6)
    assert LOG_LOSS.value(t, t) == pytest.approx(-2 * math.log(1 - eps), rel=1e-3)  # tiny: ≈ 2ε


def test_eps_is_looked_up_once_per_dtype(monkeypatch):
    """_clip runs every batch: after the first call for a dtype it does not ask np.finfo again."""
    eps = np.finfo(np.float64).eps
    losses._clip(np.array([[0.5]]))  # the first call for float64 fills the cache

    def no_finfo(*args, **kwargs):
        raise AssertionError("np.finfo called again")

    monkeypatch.setattr(np, "finfo", no_finfo)
    clipped = losses._clip(np.array([[0.0, 0.5, 1.0]]))
    np.testing.assert_array_equal(clipped, [[eps, 0.5, 1 - eps]])


# --- pickling ----------------------------------------------------------------------------------


def _abs_error(o, t):
    return np.abs(o - t).sum(axis=1)


def _abs_error_grad(o, t, out):
    return np.sign(o - t, out=out)


def test_a_registered_loss_pickles_as_itself():
    for loss in (SQUARED_ERROR, MSE, LOG_LOSS, CROSS_ENTROPY):
        assert pickle.loads(pickle.dumps(loss)) is loss


def test_an_unregistered_loss_pickles_field_by_field():
    """Even under a registered loss's name: every field comes back, the uncompared ones too."""
    custom = Loss(
        "mse", _abs_error, _abs_error_grad, "Σ|o − t|", "sign(o − t)", "identity",
        shortcut_reason="why", shortcut_unit_rows=True,
    )  # fmt: skip
    back = pickle.loads(pickle.dumps(custom))
    assert back is not custom and back is not MSE
    assert back == custom  # name, both functions, both formulas, fused_activation
    assert (back.shortcut_reason, back.shortcut_unit_rows, back.notation) == ("why", True, None)
    np.testing.assert_array_equal(back.per_sample(np.array([[1.0, 2.0]]), np.zeros((1, 2))), [3])


# --- register_loss and get_loss ------------------------------------------------------------------


def test_register_loss_defaults():
    """Without formulas: ``name(o, t)`` and ``∂name/∂o``; no shortcut, no reason, no notation."""
    loss = register_loss("abs_error", _abs_error, lambda o, t: np.sign(o - t))
    assert get_loss("abs_error") is loss and LOSSES["abs_error"] is loss
    assert (loss.formula, loss.gradient_formula) == ("abs_error(o, t)", "∂abs_error/∂o")
    assert (loss.fused_activation, loss.shortcut_reason, loss.notation) == (None, "", None)
    assert loss.shortcut_unit_rows is False
    o, t = np.array([[0.5, -1.0]]), np.array([[0.0, 0.0]])
    np.testing.assert_array_equal(loss.gradient(o, t), [[1.0, -1.0]])


def test_register_loss_keeps_what_it_is_given():
    notation = MSE.notation
    loss = register_loss(
        "abs_error",
        _abs_error,
        lambda o, t: np.sign(o - t),
        "Σ|o − t|",
        "sign(o − t)",
        notation=notation,
        fused_activation="identity",
        shortcut_reason="because",
    )
    assert (loss.formula, loss.gradient_formula) == ("Σ|o − t|", "sign(o − t)")
    assert (loss.fused_activation, loss.shortcut_reason) == ("identity", "because")
    assert loss.notation is notation
    assert loss.has_shortcut(dp.get_activation("identity"))
    assert not loss.has_shortcut(dp.get_activation("sigmoid"))


def test_register_loss_takes_a_ready_loss():
    custom = Loss("abs_error", _abs_error, _abs_error_grad, "Σ|o − t|", "sign(o − t)")
    assert register_loss(custom) is custom
    assert get_loss("abs_error") is custom and get_loss("ABS_ERROR") is custom


def test_a_loss_registered_with_capitals_is_found_by_its_name():
    """register_loss: "the name can then be used anywhere a loss name is accepted" — get_loss
    lower-cased every name, so "Huber" was refused ("unknown loss 'Huber'; expected one of
    Huber, …"); in lower case it is still found, and a built-in in any case."""
    huber = register_loss("Huber", _abs_error, lambda o, t: np.sign(o - t))
    assert get_loss("Huber") is huber
    assert get_loss("MSE") is MSE
    net = dp.Network.from_weights([[[0.5, -1.0]]], [[0.0]], "identity")
    grads = net.gradients(np.array([[1.0, 1.0]]), np.array([[0.0]]), "Huber")
    # o = 0.5 − 1 = −0.5, t = 0: ∂J/∂o = sign(−0.5) = −1, δ = −1 (identity), ∂J/∂W = δ·x
    np.testing.assert_array_equal(grads.weights[0], [[-1.0, -1.0]])


def test_register_loss_refuses_non_callables_with_its_whole_message():
    message = "per_sample and gradient must be callables"
    with pytest.raises(TypeError, match=re.escape(message) + "$"):
        register_loss("abs_error", _abs_error, "not a function")


@pytest.mark.parametrize(
    ("alias", "loss"),
    [
        ("squared", SQUARED_ERROR),
        ("sse", SQUARED_ERROR),
        ("mean_squared_error", MSE),
        ("binary_cross_entropy", LOG_LOSS),
        ("bce", LOG_LOSS),
        ("BCE", LOG_LOSS),
        ("categorical_cross_entropy", CROSS_ENTROPY),
        ("Softmax_Cross_Entropy", CROSS_ENTROPY),
    ],
)
def test_get_loss_reads_every_alias_in_any_case(alias, loss):
    assert get_loss(alias) is loss


def test_get_loss_names_every_loss_when_it_does_not_know_one():
    message = "unknown loss 'hinge'; expected one of cross_entropy, log_loss, mse, squared_error"
    with pytest.raises(ValueError, match=re.escape(message) + "$"):
        get_loss("hinge")


# --- output_delta and the targets' row check ----------------------------------------------------


def test_output_delta_takes_the_shortcut_by_default():
    """Sigmoid + log loss at a saturated output o = σ(40) = 1.0, t = 0: the shortcut gives
    o − t = 1; the general form (o − t)/(c(1 − c))·o(1 − o) with o(1 − o) = 0 gives 0."""
    sigmoid = dp.get_activation("sigmoid")
    z = np.array([[40.0]])
    o, t = sigmoid.forward(z), np.array([[0.0]])
    assert o[0, 0] == 1.0
    np.testing.assert_array_equal(output_delta(LOG_LOSS, sigmoid, z, o, t), [[1.0]])
    np.testing.assert_array_equal(
        output_delta(LOG_LOSS, sigmoid, z, o, t, use_shortcut=False), [[0.0]]
    )


@pytest.fixture
def row_checks(monkeypatch):
    """The calls output_delta makes to rows_sum_to_one, with their ``exact``."""
    calls = []
    check = losses.rows_sum_to_one

    def counted(t, exact=False):
        calls.append(exact)
        return check(t, exact)

    monkeypatch.setattr(losses, "rows_sum_to_one", counted)
    return calls


def test_softmax_cross_entropy_checks_the_targets_unless_told(row_checks):
    """target_rows_sum_to_one None: one exact check; True or False (the caller checked): none.
    Told True, it takes o − t; told False, o·Σₖtₖ − t (both as the engine documents)."""
    softmax = dp.get_activation("softmax")
    z = np.array([[0.5, -0.25, 1.0]])
    o = _softmax(z[0])[None, :]
    t = np.array([[0.0, 0.5, 0.0]])  # sums to 0.5
    np.testing.assert_array_equal(output_delta(CROSS_ENTROPY, softmax, z, o, t), o * 0.5 - t)
    assert row_checks == [True]
    np.testing.assert_array_equal(
        output_delta(CROSS_ENTROPY, softmax, z, o, t, target_rows_sum_to_one=True), o - t
    )
    np.testing.assert_array_equal(
        output_delta(CROSS_ENTROPY, softmax, z, o, t, target_rows_sum_to_one=False), o * 0.5 - t
    )
    assert row_checks == [True]  # no further check


def test_rows_sum_to_one_within_1e_6_by_default():
    near = np.array([[0.5, 0.5 + 1e-9], [0.25, 0.75]])
    assert np.add.reduce(near, axis=1)[0] != 1  # not exactly 1
    assert rows_sum_to_one(near) is True
    assert rows_sum_to_one(near, exact=True) is False
    assert rows_sum_to_one(np.array([[0.5, 0.5 + 2e-6]])) is False


def test_rows_sum_to_one_exactly():
    assert rows_sum_to_one(np.array([[0.0, 1.0, 0.0], [0.25, 0.75, 0.0]]), exact=True) is True
    assert rows_sum_to_one(np.array([[0.0, 1.0], [0.0, 0.0]]), exact=True) is False


def test_an_empty_batch_sums_to_one():
    """No rows: nothing contradicts the condition (and max() of nothing is not taken)."""
    assert rows_sum_to_one(np.empty((0, 3))) is True
    assert rows_sum_to_one(np.empty((0, 3)), exact=True) is True


def test_the_gradient_of_integer_outputs_is_float64_as_their_value_is():
    """``value`` takes integer outputs; ``gradient`` did not (a float ∂J/∂o cannot go into an
    int buffer: NumPy's casting error). Now float64, by hand with integers' clip ε = 1e-15; a
    float32 output keeps float32."""
    o, t = np.array([[1, 0]]), np.array([[0.25, 0.75]])
    c = np.clip(o.astype(np.float64), 1e-15, 1 - 1e-15)
    expected = {
        "squared_error": o - t,
        "mse": 2 * (o - t) / 2,
        "log_loss": (o - t) / (c * (1 - c)),
        "cross_entropy": -t / c,
    }
    for name, by_hand in expected.items():
        g = get_loss(name).gradient(o, t)
        assert g.dtype == np.float64
        np.testing.assert_allclose(g, by_hand, rtol=1e-15, atol=0)
        o32 = np.array([[0.5, 0.25]], np.float32)
        assert get_loss(name).gradient(o32, t.astype(np.float32)).dtype == np.float32
