"""Every fast path of every optimizer against its rule, within a stated number of ulps.

An optimizer's rule (``Optimizer.rule``, ``torch.optim``'s definition) is the reference;
``deltaprop/optimizers/fast.py`` runs a compiled loop (Numba) or BLAS's vector updates instead
where the arrays allow. For every optimizer and setting, float32 and float64, θ laid out as one flat
vector (as ``fit`` has it) and as separate arrays per parameter, over several steps of a real
network's gradients, each step of the fast path is compared with the rule run from the same θ, g
and state: θ and every state slot within ``ulps.TOLERANCE`` (the file says why each number is what
it is). The test also checks that the fast path it measures really ran.
"""

from __future__ import annotations

import contextlib
import tracemalloc

import numpy as np
import pytest
from ulps import TOLERANCE, update_ulps

import deltaprop as dp
from deltaprop import _blas, _fused
from deltaprop.optimizers import copy_state, fast, flat_span
from deltaprop.optimizers.base import _views_like

# name → (optimizer, settings)
SETTINGS = {
    "sgd": ("sgd", {"learning_rate": 0.1}),
    "sgd-l2": ("sgd", {"learning_rate": 0.1, "weight_decay": 0.05}),
    "momentum": ("momentum", {"learning_rate": 0.1, "momentum": 0.9}),
    "momentum-l2": ("momentum", {"learning_rate": 0.1, "momentum": 0.9, "weight_decay": 0.05}),
    "nesterov": ("nesterov", {"learning_rate": 0.1, "momentum": 0.9}),
    "nesterov-l2": ("nesterov", {"learning_rate": 0.1, "momentum": 0.8, "weight_decay": 0.05}),
    "adagrad": ("adagrad", {"learning_rate": 0.1}),
    "adagrad-decay-start-l2": (
        "adagrad",
        {"lr_decay": 0.05, "initial_accumulator_value": 0.1, "weight_decay": 0.05},
    ),
    "adadelta": ("adadelta", {}),
    "adadelta-l2": ("adadelta", {"rho": 0.8, "eps": 1e-5, "weight_decay": 0.05}),
    "rmsprop": ("rmsprop", {"learning_rate": 0.01}),
    "rmsprop-centered": ("rmsprop", {"learning_rate": 0.01, "centered": True}),
    "rmsprop-momentum": ("rmsprop", {"learning_rate": 0.01, "momentum": 0.9}),
    "rmsprop-centered-momentum-l2": (
        "rmsprop",
        {"alpha": 0.9, "centered": True, "momentum": 0.5, "weight_decay": 0.05},
    ),
    "adam": ("adam", {"learning_rate": 0.01}),
    "adam-l2": ("adam", {"learning_rate": 0.01, "beta1": 0.5, "weight_decay": 0.05}),
    "adamw": ("adamw", {"learning_rate": 0.01, "weight_decay": 0.1}),
    "adamw-no-decay": ("adamw", {"learning_rate": 0.01, "weight_decay": 0.0, "eps": 1e-3}),
}

LOOPS = {"adagrad": "adagrad", "adadelta": "adadelta", "rmsprop": "rmsprop", "adam": "adam"}
LOOPS["adamw"] = "adam"
STEPS = 6


NUMPY = ("adagrad", "adadelta", "rmsprop")  # the rule into work arrays, without the loops


def _paths(name: str) -> list[str]:
    """The fast paths this optimizer has: its compiled loop; BLAS for SGD and Adam, NumPy's
    work arrays for the others, where the loops are off."""
    opt = dp.get_optimizer(name)
    paths = ["loop"] if opt.name in LOOPS else []
    return paths + (["numpy"] if opt.name in NUMPY else ["blas"])


CASES = [(s, p) for s, (name, _) in SETTINGS.items() for p in _paths(name)]


@pytest.fixture
def calls(monkeypatch):
    """Count the compiled loops' and BLAS routines' calls, by name."""
    kernels = _fused.kernels()
    assert kernels is not None, "the test extra installs Numba: the loops must load"
    assert _blas.available(), "NumPy's wheel bundles OpenBLAS: the BLAS routines must be found"
    counted: dict[str, int] = {}

    def counting(name, real):
        def run(*args):
            counted[name] = counted.get(name, 0) + 1
            return real(*args)

        return run

    for name in set(LOOPS.values()):
        monkeypatch.setattr(kernels, name, counting(name, getattr(kernels, name)))
    for name in ("axpy", "axpby"):
        monkeypatch.setattr(_blas, name, counting(name, getattr(_blas, name)))
    for name in NUMPY:
        real = getattr(fast, f"_numpy_{name}")
        monkeypatch.setattr(fast, f"_numpy_{name}", counting(f"numpy {name}", real))
    return counted


def _problem(dtype, flat: bool, seed: int = 0):
    """θ, a workspace whose gradients are the batch's, and the per-parameter copies if not flat."""
    rng = np.random.default_rng(seed)
    net = dp.Network.from_sizes([6, 9, 5, 3], ["tanh", "relu", "softmax"], seed=seed, dtype=dtype)
    ws = net.workspace(32)
    ws.x[...] = rng.normal(size=(32, 6))
    ws.t[...] = np.eye(3)[rng.integers(0, 3, 32)]
    params = net.params()
    if not flat:  # separate arrays, each laid out like its parameter (W F-ordered)
        params = {k: v.copy(order="K") for k, v in params.items()}
    return net, ws, params


@pytest.mark.parametrize("flat", [True, False], ids=["flat", "per-parameter"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize(("setting", "path"), CASES)
def test_fast_path_is_the_rule_within_its_ulps(setting, path, dtype, flat, calls):
    name, kwargs = SETTINGS[setting]
    opt = dp.get_optimizer(name, **kwargs)
    family = "adam-" if opt.name.startswith("adam") else "sgd-" if opt.name == "sgd" else ""
    tol = TOLERANCE[family + path]
    net, ws, params = _problem(dtype, flat)
    state = opt.init(params)
    assert (opt.flat_arrays(params, ws.grads_by_name, state) is not None) == flat
    worst = {"θ": 0.0, **{s: 0.0 for s in opt.slots}}
    for _ in range(STEPS):
        net.set_weights(params)
        net.backward(net.forward(ws.x, ws), ws.t, "cross_entropy", ws)
        grads = {k: g.copy(order="K") for k, g in ws.grads_by_name.items()}
        if flat:
            grads = ws.grads_by_name
        # the rule, from the same θ, g and state
        t = state["step"] + 1
        ref_params = {k: v.copy(order="K") for k, v in params.items()}
        ref_state = copy_state(state)
        for k in params:
            opt.reference(ref_params[k], grads[k], {s: ref_state[s][k] for s in opt.slots}, t)
        before, state_before = {k: v.copy() for k, v in params.items()}, copy_state(state)
        with contextlib.nullcontext() if path == "loop" else _fused.disabled():
            opt.update(params, grads, state)
        for k in params:
            worst["θ"] = max(worst["θ"], update_ulps(before[k], params[k], ref_params[k]))
            for s in opt.slots:
                d = update_ulps(state_before[s][k], state[s][k], ref_state[s][k])
                worst[s] = max(worst[s], d)
    assert worst["θ"] <= tol["θ"], worst
    assert all(worst[s] <= tol["slots"] for s in opt.slots), worst
    assert max(worst.values()) < float("inf")
    # the path measured is the one that ran: once per step over θ, or once per parameter
    runs = STEPS * (1 if flat else len(params))
    if path == "loop":
        assert calls == {LOOPS[opt.name]: runs}
    elif path == "numpy":
        assert calls == {f"numpy {opt.name}": runs}
    else:
        assert not set(calls) & set(LOOPS.values()) and calls.get("axpy", 0) >= runs


def test_the_rules_move_the_parameters():
    """The comparison above is not between two updates that did nothing."""
    for name, kwargs in SETTINGS.values():
        net, ws, params = _problem(np.float64, True)
        opt = dp.get_optimizer(name, **kwargs)
        before = {k: v.copy() for k, v in params.items()}
        state = opt.init(params)
        net.backward(net.forward(ws.x, ws), ws.t, "cross_entropy", ws)
        opt.update(params, ws.grads_by_name, state)
        assert all(np.all(params[k] != before[k]) for k in ("W1", "W2")), name


@pytest.mark.parametrize("setting", list(SETTINGS))
def test_with_every_fast_path_off_update_is_the_rule_bit_for_bit(setting, calls):
    name, kwargs = SETTINGS[setting]
    opt = dp.get_optimizer(name, **kwargs)
    net, ws, params = _problem(np.float32, True)
    state = opt.init(params)
    ref_params, ref_state = {k: v.copy() for k, v in params.items()}, copy_state(state)
    for _ in range(3):
        net.backward(net.forward(ws.x, ws), ws.t, "cross_entropy", ws)
        t = state["step"] + 1
        for k in params:
            g = ws.grads_by_name[k]
            opt.reference(ref_params[k], g, {s: ref_state[s][k] for s in opt.slots}, t)
        with fast.disabled():
            opt.update(params, ws.grads_by_name, state)
    assert not calls
    for k in params:
        np.testing.assert_array_equal(params[k], ref_params[k])
        for s in opt.slots:
            np.testing.assert_array_equal(state[s][k], ref_state[s][k])


@pytest.mark.parametrize(
    "spoil",
    [
        lambda a: np.ascontiguousarray(a),  # C order where θ is F
        lambda a: np.repeat(a, 2, axis=-1)[..., ::2],  # strided
    ],
    ids=["other-layout", "strided"],
)
def test_arrays_no_fast_path_can_take_get_the_rule(spoil, calls):
    net, ws, params = _problem(np.float64, False)
    opt = dp.get_optimizer("adam", learning_rate=0.01)
    state = opt.init(params)
    net.backward(net.forward(ws.x, ws), ws.t, "cross_entropy", ws)
    grads = {k: spoil(g) if k[0] == "W" else g.copy() for k, g in ws.grads_by_name.items()}
    ref = {k: v.copy() for k, v in params.items()}
    ref_state = copy_state(state)
    for k in ref:
        opt.reference(ref[k], grads[k], {s: ref_state[s][k] for s in opt.slots}, 1)
    opt.update(params, grads, state)
    assert calls == {"adam": 3}  # the three biases' arrays go to the loop, the Ws to the rule
    for k in ("W1", "W2", "W3"):
        np.testing.assert_array_equal(params[k], ref[k])


def test_an_array_given_twice_gets_the_rule(calls):
    """With g the same array as θ, AdamW's rule decays θ — and so g — before reading g; a
    one-pass loop would read g first. The fast paths step aside."""
    opt = dp.get_optimizer("adamw", learning_rate=0.1, weight_decay=0.5)
    p = np.array([0.5, 1.75, -3.0])
    state = opt.init({"w": p})
    q, s = p.copy(), {"m": np.zeros(3), "v": np.zeros(3)}
    opt.reference(q, q, s, 1)
    opt.update({"w": p}, {"w": p}, state)
    assert not calls
    np.testing.assert_array_equal(p, q)


def test_a_subclass_defined_elsewhere_gets_its_own_rule(calls):
    """The fast paths are the built-in rules': a subclass that changes the rule runs its rule."""

    class HalfStep(dp.SGD):
        def rule(self, theta, g, s, t, note=lambda n, v: v):
            theta -= 0.5 * self.learning_rate * g

    p = np.array([1.0, 2.0])
    HalfStep(learning_rate=0.2).update({"w": p}, {"w": np.array([1.0, -1.0])}, {"step": 0})
    np.testing.assert_array_equal(p, [0.9, 2.1])
    assert not calls


def test_a_subclass_elsewhere_named_like_a_built_in_gets_its_own_rule(calls):
    """The paths are chosen by class name only for the classes of ``deltaprop.optimizers``."""

    class SGD(dp.SGD):
        def rule(self, theta, g, s, t, note=lambda n, v: v):
            theta -= 0.5 * self.learning_rate * g

    p = np.array([1.0, 2.0])
    SGD(learning_rate=0.2).update({"w": p}, {"w": np.array([1.0, -1.0])}, {"step": 0})
    np.testing.assert_array_equal(p, [0.9, 2.1])
    assert not calls


class _CountingDict(dict):
    looked = 0

    def get(self, *args):
        _CountingDict.looked += 1
        return super().get(*args)


def test_the_path_is_found_once_per_class(monkeypatch, calls):
    monkeypatch.setattr(fast, "_CHOSEN", {})
    monkeypatch.setattr(fast, "_PATHS", _CountingDict(fast._PATHS))
    monkeypatch.setattr(_CountingDict, "looked", 0)
    p, g = np.zeros(3), np.ones(3)
    opt = dp.SGD(0.5)
    for _ in range(3):
        opt.update({"w": p}, {"w": g}, {"step": 0})
    np.testing.assert_array_equal(p, [-1.5, -1.5, -1.5])
    assert _CountingDict.looked == 1 and calls == {"axpy": 3}


NOTED = {
    "sgd-l2": {"g + λθ", "Δθ"},
    "adagrad-decay-start-l2": {"g + λθ", "η_t", "Δθ"},
    "adadelta": {"Δ", "Δθ"},
    "rmsprop-centered-momentum-l2": {"g + λθ", "Δθ"},
    "adam": {"m̂", "v̂", "Δθ"},
    "adamw": {"θ(1 − ηλ)", "m̂", "v̂", "Δθ"},
}


@pytest.mark.parametrize("setting", list(NOTED))
def test_intermediates_are_the_rules_record_on_copies(setting):
    name, kwargs = SETTINGS[setting]
    opt = dp.get_optimizer(name, **kwargs)
    net, ws, params = _problem(np.float64, True)
    state = opt.init(params)
    for _ in range(2):  # a state that is not all zeros
        net.backward(net.forward(ws.x, ws), ws.t, "cross_entropy", ws)
        opt.update(params, ws.grads_by_name, state)
    net.backward(net.forward(ws.x, ws), ws.t, "cross_entropy", ws)
    grads = ws.grads_by_name
    before = ({k: v.copy() for k, v in params.items()}, copy_state(state))
    g_before = {k: v.copy() for k, v in grads.items()}
    noted = opt.intermediates(params, grads, state)
    for k in params:  # the inputs are untouched
        np.testing.assert_array_equal(params[k], before[0][k])
        np.testing.assert_array_equal(grads[k], g_before[k])
        for s in opt.slots:
            np.testing.assert_array_equal(state[s][k], before[1][s][k])
    assert state["step"] == 2 and set(noted) == NOTED[setting]
    with fast.disabled():  # the rule's own step: Δθ is exactly what it subtracted
        opt.update(params, grads, state)
    for k in params:
        start = noted["θ(1 − ηλ)"][k] if "θ(1 − ηλ)" in noted else before[0][k]
        np.testing.assert_array_equal(start - noted["Δθ"][k], params[k])
        if "m̂" in noted:
            np.testing.assert_array_equal(noted["m̂"][k], state["m"][k] / (1 - opt.beta1**3))
        if "g + λθ" in noted:
            expected = g_before[k] + opt.weight_decay * before[0][k]
            np.testing.assert_array_equal(noted["g + λθ"][k], expected)
    if "η_t" in noted:
        assert noted["η_t"] == opt.learning_rate / (1 + 2 * opt.lr_decay)


# --- the whole-vector layout (optimizers/base.py): found, made, kept ---------------------------


def test_flat_span_is_the_vector_the_arrays_tile_from_where_they_start():
    """Views of ``base[2:10]`` (C and F ordered), back to back: the span is that slice itself."""
    base = np.arange(12.0)
    arrays = [base[2:8].reshape(3, 2).T, base[8:10]]  # an F-ordered (2, 3), then a (2,)
    span = flat_span(arrays)
    assert span.base is base and span.shape == (8,)
    assert span.__array_interface__["data"][0] == base[2:].__array_interface__["data"][0]
    np.testing.assert_array_equal(span, np.arange(2.0, 10.0))


def test_flat_span_of_float32_views_counts_in_its_items():
    base = np.arange(10, dtype=np.float32)
    span = flat_span([base[3:5], base[5:9].reshape(2, 2)])
    assert span.dtype == np.float32
    np.testing.assert_array_equal(span, np.arange(3, 9, dtype=np.float32))


@pytest.mark.parametrize(
    "arrays",
    [
        lambda b: [],
        lambda b: [b[0:3], b[4:6]],  # a gap
        lambda b: [b[3:6], b[0:3]],  # out of order
        lambda b: [b[0:2], b[2:8:2]],  # strided
        lambda b: [b[0:2].view(np.int64), b[2:4].view(np.int64)],  # another dtype than the base
        lambda b: [b[0:2], b[2:4].view(np.int64)],
        lambda b: list(b.reshape(3, 4).copy()[:2]),  # rows of a 2-D array
        lambda b: [b[0:2], np.arange(2.0)],  # another base
        lambda b: [b],  # an array owning its memory: no base
        lambda b: [np.frombuffer(bytearray(b.tobytes()))],  # a base that is not an array
        lambda b: [b[0:2], [2.0, 3.0]],  # not an array
    ],
    ids=["empty", "gap", "order", "strided", "dtype", "mixed-dtype", "2d-base", "two-bases",
         "owner", "buffer", "list"],
)  # fmt: skip
def test_flat_span_refuses_arrays_that_do_not_tile_one_vector(arrays):
    assert flat_span(arrays(np.arange(12.0))) is None


def _is_laid_out_like(slot: dict, params: dict) -> bool:
    """The slot's arrays tile one vector in the parameters' order, each with its parameter's
    shape, strides and dtype."""
    arrays = [slot[k] for k in params]
    return flat_span(arrays) is not None and all(
        a.shape == p.shape and a.strides == p.strides and a.dtype == p.dtype
        for a, p in zip(arrays, params.values(), strict=True)
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("sizes", [(6, 9, 5, 3), (3, 4, 1), (1, 4, 3), (1, 1)], ids=str)
def test_init_lays_every_slot_out_like_flat_parameters(sizes, dtype):
    """Zeros, one vector per slot, each array with its parameter's strides — a (1, k) or (k, 1)
    W is both C- and F-contiguous, and only its strides say which its gradient has."""
    net = dp.Network.from_sizes(list(sizes), "tanh", seed=0, dtype=dtype)
    params, ws = net.params(), net.workspace(2)
    opt = dp.get_optimizer("rmsprop", centered=True, momentum=0.5)
    state = opt.init(params)
    assert set(state) == {"step", *opt.slots} and state["step"] == 0
    for slot in opt.slots:
        assert list(state[slot]) == list(params) and _is_laid_out_like(state[slot], params)
        assert not np.any(flat_span(list(state[slot].values())))
    others = [flat_span(list(state[s].values())) for s in opt.slots]
    assert not any(np.shares_memory(a, b) for i, a in enumerate(others) for b in others[i + 1 :])
    assert not np.shares_memory(others[0], net.flat_params())
    assert opt.flat_arrays(params, ws.grads_by_name, state) is not None


def test_init_gives_separate_parameters_separate_zeros_laid_out_alike():
    _, _, params = _problem(np.float32, flat=False)
    state = dp.get_optimizer("adam").init(params)
    for slot in ("m", "v"):
        for k, p in params.items():
            a = state[slot][k]
            assert a.strides == p.strides and a.dtype == np.float32 and not a.any()
            assert not np.shares_memory(a, p)
        assert flat_span(list(state[slot].values())) is None


def test_copy_state_copies_flat_slots_into_one_new_vector():
    net, ws, params = _problem(np.float64, flat=True)
    opt = dp.get_optimizer("adam")
    state = opt.init(params)
    state["step"] = 7
    state["m"]["W1"][...] = 1.5
    copied = copy_state(state)
    assert copied["step"] == 7 and set(copied) == set(state)
    for slot in opt.slots:
        assert _is_laid_out_like(copied[slot], params)
        for k in params:
            np.testing.assert_array_equal(copied[slot][k], state[slot][k])
            assert not np.shares_memory(copied[slot][k], state[slot][k])
    copied["m"]["W1"][...] = 2.0
    assert np.all(state["m"]["W1"] == 1.5)


def test_copy_state_copies_separate_slots_and_empty_ones():
    _, _, params = _problem(np.float64, flat=False)
    state = dp.get_optimizer("adam").init(params)
    state["other"] = {}
    copied = copy_state(state)
    assert copied["other"] == {}
    for k, p in params.items():
        assert copied["m"][k].strides == p.strides
        assert not np.shares_memory(copied["m"][k], state["m"][k])


def _state_as_read_from_a_file(opt, params, seed=5):
    """Separate C-ordered arrays of distinct values in every slot, as a checkpoint gives them."""
    rng = np.random.default_rng(seed)
    state = {"step": 3}
    for slot in opt.slots:
        state[slot] = {k: np.ascontiguousarray(rng.random(p.shape), dtype=p.dtype)
                       for k, p in params.items()}  # fmt: skip
    return state


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_lay_out_like_lays_a_read_state_out_flat_with_its_values(dtype):
    net, ws, params = _problem(dtype, flat=True)
    opt = dp.get_optimizer("adam")
    state = _state_as_read_from_a_file(opt, params)
    values = {s: {k: a.copy() for k, a in state[s].items()} for s in opt.slots}
    dicts = {s: state[s] for s in opt.slots}
    assert opt.lay_out_like(params, state) is state
    for slot in opt.slots:
        assert state[slot] is dicts[slot]  # the same dicts, new arrays in them
        assert _is_laid_out_like(state[slot], params)
        for k in params:
            np.testing.assert_array_equal(state[slot][k], values[slot][k])
    assert not np.shares_memory(flat_span(list(state["m"].values())), net.flat_params())
    assert opt.flat_arrays(params, ws.grads_by_name, state) is not None


def test_lay_out_like_relays_separate_arrays_that_have_the_strides_already():
    """Separate arrays laid out each like its parameter (same strides) are still not one vector."""
    _, ws, params = _problem(np.float64, flat=True)
    opt = dp.get_optimizer("momentum")
    state = {"step": 1, "velocity": {k: np.full_like(p, 0.5) for k, p in params.items()}}
    assert all(state["velocity"][k].strides == p.strides for k, p in params.items())
    opt.lay_out_like(params, state)
    assert _is_laid_out_like(state["velocity"], params)
    assert all(np.all(a == 0.5) for a in state["velocity"].values())


def test_lay_out_like_keeps_a_slot_already_laid_out_and_lays_out_the_next():
    _, _, params = _problem(np.float64, flat=True)
    opt = dp.get_optimizer("adam")
    state = opt.init(params)
    m = dict(state["m"])
    state["v"] = _state_as_read_from_a_file(opt, params)["v"]
    v = {k: a.copy() for k, a in state["v"].items()}
    opt.lay_out_like(params, state)
    assert all(state["m"][k] is m[k] for k in params)
    assert _is_laid_out_like(state["v"], params)
    assert all(np.array_equal(state["v"][k], v[k]) for k in params)


def test_lay_out_like_lays_out_the_state_of_one_flat_parameter():
    """One parameter that is a view of a longer vector (the rest unused) is a flat layout too."""
    params = {"w": np.zeros(10)[2:8].reshape(3, 2)}
    opt = dp.get_optimizer("adam")
    state = {"step": 1, "m": {"w": np.ones((3, 2))}, "v": {"w": np.full((3, 2), 2.0)}}
    state["m"]["w"] = state["m"]["w"][::-1]  # a view: not laid out like w
    opt.lay_out_like(params, state)
    for slot, value in (("m", 1.0), ("v", 2.0)):
        assert _is_laid_out_like(state[slot], params) and np.all(state[slot]["w"] == value)


@pytest.mark.parametrize(
    "spoil",
    [
        lambda a: a.astype(np.float32),  # another dtype: never cast silently
        lambda a: np.frombuffer(a.tobytes(), dtype=a.dtype).reshape(a.shape),  # read-only
        lambda a: a.T.copy(),  # another shape
        lambda a: np.ma.masked_array(a),  # not a plain ndarray
    ],
    ids=["float32", "read-only", "shape", "subclass"],
)
def test_lay_out_like_leaves_a_slot_it_cannot_lay_out(spoil):
    _, _, params = _problem(np.float64, flat=True)
    opt = dp.get_optimizer("adam")
    state = _state_as_read_from_a_file(opt, params)
    v = dict(state["v"])
    state["m"]["W1"] = spoil(state["m"]["W1"])
    spoiled = dict(state["m"])
    opt.lay_out_like(params, state)
    assert all(state["m"][k] is spoiled[k] for k in params)  # all left: the slot is one thing
    assert _is_laid_out_like(state["v"], params)  # the next slot is laid out
    assert all(np.array_equal(state["v"][k], v[k]) for k in params)


@pytest.mark.parametrize(
    "slot",
    [None, [1.0], lambda p: {k: p[k] for k in list(p)[:-1]}, lambda p: {**p, "W9": p["b1"]}],
    ids=["missing", "not-a-dict", "fewer-keys", "more-keys"],
)
def test_lay_out_like_leaves_a_slot_that_does_not_name_the_parameters(slot):
    _, _, params = _problem(np.float64, flat=True)
    opt = dp.get_optimizer("adam")
    state = _state_as_read_from_a_file(opt, params)
    if slot is None:
        del state["m"]
    else:
        state["m"] = slot(state["m"]) if callable(slot) else slot
    m = state.get("m")
    m_arrays = dict(m) if isinstance(m, dict) else None
    opt.lay_out_like(params, state)
    assert state.get("m") is m and (m_arrays is None or m == m_arrays)
    assert _is_laid_out_like(state["v"], params)  # the next slot is laid out


def test_lay_out_like_leaves_the_state_of_separate_parameters():
    _, _, params = _problem(np.float64, flat=False)
    opt = dp.get_optimizer("adam")
    state = _state_as_read_from_a_file(opt, params)
    arrays = {s: dict(state[s]) for s in opt.slots}
    assert opt.lay_out_like(params, state) is state
    assert all(state[s][k] is arrays[s][k] for s in opt.slots for k in params)


def test_the_pure_step_keeps_separate_parameters_on_the_fast_path(calls):
    """``step`` copies θ and the state laid out as they were (W F-ordered): the copies' next update
    still takes the loop for every parameter, not the rule for the Ws."""
    net, ws, params = _problem(np.float64, flat=False)
    opt = dp.get_optimizer("adam", learning_rate=0.01)
    net.backward(net.forward(ws.x, ws), ws.t, "cross_entropy", ws)
    grads = {k: g.copy(order="K") for k, g in ws.grads_by_name.items()}
    new_params, new_state = opt.step(params, grads, opt.init(params))
    for k, p in params.items():
        assert new_params[k].strides == p.strides
        assert all(new_state[s][k].strides == p.strides for s in opt.slots)
    calls.clear()
    opt.update(new_params, grads, new_state)
    assert calls == {"adam": len(params)}


def test_flat_arrays_answers_from_its_cache_for_the_same_arrays(monkeypatch):
    """Asked every step about the same arrays, ``flat_arrays`` looks at their layout once."""
    from deltaprop.optimizers import base

    _, ws, params = _problem(np.float64, flat=True)
    opt = dp.get_optimizer("adam")
    state = opt.init(params)
    looked: list[int] = []
    real = base.flat_span
    monkeypatch.setattr(base, "flat_span", lambda arrays: looked.append(1) or real(arrays))
    first = opt.flat_arrays(params, ws.grads_by_name, state)
    assert first is not None and len(looked) == 2 + len(opt.slots)  # θ, g and each slot
    assert opt.flat_arrays(params, ws.grads_by_name, state) is first
    assert len(looked) == 2 + len(opt.slots)
    state["v"]["W2"] = state["v"]["W2"].copy(order="K")  # another array: looked at again
    assert opt.flat_arrays(params, ws.grads_by_name, state) is None
    assert len(looked) == 2 * (2 + len(opt.slots))


def _c_ordered_views(params: dict) -> dict:
    """Views of one new flat vector shaped like ``params``, every one C-ordered."""
    buf, views, offset = np.empty(sum(p.size for p in params.values())), {}, 0
    for k, p in params.items():
        views[k] = buf[offset : offset + p.size].reshape(p.shape)
        offset += p.size
    return views


@pytest.mark.parametrize("slots_like", ["θ", "g"])
def test_flat_gradients_laid_out_otherwise_are_not_a_whole_vector(slots_like, calls):
    """g as one vector with C-ordered Ws against θ's F-ordered ones (the state laid out like
    either): element i of g's memory is not θ's element i, so the update runs per parameter (the
    Ws by the rule)."""
    _, ws, params = _problem(np.float64, flat=True)
    opt = dp.get_optimizer("adam", learning_rate=0.01)
    state = opt.init(params)
    grads = _c_ordered_views(params)
    for k, g in grads.items():
        g[...] = ws.grads_by_name[k] + 0.5
    if slots_like == "g":
        state.update({s: _c_ordered_views(params) for s in opt.slots})
        for s in opt.slots:
            for a in state[s].values():
                a[...] = 0.0
    assert flat_span(list(grads.values())) is not None
    assert opt.flat_arrays(params, grads, state) is None
    ref, ref_state = {k: v.copy() for k, v in params.items()}, copy_state(state)
    for k in ref:
        opt.reference(ref[k], grads[k], {s: ref_state[s][k] for s in opt.slots}, 1)
    opt.update(params, grads, state)
    assert calls == {"adam": 3}  # the biases
    for k in ("W1", "W2", "W3"):
        np.testing.assert_array_equal(params[k], ref[k])


def test_a_missing_gradient_is_the_per_parameter_loops_key_error():
    _, _, params = _problem(np.float64, flat=True)
    opt = dp.get_optimizer("adam")
    state = opt.init(params)
    grads = {k: np.zeros_like(p) for k, p in params.items() if k != "b3"}
    assert opt.flat_arrays(params, grads, state) is None
    with pytest.raises(KeyError, match="^'b3'$"):
        opt.update(params, grads, state)


# --- the fast paths' promises beyond their numbers (optimizers/fast.py) --------------------------


@pytest.mark.parametrize(("setting", "path"), CASES)
def test_a_fast_path_allocates_nothing_per_step(setting, path):
    """Work arrays are made once and kept (NumPy's ``out=``): after the first steps an update
    allocates no array of a W's size — W1 here is 100 × 200 float32, 80 kB."""
    for flat in (True, False):
        _allocates_nothing_per_step(setting, path, flat)


def _allocates_nothing_per_step(setting, path, flat):
    name, kwargs = SETTINGS[setting]
    opt = dp.get_optimizer(name, **kwargs)
    rng = np.random.default_rng(0)
    net = dp.Network.from_sizes([200, 100, 3], ["tanh", "softmax"], seed=0, dtype=np.float32)
    params = net.params() if flat else {k: v.copy(order="K") for k, v in net.params().items()}
    buf = np.asarray(rng.normal(size=net.flat_params().size), dtype=np.float32)
    grads = dict(zip(params, _views_like(buf, list(params.values())), strict=True))
    if not flat:
        grads = {k: g.copy(order="K") for k, g in grads.items()}
    state = opt.init(params)
    with contextlib.nullcontext() if path == "loop" else _fused.disabled():
        for _ in range(2):
            opt.update(params, grads, state)
        tracemalloc.start()
        try:
            opt.update(params, grads, state)
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert peak < params["W1"].nbytes // 10, (flat, peak)  # measured: under 2.5 kB


def _adagrad_update(calls) -> dict:
    """One Adagrad update of a flat θ with the loops off: which paths ran."""
    net, ws, params = _problem(np.float64, flat=True)
    opt = dp.get_optimizer("adagrad")
    net.backward(net.forward(ws.x, ws), ws.t, "cross_entropy", ws)
    calls.clear()
    with _fused.disabled():
        opt.update(params, ws.grads_by_name, opt.init(params))
    return dict(calls)


def test_disabled_blocks_nest_and_end(calls):
    """``fast.disabled()`` is off until the outermost block ends, and on again after it."""
    with fast.disabled():
        with fast.disabled():
            assert _adagrad_update(calls) == {}
        assert _adagrad_update(calls) == {}  # the inner block ended, the outer one has not
    assert _adagrad_update(calls) == {"numpy adagrad": 1}
    with fast.disabled():
        pass
    assert _adagrad_update(calls) == {"numpy adagrad": 1}


# How an operand can spoil a one-pass loop or BLAS: each makes the array ``a`` (θ, g or a state
# slot) into one no fast path may take, given ``other`` (θ; g for θ itself). Every operand is the
# first 12 numbers of a 15-number vector, so that another may overlap it.
SPOILS = {
    "given-twice": lambda a, other: other,
    "overlapping": lambda a, other: other.base[3:].reshape(4, 3),
    "strided": lambda a, other: np.repeat(a, 2, axis=-1)[..., ::2],
    "other-dtype": lambda a, other: a.astype(np.float32),
    "read-only": lambda a, other: np.frombuffer(a.tobytes()).reshape(a.shape),
}


def _spoiled(opt, operand: str, spoil: str):
    """θ, g and the state of a (4, 3) parameter, with one operand spoiled; the same every call."""
    rng = np.random.default_rng(1)

    def new(scale=1.0):
        return (scale * rng.random(15) + 0.25)[:12].reshape(4, 3)

    p, g = new(0.1), new(-2.0)  # ḡ² below v in centred RMSProp: gbar and θ small
    state = {"step": 0, **{s: {"w": new(0.1 if s == "grad_avg" else 1.0)} for s in opt.slots}}
    if operand == "θ":
        p = SPOILS[spoil](p, g)
    elif operand == "g":
        g = SPOILS[spoil](g, p)
    else:
        state[operand]["w"] = SPOILS[spoil](state[operand]["w"], p)
    return p, g, state


def _operands_and_spoils(opt):
    for operand in ("θ", "g", *opt.slots):
        for spoil in SPOILS:
            if operand == "θ" and spoil in ("given-twice", "read-only"):
                continue  # θ as θ; a read-only θ cannot be updated by the rule either
            if operand not in ("θ", "g") and spoil == "read-only":
                continue  # nor a read-only slot
            yield operand, spoil


@pytest.mark.parametrize(("setting", "path"), CASES)
def test_no_fast_path_takes_arrays_it_would_get_wrong(setting, path, calls):
    """A loop reads each operand before writing, over memory: with any operand the same array as
    θ, or overlapping it, or laid out otherwise, or of another dtype (or read-only: a kernel
    writes through anything), it would not compute the rule. The rule runs, with its numbers."""
    name, kwargs = SETTINGS[setting]
    opt = dp.get_optimizer(name, **kwargs)
    for operand, spoil in _operands_and_spoils(opt):
        ref_p, ref_g, ref_state = _spoiled(opt, operand, spoil)
        for t in (1, 2):
            opt.reference(ref_p, ref_g, {s: ref_state[s]["w"] for s in opt.slots}, t)
        p, g, state = _spoiled(opt, operand, spoil)
        with contextlib.nullcontext() if path == "loop" else _fused.disabled():
            for _ in range(2):
                opt.update({"w": p}, {"w": g}, state)
        assert calls == {}, (operand, spoil)
        np.testing.assert_array_equal(p, ref_p, err_msg=f"{operand} {spoil}")
        np.testing.assert_array_equal(g, ref_g, err_msg=f"{operand} {spoil}")
        for s in opt.slots:
            np.testing.assert_array_equal(state[s]["w"], ref_state[s]["w"], err_msg=operand + spoil)


def test_init_keeps_the_memory_order_of_a_parameter_with_an_odd_stride():
    """A (3, 1, 4) W stored F-ordered, its size-1 axis with stride 0 (``[:, None, :]``): no view
    has those strides, so the slot takes θ's memory order (F): element i of the slot's vector
    belongs to the same index as element i of θ's."""
    base = np.arange(14.0)
    params = {"W": base[:12].reshape(4, 3).T[:, None, :], "b": base[12:]}
    assert params["W"].strides == (8, 0, 24) and flat_span(list(params.values())) is not None
    opt = dp.get_optimizer("momentum")
    state = opt.init(params)
    slot = flat_span(list(state["velocity"].values()))
    slot[...] = np.arange(14.0)
    for k, p in params.items():
        np.testing.assert_array_equal(state["velocity"][k], p)
