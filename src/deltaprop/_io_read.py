"""Reading a model file: every check :func:`deltaprop.io.load` makes before trusting a byte.

The header is JSON; each array is a ``.npy`` whose header (parsed by numpy as a literal) must
give the dtype and shape the model header promises before its data is read. Any other member,
an object array (a pickle payload) included, is refused unread.
"""

from __future__ import annotations

import json
import math
import zipfile
from dataclasses import fields

import numpy as np
import numpy.lib.format as npy

from .activations import get_activation
from .io import (
    FORMAT,
    FORMAT_VERSION,
    HEADER,
    PRE_ARRAYS,
    ModelFileError,
    Preprocessing,
    SavedModel,
    _check_preprocessing,
)
from .network import Dense, Network
from .optimizers import OPTIMIZERS, Optimizer, State, get_optimizer
from .schedules import Schedule, schedule_from_dict
from .training import History

Array = np.ndarray
_MAX_HEADER_BYTES = 64 << 20
_RNGS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


def read(zf: zipfile.ZipFile) -> SavedModel:
    """The model in an open archive, or :class:`ModelFileError` saying what is wrong."""
    names = zf.namelist()
    if len(set(names)) != len(names):
        raise ModelFileError("corrupted: the archive lists a member twice")
    if HEADER not in names:
        shown = ", ".join(names[:5]) + (", …" if len(names) > 5 else "")
        raise ModelFileError(f"not a deltaprop model file (no {HEADER}; it holds: {shown})")
    header = _read_header(zf)
    dtype = np.dtype(_get(header, "dtype", str))
    if dtype.name not in ("float32", "float64"):
        raise ModelFileError(f"dtype must be float32 or float64, got {dtype.name}")
    layers = _layer_specs(_get(header, "layers", list))
    opt_header = _get(header, "optimizer", dict, optional=True)
    pre_header = _get(header, "preprocessing", dict, optional=True)

    expected = {HEADER}
    for i, spec in enumerate(layers, start=1):
        expected.add(f"params/W{i}.npy")
        if spec["bias"]:
            expected.add(f"params/b{i}.npy")
    opt, state_names = None, []
    if opt_header is not None:
        opt, state_names = _optimizer_from_header(opt_header, layers)
        expected.update(state_names)
    if pre_header is not None:
        expected.update(f"preprocessing/{k}.npy" for k in _get(pre_header, "arrays", list))
    extra = sorted(set(names) - expected)
    if extra:
        raise ModelFileError(
            f"unexpected member {extra[0]!r} (a deltaprop model file holds only {HEADER} and "
            f"the .npy arrays its header names); refused unread"
        )
    missing = sorted(expected - set(names))
    if missing:
        raise ModelFileError(f"missing member {missing[0]!r} (truncated or corrupted)")

    dense = []
    for i, spec in enumerate(layers, start=1):
        shape = (spec["units"], spec["inputs"])
        W = _read_array(zf, f"params/W{i}.npy", dtype, shape)
        b = _read_array(zf, f"params/b{i}.npy", dtype, shape[:1]) if spec["bias"] else None
        dense.append(Dense(W, b, spec["activation"]))
    network = Network(dense, dtype=dtype)

    state = None
    if opt is not None and opt_header["step"] is not None:
        params = network.params()
        state = {"step": opt_header["step"]}
        for slot in opt.slots:
            state[slot] = {
                k: _read_array(zf, f"optimizer/{slot}/{k}.npy", dtype, p.shape)
                for k, p in params.items()
            }
    schedule = _schedule_from_header(_get(header, "schedule", dict, optional=True))
    history = _history_from_json(_get(header, "history", dict, optional=True), state, schedule)
    pre = None
    if pre_header is not None:
        pre = _preprocessing_from_header(zf, pre_header, network)
    return SavedModel(
        network=network,
        optimizer=opt,
        optimizer_state=state,
        history=history,
        schedule=schedule,
        rng=_rng_from_json(_get(header, "rng", dict, optional=True)),
        preprocessing=pre,
        metadata=_get(header, "metadata", dict),
        format_version=header["format_version"],
        library_version=_get(header, "library_version", str),
    )


def _read_header(zf: zipfile.ZipFile) -> dict:
    info = zf.getinfo(HEADER)
    if info.file_size > _MAX_HEADER_BYTES:
        raise ModelFileError(f"{HEADER} is implausibly large ({info.file_size} bytes)")
    try:
        header = json.loads(zf.read(info).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelFileError(f"{HEADER} is not valid JSON ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        found = header.get("format") if isinstance(header, dict) else None
        raise ModelFileError(f"not a deltaprop model file (format {found!r}, expected {FORMAT!r})")
    version = header.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        raise ModelFileError(f"invalid format_version {version!r}")
    if version > FORMAT_VERSION:
        raise ModelFileError(
            f"written by a newer deltaprop (format version {version}, library "
            f"{header.get('library_version')}); this deltaprop reads format version "
            f"{FORMAT_VERSION}: upgrade deltaprop to load it"
        )
    return header


def _get(obj: dict, key: str, kind: type, optional: bool = False):
    value = obj.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ModelFileError(f"header entry {key!r} must be a {kind.__name__}, got {value!r:.80}")
    return value


def _whole(value, what: str, low: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < low:
        raise ModelFileError(f"{what} must be a whole number >= {low}, got {value!r:.80}")
    return value


def _layer_specs(layers: list) -> list[dict]:
    if not layers:
        raise ModelFileError("the header lists no layers")
    specs = []
    for i, spec in enumerate(layers, start=1):
        if not isinstance(spec, dict):
            raise ModelFileError(f"layer {i} must be an object, got {spec!r:.80}")
        units = _whole(spec.get("units"), f"layer {i} units", 1)
        inputs = _whole(spec.get("inputs"), f"layer {i} inputs", 1)
        if specs and inputs != specs[-1]["units"]:
            raise ModelFileError(
                f"layer {i} has {inputs} inputs but layer {i - 1} has {specs[-1]['units']} units"
            )
        name = _get(spec, "activation", str)
        try:
            activation = get_activation(name)
        except ValueError:
            raise ModelFileError(
                f"layer {i} uses the activation {name!r}, which is not built in and not "
                f"registered in this session; register it (deltaprop.register_activation"
                f"({name!r}, f, df)) before loading"
            ) from None
        specs.append(
            {
                "units": units,
                "inputs": inputs,
                "activation": activation,
                "bias": _get(spec, "bias", bool),
            }
        )
    return specs


def _optimizer_from_header(h: dict, layers: list[dict]) -> tuple[Optimizer, list[str]]:
    name = _get(h, "name", str)
    if name not in OPTIMIZERS:
        raise ModelFileError(f"unknown optimizer {name!r}")
    settings = _get(h, "hyperparameters", dict)
    for k, v in settings.items():
        if not isinstance(v, int | float) or not math.isfinite(v):
            raise ModelFileError(f"optimizer setting {k!r} must be a number, got {v!r:.80}")
    try:
        opt = get_optimizer({"name": name, **settings})
    except ValueError as exc:
        raise ModelFileError(f"bad optimizer settings: {exc}") from None
    if _get(h, "slots", list) != list(opt.slots):
        raise ModelFileError(f"optimizer slots {h['slots']!r} do not match {name}'s {opt.slots}")
    if h.get("step") is None:
        return opt, []
    _whole(h["step"], "optimizer step", 0)
    pnames = [f"W{i}" for i in range(1, len(layers) + 1)]
    pnames += [f"b{i}" for i, spec in enumerate(layers, start=1) if spec["bias"]]
    return opt, [f"optimizer/{s}/{k}.npy" for s in opt.slots for k in pnames]


def _read_array(zf: zipfile.ZipFile, name: str, dtype: np.dtype, shape: tuple) -> Array:
    """One ``.npy`` member: header checked first (dtype, shape); object arrays never read."""
    info = zf.getinfo(name)
    count = math.prod(shape)
    nbytes = count * dtype.itemsize
    with zf.open(info) as fh:
        version = npy.read_magic(fh)
        if version == (1, 0):
            file_shape, fortran, file_dtype = npy.read_array_header_1_0(fh)
        elif version == (2, 0):
            file_shape, fortran, file_dtype = npy.read_array_header_2_0(fh)
        else:
            raise ModelFileError(f"{name} has an unsupported .npy version {version}")
        if file_dtype.hasobject:
            raise ModelFileError(f"{name} holds Python objects (a pickle payload); refused unread")
        if file_dtype.kind != "f" or file_dtype.itemsize != dtype.itemsize:
            raise ModelFileError(f"{name} has dtype {file_dtype}, expected {dtype}")
        if tuple(file_shape) != tuple(shape):
            raise ModelFileError(f"{name} has shape {file_shape}, expected {shape}")
        if info.file_size != fh.tell() + nbytes:
            expected = fh.tell() + nbytes
            raise ModelFileError(f"{name} has {info.file_size} bytes; expected {expected}")
        data = fh.read(nbytes + 1)  # reading to the end also checks the member's CRC
    if len(data) != nbytes:
        raise ModelFileError(f"{name} holds {len(data)} data bytes, expected {nbytes}")
    arr = np.frombuffer(data, dtype=file_dtype, count=count).reshape(
        shape, order="F" if fortran else "C"
    )
    arr = np.array(arr, dtype=dtype, order="C")
    if not np.isfinite(arr).all():
        raise ModelFileError(f"{name} holds NaN or infinite values")
    return arr


def _schedule_from_header(h: dict | None) -> Schedule | None:
    if h is None:
        return None
    try:
        return schedule_from_dict(h)
    except (ValueError, TypeError) as exc:
        raise ModelFileError(f"invalid learning-rate schedule: {exc}") from None


def _history_from_json(
    h: dict | None, state: State | None, schedule: Schedule | None
) -> History | None:
    if h is None:
        return None
    known = {f.name for f in fields(History)} - {"optimizer_state", "schedule"}
    for k, v in h.items():
        if k not in known:
            raise ModelFileError(f"unknown history entry {k!r}")
        if k in ("best_epoch", "updates", "initial_epoch"):
            if v is not None or k != "best_epoch":
                _whole(v, f"history {k}", 0)
        elif not isinstance(v, list) or not all(_numbers(e) for e in v):
            raise ModelFileError(f"history {k!r} must be a list of numbers")
    return History(**h, optimizer_state=state, schedule=schedule)


def _numbers(e) -> bool:
    if isinstance(e, list):
        return all(_numbers(x) for x in e)
    return isinstance(e, int | float) and not isinstance(e, bool)


def _rng_from_json(state: dict | None) -> np.random.Generator | None:
    if state is None:
        return None
    name = state.get("bit_generator")
    if name not in _RNGS:
        raise ModelFileError(f"unknown bit generator {name!r}; expected one of {_RNGS}")
    bit_generator = getattr(np.random, name)()
    if name == "MT19937":
        inner = _get(state, "state", dict)
        state = {**state, "state": {**inner, "key": np.asarray(inner.get("key"), np.uint32)}}
    bit_generator.state = state
    return np.random.Generator(bit_generator)


def _preprocessing_from_header(zf, h: dict, network: Network) -> Preprocessing:
    arrays = {}
    sizes = {"x": network.sizes[0], "y": network.sizes[-1]}
    for k in _get(h, "arrays", list):
        if k not in PRE_ARRAYS:
            raise ModelFileError(f"unknown preprocessing array {k!r}")
        arrays[k] = _read_array(zf, f"preprocessing/{k}.npy", np.dtype(np.float64), (sizes[k[0]],))
    pre = Preprocessing(
        task=_get(h, "task", str),
        classes=_get(h, "classes", list, optional=True),
        feature_names=_get(h, "feature_names", list, optional=True),
        target_name=_get(h, "target_name", str, optional=True),
        **arrays,
    )
    _check_preprocessing(pre, h, network)
    return pre
