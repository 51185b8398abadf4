"""Checkpoints and clean interrupts: a run stopped and resumed ends bit for bit where one ends."""

from __future__ import annotations

import os
import re
import signal
import threading
from pathlib import Path

import numpy as np
import pytest

import deltaprop as dp
from deltaprop._modelfile import Preprocessing
from deltaprop.checkpoints import Checkpoint, latest, prune, resume
from deltaprop.history import History, TrainingRun
from deltaprop.interrupt import StopRequest, TrainingInterrupted, stop_on_signals
from deltaprop.optimizers import get_optimizer
from deltaprop.schedules import Schedule


def _data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 3))
    y = (x[:, 0] * x[:, 1] > 0).astype(int)
    return x, y


SETTINGS = dict(optimizer={"name": "adam"}, learning_rate=0.01, batch_size=8, l2=0.001,
                schedule="reduce_on_plateau")  # fmt: skip


def _net():
    return dp.Network.from_sizes([3, 6, 2], ["tanh", "softmax"], seed=4)


def _same(a: dp.Network, b: dp.Network) -> None:
    for la, lb in zip(a.layers, b.layers, strict=True):
        np.testing.assert_array_equal(la.W, lb.W)
        np.testing.assert_array_equal(la.b, lb.b)


class StopAfter:
    """A stop request that comes true at the k-th check (one check per batch)."""

    def __init__(self, k: int):
        self.k, self.calls = k, 0

    def is_set(self) -> bool:
        self.calls += 1
        return self.calls >= self.k


def test_three_plus_three_epochs_from_a_checkpoint_equal_six(tmp_path):
    x, y = _data()
    whole = _net()
    h6 = whole.fit(x, y, epochs=6, seed=11, **SETTINGS)
    first = _net()
    first.fit(x, y, epochs=3, seed=11, callbacks=[Checkpoint(tmp_path)], **SETTINGS)
    assert latest(tmp_path).name == "epoch-00003.deltaprop"
    net, kwargs = resume(latest(tmp_path))
    assert kwargs["initial_epoch"] == 3
    h = net.fit(x, y, epochs=3, batch_size=8, l2=0.001, **kwargs)
    _same(net, whole)
    assert h.loss == h6.loss[3:]
    for slot in ("m", "v"):
        for k, v in h.optimizer_state[slot].items():
            np.testing.assert_array_equal(v, h6.optimizer_state[slot][k])


def test_an_interrupted_run_goes_back_to_its_last_epoch_and_resumes_bit_for_bit(tmp_path):
    x, y = _data()
    whole = _net()
    whole.fit(x, y, epochs=6, seed=11, **SETTINGS)
    three = _net()
    three.fit(x, y, epochs=3, seed=11, **SETTINGS)
    net = _net()
    # 7 batches an epoch: the 24th check is in the middle of epoch 4
    with pytest.raises(TrainingInterrupted) as info:
        net.fit(x, y, epochs=6, seed=11, stop=StopAfter(24), callbacks=[Checkpoint(tmp_path)],
                **SETTINGS)  # fmt: skip
    assert info.value.history.epochs == 3 and info.value.signal is None
    assert info.value.checkpoint == str(tmp_path / "epoch-00003.deltaprop")
    assert "back at the end of epoch 3" in str(info.value)
    _same(net, three)  # back at the end of epoch 3, though epoch 4 had begun
    resumed, kwargs = resume(info.value.checkpoint)
    resumed.fit(x, y, epochs=3, batch_size=8, l2=0.001, **kwargs)
    _same(resumed, whole)


def test_interrupted_without_checkpoints_the_history_is_kept():
    x, y = _data()
    net = _net()
    with pytest.raises(TrainingInterrupted) as info:
        net.fit(x, y, epochs=6, seed=1, stop=StopAfter(3), **SETTINGS)
    assert info.value.history.epochs == 0 and info.value.checkpoint is None
    _same(net, _net())  # back at the start


def test_keep_and_best(tmp_path):
    x, y = _data()
    net = _net()
    cp = Checkpoint(tmp_path, every=2, keep=2, best=True)
    h = net.fit(x, y, epochs=7, seed=3, validation_data=(x[:10], y[:10]), callbacks=[cp],
                **SETTINGS)  # fmt: skip
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["best.deltaprop", "epoch-00004.deltaprop", "epoch-00006.deltaprop"]
    best = dp.load(tmp_path / "best.deltaprop")
    assert best.history.epochs == int(np.argmin(h.val_loss)) + 1
    assert cp.last == tmp_path / "epoch-00006.deltaprop"


def test_every_few_seconds(tmp_path):
    x, y = _data()
    cp = Checkpoint(tmp_path, every=None, seconds=0.0, keep=10)
    _net().fit(x, y, epochs=3, seed=3, callbacks=[cp], **SETTINGS)
    assert len(list(tmp_path.glob("epoch-*.deltaprop"))) == 3


def test_bad_checkpoint_settings_and_files(tmp_path):
    quiet = tmp_path / "only-on-interrupt"
    x, y = _data()
    _net().fit(x, y, epochs=2, callbacks=[Checkpoint(quiet, every=None)], **SETTINGS)
    assert not quiet.exists()  # neither every nor seconds: written only when interrupted
    with pytest.raises(ValueError, match="keep"):
        Checkpoint(tmp_path, keep=0)
    path = tmp_path / "plain.deltaprop"
    dp.save(path, _net())
    with pytest.raises(ValueError, match="not a checkpoint"):
        resume(path)


def test_signals_become_a_stop_request_and_their_handlers_come_back():
    x, y = _data()
    before = signal.getsignal(signal.SIGTERM)
    net = _net()
    send = dp.LambdaCallback(
        lambda epoch, logs, run: os.kill(os.getpid(), signal.SIGTERM) if epoch == 1 else None
    )
    with pytest.raises(TrainingInterrupted) as info, stop_on_signals() as stop:
        net.fit(x, y, epochs=6, seed=1, stop=stop, callbacks=[send], **SETTINGS)
    assert info.value.signal == signal.SIGTERM
    assert info.value.history.epochs == 2  # the signal came at the end of epoch 2
    assert signal.getsignal(signal.SIGTERM) is before


# --- Checkpoint, one hook at a time, on a run built by hand --------------------------------------


def _raises(exc, message):
    """``pytest.raises`` matching the whole message."""
    return pytest.raises(exc, match="^" + re.escape(message) + "$")


def _run(learning_rate=0.05) -> TrainingRun:
    """A run as ``fit`` hands it to callbacks, before its first epoch."""
    net = _net()
    opt = get_optimizer({"name": "adam", "learning_rate": learning_rate})
    return TrainingRun(net, opt, opt.init(net.params()), History(),
                       rng=np.random.default_rng(0), base_learning_rate=learning_rate)  # fmt: skip


def _end_epoch(cp: Checkpoint, run: TrainingRun, **logs) -> None:
    """One more epoch recorded in the history, then the callback told of it."""
    run.history.loss.append(logs["loss"])
    cp.on_epoch_end(run.history.epochs - 1, {"accuracy": None, **logs}, run)


def _best_epoch(folder) -> int:
    return dp.load(folder / "best.deltaprop").history.epochs


def test_best_keeps_the_lowest_validation_loss_by_default(tmp_path):
    run, cp = _run(), Checkpoint(tmp_path, every=None, best=True)
    cp.on_train_begin(run)
    for loss, val in [(3.0, 1.0), (2.0, 2.0), (1.0, 3.0)]:
        _end_epoch(cp, run, loss=loss, val_loss=val)
    assert _best_epoch(tmp_path) == 1


def test_best_by_the_training_loss_when_asked(tmp_path):
    run, cp = _run(), Checkpoint(tmp_path, every=None, best=True, monitor="loss")
    cp.on_train_begin(run)
    for loss, val in [(3.0, 1.0), (1.0, 2.0), (2.0, 3.0)]:
        _end_epoch(cp, run, loss=loss, val_loss=val)
    assert _best_epoch(tmp_path) == 2


def test_best_falls_back_to_the_loss_without_validation_data(tmp_path):
    run, cp = _run(), Checkpoint(tmp_path, every=None, best=True)
    cp.on_train_begin(run)
    for loss in (3.0, 1.0, 2.0):
        _end_epoch(cp, run, loss=loss)
    assert _best_epoch(tmp_path) == 2


def test_a_monitor_missing_from_the_logs_falls_back_to_the_validation_loss(tmp_path):
    """``"val_accuracy"`` of a regression is not in the logs: the validation loss is used."""
    run, cp = _run(), Checkpoint(tmp_path, every=None, best=True, monitor="val_accuracy")
    cp.on_train_begin(run)
    for loss, val in [(3.0, 2.0), (1.0, 3.0), (2.0, 1.0)]:
        _end_epoch(cp, run, loss=loss, val_loss=val)
    assert _best_epoch(tmp_path) == 3


def test_a_monitor_logged_as_none_falls_back_to_the_loss(tmp_path):
    """A regression logs ``accuracy: None``: the training loss is used."""
    run, cp = _run(), Checkpoint(tmp_path, every=None, best=True, monitor="accuracy")
    cp.on_train_begin(run)
    for loss, val in [(3.0, 1.0), (1.0, 2.0), (2.0, 3.0)]:
        _end_epoch(cp, run, loss=loss, val_loss=val)
    assert _best_epoch(tmp_path) == 2


@pytest.mark.parametrize("monitor", ["val_accuracy", "accuracy"])
def test_best_by_an_accuracy_keeps_the_highest(tmp_path, monitor):
    """An accuracy is maximised, as EarlyStopping maximises it (the lowest kept the worst epoch);
    the losses, which fall the other way, do not decide."""
    run, cp = _run(), Checkpoint(tmp_path, every=None, best=True, monitor=monitor)
    cp.on_train_begin(run)
    for loss, acc in [(3.0, 0.5), (2.0, 0.9), (1.0, 0.7)]:
        run.history.loss.append(loss)
        cp.on_epoch_end(run.history.epochs - 1, {"loss": loss, "val_loss": loss, monitor: acc,
                                                 "accuracy": acc}, run)  # fmt: skip
    assert _best_epoch(tmp_path) == 2


def test_val_accuracy_without_validation_falls_back_to_the_training_accuracy(tmp_path):
    run, cp = _run(), Checkpoint(tmp_path, every=None, best=True, monitor="val_accuracy")
    cp.on_train_begin(run)
    for loss, acc in [(3.0, 0.9), (2.0, 0.5), (1.0, 0.7)]:
        run.history.loss.append(loss)
        logs = {"loss": loss, "val_loss": None, "accuracy": acc, "val_accuracy": None}
        cp.on_epoch_end(run.history.epochs - 1, logs, run)
    assert _best_epoch(tmp_path) == 1


def test_val_accuracy_of_a_regression_without_validation_falls_back_to_the_loss(tmp_path):
    """No validation data and no accuracy: val_accuracy → accuracy → val_loss → loss."""
    run, cp = _run(), Checkpoint(tmp_path, every=None, best=True, monitor="val_accuracy")
    cp.on_train_begin(run)
    for loss in (3.0, 1.0, 2.0):
        run.history.loss.append(loss)
        logs = {"loss": loss, "val_loss": None, "accuracy": None, "val_accuracy": None}
        cp.on_epoch_end(run.history.epochs - 1, logs, run)
    assert _best_epoch(tmp_path) == 2


def test_an_unknown_or_unrecorded_monitor_is_refused_by_name(tmp_path):
    message = "unknown monitor 'val_acc'; expected loss, val_loss, accuracy or val_accuracy"
    with _raises(ValueError, message):
        Checkpoint(tmp_path, best=True, monitor="val_acc")
    run, cp = _run(), Checkpoint(tmp_path, every=None, best=True)
    cp.on_train_begin(run)
    with _raises(ValueError, "Checkpoint monitors 'val_loss', which is not recorded"):
        cp.on_epoch_end(0, {"loss": None}, run)


def test_a_tie_keeps_the_earlier_best(tmp_path):
    """Only a strictly lower value replaces the best file."""
    run, cp = _run(), Checkpoint(tmp_path, every=None, best=True)
    cp.on_train_begin(run)
    for loss in (2.0, 2.0):
        _end_epoch(cp, run, loss=loss)
    assert _best_epoch(tmp_path) == 1


def test_best_alone_creates_its_folder_and_is_not_the_last_periodic_file(tmp_path):
    folder = tmp_path / "a" / "b"
    run, cp = _run(), Checkpoint(folder, every=None, best=True)
    cp.on_train_begin(run)
    _end_epoch(cp, run, loss=1.0)
    assert sorted(p.name for p in folder.iterdir()) == ["best.deltaprop"]
    assert cp.last is None


def test_the_default_checkpoint_saves_every_epoch_and_keeps_two(tmp_path):
    """``every=1, keep=2``, no ``best``: after three epochs, epochs 2 and 3 are on disk."""
    run, cp = _run(), Checkpoint(tmp_path)
    cp.on_train_begin(run)
    for loss in (3.0, 2.0, 1.0):
        _end_epoch(cp, run, loss=loss, val_loss=loss)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "epoch-00002.deltaprop", "epoch-00003.deltaprop"]  # fmt: skip
    assert cp.last == tmp_path / "epoch-00003.deltaprop"


def test_every_three_epochs_and_keep_one(tmp_path):
    """Epochs 3 and 6 are due (counted from the run's start); keep=1 leaves the newest."""
    run, cp = _run(), Checkpoint(tmp_path / "new", every=3, keep=1)
    cp.on_train_begin(run)
    seen = []
    for loss in (7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0):
        _end_epoch(cp, run, loss=loss)
        seen.append(sorted(p.name for p in (tmp_path / "new").iterdir()))
    assert seen == [[], [], ["epoch-00003.deltaprop"]] + [["epoch-00003.deltaprop"]] * 2 + [
        ["epoch-00006.deltaprop"]] * 2  # fmt: skip


def test_a_resumed_run_counts_epochs_from_its_start(tmp_path):
    """``every`` counts ``history.end_epoch``: a run resumed at epoch 4 saves at 6, not 2."""
    run, cp = _run(), Checkpoint(tmp_path, every=3, keep=5)
    run.history.initial_epoch = 4
    cp.on_train_begin(run)
    for loss in (3.0, 2.0, 1.0):
        _end_epoch(cp, run, loss=loss)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch-00006.deltaprop"]
    assert dp.load(tmp_path / "epoch-00006.deltaprop").history.end_epoch == 6


class _Clock:
    """A stand-in for the ``time`` module: ``monotonic()`` reads ``now``, set by the test."""

    def __init__(self, now: float):
        self.now = now

    def monotonic(self) -> float:
        return self.now


def test_every_few_seconds_counts_from_the_last_save(tmp_path, monkeypatch):
    """``seconds=10``: due once 10 s (exactly, or more) have passed since the start or the last
    save. Epochs end at 5, 10, 15, 21, 25 s: saved at 10 and 21."""
    clock = _Clock(100.0)
    monkeypatch.setattr(dp.checkpoints, "time", clock)
    run, cp = _run(), Checkpoint(tmp_path, every=None, seconds=10, keep=10)
    cp.on_train_begin(run)
    for t in (105.0, 110.0, 115.0, 121.0, 125.0):
        clock.now = t
        _end_epoch(cp, run, loss=1.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "epoch-00002.deltaprop", "epoch-00004.deltaprop"]  # fmt: skip


def test_every_and_seconds_together_save_when_either_is_due(tmp_path, monkeypatch):
    clock = _Clock(0.0)
    monkeypatch.setattr(dp.checkpoints, "time", clock)
    run, cp = _run(), Checkpoint(tmp_path, every=3, seconds=100, keep=10)
    cp.on_train_begin(run)
    for t in (1.0, 2.0, 3.0, 200.0):
        clock.now = t
        _end_epoch(cp, run, loss=1.0)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "epoch-00003.deltaprop", "epoch-00004.deltaprop"]  # fmt: skip


def test_the_settings_are_checked_by_name():
    with _raises(ValueError, "Invalid every: 0 (expected >= 1)"):
        Checkpoint("unused", every=0)
    with _raises(ValueError, "Invalid keep: 0 (expected >= 1)"):
        Checkpoint("unused", keep=0)
    with _raises(ValueError, "Invalid seconds: -1 (expected >= 0.0)"):
        Checkpoint("unused", seconds=-1)
    cp = Checkpoint("unused", every=1, seconds=0, keep=1)  # the bounds themselves are allowed
    assert (cp.every, cp.seconds, cp.keep, cp.best, cp.monitor) == (1, 0.0, 1, False, "val_loss")
    assert Checkpoint("unused", every=None).every is None


def test_a_file_holds_the_base_learning_rate_metadata_and_preprocessing(tmp_path):
    """The optimizer is saved with the η the run was given, not the schedule's current one (the
    saved schedule applies its factor again); the run's own optimizer is left as it is."""
    run = _run(learning_rate=0.05)
    run.optimizer.learning_rate = 0.0125  # the schedule's factor 1/4 applied for this epoch
    pre = Preprocessing(
        task="regression", y_mean=np.array([0.5, 1.5]), y_scale=np.array([2.0, 4.0])
    )
    cp = Checkpoint(tmp_path, metadata={"note": "kept"}, preprocessing=pre)
    cp.on_train_begin(run)
    _end_epoch(cp, run, loss=1.0)
    saved = dp.load(tmp_path / "epoch-00001.deltaprop")
    assert saved.optimizer.learning_rate == 0.05
    assert run.optimizer.learning_rate == 0.0125
    assert saved.metadata == {"note": "kept"}
    assert saved.preprocessing.task == "regression"
    np.testing.assert_array_equal(saved.preprocessing.y_mean, [0.5, 1.5])
    np.testing.assert_array_equal(saved.preprocessing.y_scale, [2.0, 4.0])


# --- on_interrupt ---------------------------------------------------------------------------------


def _count_saves(monkeypatch) -> list:
    """Wrap ``deltaprop.io.save`` (which ``Checkpoint`` imports at each call): the paths written."""
    written, save = [], dp.io.save

    def counting(path, *args, **kwargs):
        written.append(Path(path).name)
        return save(path, *args, **kwargs)

    monkeypatch.setattr(dp.io, "save", counting)
    return written


def test_an_interrupt_writes_the_state_gone_back_to_into_a_new_folder(tmp_path):
    """Without ``every`` the folder is made only when the run is interrupted (``parents``)."""
    folder = tmp_path / "a" / "b"
    run, cp = _run(), Checkpoint(folder, every=None)
    cp.on_train_begin(run)
    _end_epoch(cp, run, loss=1.0)
    assert not folder.exists()
    cp.on_interrupt(run)
    assert run.checkpoint == str(folder / "epoch-00001.deltaprop")
    assert dp.load(run.checkpoint).history.epochs == 1


def test_an_interrupt_writes_into_an_existing_folder(tmp_path):
    run, cp = _run(), Checkpoint(tmp_path, every=None)
    cp.on_train_begin(run)
    cp.on_interrupt(run)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch-00000.deltaprop"]


def test_an_interrupt_right_after_a_save_writes_nothing_again(tmp_path, monkeypatch):
    """Epoch 2 was just saved: the state gone back to is that file, not written twice."""
    written = _count_saves(monkeypatch)
    run, cp = _run(), Checkpoint(tmp_path, every=1)
    cp.on_train_begin(run)
    for loss in (2.0, 1.0):
        _end_epoch(cp, run, loss=loss)
    cp.on_interrupt(run)
    assert written == ["epoch-00001.deltaprop", "epoch-00002.deltaprop"]
    assert run.checkpoint == str(tmp_path / "epoch-00002.deltaprop")


def test_an_interrupt_between_saves_writes_and_prunes(tmp_path, monkeypatch):
    """every=2, keep=1, interrupted after epoch 3: epoch 3 is written, epoch 2 removed."""
    written = _count_saves(monkeypatch)
    run, cp = _run(), Checkpoint(tmp_path, every=2, keep=1)
    cp.on_train_begin(run)
    for loss in (3.0, 2.0, 1.0):
        _end_epoch(cp, run, loss=loss)
    cp.on_interrupt(run)
    assert written == ["epoch-00002.deltaprop", "epoch-00003.deltaprop"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["epoch-00003.deltaprop"]
    assert cp.last == tmp_path / "epoch-00003.deltaprop"


# --- prune, latest, resume ----------------------------------------------------------------------


def test_prune_keeps_the_newest_by_epoch_and_leaves_other_files(tmp_path):
    for e in (1, 2, 9, 10, 11, 100):
        (tmp_path / f"epoch-{e:05d}.deltaprop").write_bytes(b"")
    (tmp_path / "best.deltaprop").write_bytes(b"")
    prune(tmp_path, 3)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "best.deltaprop", "epoch-00010.deltaprop", "epoch-00011.deltaprop",
        "epoch-00100.deltaprop"]  # fmt: skip
    assert latest(tmp_path) == tmp_path / "epoch-00100.deltaprop"


def test_prune_ignores_a_file_removed_meanwhile(tmp_path, monkeypatch):
    """A file listed but gone by the time it is removed (another process pruned it) is no error."""
    for e in (1, 2):
        (tmp_path / f"epoch-{e:05d}.deltaprop").write_bytes(b"")
    listed = sorted(tmp_path.glob("epoch-*.deltaprop"))
    (tmp_path / "epoch-00001.deltaprop").unlink()
    monkeypatch.setattr(Path, "glob", lambda self, pattern: iter(listed))
    prune(tmp_path, 1)
    assert [p.name for p in tmp_path.iterdir()] == ["epoch-00002.deltaprop"]


def test_latest_of_a_folder_without_checkpoints_is_none(tmp_path):
    (tmp_path / "best.deltaprop").write_bytes(b"")
    assert latest(tmp_path) is None


def test_resume_takes_a_loaded_model_and_leaves_out_what_it_lacks(tmp_path):
    """No schedule and no generator in the file: ``fit`` gets neither ``schedule`` nor ``seed``."""
    x, y = _data()
    net = _net()
    h = net.fit(x, y, epochs=2, optimizer="adam", learning_rate=0.01, batch_size=8, seed=1)
    path = dp.save(tmp_path / "m.deltaprop", net, optimizer=dp.optimizers.get_optimizer(
        {"name": "adam", "learning_rate": 0.01}), history=h)  # fmt: skip
    back, kwargs = resume(dp.load(path))
    assert sorted(kwargs) == ["initial_epoch", "optimizer", "optimizer_state"]
    assert kwargs["initial_epoch"] == 2 and kwargs["optimizer"].learning_rate == 0.01
    _same(back, net)


def test_resume_continues_a_built_in_schedule_where_it_was(tmp_path):
    """η₀·γ^epoch with γ = ½: the resumed epochs 3 and 4 run at η₀/4 and η₀/8 (the schedule comes
    back from the file; without it they would run at η₀), ending where 4 epochs in one go end."""
    x, y = _data()
    settings = dict(optimizer="adam", learning_rate=0.05, batch_size=8)
    whole = _net()
    whole.fit(x, y, epochs=4, seed=5, schedule=dp.ExponentialDecay(gamma=0.5), **settings)
    _net().fit(x, y, epochs=2, seed=5, schedule=dp.ExponentialDecay(gamma=0.5),
               callbacks=[Checkpoint(tmp_path)], **settings)  # fmt: skip
    net, kwargs = resume(latest(tmp_path))
    assert isinstance(kwargs["schedule"], dp.ExponentialDecay) and kwargs["schedule"].gamma == 0.5
    h = net.fit(x, y, epochs=2, batch_size=8, **kwargs)
    assert h.learning_rate == [0.05 * 0.5**2, 0.05 * 0.5**3]
    _same(net, whole)


def test_resume_refuses_a_file_without_history_or_state(tmp_path):
    message = ("this model file holds no optimizer state or history: it is not a checkpoint "
               "(write checkpoints with deltaprop.checkpoints.Checkpoint)")  # fmt: skip
    path = dp.save(tmp_path / "opt.deltaprop", _net(), optimizer="adam")
    with _raises(ValueError, message):
        resume(path)
    x, y = _data()
    h = _net().fit(x, y, epochs=1, seed=0)
    h.optimizer_state = None
    path = dp.save(tmp_path / "hist.deltaprop", _net(), optimizer="sgd", history=h)
    with _raises(ValueError, message):
        resume(path)


# --- interrupt.py ---------------------------------------------------------------------------------


def test_training_interrupted_carries_its_message_history_and_signal():
    h = History()
    e = TrainingInterrupted("stopped here", h)
    assert isinstance(e, KeyboardInterrupt)
    assert str(e) == "stopped here" and e.history is h
    assert e.signal is None and e.checkpoint is None
    assert TrainingInterrupted("m", h, signal.SIGINT).signal == signal.SIGINT


def test_a_stop_request_set_in_code_names_no_signal():
    x, y = _data()
    stop = StopRequest()
    assert stop.signal is None
    stop.set()
    with pytest.raises(TrainingInterrupted) as info:
        _net().fit(x, y, epochs=2, seed=1, stop=stop, **SETTINGS)
    assert info.value.signal is None and info.value.history.epochs == 0


def test_the_default_signals_are_ctrl_c_and_sigterm():
    with stop_on_signals() as stop:
        signal.raise_signal(signal.SIGINT)
    assert stop.is_set() and stop.signal == signal.SIGINT


def test_a_second_signal_goes_to_the_previous_handler():
    """The first SIGUSR1 sets the request; the second is handled as before the block."""
    heard = []
    before = signal.signal(signal.SIGUSR1, lambda signum, frame: heard.append(signum))
    try:
        with stop_on_signals((signal.SIGUSR1,)) as stop:
            signal.raise_signal(signal.SIGUSR1)
            assert stop.is_set() and stop.signal == signal.SIGUSR1 and heard == []
            signal.raise_signal(signal.SIGUSR1)
            assert heard == [signal.SIGUSR1]
        assert signal.getsignal(signal.SIGUSR1) is not None
        signal.raise_signal(signal.SIGUSR1)
        assert heard == [signal.SIGUSR1, signal.SIGUSR1]
    finally:
        signal.signal(signal.SIGUSR1, before)


def test_outside_the_main_thread_no_handler_is_installed():
    """Signal handlers can only be set in the main thread: there the block just yields."""
    before = signal.getsignal(signal.SIGTERM)
    seen = {}

    def body():
        with stop_on_signals() as stop:
            seen["request"] = stop
            seen["handler"] = signal.getsignal(signal.SIGTERM)

    t = threading.Thread(target=body)
    t.start()
    t.join()
    assert isinstance(seen["request"], StopRequest) and not seen["request"].is_set()
    assert seen["handler"] is before


class _Halving(Schedule):
    """A schedule of the user's own (not registered): η halves every epoch."""

    name = "halving"

    def learning_rate(self, epoch: int, base: float) -> float:
        return base / 2**epoch


def test_a_run_with_its_own_schedule_is_checkpointed_without_it_and_resumes(tmp_path):
    """A schedule a file cannot rebuild is left out with save's warning (as ``dp.save`` does for a
    history's), not refused: the run goes on; resumed with the schedule passed again, 2 + 2
    epochs end bit for bit where 4 end."""
    x, y = _data()
    settings = dict(optimizer="adam", learning_rate=0.05, batch_size=8)
    whole = _net()
    whole.fit(x, y, epochs=4, seed=5, schedule=_Halving(), **settings)
    first = _net()
    message = ("history.schedule is a _Halving, not a built-in schedule: the file keeps the "
               "history without it (resuming needs the schedule passed again)")  # fmt: skip
    with pytest.warns(UserWarning, match="^" + re.escape(message) + "$"):
        h = first.fit(x, y, epochs=2, seed=5, schedule=_Halving(),
                      callbacks=[Checkpoint(tmp_path)], **settings)  # fmt: skip
    assert h.epochs == 2
    saved = dp.load(latest(tmp_path))
    assert saved.schedule is None and saved.history.epochs == 2
    net, kwargs = resume(saved)
    assert "schedule" not in kwargs
    net.fit(x, y, epochs=2, schedule=_Halving(), batch_size=8, **kwargs)
    _same(net, whole)
