"""The optimizer rules compiled into one loop by Numba (loaded by ``deltaprop._fused``).

The torch.optim oracle (test_optimizers_oracle.py) runs every rule through these loops, BLAS and
the rule itself, and test_optimizer_fast_paths.py holds each loop to its rule within stated ulps;
here: the loops really run in training, once per step over all parameters, and can be switched
off — by a block, by the environment, or by a Numba that does not load.
"""

import os
import platform
import subprocess
import sys

import numpy as np
import pytest

import deltaprop as dp
from deltaprop import _blas, _fused
from deltaprop.optimizers import fast

LOOPS = ("adam", "adagrad", "adadelta", "rmsprop")

# `make test` installs the test extra, which brings Numba: without it these tests fail and say
# why, rather than pass having tested nothing.
NO_NUMBA = "Numba is missing: install the test extra (make test does; it includes deltaprop[fast])"


@pytest.fixture
def calls(monkeypatch):
    """Record the compiled loops' calls: (loop, vector length)."""
    assert _fused._installed, NO_NUMBA
    kernels = _fused.kernels()
    assert kernels is not None
    counted = []

    def counting(name, real):
        def loop(*args):
            counted.append((name, args[0].size))
            real(*args)

        return loop

    for name in LOOPS:
        monkeypatch.setattr(kernels, name, counting(name, getattr(kernels, name)))
    return counted


def test_installed_with_the_test_extra():
    # `make test` installs deltaprop[fast]: the loops must load there, or CI tests the fallback.
    if sys.platform != "linux" or platform.machine() != "x86_64":
        pytest.xfail("Numba's wheels are known to load on x86-64 Linux here")
    assert _fused.available() and _fused.kernels() is not None


def _train(optimizer, dtype, *, fused=True, blas=True, flat=True, **kwargs):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(120, 6)), rng.integers(0, 3, 120)
    net = dp.Network.from_sizes([6, 9, 3], ["tanh", "softmax"], seed=0, dtype=dtype)
    opt = dp.get_optimizer(optimizer, **kwargs)
    with (
        _fused.disabled() if not fused else _nothing(),
        _blas.disabled() if not blas else _nothing(),
    ):
        if flat:
            net.fit(x, y, optimizer=opt, epochs=3, batch_size=16, seed=1)
        else:  # one array per parameter, each laid out like its parameter
            params = {k: v.copy(order="K") for k, v in net.params().items()}
            state = opt.init(params)
            for _ in range(20):
                net.set_weights(params)
                grads = net.gradients(x, np.eye(3)[y], "cross_entropy").as_dict()
                opt.update(params, {k: _like(params[k], g) for k, g in grads.items()}, state)
            net.set_weights(params)
    return net.flat_params()


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _like(p, values):
    out = np.empty_like(p)
    out[...] = values
    return out


RULES = {
    "adam": ("adam", {"learning_rate": 0.01}),
    "adamw": ("adamw", {"learning_rate": 0.01, "weight_decay": 0.1}),
    "adagrad": ("adagrad", {"learning_rate": 0.1, "lr_decay": 0.01}),
    "adadelta": ("adadelta", {"rho": 0.8, "eps": 1e-5}),
    "rmsprop-both": ("rmsprop", {"learning_rate": 0.01, "centered": True, "momentum": 0.5}),
}


@pytest.mark.parametrize("flat", [True, False], ids=["flat", "per-parameter"])
@pytest.mark.parametrize("rule", list(RULES))
def test_training_runs_the_loop_and_ends_where_the_rule_does(rule, flat, calls):
    optimizer, kwargs = RULES[rule]
    fused = _train(optimizer, np.float64, flat=flat, **kwargs)
    loop = "adam" if optimizer == "adamw" else optimizer
    assert calls and {name for name, _ in calls} == {loop}, "the compiled loop did not run"
    n_calls = len(calls)
    reference = _train(optimizer, np.float64, fused=False, blas=False, flat=flat, **kwargs)
    assert len(calls) == n_calls  # switched off: not called again
    # Each step within a few ulps (test_optimizer_fast_paths.py); over a whole run the two
    # trajectories drift apart no faster than training's own sensitivity allows.
    np.testing.assert_allclose(fused, reference, rtol=1e-9, atol=1e-12)
    if loop != "adam":  # the same operations in the same order: bit for bit
        np.testing.assert_array_equal(fused, reference)


def test_a_flat_run_updates_all_parameters_in_one_call_per_step(calls):
    _train("adam", np.float32, learning_rate=0.01)
    n_params = 6 * 9 + 9 + 9 * 3 + 3
    assert calls == [("adam", n_params)] * (3 * 8)  # 3 epochs × ⌈120/16⌉ batches


@pytest.mark.parametrize(
    "arrays",
    [
        lambda: [np.zeros(8)[::2], np.zeros(4), np.zeros(4), np.zeros(4)],
        lambda: [np.zeros(4), np.zeros(4, np.float32), np.zeros(4), np.zeros(4)],
        lambda: [np.zeros(4), np.frombuffer(bytes(32)), np.zeros(4), np.zeros(4)],
        lambda: [np.zeros((2, 3)), np.zeros((2, 3), order="F"), np.zeros((2, 3)), np.zeros((2, 3))],
    ],
    ids=["strided", "mixed-dtypes", "read-only", "C-and-F"],
)
def test_arrays_the_loop_cannot_take_are_left_to_the_rule(arrays, calls):
    p, g, m, v = arrays()
    opt = dp.get_optimizer("adam")
    q, s = p.copy(), {"m": m.copy(), "v": v.copy()}
    opt.reference(q, g, s, 1)
    with _blas.disabled():
        fast.update(opt, p, g, {"m": m, "v": v}, 1)
    assert not calls
    np.testing.assert_array_equal(p, q)


def test_disabled_blocks_nest_and_restore():
    assert _fused._installed, NO_NUMBA
    assert _fused.available()
    with _fused.disabled():
        with _fused.disabled():
            assert not _fused.available() and _fused.kernels() is None
        assert not _fused.available()
    assert _fused.available()


def test_environment_variable_turns_it_off_without_importing_numba():
    code = (
        "import sys; from deltaprop import _fused; import deltaprop as dp; "
        "print(_fused.available(), _fused.kernels(), 'numba' in sys.modules)"
    )
    env = {**os.environ, "DELTAPROP_NUMBA": "off"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "None", "False"]


def test_importing_deltaprop_does_not_import_numba():
    code = "import sys, deltaprop; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


def test_a_numba_that_fails_to_load_is_reported_once_and_training_goes_on(monkeypatch):
    monkeypatch.setattr(_fused, "_kernels", None)
    monkeypatch.setattr(_fused, "_failed", False)
    monkeypatch.setitem(sys.modules, "deltaprop._fused_kernels", None)  # import raises
    with pytest.warns(RuntimeWarning, match="fused optimizer loops are off: Numba failed"):
        assert _fused.kernels() is None
    assert not _fused.available() and _fused.kernels() is None  # once: no second warning
    with _blas.disabled():
        fallback = _train("adam", np.float64, learning_rate=0.01)
    monkeypatch.undo()
    reference = _train("adam", np.float64, fused=False, blas=False, learning_rate=0.01)
    np.testing.assert_array_equal(fallback, reference)


def test_a_schedule_returning_numpy_floats_keeps_float32_updates_identical():
    """Optimizers keep their hyperparameters Python floats: a np.float64 η would make NumPy's
    float32 update run in float64 (NEP 50) while the loop runs in float32."""
    opt = dp.get_optimizer("adam")
    opt.learning_rate = np.float64(0.002)
    assert type(opt.learning_rate) is float and opt.learning_rate == 0.002

    class Cosine(dp.Schedule):
        def learning_rate(self, epoch, base):
            return np.float64(base) * np.cos(0.3 * epoch)

    runs = []
    for fused in (True, False):
        rng = np.random.default_rng(0)
        x, y = rng.normal(size=(60, 6)), rng.integers(0, 3, 60)
        net = dp.Network.from_sizes([6, 9, 3], ["tanh", "softmax"], seed=0, dtype=np.float32)
        with _nothing() if fused else _fused.disabled(), _blas.disabled():
            h = net.fit(
                x, y, optimizer="rmsprop", epochs=3, batch_size=16, seed=1, schedule=Cosine()
            )
        assert all(type(lr) is float for lr in h.learning_rate)
        runs.append(net.flat_params())
    np.testing.assert_array_equal(runs[0], runs[1])


def test_without_a_writable_cache_the_loops_compile_in_memory(monkeypatch):
    from deltaprop import _fused_kernels

    seen = []

    def njit(signatures, cache, **options):
        seen.append(cache)
        if cache:
            raise RuntimeError("cannot cache function 'f': no locator available for file")
        return lambda fn: ("compiled", fn)

    monkeypatch.setattr(_fused_kernels, "njit", njit)
    compiled = _fused_kernels._compiled(["void(float64[::1])"])(len)
    assert compiled == ("compiled", len) and seen == [True, False]
