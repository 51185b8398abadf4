"""A training report: one self-contained HTML file about a trained network.

Sections: the model (layers, units, activations, parameters per layer and in total), the training
settings, the final metrics, the curves (loss and accuracy per epoch, gradient and delta norms per
layer, saturated and dead units per layer), the results on the data given (a classifier's
confusion matrix and per-class scores, a regression's predicted-vs-true scatter), the decision
regions of a two-input classifier, and the network drawn by its weights. Figures are inline
SVG, styles inline, no scripts: it opens offline, in deltaprop's one look
(:mod:`deltaprop.render.style`), and fits a desktop's and a phone's width.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

import numpy as np

from ..losses import get_loss
from ..metrics import class_scores, confusion_matrix
from ..render.charts import Series, bar_chart, line_chart
from ..render.style import page
from ..summary import summarise
from ..targets import accuracy_kind, count_correct, default_loss, prepare_targets
from . import figures

if TYPE_CHECKING:
    from ..history import History
    from ..network import Network

Array = np.ndarray


def training_report(
    network: Network,
    history: History | None = None,
    x=None,
    y=None,
    *,
    title: str = "Training report",
    settings: dict | None = None,
    classes: list | None = None,
    loss=None,
    data_label: str = "the data given",
) -> str:
    """The report as HTML text (see the module). ``x``, ``y``: data to score and draw (class
    numbers, one-hot rows or targets, as ``fit`` takes them); ``classes``: the classes' names."""
    loss = get_loss(loss if loss is not None else default_loss(network))
    parts = [f"<h1>{escape(title)}</h1>", _model(network)]
    if settings:
        parts.append(_table("Training settings", settings))
    if history is not None and history.loss:
        parts.append(_metrics(history))
        parts.append(_curves(history, network))
    if x is not None and y is not None:
        parts.append(_results(network, x, y, loss, classes, data_label))
    parts.append("<h2>The network</h2><figure>" + figures.network_drawing(network)
                 + "<figcaption>Edge width: |w| against the largest weight; blue w > 0, orange "
                 "w < 0.</figcaption></figure>")  # fmt: skip
    return page(title, "\n".join(parts), CSS)


CSS = """
@media (min-width: 40rem) { .charts figure { max-width: calc(50% - .5rem); } }
table.confusion td { text-align: right; min-width: 2.5rem; }
svg.scatter, svg.boundary, svg.net-weights { width: 100%; max-width: 30rem; height: auto;
  font: 12px system-ui, sans-serif; }
svg.net-weights { max-width: 48rem; }
"""


def _table(caption: str, values: dict) -> str:
    rows = "".join(
        f'<tr><th data-label="setting">{escape(str(k))}</th>'
        f'<td data-label="value">{escape(_fmt(v))}</td></tr>'
        for k, v in values.items()
    )
    return f"<h2>{escape(caption)}</h2><table><tbody>{rows}</tbody></table>"


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return str(v)


def _model(network: Network) -> str:
    s = summarise(network)
    head = ["layer", "units", "activation", "weights", "biases", "parameters"]
    rows = [f'<tr><td data-label="layer">input</td><td data-label="units">{s.inputs}</td>'
            + "<td></td>" * 4 + "</tr>"]  # fmt: skip
    for r in s.rows:
        cells = "".join(
            f'<td data-label="{h}">{escape(f"{r[h]:,}" if isinstance(r[h], int) else str(r[h]))}'
            "</td>"
            for h in head
        )
        rows.append(f"<tr>{cells}</tr>")
    th = "".join(f"<th>{h}</th>" for h in head)
    return (
        f"<h2>The model</h2><table><thead><tr>{th}</tr></thead><tbody>{''.join(rows)}</tbody>"
        f"</table><p>{s.total:,} parameters in all ({escape(s.dtype)}).</p>"
    )


def _metrics(h: History) -> str:
    last = {"epochs": h.end_epoch, "updates": h.updates}
    for k in ("loss", "val_loss", "accuracy", "val_accuracy", "grad_norm"):
        values = getattr(h, k)
        if values:
            last[f"final {k}"] = float(values[-1])
    if h.best_epoch is not None:
        last["best epoch (restored)"] = h.best_epoch + 1
    return _table("Final metrics", last)


def _epochs(h: History) -> list[int]:
    return list(range(h.initial_epoch + 1, h.end_epoch + 1))


def _curves(h: History, network: Network) -> str:
    e = _epochs(h)
    charts = [line_chart([Series("training", e, figures.finite_or_none(h.loss))]
                         + ([Series("validation", e, h.val_loss)] if h.val_loss else []),
                         "Loss per epoch", "epoch", "loss E")]  # fmt: skip
    if h.accuracy:
        acc = [Series("training", e, h.accuracy)]
        acc += [Series("validation", e, h.val_accuracy)] if h.val_accuracy else []
        charts.append(line_chart(acc, "Accuracy per epoch", "epoch", "accuracy", log=False))
    names = [f"layer {k}" for k in range(1, network.n_layers + 1)]
    per_layer_records = (  # (record, title, y label, log scale): norms on a log scale
        ("layer_grad_norms", "Gradient norm per layer ‖∂E/∂θˡ‖", "norm", True),
        ("layer_delta_norms", "Delta norm per layer ‖δˡ‖", "norm", True),
        ("layer_saturation", "Saturated units per layer (share)", "share", False),
        ("layer_dead", "Dead units per layer (share)", "share", False),
    )
    for key, title, label, log in per_layer_records:
        rows = getattr(h, key)
        shown = all(v > 0 for r in rows for v in r) if log else any(v > 0 for r in rows for v in r)
        if rows and shown:
            per_layer = [Series(n, e, [r[k] for r in rows]) for k, n in enumerate(names)]
            charts.append(line_chart(per_layer, title, "epoch", label, log=log))
    if h.layer_grad_norms and all(v > 0 for v in h.layer_grad_norms[-1]):
        title = "Gradient norm per layer, last epoch"
        charts.append(bar_chart(names, h.layer_grad_norms[-1], title, "‖∂E/∂θˡ‖"))
    figs = "".join(f"<figure>{c}</figure>" for c in charts)
    return f'<h2>Learning curves</h2><div class="charts">{figs}</div>'


def _results(network: Network, x, y, loss, classes, data_label: str) -> str:
    x = network.check_input(x)
    t = prepare_targets(network, y, x.shape[0])
    o = network.predict(x)
    kind = accuracy_kind(network, loss)
    out = [f"<h2>Results on {escape(data_label)}</h2>",
           f"<p>{x.shape[0]:,} samples; loss {loss.value(o, t):.6g}.</p>"]  # fmt: skip
    if kind is None:
        out.append("<figure>" + figures.scatter(t, o) + "</figure>")
        r2 = 1 - float(np.sum((o - t) ** 2)) / max(float(np.sum((t - t.mean(axis=0)) ** 2)), 1e-300)
        out.append(f"<p>R² = {r2:.4f}.</p>")
        return "\n".join(out)
    acc = count_correct(kind, o, t) / x.shape[0]
    out.append(f"<p>accuracy {acc:.4f}.</p>")
    if t.shape[1] == 1:  # one sigmoid output: classes 0 and 1
        truth, pred = t[:, 0].round().astype(int), (o[:, 0] > 0.5).astype(int)
        k = 2
    else:
        truth, pred, k = t.argmax(axis=1), o.argmax(axis=1), t.shape[1]
    names = list(classes) if classes is not None and len(classes) == k else list(range(k))
    C = confusion_matrix(truth, pred, k)
    s = class_scores(C)
    out.append(figures.confusion(C, names))
    per = {str(n): f"precision {s['precision'][i]:.4f}, recall {s['recall'][i]:.4f}, "
                   f"F1 {s['f1'][i]:.4f}, {int(s['support'][i])} samples"
           for i, n in enumerate(names)}  # fmt: skip
    out.append(_table("Per class", per).replace("<h2>", "<h3>").replace("</h2>", "</h3>"))
    if x.shape[1] == 2:
        out.append("<figure>" + figures.decision_regions(network, x, truth)
                   + "<figcaption>The class the network predicts over the plane of the two "
                   "inputs, and the samples in their true class.</figcaption></figure>")
    return "\n".join(out)

