"""The three equations of :mod:`deltaprop.layers`, one sample at a time in plain NumPy.

Each kernel works on a batch in rows and writes into arrays it is given; the oracle here is the
tutorials' per-sample form (``z = W a + b``, ``∂E/∂W = (1/n) Σᵢ δᵢ aᵢᵀ``, ``δ = f′(z) ⊙ Wᵀ δ``)
written as loops over samples, for C- and F-ordered weight and gradient arrays and batches of
one and several samples.
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from deltaprop.activations import Activation, get_activation
from deltaprop.layers import Dense, delta_rule, forward, gradients


def _layer(units, inputs, act="tanh", bias=True, order="C", seed=0):
    rng = np.random.default_rng(seed)
    W = np.asarray(rng.normal(size=(units, inputs)), order=order)
    b = rng.normal(size=units) if bias else None
    return Dense(W, b, get_activation(act))


def test_dense_reports_units_and_inputs_from_W():
    layer = _layer(3, 5)
    assert (layer.units, layer.inputs) == (3, 5)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("in_place", [False, True])
def test_forward_is_z_equals_W_a_plus_b_then_f(bias, in_place):
    layer = _layer(3, 4, "tanh", bias)
    a_prev = np.random.default_rng(1).normal(size=(5, 4))
    z = np.empty((5, 3))
    a = z if in_place else np.empty((5, 3))
    out = forward(layer, a_prev, z, a)
    assert out is a
    for i in range(5):
        zi = layer.W @ a_prev[i] + (layer.b if bias else 0.0)
        np.testing.assert_allclose(a[i], np.tanh(zi), rtol=1e-14, atol=1e-15)
        if not in_place:
            np.testing.assert_allclose(z[i], zi, rtol=1e-14, atol=1e-15)


def test_forward_copies_the_result_of_an_activation_that_returns_a_new_array():
    """An activation (a user's, say) may ignore ``out`` and return a fresh array: ``a`` must
    still receive ``f(z)``."""
    act = get_activation("tanh")
    fresh = Activation(
        name="fresh_tanh", function=lambda z, out=None: np.tanh(z),
        derivative_fn=act.derivative_fn, formula="tanh(z)", derivative_formula="1 − a²",
        derivative_from_output=act.derivative_from_output,
    )  # fmt: skip
    layer = Dense(np.array([[1.0, -2.0]]), np.array([0.5]), fresh)
    a_prev = np.array([[0.25, 0.5], [1.0, 0.0]])
    z, a = np.empty((2, 1)), np.full((2, 1), np.nan)
    forward(layer, a_prev, z, a)
    np.testing.assert_allclose(a[:, 0], np.tanh([0.25 - 1.0 + 0.5, 1.0 + 0.5]), rtol=1e-15)


def _hand_gradients(delta, a_prev):
    n = delta.shape[0]
    dW = sum(np.outer(delta[i], a_prev[i]) for i in range(n)) / n
    db = sum(delta[i] for i in range(n)) / n
    return dW, db


@pytest.mark.parametrize("n", [1, 2, 5])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("bias", [True, False])
def test_gradients_are_the_batch_mean_of_delta_times_a(n, order, bias):
    layer = _layer(3, 4, bias=bias)
    rng = np.random.default_rng(n)
    a_prev, delta = rng.normal(size=(n, 4)), rng.normal(size=(n, 3))
    keep = delta.copy()
    dW = np.empty((3, 4), order=order)
    db = np.empty(3) if bias else None
    scaled = np.empty_like(delta)
    gradients(layer, a_prev, delta, dW, db, scaled, np.full(n, 1.0 / n))
    want_W, want_b = _hand_gradients(keep, a_prev)
    np.testing.assert_allclose(dW, want_W, rtol=1e-13, atol=1e-15)
    if bias:
        np.testing.assert_allclose(db, want_b, rtol=1e-13, atol=1e-15)
    np.testing.assert_array_equal(delta, keep)  # the deltas stay per sample


def test_gradients_of_one_sample_need_no_scratch_array():
    """With ``n = 1`` the mean is the sample itself: nothing is scaled, ``scaled`` is unused."""
    layer = _layer(2, 3)
    a_prev, delta = np.array([[1.0, 2.0, -1.0]]), np.array([[0.5, -0.25]])
    dW, db = np.empty((2, 3)), np.empty(2)
    gradients(layer, a_prev, delta, dW, db, np.empty((0, 0)), np.ones(1))
    np.testing.assert_array_equal(dW, np.outer(delta[0], a_prev[0]))
    np.testing.assert_array_equal(db, delta[0])


@pytest.mark.parametrize("shared", [False, True])
def test_delta_rule_is_f_prime_times_W_transposed_delta(shared):
    layer = _layer(2, 3, seed=4)
    below = _layer(3, 4, "sigmoid", seed=5)
    rng = np.random.default_rng(6)
    n = 4
    z_below = rng.normal(size=(n, 3))
    a_below = 1 / (1 + np.exp(-z_below))
    delta = rng.normal(size=(n, 2))
    back = np.empty((n, 3))
    out = back if shared else np.empty((n, 3))
    got = delta_rule(layer, below, z_below, a_below, delta, back, out)
    for i in range(n):
        want = a_below[i] * (1 - a_below[i]) * (layer.W.T @ delta[i])
        np.testing.assert_allclose(got[i], want, rtol=1e-13, atol=1e-15)
        if not shared:
            np.testing.assert_allclose(back[i], layer.W.T @ delta[i], rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize("order", ["C", "F"])
def test_gradients_scale_the_deltas_into_the_scratch_array_given(order):
    """``Δ/n`` goes into ``scaled``, batch after batch: the call allocates no array of its own
    (a training workspace is made once; test_penalty.py counts bytes the same way)."""

    n, units, inputs = 256, 32, 16
    layer = _layer(units, inputs, order=order)
    rng = np.random.default_rng(7)
    a_prev, delta = rng.normal(size=(n, inputs)), rng.normal(size=(n, units))
    dW, db = np.empty((units, inputs), order=order), np.empty(units)
    scaled, mean = np.empty_like(delta), np.full(n, 1.0 / n)
    gradients(layer, a_prev, delta, dW, db, scaled, mean)  # warm-up
    np.testing.assert_allclose(scaled, delta / n, rtol=1e-15)
    tracemalloc.start()
    try:
        gradients(layer, a_prev, delta, dW, db, scaled, mean)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < delta.nbytes // 4, f"gradients allocated {peak} bytes"
