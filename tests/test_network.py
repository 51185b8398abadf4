"""Network's bookkeeping: θ as one live vector, rebuilt exactly when a layer's arrays were cut
from it; workspaces made once per batch size; copies in the dtype asked for.

The oracle is the documented contract, written out: θ = ``W1ᵀ, b1, W2ᵀ, …`` of the layers'
current values, and writing into θ changes the parameters.
"""

from __future__ import annotations

import copy
import warnings

import numpy as np
import pytest

import deltaprop as dp


def _theta(net):
    """θ from the layers' current arrays, in the documented layout."""
    parts = []
    for layer in net.layers:
        parts.append(np.asarray(layer.W).T.ravel())
        if layer.b is not None:
            parts.append(np.asarray(layer.b))
    return np.concatenate(parts)


def _net(bias=True, dtype=np.float64):
    return dp.Network.from_sizes([3, 4, 2], ["sigmoid", "identity"], bias=bias, seed=0,
                                 dtype=dtype)  # fmt: skip


def _is_live(net, flat):
    for layer in net.layers:
        assert layer.W.base is flat and (layer.b is None or layer.b.base is flat)
    flat[0] += 1.0
    assert net.layers[0].W[0, 0] == flat[0]


@pytest.mark.parametrize("bias", [True, False])
def test_flat_params_is_one_vector_kept_while_the_layers_hold_its_views(bias):
    net = _net(bias)
    flat = net.flat_params()
    assert net.flat_params() is flat  # nothing changed: no rebuild
    np.testing.assert_array_equal(flat, _theta(net))
    _is_live(net, flat)
    assert net.flat_params() is flat


def test_flat_params_rebuilds_after_a_weight_matrix_is_replaced():
    net = _net()
    old = net.flat_params()
    net.layers[1].W = np.full((2, 4), 0.5)  # a new array; b2 still a view of θ
    flat = net.flat_params()
    assert flat is not old
    np.testing.assert_array_equal(flat, _theta(net))
    assert np.all(flat[16:24] == 0.5)  # W2ᵀ follows W1ᵀ (12) and b1 (4)
    _is_live(net, flat)


def test_flat_params_rebuilds_after_a_bias_is_replaced():
    net = _net()
    old = net.flat_params()
    net.layers[0].b = np.array([1.0, 2.0, 3.0, 4.0])  # W1 still a view of θ
    flat = net.flat_params()
    assert flat is not old
    np.testing.assert_array_equal(flat[12:16], [1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(flat, _theta(net))
    _is_live(net, flat)


def test_flat_params_of_a_deep_copy_is_the_copy_s_own_vector():
    net = _net()
    twin = copy.deepcopy(net)  # deepcopy cuts the views from the vector
    flat = twin.flat_params()
    np.testing.assert_array_equal(flat, _theta(net))
    _is_live(twin, flat)
    assert net.layers[0].W[0, 0] != twin.layers[0].W[0, 0]  # the original is untouched


def test_workspace_is_made_once_per_batch_size_and_layout():
    net = _net()
    ws = net.workspace(4)
    assert net.workspace(4) is ws
    assert ws.keep_all is False and ws.forward.a[1] is ws.forward.z[0]  # sigmoid: a over z
    kept = net.workspace(4, keep_all=True)
    assert kept is not ws and kept.keep_all and net.workspace(4, keep_all=True) is kept
    assert net.workspace(5) is not ws and net.workspace(5).n == 5


def test_workspace_is_remade_when_the_first_layer_changes_shape():
    net = _net()
    ws = net.workspace(2)
    net.layers[0].W = np.ones((4, 5))  # five inputs now
    again = net.workspace(2)
    assert again is not ws and again.x.shape == (2, 5)
    assert again.gradients.weights[0].shape == (4, 5)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize(("src", "dst"), [(np.float64, np.float32), (np.float32, np.float64)])
def test_astype_and_copy_keep_every_value_in_the_new_dtype(bias, src, dst):
    net = _net(bias, src)
    other = net.astype(dst)
    assert other.dtype == np.dtype(dst)
    for a, b in zip(net.layers, other.layers, strict=True):
        assert b.W.dtype == np.dtype(dst)
        np.testing.assert_array_equal(b.W, a.W.astype(dst))
        assert (b.b is None) == (not bias)
        if bias:
            assert b.b.dtype == np.dtype(dst)
            np.testing.assert_array_equal(b.b, a.b.astype(dst))
    twin = net.copy()
    assert twin.dtype == np.dtype(src)
    np.testing.assert_array_equal(twin.flat_params(), net.flat_params())
    twin.flat_params()[0] += 1.0
    assert twin.flat_params()[0] != net.flat_params()[0]


def test_repr_names_sizes_activations_and_dtype():
    net = dp.Network.from_sizes([3, 4, 2], ["tanh", "softmax"], seed=0, dtype=np.float32)
    assert repr(net) == "Network(sizes=[3, 4, 2], activations=[tanh, softmax], dtype=float32)"


def test_workspace_of_a_float32_network_is_float32():
    ws = _net(dtype=np.float32).workspace(3)
    arrays = [ws.x, ws.t, ws.flat_grads, ws.gradients.mean, *ws.gradients.deltas, *ws.forward.z]
    assert {a.dtype for a in arrays} == {np.dtype(np.float32)}


def test_from_sizes_defaults_to_sigmoid_layers():
    net = dp.Network.from_sizes([2, 3, 1], seed=0)
    assert [layer.activation.name for layer in net.layers] == ["sigmoid", "sigmoid"]


@pytest.mark.parametrize(("act", "limit"), [("relu", "he"), ("elu", "he"), ("tanh", "glorot")])
def test_from_sizes_draws_the_default_initialiser_of_the_activation(act, limit):
    """He uniform (``r = √(6/fan_in)``) for the ReLU family, Glorot uniform
    (``r = √(6/(fan_in + fan_out))``) otherwise; biases start at zero. Redrawn here by hand."""
    net = dp.Network.from_sizes([5, 3], act, seed=11)
    r = np.sqrt(6 / 5) if limit == "he" else np.sqrt(6 / (5 + 3))
    want = np.random.default_rng(11).uniform(-r, r, size=(3, 5))
    np.testing.assert_array_equal(net.layers[0].W, want)
    np.testing.assert_array_equal(net.layers[0].b, np.zeros(3))


@pytest.mark.parametrize("name", ["bias", "init", "activations"])
def test_from_sizes_names_the_per_layer_argument_of_the_wrong_length(name):
    value = {"bias": [True], "init": ["zeros"], "activations": ["tanh"]}[name]
    with pytest.raises(ValueError) as err:
        dp.Network.from_sizes([2, 3, 1], **{name: value})
    assert str(err.value) == f"{name} has 1 entries, expected one per layer (2)"


def test_gradients_pass_use_shortcut_on():
    """Sigmoid + log loss at ``z = 40``: ``o`` rounds to 1, so the general chain rule
    ``∂J/∂o · σ′(z) = (o − t)/(c(1 − c)) · o(1 − o)`` (``c`` = o clipped to 1 − ε) is 0, while the
    shortcut ``o − t`` is 1. ``use_shortcut=False`` must reach the backward pass."""
    net = dp.Network.from_weights([[[1.0]]], [[0.0]], "sigmoid")
    x, t = np.array([[40.0]]), np.array([[0.0]])
    o = 1 / (1 + np.exp(-40.0))
    assert o == 1.0
    c = 1 - np.finfo(np.float64).eps
    general = (o - 0.0) / (c * (1 - c)) * (o * (1 - o))
    assert net.gradients(x, t, "log_loss").deltas[-1][0, 0] == o - 0.0
    assert net.gradients(x, t, "log_loss", use_shortcut=False).deltas[-1][0, 0] == general == 0.0


def test_from_weights_takes_a_bias_written_as_a_row_or_a_column():
    """``bˡ`` given as ``[[b₁, b₂]]`` or ``[[b₁], [b₂]]`` is the vector ``(b₁, b₂)``."""
    W = [[1.0, 0.0], [0.0, 1.0]]
    for b in ([[0.5, -0.5]], [[0.5], [-0.5]]):
        net = dp.Network.from_weights([W], [b], "identity")
        np.testing.assert_array_equal(net.layers[0].b, [0.5, -0.5])
        np.testing.assert_array_equal(net.predict([[1.0, 2.0]]), [[1.5, 1.5]])


def test_check_target_reads_a_1d_target_by_the_number_of_outputs():
    """One output: a 1-D target is a column (one value per sample). Several: it is one sample."""
    one = dp.Network.from_sizes([2, 1], "identity", seed=0, dtype=np.float32)
    t = one.check_target([1.0, 2.0, 3.0], 3)
    assert t.shape == (3, 1) and t.dtype == np.float32
    np.testing.assert_array_equal(t[:, 0], [1.0, 2.0, 3.0])
    two = dp.Network.from_sizes([2, 2], "identity", seed=0)
    t = two.check_target([0.25, 0.75], 1)
    assert t.shape == (1, 2) and t.dtype == np.float64
    with pytest.raises(ValueError) as err:
        two.check_target([0.25, 0.75], 2)
    assert str(err.value) == "target has shape (1, 2), expected (2, 2) to match the output"


def _overflowing():
    """``z¹ = (10x, −10x)`` overflows to ``(∞, −∞)`` for ``x = 1e308``; ``z² = ∞ + (−∞)`` is NaN."""
    return dp.Network.from_weights([[[10.0], [-10.0]], [[1.0, 1.0]]], [[0, 0], [0]], "identity")


@pytest.mark.parametrize("raised", ["over", "invalid"])
def test_predict_reports_overflow_as_one_error_whatever_the_floating_point_settings(raised):
    """Inside ``np.errstate(...='raise')`` the overflow and the NaN it makes are still reported
    by predict's own message, not by NumPy's FloatingPointError halfway through."""
    x = np.array([[1e308], [1.0]] * 6)  # rows 0, 2, …, 10 overflow
    with np.errstate(**{raised: "raise"}), pytest.raises(OverflowError) as err:
        _overflowing().predict(x)
    assert str(err.value) == (
        "the network's output is not finite for 6 of 12 rows (rows 0, 2, 4, 6, 8, 10): their "
        "inputs are too large for float64 arithmetic (it overflows near 1.8e+308); scale the inputs"
    )


@pytest.mark.parametrize("bad", [10, 11, 12])
def test_predict_lists_at_most_ten_bad_rows(bad):
    x = np.ones((12, 1))
    x[:bad] = 1e308
    with pytest.raises(OverflowError) as err:
        _overflowing().predict(x)
    more = " …" if bad > 10 else ""  # an ellipsis exactly when rows go unlisted
    assert f"for {bad} of 12 rows (rows 0, 1, 2, 3, 4, 5, 6, 7, 8, 9{more}):" in str(err.value)


def test_predict_names_a_bad_batch_size():
    with pytest.raises(ValueError) as err:
        _net().predict([[1.0, 2.0, 3.0]], batch_size=0)
    assert str(err.value) == "Invalid batch_size: 0 (expected >= 1)"


def test_float32_predict_computes_in_float32():
    """predict's hidden buffers are float32 like forward's: the outputs agree bit for bit."""
    rng = np.random.default_rng(5)
    net = dp.Network.from_sizes([6, 16, 16, 3], "tanh", seed=5, dtype=np.float32)
    x = rng.normal(size=(40, 6)).astype(np.float32)
    np.testing.assert_array_equal(net.predict(x), net.forward(x).output)


def test_predict_names_the_float32_limit_for_a_float32_network():
    net = _overflowing().astype(np.float32)
    with pytest.raises(OverflowError) as err:
        net.predict(np.array([[1e38]], dtype=np.float32))
    assert str(err.value).endswith(
        "too large for float32 arithmetic (it overflows near 3.4e+38); scale the inputs"
    )


def test_backward_takes_the_shortcut_by_default():
    """The saturated sigmoid + log loss of the test above: δ = o − t = 1 by default."""
    net = dp.Network.from_weights([[[1.0]]], [[0.0]], "sigmoid")
    fp = net.forward([[40.0]])
    assert net.backward(fp, [[0.0]], "log_loss").deltas[-1][0, 0] == 1.0
    assert net.backward(fp, [[0.0]], "log_loss", use_shortcut=False).deltas[-1][0, 0] == 0.0


def test_backward_scale_deltas_is_deprecated_and_ignored():
    net, x = _net(), np.ones((2, 3))
    t = np.zeros((2, 2))
    plain = net.backward(net.forward(x), t, "squared_error").as_dict()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net.backward(net.forward(x), t, "squared_error")  # no warning without it
        assert caught == []
        for value in (True, False):
            got = net.backward(net.forward(x), t, "squared_error", scale_deltas=value)
            for k, g in got.as_dict().items():
                np.testing.assert_array_equal(g, plain[k])
    assert len(caught) == 2
    for w in caught:
        assert w.category is DeprecationWarning
        assert str(w.message) == (
            "backward(scale_deltas=...) is deprecated and has no effect: deltas are per sample "
            "and the batch mean's 1/n enters the gradients"
        )


def test_fresh_gradients_keep_each_W_transposed_delta_apart():
    """``back[l-1] = (Wˡ⁺¹)ᵀ δˡ⁺¹`` per sample, kept beside the deltas in fresh arrays."""
    net = _net()
    x, t = np.random.default_rng(8).normal(size=(3, 3)), np.zeros((3, 2))
    g = net.gradients(x, t, "squared_error")
    assert g.back is not None and g.back[-1] is None
    np.testing.assert_allclose(g.back[0], g.deltas[1] @ net.layers[1].W, rtol=1e-13, atol=1e-15)
    a1 = net.forward(x).a[1]
    np.testing.assert_allclose(g.deltas[0], g.back[0] * a1 * (1 - a1), rtol=1e-13, atol=1e-15)


def test_backward_passes_on_a_check_of_the_targets(monkeypatch):
    import deltaprop.losses as losses

    calls = []
    real = losses.rows_sum_to_one
    monkeypatch.setattr(losses, "rows_sum_to_one", lambda t, exact=False: calls.append(1) or
                        real(t, exact))  # fmt: skip
    net = dp.Network.from_sizes([3, 3], "softmax", seed=0)
    x, t = np.ones((2, 3)), np.eye(3)[[0, 2]]
    net.backward(net.forward(x), t, "cross_entropy", target_rows_sum_to_one=True)
    assert calls == []
    net.backward(net.forward(x), t, "cross_entropy")
    assert calls == [1]


def test_backward_into_a_workspace_scales_the_deltas_into_its_buffers():
    """The gradients' ``Δ/n`` goes into the workspace's ``scaled``: no batch-sized array per call.
    (One layer: the delta rule's ``f′`` of a hidden layer still takes a temporary, see
    ``Activation.vjp``.)"""
    import tracemalloc

    net = dp.Network.from_sizes([16, 32], "identity", seed=0)
    ws = net.workspace(256)
    ws.x[...] = np.random.default_rng(0).normal(size=ws.x.shape)
    ws.t[...] = 0.0
    fp = net.forward(ws.x, ws)
    net.backward(fp, ws.t, "squared_error", ws)  # warm-up
    tracemalloc.start()
    try:
        net.backward(fp, ws.t, "squared_error", ws)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < ws.gradients.deltas[0].nbytes // 4, f"backward allocated {peak} bytes"


def test_a_network_without_layers_is_refused_by_name():
    with pytest.raises(ValueError) as err:
        dp.Network([])
    assert str(err.value) == "a network needs at least one layer"


def test_a_training_workspace_backward_allocates_no_batch_sized_array():
    """The delta rule's (Wˡ⁺¹)ᵀ δˡ⁺¹ goes into a workspace buffer, so even an activation whose f′
    needs its own array (sigmoid, tanh) makes no (n × units) temporary per batch."""
    import tracemalloc

    net = dp.Network.from_sizes([20, 64, 64, 3], ["sigmoid", "tanh", "softmax"], seed=0)
    rng = np.random.default_rng(0)
    ws = net.workspace(256)
    ws.x[...] = rng.normal(size=(256, 20))
    ws.t[...] = np.eye(3)[rng.integers(0, 3, 256)]
    fp = net.forward(ws.x, ws)
    first = [d.copy() for d in net.backward(fp, ws.t, "cross_entropy", ws).deltas]
    tracemalloc.start()
    g = net.backward(fp, ws.t, "cross_entropy", ws)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 256 * 64 * 8 // 2  # well under one (256 × 64) float64 array (131 kB)
    fresh = net.gradients(ws.x, ws.t, "cross_entropy")  # and the same numbers as fresh arrays
    for a, b, c in zip(g.deltas, fresh.deltas, first, strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


# --- Network(layers, dtype): the dtype, and the checks of each layer -----------------------------


def _dense(W, b=None, act="identity"):
    return dp.Dense(np.asarray(W), None if b is None else np.asarray(b), dp.get_activation(act))


def test_a_network_is_made_in_the_dtype_given():
    """``dtype`` given: every W, b and θ are converted to it, whatever the layers held."""
    net = dp.Network([_dense([[1.0, 2.0]], [0.5])], dtype=np.float32)  # float64 arrays
    assert net.dtype == np.dtype(np.float32)
    assert {a.dtype for a in (net.layers[0].W, net.layers[0].b, net.flat_params())} == {
        np.dtype(np.float32)
    }
    np.testing.assert_array_equal(net.flat_params(), np.array([1.0, 2.0, 0.5], np.float32))


@pytest.mark.parametrize("n_layers", [1, 2])
def test_a_network_without_a_dtype_takes_that_of_W1(n_layers):
    """No ``dtype``: the network's is ``W1``'s (float32 here; a float64 ``W2`` is converted)."""
    layers = [_dense(np.ones((2, 2), np.float32)), _dense(np.ones((1, 2)))][:n_layers]
    net = dp.Network(layers)
    assert net.dtype == np.dtype(np.float32)
    assert {layer.W.dtype for layer in net.layers} == {np.dtype(np.float32)}


def test_a_weight_matrix_that_is_not_2d_is_refused_by_name():
    with pytest.raises(ValueError) as err:
        dp.Network([_dense([[1.0, 2.0]]), _dense([1.0])])
    assert str(err.value) == "W2 must be 2-D (units × inputs), got shape (1,)"


@pytest.mark.parametrize(
    ("W", "b"),
    [([[np.nan, 1.0]], None), ([[1.0, np.inf]], [0.0]), ([[1.0, 1.0]], [-np.inf])],
    ids=["W-no-bias", "W-finite-bias", "b"],
)
def test_a_layer_with_nan_or_infinite_weights_is_refused(W, b):
    """A non-finite entry of ``W`` alone, or of ``b`` alone, is enough."""
    with pytest.raises(ValueError) as err:
        dp.Network([_dense([[1.0, 1.0], [1.0, 1.0]]), _dense(W, b)])
    assert str(err.value) == "layer 2 has NaN or infinite weights"


@pytest.mark.parametrize("where", ["W", "b"])
def test_weights_that_overflow_the_network_dtype_are_refused(where):
    """1e39 is finite in float64 but beyond float32's largest (3.4e38): in a float32 network it
    is ∞, checked after the conversion; the error alone, not NumPy's overflow warning first."""
    W, b = ([[1e39]], [0.0]) if where == "W" else ([[1.0]], [1e39])
    with warnings.catch_warnings(), pytest.raises(ValueError) as err:
        warnings.simplefilter("error")
        dp.Network([_dense(W, b)], dtype=np.float32)
    assert str(err.value) == "layer 1 has NaN or infinite weights"


def test_summary_counts_the_weights_and_biases_of_each_layer():
    """2 → 3 → 1, a bias on the first layer only: 3·2 + 3 = 9 and 1·3 + 0 = 3, 12 in all."""
    net = dp.Network.from_weights([np.ones((3, 2)), np.ones((1, 3))], [np.zeros(3), None],
                                  ["tanh", "identity"])  # fmt: skip
    s = net.summary()
    assert s.rows == [
        {"layer": 1, "units": 3, "activation": "tanh", "weights": 6, "biases": 3, "parameters": 9},
        {"layer": 2, "units": 1, "activation": "identity", "weights": 3, "biases": 0,
         "parameters": 3},
    ]  # fmt: skip
    assert (s.total, s.inputs, s.dtype) == (12, 2, "float64")


# --- predict: batch_size rows at a time, and no finiteness pass when not asked -----------------


@pytest.mark.parametrize(
    ("n", "batch_size", "chunks"),
    [
        (10, 4, [4, 4, 2]),
        (3, 1, [1, 1, 1]),
        (5, None, [5]),
        (5, 8, [5]),
        (4097, "default", [4096, 1]),
    ],
)
def test_predict_runs_batch_size_rows_at_a_time(monkeypatch, n, batch_size, chunks):
    """``batch_size`` rows per forward pass (the last one what is left; None: all rows at once;
    the default 4096), every layer once per pass; the outputs are ``x W¹ᵀ + b¹`` then ``W²``."""
    import deltaprop.layers as layers

    calls, real = [], layers.forward
    monkeypatch.setattr(layers, "forward", lambda ly, a, z, out: calls.append(a.shape[0]) or
                        real(ly, a, z, out))  # fmt: skip
    net = dp.Network.from_weights([[[2.0], [-1.0]], [[1.0, 3.0]]], [[0.5, 0.0], None], "identity")
    x = np.arange(n, dtype=np.float64)[:, None]
    kwargs = {} if batch_size == "default" else {"batch_size": batch_size}
    out = net.predict(x, **kwargs)
    assert calls == [rows for rows in chunks for _ in range(2)]
    np.testing.assert_array_equal(out, (2 * x + 0.5) + 3 * (-x))  # small integers: exact


def test_predict_without_check_finite_makes_no_finiteness_pass():
    """``check_finite=False`` skips the check, and its (n,) boolean temporaries: predict then
    allocates the output and nothing batch-sized besides."""
    import tracemalloc

    net = dp.Network.from_weights([[[2.0]]], [[0.5]], "identity")
    x = np.ones((100_000, 1))
    net.predict(x, batch_size=None, check_finite=False)  # warm-up
    tracemalloc.start()
    try:
        out = net.predict(x, batch_size=None, check_finite=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(out, np.full((100_000, 1), 2.5))
    assert peak < out.nbytes + x.shape[0] // 4, f"predict allocated {peak - out.nbytes} more bytes"


def test_backward_s_deprecation_warning_names_the_caller(monkeypatch):
    """``stacklevel=2``: the warning points at the line that called ``backward``. (Asserted on the
    argument: under mutmut a trampoline sits between the caller and ``backward``'s body, so the
    reported file is not this one there; see docs/testing.md.)"""
    seen = []
    monkeypatch.setattr(warnings, "warn", lambda *args, **kwargs: seen.append(kwargs))
    net = _net()
    net.backward(net.forward(np.ones((1, 3))), np.zeros((1, 2)), "squared_error", scale_deltas=True)
    assert seen == [{"stacklevel": 2}]


def test_predict_names_a_nan_in_a_memmap_instead_of_calling_it_an_overflow(tmp_path):
    """A memmap is not scanned on the way in (it may not fit in memory); when an output row is
    not finite, predict looks for the NaN and names it, rather than blaming large inputs."""
    path = tmp_path / "x.f64"
    on_disk = np.memmap(path, dtype=np.float64, mode="w+", shape=(4, 2))
    on_disk[:] = 1.0
    on_disk[2, 1] = np.inf
    on_disk.flush()
    x = np.memmap(path, dtype=np.float64, mode="r", shape=(4, 2))
    net = dp.Network.from_weights([np.ones((1, 2))], [np.zeros(1)], "identity")
    with pytest.raises(ValueError) as info:
        net.predict(x)
    assert str(info.value) == "x contains NaN or infinity (first at index [2, 1])"
    big = np.full((3, 2), 1e308)  # finite inputs whose sum overflows: the rows are named
    with pytest.raises(OverflowError) as info:
        net.predict(big)
    assert str(info.value) == (
        "the network's output is not finite for 3 of 3 rows (rows 0, 1, 2): their inputs are too "
        "large for float64 arithmetic (it overflows near 1.8e+308); scale the inputs"
    )
