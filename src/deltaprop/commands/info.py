"""``deltaprop info MODEL``: what a model file holds, without the arrays.

Layers (units, activation, weights, biases, parameters per layer and in total), the optimizer and
its settings, the epochs trained and the final metrics, the preprocessing and the data it was
trained on. ``--json`` prints the same as one JSON object.
"""

from __future__ import annotations

import json
import math

import click

from .. import io
from ..summary import summarise
from ._errors import OneLineCommand, one_line_errors

FINAL = ("loss", "val_loss", "accuracy", "val_accuracy")


def describe(saved: io.SavedModel) -> dict:
    """The summary of ``saved`` as plain data (JSON-ready)."""
    net = saved.network
    table = summarise(net)  # the network's parameter table, as network.summary() prints it
    layers = [{"layer": 0, "units": net.sizes[0], "activation": "input", "weights": 0,
               "biases": 0, "parameters": 0}, *table.rows]  # fmt: skip
    out: dict = {
        "format_version": saved.format_version,
        "library_version": saved.library_version,
        "dtype": str(net.dtype),
        "layers": layers,
        "parameters": sum(ly["parameters"] for ly in layers),
        "optimizer": None,
        "epochs": 0,
        "final": {},
        "preprocessing": None,
        "data": None,
    }
    if saved.optimizer is not None:
        settings = {k: v for k, v in saved.optimizer.hyperparameters().items()
                    if isinstance(v, bool | int | float | str)}  # fmt: skip
        out["optimizer"] = {"name": saved.optimizer.name, **settings}
    h = saved.history
    if h is not None:
        out["epochs"] = h.end_epoch
        final = {k: getattr(h, k)[-1] for k in FINAL if getattr(h, k)}
        out["final"] = {k: (v if math.isfinite(v) else None) for k, v in final.items()}
        if h.best_epoch is not None:
            out["best_epoch"] = h.best_epoch
    pre = saved.preprocessing
    if pre is not None:
        out["preprocessing"] = {
            "task": pre.task,
            "classes": None if pre.classes is None else [str(c) for c in pre.classes],
            "features": pre.feature_names,
            "target": pre.target_name,
            "standardised_inputs": pre.x_mean is not None,
            "scaled_targets": pre.y_mean is not None,
        }
    meta = saved.metadata if isinstance(saved.metadata, dict) else {}
    if meta.get("data") is not None:
        keys = ("data", "train_rows", "seed", "task")
        out["data"] = {k: meta[k] for k in keys if k in meta}
    return out


def _lines(path: str, d: dict) -> list[str]:
    version = f", deltaprop {d['library_version']}" if d["library_version"] else ""
    lines = [f"model       {path} (format {d['format_version']}{version}, {d['dtype']})"]
    header = ("layer", "units", "activation", "weights", "biases", "parameters")
    rows = [header] + [
        (str(ly["layer"]), str(ly["units"]), ly["activation"],
         *(str(ly[k]) if ly["layer"] else "" for k in ("weights", "biases", "parameters")))
        for ly in d["layers"]
    ]  # fmt: skip
    widths = [max(len(r[k]) for r in rows) for k in range(len(header))]
    for r in rows:
        cells = [
            c.ljust(w) if k == 2 else c.rjust(w)
            for k, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        lines.append("  " + "  ".join(cells).rstrip())
    lines.append(f"parameters  {d['parameters']} in total")
    opt = d["optimizer"]
    if opt is not None:
        settings = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}"
                             for k, v in opt.items() if k != "name")  # fmt: skip
        lines.append(f"optimizer   {opt['name']} ({settings})")
    if d["epochs"]:
        best = f", best epoch {d['best_epoch']}" if "best_epoch" in d else ""
        lines.append(f"epochs      {d['epochs']}{best}")
    if d["final"]:
        final = ", ".join(
            f"{k} {v:.6g}" if v is not None else f"{k} nan" for k, v in d["final"].items()
        )
        lines.append(f"final       {final}")
    pre = d["preprocessing"]
    if pre is not None:
        what = pre["task"]
        if pre["classes"] is not None:
            what += f", {len(pre['classes'])} classes: " + ", ".join(pre["classes"])
        lines.append(f"task        {what}")
        if pre["features"]:
            lines.append(f"features    {', '.join(pre['features'])}")
        scaled = ["inputs standardised (x − mean) / scale"] if pre["standardised_inputs"] else []
        scaled += ["targets scaled"] if pre["scaled_targets"] else []
        if pre["target"]:
            scaled.append(f"target column {pre['target']}")
        if scaled:
            lines.append(f"preprocess  {'; '.join(scaled)}")
    data = d["data"]
    if data is not None:
        extra = [f"{data['train_rows']} rows trained on"] if "train_rows" in data else []
        extra += [f"seed {data['seed']}"] if data.get("seed") is not None else []
        lines.append(f"data        {data['data']}" + (f" ({', '.join(extra)})" if extra else ""))
    return lines


@click.command(cls=OneLineCommand)
@click.argument("model")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@one_line_errors
def info(model, as_json) -> None:
    """Summarise the model file MODEL: layers, parameters, optimizer, epochs, final metrics,
    preprocessing and the data it was trained on."""
    d = describe(io.load(model))
    if as_json:
        click.echo(json.dumps(d, indent=2))
        return
    click.echo("\n".join(_lines(model, d)))


COMMANDS = [info]
