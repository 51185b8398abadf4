"""The training loop: modes, determinism, learning, regularisation, schedules, callbacks, failure.

The loop's buffered fast path (``Network.workspace``) is checked against hand-written loops over
the plain ``Network.gradients`` — an update is θ ← θ − η·∂E/∂θ over the batch, whatever the mode.
"""

import copy
import math
import re
import threading
import warnings

import numpy as np
import pytest
from netcases import ACTIVATIONS
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

import deltaprop as dp


def regression_data(n=10, d=3, k=2, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, d)), rng.normal(size=(n, k))


def hand_sgd(net, x, y, loss, lr, epochs, batch_size, seed):
    """Plain mini-batch gradient descent, written out: the order is the loop's documented one."""
    n = len(x)
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(n) if batch_size < n else np.arange(n)
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            g = net.gradients(x[idx], y[idx], loss).as_dict()
            for k, p in net.params().items():
                p -= lr * g[k]


def assert_same_weights(a: dp.Network, b: dp.Network, rtol=0.0, atol=0.0):
    pa, pb = a.params(), b.params()
    assert pa.keys() == pb.keys()
    for k in pa:
        if rtol == 0 and atol == 0:
            np.testing.assert_array_equal(pa[k], pb[k], err_msg=k)
        else:
            np.testing.assert_allclose(pa[k], pb[k], rtol=rtol, atol=atol, err_msg=k)


# --- batch, stochastic and mini-batch modes ---------------------------------------------------


@pytest.mark.parametrize("batch_size", [10, 25])
def test_one_batch_of_all_samples_is_batch_gradient_descent(batch_size):
    x, y = regression_data()
    a = dp.Network.from_sizes([3, 4, 2], ["tanh", "identity"], seed=3)
    b = a.copy()
    ha = a.fit(x, y, learning_rate=0.05, epochs=15, batch_size=batch_size, seed=4)
    hb = b.fit(x, y, learning_rate=0.05, epochs=15, batch_size=None, seed=99)
    assert_same_weights(a, b)
    assert ha.loss == hb.loss
    assert ha.updates == hb.updates == 15


@pytest.mark.parametrize("hidden", ACTIVATIONS)
def test_a_training_step_is_the_gradient_step_for_every_activation(hidden):
    """The buffered forward/backward of the loop equals ``Network.gradients``, for every f."""
    x, y = regression_data(n=6)
    net = dp.Network.from_sizes([3, 5, 4, 2], [hidden, hidden, "identity"], seed=8)
    ref = net.copy()
    net.fit(x, y, loss="squared_error", learning_rate=0.1, epochs=3, batch_size=None)
    hand_sgd(ref, x, y, "squared_error", 0.1, 3, len(x), seed=None)
    assert_same_weights(net, ref, rtol=1e-13, atol=1e-15)


@pytest.mark.parametrize(
    ("sizes", "acts", "loss"),
    [
        ([3, 4, 2], ["sigmoid", "identity"], "squared_error"),
        ([3, 5, 3, 2], ["elu", "softplus", "sigmoid"], "log_loss"),
        ([3, 4, 2], ["relu", "softmax"], "cross_entropy"),
    ],
)
def test_stochastic_gradient_descent_is_a_hand_loop_in_the_shuffled_order(sizes, acts, loss):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(9, 3))
    y = rng.dirichlet(np.ones(2), size=9) if loss != "squared_error" else rng.normal(size=(9, 2))
    net = dp.Network.from_sizes(sizes, acts, seed=6)
    ref = net.copy()
    history = net.fit(x, y, loss=loss, learning_rate=0.2, epochs=4, batch_size=1, seed=123)
    hand_sgd(ref, x, y, loss, 0.2, 4, 1, seed=123)
    assert history.updates == 4 * 9
    assert_same_weights(net, ref, rtol=1e-13, atol=1e-15)


def test_mini_batches_are_a_hand_loop_with_a_short_last_batch():
    x, y = regression_data(n=11)
    net = dp.Network.from_sizes([3, 4, 2], ["tanh", "identity"], seed=2)
    ref = net.copy()
    history = net.fit(x, y, loss="squared_error", learning_rate=0.1, epochs=5, batch_size=4, seed=7)
    hand_sgd(ref, x, y, "squared_error", 0.1, 5, 4, seed=7)
    assert history.updates == 5 * 3  # batches of 4, 4 and 3
    assert_same_weights(net, ref, rtol=1e-13, atol=1e-15)


def test_same_seed_is_bit_identical_and_another_seed_differs():
    x, y = regression_data(n=20)

    def run(seed):
        net = dp.Network.from_sizes([3, 6, 2], ["relu", "identity"], seed=seed)
        net.fit(x, y, optimizer="adam", learning_rate=0.01, epochs=5, batch_size=3, seed=seed)
        return net

    assert_same_weights(run(42), run(42))
    a, b = run(42), run(43)
    assert not np.array_equal(a.params()["W1"], b.params()["W1"])
    # The shuffling seed alone changes the run too.
    c = dp.Network.from_sizes([3, 6, 2], ["relu", "identity"], seed=42)
    c.fit(x, y, optimizer="adam", learning_rate=0.01, epochs=5, batch_size=3, seed=7)
    assert not np.array_equal(a.params()["W2"], c.params()["W2"])


def test_integer_sample_weights_equal_repeated_samples():
    x, y = regression_data(n=5)
    w = np.array([2, 1, 3, 1, 1])
    a = dp.Network.from_sizes([3, 4, 2], ["tanh", "identity"], seed=2)
    b = a.copy()
    a.fit(x, y, learning_rate=0.1, epochs=10, batch_size=None, sample_weight=w)
    b.fit(
        np.repeat(x, w, axis=0),
        np.repeat(y, w, axis=0),
        learning_rate=0.1,
        epochs=10,
        batch_size=None,
    )
    assert_same_weights(a, b, rtol=1e-12, atol=1e-15)


def test_continuing_with_the_optimizer_state_equals_one_long_run():
    x, y = regression_data()
    a = dp.Network.from_sizes([3, 4, 2], ["tanh", "identity"], seed=2)
    b = a.copy()
    a.fit(x, y, optimizer="adam", learning_rate=0.01, epochs=10, batch_size=None)
    h = b.fit(x, y, optimizer="adam", learning_rate=0.01, epochs=4, batch_size=None)
    assert h.optimizer_state["step"] == 4
    b.fit(
        x,
        y,
        optimizer="adam",
        learning_rate=0.01,
        epochs=6,
        batch_size=None,
        optimizer_state=h.optimizer_state,
    )
    assert_same_weights(a, b)


# --- it learns ----------------------------------------------------------------------------------


def test_two_two_one_sigmoid_network_learns_xor():
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([[0], [1], [1], [0]], dtype=float)
    # With two hidden units XOR has local minima (seeds 0 and 4 end with outputs stuck at 0.5);
    # seed 1 starts in the basin of a solution.
    net = dp.Network.from_sizes([2, 2, 1], "sigmoid", seed=1)
    history = net.fit(x, y, learning_rate=2.0, epochs=3000, batch_size=None)
    o = net.predict(x).ravel()
    assert ((o > 0.5) == (y.ravel() > 0.5)).all(), o
    assert np.abs(o - y.ravel()).max() < 0.05
    assert history.accuracy[-1] == 1.0
    assert history.loss[-1] < 0.01 < history.loss[0]


def test_digits_reach_95_percent_test_accuracy():
    digits = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(
        digits.data / 16.0, digits.target, test_size=0.25, random_state=0, stratify=digits.target
    )
    net = dp.Network.from_sizes([64, 32, 10], ["relu", "softmax"], seed=0)
    history = net.fit(
        x_train,
        y_train,  # 1-D integer labels: one-hot encoded for the softmax output
        optimizer="adam",
        learning_rate=3e-3,
        epochs=20,
        batch_size=32,
        seed=0,
        validation_data=(x_test, y_test),
    )
    accuracy = float(np.mean(net.predict(x_test).argmax(axis=1) == y_test))
    assert accuracy > 0.95
    assert history.val_accuracy[-1] == pytest.approx(accuracy)
    # The work done, counted rather than timed (a wall-clock bound flakes on a busy machine):
    # 1,347 training samples in batches of 32 are 43 updates an epoch (42 full, one of 3).
    assert len(x_train) == 1347 and history.updates == 20 * 43
    assert len(history.epoch_seconds) == 20 and min(history.epoch_seconds) > 0


def test_one_dimensional_integer_labels_are_one_hot_for_softmax_outputs():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 3))
    labels = rng.integers(0, 4, size=12)
    one_hot = np.eye(4)[labels]
    a = dp.Network.from_sizes([3, 5, 4], ["tanh", "softmax"], seed=1)
    b = a.copy()
    ha = a.fit(x, labels, learning_rate=0.3, epochs=5, batch_size=4, seed=2)
    hb = b.fit(x, one_hot, learning_rate=0.3, epochs=5, batch_size=4, seed=2)
    assert_same_weights(a, b)
    assert ha.loss == hb.loss and ha.accuracy == hb.accuracy
    np.testing.assert_array_equal(dp.training.prepare_targets(a, labels, 12), one_hot)
    # Whole-number floats are labels too; fractional ones are not.
    np.testing.assert_array_equal(dp.training.prepare_targets(a, labels.astype(float), 12), one_hot)
    with pytest.raises(ValueError, match="integer class labels"):
        dp.training.prepare_targets(a, labels + 0.5, 12)
    with pytest.raises(ValueError, match=r"class labels must lie in 0…3 for 4 outputs, got 0…4"):
        dp.training.prepare_targets(a, np.append(labels[:-1], 4), 12)


# --- L2 regularisation --------------------------------------------------------------------------


def test_l2_gradient_equals_finite_differences_of_the_regularised_loss():
    """One full-batch SGD step moves θ by −η ∂/∂θ [E + (λ/2) Σₗ ‖Wˡ‖²] (biases not decayed)."""
    x, y = regression_data(n=8)
    net = dp.Network.from_sizes([3, 4, 2], ["tanh", "identity"], seed=5)
    for layer in net.layers:
        layer.b += 0.3  # non-zero biases, so that decaying them by mistake would show
    lam, lr = 0.2, 1e-3
    theta0 = net.get_weights()

    def regularised(weights):
        probe = net.copy()
        probe.set_weights(weights)
        e = probe.loss(x, y, "squared_error")
        return e + 0.5 * lam * sum(np.sum(w * w) for k, w in weights.items() if k[0] == "W")

    history = net.fit(
        x, y, loss="squared_error", learning_rate=lr, epochs=1, batch_size=None, l2=lam
    )
    assert history.loss[0] == pytest.approx(regularised(theta0), rel=1e-14)
    h = 1e-6
    for k, p0 in theta0.items():
        step_gradient = (p0 - net.params()[k]) / lr
        fd = np.empty_like(p0)
        for i in np.ndindex(p0.shape):
            plus, minus = dict(theta0), dict(theta0)
            plus[k], minus[k] = p0.copy(), p0.copy()
            plus[k][i] += h
            minus[k][i] -= h
            fd[i] = (regularised(plus) - regularised(minus)) / (2 * h)
        np.testing.assert_allclose(step_gradient, fd, rtol=1e-7, atol=1e-9, err_msg=k)


# --- learning-rate schedules --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "eta"),
    [
        (dp.Constant(), lambda e: 0.1),
        (dp.StepDecay(step_size=3, gamma=0.5), lambda e: 0.1 * 0.5 ** (e // 3)),
        (dp.ExponentialDecay(gamma=0.9), lambda e: 0.1 * 0.9**e),
        (dp.InverseScaling(power=0.5), lambda e: 0.1 / math.sqrt(e + 1)),
        ("exponential", lambda e: 0.1 * 0.95**e),
        (None, lambda e: 0.1),
    ],
)
def test_schedules_give_the_documented_learning_rate_per_epoch(schedule, eta):
    x, y = regression_data(n=4, d=2, k=1)
    net = dp.Network.from_sizes([2, 1], "identity", seed=0)
    weights = [net.get_weights()]
    record = dp.LambdaCallback(lambda epoch, logs, run: weights.append(run.network.get_weights()))
    history = net.fit(
        x,
        y,
        loss="squared_error",
        learning_rate=0.1,
        epochs=10,
        batch_size=None,
        schedule=schedule,
        callbacks=[record],
    )
    assert len(history.learning_rate) == 10
    for e, lr in enumerate(history.learning_rate):
        assert lr == pytest.approx(eta(e), rel=1e-15)
        # ... and it is the η actually used: the epoch's step is −η_e times the gradient.
        probe = net.copy()
        probe.set_weights(weights[e])
        g = probe.gradients(x, y, "squared_error").as_dict()
        for k in g:
            np.testing.assert_allclose(
                weights[e + 1][k], weights[e][k] - eta(e) * g[k], rtol=1e-14, atol=1e-16
            )


def plateau_rule(losses, base, factor, patience, threshold):
    """ReduceOnPlateau's documented rule, replayed on a loss curve: η for every epoch."""
    best, bad, scale, etas = math.inf, 0, 1.0, []
    for loss in losses:
        etas.append(base * scale)
        if loss < best * (1 - threshold):
            best, bad = loss, 0
        else:
            bad += 1
            if bad > patience:
                scale, bad = scale * factor, 0
    return etas


def test_reduce_on_plateau_lowers_the_learning_rate_when_the_loss_stalls():
    # Noisy linear data: the loss settles at the least-squares residual and stops improving.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 2))
    y = x @ np.array([[1.0], [-2.0]]) + 0.5 * rng.normal(size=(20, 1))
    net = dp.Network.from_sizes([2, 1], "identity", seed=0)
    sched = dp.ReduceOnPlateau(factor=0.5, patience=3, threshold=1e-3)
    history = net.fit(
        x, y, loss="squared_error", learning_rate=0.5, epochs=60, batch_size=None, schedule=sched
    )
    lrs = history.learning_rate
    assert lrs[:30] == [0.5] * 30  # while the loss still falls by more than 0.1% an epoch
    assert lrs[-1] < 0.5 / 4  # lowered at least three times once it stalls
    assert lrs == plateau_rule(history.loss, 0.5, 0.5, 3, 1e-3)
    assert all(b <= a for a, b in zip(lrs, lrs[1:], strict=False))


def test_reduce_on_plateau_keeps_the_rate_while_the_loss_improves_and_respects_min_lr():
    x, y = np.array([[0.5]]), np.array([[0.6]])
    net = dp.Network.from_weights([[[0.4]], [[0.3]]], [[0.1], [0.2]], ["sigmoid", "identity"])
    h = net.fit(
        x,
        y,
        loss="squared_error",
        learning_rate=0.1,
        epochs=30,
        batch_size=None,
        schedule=dp.ReduceOnPlateau(patience=2),
    )
    assert h.learning_rate == [0.1] * 30  # the tutorial's loss falls ~25% an epoch
    # A run whose loss is exactly constant (zero gradient) is cut at every patience + 1 epochs.
    flat = dp.Network.from_weights([[[0.0]]], None, "identity")
    h = flat.fit(
        x,
        [[0.0]],
        loss="squared_error",
        learning_rate=0.1,
        epochs=12,
        batch_size=None,
        schedule=dp.ReduceOnPlateau(factor=0.5, patience=2, min_lr=0.02),
    )
    assert h.learning_rate == pytest.approx([0.1] * 4 + [0.05] * 3 + [0.025] * 3 + [0.02] * 2)


# --- early stopping -----------------------------------------------------------------------------


def test_early_stopping_stops_and_restores_the_best_epochs_weights():
    # Train y = 1 from w = 0, validate against y = 0.5: the validation loss falls while the output
    # 1 − 0.9^(e+1) approaches 0.5 (best at epoch 6, output 0.522) and rises after.
    net = dp.Network.from_weights([[[0.0]]], None, "identity")
    saved = {}
    record = dp.LambdaCallback(lambda e, logs, run: saved.__setitem__(e, run.network.get_weights()))
    history = net.fit(
        [[1.0]],
        [[1.0]],
        loss="squared_error",
        learning_rate=0.1,
        epochs=100,
        batch_size=None,
        validation_data=([[1.0]], [[0.5]]),
        callbacks=[record],
        early_stopping=dp.EarlyStopping(patience=3),
    )
    best = int(np.argmin(history.val_loss))
    assert best == 6
    assert history.best_epoch == 6
    assert history.epochs == best + 3 + 1  # stopped after 3 epochs without improvement
    assert net.params()["W1"][0, 0] == pytest.approx(1 - 0.9**7, rel=1e-14)
    for k, v in net.get_weights().items():
        np.testing.assert_array_equal(v, saved[best][k])
    assert not np.array_equal(net.get_weights()["W1"], saved[history.epochs - 1]["W1"])


def test_early_stopping_on_training_accuracy_and_without_restoring():
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
    y = np.array([0, 0, 0, 1])[:, None].astype(float)  # AND: linearly separable
    net = dp.Network.from_sizes([2, 1], "sigmoid", seed=0)
    # Accuracy goes 0.5 → 0.75 (epoch 3) → 1.0 (epoch 17) and stays there.
    es = dp.EarlyStopping(monitor="accuracy", patience=15, restore_best_weights=False)
    history = net.fit(x, y, learning_rate=1.0, epochs=1000, batch_size=None, early_stopping=es)
    assert es.best_epoch == 17
    assert history.accuracy[es.best_epoch] == 1.0
    assert history.epochs == es.best_epoch + 15 + 1
    assert es.stopped_epoch == history.epochs - 1
    assert history.best_epoch is None  # nothing restored


# --- failure ------------------------------------------------------------------------------------


def test_divergence_raises_and_keeps_the_last_good_weights():
    x, y = regression_data(n=8, d=2, k=1, seed=3)
    net = dp.Network.from_sizes([2, 3, 1], ["identity", "identity"], seed=0)
    saved = [net.get_weights()]
    record = dp.LambdaCallback(lambda e, logs, run: saved.append(run.network.get_weights()))
    with np.errstate(over="ignore", invalid="ignore"):
        with pytest.raises(dp.DivergenceError, match=r"training diverged at epoch \d+") as info:
            net.fit(
                x,
                y,
                loss="squared_error",
                learning_rate=50.0,
                epochs=200,
                batch_size=None,
                callbacks=[record],
                divergence_check=False,  # the non-finite rule alone (the check stops it sooner)
            )
    message = str(info.value)
    assert "smaller learning rate" in message and "last good epoch" in message
    history = info.value.history
    good_epochs = history.epochs
    assert 0 < good_epochs < 200
    assert len(saved) == good_epochs + 1
    assert f"at epoch {good_epochs + 1}," in message
    weights = net.get_weights()
    for k, v in weights.items():
        assert np.isfinite(v).all()
        np.testing.assert_array_equal(v, saved[-1][k])


# --- precision and storage ----------------------------------------------------------------------


def test_float32_training_stays_float32_and_matches_float64():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4))
    y = np.tanh(x @ rng.normal(size=(4, 2)))
    net32 = dp.Network.from_sizes([4, 8, 2], ["tanh", "identity"], seed=0, dtype=np.float32)
    net64 = net32.astype(np.float64)
    h32 = net32.fit(
        x, y, optimizer="adam", learning_rate=0.01, epochs=10, batch_size=8, seed=1, l2=1e-3
    )
    h64 = net64.fit(
        x, y, optimizer="adam", learning_rate=0.01, epochs=10, batch_size=8, seed=1, l2=1e-3
    )
    assert net32.dtype == np.float32
    for k, p in net32.params().items():
        assert p.dtype == np.float32, k
        for slot in ("m", "v"):
            assert h32.optimizer_state[slot][k].dtype == np.float32
    assert net32.predict(x).dtype == np.float32
    fp = net32.forward(x)
    assert all(z.dtype == np.float32 for z in fp.z) and all(a.dtype == np.float32 for a in fp.a)
    g = net32.gradients(x, y, "squared_error")
    assert all(d.dtype == np.float32 for d in g.deltas)
    assert all(v.dtype == np.float32 for v in g.as_dict().values())
    assert_same_weights(net32, net64, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(h32.loss, h64.loss, rtol=1e-4)


def test_training_on_a_memmap_equals_training_in_memory(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype(np.float32)
    y = rng.normal(size=(40, 2))
    path = tmp_path / "x.f32"
    mm = np.memmap(path, dtype=np.float32, mode="w+", shape=x.shape)
    mm[:] = x
    mm.flush()
    del mm
    on_disk = np.memmap(path, dtype=np.float32, mode="r", shape=x.shape)
    a = dp.Network.from_sizes([3, 5, 2], ["sigmoid", "identity"], seed=0)
    b, c = a.copy(), a.copy()
    ha = a.fit(on_disk, y, learning_rate=0.1, epochs=4, batch_size=6, seed=3)
    hb = b.fit(np.array(on_disk), y, learning_rate=0.1, epochs=4, batch_size=6, seed=3)
    c.fit(on_disk, y, learning_rate=0.1, epochs=4, batch_size=None)
    assert_same_weights(a, b)
    assert ha.loss == hb.loss
    assert np.isfinite(c.params()["W1"]).all()


# --- the backward pass and its diagnostics ------------------------------------------------------


def test_backward_twice_returns_identical_fresh_gradients():
    x, y = regression_data(n=7)
    net = dp.Network.from_sizes([3, 4, 4, 2], ["sigmoid", "relu", "identity"], seed=3)
    fp = net.forward(x)
    g1 = net.backward(fp, y, "squared_error")
    kept = {k: v.copy() for k, v in g1.as_dict().items()}
    g2 = net.backward(fp, y, "squared_error")
    for k, v in g2.as_dict().items():
        np.testing.assert_array_equal(v, kept[k])
        np.testing.assert_array_equal(g1.as_dict()[k], kept[k])  # not accumulated into
        assert v is not g1.as_dict()[k]
    # The training loop's buffered pass: same values, twice, in the same buffers.
    ws = net.workspace(len(x))
    ws.x[:] = x
    ws.t[:] = y
    fp_ws = net.forward(ws.x, ws)
    first = {
        k: v.copy() for k, v in net.backward(fp_ws, ws.t, "squared_error", ws).as_dict().items()
    }
    second = net.backward(fp_ws, ws.t, "squared_error", ws).as_dict()
    for k in kept:
        np.testing.assert_array_equal(second[k], first[k])
        np.testing.assert_allclose(first[k], kept[k], rtol=1e-14, atol=1e-16)


def test_per_layer_gradient_norms_vanish_towards_the_input_in_a_deep_sigmoid_net():
    """Seed 002's observation: deltas shrink layer by layer on the way back (σ' ≤ ¼)."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(32, 4)), rng.uniform(size=(32, 1))
    net = dp.Network.from_sizes([4, 8, 8, 8, 8, 8, 1], "sigmoid", seed=0)
    history = net.fit(x, y, learning_rate=0.1, epochs=1, batch_size=None)
    grad_norms, delta_norms = history.layer_grad_norms[0], history.layer_delta_norms[0]
    assert len(grad_norms) == len(delta_norms) == 6
    assert all(a < b for a, b in zip(grad_norms, grad_norms[1:], strict=False)), grad_norms
    assert all(a < b for a, b in zip(delta_norms, delta_norms[1:], strict=False)), delta_norms
    assert grad_norms[0] < 1e-2 * grad_norms[-1]
    # And the norms are what they say: the gradients of the first (only) update.
    fresh = dp.Network.from_sizes([4, 8, 8, 8, 8, 8, 1], "sigmoid", seed=0)
    g = fresh.gradients(x, y, "log_loss")
    for i, (gW, gb) in enumerate(zip(g.weights, g.biases, strict=True)):
        assert grad_norms[i] == pytest.approx(math.sqrt(np.sum(gW**2) + np.sum(gb**2)), rel=1e-12)
        rms = math.sqrt(np.sum(g.deltas[i] ** 2) / len(x))
        assert delta_norms[i] == pytest.approx(rms, rel=1e-12)


def test_validation_loss_is_the_loss_at_the_end_of_each_epoch():
    x, y = regression_data(n=12)
    xv, yv = regression_data(n=5, seed=9)
    net = dp.Network.from_sizes([3, 4, 2], ["tanh", "identity"], seed=2)
    seen = []
    record = dp.LambdaCallback(lambda e, logs, run: seen.append(run.network.loss(xv, yv, "mse")))
    history = net.fit(
        x,
        y,
        loss="mse",
        epochs=4,
        batch_size=5,
        seed=0,
        validation_data=(xv, yv),
        callbacks=[record],
    )
    assert history.val_loss == pytest.approx(seen, rel=1e-15)


def test_messages_number_epochs_from_initial_epoch(capsys):
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([[0.0], [1.0], [1.0], [0.0]])
    net = dp.Network.from_sizes([2, 3, 1], ["tanh", "identity"], seed=0)
    net.fit(x, y, epochs=2, learning_rate=0.1, batch_size=4, verbose=True, initial_epoch=5)
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("epoch 6/7") and printed[1].startswith("epoch 7/7")
    before = net.get_weights()
    with pytest.raises(dp.DivergenceError, match=r"diverged at epoch 8, .* last good epoch \(7\)"):
        net.fit(x, y * 1e200, epochs=1, learning_rate=1e10, batch_size=4, initial_epoch=7)
    for k, v in net.get_weights().items():
        np.testing.assert_array_equal(v, before[k])


# --- fit's contract, setting by setting ---------------------------------------------------------


def test_the_defaults_are_ten_quiet_epochs_of_sgd_in_batches_of_32(capsys):
    """33 samples: a batch of 32 and one of 1 per epoch; SGD's η = 0.01; nothing printed."""
    x, y = regression_data(n=33, d=2, k=1)
    history = dp.Network.from_sizes([2, 3, 1], ["tanh", "identity"], seed=0).fit(x, y)
    assert history.epochs == 10 and history.updates == 10 * 2
    assert history.learning_rate == [0.01] * 10 and history.optimizer_name == "sgd"
    assert history.initial_epoch == 0 and history.update_loss == []
    assert len(history.layer_grad_norms) == 10  # norms tracked
    assert capsys.readouterr().out == ""


def test_zero_epochs_train_nothing_and_warn_nothing():
    x, y = regression_data(n=5)
    net = dp.Network.from_weights([[[5.0, 5.0, 5.0]] * 2], [[9.0, 9.0]], "identity")  # far off
    before = net.get_weights()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = net.fit(x, y, epochs=0, loss="squared_error")
    assert history.epochs == 0 and history.updates == 0
    for k, v in net.get_weights().items():
        np.testing.assert_array_equal(v, before[k])


class _Clock:
    """A ``time.perf_counter`` that moves a quarter second at every reading."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        self.now += 0.25
        return self.now


def test_epoch_seconds_are_each_epochs_own_duration(monkeypatch):
    """Read twice per epoch (start, end) from a clock that moves ¼ s per reading."""
    monkeypatch.setattr(dp.training.time, "perf_counter", _Clock())
    x, y = regression_data(n=6)
    history = dp.Network.from_sizes([3, 4, 2], ["tanh", "identity"], seed=0).fit(
        x, y, epochs=3, batch_size=2, track_norms=False
    )
    assert history.epoch_seconds == [0.25, 0.25, 0.25]


def test_verbose_prints_one_line_per_epoch_with_every_score(capsys):
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    labels = np.array([0, 1, 1, 0])
    net = dp.Network.from_sizes([2, 3, 2], ["tanh", "softmax"], seed=0)
    h = net.fit(x, labels, epochs=2, learning_rate=0.1, batch_size=4, verbose=True,
                validation_data=(x, labels), initial_epoch=3)  # fmt: skip
    expected = [
        f"epoch {4 + e}/5  loss {h.loss[e]:.4f}  accuracy {h.accuracy[e]:.4f}  "
        f"val_loss {h.val_loss[e]:.4f}  val_accuracy {h.val_accuracy[e]:.4f}"
        for e in range(2)
    ]
    assert capsys.readouterr().out.splitlines() == expected


def test_a_batch_error_that_overflows_stops_the_epoch_before_its_update():
    """Batches of 2 in stored order; the second holds a target of 1e200, whose squared error
    overflows: the first update was made, the second never is, and the network goes back to
    the weights the epoch started from."""
    x = np.ones((4, 1))
    y = np.array([[0.0], [0.0], [1e200], [0.0]])
    net = dp.Network.from_weights([[[0.5]]], [[0.0]], "identity")
    before = net.get_weights()
    with np.errstate(all="ignore"), pytest.raises(dp.DivergenceError) as info:
        net.fit(x, y, loss="squared_error", epochs=3, batch_size=2, shuffle=False)
    assert str(info.value) == (
        "training diverged at epoch 1, update 2: the loss became inf (try a smaller learning "
        "rate); the network keeps the weights of its last good epoch (0)."
    )
    assert info.value.history.epochs == 0
    for k, v in net.get_weights().items():
        np.testing.assert_array_equal(v, before[k])


def test_weights_that_overflow_in_an_update_are_caught_after_the_epoch():
    """o − t = 11 with η = 10³⁰⁸: the update overflows to −∞ while the error before it (60.5)
    was finite; the epoch counts from ``initial_epoch`` (4), the update is the epoch's first."""
    net = dp.Network.from_weights([[[1.0]]], [[0.0]], "identity")
    before = net.get_weights()
    with np.errstate(all="ignore"), pytest.raises(dp.DivergenceError) as info:
        net.fit([[1.0]], [[-10.0]], loss="squared_error", learning_rate=1e308, epochs=2,
                batch_size=None, initial_epoch=4)  # fmt: skip
    assert str(info.value) == (
        "training diverged at epoch 5, update 1: the loss became nan (try a smaller learning "
        "rate); the network keeps the weights of its last good epoch (4)."
    )
    for k, v in net.get_weights().items():
        np.testing.assert_array_equal(v, before[k])


def test_a_nan_read_from_a_memmap_names_the_epoch_and_keeps_the_last_good_weights(tmp_path):
    path = tmp_path / "x.f64"
    on_disk = np.memmap(path, dtype=np.float64, mode="w+", shape=(6, 2))
    on_disk[:] = 0.5
    on_disk[4, 1] = np.nan
    on_disk.flush()
    x = np.memmap(path, dtype=np.float64, mode="r", shape=(6, 2))
    net = dp.Network.from_sizes([2, 3, 1], ["tanh", "identity"], seed=0)
    before = net.get_weights()
    with pytest.raises(ValueError) as info:
        net.fit(x, np.zeros((6, 1)), epochs=2, batch_size=2, shuffle=False, initial_epoch=2)
    assert str(info.value) == (
        "x contains NaN or infinity (at index [4, 1]); training stopped in epoch 3 and the "
        "network keeps the weights of its last good epoch (2)"
    )
    for k, v in net.get_weights().items():
        np.testing.assert_array_equal(v, before[k])


def test_a_nan_in_a_memmap_x_val_is_refused_before_training(tmp_path):
    """Validation data are scored whole every epoch: a NaN in a memmap ``x_val`` (unchecked on
    the way in, as training rows are checked batch by batch) gave a NaN val_loss every epoch, in
    silence; it is refused before the first update, by name and position."""
    path = tmp_path / "xv.f64"
    on_disk = np.memmap(path, dtype=np.float64, mode="w+", shape=(5, 2))
    on_disk[:] = 0.25
    on_disk[3, 0] = np.nan
    on_disk.flush()
    xv = np.memmap(path, dtype=np.float64, mode="r", shape=(5, 2))
    net = dp.Network.from_sizes([2, 3, 1], ["tanh", "identity"], seed=0)
    before = net.get_weights()
    with pytest.raises(ValueError) as info:
        net.fit(np.ones((6, 2)), np.zeros((6, 1)), epochs=2, validation_data=(xv, np.zeros(5)))
    assert str(info.value) == "x_val contains NaN or infinity (first at index [3, 0])"
    for k, v in net.get_weights().items():
        np.testing.assert_array_equal(v, before[k])


@pytest.mark.parametrize(
    ("settings", "error", "message"),
    [
        ({"trace_steps": 3}, TypeError,
         "trace_steps must be a list of update numbers, e.g. [0, 100]"),
        ({"trace_steps": None}, TypeError,
         "trace_steps must be a list of update numbers, e.g. [0, 100]"),
        ({"trace_steps": [2, -1]}, ValueError, "Invalid trace_steps entry: -1 (expected >= 0)"),
        ({"divergence_check": "yes"}, TypeError,
         "divergence_check must be True, False or a DivergenceCheck"),
        ({"validation_data": (X := np.zeros((4, 2)),)}, ValueError,
         "validation_data must be a pair (x_val, y_val)"),
        ({"validation_data": (X, np.zeros((4, 1)), X)}, ValueError,
         "validation_data must be a pair (x_val, y_val)"),
        ({"validation_data": np.zeros((2, 4, 2))}, ValueError,
         "validation_data must be a pair (x_val, y_val)"),
        ({"early_stopping": -1}, ValueError, "Invalid early_stopping: -1 (expected >= 0)"),
        ({"learning_rate": 0}, ValueError, "Invalid learning rate: 0 (expected > 0.0)"),
        ({"epochs": -1}, ValueError, "Invalid epochs: -1 (expected >= 0)"),
        ({"initial_epoch": -1}, ValueError, "Invalid initial_epoch: -1 (expected >= 0)"),
        ({"l2": -0.5}, ValueError, "Invalid l2: -0.5 (expected >= 0.0)"),
        ({"batch_size": 0}, ValueError, "Invalid batch_size: 0 (expected >= 1)"),
    ],
)  # fmt: skip
def test_bad_settings_are_refused_with_the_whole_message(settings, error, message):
    net = dp.Network.from_sizes([2, 3, 1], ["tanh", "identity"], seed=0)
    with pytest.raises(error, match=re.escape(message) + "$"):
        net.fit(np.zeros((4, 2)), np.zeros((4, 1)), **settings)


def test_the_lowest_settings_are_accepted():
    """A pair given as a list, patience 0, update 0, batches of 1."""
    x, y = regression_data(n=4, d=2, k=1)
    net = dp.Network.from_sizes([2, 3, 1], ["tanh", "identity"], seed=0)
    h = net.fit(x, y, epochs=3, batch_size=1, trace_steps=[0], early_stopping=0,
                validation_data=[x, y], divergence_check=False)  # fmt: skip
    assert h.updates == 4 * h.epochs and [t.steps[0].step for t in h.traces] == [1]
    assert len(h.val_loss) == h.epochs


def test_an_epoch_is_snapshotted_only_when_a_stop_can_be_requested(monkeypatch):
    """Copying the optimizer state and the generator every epoch is needed only to go back
    there on a stop request."""
    taken = []
    original = dp.training._Snapshot

    def counting(run):
        taken.append(run)
        return original(run)

    monkeypatch.setattr(dp.training, "_Snapshot", counting)
    x, y = regression_data(n=6)
    net = dp.Network.from_sizes([3, 4, 2], ["tanh", "identity"], seed=0)
    net.fit(x, y, epochs=3, batch_size=2)
    assert taken == []
    net.fit(x, y, epochs=3, batch_size=2, stop=threading.Event())  # never set
    assert len(taken) == 3


def test_the_schedule_watches_the_validation_loss_when_there_is_one():
    """Train y = 1 from w = 0, validate against 0.5: the validation loss turns up at epoch 7
    while the training loss keeps falling; ReduceOnPlateau acts on the validation loss."""
    net = dp.Network.from_weights([[[0.0]]], None, "identity")
    sched = dp.ReduceOnPlateau(factor=0.5, patience=1, threshold=0.0)
    h = net.fit([[1.0]], [[1.0]], loss="squared_error", learning_rate=0.1, epochs=14,
                batch_size=None, schedule=sched, validation_data=([[1.0]], [[0.5]]))  # fmt: skip
    assert h.learning_rate == plateau_rule(h.val_loss, 0.1, 0.5, 1, 0.0)
    assert h.learning_rate[-1] < 0.1
    assert all(b < a for a, b in zip(h.loss, h.loss[1:], strict=False))  # training: no plateau


class _Begin(dp.Callback):
    """Keeps what the callbacks are told when training begins."""

    def on_train_begin(self, run):
        self.initial_loss, self.chance_loss = run.initial_loss, run.chance_loss


def test_the_untrained_error_is_measured_on_1024_evenly_spaced_rows():
    """2,047 rows: every second one (0, 2, …, 2046) exactly; weighted like the batch errors.
    E₀ is the weighted mean target's error over all rows."""
    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(2047, 2)), rng.normal(size=(2047, 1))
    w = rng.uniform(0.5, 2.0, size=2047)
    net = dp.Network.from_sizes([2, 3, 1], ["tanh", "identity"], seed=0)
    p = net.get_weights()
    begin = _Begin()
    net.fit(x, y, loss="squared_error", epochs=1, batch_size=None, sample_weight=w,
            callbacks=[begin], track_norms=False)  # fmt: skip
    o = np.tanh(x @ p["W1"].T + p["b1"]) @ p["W2"].T + p["b2"]
    j = 0.5 * np.sum((o - y) ** 2, axis=1)
    rows = np.arange(0, 2047, 2)
    assert len(rows) == 1024
    assert begin.initial_loss == pytest.approx(np.sum(w[rows] * j[rows]) / w[rows].sum(), rel=1e-12)
    mean = np.sum(w[:, None] * y, axis=0) / w.sum()
    e0 = np.sum(w * 0.5 * np.sum((y - mean) ** 2, axis=1)) / w.sum()
    assert begin.chance_loss == pytest.approx(e0, rel=1e-12)


def test_the_history_names_the_optimizer_and_keeps_the_schedule_given():
    x, y = regression_data(n=4)
    net = dp.Network.from_sizes([3, 4, 2], ["tanh", "identity"], seed=0)
    sched = dp.ExponentialDecay(gamma=0.5)
    h = net.fit(x, y, optimizer="adam", epochs=2, schedule=sched)
    assert h.optimizer_name == "adam" and h.schedule is sched
    assert net.fit(x, y, epochs=1).schedule is None


def test_the_optimizer_given_ends_with_its_own_learning_rate():
    """The schedule scales η epoch by epoch; afterwards the optimizer is as it was given."""
    x, y = regression_data(n=4)
    net = dp.Network.from_sizes([3, 4, 2], ["tanh", "identity"], seed=0)
    opt = dp.optimizers.get_optimizer("sgd", learning_rate=0.2)
    h = net.fit(x, y, optimizer=opt, epochs=3, schedule=dp.ExponentialDecay(gamma=0.5))
    assert h.learning_rate == [0.2, 0.1, 0.05]
    assert opt.learning_rate == 0.2


@pytest.mark.parametrize("batch_size", [None, 4])  # the workspace's buffers, 256-row ones
def test_saturated_and_dead_shares_are_each_epochs_end_on_the_training_rows(batch_size):
    """tanh → ReLU → identity. A tanh entry is saturated where ``|1 − a²| < 0.01``; a ReLU unit
    is dead where ``z ≤ 0`` on every row (the third: bias −100); the other shares are 0."""
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(50, 2)), rng.normal(size=(50, 1))
    w1, b1 = 3 * rng.normal(size=(4, 2)), rng.normal(size=4)
    w2, b2 = rng.normal(size=(3, 4)), np.array([0.5, -0.2, -100.0])
    net = dp.Network.from_weights([w1, w2, rng.normal(size=(1, 3))], [b1, b2, [0.0]],
                                  ["tanh", "relu", "identity"])  # fmt: skip
    ends = []
    record = dp.LambdaCallback(lambda e, logs, run: ends.append(run.network.get_weights()))
    h = net.fit(x, y, loss="squared_error", learning_rate=0.01, epochs=2, batch_size=batch_size,
                shuffle=False, callbacks=[record])  # fmt: skip
    for e, p in enumerate(ends):
        a1 = np.tanh(x @ p["W1"].T + p["b1"])
        z2 = a1 @ p["W2"].T + p["b2"]
        assert np.abs(np.abs(1 - a1**2) - 0.01).min() > 1e-9 and np.abs(z2).min() > 1e-9
        saturated, dead = np.mean(np.abs(1 - a1**2) < 0.01), np.mean((z2 <= 0).all(axis=0))
        assert 0 < saturated < 1 and dead == 1 / 3
        assert h.layer_saturation[e] == pytest.approx([saturated, 0.0, 0.0], abs=1e-15)
        assert h.layer_dead[e] == pytest.approx([0.0, dead, 0.0], abs=1e-15)


def test_the_vanishing_warning_names_the_epoch_counted_from_initial_epoch():
    """Ten sigmoid layers (σ′ ≤ ¼): the first layer's gradient stays far below 1e-4 of the
    last's for both epochs of a run resumed after epoch 5: the warning says epoch 7."""
    from deltaprop.vanishing import CURES, VanishingGradientWarning

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 4)), rng.uniform(size=(16, 1))
    net = dp.Network.from_sizes([4] + [6] * 9 + [1], "sigmoid", seed=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        h = net.fit(x, y, learning_rate=0.1, epochs=2, batch_size=None, initial_epoch=5)
    (warning,) = [w for w in caught if w.category is VanishingGradientWarning]
    first, last = h.layer_grad_norms[1][0], h.layer_grad_norms[1][-1]
    assert str(warning.message) == (
        f"vanishing gradients: the first layer's gradient norm is {first:.3g}, "
        f"{first / last:.2g} of the last layer's ({last:.3g}) in epoch 7 (below 0.0001 for 2 "
        f"epoch(s) in a row), so the early layers barely learn; usual cures: {CURES}"
    )


def test_outputs_too_large_to_compute_are_training_divergence_not_an_error_of_predict():
    """An untrained output that overflows (inputs 1e300, weight 10) makes the untrained error
    infinite and the first batch error too: fit stops with DivergenceError. Validation rows that
    overflow (2 × 1e308) give an infinite validation loss, and the run goes on."""
    net = dp.Network.from_weights([[[10.0]]], [[0.0]], "identity")
    with np.errstate(all="ignore"), pytest.raises(dp.DivergenceError, match="became inf"):
        net.fit([[1e300], [1.0]], [[0.0], [0.0]], loss="squared_error", batch_size=None)
    net = dp.Network.from_weights([[[2.0]]], [[0.0]], "identity")  # y = 2x exactly
    h = net.fit([[1.0], [2.0]], [[2.0], [4.0]], loss="squared_error", learning_rate=0.01,
                epochs=2, batch_size=None, validation_data=([[1e308]], [[0.0]]))  # fmt: skip
    assert h.val_loss == [math.inf, math.inf] and all(math.isfinite(v) for v in h.loss)


def test_targets_are_checked_once_for_rows_summing_to_one(monkeypatch):
    """Labels made one-hot sum to 1 by construction: checked once for the run, not per batch
    (softmax + cross-entropy's δ = o − t needs them to)."""
    from deltaprop import losses, step

    calls = []
    original = losses.rows_sum_to_one

    def counting(t, exact=False):
        calls.append(len(t))
        return original(t, exact)

    monkeypatch.setattr(losses, "rows_sum_to_one", counting)
    monkeypatch.setattr(step, "rows_sum_to_one", counting)
    x = np.random.default_rng(0).normal(size=(12, 3))
    net = dp.Network.from_sizes([3, 4, 3], ["tanh", "softmax"], seed=0)
    h = net.fit(x, np.arange(12) % 3, epochs=2, batch_size=4, learning_rate=0.1)
    assert h.updates == 6 and calls == [12]


class _StopAfter:
    """A stop request (anything with ``is_set()``) that turns true at its ``k + 1``-th reading."""

    def __init__(self, k, signal=None):
        self.k, self.asked = k, 0
        if signal is not None:
            self.signal = signal

    def is_set(self):
        self.asked += 1
        return self.asked > self.k


def test_a_stop_request_goes_back_to_the_last_complete_epoch():
    """Batches of 4, 4, 3: the fifth reading is after epoch 2's second batch. Adam's state (its
    step count 3, its moments) and the weights are those at the end of epoch 1, counted from
    ``initial_epoch``; the message says where, the error carries the request's signal, the
    optimizer given has its own learning rate again."""
    x, y = regression_data(n=11)
    net = dp.Network.from_sizes([3, 4, 2], ["tanh", "identity"], seed=2)
    ends = []
    record = dp.LambdaCallback(lambda e, logs, run: ends.append(
        (run.network.get_weights(), copy.deepcopy(run.state))))  # fmt: skip
    adam = dp.optimizers.get_optimizer("adam", learning_rate=0.01)
    with pytest.raises(dp.TrainingInterrupted) as info:
        net.fit(x, y, optimizer=adam, epochs=3, batch_size=4, seed=0, initial_epoch=5,
                schedule=dp.ExponentialDecay(gamma=0.5), callbacks=[record],
                stop=_StopAfter(4, signal=15))  # fmt: skip
    error = info.value
    assert str(error) == "training interrupted during epoch 7: back at the end of epoch 6"
    assert error.signal == 15 and error.checkpoint is None and error.history.epochs == 1
    assert adam.learning_rate == 0.01  # the schedule's factor taken off again
    ((weights, state),) = ends
    for k, v in net.get_weights().items():
        np.testing.assert_array_equal(v, weights[k])
    assert error.history.optimizer_state["step"] == state["step"] == 3
    for slot in ("m", "v"):
        for k, v in state[slot].items():
            np.testing.assert_array_equal(error.history.optimizer_state[slot][k], v)


def test_an_interrupted_run_with_a_checkpoint_says_where_it_is(tmp_path):
    x, y = regression_data(n=11)
    net = dp.Network.from_sizes([3, 4, 2], ["tanh", "identity"], seed=2)
    with pytest.raises(dp.TrainingInterrupted) as info:
        net.fit(x, y, epochs=3, batch_size=4, seed=0, stop=_StopAfter(4),
                callbacks=[dp.Checkpoint(tmp_path, every=10)])  # fmt: skip
    path = tmp_path / "epoch-00001.deltaprop"
    assert path.exists() and info.value.checkpoint == str(path)
    assert info.value.signal is None
    assert str(info.value) == (
        f"training interrupted during epoch 2: back at the end of epoch 1; checkpoint: {path}"
    )


def test_callbacks_see_every_score_of_the_epoch_in_logs():
    x = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    labels = np.array([0, 1, 1, 0])
    net = dp.Network.from_sizes([2, 3, 2], ["tanh", "softmax"], seed=0)
    seen = []
    record = dp.LambdaCallback(lambda e, logs, run: seen.append(dict(logs)))
    h = net.fit(x, labels, epochs=2, learning_rate=0.5, batch_size=2, seed=0,
                validation_data=(x[:3], labels[:3]), callbacks=[record])  # fmt: skip
    assert seen == [
        {"loss": h.loss[e], "accuracy": h.accuracy[e], "val_loss": h.val_loss[e],
         "val_accuracy": h.val_accuracy[e]}
        for e in range(2)
    ]  # fmt: skip
    assert [len(h.loss), len(h.val_accuracy)] == [2, 2]


def test_a_recorded_update_of_a_batch_shows_every_row_of_it():
    """A batch of 4 rows is not one sample given as a vector: its JSON lists the 4 rows."""
    x, y = regression_data(n=8)
    net = dp.Network.from_sizes([3, 4, 2], ["tanh", "identity"], seed=2)
    h = net.fit(x, y, epochs=1, batch_size=4, shuffle=False, trace_steps=[1])
    (trace,) = h.traces
    assert trace.single_sample is False
    np.testing.assert_array_equal(np.array(trace.as_dict()["input"]), x[4:8])


def test_a_float32_network_s_saturation_is_measured_in_float32():
    """tanh′ = 1 − a² near the 1 % threshold (z ≈ 2.99322): on these float32 inputs float32
    arithmetic finds every entry saturated, float64 none. Targets equal the outputs, so the
    weights never move; small batches take the 256-row buffers, which must be float32 too."""
    z0 = np.float32(np.arctanh(np.sqrt(0.99)))
    z = z0 + np.arange(-3000, 3000, dtype=np.float32) * np.spacing(z0)
    d32 = np.float32(1) - np.tanh(z) ** 2
    d64 = 1 - np.tanh(z.astype(np.float64)) ** 2
    x = z[(d32 < np.float32(0.01)) & ~(d64 < 0.01)][:, None]
    assert len(x) >= 10
    net = dp.Network.from_weights([[[1.0]], [[1.0]]], [[0.0], [0.0]], ["tanh", "identity"],
                                  dtype=np.float32)  # fmt: skip
    h = net.fit(x, np.tanh(x), loss="squared_error", epochs=1, batch_size=4)
    assert h.layer_saturation == [[1.0, 0.0]]
