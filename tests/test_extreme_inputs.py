"""No silent NaN out: inputs up to the dtype's maximum give finite outputs or a clear error."""

from __future__ import annotations

import numpy as np
import pytest

import deltaprop as dp


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("hidden", ["relu", "tanh", "sigmoid", "identity"])
@pytest.mark.parametrize("output", ["softmax", "sigmoid", "identity", "tanh"])
def test_predict_is_finite_or_names_the_rows_that_overflowed(dtype, hidden, output):
    big = np.finfo(dtype).max
    net = dp.Network.from_sizes([3, 5, 2], [hidden, output], seed=0, dtype=dtype)
    x = np.array(
        [[0.5, -1.0, 2.0], [big, big, big], [-big, big, 0.0], [1e3, -1e3, 1e2], [0.0, 0.0, 0.0]],
        dtype=dtype,
    )
    try:
        out = net.predict(x)
    except OverflowError as exc:
        message = str(exc)
        assert "not finite" in message and "scale the inputs" in message
        listed = message.split("(rows ")[1].split(")")[0]
        assert {int(r) for r in listed.split(", ")} <= {1, 2}  # only the huge rows are named
        finite = np.array([0, 3, 4])
        assert np.isfinite(net.predict(x[finite])).all()
    else:
        assert np.isfinite(out).all()
        if output in ("softmax", "sigmoid", "tanh"):
            assert np.all(np.abs(out) <= 1)


def test_an_overflow_is_an_error_not_nan():
    net = dp.Network.from_sizes([2, 3, 2], ["relu", "softmax"], seed=1, dtype="float32")
    net.layers[0].W[:] = [[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0]]
    net.layers[1].W[:] = [[1.0, -1.0, 1.0], [-1.0, 1.0, 1.0]]
    x = np.array([[1.0, 2.0], [3e38, 3e38]], dtype=np.float32)  # x₁ + x₂ overflows in row 1
    with pytest.raises(OverflowError, match=r"1 of 2 rows \(rows 1\)"):
        net.predict(x)


@pytest.mark.parametrize("scale", [1.0, -1.0])
def test_the_estimators_never_predict_from_nan(scale):
    """Where the old loop made NaN probabilities (and so class 0), the estimators now give
    finite probabilities summing to 1 or raise naming the row."""
    from sklearn.datasets import load_iris

    x, y = load_iris(return_X_y=True)
    clf = dp.MLPClassifier(hidden_layer_sizes=(8,), max_iter=300, random_state=0, dtype="float32")
    clf.fit(x, y)
    big = np.finfo(np.float32).max
    bad = np.vstack([x[:2], scale * np.array([[big, -big, big, big]])])
    try:
        proba = clf.predict_proba(bad)
    except OverflowError as exc:
        assert "rows 2)" in str(exc)
        with pytest.raises(OverflowError, match=r"rows 2\)"):
            clf.predict(bad)
    else:
        assert np.isfinite(proba).all()
        np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
