"""Activations and losses, one by one, against torch and against float64 edge cases.

- every activation's value, derivative (element-wise ones) and vector-Jacobian product equal
  torch's, over a range that includes the saturated tails;
- the in-place form used by the training loop (``out=z``) equals the out-of-place form;
- sigmoid and softmax (and the other built-ins) at z = ±1000: no warnings or floating-point errors
  even under ``np.errstate(all="raise")``, and the exact float64 values;
- every loss value and per-sample gradient ∂J/∂o equal torch's; log loss and cross-entropy of
  saturated outputs are finite;
- a user-registered activation works end to end (gradcheck, torch, training).
"""

import warnings

import mpmath
import numpy as np
import pytest
import torch
from netcases import ACTIVATIONS, LOSSES, TORCH_ACTIVATIONS, TORCH_LOSSES

import deltaprop as dp
from deltaprop import activations as act_module

ELEMENTWISE = [a for a in ACTIVATIONS if a != "softmax"]

# The tails are included: z from −745 to 745 (beyond it e^z is not representable).
Z_WIDE = np.concatenate([np.linspace(-745.0, 745.0, 5961), np.linspace(-40.0, 40.0, 8001)])


EPS = np.finfo(np.float64).eps
# torch evaluates GELU as ½z(1 + tanh u), which cancels where tanh u → −1 (z < 0): exact there only
# to about ε|z| absolutely (it gives gelu(−20) = −0.0, not −3.4e-261), and its derivative's
# ½z(1 − tanh² u)u′ to about ε|z|(1 + 0.134145 z²). deltaprop's z·σ(2u) is exact relative to
# its size (test_silu_and_gelu_match_an_exact_oracle checks it against mpmath).
TORCH_VALUE_ERROR = {"gelu": lambda z: EPS * np.abs(z)}
TORCH_DERIVATIVE_ERROR = {"gelu": lambda z: 4 * EPS * (1 + np.abs(z) * (1 + 0.134145 * z * z))}


def assert_within(actual, desired, rtol: float, floor) -> None:
    """``|actual − desired| ≤ rtol·|desired| + floor`` entry by entry (``floor``: an array too)."""
    err, allowed = np.abs(actual - desired), rtol * np.abs(desired) + floor
    bad = err > allowed
    assert not bad.any(), f"{bad.sum()} entries off, up to {np.max(err / allowed):.3g}× allowed"


def torch_value_and_grad(name: str, z: np.ndarray):
    zt = torch.tensor(z, requires_grad=True)
    a = TORCH_ACTIVATIONS[name](zt)
    (g,) = torch.autograd.grad(a.sum(), zt)
    return a.detach().numpy(), g.numpy()


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_value_matches_torch_to_a_few_ulp(name):
    z = Z_WIDE[None, :]
    a = dp.get_activation(name).forward(z)
    ref, _ = torch_value_and_grad(name, z)
    # Relative, not absolute: σ(−40) = 4.2e-18 must come out as 4.2e-18, not 0. (The absolute
    # floor only admits differences among subnormals, which carry fewer significant bits.)
    if name in TORCH_VALUE_ERROR:
        assert_within(a, ref, 4 * EPS, TORCH_VALUE_ERROR[name](z) + 1e-300)
        return
    np.testing.assert_allclose(a, ref, rtol=4 * np.finfo(np.float64).eps, atol=1e-300)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_elementwise_derivative_matches_torch(name):
    act = dp.get_activation(name)
    z = Z_WIDE[None, :]
    a = act.forward(z)
    d = act.derivative(z, a)
    _, ref = torch_value_and_grad(name, z)
    if name in TORCH_DERIVATIVE_ERROR:
        assert_within(d, ref, 1e-13, TORCH_DERIVATIVE_ERROR[name](z))
        return
    # Derivatives are computed from the output a (σ' = a(1 − a), tanh' = 1 − a², elu' = a + 1),
    # so where a saturates towards ±1 they are exact only to about one ulp of a, absolutely.
    np.testing.assert_allclose(d, ref, rtol=1e-13, atol=2 * np.finfo(np.float64).eps)
    # Relative agreement away from saturation (1 − a for a ≈ 1 has relative error ε/(1 − a)).
    inner = np.abs(z) < 5
    np.testing.assert_allclose(d[inner], ref[inner], rtol=1e-11, atol=0)
    if name in ("sigmoid", "softplus"):
        # For z < 0 the output a ≈ eᶻ is tiny and exact, so a(1 − a) and 1 − e^(−a) stay exact
        # relative to their size all the way down the tail.
        tail = z < 0
        np.testing.assert_allclose(d[tail], ref[tail], rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_vjp_matches_torch(name):
    rng = np.random.default_rng(3)
    z = rng.normal(0.0, 4.0, size=(9, 5))
    g = rng.normal(size=(9, 5))
    act = dp.get_activation(name)
    a = act.forward(z)
    zt = torch.tensor(z, requires_grad=True)
    (ref,) = torch.autograd.grad(TORCH_ACTIVATIONS[name](zt), zt, grad_outputs=torch.tensor(g))
    np.testing.assert_allclose(act.vjp(z, a, g), ref.numpy(), rtol=1e-12, atol=1e-15)
    # In place over the incoming gradient, as the backward pass calls it.
    g2 = g.copy()
    out = act.vjp(z, a, g2, out=g2)
    assert out is g2
    np.testing.assert_allclose(out, ref.numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_softmax_and_others_value_matches_torch_on_rows(name):
    z = np.random.default_rng(4).normal(0.0, 20.0, size=(50, 7))
    ref, _ = torch_value_and_grad(name, z)
    floor = TORCH_VALUE_ERROR.get(name, lambda z: 0.0)(z) + 1e-300
    assert_within(dp.get_activation(name).forward(z), ref, 1e-13, floor)


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_in_place_forward_equals_out_of_place(name):
    """The training loop computes a = f(z) over z's own buffer; that must not change a."""
    z = np.random.default_rng(5).normal(0.0, 3.0, size=(6, 4))
    act = dp.get_activation(name)
    expected = act.forward(z.copy())
    buf = z.copy()
    out = act.forward(buf, out=buf)
    assert out is buf
    np.testing.assert_array_equal(out, expected)


def test_softmax_rows_sum_to_one_and_ignore_a_constant_shift():
    z = np.random.default_rng(6).normal(0.0, 50.0, size=(20, 6))
    softmax = dp.get_activation("softmax")
    a = softmax.forward(z)
    np.testing.assert_allclose(a.sum(axis=1), 1.0, rtol=0, atol=4e-16)
    np.testing.assert_allclose(softmax.forward(z + 700.0), a, rtol=1e-12, atol=1e-300)


EXTREMES = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0], [1000.0, 1000.0, 0.0]])


def no_warnings(fn):
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        return fn()


def test_sigmoid_at_plus_minus_1000_is_exact_without_warnings():
    sigmoid = dp.get_activation("sigmoid")
    a = no_warnings(lambda: sigmoid.forward(EXTREMES))
    # σ(1000) = 1 − e^−1000 and σ(−1000) = e^−1000 ≈ 5e-435 round to exactly 1 and 0 in float64.
    np.testing.assert_array_equal(a, [[1.0, 0.0, 0.5], [0.0, 0.0, 0.0], [1.0, 1.0, 0.5]])
    d = no_warnings(lambda: sigmoid.derivative(EXTREMES, a))
    np.testing.assert_array_equal(d, [[0.0, 0.0, 0.25], [0.0, 0.0, 0.0], [0.0, 0.0, 0.25]])


def test_softmax_at_plus_minus_1000_is_exact_without_warnings():
    softmax = dp.get_activation("softmax")
    a = no_warnings(lambda: softmax.forward(EXTREMES))
    third = 1.0 / 3.0
    np.testing.assert_array_equal(a, [[1.0, 0.0, 0.0], [third, third, third], [0.5, 0.5, 0.0]])
    g = np.ones_like(a)
    d = no_warnings(lambda: softmax.vjp(EXTREMES, a, g))
    assert np.isfinite(d).all()


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_every_activation_is_finite_and_silent_at_plus_minus_1000(name):
    act = dp.get_activation(name)
    a = no_warnings(lambda: act.forward(EXTREMES))
    ref, _ = torch_value_and_grad(name, EXTREMES)
    np.testing.assert_allclose(a, ref, rtol=1e-15, atol=0)
    g = no_warnings(lambda: act.vjp(EXTREMES, a, np.ones_like(a)))
    assert np.isfinite(g).all()


def test_sigmoid_output_network_at_z_1000_has_finite_loss_and_gradients():
    # z = ±1000 at the output: saturated outputs 1 and 0 with the opposite targets.
    net = dp.Network.from_weights([[[1000.0]]], None, "sigmoid")
    x, t = np.array([[1.0], [-1.0]]), np.array([[0.0], [1.0]])
    loss = no_warnings(lambda: net.loss(x, t, "log_loss"))
    # Clipped to [ε, 1 − ε]: −log ε = 36.04…, finite.
    assert loss == pytest.approx(-np.log(np.finfo(np.float64).eps), rel=1e-12)
    for shortcut in (True, False):
        g = no_warnings(lambda s=shortcut: net.gradients(x, t, "log_loss", use_shortcut=s))
        assert all(np.isfinite(v).all() for v in g.as_dict().values())


@pytest.mark.parametrize("loss", ["log_loss", "cross_entropy"])
def test_log_losses_of_saturated_outputs_are_finite(loss):
    L = dp.get_loss(loss)
    o = np.array([[0.0, 1.0], [1.0, 0.0]])
    t = np.array([[1.0, 0.0], [0.0, 1.0]])
    value = no_warnings(lambda: L.value(o, t))
    grad = no_warnings(lambda: L.gradient(o, t))
    assert np.isfinite(value) and value > 30
    assert np.isfinite(grad).all()


def random_outputs_and_targets(loss: str, rng, n=8, k=4):
    if loss == "log_loss":
        return rng.uniform(0.01, 0.99, (n, k)), rng.uniform(0.0, 1.0, (n, k))
    if loss == "cross_entropy":
        return rng.dirichlet(np.ones(k), n), rng.dirichlet(np.ones(k), n)
    return rng.normal(size=(n, k)), rng.normal(size=(n, k))


@pytest.mark.parametrize("loss", LOSSES)
def test_loss_value_and_gradient_match_torch(loss):
    rng = np.random.default_rng(8)
    o, t = random_outputs_and_targets(loss, rng)
    ot = torch.tensor(o, requires_grad=True)
    J = TORCH_LOSSES[loss](ot, torch.tensor(t))
    (dJ,) = torch.autograd.grad(J.sum(), ot)
    J = J.detach()
    L = dp.get_loss(loss)
    np.testing.assert_allclose(L.per_sample(o, t), J.numpy(), rtol=1e-13)
    assert L.value(o, t) == pytest.approx(float(J.mean()), rel=1e-13)
    np.testing.assert_allclose(L.gradient(o, t), dJ.numpy(), rtol=1e-12, atol=1e-15)
    w = rng.uniform(0.1, 3.0, size=o.shape[0])
    wt = torch.tensor(w)
    assert L.value(o, t, w) == pytest.approx(float((wt * J).sum() / wt.sum()), rel=1e-13)


def test_squared_error_has_the_tutorials_half():
    L = dp.get_loss("squared_error")
    assert L.value(np.array([[3.0, 1.0]]), np.array([[1.0, 1.0]])) == 2.0
    assert dp.get_loss("mse").value(np.array([[3.0, 1.0]]), np.array([[1.0, 1.0]])) == 2.0


@pytest.fixture
def swish():
    """A user activation f(z) = z σ(z), registered for one test and removed afterwards."""

    def f(z):
        return z / (1.0 + np.exp(-z))

    def df(z, a):
        s = 1.0 / (1.0 + np.exp(-z))
        return s * (1.0 + z * (1.0 - s))

    yield dp.register_activation("test_swish", f, df, "z σ(z)", "σ(z)(1 + z(1 − σ(z)))")
    act_module._REGISTRY.pop("test_swish", None)


def test_registered_activation_works_end_to_end(swish):
    assert "test_swish" in dp.available_activations()
    assert dp.get_activation("test_swish") is swish
    net = dp.Network.from_sizes([3, 5, 4, 2], ["test_swish", "tanh", "identity"], seed=11)
    x = np.random.default_rng(12).normal(size=(7, 3))
    t = np.random.default_rng(13).normal(size=(7, 2))
    result = dp.gradcheck(net, x, t, "squared_error")
    assert result.passed, str(result)
    assert result.max_error < 1e-6
    # The same function in torch.
    zt = torch.tensor(x @ net.layers[0].W.T, requires_grad=True)
    (ref,) = torch.autograd.grad((zt * torch.sigmoid(zt)).sum(), zt)
    z = net.forward(x).z[0]
    np.testing.assert_allclose(swish.derivative(z, swish.forward(z)), ref.numpy(), rtol=1e-13)
    # And training with it (the loop's buffered path) takes the same step as the plain gradients.
    before = net.copy()
    g = before.gradients(x, t, "squared_error").as_dict()
    dp.fit(net, x, t, loss="squared_error", learning_rate=0.1, epochs=1, batch_size=None)
    for k, p in net.params().items():
        np.testing.assert_allclose(p, before.params()[k] - 0.1 * g[k], rtol=1e-13, atol=1e-15)


def test_register_activation_rejects_bad_arguments():
    with pytest.raises(ValueError, match="non-empty string"):
        dp.register_activation("", np.tanh, lambda z, a: 1 - a * a)
    with pytest.raises(TypeError, match="callables"):
        dp.register_activation("broken", np.tanh, "not a function")
    assert "broken" not in dp.available_activations()


def _exact_silu_gelu(name: str, z: float) -> tuple[float, float, float]:
    """``(f(z), f′(z), the exponent's size)`` in 120-bit arithmetic: SiLU ``z σ(z)`` and GELU
    ``½z(1 + tanh u) = z σ(2u)``, ``u = √(2/π)(z + 0.044715 z³)``, with ``σ(x) = 1/(1 + e^(−x))``
    (no cancellation, so 120 bits give every float64 digit)."""
    with mpmath.workprec(120):
        v = mpmath.mpf(z)
        if name == "silu":
            x, dx = v, mpmath.mpf(1)
        else:
            c = mpmath.sqrt(2 / mpmath.pi)
            k = mpmath.mpf(0.044715)
            x, dx = 2 * c * (v + k * v**3), 2 * c * (1 + 3 * k * v**2)
        s = 1 / (1 + mpmath.exp(-x))
        return float(v * s), float(s + v * s * (1 - s) * dx), abs(float(x))


@pytest.mark.parametrize("name", ["silu", "gelu"])
def test_silu_and_gelu_match_an_exact_oracle(name):
    """f and f′ to a few ulp of their size times the condition of e^x (the argument x = z or 2u
    carries a relative rounding error ε, so e^x one of ε|x|), down the tails where torch cancels."""
    act = dp.get_activation(name)
    z = Z_WIDE[None, ::7]
    a = act.forward(z)
    d = act.derivative(z, a)
    exact = np.array([_exact_silu_gelu(name, float(v)) for v in z[0]]).T[:, None, :]
    f, df, x = exact
    assert_within(a, f, 0.0, 4 * EPS * (1 + x) * np.abs(f) + 1e-300)
    assert_within(d, df, 0.0, 4 * EPS * (1 + x) * np.abs(df) + 4 * EPS)
    # and torch in the tail: −0.0 where the true value is −3.4e-261 (deltaprop keeps it)
    if name == "gelu":
        ours = act.forward(np.array([[-20.0]]))[0, 0]
        assert ours == pytest.approx(_exact_silu_gelu("gelu", -20.0)[0], rel=1e-12) and ours < 0
        assert (
            torch.nn.functional.gelu(torch.tensor(-20.0, dtype=torch.float64), approximate="tanh")
            == 0
        )


def test_activations_and_losses_pickle_as_their_registered_selves():
    """Their declarations hold formulas as lambdas: registered ones pickle by name, so a pickled
    network (an estimator, a worker process) gets the very same objects back."""
    import pickle

    for name in ACTIVATIONS:
        act = dp.get_activation(name)
        assert pickle.loads(pickle.dumps(act)) is act
    for name in LOSSES:
        loss = dp.get_loss(name)
        assert pickle.loads(pickle.dumps(loss)) is loss
    net = dp.Network.from_sizes([3, 4, 4, 2], ["silu", "gelu", "softmax"], seed=0)
    x = np.random.default_rng(0).normal(size=(5, 3))
    assert pickle.loads(pickle.dumps(net)).predict(x).tobytes() == net.predict(x).tobytes()
    # one that is not registered pickles field by field
    loose = dp.Activation("loose", np.tanh, None, "tanh(z)", "1 − a²")
    assert pickle.loads(pickle.dumps(loose)) == loose


@pytest.mark.parametrize("name", ACTIVATIONS)
def test_jacobian_matches_autograd(name):
    """``Activation.jacobian``: diagonal f′ for element-wise ones, the full one for softmax."""
    z = np.random.default_rng(9).normal(0.0, 2.0, size=(4, 3))
    act = dp.get_activation(name)
    J = act.jacobian(z, act.forward(z))
    assert J.shape == (4, 3, 3)
    for i in range(4):
        ref = torch.autograd.functional.jacobian(
            lambda v: TORCH_ACTIVATIONS[name](v[None, :])[0], torch.tensor(z[i])
        ).numpy()
        np.testing.assert_allclose(J[i], ref, rtol=1e-12, atol=1e-15)


def test_a_ready_activation_registers_as_it_is():
    mine = dp.Activation("test_ready", np.tanh, None, "tanh(z)", "1 − a²", elementwise=False)
    try:
        assert dp.register_activation(mine) is mine
        assert dp.get_activation("test_ready") is mine
    finally:
        act_module._REGISTRY.pop("test_ready", None)
    assert "test_ready" not in dp.available_activations()
