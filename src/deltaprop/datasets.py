"""Data sets: IDX files (MNIST, Fashion-MNIST) read without copying, and small built-in sets.

IDX (LeCun's format): a big-endian header — two zero bytes, a type code (0x08 = uint8, 0x09 int8,
0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), the number of dimensions — then one
big-endian uint32 per dimension, then the data in C order. :func:`load_idx` memory-maps the data,
so a 47 MB training set costs no memory until batches are gathered from it.
"""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import numpy as np

Array = np.ndarray

FASHION_MNIST_DIR = Path(
    os.environ.get("DELTAPROP_FASHION_MNIST", "/usr/share/datasets/fashion-mnist")
)

_IDX_TYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def load_idx(path: str | os.PathLike) -> Array:
    """The array in an IDX file: memory-mapped, or read into memory if gzipped (``.gz``)."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"IDX file not found: {path}")
    if path.suffix == ".gz":
        with gzip.open(path, "rb") as fh:
            raw = fh.read()
        dtype, shape, offset = _idx_header(raw[: 4 + 4 * 255], path)
        count = int(np.prod(shape))
        if len(raw) - offset < count * dtype.itemsize:
            raise ValueError(f"{path} is truncated: expected {count} values of {dtype}")
        return np.frombuffer(raw, dtype=dtype, count=count, offset=offset).reshape(shape)
    with open(path, "rb") as fh:
        head = fh.read(4 + 4 * 255)
    dtype, shape, offset = _idx_header(head, path)
    count = int(np.prod(shape))
    if path.stat().st_size - offset < count * dtype.itemsize:
        raise ValueError(f"{path} is truncated: expected {count} values of {dtype}")
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=tuple(shape))


def _idx_header(head: bytes, path: Path) -> tuple[np.dtype, list[int], int]:
    if len(head) < 4 or head[0] != 0 or head[1] != 0 or head[2] not in _IDX_TYPES:
        raise ValueError(f"{path} is not an IDX file (bad magic number)")
    ndim = head[3]
    offset = 4 + 4 * ndim
    if ndim == 0 or len(head) < offset:
        raise ValueError(f"{path} is not an IDX file (bad header)")
    shape = list(struct.unpack(f">{ndim}I", head[4:offset]))
    return _IDX_TYPES[head[2]], shape, offset


def _idx_file(directory: Path, stem: str) -> Path:
    for name in (stem, stem + ".gz"):
        if (directory / name).exists():
            return directory / name
    raise FileNotFoundError(
        f"{stem} not found in {directory}; install Debian's dataset-fashion-mnist "
        f"(apt-get install dataset-fashion-mnist) or pass path="
    )


def load_fashion_mnist(
    path: str | os.PathLike | None = None, kind: str = "train"
) -> tuple[Array, Array]:
    """Fashion-MNIST images ``(n, 784)`` uint8 (memory-mapped) and labels ``(n,)``.

    ``kind`` is ``"train"`` (60,000) or ``"test"`` (10,000); ``path`` defaults to Debian's
    ``/usr/share/datasets/fashion-mnist`` (or ``$DELTAPROP_FASHION_MNIST``). Scale images by 1/255.
    """
    directory = Path(path) if path is not None else FASHION_MNIST_DIR
    prefix = {"train": "train", "test": "t10k"}.get(kind)
    if prefix is None:
        raise ValueError(f"kind must be 'train' or 'test', got {kind!r}")
    images = load_idx(_idx_file(directory, f"{prefix}-images-idx3-ubyte"))
    labels = load_idx(_idx_file(directory, f"{prefix}-labels-idx1-ubyte"))
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"{images.shape[0]} images but {labels.shape[0]} labels in {directory}")
    return images.reshape(images.shape[0], -1), np.asarray(labels, dtype=np.int64)


def make_xor(n_repeats: int = 1) -> tuple[Array, Array]:
    """The four XOR points (repeated ``n_repeats`` times) and their 0/1 labels."""
    x = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    y = np.array([0, 1, 1, 0], dtype=np.int64)
    return np.tile(x, (n_repeats, 1)), np.tile(y, n_repeats)


def make_moons(
    n_samples: int = 200, noise: float = 0.1, seed: int | None = 0
) -> tuple[Array, Array]:
    """Two interleaving half circles in 2-D with Gaussian noise (as scikit-learn's make_moons)."""
    rng = np.random.default_rng(seed)
    n_out = n_samples // 2
    n_in = n_samples - n_out
    outer = np.linspace(0, np.pi, n_out)
    inner = np.linspace(0, np.pi, n_in)
    x = np.vstack(
        [
            np.column_stack([np.cos(outer), np.sin(outer)]),
            np.column_stack([1 - np.cos(inner), 1 - np.sin(inner) - 0.5]),
        ]
    )
    x += rng.normal(scale=noise, size=x.shape)
    y = np.concatenate([np.zeros(n_out, dtype=np.int64), np.ones(n_in, dtype=np.int64)])
    return x, y


_SKLEARN_SETS = {
    "digits": "load_digits",
    "iris": "load_iris",
    "wine": "load_wine",
    "breast-cancer": "load_breast_cancer",
    "diabetes": "load_diabetes",
}

DATASET_NAMES = sorted([*_SKLEARN_SETS, "fashion-mnist", "fashion-mnist-test", "xor", "moons"])


def load_dataset(name: str) -> tuple[Array, Array, str]:
    """``(x, y, task)`` for a built-in data set; task is ``"classification"`` or ``"regression"``.

    digits, iris, wine, breast-cancer and diabetes come from scikit-learn (its optional extra);
    fashion-mnist (60,000 training images) and fashion-mnist-test (10,000 test images) from
    Debian's package, scaled to [0, 1]; xor and moons are made.
    """
    key = name.lower().replace("_", "-")
    if key in _SKLEARN_SETS:
        bunch = _sklearn_bunch(name, key)
        task = "regression" if key == "diabetes" else "classification"
        return bunch.data.astype(np.float64), bunch.target, task
    if key in ("fashion-mnist", "fashion-mnist-test"):
        x, y = load_fashion_mnist(kind="test" if key.endswith("test") else "train")
        return x.astype(np.float32) / 255.0, y, "classification"
    if key == "xor":
        x, y = make_xor()
        return x, y, "classification"
    if key == "moons":
        x, y = make_moons()
        return x, y, "classification"
    raise ValueError(f"unknown data set {name!r}; expected one of {', '.join(DATASET_NAMES)}")


def dataset_feature_names(name: str) -> list[str]:
    """The column names of a built-in data set's ``x``: scikit-learn's own for its sets (iris's
    ``sepal length (cm)`` …), ``pixel_<row>_<column>`` for Fashion-MNIST's 28 × 28 images, and
    ``x1``, ``x2`` for the made ones."""
    key = name.lower().replace("_", "-")
    if key in _SKLEARN_SETS:
        return [str(n) for n in _sklearn_bunch(name, key).feature_names]
    if key in ("fashion-mnist", "fashion-mnist-test"):
        return [f"pixel_{r}_{c}" for r in range(28) for c in range(28)]
    if key in ("xor", "moons"):
        return ["x1", "x2"]
    raise ValueError(f"unknown data set {name!r}; expected one of {', '.join(DATASET_NAMES)}")


def _sklearn_bunch(name: str, key: str):
    try:
        import sklearn.datasets as skd
    except ImportError:  # pragma: no cover - depends on the environment
        raise ImportError(
            f"the {name!r} data set comes with scikit-learn: pip install 'deltaprop[sklearn]'"
        ) from None
    return getattr(skd, _SKLEARN_SETS[key])()
