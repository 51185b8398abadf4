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

import numpy as np
import pytest
from ulps import TOLERANCE, update_ulps

import deltaprop as dp
from deltaprop import _blas, _fused
from deltaprop.optimizers import copy_state, fast

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
