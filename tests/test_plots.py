"""The plots' data: every figure is checked for what it draws, not only that it draws.

The lines equal the history's records, the decision boundary is ``predict`` on the grid, the
confusion matrix equals scikit-learn's, the network's edges follow its weights. Agg backend.
"""

from __future__ import annotations

import subprocess
import sys

import matplotlib
import numpy as np
import pytest

import deltaprop as dp
from deltaprop import plots
from deltaprop.plots.boundary import grid
from deltaprop.plots.drawing import EXTRA_WIDTH, MIN_WIDTH, edges, shown_units
from deltaprop.render.svg import NEGATIVE, POSITIVE

matplotlib.use("Agg")

X4 = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)
T4 = np.array([[0], [1], [1], [0]], dtype=float)


@pytest.fixture
def trained():
    net = dp.Network.from_sizes([2, 4, 3, 1], ["tanh", "relu", "sigmoid"], seed=3)
    h = net.fit(X4, T4, epochs=12, learning_rate=0.5, batch_size=2, seed=1,
                validation_data=(X4, T4), record_update_loss=True)  # fmt: skip
    return net, h


def _lines(fig):
    return [(np.asarray(ln.get_xdata(), float), np.asarray(ln.get_ydata(), float))
            for ln in fig.axes[0].lines]  # fmt: skip


def test_loss_lines_are_the_history(trained):
    _, h = trained
    (x0, y0), (x1, y1) = _lines(h.plot("loss"))
    assert x0.tolist() == list(range(1, 13)) and y0.tolist() == h.loss
    assert x1.tolist() == list(range(1, 13)) and y1.tolist() == h.val_loss


def test_loss_axis_continues_a_resumed_run(trained):
    net, _ = trained
    h = net.fit(X4, T4, epochs=3, initial_epoch=12, batch_size=None)
    (x, y), = _lines(plots.plot_loss(h))
    assert x.tolist() == [13, 14, 15] and y.tolist() == h.loss


def test_update_loss_line_is_every_update(trained):
    _, h = trained
    assert len(h.update_loss) == h.updates == 24  # 12 epochs of 2 batches
    (x, y), = _lines(h.plot("update_loss"))
    assert x.tolist() == list(range(1, 25)) and y.tolist() == h.update_loss
    # each epoch's loss is the size-weighted mean of its updates' batch errors (equal sizes here)
    per_epoch = np.asarray(h.update_loss).reshape(12, 2).mean(axis=1)
    np.testing.assert_allclose(per_epoch, h.loss, rtol=1e-12)


def test_update_loss_needs_the_record():
    h = dp.Network.from_sizes([2, 1], "sigmoid", seed=0).fit(X4, T4, epochs=2)
    assert h.update_loss == [] and "update_loss" not in h.as_dict()
    with pytest.raises(ValueError, match="record_update_loss=True"):
        h.plot("update_loss")


@pytest.mark.parametrize("kind,record", [("grad_norms", "layer_grad_norms"),
                                         ("delta_norms", "layer_delta_norms")])  # fmt: skip
def test_norm_lines_are_per_layer_on_a_log_scale(trained, kind, record):
    net, h = trained
    fig = getattr(plots, f"plot_{kind}")(h, network=net)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log"
    values = np.asarray(getattr(h, record))
    assert len(ax.lines) == 3
    for layer, line in enumerate(ax.lines):
        assert line.get_ydata().tolist() == values[:, layer].tolist()
        label = net.layers[layer].activation.label
        assert line.get_label().startswith(f"layer {layer + 1} ({label})")


def test_saturation_lines_follow_the_declarations(trained):
    net, h = trained
    ax = h.plot("saturation", network=net).axes[0]
    labels = [ln.get_label() for ln in ax.lines]
    # tanh and sigmoid saturate, ReLU can die: exactly those lines
    assert labels == ["layer 1 (tanh) saturated", "layer 2 (ReLU) dead", "layer 3 (σ) saturated"]
    sat, dead = np.asarray(h.layer_saturation), np.asarray(h.layer_dead)
    assert ax.lines[0].get_ydata().tolist() == sat[:, 0].tolist()
    assert ax.lines[1].get_ydata().tolist() == dead[:, 1].tolist()
    assert ax.lines[2].get_ydata().tolist() == sat[:, 2].tolist()


def test_decision_boundary_is_predict_on_the_grid(trained):
    net, _ = trained
    fig = plots.plot_decision_boundary(net, X4, T4, resolution=50)
    ax = fig.axes[0]
    g0, g1 = grid(X4, 50, 0.1)
    assert g0[0] == pytest.approx(-0.1) and g1[-1] == pytest.approx(1.1)
    image = np.asarray(ax.images[0].get_array())
    # the oracle: predict each grid point one by one, row i at x₂ = g1[i], column j at x₁ = g0[j]
    for i in (0, 17, 49):
        for j in (0, 25, 49):
            o = net.predict([[g0[j], g1[i]]])[0, 0]
            assert image[i, j] == int(o > 0.5)
    assert ax.images[0].get_extent() == [g0[0], g0[-1], g1[0], g1[-1]]
    np.testing.assert_array_equal(ax.collections[-1].get_offsets(), X4)


def test_decision_boundary_of_several_classes_is_argmax():
    net = dp.Network.from_sizes([2, 5, 3], ["tanh", "softmax"], seed=0)
    x = np.random.default_rng(0).normal(size=(30, 2))
    fig = plots.plot_decision_boundary(net, x, np.arange(30) % 3, resolution=20)
    image = np.asarray(fig.axes[0].images[0].get_array())
    g0, g1 = grid(x, 20, 0.1)
    expected = np.array([[net.predict([[a, b]])[0].argmax() for a in g0] for b in g1])
    np.testing.assert_array_equal(image, expected)


def test_decision_boundary_needs_two_inputs():
    with pytest.raises(ValueError, match="two inputs; this network has 3"):
        plots.plot_decision_boundary(dp.Network.from_sizes([3, 1]), np.zeros((2, 3)))


def test_confusion_matrix_equals_scikit_learns():
    from sklearn.metrics import confusion_matrix as sk

    rng = np.random.default_rng(5)
    t, p = rng.integers(0, 4, 200), rng.integers(0, 4, 200)
    expected = sk(t, p, labels=range(4))
    np.testing.assert_array_equal(plots.confusion_matrix(t, p), expected)
    one_hot = np.eye(4)[p]
    fig = plots.plot_confusion_matrix(t, one_hot)
    ax = fig.axes[0]
    np.testing.assert_array_equal(np.asarray(ax.images[0].get_array()), expected)
    assert [int(tx.get_text()) for tx in ax.texts] == expected.ravel().tolist()


def test_predicted_vs_true_scatter():
    t = np.array([1.0, 2.0, 3.0])
    o = np.array([1.5, 1.8, 3.3])
    ax = plots.plot_predicted_vs_true(t, o).axes[0]
    np.testing.assert_array_equal(ax.collections[0].get_offsets(), np.column_stack([t, o]))
    with pytest.raises(ValueError, match="3 values but y_pred has 2"):
        plots.plot_predicted_vs_true(t, o[:2])


def test_network_edges_follow_the_weights():
    net = dp.Network.from_sizes([3, 4, 2], ["tanh", "sigmoid"], seed=2)
    ax = plots.plot_network(net).axes[0]
    (lines,) = ax.collections[:1]
    widths = lines.get_linewidths()
    colours = [matplotlib.colors.to_hex(c) for c in lines.get_colors()]
    w_max = max(abs(ly.W).max() for ly in net.layers)
    k = 0
    for layer in net.layers:  # every edge, in the order: layer, unit i, input j
        for i in range(layer.units):
            for j in range(layer.inputs):
                w = layer.W[i, j]
                assert widths[k] == pytest.approx(MIN_WIDTH + EXTRA_WIDTH * abs(w) / w_max)
                assert colours[k] == (POSITIVE if w >= 0 else NEGATIVE)
                k += 1
    assert k == len(widths) == 3 * 4 + 4 * 2


def test_large_network_is_summarised():
    net = dp.Network.from_sizes([50, 30, 2], "sigmoid", seed=0)
    assert shown_units(50, 10) == [0, 1, 2, 3, 4, 5, 6, 7, 8, 49]
    drawn = edges(net, 10)
    assert len(drawn) == 10 * 10 + 2 * 10
    assert drawn[-1] == (2, 1, 29, float(net.layers[1].W[1, 29]))
    ax = plots.plot_network(net, max_units=10).axes[0]
    assert len(ax.collections[0].get_segments()) == len(drawn)
    assert sum(t.get_text() == "⋮" for t in ax.texts) == 2


def test_ax_draws_into_the_users_axes(trained):
    from matplotlib.figure import Figure

    _, h = trained
    fig = Figure()
    a, b = fig.subplots(1, 2)
    assert h.plot("loss", ax=b) is fig
    assert not a.lines and len(b.lines) == 2


def test_unknown_kind():
    with pytest.raises(ValueError, match="unknown plot kind 'losses'"):
        dp.History(loss=[1.0]).plot("losses")


def test_without_matplotlib_one_clear_error(monkeypatch):
    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib fails
    with pytest.raises(ImportError, match=r"pip install 'deltaprop\[plot\]'"):
        dp.History(loss=[1.0]).plot()


def test_importing_deltaprop_and_training_never_load_matplotlib():
    code = (
        "import sys, numpy as np, deltaprop as dp\n"
        "net = dp.Network.from_sizes([2, 3, 1], seed=0)\n"
        "h = net.fit(np.zeros((4, 2)), np.zeros(4), epochs=2)\n"
        "dp.diagnose(net, np.zeros((4, 2)), np.zeros(4)); print(h)\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
