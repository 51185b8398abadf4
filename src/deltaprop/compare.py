"""Comparisons from the same start: one initial network, several optimizers or batch sizes.

``dp.compare(network, x, y, optimizers=["sgd", "momentum", "adam"], epochs=20, seed=0)`` trains
a copy of ``network`` per entry with :func:`deltaprop.fit`, each from the same weights and with
the same shuffling seed, so that every run sees the same batches in the same order (with
``batch_sizes``, the same permutation of the samples cut into batches of each size: full-batch,
stochastic, mini-batch descent). Every run records its per-update losses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .optimizers import Optimizer, get_optimizer
from .training import fit
from .validation import check_int

if TYPE_CHECKING:
    from .history import History
    from .network import Network

QUANTITIES = ("loss", "update_loss", "time")


@dataclass
class Comparison:
    """The runs of :func:`compare`: ``histories`` and trained ``networks`` by run name, in order."""

    histories: dict[str, History]
    networks: dict[str, Network] = field(default_factory=dict)

    def final_losses(self) -> dict[str, float]:
        """Each run's training loss in its last epoch."""
        return {name: h.loss[-1] for name, h in self.histories.items() if h.loss}

    def plot(self, quantity: str | None = None, ax: Any = None):
        """Every run on one chart of ``quantity``: ``"loss"`` per epoch, ``"update_loss"`` per
        update, ``"time"`` (loss against seconds of training); None: the three side by side.
        Returns a matplotlib Figure (needs ``deltaprop[plot]``)."""
        from .plots._mpl import axes

        if quantity is None:
            if ax is not None:
                raise ValueError("give a quantity to draw into one ax, or no ax for all three")
            from matplotlib.figure import Figure

            fig = Figure(figsize=(15, 4), layout="constrained")
            for q, a in zip(QUANTITIES, fig.subplots(1, 3), strict=True):
                self.plot(q, a)
            return fig
        if quantity not in QUANTITIES:
            raise ValueError(f"unknown quantity {quantity!r}; expected one of {QUANTITIES}")
        fig, ax = axes(ax)
        for name, h in self.histories.items():
            if quantity == "loss":
                ax.plot(range(h.initial_epoch + 1, h.end_epoch + 1), h.loss, label=name)
            elif quantity == "update_loss":
                ax.plot(range(1, len(h.update_loss) + 1), h.update_loss, label=name)
            else:
                seconds = [sum(h.epoch_seconds[: e + 1]) for e in range(len(h.epoch_seconds))]
                ax.plot(seconds, h.loss, label=name, marker=".")
        xlabel = {"loss": "epoch", "update_loss": "update", "time": "seconds of training"}
        title = {"loss": "Loss per epoch", "update_loss": "Loss per update",
                 "time": "Loss per second"}  # fmt: skip
        ax.set_xlabel(xlabel[quantity])
        ax.set_ylabel("loss E")
        ax.set_yscale("log")
        if quantity == "update_loss":  # a full-batch run's few updates beside SGD's thousands
            ax.set_xscale("log")
        ax.set_title(title[quantity])
        ax.legend(fontsize="small")
        return fig


def compare(
    network: Network,
    x,
    y,
    *,
    optimizers: Sequence[str | dict | Optimizer] | None = None,
    batch_sizes: Sequence[int | str | None] | None = None,
    epochs: int = 10,
    seed: int = 0,
    optimizer: str | dict | Optimizer = "sgd",
    batch_size: int | None = 32,
    **fit_kwargs,
) -> Comparison:
    """Train copies of ``network`` (left unchanged) with each of ``optimizers`` (names, dicts or
    optimizers; ``batch_size`` for all) or each of ``batch_sizes`` (``"full"`` or None for
    full-batch descent, 1 for stochastic, n for mini-batch; ``optimizer`` for all) — one of the
    two — on the same batches in the same order (``seed``). Other keyword arguments go to
    :func:`deltaprop.fit`. Returns a :class:`Comparison`.
    """
    if (optimizers is None) == (batch_sizes is None):
        raise ValueError("give either optimizers=[...] or batch_sizes=[...] to compare")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int (every run shuffles with it), got {seed!r}")
    if "record_update_loss" in fit_kwargs:
        raise TypeError("compare records every update's loss itself: drop record_update_loss")
    epochs = check_int(epochs, "epochs", 1)
    if optimizers is not None:
        if not optimizers:
            raise ValueError("optimizers is empty: give at least one")
        runs = [(_optimizer_name(o), o, batch_size) for o in optimizers]
    else:
        if not batch_sizes:
            raise ValueError("batch_sizes is empty: give at least one")
        n = len(x)
        runs = [(_batch_name(b, n), optimizer, _batch_size(b)) for b in batch_sizes]
    histories, networks = {}, {}
    for name, opt, bs in runs:
        name = _unique(name, histories)
        net = network.copy()
        histories[name] = fit(net, x, y, optimizer=opt, batch_size=bs, epochs=epochs, seed=seed,
                              record_update_loss=True, **fit_kwargs)  # fmt: skip
        networks[name] = net
    return Comparison(histories, networks)


def _optimizer_name(o) -> str:
    if isinstance(o, str):
        return o
    if isinstance(o, dict):
        settings = ", ".join(f"{k}={v}" for k, v in o.items() if k != "name")
        base = str(o.get("name", "optimizer"))
        return f"{base} ({settings})" if settings else base
    return get_optimizer(o).name


def _batch_size(b) -> int | None:
    if b is None or (isinstance(b, str) and b.lower() in ("full", "batch")):
        return None
    if isinstance(b, str):
        if not b.isdigit():
            raise ValueError(f"batch size {b!r}: expected a whole number or 'full'")
        b = int(b)
    return check_int(b, "batch size", 1)


def _batch_name(b, n: int) -> str:
    size = _batch_size(b)
    if size is None or size >= n:
        return f"full batch ({n})"
    return "stochastic (1)" if size == 1 else f"mini-batch ({size})"


def _unique(name: str, taken: dict) -> str:
    if name not in taken:
        return name
    k = 2
    while f"{name} #{k}" in taken:
        k += 1
    return f"{name} #{k}"
