"""The L2 penalty (λ/2) Σₗ ‖Wˡ‖² and its gradient λWˡ, on hand-picked integer weights (biases are
never penalised), and its promise to allocate nothing after the first call."""

import tracemalloc

import numpy as np

from deltaprop.penalty import L2Penalty


def params():
    return {
        "W1": np.array([[1.0, 2.0], [3.0, 4.0]]),  # ‖W1‖² = 30
        "b1": np.array([5.0, 6.0]),
        "W2": np.array([[1.0, -1.0]]),  # ‖W2‖² = 2
        "b2": np.array([7.0]),
    }


def test_value_is_half_lambda_times_the_squared_weights():
    p = params()
    penalty = L2Penalty(p)
    assert penalty.names == ["W1", "W2"]
    assert penalty.value(p, 0.5) == 0.25 * 32
    assert penalty.value(p, 0.0) == 0.0
    p["W2"][0, 0] = 3.0  # read at call time: ‖W2‖² = 10
    assert penalty.value(p, 2.0) == 40.0


def test_gradient_adds_lambda_w_to_the_weights_only():
    p = params()
    penalty = L2Penalty(p)
    grads = {k: np.ones_like(v) for k, v in p.items()}
    penalty.add_gradient(p, grads, 0.5)
    np.testing.assert_array_equal(grads["W1"], [[1.5, 2.0], [2.5, 3.0]])
    np.testing.assert_array_equal(grads["W2"], [[1.5, 0.5]])
    np.testing.assert_array_equal(grads["b1"], [1.0, 1.0])
    np.testing.assert_array_equal(grads["b2"], [1.0])
    penalty.add_gradient(p, grads, 0.5)  # adds again, from the (unchanged) weights
    np.testing.assert_array_equal(grads["W1"], [[2.0, 3.0], [4.0, 5.0]])
    np.testing.assert_array_equal(p["W1"], [[1.0, 2.0], [3.0, 4.0]])  # the weights untouched


def test_gradient_reuses_its_buffers():
    """After the first call (which makes one scratch buffer per matrix) it allocates nothing."""
    p = {"W1": np.ones((400, 400)), "b1": np.zeros(400)}  # 1.28 MB a copy
    grads = {k: np.zeros_like(v) for k, v in p.items()}
    penalty = L2Penalty(p)
    penalty.add_gradient(p, grads, 0.1)
    tracemalloc.start()
    try:
        for _ in range(3):
            penalty.add_gradient(p, grads, 0.1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 100_000, peak
    np.testing.assert_allclose(grads["W1"], 0.4, rtol=1e-15)
