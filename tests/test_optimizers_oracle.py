"""Every optimizer against ``torch.optim``, from one table (optax style), plus identities.

Each row runs our optimizer and torch's from the same start on the same gradient sequence (the
gradients of a small real network at our current parameters), for 25 steps in float64, and
compares the parameters after every step and the optimizer state (our ``state["m"]`` against
torch's ``exp_avg`` …) to ~1e-12. Then each optimizer must really reduce a parabola and the
Rosenbrock function; and the identities that tie the rules together must hold.
"""

import contextlib
import math

import numpy as np
import pytest
import torch

import deltaprop as dp
from deltaprop import _blas, _fused
from deltaprop.optimizers import copy_state, fast

STEPS = 25

# name → (our optimizer name and settings, torch class and settings, our slot → torch state key)
TABLE = {
    "sgd": ("sgd", {"learning_rate": 0.1}, torch.optim.SGD, {"lr": 0.1}, {}),
    "momentum": (
        "momentum",
        {"learning_rate": 0.05, "momentum": 0.9},
        torch.optim.SGD,
        {"lr": 0.05, "momentum": 0.9},
        {"velocity": "momentum_buffer"},
    ),
    "nesterov": (
        "nesterov",
        {"learning_rate": 0.05, "momentum": 0.9},
        torch.optim.SGD,
        {"lr": 0.05, "momentum": 0.9, "nesterov": True},
        {"velocity": "momentum_buffer"},
    ),
    "adagrad": (
        "adagrad",
        {"learning_rate": 0.1},
        torch.optim.Adagrad,
        {"lr": 0.1},
        {"sum": "sum"},
    ),
    "adagrad_lr_decay_initial_accumulator": (
        "adagrad",
        {"learning_rate": 0.1, "lr_decay": 0.05, "initial_accumulator_value": 0.3, "eps": 1e-9},
        torch.optim.Adagrad,
        {"lr": 0.1, "lr_decay": 0.05, "initial_accumulator_value": 0.3, "eps": 1e-9},
        {"sum": "sum"},
    ),
    "adadelta": (
        "adadelta",
        {"learning_rate": 1.0, "rho": 0.9, "eps": 1e-6},
        torch.optim.Adadelta,
        {"lr": 1.0, "rho": 0.9, "eps": 1e-6},
        {"square_avg": "square_avg", "acc_delta": "acc_delta"},
    ),
    "rmsprop": (
        "rmsprop",
        {"learning_rate": 0.01, "alpha": 0.99, "eps": 1e-8},
        torch.optim.RMSprop,
        {"lr": 0.01, "alpha": 0.99, "eps": 1e-8},
        {"square_avg": "square_avg"},
    ),
    "rmsprop_centered": (
        "rmsprop",
        {"learning_rate": 0.01, "alpha": 0.9, "centered": True},
        torch.optim.RMSprop,
        {"lr": 0.01, "alpha": 0.9, "centered": True},
        {"square_avg": "square_avg", "grad_avg": "grad_avg"},
    ),
    "rmsprop_momentum": (
        "rmsprop",
        {"learning_rate": 0.01, "momentum": 0.8},
        torch.optim.RMSprop,
        {"lr": 0.01, "momentum": 0.8},
        {"square_avg": "square_avg", "momentum_buffer": "momentum_buffer"},
    ),
    "rmsprop_centered_momentum": (
        "rmsprop",
        {"learning_rate": 0.01, "alpha": 0.95, "momentum": 0.5, "centered": True},
        torch.optim.RMSprop,
        {"lr": 0.01, "alpha": 0.95, "momentum": 0.5, "centered": True},
        {"square_avg": "square_avg", "grad_avg": "grad_avg", "momentum_buffer": "momentum_buffer"},
    ),
    "adam": (
        "adam",
        {"learning_rate": 0.01, "beta1": 0.8, "beta2": 0.99},
        torch.optim.Adam,
        {"lr": 0.01, "betas": (0.8, 0.99)},
        {"m": "exp_avg", "v": "exp_avg_sq"},
    ),
    "adamw": (
        "adamw",
        {"learning_rate": 0.01},
        torch.optim.AdamW,
        {"lr": 0.01},
        {"m": "exp_avg", "v": "exp_avg_sq"},
    ),
}


def small_problem():
    """A 3-5-2 tanh network and a batch: a real source of gradients."""
    net = dp.Network.from_sizes([3, 5, 2], ["tanh", "identity"], seed=0)
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(10, 3)), rng.normal(size=(10, 2))
    return net, x, y


def torch_optimizer(params, cls, kwargs, weight_decay):
    tensors = {k: torch.tensor(p.copy()) for k, p in params.items()}
    return tensors, cls(list(tensors.values()), foreach=False, weight_decay=weight_decay, **kwargs)


# Every way of running a rule: its compiled loop where there is one (Adam, AdamW, Adagrad,
# Adadelta, RMSProp), else BLAS's vector updates (SGD); without the loops, BLAS's vector updates
# (SGD, Adam, AdamW) or the rule's NumPy form into work arrays (the others); the rule itself
# (deltaprop/optimizers/<rule>.py), every fast path off.
PATHS = {"fused": contextlib.nullcontext, "blas": _fused.disabled, "rule": fast.disabled}


# the compiled loop each optimizer runs as (the others have none)
LOOP = {"adagrad": "adagrad", "adadelta": "adadelta", "rmsprop": "rmsprop", "adam": "adam"}
LOOP["adamw"] = "adam"


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
@pytest.mark.parametrize("row", list(TABLE))
def test_optimizer_matches_torch_step_for_step(row, weight_decay, path, monkeypatch):
    loop = LOOP.get(TABLE[row][0]) if path == "fused" else None
    calls = []
    if loop is not None:
        kernels = _fused.kernels()
        assert kernels is not None, "the test extra installs Numba: the loops must load"
        real = getattr(kernels, loop)
        monkeypatch.setattr(kernels, loop, lambda *a: calls.append(1) or real(*a))
    with PATHS[path]():
        _run_against_torch(row, weight_decay)
    if loop is not None:
        assert len(calls) >= STEPS, "the compiled loop did not run"


def _run_against_torch(row, weight_decay):
    name, ours_kwargs, torch_cls, torch_kwargs, slots = TABLE[row]
    opt = dp.get_optimizer(name, weight_decay=weight_decay, **ours_kwargs)
    assert set(opt.slots) == set(slots)
    net, x, y = small_problem()
    params = net.params()
    start = net.get_weights()
    state = opt.init(params)
    tensors, topt = torch_optimizer(params, torch_cls, torch_kwargs, weight_decay)
    for step in range(1, STEPS + 1):
        # laid out like the parameters (F-ordered W), so that the fast paths can take them
        fresh = net.gradients(x, y, "squared_error").as_dict()
        grads = {k: _like(params[k], g) for k, g in fresh.items()}
        for k, t in tensors.items():
            t.grad = torch.tensor(grads[k])
        topt.step()
        opt.update(params, grads, state)
        assert state["step"] == step
        for k, p in params.items():
            np.testing.assert_allclose(
                p, tensors[k].numpy(), rtol=1e-12, atol=1e-14, err_msg=f"{k} at step {step}"
            )
    moved = max(np.max(np.abs(params[k] - start[k])) for k in params)
    assert moved > 1e-2  # the comparison is not between two parameter sets that stood still
    for k, t in tensors.items():
        tstate = topt.state[t]
        if "step" in tstate:
            assert int(tstate["step"]) == STEPS
        for ours, theirs in slots.items():
            np.testing.assert_allclose(
                state[ours][k], tstate[theirs].numpy(), rtol=1e-12, atol=1e-15, err_msg=ours
            )


def _like(p, values):
    out = np.empty_like(p)
    out[...] = values
    return out


def parabola(theta):
    """f = Σ cᵢ (θᵢ − θ*ᵢ)², minimum 0 at θ* = (1, −2)."""
    c, target = np.array([1.0, 3.0]), np.array([1.0, -2.0])
    d = theta - target
    return float(np.sum(c * d * d)), 2 * c * d


def rosenbrock(theta):
    """f = (1 − x)² + 100 (y − x²)², minimum 0 at (1, 1)."""
    x, y = theta
    f = (1 - x) ** 2 + 100 * (y - x * x) ** 2
    return float(f), np.array([-2 * (1 - x) - 400 * x * (y - x * x), 200 * (y - x * x)])


# name → (settings, largest final parabola value, largest final Rosenbrock value) after 2000
# steps from θ₀ = (−1.2, 1.0), the classic Rosenbrock start (f = 24.2; the parabola starts at
# 31.84). Plain SGD and Adadelta are the slow ones, as expected.
CONVERGENCE = {
    "sgd": ({"learning_rate": 1e-3}, 1e-2, 0.1),
    "momentum": ({"learning_rate": 1e-3, "momentum": 0.9}, 1e-6, 1e-6),
    "nesterov": ({"learning_rate": 1e-3, "momentum": 0.9}, 1e-6, 1e-6),
    "adagrad": ({"learning_rate": 0.5}, 1e-6, 0.05),
    "adadelta": ({"learning_rate": 1.0}, 1e-6, 1.0),
    "rmsprop": ({"learning_rate": 3e-3}, 1e-6, 0.05),
    "adam": ({"learning_rate": 2e-2}, 1e-6, 1e-2),
    "adamw": ({"learning_rate": 2e-2, "weight_decay": 0.0}, 1e-6, 1e-2),
}


@pytest.mark.parametrize("problem", [parabola, rosenbrock], ids=["parabola", "rosenbrock"])
@pytest.mark.parametrize("name", list(CONVERGENCE))
def test_optimizer_reduces_parabola_and_rosenbrock(name, problem):
    settings, parabola_bound, rosenbrock_bound = CONVERGENCE[name]
    bound = parabola_bound if problem is parabola else rosenbrock_bound
    opt = dp.get_optimizer(name, **settings)
    params = {"theta": np.array([-1.2, 1.0])}
    state = opt.init(params)
    f0, _ = problem(params["theta"])
    for _ in range(2000):
        _, g = problem(params["theta"])
        opt.update(params, {"theta": g}, state)
    f, _ = problem(params["theta"])
    assert np.isfinite(params["theta"]).all()
    assert f < bound, f"{name}: f went from {f0} to {f}"


@pytest.mark.parametrize("blas", [True, False], ids=["blas", "rule"])
def test_momentum_zero_is_plain_gradient_descent(blas):
    """Exactly θ − η g by the rule; BLAS's axpy fuses the multiply-add (one rounding instead of
    two), so there the match is to the last bit or two."""
    net, x, y = small_problem()
    plain = net.get_weights()
    opt = dp.get_optimizer("momentum", learning_rate=0.1, momentum=0.0)
    assert opt.slots == ()
    params = net.params()
    state = opt.init(params)
    for _ in range(STEPS):
        grads = net.gradients(x, y, "squared_error").as_dict()
        # The reference net steps by θ ← θ − η g with the same gradients.
        for k in plain:
            plain[k] = plain[k] - 0.1 * grads[k]
        with contextlib.nullcontext() if blas else _blas.disabled():
            opt.update(params, grads, state)
        for k, p in params.items():
            if blas:
                np.testing.assert_allclose(p, plain[k], rtol=1e-14, atol=1e-16)
            else:
                np.testing.assert_array_equal(p, plain[k])


def test_adam_without_first_moment_is_rmsprop_with_scaled_learning_rate():
    """Adam (β₁ = 0, ε = 0) ≡ RMSProp (α = β₂, ε = 0) with η_t = η √(1 − β₂ᵗ)."""
    net, x, y = small_problem()
    lr, beta2 = 0.01, 0.95
    adam = dp.Adam(lr, beta1=0.0, beta2=beta2, eps=0.0)
    rms = dp.RMSProp(lr, alpha=beta2, eps=0.0)
    p_adam, p_rms = net.get_weights(), net.get_weights()
    s_adam, s_rms = adam.init(p_adam), rms.init(p_rms)
    for t in range(1, STEPS + 1):
        net.set_weights(p_adam)
        grads = net.gradients(x, y, "squared_error").as_dict()
        adam.update(p_adam, grads, s_adam)
        rms.learning_rate = lr * math.sqrt(1 - beta2**t)
        rms.update(p_rms, grads, s_rms)
        for k in p_adam:
            np.testing.assert_allclose(p_adam[k], p_rms[k], rtol=1e-13, atol=1e-15)
            np.testing.assert_allclose(s_adam["v"][k], s_rms["square_avg"][k], rtol=1e-15)
            np.testing.assert_array_equal(s_adam["m"][k], grads[k])  # β₁ = 0: m is g


@pytest.mark.parametrize("row", list(TABLE))
def test_step_is_pure_and_equals_update(row):
    name, ours_kwargs, *_ = TABLE[row]
    opt = dp.get_optimizer(name, weight_decay=0.01, **ours_kwargs)
    net, x, y = small_problem()
    params = net.get_weights()
    state = opt.init(params)
    for _ in range(3):  # a state that is not all zeros
        opt.update(params, net.gradients(x, y, "squared_error").as_dict(), state)
    grads = net.gradients(x, y, "squared_error").as_dict()
    state_before = copy_state(state)
    params_before = {k: v.copy() for k, v in params.items()}
    grads_before = {k: v.copy() for k, v in grads.items()}
    new_params, new_state = opt.step(params, grads, state)
    for k in params:
        np.testing.assert_array_equal(params[k], params_before[k])
        np.testing.assert_array_equal(grads[k], grads_before[k])
        assert new_params[k] is not params[k]
        for slot in opt.slots:
            np.testing.assert_array_equal(state[slot][k], state_before[slot][k])
            assert new_state[slot][k] is not state[slot][k]
    assert state["step"] == 3 and new_state["step"] == 4
    opt.update(params, grads, state)
    for k in params:
        np.testing.assert_array_equal(new_params[k], params[k])
        for slot in opt.slots:
            np.testing.assert_array_equal(new_state[slot][k], state[slot][k])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: dp.SGD(learning_rate=-0.1), r"Invalid learning rate: -0\.1"),
        (lambda: dp.SGD(learning_rate=0.0), r"Invalid learning rate: 0\.0 \(expected > 0"),
        (lambda: dp.Adam(learning_rate=float("nan")), r"Invalid learning rate: nan"),
        (lambda: dp.SGD(learning_rate="fast"), r"Invalid learning rate: 'fast'"),
        (lambda: dp.SGD(momentum=-0.5), r"Invalid momentum value: -0\.5"),
        (lambda: dp.SGD(nesterov=True), r"Nesterov momentum requires a momentum > 0"),
        (lambda: dp.SGD(weight_decay=-1e-4), r"Invalid weight_decay value: -0\.0001"),
        (lambda: dp.Adagrad(lr_decay=-1.0), r"Invalid lr_decay: -1\.0"),
        (lambda: dp.Adagrad(initial_accumulator_value=-1), r"initial_accumulator_value: -1"),
        (lambda: dp.Adagrad(eps=-1e-10), r"Invalid epsilon value: -1e-10"),
        (lambda: dp.Adadelta(rho=1.5), r"Invalid rho value: 1\.5"),
        (lambda: dp.RMSProp(alpha=-0.9), r"Invalid alpha value: -0\.9"),
        (lambda: dp.RMSProp(momentum=-0.1), r"Invalid momentum value: -0\.1"),
        (lambda: dp.Adam(beta1=1.0), r"Invalid beta parameter at index 0: 1\.0"),
        (lambda: dp.Adam(beta2=-0.1), r"Invalid beta parameter at index 1: -0\.1"),
        (lambda: dp.AdamW(eps=-1.0), r"Invalid epsilon value: -1\.0"),
        (lambda: dp.get_optimizer("adamax"), r"unknown optimizer 'adamax'; expected one of"),
        (lambda: dp.get_optimizer("adam", momentum=0.9), r"bad settings for optimizer 'adam'"),
        (lambda: dp.get_optimizer(dp.Adam(), learning_rate=0.1), r"settings cannot be given"),
    ],
)
def test_bad_hyperparameters_raise_naming_the_value(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_get_optimizer_spellings():
    opt = dp.get_optimizer({"name": "adam", "lr": 0.02, "beta1": 0.5})
    assert isinstance(opt, dp.Adam) and opt.learning_rate == 0.02 and opt.beta1 == 0.5
    assert dp.get_optimizer("RMSProp", eta=0.3).learning_rate == 0.3
    opt = dp.get_optimizer("nesterov")
    assert isinstance(opt, dp.SGD) and opt.nesterov and opt.momentum == 0.9
    assert set(dp.available_optimizers()) >= {
        "sgd",
        "momentum",
        "nesterov",
        "adagrad",
        "adadelta",
        "rmsprop",
        "adam",
        "adamw",
    }
