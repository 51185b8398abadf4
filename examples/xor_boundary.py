"""The XOR network trained to convergence, and its decision boundary (seed 000, examples/xor.toml).

The tutorial runs one epoch of the 2-2-1 sigmoid network by hand; here deltaprop trains the same
network (Negnevitsky's starting weights) by full-batch gradient descent on the four XOR samples
until every output is within 0.1 of its target, then draws what it learned: the class
``predict`` gives each point of the plane, with the four samples, and the loss curve.

    python examples/xor_boundary.py [FOLDER]     # writes xor_boundary.png and xor_loss.png
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

import deltaprop as dp

HERE = Path(__file__).resolve().parent
LEARNING_RATE = 1.0
TOLERANCE = 0.1  # converged: every output within this of its target
MAX_EPOCHS = 20_000


class Converged(dp.Callback):
    """Stops the run at the first epoch's end where ``max |o − t| < TOLERANCE``."""

    def __init__(self, x, t):
        self.x, self.t = x, t

    def on_epoch_end(self, epoch, logs, run):
        if np.max(np.abs(run.network.predict(self.x) - self.t)) < TOLERANCE:
            run.stop_training = True


def main(argv: list[str] | None = None) -> dict:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else Path(tempfile.mkdtemp(prefix="deltaprop-xor-"))
    folder.mkdir(parents=True, exist_ok=True)
    spec = dp.load_spec(HERE / "xor.toml")
    net = spec.network
    x, t = np.asarray(spec.input, dtype=float), np.asarray(spec.target, dtype=float)
    history = net.fit(x, t, loss=spec.loss, learning_rate=LEARNING_RATE, batch_size=None,
                      epochs=MAX_EPOCHS, callbacks=[Converged(x, t)])  # fmt: skip
    out = net.predict(x)[:, 0]
    print(f"converged after {history.epochs} epochs (η = {LEARNING_RATE}, full batch): "
          f"loss {history.loss[-1]:.5f}")  # fmt: skip
    for xi, ti, oi in zip(x, t[:, 0], out, strict=True):
        print(f"  x = ({xi[0]:.0f}, {xi[1]:.0f})  target {ti:.0f}  output {oi:.4f}")
    print(dp.diagnose(net, x, t, loss=spec.loss, learning_rate=LEARNING_RATE))
    try:
        dp.plots.plot_decision_boundary(net, x, t).savefig(folder / "xor_boundary.png")
        history.plot("loss").savefig(folder / "xor_loss.png")
        print(f"plots: {folder / 'xor_boundary.png'}, {folder / 'xor_loss.png'}")
    except ImportError as exc:
        print(exc)
    return {"history": history, "outputs": out, "net": net, "folder": folder}


if __name__ == "__main__":
    main()
