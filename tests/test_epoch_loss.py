"""The epoch loss with a short last batch, against a hand computation over the real batch lengths.

``history.loss[e]`` is ``Σ_b n_b E_b / n``: each batch's error ``E_b`` (at the weights before that
batch's update, with the L2 term at those weights) weighted by the batch's own length ``n_b``. On
11 samples in batches of 4 the lengths are 4, 4, 3; weighting the last one by 4 instead
(``(4 E₁ + 4 E₂ + 4 E₃) / 11``) is a bug the loop's own numbers would not show, yet
``ReduceOnPlateau`` and ``EarlyStopping(monitor="loss")`` act on this value. The reference here is a
two-layer tanh network trained by NumPy code written out below — forward, ½ squared error, delta
rule, SGD — sharing nothing with the engine but the starting weights.
"""

import math
import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import deltaprop as dp
from deltaprop.estimators import MLPRegressor

N, BATCH = 11, 4  # batches of 4, 4 and 3


def data(k=2, seed=1):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(N, 3)), rng.normal(size=(N, k))


def batch_error(p, x, t, lam):
    """``E_b = (1/n_b) Σᵢ ½‖oᵢ − tᵢ‖² + (λ/2)(‖W1‖² + ‖W2‖²)`` and its gradient, by hand."""
    a1 = np.tanh(x @ p["W1"].T + p["b1"])
    o = a1 @ p["W2"].T + p["b2"]
    e = 0.5 * np.sum((o - t) ** 2) / len(x) + 0.5 * lam * (
        np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2)
    )
    d2 = (o - t) / len(x)
    d1 = (d2 @ p["W2"]) * (1 - a1**2)
    grads = {
        "W2": d2.T @ a1 + lam * p["W2"],
        "b2": d2.sum(axis=0),
        "W1": d1.T @ x + lam * p["W1"],
        "b1": d1.sum(axis=0),
    }
    return e, grads


def hand_epoch(p, x, t, lr, lam=0.0, lam_per_batch=None):
    """One epoch of mini-batch SGD in stored order; returns every batch's (n_b, E_b)."""
    seen = []
    for start in range(0, len(x), BATCH):
        xb, tb = x[start : start + BATCH], t[start : start + BATCH]
        lam_b = lam if lam_per_batch is None else lam_per_batch / len(xb)
        e, g = batch_error(p, xb, tb, lam_b)
        seen.append((len(xb), e))
        for k in p:
            p[k] = p[k] - lr * g[k]
    return seen


def test_fit_weights_each_batch_by_its_real_length():
    x, t = data()
    net = dp.Network.from_sizes([3, 4, 2], ["tanh", "identity"], seed=2)
    p = net.get_weights()
    history = net.fit(
        x, t, loss="squared_error", learning_rate=0.1, epochs=3, batch_size=BATCH,
        shuffle=False, l2=0.05,
    )  # fmt: skip
    for e in range(3):
        batches = hand_epoch(p, x, t, 0.1, lam=0.05)
        assert [nb for nb, _ in batches] == [4, 4, 3]
        right = sum(nb * eb for nb, eb in batches) / N
        full = sum(BATCH * eb for _, eb in batches) / N  # the last batch counted as 4 samples
        assert abs(full - right) > 1e-3 * right  # the two weightings are told apart
        assert history.loss[e] == pytest.approx(right, rel=1e-12)
    for k, v in net.get_weights().items():
        np.testing.assert_allclose(v, p[k], rtol=1e-12, atol=1e-14)


def test_reduce_on_plateau_acts_on_that_epoch_loss():
    """The hand loop applies the documented rule (η × factor once the loss has not fallen by a
    relative ``threshold`` for more than ``patience`` epochs) to its own epoch losses."""
    x, t = data()
    net = dp.Network.from_sizes([3, 4, 2], ["tanh", "identity"], seed=2)
    p = net.get_weights()
    factor, patience, threshold = 0.5, 1, 0.02
    history = net.fit(
        x, t, loss="squared_error", learning_rate=0.3, epochs=12, batch_size=BATCH,
        shuffle=False,
        schedule=dp.ReduceOnPlateau(factor=factor, patience=patience, threshold=threshold),
    )  # fmt: skip
    best, bad, eta, etas, losses = math.inf, 0, 0.3, [], []
    for _ in range(12):
        etas.append(eta)
        batches = hand_epoch(p, x, t, eta)
        loss = sum(nb * eb for nb, eb in batches) / N
        losses.append(loss)
        if loss < best * (1 - threshold):
            best, bad = loss, 0
        else:
            bad += 1
            if bad > patience:
                eta, bad = eta * factor, 0
    assert history.loss == pytest.approx(losses, rel=1e-11)
    assert history.learning_rate == pytest.approx(etas, rel=1e-15)
    assert etas[-1] < etas[0]  # the rule did act within the run


def test_early_stopping_on_the_training_loss_stops_where_the_hand_loop_does():
    x, t = data()
    net = dp.Network.from_sizes([3, 4, 2], ["tanh", "identity"], seed=2)
    p = net.get_weights()
    min_delta, patience = 0.004, 2
    es = dp.EarlyStopping(monitor="loss", patience=patience, min_delta=min_delta)
    history = net.fit(
        x, t, loss="squared_error", learning_rate=0.1, epochs=200, batch_size=BATCH,
        shuffle=False, early_stopping=es,
    )  # fmt: skip
    best, best_epoch, wait, losses = math.inf, None, 0, []
    for epoch in range(200):
        batches = hand_epoch(p, x, t, 0.1)
        losses.append(sum(nb * eb for nb, eb in batches) / N)
        if losses[-1] < best - min_delta:
            best, best_epoch, wait = losses[-1], epoch, 0
        else:
            wait += 1
            if wait >= patience:
                break
    assert 5 < len(losses) < 200  # it stopped, after learning for a while
    assert history.loss == pytest.approx(losses, rel=1e-11)
    assert es.best_epoch == history.best_epoch == best_epoch
    assert es.stopped_epoch == len(losses) - 1


def test_estimator_loss_curve_weights_each_batch_by_its_real_length():
    """scikit-learn's epoch loss is the same ``Σ_b n_b E_b / n``; its L2 term in batch ``b`` is
    ``α/(2 n_b) Σ‖W‖²`` (so ``λ = α / n_b``, larger in the short batch)."""
    x, t = data(k=1)
    y = t.ravel()
    alpha, lr = 0.2, 0.1
    est = MLPRegressor(
        hidden_layer_sizes=(4,), activation="tanh", solver="sgd", momentum=0.0,
        learning_rate_init=lr, batch_size=BATCH, shuffle=False, alpha=alpha, max_iter=1,
        n_iter_no_change=1000, random_state=0, warm_start=True,
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(x, y)  # builds the network; its weights are replaced next
        rng = np.random.default_rng(3)
        start = [rng.normal(size=c.shape) for c in est.coefs_ + est.intercepts_]
        for c, v in zip(est.coefs_ + est.intercepts_, start, strict=True):
            c[...] = v  # coefs_ and intercepts_ are views of the network's arrays
        est.set_params(max_iter=3).fit(x, y)
    p = {"W1": start[0].T, "W2": start[1].T, "b1": start[2], "b2": start[3]}
    expected = []
    for _ in range(3):
        batches = hand_epoch(p, x, t, lr, lam_per_batch=alpha)
        expected.append(sum(nb * eb for nb, eb in batches) / N)
    assert len(est.loss_curve_) == 4
    np.testing.assert_allclose(est.loss_curve_[1:], expected, rtol=1e-12)
    np.testing.assert_allclose(est.coefs_[0], p["W1"].T, rtol=1e-12, atol=1e-14)
