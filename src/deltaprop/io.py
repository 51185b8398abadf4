"""Model files: one ZIP per model — versioned, written atomically, read without unpickling.

Format ``deltaprop-model``, version 1 (a ZIP archive, members stored uncompressed)::

    deltaprop.json                  the header (JSON): format, format_version, library_version,
                                    dtype, layers [{inputs, units, activation, bias}], optimizer
                                    {name, hyperparameters, step, slots} or null, history,
                                    schedule {name, settings, state} or null (absent from files
                                    written before schedules were saved), rng (bit-generator
                                    state) or null,
                                    preprocessing or null, metadata
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
import inspect
import json
import math
import os
import secrets
import warnings
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.lib.format as npy

from .network import Network
from .optimizers import OPTIMIZERS, Optimizer, State, get_optimizer
from .schedules import SCHEDULES, Schedule
from .training import History

Array = np.ndarray

FORMAT = "deltaprop-model"
FORMAT_VERSION = 1
HEADER = "deltaprop.json"
TASKS = ("classification", "regression")
PRE_ARRAYS = ("x_mean", "x_scale", "y_mean", "y_scale")
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
        x = x if isinstance(x, np.ndarray) else np.asarray(x)
        x = x.reshape(1, -1) if x.ndim == 1 else x
        d = x.shape[1] if x.ndim == 2 else None
        if d is None or (self.x_mean is not None and d != self.x_mean.size):
            size = "d" if self.x_mean is None else self.x_mean.size
            raise ValueError(f"x must have shape (n, {size}), got {x.shape}")
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
    """Everything a model file holds. ``history.optimizer_state`` is ``optimizer_state`` and
    ``history.schedule`` is ``schedule``."""

    network: Network
    optimizer: Optimizer | None = None
    optimizer_state: State | None = None
    history: History | None = None
    rng: np.random.Generator | None = None
    preprocessing: Preprocessing | None = None
    metadata: dict = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    library_version: str | None = None
    schedule: Schedule | None = None

    def save(self, path: str | os.PathLike) -> Path:
        """Write this model to ``path`` (see :func:`save`)."""
        return save(
            path,
            self.network,
            optimizer=self.optimizer,
            optimizer_state=self.optimizer_state,
            history=self.history,
            schedule=self.schedule,
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
    schedule: Schedule | None = None,
    rng: np.random.Generator | None = None,
    preprocessing: Preprocessing | None = None,
    metadata: dict | None = None,
) -> Path:
    """Write a model file atomically: the old file stays intact until the new one is complete.

    ``optimizer_state`` defaults to ``history.optimizer_state``; it needs its ``optimizer``.
    ``schedule`` (a built-in learning-rate schedule, with its state) defaults to
    ``history.schedule``. Save ``rng`` (the generator given to ``fit`` as ``seed``) to resume
    shuffling exactly.
    """
    if not isinstance(network, Network):
        raise TypeError(f"network must be a deltaprop Network, got {type(network).__name__}")
    from . import __version__

    params = network.params()
    arrays = {f"params/{k}.npy": v for k, v in params.items()}
    if optimizer_state is None and history is not None:
        optimizer_state = history.optimizer_state
    if schedule is None and history is not None and history.schedule is not None:
        schedule = history.schedule
        if not _is_builtin(schedule):
            warnings.warn(
                f"history.schedule is a {type(schedule).__name__}, not a built-in schedule: "
                "the file keeps the history without it (resuming needs the schedule passed again)",
                stacklevel=2,
            )
            schedule = None
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
        for name in PRE_ARRAYS:
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
        "schedule": None if schedule is None else _schedule_header(schedule),
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


def _is_builtin(schedule) -> bool:
    return isinstance(schedule, Schedule) and SCHEDULES.get(schedule.name) is type(schedule)


def _schedule_header(schedule: Schedule) -> dict:
    if not _is_builtin(schedule):
        raise ValueError(
            f"only built-in learning-rate schedules can be saved, got {type(schedule).__name__}"
        )
    return schedule.as_dict()


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
        "arrays": [k for k in PRE_ARRAYS if getattr(p, k) is not None],
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
    from ._io_read import read

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
            return read(zf)
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
    for k in PRE_ARRAYS:
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
