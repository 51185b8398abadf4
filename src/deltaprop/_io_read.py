"""Reading a model file: every check :func:`deltaprop.io.load` makes before trusting a byte.

The order is the point. The ZIP directory is checked against the file's real size
(:mod:`._modelfile_zip`); the JSON header (at most ``MAX_HEADER_BYTES``) is parsed and every
value checked (:mod:`._modelfile_header`); the members and their exact sizes follow from the
header and are compared with what the directory claims; only then is an array read, each ``.npy``
header before its data. Any other member, an object array (a pickle payload) included, is refused
unread.
"""

from __future__ import annotations

import json
import math

import numpy as np

from . import _modelfile_header as check
from ._modelfile import (
    FORMAT,
    FORMAT_VERSION,
    HEADER,
    ModelFileError,
    Preprocessing,
    check_preprocessing,
)
from ._modelfile_zip import NPY_HEADER_MAX, Archive
from .activations import get_activation
from .network import Dense, Network
from .optimizers import OPTIMIZERS, Optimizer, State, get_optimizer
from .schedules import Schedule, schedule_from_dict
from .training import History

Array = np.ndarray
MAX_HEADER_BYTES = 64 << 20
_HISTORY_FIELDS = History.record_names()  # the records a file keeps (no objects: state, …)


def read(archive: Archive) -> dict:
    """The fields of a :class:`~deltaprop.io.SavedModel` in ``archive``, or
    :class:`ModelFileError` saying what is wrong."""
    names = archive.names
    if HEADER not in names:
        shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
        raise ModelFileError(f"not a deltaprop model file (no {HEADER}; it holds: {shown})")
    header = _read_header(archive)
    dtype_name = check.get(header, "dtype", str)
    if dtype_name not in ("float32", "float64"):
        raise ModelFileError(f"dtype must be float32 or float64, got {check.show(dtype_name)}")
    dtype = np.dtype(dtype_name)
    layers = _layer_specs(check.get(header, "layers", list))
    opt_header = check.get(header, "optimizer", dict, optional=True)
    pre_header = check.get(header, "preprocessing", dict, optional=True)
    inputs, outputs = layers[0]["inputs"], layers[-1]["units"]

    shapes = {}  # every member the header implies, with its shape
    for i, spec in enumerate(layers, start=1):
        shapes[f"params/W{i}.npy"] = (spec["units"], spec["inputs"])
        if spec["bias"]:
            shapes[f"params/b{i}.npy"] = (spec["units"],)
    params = {name.removeprefix("params/").removesuffix(".npy"): s for name, s in shapes.items()}
    opt = None
    if opt_header is not None:
        opt = _optimizer_from_header(opt_header)
        if opt_header["step"] is not None:
            for slot in opt.slots:
                shapes.update({f"optimizer/{slot}/{k}.npy": s for k, s in params.items()})
    pre_arrays = []
    if pre_header is not None:
        pre_arrays = check.preprocessing(pre_header, inputs, outputs)
        sizes = {"x": inputs, "y": outputs}
        shapes.update({f"preprocessing/{k}.npy": (sizes[k[0]],) for k in pre_arrays})
    _check_members(archive, shapes, dtype)

    dense = []
    for i, spec in enumerate(layers, start=1):
        W = archive.read_array(f"params/W{i}.npy", dtype, shapes[f"params/W{i}.npy"])
        b = (
            archive.read_array(f"params/b{i}.npy", dtype, (spec["units"],))
            if spec["bias"]
            else None
        )
        dense.append(Dense(W, b, spec["activation"]))
    network = Network(dense, dtype=dtype)

    state = None
    if opt is not None and opt_header["step"] is not None:
        state = {"step": opt_header["step"]}
        for slot in opt.slots:
            state[slot] = {
                k: archive.read_array(f"optimizer/{slot}/{k}.npy", dtype, s)
                for k, s in params.items()
            }
    schedule = _schedule_from_header(check.get(header, "schedule", dict, optional=True))
    history = _history_from_json(check.get(header, "history", dict, optional=True), state, schedule)
    rng_state = check.get(header, "rng", dict, optional=True)
    pre = None
    if pre_header is not None:
        pre = _preprocessing_from_header(archive, pre_header, pre_arrays, inputs, outputs)
    return {
        "network": network,
        "optimizer": opt,
        "optimizer_state": state,
        "history": history,
        "schedule": schedule,
        "rng": None if rng_state is None else check.rng(rng_state),
        "preprocessing": pre,
        "metadata": check.get(header, "metadata", dict),
        "format_version": header["format_version"],
        "library_version": check.get(header, "library_version", str),
    }


def _read_header(archive: Archive) -> dict:
    data = archive.read(HEADER, MAX_HEADER_BYTES)
    try:
        header = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError, an int of 5,000 digits
        raise ModelFileError(f"{HEADER} is not valid JSON ({exc})") from None
    except RecursionError:
        raise ModelFileError(f"{HEADER} is nested too deeply to be a model header") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        found = header.get("format") if isinstance(header, dict) else None
        raise ModelFileError(
            f"not a deltaprop model file (format {check.show(found)}, expected {FORMAT!r})"
        )
    version = header.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"invalid format_version {check.show(version)}")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"written by a newer deltaprop (format version {version}, library "
            f"{check.show(header.get('library_version'))}); this deltaprop reads format version "
            f"{FORMAT_VERSION}: upgrade deltaprop to load it"
        )
    return header


def _check_members(archive: Archive, shapes: dict[str, tuple], dtype: np.dtype) -> None:
    """Exactly the members the header implies, each claiming the size its shape implies."""
    expected = {HEADER, *shapes}
    extra = sorted(set(archive.names) - expected)
    if extra:
        raise ModelFileError(
            f"unexpected member {extra[0]!r} (a deltaprop model file holds only {HEADER} and "
            f"the .npy arrays its header names); refused unread"
        )
    missing = sorted(expected - set(archive.names))
    if missing:
        raise ModelFileError(f"missing member {missing[0]!r} (truncated or corrupted)")
    for name, shape in shapes.items():  # before any array is read or allocated
        itemsize = 8 if name.startswith("preprocessing/") else dtype.itemsize
        nbytes = math.prod(shape) * itemsize
        archive.check_size(name, 0, nbytes + NPY_HEADER_MAX)  # the exact size: read_array


def _layer_specs(layers: list) -> list[dict]:
    if not layers:
        raise ModelFileError("the header lists no layers")
    specs = []
    for i, spec in enumerate(layers, start=1):
        if not isinstance(spec, dict):
            raise ModelFileError(f"layer {i} must be an object, got {check.show(spec)}")
        unknown = sorted(set(spec) - {"units", "inputs", "activation", "bias"})
        if unknown:
            raise ModelFileError(f"layer {i} has an unknown entry {unknown[0]!r}")
        units = check.whole(spec.get("units"), f"layer {i} units", 1, check.MAX_UNITS)
        inputs = check.whole(spec.get("inputs"), f"layer {i} inputs", 1, check.MAX_UNITS)
        if specs and inputs != specs[-1]["units"]:
            raise ModelFileError(
                f"layer {i} has {inputs} inputs but layer {i - 1} has {specs[-1]['units']} units"
            )
        name = check.get(spec, "activation", str)
        try:
            activation = get_activation(name)
        except ValueError:
            raise ModelFileError(
                f"layer {i} uses the activation {check.show(name)}, which is not built in and "
                f"not registered in this session; register it (deltaprop.register_activation"
                f"({name!r:.40}, f, df)) before loading"
            ) from None
        bias = check.get(spec, "bias", bool)
        specs.append({"units": units, "inputs": inputs, "activation": activation, "bias": bias})
    return specs


def _optimizer_from_header(h: dict) -> Optimizer:
    name = check.get(h, "name", str)
    if name not in OPTIMIZERS:
        raise ModelFileError(f"unknown optimizer {check.show(name)}")
    check.exact_keys(h, {"name", "hyperparameters", "step", "slots"}, "optimizer")
    settings = check.settings(check.get(h, "hyperparameters", dict), "optimizer setting")
    try:
        opt = get_optimizer({"name": name, **settings})
    except (ValueError, TypeError) as exc:
        raise ModelFileError(f"bad optimizer settings: {exc}") from None
    if check.get(h, "slots", list) != list(opt.slots):
        raise ModelFileError(
            f"optimizer slots {check.show(h['slots'])} do not match {name}'s {opt.slots}"
        )
    if h["step"] is not None:
        check.whole(h["step"], "optimizer step")
    return opt


def _schedule_from_header(h: dict | None) -> Schedule | None:
    if h is None:
        return None
    for part in ("settings", "state"):
        if isinstance(h.get(part), dict):
            check.settings(h[part], f"schedule {part}")
    try:
        return schedule_from_dict(h)
    except (ValueError, TypeError) as exc:
        raise ModelFileError(f"invalid learning-rate schedule: {exc}") from None


def _history_from_json(
    h: dict | None, state: State | None, schedule: Schedule | None
) -> History | None:
    if h is None:
        return None
    check.history(h, _HISTORY_FIELDS)
    return History(**h, optimizer_state=state, schedule=schedule)


def _preprocessing_from_header(
    archive: Archive, h: dict, arrays: list[str], inputs: int, outputs: int
) -> Preprocessing:
    sizes = {"x": inputs, "y": outputs}
    values = {
        k: archive.read_array(f"preprocessing/{k}.npy", np.dtype(np.float64), (sizes[k[0]],))
        for k in arrays
    }
    pre = Preprocessing(
        task=h["task"],
        classes=h.get("classes"),
        feature_names=h.get("feature_names"),
        target_name=h.get("target_name"),
        **values,
    )
    try:
        check_preprocessing(pre, pre.classes, inputs, outputs)
    except ValueError as exc:
        raise ModelFileError(str(exc)) from None
    return pre
