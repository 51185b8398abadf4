"""Golden values from seed 001 (/work/shared/seeds/001_49bddc99b719dbdf.txt).

The tutorial's network: x = 0.5 → h = σ(w1 x + b1) → y = w2 h + b2 (identity output), target
t = 0.6, loss L = ½(y − t)², with w1 = 0.4, b1 = 0.1, w2 = 0.3, b2 = 0.2. It works one step by hand
(to 4 decimals), then runs 60 epochs of plain gradient descent at lr 0.1 and prints the loss and
output every 5 epochs and the final parameters.

Each number is checked twice: against the tutorial's printed 4-decimal value (as a formatted
string, exactly as it prints it) and against float64 scalar arithmetic written out here by hand,
independently of the engine, to 1e-12.

Seed 002 (a 2-2-2-1 sigmoid network, output 0.6718 → 0.7043 after one step at α = 0.5) is not
tested: its weights were in an image that we do not have, and we do not guess them.
"""

import math

import numpy as np
import pytest

import deltaprop as dp

X, W1, B1, W2, B2, T = 0.5, 0.4, 0.1, 0.3, 0.2, 0.6


def tutorial_network() -> dp.Network:
    return dp.Network.from_weights(
        [[[W1]], [[W2]]], [[B1], [B2]], activations=["sigmoid", "identity"]
    )


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def by_hand(w1: float, b1: float, w2: float, b2: float) -> dict[str, float]:
    """One forward and backward pass in scalar float64 arithmetic, as the tutorial writes it."""
    z1 = w1 * X + b1
    h = sigmoid(z1)
    y = w2 * h + b2
    loss = 0.5 * (y - T) ** 2
    dL_dy = y - T
    dL_dz1 = dL_dy * w2 * h * (1 - h)
    return {
        "z1": z1,
        "h": h,
        "y": y,
        "L": loss,
        "dL_dy": dL_dy,
        "dL_dw2": dL_dy * h,
        "dL_db2": dL_dy,
        "sigma_prime": h * (1 - h),
        "dL_dw1": dL_dz1 * X,
        "dL_db1": dL_dz1,
    }


def tutorial_loop(epochs: int = 60, learning_rate: float = 0.1):
    """The tutorial's own training loop, line for line: per-epoch loss, output and grad norm."""
    w1, b1, w2, b2 = W1, B1, W2, B2
    losses, outputs, grad_norms = [], [], []
    for _ in range(epochs):
        s = by_hand(w1, b1, w2, b2)
        losses.append(s["L"])
        outputs.append(s["y"])
        grad_norms.append(
            math.sqrt(s["dL_dw1"] ** 2 + s["dL_db1"] ** 2 + s["dL_dw2"] ** 2 + s["dL_db2"] ** 2)
        )
        w1 -= learning_rate * s["dL_dw1"]
        b1 -= learning_rate * s["dL_db1"]
        w2 -= learning_rate * s["dL_dw2"]
        b2 -= learning_rate * s["dL_db2"]
    return losses, outputs, grad_norms, (w1, b1, w2, b2)


def test_forward_pass_matches_tutorial():
    fp = tutorial_network().forward([[X]])
    s = by_hand(W1, B1, W2, B2)
    h, y = fp.a[1][0, 0], fp.output[0, 0]
    assert f"{fp.z[0][0, 0]:.4f}" == "0.3000"
    assert f"{h:.4f}" == "0.5744"
    assert f"{y:.4f}" == "0.3723"
    assert h == pytest.approx(s["h"], abs=1e-12)
    assert y == pytest.approx(s["y"], abs=1e-12)


def test_loss_matches_tutorial():
    net = tutorial_network()
    loss = net.loss([[X]], [[T]], "squared_error")
    # The tutorial's text says L = 0.0260, but ½(0.3723 − 0.6)² = 0.02592…; its own code prints
    # "Loss: 0.0259". We test the correct value.
    assert f"{loss:.4f}" == "0.0259"
    assert loss == pytest.approx(0.5 * (by_hand(W1, B1, W2, B2)["y"] - T) ** 2, abs=1e-12)
    assert loss == pytest.approx(0.025916187213042, abs=1e-12)


def test_every_gradient_matches_tutorial():
    net = tutorial_network()
    g = net.gradients([[X]], [[T]], "squared_error")
    grads = g.as_dict()
    s = by_hand(W1, B1, W2, B2)
    dL_dy = g.deltas[1][0, 0]  # identity output: δ = ∂L/∂y
    assert f"{dL_dy:.4f}" == "-0.2277"
    assert f"{grads['b2'][0]:.4f}" == "-0.2277"
    # The tutorial prints ∂L/∂w2 = −0.1309 (it multiplied the rounded −0.2277 · 0.5744); the exact
    # value is −0.13078…, i.e. −0.1308. We test the correct value.
    assert f"{grads['W2'][0, 0]:.4f}" == "-0.1308"
    assert f"{s['sigma_prime']:.4f}" == "0.2445"
    assert f"{grads['W1'][0, 0]:.4f}" == "-0.0083"
    # The tutorial prints ∂L/∂b1 = −0.0166, but −0.22767 · 0.3 · 0.24446 = −0.016697…, i.e.
    # −0.0167. We test the correct value.
    assert f"{grads['b1'][0]:.4f}" == "-0.0167"
    # The hidden delta is ∂L/∂z1 = ∂L/∂b1 for this one-sample batch.
    assert g.deltas[0][0, 0] == pytest.approx(s["dL_db1"], abs=1e-12)
    expected = {"W1": s["dL_dw1"], "b1": s["dL_db1"], "W2": s["dL_dw2"], "b2": s["dL_db2"]}
    for name, value in expected.items():
        assert grads[name].item() == pytest.approx(value, abs=1e-12), name


def test_unrounded_tutorial_slips_are_what_we_say():
    """The corrected values quoted in the comments above, checked in plain arithmetic."""
    s = by_hand(W1, B1, W2, B2)
    assert s["L"] == pytest.approx(0.02592, abs=5e-6)
    assert s["dL_dw2"] == pytest.approx(-0.13078, abs=5e-6)
    assert s["dL_db1"] == pytest.approx(-0.016697, abs=5e-7)


# The tutorial's printed progress: epoch → (loss, output), both to 4 decimals.
PRINTED = {
    0: ("0.0259", "0.3723"),
    5: ("0.0062", "0.4891"),
    10: ("0.0015", "0.5460"),
    15: ("0.0003", "0.5738"),
    20: ("0.0001", "0.5873"),
    25: ("0.0000", "0.5938"),
    30: ("0.0000", "0.5970"),
    35: ("0.0000", "0.5985"),
    40: ("0.0000", "0.5993"),
    45: ("0.0000", "0.5997"),
    50: ("0.0000", "0.5998"),
    55: ("0.0000", "0.5999"),
}


@pytest.fixture(scope="module")
def sixty_epochs():
    net = tutorial_network()
    outputs = []  # outputs[e] = y before epoch e's update, as the tutorial prints it

    def record(run):
        outputs.append(run.network.predict([[X]])[0, 0])

    cb = dp.LambdaCallback(lambda epoch, logs, run: record(run))
    cb.on_train_begin = record
    history = dp.fit(
        net,
        [[X]],
        [[T]],
        loss="squared_error",
        optimizer="sgd",
        learning_rate=0.1,
        epochs=60,
        batch_size=None,
        callbacks=[cb],
    )
    return net, history, outputs


def test_sixty_epochs_print_what_the_tutorial_prints(sixty_epochs):
    _, history, outputs = sixty_epochs
    assert history.epochs == 60
    assert len(outputs) == 61
    for epoch, (loss, output) in PRINTED.items():
        assert f"{history.loss[epoch]:.4f}" == loss, epoch
        assert f"{outputs[epoch]:.4f}" == output, epoch
    assert f"{outputs[60]:.4f}" == "0.6000"


def test_sixty_epochs_final_parameters(sixty_epochs):
    net, _, _ = sixty_epochs
    p = net.params()
    assert f"{p['W1'][0, 0]:.4f}" == "0.4072"
    assert f"{p['b1'][0]:.4f}" == "0.1143"
    assert f"{p['W2'][0, 0]:.4f}" == "0.3978"
    assert f"{p['b2'][0]:.4f}" == "0.3697"
    *_, (w1, b1, w2, b2) = tutorial_loop()
    np.testing.assert_allclose(
        [p["W1"][0, 0], p["b1"][0], p["W2"][0, 0], p["b2"][0]], [w1, b1, w2, b2], rtol=0, atol=1e-12
    )


def test_sixty_epochs_loss_and_output_match_the_tutorial_code_exactly(sixty_epochs):
    _, history, outputs = sixty_epochs
    losses, ys, _, _ = tutorial_loop()
    np.testing.assert_allclose(history.loss, losses, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(outputs[:60], ys, rtol=0, atol=1e-12)


def test_grad_norm_history_equals_the_tutorial_code(sixty_epochs):
    """``history.grad_norm`` is the tutorial's ``np.sqrt(dL_dw1**2 + dL_db1**2 + …)`` per epoch."""
    _, history, _ = sixty_epochs
    _, _, grad_norms, _ = tutorial_loop()
    assert len(history.grad_norm) == 60
    # As y → t the norm shrinks to ~1e-4 and y − t cancels, so the agreement is absolute (1 ulp
    # of y) rather than relative.
    np.testing.assert_allclose(history.grad_norm, grad_norms, rtol=1e-12, atol=1e-15)
    # The tutorial's observation: the gradient norm goes down with the epochs.
    assert all(b < a for a, b in zip(history.grad_norm, history.grad_norm[1:], strict=False))
