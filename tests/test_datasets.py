"""Data sets: the IDX reader on generated files (every type code, plain and gzipped), the
Fashion-MNIST loader on a generated directory, and the made and bundled sets."""

import gzip
import struct

import numpy as np
import pytest

from deltaprop.datasets import (
    DATASET_NAMES,
    dataset_feature_names,
    load_dataset,
    load_fashion_mnist,
    load_idx,
    make_moons,
    make_xor,
)

IDX_CODES = {np.uint8: 0x08, np.int8: 0x09, ">i2": 0x0B, ">i4": 0x0C, ">f4": 0x0D, ">f8": 0x0E}


def write_idx(path, arr, code, gz=False):
    data = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()
    if gz:
        with gzip.open(path, "wb") as fh:
            fh.write(data)
    else:
        path.write_bytes(data)


@pytest.mark.parametrize("gz", [False, True])
@pytest.mark.parametrize("dtype", list(IDX_CODES))
def test_idx_round_trip(tmp_path, dtype, gz):
    arr = (np.arange(2 * 3 * 4) - 7).reshape(2, 3, 4).astype(dtype)
    if np.dtype(dtype) == np.uint8:
        arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    path = tmp_path / ("a.idx.gz" if gz else "a.idx")
    write_idx(path, arr, IDX_CODES[dtype], gz)
    got = load_idx(path)
    assert got.shape == (2, 3, 4)
    np.testing.assert_array_equal(got, arr)
    assert isinstance(got, np.memmap) != gz  # plain files are mapped, not read


def test_idx_errors_name_the_problem(tmp_path):
    bad = tmp_path / "bad.idx"
    bad.write_bytes(b"\x01\x02\x08\x01\x00\x00\x00\x02ab")
    with pytest.raises(ValueError, match="not an IDX file"):
        load_idx(bad)
    short = tmp_path / "short.idx"
    write_idx(short, np.zeros(10, dtype=np.uint8), 0x08)
    short.write_bytes(short.read_bytes()[:-3])
    with pytest.raises(ValueError, match="truncated"):
        load_idx(short)
    with pytest.raises(FileNotFoundError, match="IDX file not found"):
        load_idx(tmp_path / "missing.idx")


def test_fashion_mnist_loader_on_a_generated_directory(tmp_path):
    rng = np.random.default_rng(0)
    for prefix, n in (("train", 6), ("t10k", 4)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        write_idx(tmp_path / f"{prefix}-images-idx3-ubyte", images, 0x08)
        write_idx(tmp_path / f"{prefix}-labels-idx1-ubyte.gz", labels, 0x08, gz=True)
        x, y = load_fashion_mnist(tmp_path, kind="train" if prefix == "train" else "test")
        assert x.shape == (n, 784) and x.dtype == np.uint8
        np.testing.assert_array_equal(x, images.reshape(n, 784))
        np.testing.assert_array_equal(y, labels)
        assert y.dtype == np.int64
    with pytest.raises(ValueError, match="kind must be"):
        load_fashion_mnist(tmp_path, kind="validation")
    with pytest.raises(FileNotFoundError, match="dataset-fashion-mnist"):
        load_fashion_mnist(tmp_path / "nowhere")


def test_made_sets():
    x, y = make_xor(2)
    assert x.shape == (8, 2)
    np.testing.assert_array_equal(y, [0, 1, 1, 0, 0, 1, 1, 0])
    np.testing.assert_array_equal(y, np.logical_xor(x[:, 0], x[:, 1]))
    x, y = make_moons(101, noise=0.0)
    assert x.shape == (101, 2) and np.bincount(y).tolist() == [50, 51]
    # without noise the outer moon lies on the unit circle, the inner one on a shifted circle
    np.testing.assert_allclose(np.hypot(*x[y == 0].T), 1.0)
    np.testing.assert_allclose(np.hypot(x[y == 1, 0] - 1, x[y == 1, 1] - 0.5), 1.0)


# The published sets (UCI; the scikit-learn documentation): shape, class counts (the target's
# range for diabetes) and the first row's first values, so that one set returned for another fails.
PUBLISHED = {
    "iris": ((150, 4), [50, 50, 50], [5.1, 3.5, 1.4, 0.2]),
    "wine": ((178, 13), [59, 71, 48], [14.23, 1.71, 2.43, 15.6, 127.0, 2.8]),
    "breast-cancer": ((569, 30), [212, 357], [17.99, 10.38, 122.8, 1001.0, 0.1184, 0.2776]),
    "digits": (
        (1797, 64),
        [178, 182, 177, 183, 181, 182, 181, 179, 174, 180],
        [0, 0, 5, 13, 9, 1, 0, 0],
    ),
    # diabetes: ten baseline variables, each centred and scaled by √n·σ (so Σ x² = 1 per column);
    # the target is a disease measure from 25 to 346, 151 for the first patient.
    "diabetes": ((442, 10), None, [0.0380759064334241, 0.0506801187398187, 0.0616962065186885]),
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_load_dataset_returns_the_published_set(name):
    x, y, task = load_dataset(name)
    shape, counts, first = PUBLISHED[name]
    assert name in DATASET_NAMES
    assert x.shape == shape and x.dtype == np.float64 and y.shape == (shape[0],)
    np.testing.assert_allclose(x[0, : len(first)], first, rtol=1e-12)
    assert np.isfinite(x).all()
    if counts is None:
        assert task == "regression" and y.dtype == np.float64
        assert (y[0], y.min(), y.max()) == (151.0, 25.0, 346.0)
        np.testing.assert_allclose(x.mean(axis=0), 0.0, atol=1e-15)
        np.testing.assert_allclose((x**2).sum(axis=0), 1.0, rtol=1e-12)
    else:
        assert task == "classification" and np.issubdtype(y.dtype, np.integer)
        assert np.bincount(y).tolist() == counts  # classes 0 … k − 1, each counted
    if name == "digits":  # 8 × 8 images of 4-bit grey levels
        assert np.array_equal(x, np.round(x)) and x.min() == 0 and x.max() == 16
    if name == "iris":  # sorted by species, 50 each
        np.testing.assert_array_equal(y, np.repeat([0, 1, 2], 50))


def test_made_sets_by_name():
    x, y, task = load_dataset("xor")
    assert task == "classification"
    np.testing.assert_array_equal(x, [[0, 0], [0, 1], [1, 0], [1, 1]])
    np.testing.assert_array_equal(y, [0, 1, 1, 0])
    x, y, task = load_dataset("moons")
    assert (
        task == "classification" and x.shape == (200, 2) and np.bincount(y).tolist() == [100, 100]
    )
    same_x, same_y = make_moons()  # the default: 200 points, noise 0.1, seed 0
    np.testing.assert_array_equal(x, same_x)
    np.testing.assert_array_equal(y, same_y)
    # noise 0.1 around the unit circle for the outer moon: radii within ±0.5 of 1
    assert np.abs(np.hypot(*x[y == 0].T) - 1).max() < 0.5


@pytest.mark.parametrize(
    "name, first",
    [
        ("iris", "sepal length (cm)"),
        ("diabetes", "age"),
        ("digits", "pixel_0_0"),
        ("xor", "x1"),
        ("moons", "x1"),
        ("fashion-mnist", "pixel_0_0"),
    ],
)
def test_built_in_sets_name_their_columns(name, first):
    names = dataset_feature_names(name)
    assert names[0] == first and len(set(names)) == len(names)
    if name != "fashion-mnist":  # the IDX files are only on machines with Debian's package
        assert len(names) == load_dataset(name)[0].shape[1]
    else:
        assert len(names) == 784 and names[-1] == "pixel_27_27"


def test_unknown_dataset_is_named():
    with pytest.raises(ValueError, match="unknown data set 'mnist'"):
        load_dataset("mnist")
    with pytest.raises(ValueError, match="unknown data set 'mnist'"):
        dataset_feature_names("mnist")
