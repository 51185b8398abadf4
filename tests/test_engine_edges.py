"""Edge cases of the engine found in review: optimizer settings round-trip, and the softmax +
cross-entropy shortcut refused for targets whose rows do not sum to 1."""

import numpy as np
import pytest
import torch

import deltaprop as dp


@pytest.mark.parametrize("name", dp.available_optimizers())
def test_hyperparameters_rebuild_the_optimizer(name):
    opt = dp.get_optimizer(name)
    settings = opt.hyperparameters()
    assert "slots" not in settings and "formula" not in settings
    again = type(opt)(**settings)
    assert again.hyperparameters() == settings
    assert repr(again) == repr(opt)


def test_cross_entropy_gradient_for_targets_not_summing_to_one():
    rng = np.random.default_rng(0)
    net = dp.Network.from_sizes([3, 4, 3], ["tanh", "softmax"], seed=1)
    x = rng.normal(size=(5, 3))
    t = rng.uniform(0.1, 0.9, size=(5, 3))  # rows sum to anything but 1
    grads = net.gradients(x, t, "cross_entropy").as_dict()
    # torch oracle: E = mean over samples of −Σ t log softmax(z)
    W1, b1 = (torch.tensor(net.params()[k], requires_grad=True) for k in ("W1", "b1"))
    W2, b2 = (torch.tensor(net.params()[k], requires_grad=True) for k in ("W2", "b2"))
    h = torch.tanh(torch.tensor(x) @ W1.T + b1)
    o = torch.softmax(h @ W2.T + b2, dim=1)
    loss = -(torch.tensor(t) * torch.log(o)).sum(dim=1).mean()
    loss.backward()
    for name, p in {"W1": W1, "b1": b1, "W2": W2, "b2": b2}.items():
        np.testing.assert_allclose(grads[name], p.grad.numpy(), rtol=1e-10, atol=1e-13)
    # and with one-hot targets the shortcut is still the very same o − t
    onehot = np.eye(3)[[0, 2, 1, 1, 0]]
    fast = net.gradients(x, onehot, "cross_entropy").deltas[-1]
    np.testing.assert_array_equal(fast, net.predict(x) - onehot)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cross_entropy_delta_is_exact_for_saturated_outputs_and_any_targets(dtype):
    """Softmax outputs far below ε (z spread by ~60): the delta must still be torch's exact
    ∂E/∂z = o Σt − t, for targets that sum to 1 and for targets that do not (the general form's
    −t/clip(o) would shrink it)."""
    z = np.array([[40.0, 0.0, -20.0], [0.0, 30.0, -30.0]])
    net = dp.Network.from_weights([np.eye(3)], [np.zeros(3)], activations="softmax", dtype=dtype)
    targets = (
        np.array([[0.0, 1.0, 0.0], [0.2, 0.0, 0.8]]),  # rows sum to 1
        np.array([[0.3, 0.9, 0.5], [0, 0, 2]]),  # rows do not
        np.array([[0.0, 0.9999999, 0.0], [0.2, 0.0, 0.8]]),  # within 1e-6 of 1, not exactly
    )
    for t in targets:
        delta = net.gradients(z, t, "cross_entropy").deltas[-1]
        zt = torch.tensor(z, requires_grad=True)
        loss = -(torch.tensor(t) * torch.log_softmax(zt, dim=1)).sum()
        loss.backward()
        tol = 1e-12 if dtype == np.float64 else 1e-6
        np.testing.assert_allclose(delta, zt.grad.numpy(), rtol=tol, atol=tol)


@pytest.mark.parametrize("targets", ["rows-sum-to-1", "rows-do-not", "one-hot-but-one-row"])
def test_training_checks_the_targets_once_with_the_per_batch_answer(targets):
    """fit checks softmax + CE's o − t condition once for all targets; every update must equal
    the one whose backward checks its own batch (the default): for targets that allow it, for
    targets that do not, and for one-hot targets with a single zero row, with outputs so
    confident that any inexact delta formula would show."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(24, 3)) * 40  # large inputs: outputs confident (o < ε), often wrong
    t = rng.uniform(0.1, 0.9, size=(24, 3))
    if targets == "rows-sum-to-1":
        t /= t.sum(axis=1, keepdims=True)
    elif targets == "one-hot-but-one-row":
        t = np.eye(3)[rng.integers(0, 3, 24)]
        t[5] = 0
    normalised = targets == "rows-sum-to-1"
    net = dp.Network.from_sizes([3, 5, 3], ["identity", "softmax"], seed=2)
    reference = net.copy()
    net.fit(x, t, optimizer="sgd", learning_rate=0.1, epochs=1, batch_size=8, shuffle=False)
    for start in range(0, 24, 8):
        xb, tb = x[start : start + 8], t[start : start + 8]
        grads = reference.backward(reference.forward(xb), tb, "cross_entropy").as_dict()
        for k, p in reference.params().items():
            p -= 0.1 * grads[k]
    for k, p in net.params().items():
        np.testing.assert_allclose(p, reference.params()[k], rtol=1e-12, atol=1e-14)
    assert dp.losses.rows_sum_to_one(t) is normalised


def test_nan_in_a_memmap_batch_keeps_the_last_good_epoch(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype(np.float32)
    y = rng.integers(0, 2, size=40)
    mm = np.memmap(tmp_path / "x.f32", dtype=np.float32, mode="w+", shape=x.shape)
    mm[:] = x
    mm[37, 2] = np.nan  # met in the last batch of the first epoch (no shuffle)
    mm.flush()
    net = dp.Network.from_sizes([3, 4, 2], ["tanh", "softmax"], seed=0, dtype=np.float32)
    before = net.get_weights()
    with pytest.raises(ValueError, match=r"x contains NaN or infinity \(at index \[37, 2\]\)"):
        net.fit(mm, y, batch_size=8, shuffle=False, epochs=2, learning_rate=0.5)
    for k, v in net.get_weights().items():  # the updates of the first four batches were undone
        np.testing.assert_array_equal(v, before[k])


@pytest.mark.parametrize(
    ("shape", "where", "index"),
    [
        ((3_000, 700), (2_999, 5), "2999, 5"),
        ((5,), (3,), "3"),
        ((1, 2_000_000), (0, 1_999_999), "0, 1999999"),
    ],
)
def test_finiteness_check_reports_the_first_bad_entry_across_blocks(shape, where, index):
    from deltaprop.validation import check_finite

    arr = np.zeros(shape, dtype=np.float32)
    check_finite(arr, "x")
    arr[where] = np.inf
    with pytest.raises(
        ValueError, match=rf"x contains NaN or infinity \(first at index \[{index}\]\)"
    ):
        check_finite(arr, "x")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch_size", [1, 7, 4096, None])
def test_predict_in_batches_gives_the_forward_pass_output(batch_size, dtype):
    rng = np.random.default_rng(3)
    net = dp.Network.from_sizes([5, 8, 6, 3], ["relu", "tanh", "softmax"], seed=2, dtype=dtype)
    net.layers[1].b = None  # a layer without a bias too
    x = rng.normal(size=(50, 5))
    expected = net.forward(x).output
    got = net.predict(x, batch_size=batch_size)
    assert got.shape == (50, 3) and got.dtype == dtype
    np.testing.assert_allclose(got, expected, rtol=1e-6 if dtype == np.float32 else 1e-14)
    assert np.allclose(got.sum(axis=1), 1.0)


def test_predict_memory_does_not_grow_with_the_rows():
    """Only the output is n rows long: hidden activations live in batch-sized buffers."""
    import tracemalloc

    net = dp.Network.from_sizes([20, 512, 512, 2], ["relu", "relu", "softmax"], seed=0)
    x = np.random.default_rng(0).normal(size=(20_000, 20))
    tracemalloc.start()
    net.predict(x, batch_size=500)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # output 20,000 × 2 float64 = 0.32 MB; two 500 × 512 buffers = 4.1 MB; all rows at once: 164 MB
    assert peak < 6e6, peak


@pytest.mark.parametrize("bad", [0, -3, 2.5, "all"])
def test_predict_rejects_a_bad_batch_size(bad):
    net = dp.Network.from_sizes([2, 3, 1], ["tanh", "sigmoid"], seed=0)
    with pytest.raises(ValueError, match="batch_size"):
        net.predict(np.zeros((4, 2)), batch_size=bad)


def test_predict_keeps_the_output_of_an_activation_that_returns_a_new_array():
    """The contract says function(z, out) writes into out; one that returns a fresh array
    instead must still give predict the right output, as it gives forward."""
    from deltaprop.activations import Activation

    loose = Activation("loose_tanh", lambda z, out: np.tanh(z), None, "tanh(z)", "1 − a²")
    net = dp.Network.from_sizes([3, 4, 2], ["tanh", "tanh"], seed=0)
    net.layers[-1].activation = loose
    x = np.random.default_rng(0).normal(size=(5, 3))
    np.testing.assert_allclose(net.predict(x), net.forward(x).output, rtol=1e-14)
