"""The speed work's code paths: θ as one flat vector, flat optimizer updates, folded 1/n, memmaps.

Each fast path is checked against the plain one it replaces (per-parameter updates, fresh
``backward`` arrays, float64, in-memory data), never against a clock.
"""

import contextlib
import copy
import pickle
import tracemalloc

import numpy as np
import pytest

import deltaprop as dp
from deltaprop import _blas, _fused
from deltaprop.optimizers import SGD, copy_state, flat_span
from deltaprop.training import prepare_targets


def _net(dtype=np.float64, seed=0, sizes=(5, 7, 4, 3), acts=("relu", "tanh", "softmax")):
    return dp.Network.from_sizes(list(sizes), list(acts), seed=seed, dtype=dtype)


def _data(n=40, d=5, k=3, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.integers(0, k, size=n)


def test_params_are_views_of_one_flat_vector_in_order():
    net = _net()
    flat = net.flat_params()
    params = net.params()
    assert list(params) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    assert flat.size == sum(p.size for p in params.values())
    assert all(np.shares_memory(p, flat) for p in params.values())
    assert flat_span(list(params.values())) is not None
    # W keeps its (units, inputs) shape; it is stored transposed (F-contiguous).
    assert params["W1"].shape == (7, 5) and params["W1"].flags.f_contiguous
    flat[:] = np.arange(flat.size)
    assert params["W1"][0, 0] == 0 and params["W1"][1, 0] == 1  # Wᵀ row-major
    assert params["b1"][0] == 35
    assert params["b3"][-1] == flat.size - 1


def test_set_weights_writes_through_the_flat_vector():
    net = _net()
    before = net.params()
    new = {k: np.full(v.shape, i + 0.5) for i, (k, v) in enumerate(before.items())}
    net.set_weights(new)
    after = net.params()
    assert all(after[k] is before[k] for k in before)  # the same live arrays
    flat = net.flat_params()
    for k, v in new.items():
        np.testing.assert_array_equal(after[k], v)
        assert np.shares_memory(after[k], flat)
    assert flat.sum() == pytest.approx(sum(v.sum() for v in new.values()))


def test_copy_and_astype_have_their_own_flat_vectors():
    net = _net()
    for other in (net.copy(), net.astype(np.float32)):
        assert not np.shares_memory(other.flat_params(), net.flat_params())
        for k, v in other.params().items():
            np.testing.assert_allclose(v, net.params()[k], rtol=1e-6)
            assert np.shares_memory(v, other.flat_params())
        other.flat_params()[:] = 0
        assert np.abs(net.flat_params()).sum() > 0
    assert net.astype(np.float32).flat_params().dtype == np.float32


def test_a_replaced_W_is_packed_back_into_the_flat_vector():
    net = _net()
    W = np.ones((7, 5))
    net.layers[0].W = W
    flat = net.flat_params()
    assert net.layers[0].W is not W
    np.testing.assert_array_equal(net.layers[0].W, W)
    assert np.shares_memory(net.layers[0].W, flat)
    # and training then updates the new values
    x, y = _data()
    net.fit(x, y, optimizer="sgd", learning_rate=0.1, epochs=1, batch_size=8, seed=0)
    assert not np.array_equal(net.layers[0].W, W)
    assert np.shares_memory(net.layers[0].W, net.flat_params())


@pytest.mark.parametrize("clone", [copy.deepcopy, lambda net: pickle.loads(pickle.dumps(net))])
def test_deepcopied_and_unpickled_networks_get_their_flat_vector_back(clone):
    net = _net()
    other = clone(net)
    flat = other.flat_params()
    assert not np.shares_memory(flat, net.flat_params())
    for k, v in other.params().items():
        assert np.shares_memory(v, flat)
        np.testing.assert_array_equal(v, net.params()[k])
    x, y = _data()
    a = other.fit(x, y, optimizer="adam", epochs=1, batch_size=8, seed=0)
    b = net.fit(x, y, optimizer="adam", epochs=1, batch_size=8, seed=0)
    assert a.loss == b.loss
    np.testing.assert_array_equal(other.flat_params(), net.flat_params())


def test_workspace_backward_equals_fresh_backward():
    """One backward, two places for its arrays: the training workspace (a over z, the delta rule
    in place) gives the fresh arrays' numbers bit for bit."""
    net = _net()
    x, y = _data(n=6)
    t = prepare_targets(net, y, 6)
    fresh = net.gradients(x, t, "cross_entropy")
    ws = net.workspace(6)
    ws.x[...] = x
    ws.t[...] = t
    fp = net.forward(ws.x, ws)
    g = net.backward(fp, ws.t, "cross_entropy", ws)
    assert g.delta_scale == 1.0
    for a, b in zip(g.weights + g.biases, fresh.weights + fresh.biases, strict=True):
        np.testing.assert_array_equal(a, b)
        assert np.shares_memory(a, ws.flat_grads)
    for d, d_fresh in zip(g.deltas, fresh.deltas, strict=True):
        np.testing.assert_array_equal(d, d_fresh)
    # backward overwrites: a second call gives the same gradients
    first = ws.flat_grads.copy()
    net.backward(fp, ws.t, "cross_entropy", ws)
    np.testing.assert_array_equal(ws.flat_grads, first)
    with pytest.warns(DeprecationWarning, match="scale_deltas"):
        net.backward(fp, ws.t, "cross_entropy", ws, scale_deltas=True)
    np.testing.assert_array_equal(ws.flat_grads, first)


OPTIMIZERS = [
    ("sgd", {}),
    ("momentum", {}),
    ("nesterov", {"weight_decay": 0.01}),
    ("adagrad", {}),
    ("adadelta", {}),
    ("rmsprop", {"centered": True, "momentum": 0.5}),
    ("adam", {}),
    ("adam", {"weight_decay": 0.1}),
    ("adamw", {}),
]


@pytest.mark.parametrize("blas", [True, False], ids=["blas", "no-blas"])
@pytest.mark.parametrize(("name", "settings"), OPTIMIZERS)
def test_flat_update_equals_the_per_parameter_update_exactly(name, settings, blas):
    with contextlib.nullcontext() if blas else _blas.disabled():
        # With the compiled loops installed (the test extra), only the SGD family updates
        # through BLAS level 1; Adam does too without them.
        through_blas = isinstance(dp.get_optimizer(name), SGD) or _fused.kernels() is None
        _flat_equals_loose(name, settings, fused_multiply_add=blas and through_blas)


def _flat_equals_loose(name, settings, fused_multiply_add=False):
    net = _net()
    x, y = _data(n=8)
    t = prepare_targets(net, y, 8)
    ws = net.workspace(8)
    ws.x[...] = x
    ws.t[...] = t
    flat_opt = dp.get_optimizer(name, **settings)
    loose_opt = dp.get_optimizer(name, **settings)
    params = net.params()
    loose = {k: np.array(v, order="C") for k, v in params.items()}  # separate arrays
    flat_state = flat_opt.init(params)
    loose_state = loose_opt.init(loose)
    assert flat_opt.flat_arrays(params, ws.grads_by_name, flat_state) is not None
    assert loose_opt.flat_arrays(loose, ws.grads_by_name, loose_state) is None
    for _ in range(5):
        net.backward(net.forward(ws.x, ws), ws.t, "cross_entropy", ws)
        grads = {k: g.copy() for k, g in ws.grads_by_name.items()}
        flat_opt.update(params, ws.grads_by_name, flat_state)
        loose_opt.update(loose, grads, loose_state)
    assert flat_state["step"] == loose_state["step"] == 5
    for k in params:
        for slot in flat_opt.slots:
            assert flat_state[slot][k].shape == params[k].shape
        pairs = [(params[k], loose[k])]
        pairs += [(flat_state[slot][k], loose_state[slot][k]) for slot in flat_opt.slots]
        for flat_value, loose_value in pairs:
            if not fused_multiply_add:
                # The same element-wise operations on the same numbers: bit for bit equal.
                np.testing.assert_array_equal(flat_value, loose_value)
                continue
            # Some of OpenBLAS's axpy/axpby kernels fuse the multiply-add, rounding α x + y
            # once where NumPy's ``y += α * x`` rounds twice: the flat BLAS update may differ
            # from the per-parameter NumPy one in the last bit of each step (the Haswell kernel
            # on an AMD EPYC: 2 of 7 elements off by 1 ulp after five SGD steps; the SkylakeX
            # kernel gave NumPy's bits), never by more than a few ulps of the largest value.
            eps = np.finfo(flat_value.dtype).eps
            scale = max(np.abs(loose_value).max(), np.finfo(flat_value.dtype).tiny)
            np.testing.assert_allclose(
                flat_value, loose_value, rtol=16 * eps, atol=16 * eps * scale
            )


def test_flat_state_is_inspectable_and_copy_state_keeps_it_flat():
    net = _net()
    opt = dp.get_optimizer("adam")
    state = opt.init(net.params())
    assert set(state) == {"step", "m", "v"}
    assert list(state["m"]) == list(net.params())
    assert flat_span(list(state["m"].values())) is not None
    copied = copy_state(state)
    assert flat_span(list(copied["m"].values())) is not None
    copied["m"]["W1"][...] = 1
    assert not state["m"]["W1"].any()
    # a user who swaps a slot array gets the per-parameter path, with the same arithmetic
    state["m"]["W2"] = np.zeros(net.params()["W2"].shape)
    ws = net.workspace(4)
    assert opt.flat_arrays(net.params(), ws.grads_by_name, state) is None


def test_pure_step_leaves_flat_inputs_untouched():
    net = _net()
    opt = dp.get_optimizer("adam")
    params = net.params()
    state = opt.init(params)
    grads = {k: np.ones_like(v) for k, v in params.items()}
    before = net.get_weights()
    new_params, new_state = opt.step(params, grads, state)
    for k in params:
        np.testing.assert_array_equal(params[k], before[k])
        assert not np.array_equal(new_params[k], before[k])
    assert state["step"] == 0 and new_state["step"] == 1
    assert not state["m"]["W1"].any() and new_state["m"]["W1"].any()


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_float32_training_matches_float64(optimizer):
    x, y = _data(n=64, seed=3)
    runs = {}
    for dtype in (np.float32, np.float64):
        net = _net(dtype=dtype, seed=4)
        history = net.fit(x, y, optimizer=optimizer, epochs=3, batch_size=16, seed=5)
        runs[dtype] = (net.flat_params().astype(np.float64), history)
    p32, h32 = runs[np.float32]
    p64, h64 = runs[np.float64]
    np.testing.assert_allclose(p32, p64, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(h32.loss, h64.loss, rtol=1e-4)
    np.testing.assert_allclose(h32.grad_norm, h64.grad_norm, rtol=1e-3)


def test_memmap_training_gathers_batches_without_copying_the_data(tmp_path):
    rng = np.random.default_rng(0)
    n, d = 40_000, 100
    x = rng.normal(size=(n, d)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0).astype(np.int64)
    path = tmp_path / "x.npy"
    np.save(path, x)
    xm = np.load(path, mmap_mode="r")
    assert isinstance(xm, np.memmap)
    fit_args = dict(optimizer="momentum", epochs=1, batch_size=256, seed=0)

    net = _net(dtype=np.float32, sizes=(d, 16, 3), acts=("relu", "softmax"), seed=1)
    tracemalloc.start()
    history = net.fit(xm, y, **fit_args)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # x is 16 MB; the run holds one-hot targets (0.5 MB), a permutation (0.3 MB) and batches.
    assert peak < 0.1 * x.nbytes, peak

    in_memory = _net(dtype=np.float32, sizes=(d, 16, 3), acts=("relu", "softmax"), seed=1)
    reference = in_memory.fit(x, y, **fit_args)
    np.testing.assert_array_equal(net.flat_params(), in_memory.flat_params())
    assert history.loss == reference.loss


def test_memmap_of_uint8_is_cast_batch_by_batch(tmp_path):
    rng = np.random.default_rng(2)
    x = rng.integers(0, 256, size=(300, 6), dtype=np.uint8)
    y = rng.integers(0, 3, size=300)
    path = tmp_path / "x.npy"
    np.save(path, x)
    xm = np.load(path, mmap_mode="r")
    a = _net(dtype=np.float32, sizes=(6, 4, 3), acts=("relu", "softmax"))
    b = a.copy()
    a.fit(xm, y, optimizer="sgd", learning_rate=1e-4, epochs=2, batch_size=32, seed=0)
    b.fit(
        x.astype(np.float32),
        y,
        optimizer="sgd",
        learning_rate=1e-4,
        epochs=2,
        batch_size=32,
        seed=0,
    )
    np.testing.assert_array_equal(a.flat_params(), b.flat_params())


def test_norm_tracking_matches_the_gradients_of_each_update():
    net = _net()
    x, y = _data(n=8)
    start = net.copy()
    history = net.fit(x, y, optimizer="sgd", learning_rate=0.1, epochs=1, batch_size=None)
    g = start.gradients(x, prepare_targets(start, y, 8), "cross_entropy")
    expected = [
        np.sqrt(np.sum(gW**2) + np.sum(gb**2)) for gW, gb in zip(g.weights, g.biases, strict=True)
    ]
    np.testing.assert_allclose(history.layer_grad_norms[0], expected, rtol=1e-12)
    assert history.grad_norm[0] == pytest.approx(np.sqrt(np.sum(np.square(expected))), rel=1e-12)
    rms = [np.sqrt(np.sum(d**2) / 8) for d in g.deltas]
    np.testing.assert_allclose(history.layer_delta_norms[0], rms, rtol=1e-12)


@pytest.mark.parametrize("sizes", [(3, 4, 1), (1, 4, 3), (1, 1)], ids=str)
def test_layers_with_one_unit_keep_the_whole_vector_path(sizes):
    """A (1, k) or (k, 1) W is both C- and F-contiguous: its optimizer slots must take its exact
    strides, or the flat path and BLAS would be lost for it."""
    net = dp.Network.from_sizes(list(sizes), "tanh", seed=0)
    params = net.params()
    ws = net.workspace(4)
    for name in ("momentum", "adam"):
        opt = dp.get_optimizer(name)
        state = opt.init(params)
        assert opt.flat_arrays(params, ws.grads_by_name, state) is not None, name
        for slot in opt.slots:
            for k, p in params.items():
                assert state[slot][k].strides == p.strides, (name, slot, k)
        resumed = copy_state(state)
        assert opt.flat_arrays(params, ws.grads_by_name, resumed) is not None, name


def test_a_resumed_state_is_laid_out_flat_in_its_own_slot_dicts():
    net = _net()
    params = net.params()
    opt = dp.get_optimizer("adam")
    state = opt.init(params)
    state["step"] = 3
    for slot in opt.slots:
        for k in state[slot]:
            state[slot][k] = np.full(params[k].shape, 0.5, order="C")  # as read from a file
    m_dict = state["m"]
    out = opt.lay_out_like(params, state)
    assert out is state and state["m"] is m_dict  # the same dicts, new arrays in them
    ws = net.workspace(2)
    assert opt.flat_arrays(params, ws.grads_by_name, state) is not None
    for slot in opt.slots:
        for k, p in params.items():
            assert state[slot][k].strides == p.strides
            np.testing.assert_array_equal(state[slot][k], 0.5)


@pytest.mark.parametrize(
    "spoil",
    [
        lambda a: a.astype(np.float32),  # another dtype: never cast silently
        lambda a: np.frombuffer(a.tobytes(), dtype=a.dtype).reshape(a.shape),  # read-only
    ],
    ids=["float32", "read-only"],
)
def test_a_state_that_cannot_be_laid_out_is_left_as_it_is(spoil):
    net = _net()
    params = net.params()
    opt = dp.get_optimizer("momentum")
    state = opt.init(params)
    spoiled = {k: spoil(np.ones(p.shape)) for k, p in params.items()}
    state["velocity"] = dict(spoiled)
    opt.lay_out_like(params, state)
    assert all(state["velocity"][k] is spoiled[k] for k in params)
