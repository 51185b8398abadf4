"""Damaged copies of a model file, as an attacker or a failing disk would make them.

Used by ``tests/test_io_properties.py`` (hypothesis draws the choices) and by
``benchmarks/fuzz_model_files.py`` (a seeded random generator draws them). Every function takes the
file's bytes and returns new bytes; none of them needs the file to load afterwards.
"""

from __future__ import annotations

import io
import json
import struct
import tempfile
import zipfile
from pathlib import Path

import numpy as np

import deltaprop as dp
from deltaprop.io import HEADER, Preprocessing

# Field offsets (from the record's signature) and struct formats, per APPNOTE 4.3.7, 4.3.12, 4.3.16
LOCAL = {
    "version_needed": (4, "<H"),
    "flags": (6, "<H"),
    "method": (8, "<H"),
    "crc": (14, "<I"),
    "compressed_size": (18, "<I"),
    "size": (22, "<I"),
    "name_length": (26, "<H"),
    "extra_length": (28, "<H"),
}
CENTRAL = {
    "version_made": (4, "<H"),
    "version_needed": (6, "<H"),
    "flags": (8, "<H"),
    "method": (10, "<H"),
    "crc": (16, "<I"),
    "compressed_size": (20, "<I"),
    "size": (24, "<I"),
    "name_length": (28, "<H"),
    "extra_length": (30, "<H"),
    "comment_length": (32, "<H"),
    "disk": (34, "<H"),
    "offset": (42, "<I"),
}
EOCD = {
    "disk": (4, "<H"),
    "cd_disk": (6, "<H"),
    "entries_here": (8, "<H"),
    "entries": (10, "<H"),
    "cd_size": (12, "<I"),
    "cd_offset": (16, "<I"),
    "comment_length": (20, "<H"),
}
SPECIAL = {
    "<H": [0, 1, 8, 12, 14, 20, 45, 46, 63, 99, 0x7FFF, 0xFFFF],
    "<I": [0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFE, 0xFFFFFFFF],
}
# Header values of every type and magnitude (the int with 5000 digits is beyond Python's
# int-from-string limit; the nested list is deeper than json's recursion limit).
WEIRD_VALUES = [
    *(None, True, False, 0, -1, 1, 2, 7, 2**31, 2**53 + 1, 2**63, 2**64, 2**128, -(2**64)),
    *(10**400, -(10**400), 1e-320, 1.5, -0.0, 1e308, -1e308, float("inf"), float("nan")),
    *("", "x", "PCG64", "MT19937", "float32", "adam", "softmax", [], [1], [1.5, "x"]),
    *([0] * 623, [2**32] * 624, [0] * 625, {}, {"a": 1}, {"state": 1}),
]
DEEP = "[" * 100_000 + "]" * 100_000
HUGE_INT = "9" * 5000


def model_files() -> dict[str, bytes]:
    """Two rich valid model files: every header section filled, two kinds of RNG, both tasks."""
    out = {}
    rng = np.random.default_rng(0)
    x = rng.normal(size=(30, 4))
    y = np.arange(30) % 3
    net = dp.Network.from_sizes([4, 6, 3], ["tanh", "softmax"], seed=0)
    history = dp.fit(
        net,
        x,
        y,
        optimizer="adam",
        epochs=3,
        batch_size=8,
        seed=rng,
        schedule=dp.ReduceOnPlateau(factor=0.5, patience=0),
        validation_data=(x, y),
    )
    pre = Preprocessing(
        "classification",
        classes=["a", "b", "c"],
        feature_names=list("pqrs"),
        target_name="t",
        x_mean=x.mean(0),
        x_scale=x.std(0),
    )
    out["classifier"] = _save(
        net,
        optimizer="adam",
        history=history,
        rng=rng,
        preprocessing=pre,
        metadata={"data": "x.csv", "rows": 30},
    )
    mt = np.random.Generator(np.random.MT19937(1))
    reg = dp.Network.from_sizes([4, 1], "identity", seed=1, dtype=np.float32)
    history = dp.fit(
        reg,
        x,
        x[:, :1],
        optimizer="momentum",
        learning_rate=0.1,
        epochs=3,
        seed=mt,
        loss="mse",
        schedule=dp.StepDecay(step_size=2, gamma=0.5),
    )
    pre = Preprocessing("regression", y_mean=np.array([1.0]), y_scale=np.array([2.0]))
    out["regressor"] = _save(
        reg,
        optimizer={"name": "momentum", "learning_rate": 0.1},
        history=history,
        rng=mt,
        preprocessing=pre,
    )
    return out


def _save(net, **kwargs) -> bytes:
    with tempfile.TemporaryDirectory() as d:  # save() is atomic by rename: it needs a folder
        return dp.save(Path(d) / "m", net, **kwargs).read_bytes()


# --- bytes ---------------------------------------------------------------------------------------


def flip(data: bytes, position: int, value: int) -> bytes:
    """The byte at ``position`` (modulo the length) replaced by ``value``."""
    b = bytearray(data)
    b[position % len(b)] = value & 0xFF
    return bytes(b)


def truncate(data: bytes, length: int) -> bytes:
    return data[: length % (len(data) + 1)]


# --- ZIP records ---------------------------------------------------------------------------------


def _records(data: bytes) -> tuple[list[int], list[int], int]:
    """Offsets of the local headers, the central directory entries and the end record."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        locals_ = [i.header_offset for i in zf.infolist()]
        pos, central = zf.start_dir, []
        for _ in zf.infolist():
            central.append(pos)
            n, m, k = struct.unpack_from("<HHH", data, pos + 28)
            pos += 46 + n + m + k
    return locals_, central, data.rindex(b"PK\x05\x06")


def set_field(data: bytes, record: str, index: int, field: str, value: int) -> bytes:
    """Set one field of a local header, a central directory entry or the end record."""
    locals_, central, eocd = _records(data)
    table, starts = {"local": (LOCAL, locals_), "central": (CENTRAL, central)}.get(
        record, (EOCD, [eocd])
    )
    offset, fmt = table[field]
    start = starts[index % len(starts)]
    b = bytearray(data)
    struct.pack_into(fmt, b, start + offset, value % (1 << (8 * struct.calcsize(fmt))))
    return bytes(b)


def claim_zip64_sizes(data: bytes, index: int, size: int, compressed: int) -> bytes:
    """Make central directory entry ``index`` claim ``size`` / ``compressed`` bytes (ZIP64)."""
    locals_, central, eocd = _records(data)
    start = central[index % len(central)]
    n, m, k = struct.unpack_from("<HHH", data, start + 28)
    end = start + 46 + n + m + k
    entry = bytearray(data[start : start + 46 + n])  # without its extra field and comment
    struct.pack_into("<II", entry, 20, 0xFFFFFFFF, 0xFFFFFFFF)
    extra = struct.pack("<HHQQ", 1, 16, size, compressed)
    struct.pack_into("<H", entry, 30, len(extra))
    struct.pack_into("<H", entry, 32, 0)
    new_entry = bytes(entry) + extra
    out = bytearray(data[:start] + new_entry + data[end:eocd] + data[eocd:])
    eocd_new = eocd + len(new_entry) - (end - start)
    cd_size = struct.unpack_from("<I", out, eocd_new + 12)[0]
    struct.pack_into("<I", out, eocd_new + 12, cd_size + len(new_entry) - (end - start))
    return bytes(out)


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def rezip(items: dict[str, bytes], method: int = zipfile.ZIP_STORED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=method) as zf:
        for name, data in items.items():
            zf.writestr(name, data)
    return buf.getvalue()


METHODS = [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA]


def recompress(data: bytes, method: int) -> bytes:
    """Every member recompressed with ``method`` (deflate, bzip2, lzma or stored)."""
    return rezip(members(data), method)


def flip_in_member(data: bytes, index: int, position: int, value: int) -> bytes:
    """A byte inside member ``index``'s (compressed) data replaced."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.infolist()[index % len(zf.infolist())]
    n, m = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + n + m
    if info.compress_size == 0:
        return data
    return flip(data, start + position % info.compress_size, value)


# --- the JSON header -----------------------------------------------------------------------------


def header_paths(header, prefix=()) -> list[tuple]:
    """Every path into the header (dict keys and list indices), the root excluded."""
    paths = []
    items = header.items() if isinstance(header, dict) else enumerate(header)
    for k, v in items:
        paths.append((*prefix, k))
        if isinstance(v, dict | list) and len(v) < 50:
            paths += header_paths(v, (*prefix, k))
        elif isinstance(v, list) and v:  # long lists (an MT19937 key): a few indices only
            paths += [(*prefix, k, i) for i in (0, 1, len(v) - 1)]
    return paths


def set_header_value(data: bytes, path: tuple, value=None, raw: str | None = None) -> bytes:
    """The header with the entry at ``path`` replaced by ``value`` (or by raw JSON text)."""
    items = members(data)
    header = json.loads(items[HEADER])
    *parents, last = path
    node = header
    for k in parents:
        node = node[k]
    marker = "@@RAW@@"
    node[last] = marker if raw is not None else value
    text = json.dumps(header)
    if raw is not None:
        text = text.replace(f'"{marker}"', raw)
    items[HEADER] = text.encode()
    return rezip(items)


def delete_header_entry(data: bytes, path: tuple) -> bytes:
    items = members(data)
    header = json.loads(items[HEADER])
    *parents, last = path
    node = header
    for k in parents:
        node = node[k]
    del node[last]
    items[HEADER] = json.dumps(header).encode()
    return rezip(items)


def claim_huge_layer(data: bytes, inputs: int, claim: bool = True) -> bytes:
    """A crafted file: layer 1 takes ``inputs`` inputs, ``params/W1.npy``'s header promises that
    shape (its data stays tiny) and, with ``claim``, the ZIP directory claims the full size."""
    import numpy.lib.format as npy

    items = members(data)
    header = json.loads(items[HEADER])
    header["layers"][0]["inputs"] = inputs
    items[HEADER] = json.dumps(header).encode()
    units, dtype = header["layers"][0]["units"], np.dtype(header["dtype"])
    buf = io.BytesIO()
    npy.write_array_header_2_0(
        buf, {"descr": dtype.str, "fortran_order": False, "shape": (units, inputs)}
    )
    head = buf.getvalue()
    items["params/W1.npy"] = head + b"\0" * 64
    out = rezip(items)
    if not claim:
        return out
    index = list(items).index("params/W1.npy")
    size = len(head) + units * inputs * dtype.itemsize
    return claim_zip64_sizes(out, index, size, size)
