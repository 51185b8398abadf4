"""The worked solution is training's own step: explain and fit's recorded steps equal fit's.

``explain`` and ``fit`` both run :class:`deltaprop.step.TrainingStep` (one forward, one backward,
the same optimizer dispatch), so the parameters, gradients and optimizer state a worked solution
shows are the very arrays training computes — for every optimizer, in float32 and float64.
``fit``'s ``trace_steps`` records updates of a real run (shuffled mini-batches, a schedule, L2)
the same way.
"""

from __future__ import annotations

import numpy as np
import pytest

import deltaprop as dp
from deltaprop.render import FORMATS

OPTIMIZERS = {
    "sgd": {"name": "sgd", "learning_rate": 0.1},
    "sgd_weight_decay": {"name": "sgd", "learning_rate": 0.1, "weight_decay": 0.05},
    "momentum": {"name": "momentum", "learning_rate": 0.1, "momentum": 0.9},
    "nesterov": {"name": "nesterov", "learning_rate": 0.1, "momentum": 0.9},
    "adagrad": {"name": "adagrad", "learning_rate": 0.1, "lr_decay": 0.1},
    "adadelta": {"name": "adadelta", "learning_rate": 1.0},
    "rmsprop": {"name": "rmsprop", "learning_rate": 0.01},
    "rmsprop_centered_momentum": {
        "name": "rmsprop", "learning_rate": 0.01, "centered": True, "momentum": 0.5,
    },  # fmt: skip
    "adam": {"name": "adam", "learning_rate": 0.01},
    "adamw": {"name": "adamw", "learning_rate": 0.01, "weight_decay": 0.1},
}


def _problem(dtype, n=5):
    rng = np.random.default_rng(3)
    net = dp.Network.from_sizes([3, 4, 2], ["tanh", "softmax"], seed=1, dtype=dtype)
    x = rng.normal(size=(n, 3))
    y = rng.integers(0, 2, size=n)
    return net, x, np.eye(2)[y]


def _state_arrays(state):
    return {(slot, k): v for slot, d in state.items() if slot != "step" for k, v in d.items()}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("variant", sorted(OPTIMIZERS))
def test_explain_steps_equal_fit_bit_for_bit(variant, dtype):
    net, x, t = _problem(dtype)
    trace = dp.explain(net, x, t, optimizer=OPTIMIZERS[variant], steps=2)
    trained = net.copy()
    history = trained.fit(x, t, optimizer=OPTIMIZERS[variant], epochs=2, batch_size=None,
                          shuffle=False, trace_steps=[0, 1])  # fmt: skip
    last = trace.steps[-1]
    for i, layer in enumerate(trained.layers):
        np.testing.assert_array_equal(last.W_after[i], layer.W)
        np.testing.assert_array_equal(last.b_after[i], layer.b)
    fit_state = _state_arrays(history.optimizer_state)
    for key, value in _state_arrays(last.state_after).items():
        np.testing.assert_array_equal(value, fit_state[key], err_msg=str(key))
    assert last.state_after["step"] == history.optimizer_state["step"] == 2
    # fit's own records of the two updates hold the same gradients, deltas and z as explain
    for st, recorded in zip(trace.steps, history.traces, strict=True):
        (rec,) = recorded.steps
        for ours, theirs in zip(st.dW + st.deltas + st.z, rec.dW + rec.deltas + rec.z, strict=True):
            np.testing.assert_array_equal(ours, theirs)
        assert st.loss == rec.loss


def test_explain_leaves_the_network_as_it_was():
    net, x, t = _problem("float64")
    before = net.get_weights()
    dp.explain(net, x, t, optimizer="adam", steps=3)
    for k, v in net.get_weights().items():
        np.testing.assert_array_equal(v, before[k])


def _run(trace_steps=()):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(22, 3))
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype(int)
    net = dp.Network.from_sizes([3, 5, 2], ["sigmoid", "softmax"], seed=2)
    h = net.fit(x, y, optimizer={"name": "momentum", "momentum": 0.9}, learning_rate=0.5,
                epochs=3, batch_size=4, seed=7, l2=0.01, schedule="exponential",
                trace_steps=trace_steps)  # fmt: skip
    return net, h


def test_recorded_steps_of_a_real_run_are_its_updates():
    """Shuffled mini-batches (22 samples, batch 4: 6 updates an epoch, the last of 2 samples), an
    exponential schedule and L2: each recorded update starts from the previous one's result, the
    last ends at the trained weights, and recording changes nothing."""
    plain, _ = _run()
    net, h = _run(trace_steps=[4, 5, 6, 17])
    assert [tr.steps[0].step for tr in h.traces] == [5, 6, 7, 18]
    for a, b in zip(plain.layers, net.layers, strict=True):  # recording perturbs nothing
        np.testing.assert_array_equal(a.W, b.W)
    s5, s6, s7, s18 = (tr.steps[0] for tr in h.traces)
    assert s6.n == 2 and s5.n == 4 and s7.n == 4  # the short last batch of epoch 1
    for before, after in ((s5, s6), (s6, s7)):
        for w_after, w_next in zip(before.W_after, after.W, strict=True):
            np.testing.assert_array_equal(w_after, w_next)
    for w_after, layer in zip(s18.W_after, net.layers, strict=True):
        np.testing.assert_array_equal(w_after, layer.W)
    # the learning rate the step used is the schedule's for its epoch (0.9 decay by default)
    sched = dp.schedules.get_schedule("exponential")
    assert h.traces[0].optimizer.learning_rate == sched.learning_rate(0, 0.5)
    assert h.traces[2].optimizer.learning_rate == sched.learning_rate(1, 0.5)
    assert h.traces[3].optimizer.learning_rate == sched.learning_rate(2, 0.5)
    # the gradient the optimizer received is the data gradient plus λW (biases not decayed) …
    assert s7.l2 == 0.01
    for i, (dW, W) in enumerate(zip(s7.dW, s7.W, strict=True), start=1):
        np.testing.assert_allclose(s7.g[f"W{i}"], dW + 0.01 * W, rtol=1e-15, atol=1e-17)
        np.testing.assert_array_equal(s7.g[f"b{i}"], s7.db[i - 1])
    # … the data gradient is that of the recorded batch, by central finite differences
    start = dp.Network.from_weights(s7.W, s7.b, ["sigmoid", "softmax"])
    check = dp.gradcheck(start, s7.x, s7.t, "cross_entropy")
    assert check.passed, str(check)
    np.testing.assert_allclose(s7.dW[0], check.numeric["W1"], rtol=1e-6, atol=1e-9)
    # … and momentum's update is v ← μv + g, θ ← θ − ηv with the step's own numbers
    v = 0.9 * s7.state_before["velocity"]["W2"] + s7.g["W2"]
    np.testing.assert_allclose(s7.state_after["velocity"]["W2"], v, rtol=1e-14)
    lr = h.traces[2].optimizer.learning_rate
    np.testing.assert_allclose(s7.W_after[1], s7.W[1] - lr * v, rtol=1e-14)


@pytest.mark.parametrize("fmt", FORMATS)
def test_recorded_steps_render_like_explain(fmt):
    _, h = _run(trace_steps=[6])
    text = h.traces[0].render(fmt)
    assert len(text) > 1000
    w = f"{h.traces[0].steps[0].W_after[1][0, 0]:.4f}"
    assert w.lstrip("-") in text


def test_a_recorded_step_with_l2_shows_the_gradient_the_optimizer_received():
    _, h = _run(trace_steps=[6])
    st = h.traces[0].steps[0]
    text = h.traces[0].to_text(decimals=6)
    assert "L2 penalty" in text and "λ = 0.01" in text
    g, dW, w = st.g["W1"][0, 1], st.dW[0][0, 1], st.W[0][0, 1]
    assert g == dW + 0.01 * w
    line = next(ln for ln in text.splitlines() if ln.strip().startswith("g₁₂⁽¹⁾ ="))
    assert line.rstrip().endswith(f"= {g:.6f}".replace("-", "−"))
    velocity = next(ln for ln in text.splitlines() if ln.strip().startswith("v₁₂⁽¹⁾ ←"))
    assert f"{abs(g):.6f}" in velocity  # momentum's v ← μv + g takes the gradient with the penalty


@pytest.mark.parametrize("bad", [3, "0", [-1], [1.5]])
def test_bad_trace_steps_are_refused(bad):
    net, x, t = _problem("float64")
    with pytest.raises((TypeError, ValueError), match="trace_steps"):
        net.fit(x, t, epochs=1, trace_steps=bad)


def test_the_old_trace_step_still_works_and_says_what_replaces_it():
    from deltaprop.losses import get_loss
    from deltaprop.trace import trace_step

    net = dp.Network.from_weights([[[0.4]], [[0.3]]], [[0.1], [0.2]], ["sigmoid", "identity"])
    opt = dp.get_optimizer("sgd", learning_rate=0.1)
    with pytest.warns(DeprecationWarning, match="record_step"):
        st = trace_step(net, np.array([[0.5]]), np.array([[0.6]]), get_loss("squared_error"),
                        opt, opt.init(net.params()))  # fmt: skip
    # the tutorial's step (seed 001): ∂E/∂w1 = −0.00835, ∂E/∂w2 = −0.1308
    np.testing.assert_allclose([st.dW[0][0, 0], st.dW[1][0, 0]], [-0.0083483, -0.1307818],
                               atol=5e-7)  # fmt: skip
    np.testing.assert_array_equal(st.W_after[1], net.layers[1].W)  # trained in place
