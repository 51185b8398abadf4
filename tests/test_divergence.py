"""Divergence is always caught: non-finite, worse than chance (classifiers), exploding (all)."""

from __future__ import annotations

import math
import os
import re
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


def test_no_rows_have_a_chance_loss_of_zero():
    """An empty target has nothing to predict: ``E₀ = 0``, not the NaN of an empty mean."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert chance_loss(get_loss("cross_entropy"), np.empty((0, 3))) == 0.0


# --- the settings ---------------------------------------------------------------------------------


def test_the_defaults_are_the_documented_ones():
    """docs/training.md: factor 4, patience 3, progress a tenth, growth 10."""
    check = DivergenceCheck()
    assert (check.factor, check.patience, check.progress, check.growth) == (4.0, 3, 0.1, 10.0)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ({"factor": 0.5}, "Invalid factor: 0.5 (expected >= 1.0)"),
        ({"patience": 0}, "Invalid patience: 0 (expected >= 1)"),
        ({"progress": -0.1}, "Invalid progress: -0.1 (expected >= 0.0)"),
        ({"progress": 1.5}, "Invalid progress: 1.5 (expected <= 1.0)"),
        ({"growth": 0.5}, "Invalid growth: 0.5 (expected >= 1.0)"),
    ],
)
def test_settings_out_of_range_are_refused_by_name(setting, message):
    with pytest.raises(ValueError, match=re.escape(message) + "$"):
        DivergenceCheck(**setting)


def test_the_bounds_themselves_are_accepted():
    low = DivergenceCheck(factor=1, patience=1, progress=0, growth=1)
    assert (low.factor, low.patience, low.progress, low.growth) == (1.0, 1, 0.0, 1.0)
    assert DivergenceCheck(progress=1).progress == 1.0
    assert DivergenceCheck(factor=1.5, growth=1.5).factor == 1.5  # any bound above 1 refuses it


# --- the rules, one epoch at a time ---------------------------------------------------------------


class _Weights:
    """Stands in for the network: the weights it hands out are numbered 0, 1, 2, … (epoch ``e``
    starts from number ``e``), and it keeps the ones it is given back."""

    def __init__(self):
        self.handed, self.restored = 0, None

    def get_weights(self):
        self.handed += 1
        return {"number": self.handed - 1}

    def set_weights(self, weights):
        self.restored = weights


def _drive(losses, check=None, *, chance=1.0, initial=None, classifier=True):
    """Feed ``losses`` to the check as ``fit`` does (the history first, then ``on_epoch_end``);
    return the epoch it stopped at (None if it did not), the error and the stand-in network."""
    check = DivergenceCheck() if check is None else check
    net = _Weights()
    run = dp.training.TrainingRun(net, None, None, dp.History(), chance_loss=chance,
                                  initial_loss=initial, classifier=classifier)  # fmt: skip
    check.on_train_begin(run)
    for epoch, loss in enumerate(losses):
        run.history.loss.append(loss)
        try:
            check.on_epoch_end(epoch, {"loss": loss}, run)
        except dp.DivergenceError as exc:
            assert exc.history is run.history
            return epoch, exc, net
    return None, None, net


def test_exploding_from_the_first_epoch_stops_at_the_third():
    """The untrained error (1) is the reference even when the first epoch is already 100×
    above it; the third epoch in a row above 10× stops the run, not the second; the loss ties
    (100, 100, 100), so the best epoch is the first and the weights it started from come back."""
    stopped, error, net = _drive([100.0] * 4, initial=1.0, classifier=False)
    assert stopped == 2
    assert str(error) == (
        "training is not learning: the loss has stayed above 10× the untrained or best loss (1) "
        "for 3 epochs (now 100), at epoch 3; try a smaller learning rate. The network is back at "
        "the weights its best epoch started from (loss 100)."
    )
    assert net.restored == {"number": 0}


def test_exploding_is_measured_from_the_smaller_of_untrained_and_best():
    """Untrained 100, best 1 (epoch 1, started from weights 1): 20 is above 10 × 1."""
    stopped, error, net = _drive([50.0, 1.0, 20.0, 20.0, 20.0], initial=100.0, classifier=False)
    assert stopped == 4
    assert "above 10× the untrained or best loss (1) for 3 epochs (now 20)" in str(error)
    assert net.restored == {"number": 1}


@pytest.mark.parametrize(
    ("losses", "initial"),
    [
        ([10.0] * 5, 1.0),  # exactly 10 × the reference is not above it
        ([15.0] * 5, 2.0),  # 15 < 10 × 2: growth multiplies the reference
        ([100.0, 100.0, 1.0, 100.0, 100.0], 1.0),  # a good epoch starts the count again
    ],
)
def test_no_explosion_without_patience_epochs_in_a_row_above_growth_times_reference(
    losses, initial
):
    assert _drive(losses, initial=initial, classifier=False)[0] is None


def test_a_classifier_stuck_above_chance_stops_at_the_third_epoch():
    stopped, error, net = _drive([9.0, 9.0, 9.0, 9.0])
    assert stopped == 2
    assert str(error) == (
        "training is not learning: the loss has stayed above 4× the chance-level loss (1) for 3 "
        "epochs without coming down (9 → 9), at epoch 3; try a smaller learning rate. The network "
        "is back at the weights its best epoch started from (loss 9)."
    )
    assert net.restored == {"number": 0}


@pytest.mark.parametrize(
    ("losses", "chance", "check"),
    [
        ([4.0] * 5, 1.0, None),  # exactly factor × E₀ is not above it
        ([5.0] * 5, 2.0, None),  # 5 < 4 × 2: the limit is factor × E₀
        ([5.0] * 5, 0.0, None),  # constant targets (E₀ = 0): no limit at all
        ([8.0, 6.0, 3.99], 0.5, DivergenceCheck(progress=0.5)),  # down by more than half
    ],
)
def test_no_stop_below_the_limit_or_coming_down(losses, chance, check):
    assert _drive(losses, check, chance=chance)[0] is None


def test_down_by_exactly_the_progress_is_not_enough():
    """8 → 6 → 4 with progress ½: 4 is not below (1 − ½) × 8 (all exact binary fractions)."""
    stopped, error, _ = _drive([8.0, 6.0, 4.0], DivergenceCheck(progress=0.5), chance=0.5)
    assert stopped == 2 and "without coming down (8 → 4)" in str(error)


def test_constant_targets_have_no_limit():
    check = DivergenceCheck()
    _drive([], check, chance=0.0)
    assert check.limit() == math.inf


def _end(losses, chance=1.0):
    """``on_train_end`` after a run with these epoch losses: the warnings it gives."""
    check = DivergenceCheck()
    run = dp.training.TrainingRun(_Weights(), None, None, dp.History(loss=list(losses)),
                                  chance_loss=chance)  # fmt: skip
    check.on_train_begin(run)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        check.on_train_end(run)
    return caught


def test_a_run_that_ends_above_the_limit_warns_once_with_the_whole_message():
    """The last epoch decides: 9, 1, 9 ends above 4 × E₀; 9, 9, 1 and 4 (exactly 4 E₀) do not."""
    caught = _end([9.0, 1.0, 9.0])
    assert [w.category for w in caught] == [RuntimeWarning]
    assert str(caught[0].message) == (
        "the training loss ended at 9, above 4× the chance-level loss (1): the model does worse "
        "than always predicting the mean target. Train for more epochs if the loss is still "
        "falling; otherwise try a smaller learning rate."
    )
    assert _end([9.0, 9.0, 1.0]) == [] and _end([4.0]) == [] and _end([]) == []
    assert _end([9.0], chance=0.0) == []  # constant targets: no limit


def test_the_warning_points_at_the_line_that_called_fit():
    """Through ``Network.fit`` as through ``dp.fit``: the first caller outside deltaprop (this
    file; under mutmut its trampoline, which sits between the caller and the mutated code)."""
    x = np.linspace(-1.0, 1.0, 8)[:, None]
    y = 0.01 * x  # E₀ = ½ Var(y) ≈ 2e-5; the network starts 10 off: a loss near 50
    net = dp.Network.from_weights([[[1.0]]], [[10.0]], "identity")
    for train in (net.fit, lambda *a, **k: dp.fit(net, *a, **k)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            train(x, y, loss="squared_error", learning_rate=1e-6, epochs=1, batch_size=None)
        assert [w.category for w in caught] == [RuntimeWarning]
        assert not caught[0].filename.startswith(os.path.dirname(dp.__file__) + os.sep)


def test_the_check_speaks_first_so_no_callback_hears_the_epoch_it_stops():
    """The check runs before the callbacks given (a checkpoint is never written of the epoch
    that stopped the run); they heard every epoch before it."""
    x, y = _blobs()
    net = dp.Network.from_sizes([4, 8, 3], ["relu", "softmax"], seed=1)
    heard = []
    record = dp.LambdaCallback(lambda epoch, logs, run: heard.append(epoch))
    with np.errstate(all="ignore"), pytest.raises(dp.DivergenceError) as info:
        net.fit(x, y, learning_rate=1000.0, epochs=50, batch_size=16, seed=0, callbacks=[record])
    assert info.value.history.epochs >= 3
    assert heard == list(range(info.value.history.epochs - 1))
