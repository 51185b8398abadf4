"""The fused vector updates taken from NumPy's own OpenBLAS (``deltaprop._blas``).

The optimizers' oracle tests run every rule both ways (BLAS and NumPy); these check the routines
themselves, when they may be used, and that training ends in the same place either way.
"""

import os
import platform
import subprocess
import sys

import numpy as np
import pytest

import deltaprop as dp
from deltaprop import _blas


def test_found_beside_numpys_linux_wheel():
    # CI runs NumPy's manylinux wheel, which bundles scipy-openblas: the fast path must be on
    # there, or the speed figures measure the fallback.
    if sys.platform != "linux" or platform.machine() != "x86_64":
        pytest.xfail("only NumPy's x86-64 Linux wheel is known to bundle scipy-openblas here")
    assert _blas.available()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_axpy_and_axpby_compute_their_formulas(dtype):
    rng = np.random.default_rng(0)
    x = rng.normal(size=50_001).astype(dtype)  # above OpenBLAS's threading threshold, odd length
    y0 = rng.normal(size=50_001).astype(dtype)
    tol = {"rtol": 1e-6, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-14, "atol": 1e-14}
    y = y0.copy()
    _blas.axpy(-0.3, x, y)
    np.testing.assert_allclose(y, y0 - 0.3 * x, **tol)
    y = y0.copy()
    _blas.axpby(0.25, x, 0.9, y)
    np.testing.assert_allclose(y, 0.25 * x + 0.9 * y0, **tol)
    np.testing.assert_array_equal(x, x.astype(dtype))  # x is read, never written


def test_axpby_with_beta_zero_keeps_ieee_nan_propagation():
    """OpenBLAS's axpby skips reading y when β = 0; IEEE (NumPy, torch) has 0 · NaN = NaN and
    0 · ∞ = NaN, so a diverged state stays visibly diverged, as without BLAS."""
    x = np.array([1.0, 2.0, 3.0, 4.0], np.float32)
    y = np.array([np.nan, np.inf, -5.0, 0.0], np.float32)
    _blas.axpby(0.5, x, 0.0, y)
    expected = 0.5 * x + 0.0 * np.array([np.nan, np.inf, -5.0, 0.0], np.float32)
    np.testing.assert_array_equal(y, expected)
    assert np.isnan(y[:2]).all() and y[2:].tolist() == [1.5, 2.0]


@pytest.mark.parametrize("beta", [0.0, -0.0, 0.5])
def test_axpby_of_an_array_with_itself(beta):
    y = np.array([1.0, 2.0, 3.0])
    _blas.axpby(2.0, y, beta, y)
    assert y.tolist() == [(2.0 + beta) * v for v in (1.0, 2.0, 3.0)]


def test_2d_arrays_go_as_their_memory_when_laid_out_alike():
    rng = np.random.default_rng(1)
    x = np.asfortranarray(rng.normal(size=(7, 5)))
    y0 = np.asfortranarray(rng.normal(size=(7, 5)))
    assert _blas.usable(y0, x)
    y = y0.copy(order="A")
    _blas.axpby(2.0, x, -1.0, y)
    np.testing.assert_allclose(y, 2.0 * x - y0, rtol=1e-14)


@pytest.mark.parametrize(
    ("arrays", "why"),
    [
        ((np.zeros(4, np.float32), np.zeros(4, np.float64)), "mixed dtypes"),
        ((np.zeros(4), np.zeros(5)), "different lengths"),
        ((np.zeros((3, 4)), np.zeros((3, 4), order="F")), "C against F order"),
        ((np.zeros(8)[::2], np.zeros(4)), "a strided view"),
        ((np.zeros(4, np.int64), np.zeros(4, np.int64)), "integers"),
        ((np.zeros(4, np.float16), np.zeros(4, np.float16)), "half precision"),
        ((np.zeros(4, ">f8"), np.zeros(4, ">f8")), "big-endian floats"),
        ((np.zeros(4), np.frombuffer(bytes(32))), "a read-only array"),
        ((np.ma.zeros(4), np.ma.zeros(4)), "masked arrays"),
    ],
)
def test_arrays_blas_cannot_take_fall_back_to_numpy(arrays, why):
    assert not _blas.usable(*arrays), why


def test_disabled_switches_the_fast_path_off_and_back():
    was = _blas.available()
    with _blas.disabled():
        assert not _blas.available()
        assert not _blas.usable(np.zeros(3), np.zeros(3))
    assert _blas.available() == was


def test_environment_variable_turns_it_off():
    code = "from deltaprop import _blas; print(_blas.available())"
    env = {**os.environ, "DELTAPROP_BLAS": "0"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "nesterov", "adam", "adamw"])
def test_training_ends_in_the_same_place_with_or_without_blas(optimizer):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(200, 6))
    y = (x[:, 0] * x[:, 1] > 0).astype(int) + (x[:, 2] > 0.5)
    runs = []
    for use_blas in (True, False):
        net = dp.Network.from_sizes([6, 16, 8, 3], ["tanh", "relu", "softmax"], seed=3)
        opt = dp.get_optimizer(optimizer, learning_rate=0.01)
        if use_blas:
            history = net.fit(x, y, optimizer=opt, epochs=5, batch_size=16, seed=4)
        else:
            with _blas.disabled():
                history = net.fit(x, y, optimizer=opt, epochs=5, batch_size=16, seed=4)
        runs.append((net.get_weights(), history.loss))
    (w_blas, loss_blas), (w_numpy, loss_numpy) = runs
    np.testing.assert_allclose(loss_blas, loss_numpy, rtol=1e-12)
    for k in w_blas:
        np.testing.assert_allclose(w_blas[k], w_numpy[k], rtol=1e-10, atol=1e-12)
    assert loss_blas[-1] < loss_blas[0]  # it trained


def test_read_only_parameters_get_numpys_error_not_a_crash(tmp_path):
    path = tmp_path / "theta.npy"
    np.save(path, np.ones(50_000))
    theta = np.load(path, mmap_mode="r")  # read-only memory map
    opt = dp.get_optimizer("momentum", learning_rate=0.1)
    params = {"theta": theta}
    state = opt.init({"theta": np.ones(50_000)})
    with pytest.raises(ValueError, match="read-only"):
        opt.update(params, {"theta": np.ones(50_000)}, state)


def test_partly_overlapping_vectors_fall_back_and_update_like_numpy():
    base = np.linspace(0.0, 1.0, 200_001)
    p, g = base[:-1], base[1:]  # the gradient is the parameter vector shifted by one
    assert not _blas.usable(p, g)
    assert _blas.usable(np.zeros(5), np.zeros(5))  # separate vectors of the same kind do go
    expected = base.copy()
    with _blas.disabled():
        dp.get_optimizer("sgd", learning_rate=0.5).update(
            {"p": expected[:-1]}, {"p": expected[1:]}, {"step": 0}
        )
    dp.get_optimizer("sgd", learning_rate=0.5).update({"p": p}, {"p": g}, {"step": 0})
    np.testing.assert_array_equal(base, expected)


def test_disabled_blocks_nest_and_restore():
    was = _blas.available()
    with _blas.disabled():
        with _blas.disabled():
            assert not _blas.available()
        assert not _blas.available()  # the outer block is still running
    assert _blas.available() == was


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "make",
    [
        lambda a: a,
        np.asfortranarray,
        lambda a: a[:, ::2],  # not contiguous: computed on a copy
        lambda a: a[0],
        lambda a: np.asfortranarray(a)[:1],  # both C- and F-contiguous
    ],
    ids=["C", "F", "strided", "1-D", "one-row"],
)
def test_squared_norm_equals_the_sum_of_squares(make, dtype):
    a = make(np.random.default_rng(4).normal(size=(7, 6)).astype(dtype))
    expected = float(np.sum(a.astype(np.float64) ** 2))
    rel = 1e-6 if dtype == np.float32 else 1e-14
    assert _blas.squared_norm(a) == pytest.approx(expected, rel=rel)
