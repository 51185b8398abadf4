"""The optimizer family on one problem, from the same start (seeds 002 and 003).

The tutorials list gradient descent's refinements — momentum, Adagrad, Adadelta, RMSProp, Adam —
and the three descent modes (batch, stochastic, mini-batch). ``dp.compare`` trains copies of one
initial network with each, on the same batches in the same order, and draws their losses per
epoch, per update and per second.

    python examples/optimizer_family.py [FOLDER]   # writes optimizers.png and descent_modes.png
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

import deltaprop as dp

OPTIMIZERS = ["sgd", "momentum", "adagrad", "adadelta", "rmsprop", "adam"]
BATCH_SIZES = ["full", 1, 16]
SEED = 0


def data(n: int = 200, seed: int = SEED):
    """Two interleaved half-moons in the plane (two classes)."""
    rng = np.random.default_rng(seed)
    angle = rng.uniform(0, np.pi, n)
    label = rng.integers(0, 2, n)
    x = np.column_stack([np.cos(angle) + label, np.sin(angle) * (1 - 2 * label) + 0.5 * label])
    return x + rng.normal(scale=0.1, size=x.shape), label


def main(argv: list[str] | None = None) -> dict:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else Path(tempfile.mkdtemp(prefix="deltaprop-optimizers-"))
    folder.mkdir(parents=True, exist_ok=True)
    x, y = data()
    net = dp.Network.from_sizes([2, 16, 16, 1], ["tanh", "tanh", "sigmoid"], seed=SEED)
    print(net.summary())
    optimizers = dp.compare(net, x, y, optimizers=OPTIMIZERS, epochs=30, batch_size=16,
                            seed=SEED)  # fmt: skip
    print("optimizer   first epoch   last epoch   accuracy")
    for name, h in optimizers.histories.items():
        print(f"{name:<10}  {h.loss[0]:>11.4f}  {h.loss[-1]:>11.4f}  {h.accuracy[-1]:>9.3f}")
    modes = dp.compare(net, x, y, batch_sizes=BATCH_SIZES, epochs=30, optimizer="sgd",
                       learning_rate=0.1, seed=SEED)  # fmt: skip
    print("descent mode         updates   last epoch")
    for name, h in modes.histories.items():
        print(f"{name:<19}  {h.updates:>7}  {h.loss[-1]:>11.4f}")
    try:
        optimizers.plot().savefig(folder / "optimizers.png")
        modes.plot().savefig(folder / "descent_modes.png")
        print(f"plots: {folder / 'optimizers.png'}, {folder / 'descent_modes.png'}")
    except ImportError as exc:
        print(exc)
    return {"optimizers": optimizers, "modes": modes, "network": net, "data": (x, y)}


if __name__ == "__main__":
    main()
