"""The activations' registry, their ``Activation`` methods, kernels and formulas, one fact each.

Written for the mutation review of ``src/deltaprop/activations/`` (docs/testing.md): every number
is computed here from the definition (NumPy or Python's ``math`` written out, in closed form),
every message and every rendered formula is written out by hand.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest

import deltaprop as dp
from deltaprop import activations as act_module
from deltaprop.notation import Sym, to_text


def _square(z):
    return z * z


def _square_prime(z, a):
    return 2 * z


# --- register_activation ------------------------------------------------------------------------


def test_registered_activation_defaults_name_its_formulas_label_and_z_dependence():
    """Without formulas or label: ``name(z)``, ``name'(z)``, the name's first five letters; and a
    user derivative is taken to read ``z`` (the loop must not overwrite ``z`` with ``a``)."""
    act = dp.register_activation("squared", _square, _square_prime)
    assert act.formula == "squared(z)"
    assert act.derivative_formula == "squared'(z)"
    assert act.label == "squar"
    assert act.derivative_from_output is False
    assert dp.get_activation("squared") is act


def test_registered_activation_keeps_the_formulas_and_label_it_is_given():
    act = dp.register_activation("squared", _square, _square_prime, "z²", "2z", label="sq")
    assert (act.formula, act.derivative_formula, act.label) == ("z²", "2z", "sq")


def test_a_registered_name_with_capitals_is_found_as_given_and_saves_and_loads(tmp_path):
    """``"Squared"`` is looked up as registered (lower-casing it first refused it by its own
    name), and a network that uses it round-trips through a model file."""
    act = dp.register_activation("Squared", _square, _square_prime)
    assert dp.get_activation("Squared") is act
    assert "Squared" in dp.available_activations()
    net = dp.Network.from_weights([np.array([[2.0]])], [np.array([0.5])], ["Squared"])
    dp.save(tmp_path / "m.deltaprop", net)
    loaded = dp.load(tmp_path / "m.deltaprop").network
    assert loaded.predict(np.array([[1.0]]))[0, 0] == 6.25  # (2·1 + 0.5)²


def test_registered_activation_can_declare_saturation_and_dead_units():
    """``max_derivative`` and ``can_die`` reach the diagnostics: a hard sigmoid-like clip with
    |f′| ≤ ½ saturates where f′ < 1 % · ½, and a ReLU-like unit is dead where f′ = 0."""
    clip = dp.register_activation(
        "clip01", lambda z: np.clip(0.5 * z, 0, 1), lambda z, a: 0.5 * ((z > 0) & (z < 2)),
        max_derivative=0.5, can_die=True,
    )
    z = np.array([[-1.0, 1.0, 3.0]])
    a = clip.forward(z)
    assert clip.saturated(z, a).tolist() == [[True, False, True]]
    assert clip.inactive(z, a).tolist() == [[True, False, True]]
    plain = dp.register_activation("clip02", lambda z: z, lambda z, a: np.ones_like(z))
    assert plain.saturated(z, z) is None and plain.inactive(z, z) is None


def test_register_activation_messages_are_whole():
    callables = re.escape("function and derivative must be callables") + "$"
    with pytest.raises(TypeError, match=callables):
        dp.register_activation("broken", _square, "not a function")
    with pytest.raises(TypeError, match=callables):
        dp.register_activation("broken", None, _square_prime)
    message = "activation name must be a non-empty string, got ''"
    with pytest.raises(ValueError, match=re.escape(message) + "$"):
        dp.register_activation("", _square, _square_prime)
    assert "broken" not in dp.available_activations()


# --- get_activation, available_activations -------------------------------------------------------


@pytest.mark.parametrize(
    ("alias", "name"),
    [("linear", "identity"), ("none", "identity"), ("logistic", "sigmoid"),
     ("Logistic", "sigmoid"), ("LINEAR", "identity"), ("ReLU", "relu")],
)  # fmt: skip
def test_aliases_and_names_are_read_case_insensitively(alias, name):
    assert dp.get_activation(alias) is act_module._REGISTRY[name]
    assert dp.get_activation(alias).name == name


def test_get_activation_messages_are_whole():
    names = "elu, gelu, identity, leaky_relu, relu, sigmoid, silu, softmax, softplus, tanh"
    message = f"unknown activation 'swish'; expected one of {names}"
    with pytest.raises(ValueError, match=re.escape(message) + "$"):
        dp.get_activation("swish")
    message = "activation must be a name (str), got int"
    with pytest.raises(TypeError, match=re.escape(message) + "$"):
        dp.get_activation(3)


def test_available_activations_are_the_ten_built_ins_sorted():
    assert dp.available_activations() == [
        "elu", "gelu", "identity", "leaky_relu", "relu", "sigmoid", "silu", "softmax",
        "softplus", "tanh",
    ]  # fmt: skip


# --- Activation's methods -----------------------------------------------------------------------


def _sigma(z):
    """σ(z) = 1/(1 + e^(−z)), written out (no overflow for the |z| ≤ 10 used here)."""
    return 1.0 / (1.0 + np.exp(-z))


def _fixed(name, values, max_derivative=None, elementwise=True, can_die=False):
    """An activation whose f′ is the given array whatever z and a are: masks tested exactly."""

    def derivative(z, a, out):
        out[...] = values
        return out

    return dp.Activation(
        name, lambda z, out: z, derivative, "f", "f′", elementwise=elementwise,
        max_derivative=max_derivative, can_die=can_die,
    )  # fmt: skip


def test_forward_and_derivative_without_out_leave_z_and_a_alone():
    z = np.array([[-1.0, 0.0, 2.0]])
    kept = z.copy()
    sigmoid = dp.get_activation("sigmoid")
    a = sigmoid.forward(z)
    assert a is not z
    np.testing.assert_array_equal(z, kept)
    np.testing.assert_allclose(a, _sigma(kept), rtol=1e-15)
    a_kept = a.copy()
    d = sigmoid.derivative(z, a)
    assert d is not a and d is not z
    np.testing.assert_array_equal(a, a_kept)
    np.testing.assert_allclose(d, _sigma(kept) * (1 - _sigma(kept)), rtol=1e-14)


def test_derivative_writes_into_the_buffer_it_is_given():
    z = np.array([[-1.0, 0.5, 3.0]])
    tanh = dp.get_activation("tanh")
    a = np.tanh(z)
    out = np.full_like(z, np.nan)
    assert tanh.derivative(z, a, out=out) is out
    np.testing.assert_allclose(out, 1 - a * a, rtol=1e-15)


def _cube_with_its_own_vjp_and_jacobian():
    """f(z) = z³ declared with ``vjp_fn`` and ``jacobian_fn`` that read z (f′ = 3z²), as the
    documented signatures (z, a, grad_a, out) and (z, a) allow."""

    def vjp(z, a, grad_a, out):
        np.multiply(3 * z * z, grad_a, out=out)
        return out

    def jacobian(z, a):
        return (3 * z * z)[:, :, None] * np.eye(z.shape[1])

    return dp.Activation(
        "cube", lambda z, out: np.power(z, 3, out=out), None, "z³", "3z²", elementwise=False,
        vjp_fn=vjp, jacobian_fn=jacobian,
    )  # fmt: skip


def test_a_declared_vjp_and_jacobian_are_given_z():
    cube = _cube_with_its_own_vjp_and_jacobian()
    z = np.array([[-2.0, 0.5, 1.0]])
    a = z**3
    g = np.array([[1.0, -2.0, 0.5]])
    np.testing.assert_array_equal(cube.vjp(z, a, g), [[12.0, -1.5, 1.5]])  # 3z²·g
    np.testing.assert_array_equal(cube.jacobian(z, a)[0], np.diag([12.0, 0.75, 3.0]))


def test_derivative_of_softmax_is_refused_with_the_whole_message():
    message = "activation 'softmax' has no element-wise derivative; use vjp"
    z = np.zeros((1, 3))
    with pytest.raises(ValueError, match=re.escape(message) + "$"):
        dp.get_activation("softmax").derivative(z, z)


# f′(z) in closed form, for the activations that take the default vjp (f′ ⊙ g).
F_PRIME = {
    "tanh": lambda z: 1 - np.tanh(z) ** 2,
    "softplus": _sigma,  # d/dz log(1 + eᶻ) = σ(z)
    "sigmoid": lambda z: _sigma(z) * (1 - _sigma(z)),
    "elu": lambda z: np.where(z > 0, 1.0, np.exp(z)),
}


@pytest.mark.parametrize("name", sorted(F_PRIME))
def test_vjp_is_f_prime_times_the_gradient_into_a_fresh_a_given_or_the_gradient_buffer(name):
    """∂E/∂z = f′(z) ⊙ g for an element-wise f: with out=None, a separate out, and out=g.
    (rtol 1e-13: f′ is computed from a in the engine, from z here; a few ulp apart.)"""
    act = dp.get_activation(name)
    z = np.array([[-2.0, -0.5, 0.0, 0.75, 3.0]])
    g = np.array([[0.5, -1.5, 2.0, 1.0, -0.25]])
    a = act.forward(z)
    expected = F_PRIME[name](z) * g
    g_kept = g.copy()
    fresh = act.vjp(z, a, g)
    assert fresh is not g
    np.testing.assert_array_equal(g, g_kept)
    out = np.full_like(g, np.nan)
    assert act.vjp(z, a, g, out=out) is out
    buf = g.copy()
    assert act.vjp(z, a, buf, out=buf) is buf
    for got in (fresh, out, buf):
        np.testing.assert_allclose(got, expected, rtol=1e-13, atol=0)
    np.testing.assert_array_equal(out, fresh)  # the same operations whichever buffer
    np.testing.assert_array_equal(buf, fresh)


def test_sigmoid_saturation_mask_is_one_percent_of_its_quarter():
    """saturated: |σ′(z)| < 1 % · ¼, σ′ = σ(1 − σ) computed here; on a 0.1 grid σ′ stays ≥ 2e-5
    away from the threshold 0.0025 (crossed at z ≈ ±5.987), far beyond rounding."""
    z = np.linspace(-10.0, 10.0, 201)[None, :]
    sigmoid = dp.get_activation("sigmoid")
    mask = sigmoid.saturated(z, sigmoid.forward(z))
    s = _sigma(z)
    expected = np.abs(s * (1 - s)) < 0.01 * 0.25
    np.testing.assert_array_equal(mask, expected)
    assert expected.sum() == 2 * 41  # |z| = 6.0, 6.1, …, 10.0 on each side


def test_saturation_threshold_is_strict_and_reads_the_absolute_value():
    """max |f′| = 1: saturated where |f′| < 0.01, so 0.01 itself is not, nor −0.02; −0.005 is."""
    values = np.array([[0.01, 0.0099, -0.005, -0.02, 0.0, 1.0]])
    act = _fixed("fixed", values, max_derivative=1.0)
    z = np.zeros_like(values)
    np.testing.assert_array_equal(act.saturated(z, z), [[False, True, True, False, True, False]])


def test_saturated_is_none_without_a_maximum_or_for_a_row_wise_activation():
    z = np.zeros((2, 3))
    assert dp.get_activation("identity").saturated(z, z) is None
    assert dp.get_activation("relu").saturated(z, z) is None
    assert dp.get_activation("softmax").saturated(z, z) is None
    coupled = _fixed("coupled", np.zeros((2, 3)), max_derivative=1.0, elementwise=False)
    assert coupled.saturated(z, z) is None


def test_relu_inactive_mask_is_where_f_prime_is_exactly_zero():
    """ReLU′ = 0 for z ≤ 0 (0 at the kink): off exactly there."""
    z = np.array([[-3.0, -1e-300, 0.0, 1e-300, 2.0], [0.5, -0.5, 0.0, 7.0, -7.0]])
    relu = dp.get_activation("relu")
    np.testing.assert_array_equal(relu.inactive(z, np.maximum(z, 0)), z <= 0)


def test_inactive_is_none_unless_the_activation_can_die_element_wise():
    z = np.array([[-1.0, 0.0, 1.0]])
    for name in ("leaky_relu", "elu", "identity", "sigmoid", "softmax"):
        act = dp.get_activation(name)
        assert act.inactive(z, act.forward(z)) is None, name
    coupled = _fixed("coupled", np.zeros((1, 3)), can_die=True, elementwise=False)
    assert coupled.inactive(z, z) is None
    dying = _fixed("dying", np.array([[0.0, 1.0, -0.0]]), can_die=True)
    np.testing.assert_array_equal(dying.inactive(z, z), [[True, False, True]])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_elementwise_jacobian_is_diagonal_f_prime_in_the_batch_dtype(dtype):
    """J[n, i, j] = tanh′(z_ni) δ_ij, tanh′ = 1 − tanh², for a (2, 3) batch."""
    z = np.array([[-1.0, 0.0, 0.5], [2.0, -0.25, 1.0]], dtype=dtype)
    tanh = dp.get_activation("tanh")
    J = tanh.jacobian(z, tanh.forward(z))
    assert J.shape == (2, 3, 3) and J.dtype == dtype
    d = 1 - np.tanh(z.astype(np.float64)) ** 2
    for n in range(2):
        expected = np.diag(d[n])
        rtol = 1e-6 if dtype == np.float32 else 1e-14  # float32: a few ulp of 1 − a²
        np.testing.assert_allclose(J[n], expected, rtol=rtol, atol=rtol)
        assert (J[n][~np.eye(3, dtype=bool)] == 0).all()


def test_jacobian_of_a_coupled_activation_without_one_is_refused_with_the_whole_message():
    coupled = _fixed("coupled", np.zeros((1, 2)), elementwise=False)
    z = np.zeros((1, 2))
    message = "activation 'coupled' declares no Jacobian"
    with pytest.raises(ValueError, match=re.escape(message) + "$"):
        coupled.jacobian(z, z)


def test_an_activation_labels_itself_with_the_first_five_letters_of_its_name():
    assert _fixed("abcdefgh", 0.0).label == "abcde"
    assert dp.Activation("abcdefgh", np.tanh, None, "f", "f′", label="mine").label == "mine"


def test_an_unregistered_namesake_pickles_as_itself_not_as_the_registered_one():
    """Only the registered object itself pickles by name; another with its name keeps its own
    kernels (tanh's name, ReLU's kernels here)."""
    import pickle

    relu = dp.get_activation("relu")
    namesake = dp.Activation("tanh", relu.function, relu.derivative_fn, "max(z, 0)", "1 or 0")
    back = pickle.loads(pickle.dumps(namesake))
    assert back is not dp.get_activation("tanh")
    assert back == namesake
    z = np.array([[-1.0, 2.0]])
    np.testing.assert_array_equal(back.forward(z), [[0.0, 2.0]])


# --- the formulas of a worked solution (deltaprop.notation) -------------------------------------

Z = Sym("z", "1", "(2)")  # z₁⁽²⁾: a unit of layer 2, as the worked solution names it
GELU_U = "√(2/π)·({z} + 0.044715·{z}³)"  # u of the tanh form, for z a string


def _texts(forms):
    return tuple(None if e is None else to_text(e) for e in forms)


@pytest.mark.parametrize(
    ("name", "zv", "value", "substituted"),
    [
        ("sigmoid", 0.5, "σ(z₁⁽²⁾)", "σ(0.5000)"),
        ("tanh", -0.5, "tanh(z₁⁽²⁾)", "tanh(−0.5000)"),
        ("softplus", 0.5, "log(1 + e^z₁⁽²⁾)", "log(1 + e^0.5000)"),
        ("silu", -0.5, "z₁⁽²⁾·σ(z₁⁽²⁾)", "−0.5000·σ(−0.5000)"),
        (
            "gelu",
            0.5,
            "½·z₁⁽²⁾·(1 + tanh(" + GELU_U.format(z="z₁⁽²⁾") + "))",
            "½·0.5000·(1 + tanh(" + GELU_U.format(z="0.5000") + "))",
        ),
        ("relu", -0.5, "max(z₁⁽²⁾, 0)", "max(−0.5000, 0)"),
        ("leaky_relu", 0.5, "max(z₁⁽²⁾, 0.01·z₁⁽²⁾)", "max(0.5000, 0.01·0.5000)"),
        ("elu", -0.5, "e^z₁⁽²⁾ − 1", "e^−0.5000 − 1"),
        ("elu", 0.0, "e^z₁⁽²⁾ − 1", "e^0.0000 − 1"),  # the kink belongs to z ≤ 0
    ],
)
def test_value_formula_symbolic_and_substituted(name, zv, value, substituted):
    forms = dp.get_activation(name).notation.value_at(Z, zv, [zv, 1.0])
    assert _texts(forms) == (value, substituted)


@pytest.mark.parametrize(("name", "zv"), [("identity", -0.5), ("elu", 0.5), ("elu", 1e-300)])
def test_value_formula_that_is_z_itself_has_nothing_to_substitute(name, zv):
    """identity, and ELU's z > 0 piece: f(z) = z, the very symbol, no substituted form."""
    sym, sub = dp.get_activation(name).notation.value_at(Z, zv)
    assert sym is Z and sub is None


def test_softmax_value_formula_sums_over_the_row_of_its_layer():
    """a₁⁽²⁾ = e^z₁⁽²⁾ / Σⱼ e^zⱼ⁽²⁾, and with the row (0.5, −1, 2) written out."""
    forms = dp.get_activation("softmax").notation.value_at(Z, 0.5, [0.5, -1.0, 2.0])
    assert _texts(forms) == (
        "e^z₁⁽²⁾/(Σⱼ e^zⱼ⁽²⁾)",
        "e^0.5000/(e^0.5000 + e^−1.0000 + e^2.0000)",
    )
    sym, _ = forms
    assert sym.den.body.exp == Sym("z", "j", "(2)")


@pytest.mark.parametrize(
    ("name", "zv", "av", "expected"),
    [
        ("sigmoid", 0.5, 0.25, ("a·(1 − a)", "0.2500·(1 − 0.2500)", "")),
        ("tanh", 0.5, 0.25, ("1 − a²", "1 − 0.2500²", "")),
        ("softplus", 0.5, 0.25, ("1 − e^(−a)", "1 − e^(−0.2500)", "")),
        (
            "silu",
            0.5,
            0.25,
            ("σ(z)·(1 + z·(1 − σ(z)))", "σ(0.5000)·(1 + 0.5000·(1 − σ(0.5000)))", ""),
        ),
        (
            "gelu",
            0.5,
            0.25,
            (
                "½·(1 + tanh(" + GELU_U.format(z="z") + ")) + ½·z·(1 − tanh("
                + GELU_U.format(z="z") + ")²)·√(2/π)·(1 + 0.134145·z²)",
                "½·(1 + tanh(" + GELU_U.format(z="0.5000") + ")) + ½·0.5000·(1 − tanh("
                + GELU_U.format(z="0.5000") + ")²)·√(2/π)·(1 + 0.134145·0.5000²)",
                "",
            ),
        ),
        ("identity", 0.5, 0.5, ("1", None, "")),
        ("relu", 0.5, 0.5, (None, None, "as z > 0")),
        ("relu", 0.0, 0.0, (None, None, "as z ≤ 0")),
        ("leaky_relu", -0.5, -0.005, (None, None, "as z ≤ 0")),
        ("elu", 0.5, 0.5, (None, None, "as z > 0")),
        ("elu", -0.5, -0.25, ("a + 1", "−0.2500 + 1", "as z ≤ 0")),
        ("softmax", 0.5, 0.25, (None, None, "")),
    ],
)  # fmt: skip
def test_derivative_formula_symbolic_substituted_and_its_piece(name, zv, av, expected):
    sym, sub, note = dp.get_activation(name).notation.derivative_at(zv, av)
    assert (*_texts((sym, sub)), note) == expected


def test_a_registered_activation_without_notation_is_written_as_its_name_applied():
    act = dp.register_activation("squared", _square, _square_prime)
    assert _texts(act.notation.value_at(Z, 0.5)) == ("squared(z₁⁽²⁾)", "squared(0.5000)")
    assert act.notation.derivative_at(0.5, 0.25) == (None, None, "")


# --- the kernels --------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_derivative_is_written_into_out_in_the_batch_dtype(dtype):
    """ReLU′ = 1 where z > 0, else 0 (0 at the kink), as numbers of z's dtype, into ``out``."""
    z = np.array([[-2.0, 0.0, 1e-30, 3.0]], dtype=dtype)
    relu = dp.get_activation("relu")
    a = np.maximum(z, 0)
    d = relu.derivative(z, a)
    assert d.dtype == dtype
    np.testing.assert_array_equal(d, [[0.0, 0.0, 1.0, 1.0]])
    out = np.full_like(z, np.nan)
    assert relu.derivative(z, a, out=out) is out
    np.testing.assert_array_equal(out, [[0.0, 0.0, 1.0, 1.0]])


def test_elu_keeps_the_sign_of_a_zero_as_expm1_does():
    """ELU(±0.0) = ±0.0: the definition (z for z > 0, eᶻ − 1 otherwise) written with Python's
    ``math.expm1``, whose e^(−0) − 1 is −0.0 in IEEE arithmetic (torch's ELU gives −0.0 too);
    f′(±0) = 1 (from the output: min(a + 1, 1))."""
    z = np.array([[0.0, -0.0, -1e-300, 1e-300, -0.5]])
    elu = dp.get_activation("elu")
    a = elu.forward(z)
    ref = np.array([[v if v > 0 else math.expm1(v) for v in z[0]]])
    np.testing.assert_array_equal(np.signbit(a), [[False, True, True, False, True]])
    np.testing.assert_array_equal(np.signbit(a), np.signbit(ref))
    np.testing.assert_allclose(a, ref, rtol=1e-15, atol=0)
    np.testing.assert_array_equal(elu.derivative(z, a)[0, :4], [1.0, 1.0, 1.0, 1.0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_jacobian_is_a_i_times_delta_ij_minus_a_j_in_the_batch_dtype(dtype):
    """J[n, i, j] = aᵢ(δᵢⱼ − aⱼ), written out entry by entry for two rows of three."""
    z = np.array([[0.5, -1.0, 2.0], [0.0, 0.0, 1.0]], dtype=dtype)
    softmax = dp.get_activation("softmax")
    a = softmax.forward(z)
    J = softmax.jacobian(z, a)
    assert J.shape == (2, 3, 3) and J.dtype == dtype
    a64 = a.astype(np.float64)
    expected = np.array(
        [[[a64[n, i] * ((i == j) - a64[n, j]) for j in range(3)] for i in range(3)]
         for n in range(2)]
    )  # fmt: skip
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(J, expected, rtol=0, atol=4 * eps)  # a few roundings of a ≤ 1
