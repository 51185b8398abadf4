"""Model files: one ZIP per model — versioned, written atomically, read without unpickling.

Format ``deltaprop-model``, version 1 (a ZIP archive, members stored uncompressed)::

    deltaprop.json                  the header (JSON): format, format_version, library_version,
                                    dtype, layers [{inputs, units, activation, bias}], optimizer
                                    {name, hyperparameters, step, slots} or null, history, rng
                                    (bit-generator state) or null, preprocessing or null, metadata
    params/W1.npy, params/b1.npy …  weights (units, inputs) and biases (units,), the model's dtype
    optimizer/<slot>/<param>.npy    optimizer state, shaped like its parameter
    preprocessing/<name>.npy        x_mean, x_scale (inputs,); y_mean, y_scale (outputs,); float64

Saving writes a temporary file beside the target, fsyncs it and renames it over the target
(``os.replace``): a crash leaves the old file or the new one, never a mix. Loading parses JSON and
``.npy`` headers only (numpy reads those as literals); every member, dtype, shape and value must be
the one the header describes, so a pickle payload (an object array, a ``.pkl`` member) is refused
before a byte of it is read. Nothing in a file is ever unpickled or executed.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
import zipfile
import zlib
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
import numpy.lib.format as npy

from .activations import get_activation
from .network import Dense, Network
from .optimizers import OPTIMIZERS, Optimizer, State, get_optimizer
from .training import History

Array = np.ndarray

FORMAT = "deltaprop-model"
FORMAT_VERSION = 1
HEADER = "deltaprop.json"
BUILTIN_ACTIVATIONS = frozenset(
    ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "softmax"]
)
TASKS = ("classification", "regression")
_MAX_HEADER_BYTES = 64 << 20
_RNGS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")
_PRE_ARRAYS = ("x_mean", "x_scale", "y_mean", "y_scale")
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # same model, same bytes
_BLOCK = 8192


class ModelFileError(ValueError):
    """A model file that cannot be loaded: corrupted, truncated, foreign, newer, or unsafe."""


@dataclass
class Preprocessing:
    """Raw data to network and back: ``x' = (x − x_mean) / x_scale``; ``y = o·y_scale + y_mean``.

    ``task`` is ``"classification"`` (outputs are probabilities over ``classes``, the original
    labels, in output order) or ``"regression"``. Scaling arrays are float64, or None for none.
    """

    task: str
    classes: list | None = None
    feature_names: list[str] | None = None
    target_name: str | None = None
    x_mean: Array | None = None
    x_scale: Array | None = None
    y_mean: Array | None = None
    y_scale: Array | None = None

    def transform(self, x, dtype=np.float64) -> Array:
        """Standardised features as ``dtype``, computed in float64 block by block (memmap-safe)."""
        x = np.asarray(x) if not isinstance(x, np.ndarray) else x
        out = np.empty(x.shape, dtype=dtype)
        for i in range(0, x.shape[0], _BLOCK):
            block = np.asarray(x[i : i + _BLOCK], dtype=np.float64)
            if self.x_mean is not None:
                block = (block - self.x_mean) / self.x_scale
            out[i : i + _BLOCK] = block
        return out

    def decode(self, o: Array) -> Array:
        """Regression outputs on the targets' scale, ``o·y_scale + y_mean`` (float64)."""
        o = np.asarray(o, dtype=np.float64)
        return o if self.y_mean is None else o * self.y_scale + self.y_mean


@dataclass
class SavedModel:
    """Everything a model file holds. ``history.optimizer_state`` is ``optimizer_state``."""

    network: Network
    optimizer: Optimizer | None = None
    optimizer_state: State | None = None
    history: History | None = None
    rng: np.random.Generator | None = None
    preprocessing: Preprocessing | None = None
    metadata: dict = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    library_version: str | None = None

    def save(self, path: str | os.PathLike) -> Path:
        """Write this model to ``path`` (see :func:`save`)."""
        return save(
            path,
            self.network,
            optimizer=self.optimizer,
            optimizer_state=self.optimizer_state,
            history=self.history,
            rng=self.rng,
            preprocessing=self.preprocessing,
            metadata=self.metadata,
        )

    def predict_proba(self, x) -> Array:
        """Network outputs for raw ``x`` (n, inputs): class probabilities for a classifier."""
        pre = self.preprocessing
        x = x if pre is None else pre.transform(x, self.network.dtype)
        return self.network.predict(x)

    def predict(self, x) -> Array:
        """Predictions for raw ``x``: original class labels (n,) or values on the targets' scale."""
        o = self.predict_proba(x)
        pre = self.preprocessing
        if pre is None:
            return o
        if pre.task == "classification":
            return np.asarray(pre.classes)[o.argmax(axis=1)]
        y = pre.decode(o)
        return y[:, 0] if y.shape[1] == 1 else y


# --- saving -------------------------------------------------------------------------------------


def save(
    path: str | os.PathLike,
    network: Network,
    *,
    optimizer: str | dict | Optimizer | None = None,
    optimizer_state: State | None = None,
    history: History | None = None,
    rng: np.random.Generator | None = None,
    preprocessing: Preprocessing | None = None,
    metadata: dict | None = None,
) -> Path:
    """Write a model file atomically: the old file stays intact until the new one is complete.

    ``optimizer_state`` defaults to ``history.optimizer_state``; it needs its ``optimizer``.
    Save ``rng`` (the generator given to ``fit`` as ``seed``) to resume shuffling exactly.
    """
    if not isinstance(network, Network):
        raise TypeError(f"network must be a deltaprop Network, got {type(network).__name__}")
    from . import __version__

    params = network.params()
    arrays = {f"params/{k}.npy": v for k, v in params.items()}
    if optimizer_state is None and history is not None:
        optimizer_state = history.optimizer_state
    if optimizer_state is not None and optimizer is None:
        raise ValueError("optimizer_state needs the optimizer it belongs to: pass optimizer=")
    opt_header = None
    if optimizer is not None:
        opt_header, state_arrays = _optimizer_to_file(get_optimizer(optimizer), optimizer_state)
        _check_state_arrays(state_arrays, params)
        arrays.update(state_arrays)
    pre_header = None
    if preprocessing is not None:
        pre_header = _preprocessing_header(preprocessing)
        for name in _PRE_ARRAYS:
            value = getattr(preprocessing, name)
            if value is not None:
                arrays[f"preprocessing/{name}.npy"] = np.asarray(value, dtype=np.float64)
        _check_preprocessing(preprocessing, pre_header, network)
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "library_version": __version__,
        "dtype": network.dtype.name,
        "layers": [
            {
                "inputs": layer.inputs,
                "units": layer.units,
                "activation": layer.activation.name,
                "bias": layer.b is not None,
            }
            for layer in network.layers
        ],
        "optimizer": opt_header,
        "history": None if history is None else history.as_dict(),
        "rng": None if rng is None else _rng_to_json(rng),
        "preprocessing": pre_header,
        "metadata": {} if metadata is None else metadata,
    }
    try:
        text = json.dumps(header, indent=1, default=_json_default)
    except TypeError as exc:
        raise ValueError(f"metadata must be JSON-serialisable: {exc}") from None
    path = Path(os.path.realpath(path))
    _write_atomic(path, lambda fh: _write_zip(fh, text.encode(), arrays))
    return path


def _write_zip(fh, header: bytes, arrays: dict[str, Array]) -> None:
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(zipfile.ZipInfo(HEADER, _FIXED_TIME), header)
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(name, _FIXED_TIME)
            with zf.open(info, "w", force_zip64=arr.nbytes > (1 << 31)) as member:
                npy.write_array(member, np.ascontiguousarray(arr), allow_pickle=False)


def _write_atomic(path: Path, write) -> None:
    """``write(fh)`` into a temporary file beside ``path``, fsync, then rename it over ``path``."""
    fd, tmp = _create_temporary(path)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        with contextlib.suppress(FileNotFoundError):  # replacing a file: keep its permissions
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    if hasattr(os, "O_DIRECTORY"):  # make the rename itself durable (POSIX)
        dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _create_temporary(path: Path) -> tuple[int, Path]:
    # os.open with mode 0o666 lets the umask decide the permissions, as open() would
    # (mkstemp's 0o600 would make every saved model private to its owner).
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        with contextlib.suppress(FileExistsError):
            return os.open(tmp, flags, 0o666), tmp


def _json_default(value):
    if isinstance(value, np.integer | np.floating | np.bool_):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def _optimizer_to_file(opt: Optimizer, state: State | None) -> tuple[dict, dict[str, Array]]:
    import inspect

    if OPTIMIZERS.get(opt.name) is not type(opt):
        raise ValueError(f"only built-in optimizers can be saved, got {type(opt).__name__}")
    settings = inspect.signature(type(opt)).parameters
    header = {
        "name": opt.name,
        "hyperparameters": {k: v for k, v in vars(opt).items() if k in settings},
        "step": None,
        "slots": list(opt.slots),
    }
    arrays: dict[str, Array] = {}
    if state is not None:
        if set(state) != {"step", *opt.slots}:
            raise ValueError(
                f"optimizer_state has entries {sorted(state)}, but {opt.name} keeps "
                f"{sorted({'step', *opt.slots})}"
            )
        header["step"] = int(state["step"])
        for slot in opt.slots:
            for k, a in state[slot].items():
                arrays[f"optimizer/{slot}/{k}.npy"] = a
    return header, arrays


def _check_state_arrays(arrays: dict[str, Array], params: dict[str, Array]) -> None:
    for name, a in arrays.items():
        k = name.rsplit("/", 1)[1].removesuffix(".npy")
        if k not in params or a.shape != params[k].shape or a.dtype != params[k].dtype:
            raise ValueError(f"optimizer state {name} does not match the network's parameters")


def _rng_to_json(rng: np.random.Generator) -> dict:
    if not isinstance(rng, np.random.Generator):
        raise TypeError(f"rng must be a numpy Generator, got {type(rng).__name__}")
    return json.loads(json.dumps(rng.bit_generator.state, default=_json_default))


def _preprocessing_header(p: Preprocessing) -> dict:
    return {
        "task": p.task,
        "classes": None if p.classes is None else [_json_default_label(c) for c in p.classes],
        "feature_names": None if p.feature_names is None else list(p.feature_names),
        "target_name": p.target_name,
        "arrays": [k for k in _PRE_ARRAYS if getattr(p, k) is not None],
    }


def _json_default_label(c):
    return c.item() if isinstance(c, np.generic) else c


# --- loading ------------------------------------------------------------------------------------


def load(path: str | os.PathLike) -> SavedModel:
    """Read a model file, checking everything in it; never unpickles, never executes.

    Raises :class:`ModelFileError` for a file that is not a valid deltaprop model file (and
    ``FileNotFoundError`` for a missing one). A network with a custom activation loads only once
    that activation is registered again (:func:`deltaprop.register_activation`).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"model file not found: {path}")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, ValueError) as exc:
        raise ModelFileError(
            f"{path} is not a deltaprop model file (not a ZIP archive, or truncated: {exc})"
        ) from None
    with zf:
        try:
            return _read(zf)
        except ModelFileError as exc:
            raise ModelFileError(f"{path}: {exc}") from None
        except (
            zipfile.BadZipFile,
            EOFError,
            ValueError,
            TypeError,
            KeyError,
            RuntimeError,
            NotImplementedError,
            RecursionError,
            zlib.error,
        ) as exc:
            raise ModelFileError(f"{path} is corrupted or invalid: {exc}") from None


def _read(zf: zipfile.ZipFile) -> SavedModel:
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
    history = _history_from_json(_get(header, "history", dict, optional=True), state)
    pre = None
    if pre_header is not None:
        pre = _preprocessing_from_header(zf, pre_header, network)
    return SavedModel(
        network=network,
        optimizer=opt,
        optimizer_state=state,
        history=history,
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


def _history_from_json(h: dict | None, state: State | None) -> History | None:
    if h is None:
        return None
    known = {f.name for f in fields(History)} - {"optimizer_state"}
    for k, v in h.items():
        if k not in known:
            raise ModelFileError(f"unknown history entry {k!r}")
        if k in ("best_epoch", "updates"):
            if v is not None or k == "updates":
                _whole(v, f"history {k}", 0)
        elif not isinstance(v, list) or not all(_numbers(e) for e in v):
            raise ModelFileError(f"history {k!r} must be a list of numbers")
    return History(**h, optimizer_state=state)


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
        if k not in _PRE_ARRAYS:
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


def _check_preprocessing(p: Preprocessing, h: dict, network: Network) -> None:
    """Raises ValueError unless ``p`` fits ``network`` (used on save and on load)."""
    inputs, outputs = network.sizes[0], network.sizes[-1]
    if p.task not in TASKS:
        raise ValueError(f"preprocessing task must be one of {TASKS}, got {p.task!r}")
    if p.classes is not None:
        kinds = {type(c) for c in h["classes"]}
        if not (kinds <= {str} or kinds <= {int, float}) or any(
            isinstance(c, float) and not math.isfinite(c) for c in h["classes"]
        ):
            raise ValueError("class labels must be all strings or all finite numbers")
        if len(set(h["classes"])) != len(h["classes"]):
            raise ValueError("class labels must be distinct")
    if p.task == "classification" and (p.classes is None or len(p.classes) != outputs):
        raise ValueError(f"a classifier needs one class label per output ({outputs})")
    if p.feature_names is not None and (
        len(p.feature_names) != inputs or not all(isinstance(f, str) for f in p.feature_names)
    ):
        raise ValueError(f"feature_names must be {inputs} strings, one per input")
    for k in _PRE_ARRAYS:
        a = getattr(p, k)
        size = inputs if k[0] == "x" else outputs
        if a is not None:
            a = np.asarray(a)
            if a.shape != (size,) or not np.isfinite(a).all():
                raise ValueError(f"preprocessing {k} must be {size} finite numbers")
            if k.endswith("scale") and not (a > 0).all():
                raise ValueError(f"preprocessing {k} must be positive")
    if (p.x_mean is None) != (p.x_scale is None) or (p.y_mean is None) != (p.y_scale is None):
        raise ValueError("preprocessing means and scales come in pairs")
