"""Where the arrays live (:mod:`deltaprop.buffers`): θ's layout, the views, the buffers' shapes.

The oracle is the documented layout, written out by hand: θ = ``W1ᵀ`` row-major, ``b1``,
``W2ᵀ``, ``b2``, …; ``a`` shares ``z``'s array exactly where the activation's derivative reads
only ``a`` and the buffers are not asked to keep everything; ``mean`` is the row ``(1/n) 1ᵀ``.
"""

from __future__ import annotations

import numpy as np
import pytest

from deltaprop.activations import get_activation
from deltaprop.buffers import (
    flat_size,
    flat_views,
    forward_buffers,
    gradient_buffers,
    pack,
    workspace,
)
from deltaprop.layers import Dense


def _layers(bias=(True, False, True)):
    """Three layers 2 → 3 → 4 → 1; W's entries count up so that the layout can be read off."""
    sizes = [2, 3, 4, 1]
    acts = ["sigmoid", "relu", "identity"]
    out, start = [], 1.0
    for i, has_b in enumerate(bias):
        units, inputs = sizes[i + 1], sizes[i]
        W = np.arange(start, start + units * inputs).reshape(units, inputs)
        start += units * inputs
        b = -np.arange(1.0, units + 1) * (i + 1) if has_b else None
        out.append(Dense(W, b, get_activation(acts[i])))
    return out


def test_flat_size_counts_every_weight_and_bias():
    assert flat_size(_layers()) == (3 * 2 + 3) + 4 * 3 + (1 * 4 + 1)
    assert flat_size(_layers((False, False, False))) == 6 + 12 + 4


def test_pack_lays_theta_out_as_W_transposed_then_b_layer_by_layer():
    layers = _layers()
    originals = [(ly.W.copy(), None if ly.b is None else ly.b.copy()) for ly in layers]
    flat, views = pack(layers, np.dtype(np.float64))
    want = np.concatenate(
        [np.concatenate([W.T.ravel()] + ([] if b is None else [b])) for W, b in originals]
    )
    np.testing.assert_array_equal(flat, want)
    for layer, (W, b), (W0, b0) in zip(layers, views, originals, strict=True):
        assert layer.W is W and layer.b is b  # the layers now hold the views
        assert W.base is flat and W.flags.f_contiguous and W.shape == W0.shape
        np.testing.assert_array_equal(W, W0)
        if b0 is None:
            assert b is None
        else:
            assert b.base is flat
            np.testing.assert_array_equal(b, b0)
    flat[0] = 100.0  # a live view: θ's first number is W1[0, 0]
    assert layers[0].W[0, 0] == 100.0


def test_pack_converts_to_the_dtype_asked_for():
    flat, _ = pack(_layers(), np.dtype(np.float32))
    assert flat.dtype == np.float32


def test_flat_views_of_another_vector_follow_the_same_layout():
    layers = _layers((True, True, False))
    flat = np.arange(float(flat_size(layers)))
    (W1, b1), (W2, b2), (W3, b3) = flat_views(flat, layers)
    np.testing.assert_array_equal(W1.T.ravel(), np.arange(0.0, 6.0))
    np.testing.assert_array_equal(b1, [6.0, 7.0, 8.0])
    np.testing.assert_array_equal(W2.T.ravel(), np.arange(9.0, 21.0))
    np.testing.assert_array_equal(b2, [21.0, 22.0, 23.0, 24.0])
    np.testing.assert_array_equal(W3.T.ravel(), np.arange(25.0, 29.0))
    assert b3 is None


@pytest.mark.parametrize("keep_all", [False, True])
def test_forward_buffers_share_z_and_a_only_where_f_prime_reads_a(keep_all):
    layers = _layers()  # sigmoid (f′ from a), relu (from a), identity
    x = np.zeros((5, 2), dtype=np.float32)
    fp = forward_buffers(layers, x, keep_all)
    assert fp.a[0] is x and len(fp.z) == 3 and len(fp.a) == 4
    for i, layer in enumerate(layers):
        assert fp.z[i].shape == (5, layer.units) and fp.z[i].dtype == np.float32
        assert fp.a[i + 1].shape == (5, layer.units) and fp.a[i + 1].dtype == np.float32
        shared = layer.activation.derivative_from_output and not keep_all
        assert (fp.a[i + 1] is fp.z[i]) == shared
    assert fp.output is fp.a[-1]


def test_forward_buffers_keep_z_apart_for_an_activation_whose_derivative_reads_z():
    layer = Dense(np.ones((2, 2)), None, get_activation("silu"))
    assert not layer.activation.derivative_from_output
    fp = forward_buffers([layer], np.zeros((3, 2)))
    assert fp.a[1] is not fp.z[0]


@pytest.mark.parametrize("n", [1, 4])
@pytest.mark.parametrize("keep_all", [False, True])
def test_gradient_buffers_shapes_layout_and_the_mean_row(n, keep_all):
    layers = _layers()
    g = gradient_buffers(layers, n, np.dtype(np.float64), keep_all)
    assert g.delta_scale == 1.0
    assert g.flat.shape == (flat_size(layers),)
    np.testing.assert_array_equal(g.flat, 0.0)  # zeros, not whatever memory held
    assert [d.shape for d in g.deltas] == [(n, 3), (n, 4), (n, 1)]
    assert [w.shape for w in g.weights] == [(3, 2), (4, 3), (1, 4)]
    assert [None if b is None else b.shape for b in g.biases] == [(3,), None, (1,)]
    for gW, gb in zip(g.weights, g.biases, strict=True):
        assert gW.base is g.flat and (gb is None or gb.base is g.flat)
    if keep_all:
        assert [None if b is None else b.shape for b in g.back] == [(n, 3), (n, 4), None]
        assert g.back[0] is not g.deltas[0]
    else:
        assert g.back is None
    assert [s.shape for s in g.scaled] == ([] if n == 1 else [(n, 3), (n, 4), (n, 1)])
    np.testing.assert_array_equal(g.mean, np.full(n, 1.0 / n))
    assert g.mean.dtype == np.float64
    assert list(g.as_dict()) == ["W1", "b1", "W2", "W3", "b3"]
    assert g.as_dict()["W2"] is g.weights[1]


def test_gradient_buffers_keep_all_by_default():
    g = gradient_buffers(_layers(), 2, np.dtype(np.float64))
    assert g.back is not None


def test_workspace_holds_the_batch_and_both_passes():
    layers = _layers()
    ws = workspace(layers, 6, np.dtype(np.float32))
    assert ws.n == 6 and ws.keep_all is False
    assert ws.x.shape == (6, 2) and ws.t.shape == (6, 1)
    assert ws.x.dtype == ws.t.dtype == np.float32
    assert ws.forward.a[0] is ws.x
    assert ws.forward.a[1] is ws.forward.z[0]  # sigmoid: a written over z
    assert ws.gradients.back is None
    assert ws.flat_grads is ws.gradients.flat
    assert list(ws.grads_by_name) == ["W1", "b1", "W2", "W3", "b3"]
    assert ws.grads_by_name["b3"] is ws.gradients.biases[2]
    kept = workspace(layers, 6, np.dtype(np.float64), keep_all=True)
    assert kept.keep_all is True and kept.gradients.back is not None
    assert kept.forward.a[1] is not kept.forward.z[0]


def test_forward_buffers_share_by_default():
    fp = forward_buffers(_layers(), np.zeros((2, 2)))
    assert fp.a[1] is fp.z[0]  # keep_all defaults to False: the training loop's layout


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_every_gradient_buffer_has_the_dtype_asked_for(dtype):
    """float32 training must not compute its deltas, the mean row or the gradients in float64."""
    for g in (
        gradient_buffers(_layers(), 3, np.dtype(dtype)),
        workspace(_layers(), 3, np.dtype(dtype)).gradients,
    ):
        arrays = [g.flat, g.mean, *g.deltas, *g.scaled, *(b for b in g.back or [] if b is not None)]
        assert {a.dtype for a in arrays} == {np.dtype(dtype)}
