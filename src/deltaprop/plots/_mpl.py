"""matplotlib, loaded on first use: ``import deltaprop`` and training never need it.

Every plotting function asks :func:`axes` for its axes: the user's ``ax``, or a new figure's.
"""

from __future__ import annotations

from typing import Any

EXTRA = "pip install 'deltaprop[plot]'"


def pyplot() -> Any:
    """``matplotlib.pyplot``, or one ImportError that names the extra to install."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"deltaprop's plots need matplotlib, which is not installed: {EXTRA}"
        ) from exc
    return plt


def axes(ax: Any = None, size: tuple[float, float] = (6.0, 4.0)) -> tuple[Any, Any]:
    """``(figure, axes)``: the figure of the given ``ax``, or a new figure with one axes.

    New figures are made with ``matplotlib.figure.Figure`` (not pyplot), so that nothing is
    registered with a GUI backend and a script's figures are freed when dropped.
    """
    pyplot()  # the one clear error if matplotlib is missing
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def epochs_axis(history, n: int) -> list[int]:
    """Epoch numbers counted from 1, continuing a resumed run's (``initial_epoch``)."""
    start = getattr(history, "initial_epoch", 0)
    return list(range(start + 1, start + n + 1))


def layer_labels(network, n_layers: int) -> list[str]:
    """``layer 1 (σ)`` … from a network's activations, or ``layer 1`` … without one."""
    if network is None:
        return [f"layer {i}" for i in range(1, n_layers + 1)]
    return [f"layer {i} ({ly.activation.label})" for i, ly in enumerate(network.layers, start=1)]


def whole_ticks(ax: Any) -> None:
    """Ticks at whole numbers only on the x axis (epochs, updates)."""
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
