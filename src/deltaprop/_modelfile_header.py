"""Type and range checks of a model file's JSON header, value by value.

JSON gives Python ints of any size, floats including ±inf and NaN, and nesting of any depth; each
check here says what it expects, so that nothing from a file reaches numpy, an optimizer or a bit
generator unchecked (where an int too large for C would raise ``OverflowError``, a short key
``IndexError``). Every failure is a :class:`ModelFileError` naming the entry.
"""

from __future__ import annotations

import math

import numpy as np

from ._modelfile import PRE_ARRAYS, TASKS, ModelFileError

MAX_WHOLE = 2**53  # counts (steps, epochs, updates): exact in float64, far beyond any run
MAX_UNITS = 2**40  # a layer's size; the bytes it implies are checked against the file too


def show(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def get(obj: dict, key: str, kind: type, optional: bool = False, where: str = "header entry"):
    """``obj[key]`` if it is a ``kind`` (None too when ``optional``)."""
    value = obj.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ModelFileError(f"{where} {key!r} must be a {kind.__name__}, got {show(value)}")
    return value


def whole(value, what: str, low: int = 0, high: int = MAX_WHOLE) -> int:
    """A whole number in ``[low, high]`` (booleans are not numbers here)."""
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ModelFileError(
            f"{what} must be a whole number from {low} to {high}, got {show(value)}"
        )
    return value


def number(value, what: str, finite: bool = True) -> int | float:
    """A real number: a float (finite unless ``finite`` is False) or an int float64 can hold."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if ok and isinstance(value, int):
        ok = abs(value) <= MAX_WHOLE
    elif ok and finite:
        ok = math.isfinite(value)
    if not ok:
        kind = "a finite number" if finite else "a number"
        raise ModelFileError(f"{what} must be {kind} (ints up to 2**53), got {show(value)}")
    return value


def exact_keys(obj: dict, keys: set[str], where: str) -> None:
    if set(obj) != keys:
        raise ModelFileError(f"{where} must have the entries {sorted(keys)}, got {sorted(obj)}")


def settings(values: dict, where: str) -> dict:
    """Constructor settings (an optimizer's, a schedule's): numbers, booleans, None, or short
    strings (a mode's name); the constructor then checks their ranges."""
    for k, v in values.items():
        if isinstance(v, str):
            if len(v) > 100:
                raise ModelFileError(f"{where} {k!r} is a string of {len(v)} characters")
        elif v is not None and not isinstance(v, bool):
            number(v, f"{where} {k!r}", finite=False)
    return values


def history(h: dict, fields: set[str]) -> dict:
    """The history's records: flat lists of numbers, per-layer lists of lists, and counts."""
    for k, v in h.items():
        what = f"history {k!r}"
        if k not in fields:
            raise ModelFileError(f"unknown history entry {k!r}")
        if k == "best_epoch":
            if v is not None:
                whole(v, what)
        elif k in ("updates", "initial_epoch"):
            whole(v, what)
        elif not isinstance(v, list):
            raise ModelFileError(f"{what} must be a list of numbers, got {show(v)}")
        elif k.startswith("layer_"):
            for row in v:
                if not isinstance(row, list):
                    raise ModelFileError(f"{what} must hold one list of numbers per epoch")
                for e in row:
                    number(e, f"{what} entries", finite=False)
        else:
            for e in v:
                number(e, f"{what} entries", finite=False)
    return h


# Bit-generator states as numpy writes them: which entries, of how many bits, how many of them.
_PCG = {"state": {"state": 128, "inc": 128}, "has_uint32": 1, "uinteger": 32}
_RNG_LAYOUT = {
    "PCG64": _PCG,
    "PCG64DXSM": _PCG,
    "MT19937": {"state": {"key": (32, 624), "pos": (624,)}},
    "Philox": {
        "state": {"counter": (64, 4), "key": (64, 2)},
        "buffer": (64, 4),
        "buffer_pos": (4,),
        "has_uint32": 1,
        "uinteger": 32,
    },
    "SFC64": {"state": {"state": (64, 4)}, "has_uint32": 1, "uinteger": 32},
}
RNGS = tuple(_RNG_LAYOUT)


def rng(state: dict) -> np.random.Generator:
    """A generator with the bit-generator ``state`` numpy's ``.state`` gives, checked entry by
    entry: every word in range, every key of its exact length."""
    name = state.get("bit_generator")
    if not isinstance(name, str) or name not in _RNG_LAYOUT:
        raise ModelFileError(f"unknown bit generator {show(name)}; expected one of {RNGS}")
    layout = _RNG_LAYOUT[name]
    _rng_entries(state, {"bit_generator": None, **layout}, "rng")
    state = _rng_arrays(state, layout)
    bit_generator = getattr(np.random, name)()
    try:  # every entry is checked above; numpy's setter checks them again
        bit_generator.state = state
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise ModelFileError(f"invalid {name} state: {exc}") from None
    return np.random.Generator(bit_generator)


def _rng_entries(obj, layout: dict, where: str) -> None:
    if not isinstance(obj, dict):
        raise ModelFileError(f"{where} must be an object, got {show(obj)}")
    exact_keys(obj, set(layout), where)
    for k, spec in layout.items():
        v, what = obj[k], f"{where}.{k}"
        if spec is None:
            continue
        if isinstance(spec, dict):
            _rng_entries(v, spec, what)
        elif isinstance(spec, int):  # one word of `spec` bits
            whole(v, what, 0, 2**spec - 1)
        elif len(spec) == 1:  # a position: 0 … spec[0]
            whole(v, what, 0, spec[0])
        else:  # a list of `count` words of `bits` bits
            bits, count = spec
            if not isinstance(v, list) or len(v) != count:
                raise ModelFileError(f"{what} must be a list of {count} words, got {show(v)}")
            for e in v:
                whole(e, f"{what} entries", 0, 2**bits - 1)


def _rng_arrays(state: dict, layout: dict) -> dict:
    out = {}
    for k, v in state.items():
        spec = layout.get(k)
        if isinstance(spec, dict):
            out[k] = _rng_arrays(v, spec)
        elif isinstance(spec, tuple) and len(spec) == 2:
            out[k] = np.array(v, dtype=np.uint32 if spec[0] == 32 else np.uint64)
        else:
            out[k] = v
    return out


def preprocessing(h: dict, inputs: int, outputs: int) -> list[str]:
    """The preprocessing entry's types; returns the names of the arrays it stores."""
    exact = {"task", "classes", "feature_names", "target_name", "arrays"}
    unknown = sorted(set(h) - exact)
    if unknown:
        raise ModelFileError(f"unknown preprocessing entry {unknown[0]!r}")
    task = get(h, "task", str, where="preprocessing")
    if task not in TASKS:
        raise ModelFileError(f"preprocessing task must be one of {TASKS}, got {show(task)}")
    classes = get(h, "classes", list, optional=True, where="preprocessing")
    if classes is not None and len(classes) != outputs:
        raise ModelFileError(f"preprocessing has {len(classes)} classes for {outputs} outputs")
    names = get(h, "feature_names", list, optional=True, where="preprocessing")
    if names is not None and len(names) != inputs:
        raise ModelFileError(f"preprocessing has {len(names)} feature names for {inputs} inputs")
    get(h, "target_name", str, optional=True, where="preprocessing")
    arrays = get(h, "arrays", list, where="preprocessing")
    if not all(isinstance(k, str) and k in PRE_ARRAYS for k in arrays) or len(set(arrays)) != len(
        arrays
    ):
        raise ModelFileError(
            f"preprocessing arrays must be distinct names from {PRE_ARRAYS}, got {show(arrays)}"
        )
    return arrays
