"""The backward pass against torch.autograd: every delta and every gradient, for random networks.

Networks of depth 1–5 and widths 1–6, every activation (softmax in hidden layers too), every
loss, with and without biases per layer, batches of 1 and of many, float64. The same function is
built in torch from the same weights (tests/netcases.py); deltas are read from ``z.grad`` with
``retain_grad``.
"""

import numpy as np
import pytest
import torch
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from netcases import (
    ACTIVATIONS,
    LOSSES,
    OUTPUT_ACTIVATIONS,
    SHORTCUT_PAIRS,
    NetCase,
    assert_close,
    net_cases,
    torch_reference,
    valid_for_loss,
)

import deltaprop as dp
from deltaprop.activations import softmax_jacobian
from deltaprop.losses import rows_sum_to_one


def check_against_torch(case: NetCase, use_shortcut: bool = True, drawn: bool = True) -> None:
    net, x, t, w = case.build()
    if drawn:
        assume(valid_for_loss(case, net, x))
    else:
        assert valid_for_loss(case, net, x), "fixed case has outputs in the clip region"
    ref = torch_reference(net, x, t, case.loss, w)
    fp = net.forward(x)
    for i, (z, z_ref) in enumerate(zip(fp.z, ref.z, strict=True), start=1):
        assert_close(z, z_ref, rtol=1e-12, what=f"z{i}")
    assert_close(fp.output, ref.output, rtol=1e-12, what="output")
    assert net.loss(x, t, case.loss, sample_weight=w) == pytest.approx(ref.loss, rel=1e-10)
    g = net.gradients(x, t, case.loss, use_shortcut=use_shortcut, sample_weight=w)
    assert len(g.deltas) == net.n_layers
    for i, (d, d_ref) in enumerate(zip(g.deltas, ref.deltas, strict=True), start=1):
        assert_close(d, d_ref, what=f"delta{i}")
    ours = g.as_dict()
    assert ours.keys() == ref.grads.keys()
    for name, grad in ours.items():
        assert_close(grad, ref.grads[name], what=name)


@given(net_cases())
def test_deltas_and_gradients_match_autograd(case):
    check_against_torch(case)


@given(net_cases())
@settings(max_examples=30)
def test_general_output_delta_matches_autograd(case):
    # use_shortcut=False forces J_fᵀ ∂J/∂o at the output even for the three fused pairs.
    check_against_torch(case, use_shortcut=False)


@given(net_cases(weighted=True, min_n=2))
@settings(max_examples=30)
def test_sample_weight_gradients_match_weighted_torch_loss(case):
    check_against_torch(case)


@pytest.mark.parametrize(("output", "loss"), SHORTCUT_PAIRS)
@given(data=st.data())
@settings(max_examples=20)
def test_shortcut_equals_general_chain_rule(output, loss, data):
    """δᴸ = o − t agrees with J_f(zᴸ)ᵀ ∂J/∂o for the three pairs the shortcut is valid for."""
    case = data.draw(net_cases(pair=(output, loss)))
    net, x, t, _ = case.build()
    assume(valid_for_loss(case, net, x))
    assert dp.get_loss(loss).has_shortcut(dp.get_activation(output))
    fast = net.gradients(x, t, loss, use_shortcut=True)
    slow = net.gradients(x, t, loss, use_shortcut=False)
    o = net.predict(x)
    if loss == "cross_entropy" and not rows_sum_to_one(t, exact=True):
        # rows summing to 1 only up to rounding: the exact o·Σt − t (o − t to ~1e-16)
        shortcut = o * t.sum(axis=1, keepdims=True) - t
    else:
        shortcut = o - t
    np.testing.assert_allclose(fast.deltas[-1], shortcut, rtol=0, atol=0)
    for d_fast, d_slow in zip(fast.deltas, slow.deltas, strict=True):
        assert_close(d_fast, d_slow)
    for name, grad in fast.as_dict().items():
        assert_close(grad, slow.as_dict()[name], what=name)


def test_shortcut_is_only_taken_for_the_three_pairs():
    pairs = {
        (a, loss)
        for a in ACTIVATIONS
        for loss in LOSSES
        if dp.get_loss(loss).has_shortcut(dp.get_activation(a))
    }
    assert pairs == set(SHORTCUT_PAIRS)


# Every (hidden activation, output activation, loss) combination, deterministically, so that
# coverage does not depend on what hypothesis happens to draw.
GRID = [
    (hidden, out, loss)
    for hidden in ACTIVATIONS
    for loss in LOSSES
    for out in OUTPUT_ACTIVATIONS[loss]
]


@pytest.mark.parametrize(("hidden", "output", "loss"), GRID)
def test_every_activation_and_loss_combination(hidden, output, loss):
    k = 3
    case = NetCase([4, 5, 3, k], [hidden, hidden, output], [True, False, True], loss, 6, seed=7)
    check_against_torch(case, drawn=False)
    check_against_torch(case, use_shortcut=False, drawn=False)


@given(st.integers(1, 8), st.integers(1, 6), st.integers(0, 2**32 - 1), st.sampled_from([1, 5, 30]))
@settings(max_examples=30)
def test_softmax_jacobian_matches_autograd(n, k, seed, spread):
    z = np.random.default_rng(seed).normal(0.0, spread, size=(n, k))
    a = dp.get_activation("softmax").forward(z)
    J = softmax_jacobian(a)
    assert J.shape == (n, k, k)
    for i in range(n):
        J_ref = torch.autograd.functional.jacobian(
            lambda v: torch.softmax(v, dim=0), torch.tensor(z[i])
        ).numpy()
        np.testing.assert_allclose(J[i], J_ref, rtol=1e-9, atol=1e-15)
