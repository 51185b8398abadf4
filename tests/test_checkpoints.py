"""Checkpoints and clean interrupts: a run stopped and resumed ends bit for bit where one ends."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest

import deltaprop as dp
from deltaprop.checkpoints import Checkpoint, latest, resume
from deltaprop.interrupt import TrainingInterrupted, stop_on_signals


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
