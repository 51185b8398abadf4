"""The learning examples run, print the numbers they say, and write their PNGs.

The 1-1-1 run prints the tutorial's own numbers (seed 001); the vanishing-gradient example's
sigmoid network has its first layer's gradient at least 100× below its last layer's, the ReLU
one within 10×.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _main(name: str):
    return runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name="example")["main"]


def _png(path: Path) -> None:
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000


def test_tutorial_1_1_1(tmp_path, capsys):
    r = _main("tutorial_1_1_1")([str(tmp_path)])
    out = capsys.readouterr().out
    # the tutorial's printout (seed 001), line by line
    lines = [
        "Epoch 0, Loss: 0.0259, Output: 0.3723",
        "Epoch 5, Loss: 0.0062, Output: 0.4891",
        "Epoch 10, Loss: 0.0015, Output: 0.5460",
        "Epoch 55, Loss: 0.0000, Output: 0.5999",
        "Final output: 0.6000",
        "Final parameters: w1 = 0.4072, b1 = 0.1143, w2 = 0.3978, b2 = 0.3697",
    ]
    for line in lines:
        assert line in out
    h = r["history"]
    assert h.epochs == 60 and h.updates == 60
    # the tutorial's loss: ½(y − t)² of each epoch's output before its update
    np.testing.assert_allclose(h.loss, [0.5 * (y - 0.6) ** 2 for y in r["outputs"][:60]],
                               rtol=1e-12)  # fmt: skip
    _png(tmp_path / "loss.png")
    _png(tmp_path / "grad_norm.png")


def test_vanishing_gradients(tmp_path, capsys):
    r = _main("vanishing_gradients")([str(tmp_path)])
    out = capsys.readouterr().out
    sig, relu = r["sigmoid"], r["relu"]
    assert sig["ratio"] <= 1e-2  # the first layer's gradient ≥ 100× below the last's
    assert 0.1 <= relu["ratio"] <= 10  # within 10×
    assert sig["norms"] == sorted(sig["norms"])  # falling layer by layer towards the input
    assert f"first / last layer: {sig['ratio']:.2e}" in out
    assert "  ".join(f"{g:.2e}" for g in relu["norms"]) in out
    assert len(sig["warnings"]) == 1 and not relu["warnings"]
    _png(tmp_path / "vanishing_gradients.png")
    _png(tmp_path / "grad_norms_epochs.png")


def test_xor_boundary(tmp_path, capsys):
    r = _main("xor_boundary")([str(tmp_path)])
    out = capsys.readouterr().out
    h, o = r["history"], r["outputs"]
    assert np.max(np.abs(o - np.array([0, 1, 1, 0]))) < 0.1  # converged
    assert f"converged after {h.epochs} epochs" in out and h.epochs < 20_000
    for value in o:
        assert f"output {value:.4f}" in out
    _png(tmp_path / "xor_boundary.png")


def test_optimizer_family(tmp_path, capsys):
    r = _main("optimizer_family")([str(tmp_path)])
    out = capsys.readouterr().out
    hs = r["optimizers"].histories
    assert list(hs) == ["sgd", "momentum", "adagrad", "adadelta", "rmsprop", "adam"]
    for name, h in hs.items():
        assert f"{name:<10}  {h.loss[0]:>11.4f}  {h.loss[-1]:>11.4f}" in out
        assert h.loss[-1] < h.loss[0]
    # the same start: every run's first update measures the same untrained network
    first = {h.update_loss[0] for h in hs.values()}
    assert len(first) == 1
    modes = r["modes"].histories
    assert [h.updates for h in modes.values()] == [30, 6000, 390]
    assert "total parameters: 337" in out
    _png(tmp_path / "optimizers.png")
    _png(tmp_path / "descent_modes.png")


@pytest.mark.parametrize("name", ["tutorial_1_1_1", "xor_boundary"])
def test_default_folder_is_a_temp_dir(name, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    r = _main(name)([])
    assert Path(r["folder"]).parent == tmp_path
