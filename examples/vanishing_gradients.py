"""Vanishing gradients: the same 8-layer network with sigmoid and with ReLU.

By the delta rule δˡ = f′(zˡ) ⊙ (Wˡ⁺¹)ᵀ δˡ⁺¹ each layer multiplies the delta by f′ once more on
its way back. σ′ is at most ¼, so with sigmoid units the deltas — and the gradients
∂E/∂Wˡ = (1/n) Δˡᵀ Aˡ⁻¹ — shrink by orders of magnitude towards the input and the early layers
barely learn. ReLU′ is 1 wherever a unit is active, and He initialisation keeps the signal's
size from layer to layer: its gradients stay of one size.

    python examples/vanishing_gradients.py [FOLDER]    # prints the norms, writes two PNGs
"""

from __future__ import annotations

import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np

import deltaprop as dp

SIZES = [10, 32, 32, 32, 32, 32, 32, 32, 1]  # 8 weight layers
SEED = 0


def data(n: int = 256, seed: int = SEED):
    """A two-class problem in 10 inputs: is the sum of the first three inputs positive?"""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, SIZES[0]))
    return x, (x[:, :3].sum(axis=1) > 0).astype(np.int64)


def run(hidden: str, x, y, epochs: int = 5):
    """The network with ``hidden`` units in its 7 hidden layers (sigmoid output), its
    diagnosis before training and its history over ``epochs`` epochs of SGD."""
    net = dp.Network.from_sizes(SIZES, [hidden] * 7 + ["sigmoid"], seed=SEED)
    before = dp.diagnose(net, x, y, learning_rate=0.1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", dp.VanishingGradientWarning)
        history = net.fit(x, y, epochs=epochs, learning_rate=0.1, batch_size=32, seed=SEED)
    return net, before, history, [str(w.message) for w in caught]


def main(argv: list[str] | None = None) -> dict:
    args = sys.argv[1:] if argv is None else argv
    folder = Path(args[0]) if args else Path(tempfile.mkdtemp(prefix="deltaprop-vanishing-"))
    folder.mkdir(parents=True, exist_ok=True)
    x, y = data()
    results = {}
    for hidden in ("sigmoid", "relu"):
        net, before, history, warned = run(hidden, x, y)
        norms = [r["grad_norm"] for r in before.rows]
        ratio = norms[0] / norms[-1]
        print(f"{hidden}: per-layer gradient norms ‖∂E/∂θˡ‖ before training, layer 1 … 8")
        print("  " + "  ".join(f"{g:.2e}" for g in norms))
        print(f"  first / last layer: {ratio:.2e}")
        last = history.layer_grad_norms[-1]
        print(f"  after {history.epochs} epochs: first / last layer {last[0] / last[-1]:.2e}")
        if warned:
            print(f"  fit warned: {warned[0].split(';')[0]}")
        results[hidden] = {"norms": norms, "ratio": ratio, "history": history, "net": net,
                           "warnings": warned}  # fmt: skip
    try:
        _plot(results, folder)
        print(f"plots: {folder / 'vanishing_gradients.png'}, {folder / 'grad_norms_epochs.png'}")
    except ImportError as exc:
        print(exc)
    return results


def _plot(results: dict, folder: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.add_subplot()
    layers = range(1, len(SIZES))
    for hidden, r in results.items():
        ax.plot(layers, r["norms"], marker="o", label=hidden)
    ax.set_yscale("log")
    ax.set_xlabel("layer l (1: next to the input)")
    ax.set_ylabel("‖∂E/∂θˡ‖ before training")
    ax.set_title("The same 8-layer network: gradient norm per layer")
    ax.legend()
    fig.savefig(folder / "vanishing_gradients.png")
    fig = Figure(figsize=(12, 4), layout="constrained")
    for ax, (hidden, r) in zip(fig.subplots(1, 2), results.items(), strict=True):
        dp.plots.plot_grad_norms(r["history"], ax=ax, network=r["net"])
        ax.set_title(f"{hidden}: gradient norm per layer over epochs")
    fig.savefig(folder / "grad_norms_epochs.png")


if __name__ == "__main__":
    main()
