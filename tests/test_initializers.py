"""Weight initialisers: each draw against its documented distribution, computed here from the
table in deltaprop.initializers (bounds and deviations by hand, the draws from the same seeded
generator), the defaults per activation, and the names."""

import math

import numpy as np
import pytest

import deltaprop as dp
from deltaprop import initializers as ini

FAN_IN, FAN_OUT = 30, 20

# name: (kind, r or σ for fan_in = 30, fan_out = 20)
EXPECTED = {
    "glorot_uniform": ("uniform", math.sqrt(6 / 50)),
    "glorot_normal": ("normal", math.sqrt(2 / 50)),
    "he_uniform": ("uniform", math.sqrt(6 / 30)),
    "he_normal": ("normal", math.sqrt(2 / 30)),
    "lecun_uniform": ("uniform", math.sqrt(3 / 30)),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_each_draw_is_its_documented_distribution(name, dtype):
    kind, scale = EXPECTED[name]
    W = ini.get_initializer(name)(FAN_IN, FAN_OUT, np.random.default_rng(5), dtype)
    assert W.shape == (FAN_OUT, FAN_IN) and W.dtype == dtype
    rng = np.random.default_rng(5)
    if kind == "uniform":
        expected = rng.uniform(-scale, scale, size=(FAN_OUT, FAN_IN))
    else:
        expected = rng.normal(0.0, scale, size=(FAN_OUT, FAN_IN))
    np.testing.assert_allclose(W, expected.astype(dtype), rtol=1e-6 if dtype == np.float32 else 0)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_spread_matches_the_formula_on_a_large_draw(name):
    """Statistics of 250,000 draws (seeded, so fixed): a uniform's extremes reach ±r, a normal's
    standard deviation is σ within 1 %."""
    kind, _ = EXPECTED[name]
    fan_in, fan_out = 400, 625
    W = ini.get_initializer(name)(fan_in, fan_out, np.random.default_rng(0), np.float64)
    scale = {
        "glorot_uniform": math.sqrt(6 / 1025), "glorot_normal": math.sqrt(2 / 1025),
        "he_uniform": math.sqrt(6 / 400), "he_normal": math.sqrt(2 / 400),
        "lecun_uniform": math.sqrt(3 / 400),
    }[name]  # fmt: skip
    assert abs(W.mean()) < 0.01 * scale
    if kind == "uniform":
        assert -scale <= W.min() < -0.999 * scale and 0.999 * scale < W.max() <= scale
        assert W.std() == pytest.approx(scale / math.sqrt(3), rel=0.01)
    else:
        assert W.std() == pytest.approx(scale, rel=0.01)


def test_zeros():
    W = ini.zeros(3, 2, np.random.default_rng(0), np.float32)
    assert W.shape == (2, 3) and W.dtype == np.float32 and not W.any()


def test_the_relu_family_gets_he_and_the_others_glorot():
    for act in ("relu", "leaky_relu", "elu", "silu", "gelu", "ReLU", dp.get_activation("gelu")):
        assert ini.default_initializer(act) == "he_uniform"
    for act in ("sigmoid", "tanh", "softmax", "identity", "softplus"):
        assert ini.default_initializer(act) == "glorot_uniform"
    # ... and Network.from_sizes follows them layer by layer: relu layer 8 → 16 draws
    # U(±√(6/8)), the softmax layer 16 → 4 draws U(±√(6/20)), from one generator in order.
    net = dp.Network.from_sizes([8, 16, 4], ["relu", "softmax"], seed=9)
    rng = np.random.default_rng(9)
    W1 = rng.uniform(-math.sqrt(6 / 8), math.sqrt(6 / 8), size=(16, 8))
    W2 = rng.uniform(-math.sqrt(6 / 20), math.sqrt(6 / 20), size=(4, 16))
    np.testing.assert_array_equal(net.layers[0].W, W1)
    np.testing.assert_array_equal(net.layers[1].W, W2)


def test_names_aliases_and_callables():
    assert ini.get_initializer("xavier_uniform") is ini.glorot_uniform
    assert ini.get_initializer("xavier_normal") is ini.glorot_normal
    assert ini.get_initializer("kaiming_uniform") is ini.he_uniform
    assert ini.get_initializer("kaiming_normal") is ini.he_normal
    assert ini.get_initializer("He_Normal") is ini.he_normal
    assert ini.get_initializer("zeros") is ini.zeros

    def mine(fan_in, fan_out, rng, dtype):
        return np.full((fan_out, fan_in), 0.5, dtype)

    assert ini.get_initializer(mine) is mine
    net = dp.Network.from_sizes([2, 3], "tanh", init=mine)
    np.testing.assert_array_equal(net.layers[0].W, np.full((3, 2), 0.5))
    names = ", ".join(sorted(ini.INITIALIZERS))
    with pytest.raises(ValueError) as info:
        ini.get_initializer("orthogonal")
    assert str(info.value) == f"unknown initializer 'orthogonal'; expected one of {names}"
    with pytest.raises(ValueError, match="unknown initializer 3"):
        ini.get_initializer(3)


def test_a_registered_activation_declares_its_initializer_and_from_sizes_draws_it():
    """``register_activation(..., initializer="he_normal")``: a 6 → 4 layer draws N(0, 2/6) from
    the network's generator; without it, Glorot's U(±√(6/(6 + 4)))."""
    dp.register_activation("hinge", lambda z: np.maximum(z, 0), lambda z, a: (z > 0) * 1.0,
                           initializer="he_normal")  # fmt: skip
    dp.register_activation("plain", lambda z: z, lambda z, a: np.ones_like(z))
    assert ini.default_initializer("hinge") == "he_normal"
    assert ini.default_initializer("plain") == "glorot_uniform"
    he = dp.Network.from_sizes([6, 4], "hinge", seed=3).layers[0].W
    np.testing.assert_array_equal(he, np.random.default_rng(3).normal(0, math.sqrt(2 / 6), (4, 6)))
    glorot = dp.Network.from_sizes([6, 4], "plain", seed=3).layers[0].W
    bound = math.sqrt(6 / 10)
    np.testing.assert_array_equal(glorot, np.random.default_rng(3).uniform(-bound, bound, (4, 6)))
