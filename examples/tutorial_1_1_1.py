"""The tutorial's 1-1-1 network trained for 60 epochs, with its two plots (seed 001).

"Back-propagation and forward propagation in Neural Networks" trains h = σ(w1·x + b1),
y = w2·h + b2 on one sample (x = 0.5, t = 0.6) with L = ½(y − t)² and η = 0.1 for 60 epochs,
printing every fifth epoch, then plots the loss and the gradient norm over the epochs. Here
deltaprop trains the same network (examples/seed001.toml) and draws the same two plots from its
History: every number is the engine's own.

    python examples/tutorial_1_1_1.py [FOLDER]     # writes loss.png and grad_norm.png
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import deltaprop as dp

HERE = Path(__file__).resolve().parent


class Outputs(dp.Callback):
    """The network's output y on the sample before training and after every epoch."""

    def __init__(self, x):
        self.x, self.y = x, []

    def on_train_begin(self, run):
        self.y.append(float(run.network.predict(self.x)[0, 0]))

    def on_epoch_end(self, epoch, logs, run):
        self.y.append(float(run.network.predict(self.x)[0, 0]))


def main(argv: list[str] | None = None) -> dict:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else Path(tempfile.mkdtemp(prefix="deltaprop-1-1-1-"))
    folder.mkdir(parents=True, exist_ok=True)
    spec = dp.load_spec(HERE / "seed001.toml")
    net = spec.network
    outputs = Outputs(spec.input)
    history = net.fit(spec.input, spec.target, loss=spec.loss, optimizer="sgd",
                      learning_rate=spec.learning_rate, epochs=60, batch_size=None,
                      callbacks=[outputs])  # fmt: skip
    # one update per epoch (full batch): epoch e's loss and output are those before its update
    for e in range(0, 60, 5):
        print(f"Epoch {e}, Loss: {history.loss[e]:.4f}, Output: {outputs.y[e]:.4f}")
    y = float(net.predict(spec.input)[0, 0])
    w1, b1 = float(net.layers[0].W[0, 0]), float(net.layers[0].b[0])
    w2, b2 = float(net.layers[1].W[0, 0]), float(net.layers[1].b[0])
    print(f"\nFinal output: {y:.4f}")
    print(f"Final parameters: w1 = {w1:.4f}, b1 = {b1:.4f}, w2 = {w2:.4f}, b2 = {b2:.4f}")
    try:
        history.plot("loss").savefig(folder / "loss.png")
        fig = dp.plots.plot_grad_norms(history, network=net)
        # the tutorial's second plot: ‖∂L/∂θ‖ over all four parameters, one line
        ax = fig.axes[0]
        ax.plot(range(1, 61), history.grad_norm, color="k", label="all parameters")
        ax.legend()
        fig.savefig(folder / "grad_norm.png")
        print(f"plots: {folder / 'loss.png'}, {folder / 'grad_norm.png'}")
    except ImportError as exc:
        print(exc)
    return {"history": history, "outputs": outputs.y, "output": y, "params": (w1, b1, w2, b2),
            "folder": folder}  # fmt: skip


if __name__ == "__main__":
    main()
