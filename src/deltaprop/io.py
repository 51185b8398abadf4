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

Saving writes a temporary file beside the target (``.NAME.saving-HOST-PID-RANDOM.tmp``), fsyncs it
and renames it over the target (``os.replace``): a crash leaves the old file or the new one, never a
mix, and the next save removes a killed save's leftover (:mod:`deltaprop._atomic_file`). Loading
checks the ZIP directory against the file's real size (:mod:`deltaprop._modelfile_zip`), then every
header value (:mod:`deltaprop._modelfile_header`), then parses ``.npy`` headers only (numpy reads
those as literals); every member, size, dtype, shape and value must be the one the header
describes, so a pickle payload (an object array, a ``.pkl`` member) is refused before a byte of it
is read. Nothing in a file is ever unpickled or executed; no file makes :func:`load` raise anything
but :class:`ModelFileError` (or ``OSError`` when it cannot be opened).
"""

from __future__ import annotations

import inspect
import json
import os
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.lib.format as npy

from . import _modelfile_zip
from ._atomic_file import write_atomic
from ._io_read import read
from ._modelfile import (
    FORMAT,
    FORMAT_VERSION,
    HEADER,
    PRE_ARRAYS,
    TASKS,
    ModelFileError,
    Preprocessing,
    check_preprocessing,
)
from .network import Network
from .optimizers import OPTIMIZERS, Optimizer, State, get_optimizer
from .schedules import SCHEDULES, Schedule
from .training import History

__all__ = [
    "FORMAT",
    "FORMAT_VERSION",
    "HEADER",
    "PRE_ARRAYS",
    "TASKS",
    "ModelFileError",
    "Preprocessing",
    "SavedModel",
    "load",
    "save",
]

# Defined in _modelfile (which the reader imports too); public here, so named here in reprs,
# tracebacks and pickles (which find them here, as they always did).
ModelFileError.__module__ = Preprocessing.__module__ = __name__

Array = np.ndarray
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # same model, same bytes


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

    def __repr__(self) -> str:
        """A short summary: the network, the optimizer and its step count, the history's length
        and final loss, the task — never the arrays (``deltaprop info FILE`` says more)."""
        parts = [repr(self.network)]
        if self.optimizer is not None:
            step = (self.optimizer_state or {}).get("step")
            parts.append(f"optimizer={self.optimizer!r}" + ("" if step is None else
                                                             f" at step {step}"))  # fmt: skip
        h = self.history
        if h is not None and h.loss:
            parts.append(f"history: {h.end_epoch} epochs, final loss {h.loss[-1]:.4g}")
        if self.schedule is not None:
            parts.append(f"schedule={type(self.schedule).__name__}")
        pre = self.preprocessing
        if pre is not None:
            classes = f", {len(pre.classes)} classes" if pre.classes else ""
            parts.append(f"{pre.task}{classes}")
        return f"SavedModel({'; '.join(parts)})"

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
    overwrite: bool = True,
) -> Path:
    """Write a model file atomically: the old file stays intact until the new one is complete.

    ``optimizer_state`` defaults to ``history.optimizer_state``; it needs its ``optimizer``.
    ``schedule`` (a built-in learning-rate schedule, with its state) defaults to
    ``history.schedule``. Save ``rng`` (the generator given to ``fit`` as ``seed``) to resume
    shuffling exactly. With ``overwrite=False`` an existing file is left alone and
    ``FileExistsError`` raised. Stale temporary files of killed saves of ``path`` are removed
    (see :mod:`deltaprop._atomic_file` for the rule).
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
        check_preprocessing(
            preprocessing, pre_header["classes"], network.sizes[0], network.sizes[-1]
        )
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
    write_atomic(path, lambda fh: _write_zip(fh, text.encode(), arrays), overwrite=overwrite)
    return path


def _write_zip(fh, header: bytes, arrays: dict[str, Array]) -> None:
    with zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr(zipfile.ZipInfo(HEADER, _FIXED_TIME), header)
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(name, _FIXED_TIME)
            with zf.open(info, "w", force_zip64=arr.nbytes > (1 << 31)) as member:
                npy.write_array(member, np.ascontiguousarray(arr), allow_pickle=False)


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

    Raises :class:`ModelFileError` for a file that is not a valid deltaprop model file, whatever
    its bytes (and ``FileNotFoundError`` for a missing one, other ``OSError`` for one that cannot
    be opened). Sizes the file claims are checked against its real size before anything is read
    or allocated. A network with a custom activation loads only once that activation is
    registered again (:func:`deltaprop.register_activation`).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"model file not found: {path}")
    with open(path, "rb") as fh:
        try:
            archive = _modelfile_zip.open_archive(fh, os.fstat(fh.fileno()).st_size)
            with archive.zf:
                return SavedModel(**read(archive))
        except ModelFileError as exc:
            raise ModelFileError(f"{path}: {exc}") from None
        except MemoryError:
            raise  # a valid model larger than this machine's memory: not the file's fault
        except Exception as exc:
            # A safety net, not the checks: every failure known is caught above by name. Should a
            # damaged file find a way past them, it is still a ModelFileError, with its cause.
            raise ModelFileError(
                f"{path} is damaged or invalid ({type(exc).__name__}: {exc})"
            ) from exc
