"""The backward pass against central finite differences, through the public ``deltaprop.gradcheck``.

The same space of random networks as the torch oracle (tests/netcases.py): depth 1–5, widths 1–6,
every activation and loss, biases or not, batches of 1 and many; plus a float32 network with the
float32 defaults (h = 1e-2, tolerance 1e-2).
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from netcases import ACTIVATIONS, NetCase, net_cases, valid_for_loss

import deltaprop as dp

KINKED = {"relu", "leaky_relu", "elu"}  # elu's second derivative jumps at 0: h² error grows


def away_from_kinks(net: dp.Network, x, h: float = 1e-6) -> bool:
    """No ReLU-family pre-activation within reach of a finite-difference step of its kink.

    Exact zeros are allowed: they arise only when a bias-free layer sees an all-zero row (every
    unit below it dead), and no step of size h moves them.
    """
    fp = net.forward(x)
    for layer, z in zip(net.layers, fp.z, strict=True):
        if layer.activation.name in KINKED:
            near = (np.abs(z) < 1e-4) & (z != 0)
            if near.any():
                return False
    return True


def resolvable(net: dp.Network, x, t, loss: str) -> bool:
    """Every gradient array is exactly zero or large enough for finite differences to resolve.

    Central differences carry a rounding error of about ε·|E|/h ≈ 1e-10·|E|; a parameter array
    whose whole gradient is smaller than ~1e-4·|E| (a deep net's vanishing first layers) cannot be
    checked to a relative 1e-6 by any correct backward pass.
    """
    e = max(abs(net.loss(x, t, loss)), 1e-3)
    for g in net.gradients(x, t, loss).as_dict().values():
        norm = np.linalg.norm(g)
        if 0 < norm < 1e-3 * e:
            return False
    return True


@given(net_cases())
@settings(max_examples=40)
def test_gradcheck_passes_on_random_networks(case):
    net, x, t, _ = case.build()
    assume(valid_for_loss(case, net, x))
    assume(away_from_kinks(net, x))
    assume(resolvable(net, x, t, case.loss))
    before = net.get_weights()
    result = dp.gradcheck(net, x, t, case.loss)
    assert result.passed, str(result)
    assert result.max_error < 1e-6
    assert set(result.relative_error) == set(net.params())
    # The check leaves the network as it found it.
    for k, v in net.get_weights().items():
        np.testing.assert_array_equal(v, before[k])


@pytest.mark.parametrize("hidden", ACTIVATIONS)
def test_gradcheck_passes_for_every_hidden_activation(hidden):
    for loss, out in [
        ("squared_error", "identity"),
        ("mse", "tanh"),
        ("log_loss", "sigmoid"),
        ("cross_entropy", "softmax"),
    ]:
        case = NetCase([3, 4, 4, 3], [hidden, hidden, out], [True, True, False], loss, 5, 21)
        net, x, t, _ = case.build()
        assert valid_for_loss(case, net, x) and away_from_kinks(net, x)
        result = dp.gradcheck(net, x, t, loss)
        assert result.passed, f"{hidden}/{out}/{loss}\n{result}"
        assert result.max_error < 1e-6


def test_gradcheck_catches_a_wrong_gradient():
    """The check can fail: a backward pass with one gradient off by 1% is reported."""
    case = NetCase([3, 4, 2], ["tanh", "identity"], [True, True], "squared_error", 6, 5)
    net, x, t, _ = case.build()

    class Skewed(dp.Network):
        def gradients(self, *args, **kwargs):
            g = super().gradients(*args, **kwargs)
            g.weights[0][0, 0] *= 1.01
            return g

    skewed = Skewed(net.copy().layers)
    result = dp.gradcheck(skewed, x, t, "squared_error")
    assert not result.passed
    assert result.relative_error["W1"] > 1e-4
    assert result.relative_error["W2"] < 1e-8
    assert "FAILED" in str(result)


def test_float32_network_gradcheck_with_its_looser_tolerance():
    case = NetCase(
        [4, 6, 5, 3], ["tanh", "sigmoid", "softmax"], [True, True, True], "cross_entropy", 8, 9
    )
    net64, x, t, _ = case.build()
    net = net64.astype(np.float32)
    assert net.dtype == np.float32
    assert all(p.dtype == np.float32 for p in net.params().values())
    result = dp.gradcheck(net, x.astype(np.float32), t.astype(np.float32), "cross_entropy")
    assert result.tolerance == 1e-2
    assert result.passed, str(result)
    assert all(g.dtype == np.float32 for g in result.backprop.values())
    # And the float32 backward pass agrees with the float64 one to float32 precision.
    g64 = net64.gradients(x, t, "cross_entropy").as_dict()
    for k, g in result.backprop.items():
        np.testing.assert_allclose(g, g64[k], rtol=1e-4, atol=1e-6)


def test_numeric_gradients_of_the_tutorial_network():
    net = dp.Network.from_weights([[[0.4]], [[0.3]]], [[0.1], [0.2]], ["sigmoid", "identity"])
    fd = dp.numeric_gradients(net, [[0.5]], [[0.6]], "squared_error")
    expected = {"W1": -0.00834827, "b1": -0.01669655, "W2": -0.13078175, "b2": -0.22766724}
    for k, v in expected.items():
        assert fd[k].item() == pytest.approx(v, abs=1e-8)
