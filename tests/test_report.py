"""Training and comparison reports: the figures hold the model's and the history's numbers (read
back from the SVG), the command line and the estimators write them, and a real browser shows them
whole at a desktop's and a phone's width."""

from __future__ import annotations

import json
import re
import warnings

import numpy as np
import pytest
from chromium import problems, requests, screenshot, session, viewport
from sklearn.datasets import make_moons
from test_browser import OVERFLOW
from test_explain_charts import back, charts

import deltaprop as dp
from deltaprop.cli import main
from deltaprop.metrics import confusion_matrix

browser = pytest.fixture(scope="module")(session)


@pytest.fixture(scope="module")
def moons():
    x, y = make_moons(160, noise=0.25, random_state=0)
    net = dp.Network.from_sizes([2, 12, 2], ["tanh", "softmax"], seed=0)
    h = net.fit(x, y, optimizer="adam", learning_rate=0.02, epochs=25, seed=1,
                validation_data=(x[:40], y[:40]))  # fmt: skip
    html = dp.report(net, h, x, y, settings={"optimizer": "adam"}, classes=["left", "right"])
    return net, h, x, y, html


def test_the_curves_are_the_history(moons):
    net, h, x, y, html = moons
    page = charts(html)
    loss = page["Loss per epoch"]
    for name, values in (("training", h.loss), ("validation", h.val_loss)):
        points = [back(loss, px, py) for px, py in loss["lines"][name]]
        np.testing.assert_allclose([p[0] for p in points], range(1, 26), atol=1e-3)
        np.testing.assert_allclose([p[1] for p in points], values, rtol=1e-4)
    grads = page["Gradient norm per layer ‖∂E/∂θˡ‖"]
    for k in (0, 1):
        ys = [back(grads, px, py)[1] for px, py in grads["lines"][f"layer {k + 1}"]]
        np.testing.assert_allclose(ys, [r[k] for r in h.layer_grad_norms], rtol=1e-4)
    last = page["Gradient norm per layer, last epoch"]["bars"]
    np.testing.assert_allclose(last, h.layer_grad_norms[-1])


def test_the_results_are_the_models(moons):
    net, h, x, y, html = moons
    o = net.predict(x)
    C = confusion_matrix(y, o.argmax(axis=1), 2)
    table = re.search(r'<table class="confusion">.*?</table>', html, re.S)[0]
    cells = [int(v) for v in re.findall(r"<td [^>]*>(\d+)</td>", table)]
    assert cells == C.ravel().tolist() and sum(cells) == 160
    assert "<th>left</th><th>right</th>" in table
    accuracy = np.mean(o.argmax(axis=1) == y)
    assert f"accuracy {accuracy:.4f}" in html
    # the decision regions are predict on the stated grid
    grid = re.search(r'data-grid="([^"]+)"', html)[1].split()
    x0, x1, y0, y1, steps = *map(float, grid[:4]), int(grid[4])
    gx, gy = np.linspace(x0, x1, steps), np.linspace(y0, y1, steps)
    expected = net.predict(np.array([[u, v] for v in gy for u in gx])).argmax(axis=1)
    region = re.search(r'<svg class="chart boundary".*?</svg>', html, re.S)[0]
    cells = [int(c) for c in re.findall(r'<rect [^>]*data-class="(\d)"', region)]
    assert cells == expected.tolist()
    points = [int(c) for c in re.findall(r'<circle [^>]*data-class="(\d)"', region)]
    assert points == y.tolist()
    # every drawn edge carries its weight
    edges = re.findall(r'data-w="([^"]+)" data-edge="(\d+) (\d+) (\d+)"', html)
    assert len(edges) == 2 * 10 + 10 * 2  # 12 hidden units: 9, ⋮ and the last are drawn
    for w, layer, i, j in edges:
        assert float(w) == net.layers[int(layer) - 1].W[int(i), int(j)]


def test_a_regression_report_scatters_prediction_against_truth():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(50, 3))
    y = x @ np.array([1.0, -2.0, 0.5])
    net = dp.Network.from_sizes([3, 6, 1], ["relu", "identity"], seed=0)
    h = net.fit(x, y, learning_rate=0.01, epochs=10, seed=0)
    html = dp.report(net, h, x, y)
    pairs = [tuple(map(float, p.split())) for p in re.findall(r'data-point="([^"]+)"', html)]
    np.testing.assert_array_equal(pairs, np.column_stack([y, net.predict(x)[:, 0]]))
    assert '<table class="confusion">' not in html and "Decision regions" not in html


def test_a_comparison_report_draws_every_run(tmp_path):
    x, y = make_moons(60, noise=0.2, random_state=1)
    net = dp.Network.from_sizes([2, 6, 2], ["tanh", "softmax"], seed=0)
    c = dp.compare(net, x, y, optimizers=["sgd", "momentum", "adam"], epochs=4, batch_size=20)
    path = tmp_path / "c.html"
    html = dp.report(c, path=path, title="three optimizers")
    assert path.read_text(encoding="utf-8") == html
    page = charts(html)
    for name, hist in c.histories.items():
        points = [back(page["Loss per epoch"], px, py) for px, py in
                  page["Loss per epoch"]["lines"][name]]  # fmt: skip
        np.testing.assert_allclose([p[1] for p in points], hist.loss, rtol=1e-4)
        ys = [back(page["Loss per update"], px, py)[1] for px, py in
              page["Loss per update"]["lines"][name]]  # fmt: skip
        np.testing.assert_allclose(ys, hist.update_loss, rtol=1e-4)
    with pytest.raises(TypeError, match="no history"):
        dp.report(c, c.histories["sgd"])


def test_the_command_line_and_the_estimators_write_reports(tmp_path, capsys):
    out, page = tmp_path / "m.deltaprop", tmp_path / "r.html"
    assert main(["train", "iris", "--epochs", "3", "-o", str(out), "-q", "--report",
                 str(page)]) == 0  # fmt: skip
    html = page.read_text(encoding="utf-8")
    assert "deltaprop train iris" in html and "the validation rows" in html
    assert "<th>0</th><th>1</th><th>2</th>" in html  # iris's classes, as the model file has them
    cmp = tmp_path / "c.html"
    assert main(["compare", "iris", "--batch-sizes", "full,1,32", "--epochs", "2",
                 "--report", str(cmp)]) == 0  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split("  ")[0].strip() for ln in lines[-3:]] == [
        "full batch (150)", "stochastic (1)", "mini-batch (32)"]  # fmt: skip
    assert "stochastic (1)" in cmp.read_text(encoding="utf-8")
    assert main(["compare", "iris"]) == 2
    from sklearn.datasets import load_iris

    xi, yi = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = dp.MLPClassifier(hidden_layer_sizes=(5,), max_iter=10, random_state=0).fit(xi, yi)
    html = clf.report(xi, yi)
    assert "MLPClassifier training report" in html and "hidden_layer_sizes" in html
    assert f"accuracy {clf.score(xi, yi):.4f}" in html


def test_reports_show_whole_in_a_browser(browser, tmp_path, moons):
    net, h, x, y, html = moons
    rng = np.random.default_rng(0)
    xr = rng.normal(size=(40, 3))
    reg = dp.Network.from_sizes([3, 5, 1], ["relu", "identity"], seed=0)
    hr = reg.fit(xr, xr.sum(axis=1), epochs=5, seed=0)
    c = dp.compare(net, x, y, batch_sizes=["full", 1, 32], epochs=3)
    pages = {"classifier": html, "regression": dp.report(reg, hr, xr, xr.sum(axis=1)),
             "comparison": dp.report(c)}  # fmt: skip
    for name, text in pages.items():
        page = tmp_path / f"{name}.html"
        page.write_text(text, encoding="utf-8")
        for width in (1200, 400):
            viewport(browser, width)
            events = browser.load(page.as_uri())
            assert problems(events) == [] and requests(events) == [page.as_uri()], name
            found = json.loads(browser.js(OVERFLOW))
            assert found["bad"] == [], (name, width, found["bad"])
            boxes = json.loads(browser.js(
                "JSON.stringify([...document.querySelectorAll('svg.chart')].map(s => {"
                "const r = s.getBoundingClientRect(); return [r.left, r.top + scrollY, r.width,"
                " r.height]}))"))  # fmt: skip
            assert len(boxes) >= 3, name
            x0, y0, w, hgt = boxes[0]
            assert w > 150 and hgt > 80 and x0 + w <= width
            _, _, shot = screenshot(browser, {"x": x0, "y": y0, "width": w, "height": hgt})
            blue = sum(1 for row in shot for k in range(0, len(row), 3) if row[k + 2] > row[k] + 60)
            assert blue > 50, (name, width)  # the first chart's line is drawn
