"""One training step (:class:`deltaprop.step.TrainingStep`) against torch.autograd.

The batch error ``E = Σᵢ wᵢ J(oᵢ, tᵢ) / Σᵢ wᵢ + (λ/2) Σₗ ‖Wˡ‖²`` (biases not decayed) is written
out in torch; its gradient by autograd, and plain SGD's ``θ − η ∂E/∂θ`` by hand, are the oracle
for every phase: evaluate, backward, penalise, update, and the whole step.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import deltaprop as dp
from deltaprop.step import StepResult, TrainingStep, targets_normalised

LR = 0.1


def _problem(n=4, seed=0):
    rng = np.random.default_rng(seed)
    net = dp.Network.from_sizes([3, 4, 2], ["tanh", "identity"], seed=seed)
    x, t = rng.normal(size=(n, 3)), rng.normal(size=(n, 2))
    w = rng.uniform(0.5, 2.0, size=n)
    return net, x, t, w


def _torch_error(net, x, t, w, l2):
    """E and ∂E/∂θ by autograd, for the squared error ½‖o − t‖²."""
    p = {k: torch.tensor(v, requires_grad=True) for k, v in net.params().items()}
    h = torch.tanh(torch.tensor(x) @ p["W1"].T + p["b1"])
    o = h @ p["W2"].T + p["b2"]
    J = 0.5 * ((o - torch.tensor(t)) ** 2).sum(dim=1)
    wt = torch.ones(len(x), dtype=torch.float64) if w is None else torch.tensor(w)
    data = (wt * J).sum() / wt.sum()
    penalty = 0.5 * l2 * ((p["W1"] ** 2).sum() + (p["W2"] ** 2).sum())
    (data + penalty).backward()
    grads = {k: v.grad.numpy() for k, v in p.items()}
    return data.item(), penalty.item(), o.detach().numpy(), grads


def _ready(net, x, t, optimizer=None):
    state = optimizer.init(net.params()) if optimizer is not None else None
    step = TrainingStep(net, "squared_error", optimizer, state)
    ws = net.workspace(len(x))
    ws.x[...] = x
    ws.t[...] = t
    return step, ws


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("l2", [0.0, 0.3])
def test_whole_step_is_sgd_on_the_penalised_weighted_error(weighted, l2):
    net, x, t, w = _problem()
    w = w if weighted else None
    before = net.get_weights()
    data, penalty, o, grads = _torch_error(net, x, t, w, l2)
    step, ws = _ready(net, x, t, dp.get_optimizer("sgd", learning_rate=LR))
    result = step(ws, w, l2)
    assert isinstance(result, StepResult) and result.finite
    assert result.data_loss == pytest.approx(data, rel=1e-13)
    assert result.penalty == pytest.approx(penalty, rel=1e-13, abs=0.0)
    assert result.loss == pytest.approx(data + penalty, rel=1e-13)
    np.testing.assert_allclose(result.output, o, rtol=1e-13)
    got = result.gradients.as_dict()
    for k, v in net.params().items():
        np.testing.assert_allclose(got[k], grads[k], rtol=1e-11, atol=1e-14, err_msg=k)
        np.testing.assert_allclose(v, before[k] - LR * grads[k], rtol=1e-12, atol=1e-14)


def test_evaluate_is_the_forward_pass_and_E_only():
    net, x, t, _ = _problem()
    before = net.get_weights()
    data, penalty, o, _ = _torch_error(net, x, t, None, 0.2)
    step, ws = _ready(net, x, t)
    result = step.evaluate(ws, None, 0.2)
    assert result.data_loss == pytest.approx(data, rel=1e-13)
    assert result.penalty == pytest.approx(penalty, rel=1e-13)
    assert result.gradients is None
    np.testing.assert_allclose(result.output, o, rtol=1e-13)
    assert step.evaluate(ws).penalty == 0.0  # no λ: no penalty term
    for k, v in net.params().items():
        np.testing.assert_array_equal(v, before[k])


def test_gradients_are_phases_one_to_three_without_an_update():
    net, x, t, w = _problem(5, seed=1)
    before = net.get_weights()
    data, penalty, _, grads = _torch_error(net, x, t, w, 0.5)
    step, ws = _ready(net, x, t)  # no optimizer: an update would fail
    result = step.gradients(ws, w, 0.5)
    assert result.loss == pytest.approx(data + penalty, rel=1e-13)
    assert result.gradients is ws.gradients
    for k, g in ws.grads_by_name.items():
        np.testing.assert_allclose(g, grads[k], rtol=1e-11, atol=1e-14, err_msg=k)
    for k, v in net.params().items():
        np.testing.assert_array_equal(v, before[k])


def test_penalise_adds_lambda_W_to_the_weights_gradients_only():
    net, x, t, _ = _problem()
    step, ws = _ready(net, x, t)
    step.backward(ws)
    plain = {k: g.copy() for k, g in ws.grads_by_name.items()}
    step.penalise(ws, 0.0)  # λ = 0 leaves them alone
    for k, g in ws.grads_by_name.items():
        np.testing.assert_array_equal(g, plain[k])
    step.penalise(ws, 0.25)
    for k, g in ws.grads_by_name.items():
        want = plain[k] + (0.25 * net.params()[k] if k.startswith("W") else 0.0)
        np.testing.assert_allclose(g, want, rtol=1e-15, atol=1e-17, err_msg=k)


def test_a_non_finite_error_stops_the_step_before_anything_changes():
    net, x, t, _ = _problem()
    t[1, 0] = np.inf  # J(o, t) of sample 1 is infinite
    opt = dp.get_optimizer("momentum", learning_rate=LR, momentum=0.9)
    step, ws = _ready(net, x, t, opt)
    ws.gradients.flat[...] = 7.0  # whatever the previous batch left
    before = net.get_weights()
    result = step(ws)
    assert not result.finite and math.isinf(result.loss)
    assert result.gradients is None
    np.testing.assert_array_equal(ws.gradients.flat, 7.0)  # no backward pass
    for k, v in net.params().items():
        np.testing.assert_array_equal(v, before[k])
    assert step.state["step"] == 0  # the optimizer did not count a step
    for a in step.state["velocity"].values():
        np.testing.assert_array_equal(a, 0.0)


def test_step_result_loss_and_finiteness():
    out = np.zeros((1, 1))
    assert StepResult(1.5, 0.25, out).loss == 1.75
    assert StepResult(1.5, 0.25, out).finite
    assert not StepResult(np.nan, 0.0, out).finite
    assert not StepResult(1.0, np.inf, out).finite


def test_targets_normalised_is_true_or_unknown():
    assert targets_normalised(np.eye(3)[[0, 2, 1]]) is True
    assert targets_normalised(np.array([[0.25, 0.75], [0.5, 0.5]])) is True
    assert targets_normalised(np.array([[0.25, 0.75], [0.5, 0.4]])) is None
    assert targets_normalised(np.array([[1.0, 1e-12]])) is None  # only exact sums count


def test_without_lambda_neither_the_error_nor_the_gradient_is_penalised():
    """``l2`` defaults to 0 in both ``__call__`` and ``gradients``."""
    net, x, t, _ = _problem(seed=2)
    data, _, _, grads = _torch_error(net, x, t, None, 0.0)
    before = net.get_weights()
    step, ws = _ready(net.copy(), x, t)
    result = step.gradients(ws)
    assert result.penalty == 0.0 and result.loss == pytest.approx(data, rel=1e-13)
    for k, g in ws.grads_by_name.items():
        np.testing.assert_allclose(g, grads[k], rtol=1e-11, atol=1e-14, err_msg=k)
    step, ws = _ready(net, x, t, dp.get_optimizer("sgd", learning_rate=LR))
    assert step(ws).penalty == 0.0
    for k, v in net.params().items():
        np.testing.assert_allclose(v, before[k] - LR * grads[k], rtol=1e-12, atol=1e-14)


def test_huge_weights_without_lambda_give_a_finite_error():
    """‖W‖² of weights near 1e200 overflows to ∞, and 0·∞ is NaN: with λ = 0 the penalty must not
    be computed at all, or a finite error would read as a diverged one."""
    W1 = np.array([[1e200, -1e200], [2.0, 1.0]])
    net = dp.Network.from_weights([W1, [[0.5, -0.5]]], [[0.0, 0.0], [0.1]], ["tanh", "identity"])
    x, t = np.array([[1.0, 0.5]]), np.array([[0.25]])
    step, ws = _ready(net, x, t, dp.get_optimizer("sgd", learning_rate=LR))
    with np.errstate(over="ignore"):
        result = step(ws)
    o = 0.5 * np.tanh(0.5e200) - 0.5 * np.tanh(2.5) + 0.1
    assert result.finite and result.penalty == 0.0
    assert result.data_loss == pytest.approx(0.5 * (o - 0.25) ** 2, rel=1e-14)


def test_a_check_of_the_targets_made_once_is_not_repeated_per_batch(monkeypatch):
    """Softmax + cross-entropy: ``target_rows_sum_to_one=True`` (fit checked every target once)
    spares the backward pass its own check of the batch; without it, each batch checks."""
    import deltaprop.losses as losses

    calls = []
    real = losses.rows_sum_to_one

    def counting(t, exact=False):
        calls.append(t.shape)
        return real(t, exact)

    monkeypatch.setattr(losses, "rows_sum_to_one", counting)
    rng = np.random.default_rng(4)
    net = dp.Network.from_sizes([3, 4, 3], ["tanh", "softmax"], seed=4)
    x, t = rng.normal(size=(6, 3)), np.eye(3)[rng.integers(0, 3, 6)]
    for told, checks in [(True, 0), (None, 1)]:
        calls.clear()
        step = TrainingStep(net, "cross_entropy", target_rows_sum_to_one=told)
        ws = net.workspace(6)
        ws.x[...], ws.t[...] = x, t
        step.gradients(ws)
        assert len(calls) == checks, told
        np.testing.assert_allclose(ws.gradients.deltas[-1], net.predict(x) - t, rtol=1e-13)
