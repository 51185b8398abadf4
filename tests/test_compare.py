"""dp.compare: every run starts from the same weights and sees the same batches in one order."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

import deltaprop as dp

matplotlib.use("Agg")


@pytest.fixture
def problem():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(40, 3))
    y = (x[:, 0] - x[:, 2] > 0).astype(int)
    return dp.Network.from_sizes([3, 6, 1], ["tanh", "sigmoid"], seed=7), x, y


def test_runs_start_alike_and_see_the_same_batches(problem):
    net, x, y = problem
    start = net.get_weights()
    c = dp.compare(net, x, y, optimizers=["sgd", "adam", {"name": "sgd", "momentum": 0.9}],
                   epochs=3, batch_size=8, seed=11, trace_steps=[0, 4, 7])  # fmt: skip
    assert list(c.histories) == ["sgd", "adam", "sgd (momentum=0.9)"]
    assert all((net.get_weights()[k] == v).all() for k, v in start.items())  # left unchanged
    traces = [h.traces for h in c.histories.values()]
    for steps in zip(*traces, strict=True):
        xs = [t.steps[0].x for t in steps]
        assert all((b == xs[0]).all() for b in xs[1:])  # the same batch at updates 1, 5, 8
    first = [t[0].steps[0] for t in traces]
    for st in first:  # identical start: the same weights, hence the same first gradient
        for layer in range(2):
            np.testing.assert_array_equal(st.W[layer], start[f"W{layer + 1}"])
            np.testing.assert_array_equal(st.dW[layer], first[0].dW[layer])
    # the batches are those of the shuffling seed (5 per epoch): update 4 (from 0) is the first
    # epoch's last batch, update 7 the second epoch's third
    rng = np.random.default_rng(11)
    first_order, second_order = rng.permutation(40), rng.permutation(40)
    np.testing.assert_array_equal(traces[0][1].steps[0].x, x[first_order[32:40]])
    np.testing.assert_array_equal(traces[0][2].steps[0].x, x[second_order[16:24]])


def test_each_run_is_fit_from_the_same_start(problem):
    net, x, y = problem
    c = dp.compare(net, x, y, optimizers=["rmsprop"], epochs=4, batch_size=8, seed=2)
    alone = net.copy()
    h = dp.fit(alone, x, y, optimizer="rmsprop", epochs=4, batch_size=8, seed=2)
    assert c.histories["rmsprop"].loss == h.loss
    for k, v in alone.get_weights().items():
        np.testing.assert_array_equal(c.networks["rmsprop"].get_weights()[k], v)


def test_descent_modes(problem):
    net, x, y = problem
    c = dp.compare(net, x, y, batch_sizes=["full", 1, "8"], epochs=2, seed=0)
    assert list(c.histories) == ["full batch (40)", "stochastic (1)", "mini-batch (8)"]
    assert [h.updates for h in c.histories.values()] == [2, 80, 10]
    assert [len(h.update_loss) for h in c.histories.values()] == [2, 80, 10]
    full = c.histories["full batch (40)"]
    # full batch: each update's loss is its epoch's loss; all runs' first update sees θ₀
    assert full.update_loss == full.loss
    assert full.update_loss[0] == pytest.approx(net.loss(x, y.reshape(-1, 1), "log_loss"))


def test_plot_draws_every_run(problem):
    net, x, y = problem
    c = dp.compare(net, x, y, optimizers=["sgd", "adam"], epochs=3, seed=0)
    ax = c.plot("loss").axes[0]
    assert [ln.get_ydata().tolist() for ln in ax.lines] == [h.loss for h in c.histories.values()]
    ax = c.plot("update_loss").axes[0]
    assert [ln.get_ydata().tolist() for ln in ax.lines] == [
        h.update_loss for h in c.histories.values()
    ]
    ax = c.plot("time").axes[0]
    for ln, h in zip(ax.lines, c.histories.values(), strict=True):
        assert ln.get_xdata().tolist() == pytest.approx(np.cumsum(h.epoch_seconds).tolist())
    assert len(c.plot().axes) == 3
    with pytest.raises(ValueError, match="unknown quantity 'speed'"):
        c.plot("speed")


def test_bad_arguments(problem):
    net, x, y = problem
    with pytest.raises(ValueError, match="either optimizers"):
        dp.compare(net, x, y)
    with pytest.raises(ValueError, match="either optimizers"):
        dp.compare(net, x, y, optimizers=["sgd"], batch_sizes=[1])
    with pytest.raises(ValueError, match="optimizers is empty"):
        dp.compare(net, x, y, optimizers=[])
    with pytest.raises(ValueError, match="batch size 'half'"):
        dp.compare(net, x, y, batch_sizes=["half"])
    with pytest.raises(TypeError, match="seed must be an int"):
        dp.compare(net, x, y, optimizers=["sgd"], seed=None)
    with pytest.raises(TypeError, match="record_update_loss"):
        dp.compare(net, x, y, optimizers=["sgd"], record_update_loss=False)
    c = dp.compare(net, x, y, optimizers=["sgd", "sgd"], epochs=1)
    assert list(c.histories) == ["sgd", "sgd #2"]
