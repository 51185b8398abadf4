"""The checked reading layer of a model file: its ZIP directory and members, never trusted.

Every size the ZIP directory claims is checked against the file's real size before a byte of a
member is read, and every read is bounded by what the caller expects:

- a stored member's data must lie inside the file (offset + size ≤ the central directory's start),
  so a stored array can be no larger than the file itself;
- a deflated member may claim at most ``DEFLATE_RATIO`` times its compressed size (deflate cannot
  do better), so a 1 kB file cannot claim a terabyte;
- other methods (bzip2, lzma, …), encryption and patch data are refused unread: deltaprop writes
  stored members, and ``zip`` tools write stored or deflated ones. lzma's decoder allocates the
  dictionary size its properties claim (up to 4 GiB) before decoding a byte.

Errors are :class:`ModelFileError` naming the member; decompression and CRC failures included.
"""

from __future__ import annotations

import math
import struct
import zipfile
import zlib

import numpy as np
import numpy.lib.format as npy

from ._modelfile import ModelFileError

Array = np.ndarray
DEFLATE_RATIO = 1032  # deflate's largest expansion: 258 bytes from a 2-bit code (RFC 1951)
NPY_HEADER_MAX = 65_536 + 16  # magic, version, length and the header dict's literal
_CHUNK = 1 << 20
_METHODS = {zipfile.ZIP_STORED: "stored", zipfile.ZIP_DEFLATED: "deflate"}
_REFUSED_FLAGS = {0x1: "encryption", 0x20: "compressed patch data", 0x40: "strong encryption"}
# What zipfile's directory parser raises on a damaged archive (seek before the file's start,
# a version it cannot read, fields that do not decode).
_PARSE_ERRORS = (
    zipfile.BadZipFile,
    EOFError,
    ValueError,
    NotImplementedError,
    OSError,
    OverflowError,
    struct.error,
    KeyError,
    IndexError,
)
# What reading one member raises on damaged data: CRC and length checks, zlib's own errors.
_READ_ERRORS = (zipfile.BadZipFile, EOFError, zlib.error, OSError, ValueError, RuntimeError)


class Archive:
    """An open model file whose directory passed :func:`open_archive`'s checks."""

    def __init__(self, zf: zipfile.ZipFile, file_size: int):
        self.zf = zf
        self.file_size = file_size
        self.infos = {info.filename: info for info in zf.infolist()}
        self.names = list(self.infos)

    def check_size(self, name: str, low: int, high: int) -> None:
        """Refuse member ``name`` unless it claims between ``low`` and ``high`` bytes."""
        size = self.infos[name].file_size
        if not low <= size <= high:
            want = f"{low}" if low == high else f"{low} to {high}"
            raise ModelFileError(f"{name} claims {size} bytes; expected {want}")

    def read(self, name: str, limit: int) -> bytes:
        """The whole member (at most ``limit`` bytes), its CRC checked."""
        self.check_size(name, 0, limit)
        size = self.infos[name].file_size
        try:
            with self.zf.open(self.infos[name]) as fh:
                data = fh.read(size + 1)
        except _READ_ERRORS as exc:
            raise ModelFileError(f"{name} is damaged ({_reason(exc)})") from None
        if len(data) != size:
            raise ModelFileError(f"{name} holds {len(data)} bytes, its directory entry {size}")
        return data

    def read_array(self, name: str, dtype: np.dtype, shape: tuple[int, ...]) -> Array:
        """A ``.npy`` member of ``dtype`` and ``shape``: sizes checked before reading, the
        ``.npy`` header before the data; object arrays (pickles) refused unread; finite values."""
        count = math.prod(shape)
        nbytes = count * dtype.itemsize
        self.check_size(name, 0, nbytes + NPY_HEADER_MAX)
        info = self.infos[name]
        try:
            with self.zf.open(info) as fh:
                file_dtype, fortran = _npy_header(fh, name, dtype, shape)
                if info.file_size != fh.tell() + nbytes:
                    expected = fh.tell() + nbytes
                    raise ModelFileError(f"{name} has {info.file_size} bytes; expected {expected}")
                arr = np.empty(count, dtype=file_dtype)
                view, got = arr.view(np.uint8), 0
                while got < nbytes:  # in chunks: no second array-sized buffer
                    chunk = fh.read(min(_CHUNK, nbytes - got))
                    if not chunk:
                        break
                    view[got : got + len(chunk)] = np.frombuffer(chunk, np.uint8)
                    got += len(chunk)
                if got != nbytes or fh.read(1):  # reading to the end checks the CRC
                    raise ModelFileError(f"{name} holds {got} data bytes, expected {nbytes}")
        except _READ_ERRORS as exc:
            raise ModelFileError(f"{name} is damaged ({_reason(exc)})") from None
        arr = arr.reshape(shape, order="F" if fortran else "C")
        arr = np.array(arr, dtype=dtype, order="C") if arr.dtype != dtype or fortran else arr
        if not np.isfinite(arr).all():
            raise ModelFileError(f"{name} holds NaN or infinite values")
        return arr


def open_archive(fh, file_size: int) -> Archive:
    """Parse the ZIP directory of the open file ``fh`` and check every entry's claims."""
    try:
        zf = zipfile.ZipFile(fh)
    except NotImplementedError as exc:
        raise ModelFileError(
            f"not a deltaprop model file (it needs a ZIP feature deltaprop does not read: {exc})"
        ) from None
    except _PARSE_ERRORS as exc:
        raise ModelFileError(
            f"not a deltaprop model file (not a ZIP archive, or truncated or damaged: "
            f"{_reason(exc)})"
        ) from None
    names = zf.namelist()
    if len(set(names)) != len(names):
        raise ModelFileError("corrupted: the archive lists a member twice")
    end = min(getattr(zf, "start_dir", file_size), file_size)
    total = 0
    for info in zf.infolist():
        _check_entry(info, end)
        total += info.compress_size
    if total > file_size:
        raise ModelFileError(
            f"corrupted: the members claim {total} bytes of data in a file of {file_size}"
        )
    return Archive(zf, file_size)


def _check_entry(info: zipfile.ZipInfo, end: int) -> None:
    name = info.filename
    for bit, feature in _REFUSED_FLAGS.items():
        if info.flag_bits & bit:
            raise ModelFileError(f"{name} uses {feature}, which a model file never does")
    if info.compress_type not in _METHODS:
        raise ModelFileError(
            f"{name} is compressed with ZIP method {info.compress_type}; a model file's members "
            f"are stored (or deflated, as zip tools write them)"
        )
    if not 0 <= info.header_offset < end or info.header_offset + 30 + info.compress_size > end:
        raise ModelFileError(
            f"{name}'s directory entry claims {info.compress_size} bytes at offset "
            f"{info.header_offset}, beyond the file's {end} bytes of members"
        )
    if info.compress_type == zipfile.ZIP_STORED and info.file_size != info.compress_size:
        raise ModelFileError(
            f"{name} is stored but claims {info.file_size} bytes in {info.compress_size}"
        )
    if info.file_size > DEFLATE_RATIO * info.compress_size + 64:
        raise ModelFileError(
            f"{name} claims {info.file_size} bytes from {info.compress_size} deflated ones, "
            f"more than deflate can expand ({DEFLATE_RATIO}:1)"
        )


def _npy_header(fh, name: str, dtype: np.dtype, shape: tuple) -> tuple[np.dtype, bool]:
    """Parse a ``.npy`` header (numpy reads it as a literal) and check it against the model's."""
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
    return file_dtype, bool(fortran)


def _reason(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if isinstance(exc, OSError | EOFError) else text
