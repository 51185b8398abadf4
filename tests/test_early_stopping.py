"""EarlyStopping: ``min_delta`` at both directions and at its boundary, patience, what it records.

An epoch improves on the best so far only by *more than* ``min_delta``: a loss must fall below
``best − min_delta`` and an accuracy rise above ``best + min_delta``. The values below are exact
binary fractions, so "exactly ``min_delta``" is exact, and ``np.nextafter`` is "just past it".
"""

import math

import numpy as np
import pytest

import deltaprop as dp


class Run:
    """What a callback sees of a training run: a network, the stop flag, the history."""

    def __init__(self):
        self.network = dp.Network.from_weights([[[0.0]]], None, "identity")
        self.stop_training = False
        self.history = dp.History()


def feed(es, key, values):
    """Epoch ends with ``logs[key]`` taking ``values``; stops feeding when asked to stop."""
    run = Run()
    es.on_train_begin(run)
    for epoch, value in enumerate(values):
        run.network.layers[0].W[0, 0] = epoch  # tells the epochs' weights apart
        es.on_epoch_end(epoch, {"loss": None, "accuracy": None, key: value}, run)
        if run.stop_training:
            break
    es.on_train_end(run)
    return run


LOSS_CASES = [  # (second value after a first of 1.0 with min_delta 0.25, does it improve?)
    (0.75, False),  # better by exactly min_delta: not enough
    (np.nextafter(0.75, 0.0), True),  # better by just more than min_delta
    (np.nextafter(0.75, 1.0), False),  # better by just less
    (0.8, False),
    (0.5, True),
    (1.0, False),  # equal
    (1.1, False),  # worse
]


@pytest.mark.parametrize("monitor", ["loss", "val_loss"])
@pytest.mark.parametrize(("second", "improves"), LOSS_CASES)
def test_a_loss_must_fall_by_more_than_min_delta(monitor, second, improves):
    es = dp.EarlyStopping(monitor=monitor, patience=5, min_delta=0.25)
    run = feed(es, monitor, [1.0, second])
    assert es.best == (second if improves else 1.0)
    assert es.best_epoch == (1 if improves else 0)
    assert es.wait == (0 if improves else 1)
    assert not run.stop_training
    assert run.history.best_epoch == es.best_epoch
    assert run.network.layers[0].W[0, 0] == es.best_epoch  # the best epoch's weights restored


ACCURACY_CASES = [  # after a first of 0.5 with min_delta 0.25
    (0.75, False),
    (np.nextafter(0.75, 1.0), True),
    (np.nextafter(0.75, 0.0), False),
    (0.7, False),
    (1.0, True),
    (0.5, False),
    (0.25, False),
]


@pytest.mark.parametrize("monitor", ["accuracy", "val_accuracy"])
@pytest.mark.parametrize(("second", "improves"), ACCURACY_CASES)
def test_an_accuracy_must_rise_by_more_than_min_delta(monitor, second, improves):
    es = dp.EarlyStopping(monitor=monitor, patience=5, min_delta=0.25)
    feed(es, monitor, [0.5, second])
    assert es.best == (second if improves else 0.5)
    assert es.wait == (0 if improves else 1)


@pytest.mark.parametrize("monitor", ["loss", "val_loss"])
def test_without_min_delta_any_decrease_improves_and_a_tie_does_not(monitor):
    es = dp.EarlyStopping(monitor=monitor, patience=5)
    feed(es, monitor, [1.0, np.nextafter(1.0, 0.0), np.nextafter(1.0, 0.0)])
    assert (es.best, es.best_epoch, es.wait) == (np.nextafter(1.0, 0.0), 1, 1)


def test_the_first_epoch_is_always_the_best_so_far():
    for monitor, first in (("loss", 1e300), ("accuracy", 0.0)):
        es = dp.EarlyStopping(monitor=monitor, patience=1, min_delta=1.0)
        feed(es, monitor, [first])
        assert (es.best, es.best_epoch, es.wait) == (first, 0, 0)


@pytest.mark.parametrize(
    ("patience", "stopped"),
    [(0, 1), (1, 1), (2, 2), (3, 3)],  # patience 0 stops at the first epoch without improvement
)
def test_patience_counts_epochs_without_improvement(patience, stopped):
    es = dp.EarlyStopping(
        monitor="loss", patience=patience, min_delta=0.1, restore_best_weights=False
    )
    run = feed(es, "loss", [1.0, 0.95, 0.92, 0.91, 0.5])
    assert run.stop_training and es.stopped_epoch == stopped
    assert es.best_epoch == 0 and es.best == 1.0
    assert run.history.best_epoch is None and run.network.layers[0].W[0, 0] == stopped


def test_val_loss_falls_back_to_loss_without_validation_data():
    es = dp.EarlyStopping(monitor="val_loss", patience=1)
    feed(es, "loss", [2.0, 1.0])
    assert (es.best, es.best_epoch) == (1.0, 1)
    es = dp.EarlyStopping(monitor="loss", patience=1)
    with pytest.raises(ValueError, match="EarlyStopping monitors 'loss', which is not recorded"):
        feed(es, "val_loss", [2.0])


def test_min_delta_must_not_be_negative():
    with pytest.raises(ValueError, match=r"Invalid min_delta: -0.1 \(expected >= 0.0\)"):
        dp.EarlyStopping(min_delta=-0.1)


def analytic_losses(epochs):
    """Identity unit w = 0 trained on x = 1, t = 1 (½ squared error, η = 0.1, full batch): after
    e + 1 updates w = 1 − 0.9^(e+1). The training loss of epoch e is at the weights before its
    update, ½·0.81^e; the validation loss (t = 1 again) is at the weights after it, ½·0.81^(e+1)."""
    loss = [0.5 * 0.81**e for e in range(epochs)]
    return loss, [0.5 * 0.81 ** (e + 1) for e in range(epochs)]


def expected_stop(values, min_delta, patience):
    """The documented rule replayed: (best epoch, number of epochs run)."""
    best, best_epoch, wait = math.inf, None, 0
    for epoch, value in enumerate(values):
        if value < best - min_delta:
            best, best_epoch, wait = value, epoch, 0
        else:
            wait += 1
            if wait >= patience:
                return best_epoch, epoch + 1
    return best_epoch, len(values)


@pytest.mark.parametrize("monitor", ["loss", "val_loss"])
@pytest.mark.parametrize("min_delta", [0.0, 0.02, 0.05])
def test_fit_stops_where_the_rule_says_on_its_monitored_loss(monitor, min_delta):
    loss, val_loss = analytic_losses(300)
    best_epoch, epochs = expected_stop(loss if monitor == "loss" else val_loss, min_delta, 2)
    net = dp.Network.from_weights([[[0.0]]], None, "identity")
    history = net.fit(
        [[1.0]], [[1.0]], loss="squared_error", learning_rate=0.1, epochs=300, batch_size=None,
        validation_data=([[1.0]], [[1.0]]),
        early_stopping=dp.EarlyStopping(monitor=monitor, patience=2, min_delta=min_delta),
    )  # fmt: skip
    assert history.epochs == epochs and history.best_epoch == best_epoch
    np.testing.assert_allclose(history.loss, loss[:epochs], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(history.val_loss, val_loss[:epochs], rtol=1e-13, atol=1e-15)
    assert net.params()["W1"][0, 0] == pytest.approx(1 - 0.9 ** (best_epoch + 1), rel=1e-13)
    if min_delta:
        assert epochs < 300  # min_delta ends the run while the loss still falls


def test_defaults_and_bad_settings():
    es = dp.EarlyStopping()
    assert (es.monitor, es.patience, es.min_delta, es.restore_best_weights) == (
        "val_loss", 10, 0.0, True,
    )  # fmt: skip
    with pytest.raises(ValueError, match=r"^Invalid patience: -1 \(expected >= 0\)$"):
        dp.EarlyStopping(patience=-1)
    with pytest.raises(ValueError, match=r"^Invalid patience: 2.5 \(expected a whole number\)$"):
        dp.EarlyStopping(patience=2.5)
    with pytest.raises(ValueError, match=r"^unknown monitor 'f1'; expected loss, val_loss, "):
        dp.EarlyStopping(monitor="f1")


def test_every_run_starts_afresh():
    """``on_train_begin`` resets what an earlier run left: no best yet, nothing waited."""
    es = dp.EarlyStopping(monitor="loss", patience=1)
    feed(es, "loss", [1.0, 2.0])  # stops at epoch 1 with best 1.0
    assert es.stopped_epoch == 1
    run = Run()
    es.on_train_begin(run)
    assert (es.best, es.best_epoch, es.wait, es.best_weights, es.stopped_epoch) == (
        math.inf, -1, 0, None, None,
    )  # fmt: skip
    es = dp.EarlyStopping(monitor="val_accuracy")
    es.on_train_begin(run)
    assert es.best == -math.inf


@pytest.mark.parametrize("restore", [True, False])
def test_a_value_that_never_improves_restores_nothing(restore):
    """NaN compares false with everything: no epoch is ever the best, the run stops after
    ``patience`` epochs, and the network keeps its last weights."""
    es = dp.EarlyStopping(monitor="loss", patience=2, restore_best_weights=restore)
    run = feed(es, "loss", [math.nan] * 5)
    assert (es.best_epoch, es.wait, es.stopped_epoch, es.best_weights) == (-1, 2, 1, None)
    assert run.history.best_epoch is None and run.network.layers[0].W[0, 0] == 1


def test_a_run_that_keeps_improving_does_not_stop():
    es = dp.EarlyStopping(monitor="loss", patience=1)
    run = feed(es, "loss", [3.0, 2.0, 1.0])
    assert not run.stop_training and es.stopped_epoch is None and es.best_epoch == 2


def test_lambda_callback_sees_the_epoch_its_logs_and_the_run():
    seen = []
    record = dp.LambdaCallback(lambda epoch, logs, run: seen.append((epoch, dict(logs), run)))
    net = dp.Network.from_weights([[[0.0]]], None, "identity")
    history = net.fit(
        [[1.0]], [[1.0]], loss="squared_error", learning_rate=0.1, epochs=2, batch_size=None,
        validation_data=([[1.0]], [[1.0]]), callbacks=[record],
    )  # fmt: skip
    assert [e for e, _, _ in seen] == [0, 1]
    assert seen[0][1] == {"loss": 0.5, "accuracy": None, "val_loss": pytest.approx(0.405)}
    assert seen[1][1]["loss"] == pytest.approx(0.405) and seen[1][2].history is history
    assert seen[1][2].network is net
