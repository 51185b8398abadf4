"""Loss curves: over epochs (training and validation) and over updates (descent modes)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._mpl import axes, epochs_axis, whole_ticks

if TYPE_CHECKING:
    from ..history import History


def plot_loss(history: History, ax: Any = None, log: bool = False):
    """The training loss ``E`` per epoch and, if recorded, the validation loss; a Figure.

    The training loss of epoch ``e`` is ``Σ_b n_b E_b / n`` over its batches, each measured
    before its update (for full-batch descent: the error before the epoch's one update).
    """
    if not history.loss:
        raise ValueError("the history holds no epochs: there is no loss to plot")
    fig, ax = axes(ax)
    ax.plot(epochs_axis(history, len(history.loss)), history.loss, label="training")
    if history.val_loss:
        ax.plot(epochs_axis(history, len(history.val_loss)), history.val_loss, label="validation")
    ax.set_xlabel("epoch")
    whole_ticks(ax)
    ax.set_ylabel("loss E")
    ax.set_title("Loss over epochs")
    if log:
        ax.set_yscale("log")
    ax.legend()
    return fig


def plot_update_loss(history: History, ax: Any = None, label: str | None = None):
    """Every update's batch error ``E_b`` (before the update) against the update number.

    Needs ``fit(..., record_update_loss=True)``. Stochastic descent's curve is noisy, full-batch
    descent's smooth: :func:`deltaprop.compare` draws them on one chart.
    """
    if not history.update_loss:
        raise ValueError(
            "the history holds no per-update losses: train with fit(..., record_update_loss=True)"
        )
    fig, ax = axes(ax)
    ax.plot(range(1, len(history.update_loss) + 1), history.update_loss, label=label)
    ax.set_xlabel("update")
    whole_ticks(ax)
    ax.set_ylabel("batch loss E")
    ax.set_title("Loss per update")
    if label is not None:
        ax.legend()
    return fig
