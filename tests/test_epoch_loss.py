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


def batch_error(p, x, t, lam, w=None, sigmoid=False):
    """``E_b = Σᵢ wᵢ ½‖oᵢ − tᵢ‖² / Σᵢ wᵢ + (λ/2)(‖W1‖² + ‖W2‖²)`` (``wᵢ = 1`` unless given), its
    gradient and the outputs, by hand; ``o = z²`` or, with ``sigmoid``, ``σ(z²)``."""
    w = np.ones(len(x)) if w is None else w
    a1 = np.tanh(x @ p["W1"].T + p["b1"])
    z2 = a1 @ p["W2"].T + p["b2"]
    o = 1 / (1 + np.exp(-z2)) if sigmoid else z2
    e = np.sum(w * 0.5 * np.sum((o - t) ** 2, axis=1)) / w.sum() + 0.5 * lam * (
        np.sum(p["W1"] ** 2) + np.sum(p["W2"] ** 2)
    )
    d2 = w[:, None] * (o - t) / w.sum() * (o * (1 - o) if sigmoid else 1)
    d1 = (d2 @ p["W2"]) * (1 - a1**2)
    grads = {
        "W2": d2.T @ a1 + lam * p["W2"],
        "b2": d2.sum(axis=0),
        "W1": d1.T @ x + lam * p["W1"],
        "b1": d1.sum(axis=0),
    }
    return e, grads, o


def hand_epoch(p, x, t, lr, lam=0.0, lam_per_batch=None, w=None, sigmoid=False, record=None):
    """One epoch of mini-batch SGD in stored order; returns every batch's (n_b, E_b). A batch
    whose weights sum to zero is skipped. ``record`` (a list) receives each update's batch error,
    outputs, gradients and the weights before and after it."""
    seen = []
    for start in range(0, len(x), BATCH):
        rows = slice(start, start + BATCH)
        xb, tb = x[rows], t[rows]
        wb = None if w is None else w[rows]
        if wb is not None and not wb.sum() > 0:
            continue
        lam_b = lam if lam_per_batch is None else lam_per_batch / len(xb)
        before = dict(p)
        e, g, o = batch_error(p, xb, tb, lam_b, wb, sigmoid)
        seen.append((len(xb), e))
        for k in p:
            p[k] = p[k] - lr * g[k]
        if record is not None:
            record.append({"x": xb, "E": e, "o": o, "t": tb, "g": g, "before": before,
                           "after": dict(p)})  # fmt: skip
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


# --- what else an epoch records -------------------------------------------------------------------


def _net():
    return dp.Network.from_sizes([3, 4, 2], ["tanh", "identity"], seed=2)


def _fit(net, x, t, **settings):
    """``fit`` in stored order, batches of 4, 4 and 3, two epochs unless told otherwise."""
    plain = {"loss": "squared_error", "learning_rate": 0.1, "epochs": 2, "batch_size": BATCH,
             "shuffle": False}  # fmt: skip
    return net.fit(x, t, **{**plain, **settings})


def test_every_update_loss_is_its_batch_error_before_the_update():
    x, t = data()
    net = _net()
    p = net.get_weights()
    history = _fit(net, x, t, l2=0.05, record_update_loss=True)
    expected = [e for _ in range(2) for _, e in hand_epoch(p, x, t, 0.1, lam=0.05)]
    assert history.update_loss == pytest.approx(expected, rel=1e-12)
    assert _fit(_net(), x, t).update_loss == []  # only when asked for


def test_training_accuracy_counts_the_correct_rows_of_every_batch():
    """Sigmoid outputs read at 0.5, each batch's rows before its update: the epoch's accuracy is
    the count over all batches divided by n."""
    x, _ = data()
    t = (x[:, :2] > 0).astype(float)  # two yes/no outputs per row
    net = dp.Network.from_sizes([3, 4, 2], ["tanh", "sigmoid"], seed=0)
    p = net.get_weights()
    history = _fit(net, x, t, learning_rate=2.0, epochs=3)
    losses, accuracy = [], []
    for _ in range(3):
        record = []
        batches = hand_epoch(p, x, t, 2.0, sigmoid=True, record=record)
        assert min(np.abs(r["o"] - 0.5).min() for r in record) > 1e-6  # no output on the fence
        right = [int(((r["o"] > 0.5) == (r["t"] > 0.5)).all(axis=1).sum()) for r in record]
        assert sum(right[:-1]) > 0  # the last batch alone would give another count
        accuracy.append(sum(right) / N)
        losses.append(sum(nb * eb for nb, eb in batches) / N)
    assert history.loss == pytest.approx(losses, rel=1e-12)
    assert history.accuracy == accuracy


def test_a_batch_whose_weights_sum_to_zero_is_skipped_and_the_epoch_goes_on():
    x, t = data()
    w = np.ones(N)
    w[4:8] = 0.0  # the whole second batch
    net = _net()
    p = net.get_weights()
    history = _fit(net, x, t, sample_weight=w)
    expected = []
    for _ in range(2):
        batches = hand_epoch(p, x, t, 0.1, w=w)
        assert [nb for nb, _ in batches] == [4, 3]
        expected.append(sum(nb * eb for nb, eb in batches) / N)
    assert history.updates == 2 * 2
    assert history.loss == pytest.approx(expected, rel=1e-12)
    for k, v in net.get_weights().items():
        np.testing.assert_allclose(v, p[k], rtol=1e-12, atol=1e-14)


def test_recorded_updates_are_the_hand_loops_counted_across_epochs():
    """``trace_steps=[1, 3, 5]`` (from 0) over batches of 4, 4, 3: epoch 1's second batch, epoch
    2's first and last. Each record holds that batch's rows and the hand loop's weights before
    and after it (weighted samples, L2), and is numbered from 1."""
    x, t = data()
    w = np.linspace(0.5, 2.0, N)
    net = _net()
    p = net.get_weights()
    history = _fit(net, x, t, l2=0.05, sample_weight=w, trace_steps=[1, 3, 5])
    record = []
    for _ in range(2):
        hand_epoch(p, x, t, 0.1, lam=0.05, w=w, record=record)
    assert [tr.steps[0].step for tr in history.traces] == [2, 4, 6]
    for trace, k in zip(history.traces, [1, 3, 5], strict=True):
        st, r = trace.steps[0], record[k]
        np.testing.assert_array_equal(st.x, r["x"])
        for i in (1, 2):
            np.testing.assert_allclose(st.W[i - 1], r["before"][f"W{i}"], rtol=1e-12, atol=1e-14)
            np.testing.assert_allclose(st.W_after[i - 1], r["after"][f"W{i}"], rtol=1e-12,
                                       atol=1e-14)  # fmt: skip


def test_gradient_norms_are_the_rms_over_each_epochs_own_updates():
    """``layer_grad_norms[e][l] = √(mean over epoch e's updates of ‖(∂E/∂Wˡ, ∂E/∂bˡ)‖²)``, the
    L2 term included; each epoch starts its sums from zero."""
    x, t = data()
    net = _net()
    p = net.get_weights()
    history = _fit(net, x, t, l2=0.05)
    for e in range(2):
        record = []
        hand_epoch(p, x, t, 0.1, lam=0.05, record=record)
        squares = [[np.sum(r["g"][f"W{i}"] ** 2) + np.sum(r["g"][f"b{i}"] ** 2) for i in (1, 2)]
                   for r in record]  # fmt: skip
        rms = np.sqrt(np.mean(squares, axis=0))
        assert history.layer_grad_norms[e] == pytest.approx(rms, rel=1e-12)
        assert history.grad_norm[e] == pytest.approx(math.sqrt(np.sum(rms**2)), rel=1e-12)
    # without tracking: no norms and no saturation recorded, the same training
    quiet = _fit(_net(), x, t, l2=0.05, track_norms=False)
    assert quiet.loss == history.loss
    assert quiet.layer_grad_norms == quiet.grad_norm == quiet.layer_delta_norms == []
    assert quiet.layer_saturation == quiet.layer_dead == []


def _step(net, learning_rate=0.1):
    from deltaprop.optimizers import get_optimizer
    from deltaprop.step import TrainingStep

    opt = get_optimizer({"name": "sgd", "learning_rate": learning_rate})
    return TrainingStep(net, "squared_error", opt, opt.init(net.params()))


def test_run_epoch_on_its_own_adds_no_penalty_and_numbers_updates_from_one():
    from deltaprop.epoch import run_epoch

    x, t = data()
    net = _net()
    p = net.get_weights()
    r = run_epoch(_step(net), x, t, None, BATCH, trace_at=frozenset({0}))
    batches = hand_epoch(p, x, t, 0.1)
    assert r.loss == pytest.approx(sum(nb * eb for nb, eb in batches) / N, rel=1e-12)
    assert r.updates == 3 and r.finite and not r.interrupted
    assert [st.step for st in r.traces] == [1]


def test_a_stop_request_ends_the_epoch_after_the_batch_it_follows():
    """``stop()`` is asked after every batch; true after the second, the epoch ends there:
    two updates made, the third batch never run."""
    from deltaprop.epoch import run_epoch

    x, t = data()
    net = _net()
    p = net.get_weights()
    asked = []

    def stop():
        asked.append(True)
        return len(asked) == 2

    r = run_epoch(_step(net), x, t, None, BATCH, stop=stop, trace_at=frozenset({0, 2}))
    record = []
    hand_epoch(p, x, t, 0.1, record=record)
    assert r.interrupted and r.updates == 2 and len(asked) == 2
    # the loss is Σ_b n_b E_b / n over the batches run; a regression counts no correct rows
    assert r.loss == pytest.approx((4 * record[0]["E"] + 4 * record[1]["E"]) / N, rel=1e-12)
    assert r.correct == 0
    assert [st.step for st in r.traces] == [1]  # the third update, also asked for, never ran
    for k, v in net.get_weights().items():
        np.testing.assert_allclose(v, record[1]["after"][k], rtol=1e-12, atol=1e-14)


def test_an_overflowing_batch_error_ends_the_epoch_with_what_it_had():
    """The second batch's target of 1e200 overflows its squared error: the epoch ends there,
    not finite, with one update made, that batch's error as its loss, and the update recorded
    before it kept."""
    from deltaprop.epoch import run_epoch

    x, t = data()
    t[5] = 1e200
    net = _net()
    with np.errstate(all="ignore"):
        r = run_epoch(_step(net), x, t, None, BATCH, trace_at=frozenset({0}))
    assert r.finite is False and not r.interrupted
    assert r.updates == 1 and r.loss == math.inf and r.correct == 0
    assert [st.step for st in r.traces] == [1]
    # through fit: the DivergenceError's history keeps that recorded update
    with np.errstate(all="ignore"), pytest.raises(dp.DivergenceError) as info:
        _fit(_net(), x, t, trace_steps=[0])
    assert [tr.steps[0].step for tr in info.value.history.traces] == [1]
