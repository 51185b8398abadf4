"""The decision boundary of a two-input classifier: ``predict`` on a grid, with the data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ._mpl import axes

if TYPE_CHECKING:
    from ..network import Network

Array = np.ndarray


def classes(output: Array, threshold: float = 0.5) -> Array:
    """Class of each output row: ``argmax`` over several outputs, ``o > threshold`` for one."""
    if output.shape[1] > 1:
        return output.argmax(axis=1)
    return (output[:, 0] > threshold).astype(np.intp)


def grid(x: Array, resolution: int, padding: float) -> tuple[Array, Array]:
    """``resolution × resolution`` points covering ``x``'s two columns, widened by ``padding``
    of their range on each side: the axes ``(g0, g1)``."""
    lo, hi = x.min(axis=0), x.max(axis=0)
    pad = padding * np.where(hi > lo, hi - lo, 1.0)
    return tuple(np.linspace(lo[k] - pad[k], hi[k] + pad[k], resolution) for k in (0, 1))


def plot_decision_boundary(
    network: Network,
    x,
    y=None,
    ax: Any = None,
    resolution: int = 200,
    padding: float = 0.1,
    threshold: float = 0.5,
):
    """The class ``network.predict`` gives every point of a grid over the data, shaded, with
    the data ``x`` (n, 2) coloured by their labels ``y`` (class numbers or one-hot rows).

    One output is read as ``o > threshold``, several as ``argmax``. The shaded image's data are
    those classes on the grid (``ax.images[0]``), rows along the second input.
    """
    if network.layers[0].inputs != 2:
        raise ValueError(
            f"a decision boundary is drawn for two inputs; this network has "
            f"{network.layers[0].inputs}"
        )
    x = network.check_input(x)
    if not 2 <= resolution <= 2000:
        raise ValueError(f"resolution must be between 2 and 2000, got {resolution}")
    g0, g1 = grid(x, resolution, padding)
    p0, p1 = np.meshgrid(g0, g1)  # p[i, j] = (g0[j], g1[i])
    points = np.column_stack([p0.ravel(), p1.ravel()])
    out = network.predict(points)
    field = classes(out, threshold).reshape(p0.shape)
    fig, ax = axes(ax)
    k = max(2, network.layers[-1].units)
    cmap = "coolwarm" if k == 2 else "tab10"
    ax.imshow(field, origin="lower", extent=(g0[0], g0[-1], g1[0], g1[-1]), aspect="auto",
              cmap=cmap, vmin=0, vmax=k - 1 if k == 2 else 9, alpha=0.35,
              interpolation="nearest")  # fmt: skip
    if out.shape[1] == 1:
        ax.contour(p0, p1, out[:, 0].reshape(p0.shape), levels=[threshold], colors="k",
                   linewidths=1)  # fmt: skip
    if y is not None:
        labels = np.asarray(y)
        labels = classes(labels.reshape(len(x), -1), threshold) if labels.ndim > 1 or (
            labels.dtype.kind == "f"
        ) else labels  # fmt: skip
        ax.scatter(x[:, 0], x[:, 1], c=labels, cmap=cmap, vmin=0, vmax=k - 1 if k == 2 else 9,
                   edgecolors="k", zorder=3)  # fmt: skip
    else:
        ax.scatter(x[:, 0], x[:, 1], color="k", zorder=3)
    ax.set_xlabel("x₁")
    ax.set_ylabel("x₂")
    ax.set_title("Decision boundary")
    return fig
