"""Model files: bit-identical round trips, exact resumption, atomic saves, and refused files."""

from __future__ import annotations

import io as _io
import json
import math
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import zipfile

import numpy as np
import pytest

import deltaprop as dp
from deltaprop import activations
from deltaprop.io import HEADER, ModelFileError, Preprocessing, SavedModel, load, save

ACTIVATIONS = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "softmax"]


def _network(act="tanh", dtype=np.float64, bias=(True, False, True), seed=0):
    net = dp.Network.from_sizes([5, 7, 6, 3], act, bias=list(bias), seed=seed, dtype=dtype)
    rng = np.random.default_rng(seed + 1)
    for layer in net.layers:  # biases start at zero: give them values worth keeping
        if layer.b is not None:
            layer.b[:] = rng.normal(size=layer.b.shape)
    return net


def _x(n=40, seed=2):
    return np.random.default_rng(seed).normal(scale=3.0, size=(n, 5))


@pytest.fixture
def small_model(tmp_path):
    path = tmp_path / "m.deltaprop"
    save(path, _network())
    return path


# --- round trips -------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("bias", [(True, False, True), (False, False, False)])
def test_round_trip_predictions_are_bit_identical(tmp_path, act, dtype, bias):
    net = _network(act, dtype, bias)
    path = tmp_path / "m.deltaprop"
    save(path, net)
    loaded = load(path).network
    assert loaded.dtype == dtype
    assert [ly.activation.name for ly in loaded.layers] == [act] * 3
    assert [ly.b is None for ly in loaded.layers] == [not b for b in bias]
    for (k, a), (k2, b) in zip(net.params().items(), loaded.params().items(), strict=True):
        assert k == k2 and a.dtype == b.dtype and a.tobytes() == b.tobytes()
    x = _x().astype(dtype)
    assert loaded.predict(x).tobytes() == net.predict(x).tobytes()
    assert loaded.layers[0].W.flags.writeable  # a loaded network can train further


def test_same_model_gives_the_same_bytes(tmp_path):
    net = _network()
    save(tmp_path / "a", net)
    save(tmp_path / "b", net)
    assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes()


OPTIMIZERS = [
    "sgd",
    {"name": "momentum", "momentum": 0.8},
    "nesterov",
    {"name": "adagrad", "lr_decay": 0.01, "initial_accumulator_value": 0.1},
    "adadelta",
    {"name": "rmsprop", "centered": True, "momentum": 0.5},
    {"name": "adam", "learning_rate": 0.01, "weight_decay": 0.001},
    "adamw",
]


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=lambda o: str(o)[:24])
def test_resuming_from_a_file_equals_training_straight_through(tmp_path, optimizer):
    x, y = _x(64), np.arange(64) % 3
    net = _network("tanh", bias=(True, True, False))
    straight = net.copy()
    kwargs = {"epochs": 2, "batch_size": 10, "validation_data": (x[:8], y[:8])}
    full = dp.fit(straight, x, y, optimizer=optimizer, seed=7, **{**kwargs, "epochs": 4})

    rng = np.random.default_rng(7)
    first = dp.fit(net, x, y, optimizer=optimizer, seed=rng, **kwargs)
    save(tmp_path / "m", net, optimizer=optimizer, history=first, rng=rng)
    m = load(tmp_path / "m")
    assert m.optimizer_state["step"] == first.optimizer_state["step"] == 14
    second = dp.fit(
        m.network,
        x,
        y,
        optimizer=m.optimizer,
        optimizer_state=m.optimizer_state,
        seed=m.rng,
        **kwargs,
    )
    for a, b in zip(straight.params().values(), m.network.params().values(), strict=True):
        assert a.tobytes() == b.tobytes()
    assert m.history.loss + second.loss == full.loss
    assert m.history.val_accuracy + second.val_accuracy == full.val_accuracy


@pytest.mark.parametrize(
    "schedule",
    [
        lambda: dp.StepDecay(step_size=1, gamma=0.5),
        lambda: dp.ExponentialDecay(gamma=0.8),
        lambda: dp.InverseScaling(power=1.0),
    ],
    ids=["step", "exponential", "inverse_scaling"],
)
def test_resuming_with_a_schedule_continues_it_from_initial_epoch(tmp_path, schedule):
    x, y = _x(64), np.arange(64) % 3
    net = _network("tanh")
    straight = net.copy()
    kwargs = {"batch_size": 10, "optimizer": "momentum", "learning_rate": 0.1}
    full = dp.fit(straight, x, y, epochs=4, seed=7, schedule=schedule(), **kwargs)
    rng = np.random.default_rng(7)
    first = dp.fit(net, x, y, epochs=2, seed=rng, schedule=schedule(), **kwargs)
    save(
        tmp_path / "m",
        net,
        optimizer=dp.get_optimizer("momentum", learning_rate=0.1),
        history=first,
        rng=rng,
    )
    m = load(tmp_path / "m")
    second = dp.fit(
        m.network,
        x,
        y,
        epochs=2,
        seed=m.rng,
        schedule=schedule(),
        optimizer_state=m.optimizer_state,
        initial_epoch=m.history.end_epoch,
        **kwargs,
    )
    assert first.learning_rate + second.learning_rate == full.learning_rate
    assert len(set(full.learning_rate)) == 4  # the rate really changed every epoch
    for a, b in zip(straight.params().values(), m.network.params().values(), strict=True):
        assert a.tobytes() == b.tobytes()
    assert (second.initial_epoch, second.epochs, second.end_epoch) == (2, 2, 4)


def test_a_second_resume_continues_the_schedule_too(tmp_path):
    """2 + 2 + 2 epochs, saving and loading between, equal 6 in one run: each call passes the
    previous history's end_epoch (not its epochs, which count one call only)."""
    x, y = _x(64), np.arange(64) % 3
    net = _network("tanh")
    straight = net.copy()
    kwargs = {"batch_size": 10, "optimizer": "momentum", "learning_rate": 0.1}
    step = lambda: dp.StepDecay(step_size=1, gamma=0.5)  # noqa: E731
    full = dp.fit(straight, x, y, epochs=6, seed=7, schedule=step(), **kwargs)
    rng = np.random.default_rng(7)
    history = dp.fit(net, x, y, epochs=2, seed=rng, schedule=step(), **kwargs)
    rates = list(history.learning_rate)
    optimizer = dp.get_optimizer("momentum", learning_rate=0.1)
    for _ in range(2):
        save(tmp_path / "m", net, optimizer=optimizer, history=history, rng=rng)
        m = load(tmp_path / "m")
        net, rng = m.network, m.rng
        history = dp.fit(
            net,
            x,
            y,
            epochs=2,
            seed=rng,
            schedule=m.schedule,  # the saved StepDecay
            optimizer_state=m.optimizer_state,
            initial_epoch=m.history.end_epoch,
            **kwargs,
        )
        rates += history.learning_rate
    assert history.end_epoch == 6 and m.history.initial_epoch == 2
    assert rates == full.learning_rate
    for a, b in zip(straight.params().values(), net.params().values(), strict=True):
        assert a.tobytes() == b.tobytes()


def _plateau():
    # patience 0 and a 30 % relative threshold: η halves after every epoch from the third on
    return dp.ReduceOnPlateau(factor=0.5, patience=0, threshold=0.3)


def test_a_resumed_plateau_schedule_continues_from_its_saved_state(tmp_path):
    """ReduceOnPlateau learns while training (best loss, epochs since, η's factor): the model file
    keeps that, so 3 + 3 epochs equal 6 bit for bit; a fresh instance would not."""
    x, y = _x(64), np.arange(64) % 3
    net = _network("tanh")
    straight = net.copy()
    kwargs = {"batch_size": 10, "optimizer": "adam", "learning_rate": 0.05}
    full = dp.fit(straight, x, y, epochs=6, seed=7, schedule=_plateau(), **kwargs)
    assert full.learning_rate == [0.05, 0.05, 0.05, 0.025, 0.0125, 0.00625]  # it acted
    rng = np.random.default_rng(7)
    first = dp.fit(net, x, y, epochs=3, seed=rng, schedule=_plateau(), **kwargs)
    save(tmp_path / "m", net, optimizer=dp.get_optimizer("adam", learning_rate=0.05),
         history=first, rng=rng)  # fmt: skip
    m = load(tmp_path / "m")
    assert m.history.schedule is m.schedule
    assert m.schedule.as_dict() == first.schedule.as_dict()
    header = json.loads(zipfile.ZipFile(tmp_path / "m").read(HEADER))
    assert header["schedule"]["name"] == "plateau"
    # epoch 3's loss fell less than 30 % below the best (epoch 2's): η's factor is already ½
    assert header["schedule"]["state"] == {"best": first.loss[1], "bad_epochs": 0, "scale": 0.5}
    resume = {"optimizer_state": m.optimizer_state, "initial_epoch": 3, **kwargs}
    second = dp.fit(m.network, x, y, epochs=3, seed=m.rng, schedule=m.schedule, **resume)
    assert first.learning_rate + second.learning_rate == full.learning_rate
    for a, b in zip(straight.params().values(), m.network.params().values(), strict=True):
        assert a.tobytes() == b.tobytes()
    # What the saved state is for: restarting the schedule gives other rates and weights.
    n = load(tmp_path / "m")
    restarted = dp.fit(n.network, x, y, epochs=3, seed=n.rng, schedule=_plateau(),
                       **{**resume, "optimizer_state": n.optimizer_state})  # fmt: skip
    assert restarted.learning_rate[0] == 0.05 != second.learning_rate[0]
    assert not np.array_equal(n.network.flat_params(), straight.flat_params())


@pytest.mark.parametrize(
    "schedule",
    [
        dp.StepDecay(step_size=3, gamma=0.25),
        dp.ExponentialDecay(gamma=0.9),
        dp.InverseScaling(power=0.75),
        dp.ReduceOnPlateau(factor=0.2, patience=4, threshold=1e-3, min_lr=1e-5),
    ],
    ids=repr,
)
def test_every_schedule_round_trips_with_its_settings(tmp_path, schedule):
    net = _network()
    history = dp.fit(net, _x(), np.arange(40) % 3, epochs=2, seed=0, schedule=schedule)
    save(tmp_path / "m", net, optimizer="sgd", history=history)
    m = load(tmp_path / "m")
    assert type(m.schedule) is type(schedule)
    assert m.schedule.settings() == schedule.settings()
    assert m.schedule.state() == schedule.state()
    assert [m.schedule.learning_rate(e, 0.1) for e in range(5)] == [
        schedule.learning_rate(e, 0.1) for e in range(5)
    ]


def test_a_run_without_a_schedule_saves_none(tmp_path):
    net = _network()
    history = dp.fit(net, _x(), np.arange(40) % 3, epochs=1, seed=0)
    assert history.schedule is None
    save(tmp_path / "m", net, optimizer="sgd", history=history)
    assert load(tmp_path / "m").schedule is None


class _Halving(dp.Schedule):
    def learning_rate(self, epoch, base):
        return base / 2**epoch


def test_a_custom_schedule_is_refused_by_name(tmp_path):
    with pytest.raises(ValueError, match="only built-in learning-rate schedules.*_Halving"):
        save(tmp_path / "m", _network(), schedule=_Halving())
    assert not (tmp_path / "m").exists()


def test_a_history_trained_with_a_custom_schedule_saves_without_it(tmp_path):
    net = _network()
    history = dp.fit(net, _x(), np.arange(40) % 3, epochs=2, seed=0, schedule=_Halving())
    assert isinstance(history.schedule, _Halving) and history.learning_rate == [0.01, 0.005]
    with pytest.warns(UserWarning, match="_Halving, not a built-in schedule"):
        save(tmp_path / "m", net, optimizer="sgd", history=history)
    m = load(tmp_path / "m")
    assert m.schedule is None and m.history.learning_rate == [0.01, 0.005]


def test_a_plateau_state_round_trips_through_json_exactly():
    s = dp.ReduceOnPlateau(factor=0.3)
    assert s.state() == {"best": None, "bad_epochs": 0, "scale": 1.0}  # nothing seen yet
    for loss in (0.7, 0.1 + 0.2, 0.31, 0.32):
        s.observe(loss)
    for best in (s._best, -math.inf):
        s._best = best
        back = dp.schedules.schedule_from_dict(json.loads(json.dumps(s.as_dict())))
        assert back.state() == s.state() and back.settings() == s.settings()


@pytest.mark.parametrize(
    "entry, message",
    [
        ({"name": "cosine", "settings": {}, "state": {}}, "unknown schedule 'cosine'"),
        ({"name": "step", "settings": {"gamma": -1}, "state": {}}, "Invalid gamma"),
        ({"name": "step", "settings": {"size": 2}, "state": {}}, "unexpected keyword"),
        ({"name": "step", "settings": {}, "state": {"best": 1.0}}, "keeps no state"),
        ({"name": "plateau", "settings": {}, "state": {"best": 1.0}}, "needs best, bad_epochs"),
        (
            {"name": "plateau", "settings": {}, "state": {"best": 1, "bad_epochs": -1, "scale": 1}},
            "Invalid bad_epochs",
        ),
        ({"name": "plateau", "settings": {}}, "keys name, settings, state"),
        ({"name": None, "settings": {"gamma": 5}, "state": {}}, "name must be a string"),
        (
            {
                "name": "plateau",
                "settings": {},
                "state": {"best": "x", "bad_epochs": 0, "scale": 1},
            },  # noqa: E501
            "Invalid best loss",
        ),
        ("step", "must be a dict"),
    ],
)
def test_a_bad_schedule_entry_is_refused_with_its_reason(tmp_path, entry, message):
    path = tmp_path / "m"
    save(path, _network())
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    header = json.loads(members[HEADER])
    header["schedule"] = entry
    members[HEADER] = json.dumps(header).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    with pytest.raises(ModelFileError, match=message):
        load(path)


def test_history_optimizer_and_rng_round_trip(tmp_path):
    net = _network()
    rng = np.random.Generator(np.random.MT19937(3))
    history = dp.fit(net, _x(), np.arange(40) % 3, optimizer="rmsprop", epochs=3, seed=rng)
    history.best_epoch = 1
    save(tmp_path / "m", net, optimizer="rmsprop", history=history, rng=rng, metadata={"k": [1]})
    m = load(tmp_path / "m")
    assert m.history.as_dict() == history.as_dict()
    assert m.history.optimizer_state is m.optimizer_state
    assert m.optimizer.hyperparameters() == dp.get_optimizer("rmsprop").hyperparameters()
    assert m.rng.bit_generator.state["bit_generator"] == "MT19937"
    assert m.rng.random(5).tolist() == rng.random(5).tolist()
    assert m.metadata == {"k": [1]}
    assert m.library_version == dp.__version__ and m.format_version == 1


def test_optimizer_without_state_and_plain_network(tmp_path):
    save(tmp_path / "m", _network(), optimizer={"name": "sgd", "learning_rate": 0.5})
    m = load(tmp_path / "m")
    assert m.optimizer.learning_rate == 0.5 and m.optimizer_state is None
    assert m.history is None and m.rng is None and m.preprocessing is None


def test_preprocessing_round_trip_and_saved_model_predict(tmp_path):
    net = _network("tanh", bias=(True, True, True))
    net.layers[-1].activation = dp.get_activation("softmax")
    pre = Preprocessing(
        "classification",
        classes=["cat", "dog", "emu"],
        feature_names=list("abcde"),
        target_name="animal",
        x_mean=np.arange(5.0),
        x_scale=np.full(5, 2.0),
    )
    SavedModel(net, preprocessing=pre).save(tmp_path / "m")
    m = load(tmp_path / "m")
    assert m.preprocessing.classes == ["cat", "dog", "emu"]
    assert m.preprocessing.feature_names == list("abcde") and m.preprocessing.y_mean is None
    x = _x()
    expected = np.array(["cat", "dog", "emu"])[net.predict((x - np.arange(5.0)) / 2).argmax(1)]
    assert m.predict(x).tolist() == expected.tolist()


def test_regression_preprocessing_decodes_targets(tmp_path):
    net = dp.Network.from_sizes([5, 1], "identity", seed=0)
    pre = Preprocessing("regression", y_mean=np.array([10.0]), y_scale=np.array([4.0]))
    save(tmp_path / "m", net, preprocessing=pre)
    x = _x()
    assert np.array_equal(load(tmp_path / "m").predict(x), net.predict(x)[:, 0] * 4 + 10)


def test_custom_activation_loads_only_while_registered(tmp_path, monkeypatch):
    dp.register_activation("cube_test", lambda z: z**3, lambda z, a: 3 * z**2)
    net = dp.Network.from_sizes([5, 4, 2], ["cube_test", "identity"], seed=0)
    save(tmp_path / "m", net)
    x = _x()
    assert load(tmp_path / "m").network.predict(x).tobytes() == net.predict(x).tobytes()
    monkeypatch.delitem(activations._REGISTRY, "cube_test")
    with pytest.raises(ModelFileError, match=r"'cube_test'.*register_activation"):
        load(tmp_path / "m")


def test_save_refuses_inconsistent_pieces(tmp_path):
    net = _network()
    with pytest.raises(ValueError, match="optimizer_state needs"):
        save(tmp_path / "m", net, optimizer_state={"step": 1})
    with pytest.raises(ValueError, match="JSON"):
        save(tmp_path / "m", net, metadata={"f": object()})
    with pytest.raises(ValueError, match="one class label per output"):
        save(tmp_path / "m", net, preprocessing=Preprocessing("classification", classes=[0, 1]))
    with pytest.raises(TypeError, match="Network"):
        save(tmp_path / "m", "not a network")
    assert not (tmp_path / "m").exists()


# --- atomic saves ------------------------------------------------------------------------------


def test_new_files_follow_the_umask_and_overwrites_keep_the_mode(tmp_path):
    old = os.umask(0o027)
    try:
        save(tmp_path / "m", _network())
        assert (tmp_path / "m").stat().st_mode & 0o777 == 0o640
        os.chmod(tmp_path / "m", 0o604)
        save(tmp_path / "m", _network(seed=3))
        assert (tmp_path / "m").stat().st_mode & 0o777 == 0o604
    finally:
        os.umask(old)


def _assert_previous_file_intact(path, net):
    x = _x()
    assert load(path).network.predict(x).tobytes() == net.predict(x).tobytes()
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


def test_failed_rename_leaves_the_previous_file(small_model, monkeypatch):
    def fail(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        save(small_model, _network(seed=5))
    _assert_previous_file_intact(small_model, _network())


def test_crash_mid_write_leaves_the_previous_file(small_model, monkeypatch):
    real_write = dp.io.npy.write_array
    calls = []

    def crash_on_third(fh, arr, **kw):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt  # as a Ctrl-C mid-save would
        real_write(fh, arr, **kw)

    monkeypatch.setattr(dp.io.npy, "write_array", crash_on_third)
    with pytest.raises(KeyboardInterrupt):
        save(small_model, _network(seed=5))
    _assert_previous_file_intact(small_model, _network())


_KILLED_WRITER = """
import os, sys, time
import deltaprop as dp
import deltaprop.io as dio

stage = sys.argv[2]
nets = [dp.Network.from_sizes([400, 1000, 400], "tanh", seed=s) for s in (0, 1)]
dp.save(sys.argv[1], nets[0])


def hold(what):
    # Tell the parent where this save stands, then wait for its SIGKILL.
    print(what, flush=True)
    time.sleep(60)


if stage == "mid-array":
    write_array = dio.npy.write_array
    calls = []

    def half_written(fh, arr, **kw):
        write_array(fh, arr, **kw)
        calls.append(1)
        if len(calls) == 2:
            hold("killed mid-write")

    dio.npy.write_array = half_written
else:
    os.replace = lambda *a, **k: hold("killed before the rename")
dp.save(sys.argv[1], nets[1])
"""


@pytest.mark.parametrize("stage", ["mid-array", "before-rename"])
def test_sigkill_mid_save_leaves_the_previous_file(tmp_path, stage):
    """A save killed at a known point — between two arrays, or with the new file complete but not
    yet renamed — leaves the previous model intact and loadable, and a temporary file that the
    next save removes."""
    path = tmp_path / "big.deltaprop"
    old = dp.Network.from_sizes([400, 1000, 400], "tanh", seed=0)
    x = _x(3, seed=1).repeat(80, axis=1)
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(_KILLED_WRITER), str(path), stage],
        stdout=subprocess.PIPE,
    )
    line = proc.stdout.readline()
    assert line.startswith(b"killed"), line
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert load(path).network.predict(x).tobytes() == old.predict(x).tobytes()
    leftovers = list(tmp_path.glob(".big.deltaprop.saving-*.tmp"))  # the killed save's
    assert len(leftovers) == 1
    assert not leftovers[0].match("*.deltaprop")  # complete or not, no glob for models finds it
    save(path, old)  # the next save of the same file removes it: its writer is gone
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


# --- files that must be refused ----------------------------------------------------------------


class Payload:
    """Unpickling this creates the marker file: proof that something ran."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _write_members(path, members: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def _edit_header(path, edit) -> None:
    members = _members(path)
    header = json.loads(members[HEADER])
    edit(header)
    members[HEADER] = json.dumps(header).encode()
    _write_members(path, members)


def _npy(arr, allow_pickle=False) -> bytes:
    buf = _io.BytesIO()
    np.save(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


def test_truncated_files_are_refused(small_model):
    data = small_model.read_bytes()
    for cut in range(0, len(data), max(1, len(data) // 25)):
        small_model.write_bytes(data[:cut])
        with pytest.raises(ModelFileError, match="not a deltaprop model file"):
            load(small_model)


def test_random_bytes_and_flipped_bits_are_refused(small_model, tmp_path):
    noise = tmp_path / "noise"
    noise.write_bytes(np.random.default_rng(0).bytes(5000))
    with pytest.raises(ModelFileError, match="not a deltaprop model file"):
        load(noise)
    data = bytearray(small_model.read_bytes())
    for start in (data.index(b'"format"'), data.index(b"\x93NUMPY")):  # header, W1
        flipped = data.copy()
        flipped[start + 200] ^= 0x10
        small_model.write_bytes(bytes(flipped))
        with pytest.raises(ModelFileError, match="corrupted|CRC"):
            load(small_model)


def test_foreign_zip_is_refused(tmp_path):
    path = tmp_path / "arrays.npz"
    np.savez(path, W1=np.ones((2, 2)))
    with pytest.raises(ModelFileError, match=r"not a deltaprop model file \(no deltaprop.json"):
        load(path)


def test_pickle_payloads_are_never_run(small_model, tmp_path):
    marker = tmp_path / "marker"
    payload = pickle.dumps(Payload(marker))
    pickle.loads(payload)  # the payload is live: unpickling it creates the marker
    assert marker.exists()
    marker.unlink()

    raw = tmp_path / "raw.pkl"
    raw.write_bytes(payload)
    with pytest.raises(ModelFileError, match="not a deltaprop model file"):
        load(raw)

    members = _members(small_model)
    _write_members(small_model, {**members, "evil.pkl": payload})
    with pytest.raises(ModelFileError, match="unexpected member 'evil.pkl'"):
        load(small_model)

    objects = np.empty((7, 5), dtype=object)
    objects[...] = [[Payload(marker)] * 5] * 7
    assert not marker.exists()
    _write_members(small_model, {**members, "params/W1.npy": _npy(objects, allow_pickle=True)})
    with pytest.raises(ModelFileError, match="params/W1.npy holds Python objects"):
        load(small_model)
    assert not marker.exists()
    np.load(_io.BytesIO(_members(small_model)["params/W1.npy"]), allow_pickle=True)
    assert marker.exists()  # numpy with allow_pickle=True would have run it; deltaprop did not


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda h: h.update(format_version=2), r"newer deltaprop \(format version 2.*upgrade"),
        (lambda h: h.update(format_version="1"), "invalid format_version"),
        (lambda h: h.update(format="keras"), "format 'keras'"),
        (lambda h: h.update(dtype="int64"), "dtype must be float32 or float64"),
        (lambda h: h["layers"][1].update(inputs=6), "layer 2 has 6 inputs"),
        (lambda h: h["layers"][0].update(units=8), "layer 2 has 7 inputs|params/W1.npy has"),
        (lambda h: h["layers"][0].update(activation="mish"), "'mish'.*not built in"),
        (lambda h: h["layers"][0].update(bias=False), "unexpected member 'params/b1.npy'"),
        (lambda h: h["layers"][1].update(bias=True), "missing member 'params/b2.npy'"),
        (lambda h: h.update(layers=[]), "no layers"),
        (lambda h: h.update(optimizer={"name": "evil"}), "unknown optimizer 'evil'"),
        (lambda h: h.update(history={"loss": ["x"]}), "history 'loss'"),
        (lambda h: h.update(rng={"bit_generator": "os.system"}), "unknown bit generator"),
        (lambda h: h.update(metadata=[]), "'metadata' must be a dict"),
    ],
)
def test_invalid_headers_are_refused(small_model, edit, message):
    _edit_header(small_model, edit)
    with pytest.raises(ModelFileError, match=message):
        load(small_model)


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.ones((7, 5), dtype=np.float32), "dtype float32, expected float64"),
        (np.ones((5, 7)), r"shape \(5, 7\), expected \(7, 5\)"),
        (np.full((7, 5), np.nan), "NaN or infinite"),
        (np.ones((7, 5), dtype=np.int64), "dtype int64"),
    ],
)
def test_invalid_arrays_are_refused(small_model, array, message):
    _write_members(small_model, {**_members(small_model), "params/W1.npy": _npy(array)})
    with pytest.raises(ModelFileError, match=message):
        load(small_model)


def test_fortran_order_and_big_endian_arrays_load_to_the_same_values(small_model):
    W1 = load(small_model).network.layers[0].W
    for variant in (np.asfortranarray(W1), W1.astype(">f8")):
        _write_members(small_model, {**_members(small_model), "params/W1.npy": _npy(variant)})
        assert load(small_model).network.layers[0].W.tobytes() == W1.tobytes()


def test_bad_json_and_missing_file(small_model, tmp_path):
    _write_members(small_model, {**_members(small_model), HEADER: b"{not json"})
    with pytest.raises(ModelFileError, match="not valid JSON"):
        load(small_model)
    with pytest.raises(FileNotFoundError, match="model file not found"):
        load(tmp_path / "absent")
    assert issubclass(ModelFileError, ValueError)


def test_a_loaded_model_prints_a_short_summary(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(30, 3)), rng.integers(0, 2, 30)
    net = dp.Network.from_sizes([3, 4, 2], ["tanh", "softmax"], seed=0)
    h = net.fit(x, y, optimizer="adam", epochs=2, batch_size=10)
    dp.save(tmp_path / "m.deltaprop", net, optimizer="adam", history=h)
    text = repr(dp.load(tmp_path / "m.deltaprop"))
    assert "array(" not in text and len(text) < 300
    assert "at step 6" in text and f"2 epochs, final loss {h.loss[-1]:.4g}" in text
    assert "Network(sizes=[3, 4, 2]" in text
