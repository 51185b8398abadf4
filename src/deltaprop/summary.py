"""A network's parameter table, as Keras users expect from ``model.summary()``.

Layer ``l`` with ``units_l`` neurons fed by ``units_{l−1}`` has ``units_l · units_{l−1}`` weights
(``Wˡ``) and ``units_l`` biases (``bˡ``, if it has them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .network import Network


@dataclass
class Summary:
    """The table as data (``rows``: one dict per layer; ``total``) and as text (``str``)."""

    rows: list[dict]
    inputs: int
    dtype: str

    @property
    def total(self) -> int:
        """Every trainable parameter: all weights and biases."""
        return sum(r["parameters"] for r in self.rows)

    def __str__(self) -> str:
        head = ["layer", "units", "activation", "weights", "biases", "parameters"]
        body = [
            [str(r["layer"]), str(r["units"]), r["activation"], f"{r['weights']:,}",
             f"{r['biases']:,}", f"{r['parameters']:,}"]  # fmt: skip
            for r in self.rows
        ]
        first = ["input", str(self.inputs), "", "", "", ""]
        rows = [head, first, *body]
        widths = [max(len(row[k]) for row in rows) for k in range(len(head))]

        def line(row):
            return "  ".join(
                c.ljust(w) if k in (0, 2) else c.rjust(w)
                for k, (c, w) in enumerate(zip(row, widths, strict=True))
            ).rstrip()

        rule = "-" * len(line(head))
        out = [line(head), rule, *(line(r) for r in rows[1:]), rule]
        out.append(f"total parameters: {self.total:,} ({self.dtype})")
        return "\n".join(out)

    __repr__ = __str__


def summarise(network: Network) -> Summary:
    """The parameter table of ``network`` (see :class:`Summary`)."""
    rows = []
    for i, ly in enumerate(network.layers, start=1):
        weights = int(ly.W.size)
        biases = 0 if ly.b is None else int(ly.b.size)
        rows.append({
            "layer": i,
            "units": ly.units,
            "activation": ly.activation.name,
            "weights": weights,
            "biases": biases,
            "parameters": weights + biases,
        })  # fmt: skip
    return Summary(rows, network.layers[0].inputs, str(network.dtype))
