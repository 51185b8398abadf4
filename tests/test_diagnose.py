"""Saturation and dead units against a hand computation, the vanishing-gradient warning, the
per-layer diagnosis against finite differences, the summary table and History's repr."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import deltaprop as dp
from deltaprop.saturation import layer_saturation, sample_rows

# a 2-3-2-1 network, by hand: sigmoid, then ReLU, then tanh
W1 = np.array([[4.0, -3.0], [0.5, 0.2], [-6.0, 1.0]])
B1 = np.array([0.5, 0.0, -1.0])
W2 = np.array([[3.0, -2.0, 0.5], [-3.0, -1.0, -2.0]])
B2 = np.array([0.1, -0.2])
W3 = np.array([[2.5, -4.0]])
B3 = np.array([0.3])
X = np.array([[2.0, -1.0], [0.0, 0.0], [-1.5, 2.0], [1.0, 1.0], [3.0, 0.5]])


def _net():
    return dp.Network.from_weights([W1, W2, W3], [B1, B2, B3], ["sigmoid", "relu", "tanh"])


def _by_hand():
    """σ, ReLU and tanh and their derivatives written out, independently of deltaprop."""
    z1 = X @ W1.T + B1
    a1 = 1 / (1 + np.exp(-z1))
    z2 = a1 @ W2.T + B2
    a2 = np.where(z2 > 0, z2, 0.0)
    z3 = a2 @ W3.T + B3
    a3 = np.tanh(z3)
    sat1 = np.mean(a1 * (1 - a1) < 0.01 * 0.25)
    sat3 = np.mean(1 - a3**2 < 0.01 * 1.0)
    dead2 = np.mean([(z2[:, j] <= 0).all() for j in range(2)])
    return sat1, dead2, sat3, z1, z2


def test_saturation_matches_a_hand_computation():
    sat1, dead2, sat3, z1, z2 = _by_hand()
    assert 0 < sat1 < 1 and 0 < sat3 <= 1 and dead2 == 0.5  # the case is not trivial
    saturated, dead = layer_saturation(_net(), X)
    assert saturated == pytest.approx([sat1, 0.0, sat3], abs=0)
    assert dead == [0.0, dead2, 0.0]


def test_fit_records_the_shares_at_each_epochs_end():
    net = _net()
    seen = []
    record = dp.LambdaCallback(lambda e, logs, run: seen.append(layer_saturation(run.network, X)))
    h = net.fit(X, np.zeros(5), loss="squared_error", epochs=4, batch_size=2, seed=0,
                callbacks=[record])  # fmt: skip
    assert [list(p) for p in zip(h.layer_saturation, h.layer_dead, strict=True)] == [
        list(s) for s in seen
    ]
    assert h.layer_saturation[0][1] == 0.0  # ReLU does not saturate: 0 by its declaration


def test_saturation_is_measured_on_evenly_spaced_rows():
    assert sample_rows(10) == slice(0, 10)
    rows = sample_rows(5000, 1024)
    assert len(rows) == 1024 and rows[0] == 0 and rows[-1] == 4999
    assert np.all(np.diff(rows) > 0)


def test_declarations_say_who_saturates():
    cases = [("sigmoid", True, False), ("tanh", True, False), ("relu", False, True),
             ("identity", False, False), ("leaky_relu", False, False), ("softmax", False, False)]
    for name, saturates, dies in cases:
        act = dp.get_activation(name)
        z = np.linspace(-20, 20, 9)[None, :]
        a = act.forward(z)
        assert (act.saturated(z, a) is not None) == saturates
        assert (act.inactive(z, a) is not None) == dies
    z = np.array([[-10.0, 0.0, 2.0, 10.0]])
    sig = dp.get_activation("sigmoid")
    # σ′(z) = σ(z)(1 − σ(z)) < 0.0025 holds for |z| > 5.99
    assert sig.saturated(z, sig.forward(z)).tolist() == [[True, False, False, True]]


def test_a_registered_activation_saturates_by_its_declaration():
    import dataclasses

    hard = dataclasses.replace(dp.get_activation("tanh"), name="mytanh", max_derivative=1.0)
    dp.register_activation(hard)
    net = dp.Network.from_weights([W1], [B1], ["mytanh"])
    z1 = X @ W1.T + B1
    assert layer_saturation(net, X)[0] == [np.mean(1 - np.tanh(z1) ** 2 < 0.01)]


def _deep(hidden: str):
    x = np.random.default_rng(0).normal(size=(64, 6))
    y = (x[:, 0] > 0).astype(int)
    net = dp.Network.from_sizes([6] + [24] * 9 + [1], [hidden] * 9 + ["sigmoid"], seed=0)
    return net, x, y


def test_vanishing_warning_fires_once_for_a_deep_sigmoid_net():
    net, x, y = _deep("sigmoid")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        h = net.fit(x, y, epochs=8, batch_size=16, seed=0)
    vanishing = [w for w in caught if issubclass(w.category, dp.VanishingGradientWarning)]
    assert len(vanishing) == 1
    text = str(vanishing[0].message)
    for cure in ("ReLU", "He initialisation", "fewer layers", "larger learning rate"):
        assert cure in text
    assert vanishing[0].filename == __file__  # it points at the line that called fit
    ratios = [g[0] / g[-1] for g in h.layer_grad_norms]
    assert all(r < 1e-4 for r in ratios[:3])


def test_no_vanishing_warning_for_a_relu_net():
    net, x, y = _deep("relu")
    with warnings.catch_warnings():
        warnings.simplefilter("error", dp.VanishingGradientWarning)
        h = net.fit(x, y, epochs=8, batch_size=16, seed=0)
    assert all(g[0] / g[-1] > 1e-2 for g in h.layer_grad_norms)


def test_diagnose_against_finite_differences():
    net = _net()
    t = np.array([[0.5], [-0.2], [0.1], [0.9], [0.0]])
    before = net.get_weights()
    report = dp.diagnose(net, X, t, "squared_error", learning_rate=0.3)
    assert all((net.get_weights()[k] == v).all() for k, v in before.items())  # unchanged
    numeric = dp.numeric_gradients(net, X, t, "squared_error")
    norms = [math.sqrt(float(np.sum(numeric[f"W{i}"] ** 2) + np.sum(numeric[f"b{i}"] ** 2)))
             for i in (1, 2, 3)]  # fmt: skip
    rows = report.rows
    assert [r["grad_norm"] for r in rows] == pytest.approx(norms, rel=1e-6)
    assert [r["grad_ratio"] for r in rows] == pytest.approx([g / norms[2] for g in norms], 1e-6)
    # one SGD step moves θˡ by η‖∂E/∂θˡ‖
    sizes = [math.sqrt(float(np.sum(W**2) + np.sum(b**2))) for W, b in
             [(W1, B1), (W2, B2), (W3, B3)]]  # fmt: skip
    expected = [0.3 * g / s for g, s in zip(norms, sizes, strict=True)]
    assert [r["update_ratio"] for r in rows] == pytest.approx(expected, rel=1e-6)
    sat1, dead2, sat3, _, _ = _by_hand()
    assert [r["saturated"] for r in rows] == [sat1, None, sat3]
    assert [r["dead"] for r in rows] == [None, dead2, None]
    assert report.as_dict()["layers"] == rows and report.as_dict()["optimizer"] == "sgd"
    text = str(report)
    assert "relu" in text and "50.0 %" in text and f"{norms[0]:.3e}" in text


def test_diagnose_continues_an_optimizers_state():
    net = _net()
    t = np.zeros((5, 1))
    h = net.fit(X, t, loss="squared_error", optimizer="adam", epochs=3, batch_size=None)
    state_step = h.optimizer_state["step"]
    fresh = dp.diagnose(net, X, t, "squared_error", optimizer="adam")
    resumed = dp.diagnose(net, X, t, "squared_error", optimizer="adam",
                          optimizer_state=h.optimizer_state)  # fmt: skip
    assert h.optimizer_state["step"] == state_step  # the run's state is not touched
    assert [r["update_ratio"] for r in fresh.rows] != [r["update_ratio"] for r in resumed.rows]
    assert [r["grad_norm"] for r in fresh.rows] == [r["grad_norm"] for r in resumed.rows]


def test_summary_table():
    net = dp.Network.from_sizes([784, 256, 128, 10], ["relu", "relu", "softmax"],
                                bias=[True, False, True])  # fmt: skip
    s = net.summary()
    assert [r["parameters"] for r in s.rows] == [784 * 256 + 256, 256 * 128, 128 * 10 + 10]
    assert s.total == 784 * 256 + 256 + 256 * 128 + 1290
    text = str(s)
    assert "total parameters: 235,018" in text and "softmax" in text and "input" in text
    assert repr(s) == text


def test_history_prints_a_short_summary():
    net = dp.Network.from_sizes([2, 3, 1], seed=0)
    h = net.fit(X[:, :2], np.array([0, 1, 1, 0, 1]), optimizer="adam", epochs=2,
                validation_data=(X[:, :2], np.array([0, 1, 1, 0, 1])))  # fmt: skip
    text = repr(h)
    assert text == str(h)
    assert text.startswith("History(epochs=2, loss ") and "optimizer=adam" in text
    assert f"val_accuracy {h.val_accuracy[-1]:.4g}" in text
    assert "array" not in text and len(text) < 200


@pytest.mark.parametrize("n,batch_size", [(300, 40), (3000, 64), (3000, 8), (1500, None)])
def test_fit_measures_chunk_by_chunk_what_one_forward_pass_gives(n, batch_size):
    rng = np.random.default_rng(n)
    x = rng.normal(size=(n, 2)) * 3
    y = rng.normal(size=(n, 1))
    net = dp.Network.from_sizes([2, 7, 5, 1], ["sigmoid", "relu", "tanh"], seed=1)
    seen = []
    record = dp.LambdaCallback(
        lambda e, logs, run: seen.append(layer_saturation(run.network, x[sample_rows(n)]))
    )
    h = net.fit(x, y, epochs=2, batch_size=batch_size, seed=0, callbacks=[record])
    for e in range(2):
        assert h.layer_saturation[e] == pytest.approx(seen[e][0], abs=1e-12)
        assert h.layer_dead[e] == seen[e][1]
    assert any(0 < s < 1 for s in h.layer_saturation[0])
