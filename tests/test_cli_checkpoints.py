"""A real ``deltaprop train`` process, stopped by SIGINT or SIGTERM, resumed to the same model;
and a run killed (SIGKILL) at random moments always leaves its newest checkpoint loadable."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import deltaprop as dp
from deltaprop.checkpoints import latest
from deltaprop.cli import main

TRAIN = ["train", "moons", "--epochs", "1500", "--hidden", "16", "--seed", "3", "-q"]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run."""
    path = tmp_path_factory.mktemp("ref") / "ref.deltaprop"
    assert main([*TRAIN, "-o", str(path)]) == 0
    return dp.load(path)


def _wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_saves_the_run_and_resume_ends_where_one_run_ends(signum, reference, tmp_path):
    out, folder = tmp_path / "m.deltaprop", tmp_path / "checkpoints"
    cmd = [sys.executable, "-m", "deltaprop", *TRAIN, "-o", str(out), "--checkpoint-every", "100",
           "--checkpoint-dir", str(folder)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: (folder / "epoch-00200.deltaprop").exists() or proc.poll() is not None)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signum, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    name = signal.Signals(signum).name
    assert lines[0].startswith(f"interrupted by {name} during epoch ")
    checkpoint = lines[0].split(" is in ")[1].split(";")[0]
    assert f"resume with: deltaprop train --resume {checkpoint} -o {out}" in lines[0]
    assert not out.exists()
    saved = dp.load(checkpoint)
    assert 200 <= saved.history.end_epoch < 1500
    assert main(["train", "--resume", checkpoint, "-o", str(out), "-q"]) == 0
    resumed = dp.load(out)
    for a, b in zip(resumed.network.layers, reference.network.layers, strict=True):
        np.testing.assert_array_equal(a.W, b.W)
        np.testing.assert_array_equal(a.b, b.b)
    assert resumed.history.loss == reference.history.loss
    assert resumed.history.end_epoch == 1500
    # the resumed model predicts like the reference, with its scaling and labels
    x = np.array([[0.5, 0.2], [-1.0, 0.8]])
    np.testing.assert_array_equal(resumed.predict(x), reference.predict(x))


def test_resume_refuses_what_is_not_a_checkpoint(tmp_path, capsys):
    plain = tmp_path / "plain.deltaprop"
    dp.save(plain, dp.Network.from_sizes([2, 2], "sigmoid", seed=0))
    assert main(["train", "--resume", str(plain), "-o", str(tmp_path / "m")]) == 2
    assert "not a checkpoint of deltaprop train" in capsys.readouterr().err
    assert main(["train", "iris", "--resume", str(plain)]) == 2
    assert "drop DATA" in capsys.readouterr().err


KILLED = textwrap.dedent(
    """
    import sys
    import numpy as np
    import deltaprop as dp
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 8))
    y = (x[:, 0] > 0).astype(int)
    net = dp.Network.from_sizes([8, 32, 2], ["relu", "softmax"], seed=0)
    net.copy().fit(x, y, epochs=1, optimizer="adam")  # the compiled loop loaded before the clock
    dp.save(sys.argv[1] + ".warm", net)
    print("ready", flush=True)
    net.fit(x, y, epochs=100000, batch_size=16, seed=1, optimizer="adam",
            callbacks=[dp.Checkpoint(sys.argv[1], every=1, keep=2)])
    """
)


def test_killed_at_random_moments_the_newest_checkpoint_always_loads(tmp_path):
    moments = random.Random(20261202)
    found = 0
    for k in range(20):
        folder = tmp_path / f"run{k}"
        proc = subprocess.Popen([sys.executable, "-c", KILLED, str(folder)],
                                stdout=subprocess.PIPE, text=True)  # fmt: skip
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(moments.uniform(0.05, 0.6))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        newest = latest(folder)
        if newest is None:
            continue
        found += 1
        saved = dp.load(newest)  # never a half-written file
        assert saved.history.end_epoch == int(newest.stem.split("-")[1])
        assert saved.optimizer_state["step"] == 4 * saved.history.end_epoch
        # a temporary file a kill left behind is never taken for a checkpoint
        assert all(p.suffix == ".deltaprop" for p in folder.glob("epoch-*"))
    assert found >= 15
