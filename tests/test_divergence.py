"""Divergence is always caught: non-finite, worse than chance (classifiers), exploding (all)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import deltaprop as dp
from deltaprop.divergence import DivergenceCheck, chance_loss
from deltaprop.losses import get_loss

OPTIMIZERS = ["sgd", "momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam", "adamw"]


def _blobs(n=120, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    y = (x[:, 0] + x[:, 1] > 0).astype(int) + (x[:, 2] > 0.5)
    return x, y


def test_chance_loss_is_the_error_of_predicting_the_mean_target():
    # cross-entropy: the entropy of the class frequencies, −Σ p log p
    t = np.eye(3)[[0, 0, 1, 2, 2, 2]]
    p = np.array([2, 1, 3]) / 6
    assert chance_loss(get_loss("cross_entropy"), t) == pytest.approx(-(p * np.log(p)).sum())
    # squared error: ½ Σₖ Var(tₖ) (population variance)
    t = np.array([[1.0, 0.0], [3.0, 4.0], [5.0, 8.0]])
    assert chance_loss(get_loss("squared_error"), t) == pytest.approx(0.5 * (8 / 3 + 32 / 3))
    # log loss of a 1-in-4 binary target: −(¼ log ¼ + ¾ log ¾)
    t = np.array([[1.0], [0.0], [0.0], [0.0]])
    assert chance_loss(get_loss("log_loss"), t) == pytest.approx(
        -(0.25 * math.log(0.25) + 0.75 * math.log(0.75))
    )
    # weighted: frequencies by weight
    t = np.eye(2)[[0, 1]]
    w = np.array([3.0, 1.0])
    assert chance_loss(get_loss("cross_entropy"), t, w) == pytest.approx(
        -(0.75 * math.log(0.75) + 0.25 * math.log(0.25))
    )


def test_a_classifier_stuck_far_above_chance_is_stopped_with_its_best_weights():
    """The issue's case: lr = 1000 leaves a softmax classifier at a clipped loss far above chance
    (no NaN ever appears); the network gets back the weights its best epoch started from."""
    x, y = _blobs()
    net = dp.Network.from_sizes([4, 8, 3], ["relu", "softmax"], seed=1)
    entering = [net.get_weights()]  # the weights each epoch starts from
    record = dp.LambdaCallback(lambda e, logs, run: entering.append(run.network.get_weights()))
    with np.errstate(all="ignore"), pytest.raises(dp.DivergenceError) as info:
        net.fit(x, y, optimizer="sgd", learning_rate=1000.0, epochs=50, batch_size=16, seed=0,
                callbacks=[record], divergence_check=DivergenceCheck(growth=1e9))  # fmt: skip
    message = str(info.value)
    assert "chance-level loss" in message and "smaller learning rate" in message
    history = info.value.history
    assert 3 <= history.epochs < 50
    e0 = chance_loss(get_loss("cross_entropy"), np.eye(3)[y])
    assert all(loss > 4 * e0 for loss in history.loss[-3:])
    best = int(np.argmin(history.loss))
    for k, v in net.get_weights().items():
        np.testing.assert_array_equal(v, entering[best][k])
        assert np.isfinite(v).all()
    assert f"{history.loss[best]:.4g}" in message
    # with the default check the loss's growth over the untrained network's stops it too
    net = dp.Network.from_sizes([4, 8, 3], ["relu", "softmax"], seed=1)
    with np.errstate(all="ignore"), pytest.raises(dp.DivergenceError, match="smaller learning"):
        net.fit(x, y, optimizer="sgd", learning_rate=1000.0, epochs=50, batch_size=16, seed=0)


def test_an_exploding_regression_is_stopped_before_it_overflows():
    rng = np.random.default_rng(3)
    x, y = rng.normal(size=(8, 2)), rng.normal(size=(8, 1))
    net = dp.Network.from_sizes([2, 3, 1], ["identity", "identity"], seed=0)
    with pytest.raises(dp.DivergenceError, match="untrained or best loss") as info:
        net.fit(x, y, loss="squared_error", learning_rate=50.0, epochs=200, batch_size=None)
    history = info.value.history
    assert all(math.isfinite(v) for v in history.loss)
    # full-batch: an epoch's loss is that of the weights it started from, which are restored
    assert net.loss(x, y, "squared_error") == pytest.approx(min(history.loss), rel=1e-12)


@pytest.mark.parametrize("optimizer", OPTIMIZERS)
@pytest.mark.parametrize("loss", ["cross_entropy", "log_loss", "squared_error", "mse"])
def test_absurd_learning_rates_never_end_silently(loss, optimizer):
    """Every loss and optimizer at lr = 10⁶: stopped with DivergenceError or warned, and the
    network's weights are finite either way."""
    x, y = _blobs()
    acts, target = {
        "cross_entropy": (["relu", "softmax"], np.eye(3)[y]),
        "log_loss": (["tanh", "sigmoid"], (x[:, :1] > 0).astype(float)),
        "squared_error": (["tanh", "identity"], 3 * x[:, :2]),
        "mse": (["relu", "identity"], x[:, :1] ** 2),
    }[loss]
    net = dp.Network.from_sizes([4, 8, target.shape[1]], acts, seed=1)
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        try:
            net.fit(x, target, loss=loss, optimizer=optimizer, learning_rate=1e6, epochs=30,
                    batch_size=16, seed=0)  # fmt: skip
            stopped = False
        except dp.DivergenceError as exc:
            stopped = "smaller learning rate" in str(exc)
    warned = any("chance-level loss" in str(w.message) for w in caught)
    assert stopped or warned
    assert all(np.isfinite(v).all() for v in net.params().values())


def test_no_false_alarm_on_real_data():
    from sklearn.datasets import load_digits, load_iris

    for load, hidden in ((load_iris, 8), (load_digits, 32)):
        x, y = load(return_X_y=True)
        x = (x - x.mean(0)) / (x.std(0) + 1e-9)
        for optimizer, lr in (("sgd", 0.1), ("adam", 0.01), ("momentum", 0.05)):
            net = dp.Network.from_sizes([x.shape[1], hidden, 10 if hidden == 32 else 3],
                                        ["relu", "softmax"], seed=0)  # fmt: skip
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # neither a stop nor a warning
                net.fit(x, y, optimizer=optimizer, learning_rate=lr, epochs=15, seed=0)


def test_a_run_far_off_but_learning_is_left_alone():
    check = DivergenceCheck(factor=4.0, patience=3)
    run = dp.training.TrainingRun(None, None, None, dp.History(), chance_loss=1.0, classifier=True)

    class Net:
        def get_weights(self):
            return {}

        def set_weights(self, w):
            pass

    run.network = Net()
    check.on_train_begin(run)
    for loss in (30.0, 25.0, 20.0, 16.0, 12.0, 9.0):  # far above 4× chance, 20 % down per epoch
        run.history.loss.append(loss)
        check.on_epoch_end(len(run.history.loss) - 1, {"loss": loss}, run)
    for loss in (9.0, 8.8):  # stuck: 9 → 9 → 8.8 is not a tenth down over three epochs
        run.history.loss.append(loss)
        if loss == 8.8:
            with pytest.raises(dp.DivergenceError, match=r"9 → 8\.8"):
                check.on_epoch_end(0, {"loss": loss}, run)
        else:
            check.on_epoch_end(0, {"loss": loss}, run)


def test_the_check_can_be_turned_off_and_tuned():
    x, y = _blobs()
    net = dp.Network.from_sizes([4, 8, 3], ["relu", "softmax"], seed=1)
    with warnings.catch_warnings(record=True) as caught, np.errstate(all="ignore"):
        warnings.simplefilter("always")
        h = net.fit(x, y, learning_rate=1000.0, epochs=8, batch_size=16, seed=0,
                    divergence_check=False)  # fmt: skip
    assert h.epochs == 8 and not any("chance" in str(w.message) for w in caught)
    with pytest.raises(TypeError, match="divergence_check"):
        net.fit(x, y, epochs=1, divergence_check="yes")
    with pytest.raises(ValueError, match="factor"):
        DivergenceCheck(factor=0.5)
    strict = DivergenceCheck(patience=1)
    with np.errstate(all="ignore"), pytest.raises(dp.DivergenceError):
        net.fit(x, y, learning_rate=1000.0, epochs=8, batch_size=16, seed=0,
                divergence_check=strict)  # fmt: skip
