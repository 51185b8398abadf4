"""Spec files of worked solutions (``deltaprop explain SPEC``): network, batch, learning rate.

A spec is a TOML or JSON file with the same keys in both (see ``docs/explain.md``).
:func:`load_spec` reads and checks one; every problem is a :class:`SpecError` whose one-line
message names the key and what was expected.
"""

from __future__ import annotations

import json
import math
import numbers
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .activations import get_activation
from .losses import get_loss
from .network import Network
from .optimizers import get_optimizer
from .trace import Trace, explain

KEYS = (
    "layers",
    "activations",
    "loss",
    "weights",
    "biases",
    "input",
    "target",
    "learning_rate",
    "optimizer",
)
REQUIRED = ("layers", "activations", "loss", "weights", "input", "target", "learning_rate")


class SpecError(ValueError):
    """A bad spec file; the message is one line naming the key and what was expected."""


@dataclass
class Spec:
    """A parsed spec: the network to explain and the arguments of :func:`explain`."""

    network: Network
    input: list
    target: list
    loss: str
    learning_rate: float
    optimizer: dict = field(default_factory=lambda: {"name": "sgd"})

    def explain(self, steps: int = 1) -> Trace:
        return explain(
            self.network,
            self.input,
            self.target,
            learning_rate=self.learning_rate,
            optimizer=self.optimizer,
            steps=steps,
            loss=self.loss,
        )


def load_spec(path: str | Path) -> Spec:
    """Read and check a ``.toml`` or ``.json`` spec file (other suffixes: tried as both)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SpecError(f"{path}: cannot be read ({exc})") from None
    return parse_spec(text, suffix=path.suffix.lower(), name=str(path))


def parse_spec(text: str, suffix: str = ".toml", name: str = "spec") -> Spec:
    """Parse spec text (TOML for ``.toml``, JSON for ``.json``) and build the network."""
    data = _parse(text, suffix, name)
    try:
        return spec_from_dict(data)
    except SpecError as exc:
        raise SpecError(f"{name}: {exc}") from None


def _parse(text: str, suffix: str, name: str) -> dict:
    if suffix == ".json" or (suffix != ".toml" and text.lstrip().startswith("{")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(
                f"{name}: not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
            ) from None
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise SpecError(f"{name}: not valid TOML: {exc}") from None
    if not isinstance(data, dict):
        raise SpecError(f"{name}: expected a table of keys at the top, got {_kind(data)}")
    return data


def spec_from_dict(data: dict) -> Spec:
    """Check a parsed spec and build it; errors name the key (e.g. ``weights[1][0]``)."""
    unknown = sorted(set(data) - set(KEYS))
    if unknown:
        raise SpecError(f"unknown key {unknown[0]!r}; expected keys: {', '.join(KEYS)}")
    for key in REQUIRED:
        if key not in data:
            raise SpecError(f"missing key {key!r}")
    sizes = data["layers"]
    if (
        not isinstance(sizes, list)
        or len(sizes) < 2
        or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in sizes)
    ):
        raise SpecError(
            "layers: expected neurons per layer as a list of at least two positive whole numbers "
            f"(input first), e.g. [2, 2, 1]; got {sizes!r}"
        )
    n_layers = len(sizes) - 1
    acts = _per_layer_names(data["activations"], n_layers)
    for i, name in enumerate(acts):
        _lookup(get_activation, name, f"activations[{i}]")
    loss = data["loss"]
    if not isinstance(loss, str):
        raise SpecError(f"loss: expected a name (a string), got {_kind(loss)}")
    _lookup(get_loss, loss, "loss")
    weights = data["weights"]
    if not isinstance(weights, list) or len(weights) != n_layers:
        raise SpecError(
            f"weights: expected one matrix per non-input layer ({n_layers}), got "
            + (f"{len(weights)}" if isinstance(weights, list) else _kind(weights))
        )
    for i, W in enumerate(weights):
        _matrix(W, sizes[i + 1], sizes[i], f"weights[{i}]")
    biases = data.get("biases")
    if biases is not None:
        if not isinstance(biases, list) or len(biases) != n_layers:
            got = f"{len(biases)} entries" if isinstance(biases, list) else _kind(biases)
            raise SpecError(
                f"biases: expected one vector (or null/false for none) per non-input layer "
                f"({n_layers}), got {got}"
            )
        biases = [None if bv is None or bv is False else bv for bv in biases]
        for i, bv in enumerate(biases):
            if bv is not None:
                _vector(bv, sizes[i + 1], f"biases[{i}]")
    x = _samples(data["input"], sizes[0], "input")
    t = _samples(data["target"], sizes[-1], "target")
    nx = 1 if _is_vector(x) else len(x)
    nt = 1 if _is_vector(t) else len(t)
    if nx != nt:
        raise SpecError(f"target: expected {nx} sample(s) to match input, got {nt}")
    lr = data["learning_rate"]
    _finite(lr, "learning_rate")
    if lr <= 0:
        raise SpecError(f"learning_rate: expected a positive number, got {lr!r}")
    optimizer = _optimizer(data.get("optimizer", "sgd"), lr)
    network = Network.from_weights(weights, biases, acts)
    return Spec(network, x, t, loss, float(lr), optimizer)


def _lookup(getter, name: str, key: str) -> None:
    try:
        getter(name)
    except (ValueError, TypeError) as exc:
        raise SpecError(f"{key}: {exc}") from None


def _per_layer_names(acts, n_layers: int) -> list[str]:
    if isinstance(acts, str):
        return [acts] * n_layers
    if not isinstance(acts, list) or len(acts) != n_layers:
        got = _plural(len(acts), "name") if isinstance(acts, list) else _kind(acts)
        raise SpecError(
            f"activations: expected one name per non-input layer ({n_layers}), got {got}"
        )
    for i, name in enumerate(acts):
        if not isinstance(name, str):
            raise SpecError(f"activations[{i}]: expected a name (a string), got {_kind(name)}")
    return acts


def _optimizer(value, lr: float) -> dict:
    if isinstance(value, str):
        value = {"name": value}
    if not isinstance(value, dict):
        raise SpecError(
            "optimizer: expected a name or a table with a name and its settings, "
            f"got {_kind(value)}"
        )
    value = dict(value)
    name = value.get("name", "sgd")
    if not isinstance(name, str):
        raise SpecError(f"optimizer.name: expected a string, got {_kind(name)}")
    for key in ("learning_rate", "lr", "eta"):
        if key in value:
            raise SpecError(f"optimizer.{key}: give the learning rate once, as learning_rate")
    for key, v in value.items():
        if key != "name" and not isinstance(v, bool):
            _finite(v, f"optimizer.{key}")
    try:
        get_optimizer(value, learning_rate=lr)
    except (ValueError, TypeError) as exc:
        raise SpecError(f"optimizer: {exc}") from None
    return value


def _finite(v, key: str) -> None:
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise SpecError(f"{key}: expected a number, got {_kind(v)}")
    try:
        finite = math.isfinite(v)
    except OverflowError:  # a whole number beyond float64's range
        raise SpecError(
            f"{key}: expected a finite number, got a whole number of {int(v).bit_length()} bits"
        ) from None
    if not finite:
        raise SpecError(f"{key}: expected a finite number, got {v!r}")


def _vector(v, length: int, key: str) -> None:
    if not isinstance(v, list) or len(v) != length:
        got = _plural(len(v), "number") if isinstance(v, list) else _kind(v)
        raise SpecError(f"{key}: expected a vector of {_plural(length, 'number')}, got {got}")
    for j, e in enumerate(v):
        _finite(e, f"{key}[{j}]")


def _matrix(M, rows: int, cols: int, key: str) -> None:
    layer = int(key[key.index("[") + 1 : key.index("]")]) + 1
    shape = (
        f"a {rows}×{cols} matrix ({_plural(rows, 'row')}, one per neuron of layer {layer}, each "
        f"of {_plural(cols, 'weight')}, one per neuron of layer {layer - 1})"
    )
    if not isinstance(M, list) or len(M) != rows or not all(isinstance(r, list) for r in M):
        got = (
            _plural(len(M), "row")
            if isinstance(M, list) and all(isinstance(r, list) for r in M)
            else _kind(M)
        )
        raise SpecError(f"{key}: expected {shape}, got {got}")
    for i, row in enumerate(M):
        if len(row) != cols:
            raise SpecError(
                f"{key}: expected {shape}, got {_plural(len(row), 'number')} in row {i}"
            )
        for j, e in enumerate(row):
            _finite(e, f"{key}[{i}][{j}]")


def _is_vector(v) -> bool:
    return isinstance(v, list) and not any(isinstance(e, list) for e in v)


def _samples(v, width: int, key: str) -> list:
    """One sample (a vector of ``width`` numbers) or a non-empty list of them."""
    if _is_vector(v) and v:
        _vector(v, width, key)
        return v
    if not isinstance(v, list) or not v:
        raise SpecError(
            f"{key}: expected a vector of {_plural(width, 'number')} or a list of such vectors, "
            f"got {_kind(v)}"
        )
    for s, row in enumerate(v):
        _vector(row, width, f"{key}[{s}]")
    return v


def _plural(k: int, word: str) -> str:
    return f"{k} {word}" + ("" if k == 1 else "s")


def _kind(v) -> str:
    if isinstance(v, list):
        return "an empty list" if not v else f"a list of {len(v)}"
    if v is None:
        return "null"
    if isinstance(v, bool):
        return f"{str(v).lower()} (a boolean)"
    if isinstance(v, dict):
        return "a table"
    return f"{v!r} (a {type(v).__name__})"
