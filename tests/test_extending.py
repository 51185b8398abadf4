"""An activation and a loss, each added in one place, work end to end.

Both are declared here, in this test module only, through the public ``register_activation`` and
``register_loss`` with their formulas, ONNX graph and ``torch.nn`` module:

- softsign ``f(z) = z / (1 + |z|)``, ``f′ = (1 − |a|)²`` from the output;
- log-cosh ``J = Σₖ log(cosh(oₖ − tₖ))``, ``∂J/∂o = tanh(o − t)``.

Then: ``fit`` lowers the loss; the gradients pass ``gradcheck`` and equal torch.autograd's;
``explain`` shows their formulas, with the engine's numbers (checked against torch), in text,
Markdown, HTML and JSON; ``to_onnx`` (run by onnxruntime) and ``to_torch`` reproduce ``predict``.
"""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
import pytest
import torch

import deltaprop as dp
from deltaprop import activations, losses
from deltaprop.activations import ActivationNotation, OnnxGraph, onnx_op
from deltaprop.losses import LossNotation
from deltaprop.notation import Frac, Func, Lit, Num, Paren, Pow, Sum, Sym, join, row, to_text

ONE, TWO = Lit("1"), Lit("2")


def _softsign(z):
    return z / (1 + np.abs(z))


def _softsign_prime(z, a):
    return (1 - np.abs(a)) ** 2  # 1/(1 + |z|)² = (1 − |a|)², as |a| = |z|/(1 + |z|)


def _log_cosh(o, t):
    # log cosh d = |d| + log(1 + e^(−2|d|)) − log 2, without the overflow of cosh
    d = np.abs(o - t)
    return np.sum(d + np.log1p(np.exp(-2 * d)) - np.log(2.0), axis=1)


def _log_cosh_gradient(o, t):
    return np.tanh(o - t)


def _log_cosh_term(o, t):
    return Func("log", [Func("cosh", [row(o, "−", t)])])


@pytest.fixture
def extended():
    """Register softsign and log-cosh for one test; remove them again whatever happens."""
    act = dp.register_activation(
        "softsign",
        _softsign,
        _softsign_prime,
        "z / (1 + |z|)",
        "(1 − |a|)²",
        notation=ActivationNotation(
            lambda z: Frac(z, row(ONE, "+", Func("abs", [z]))),
            lambda z, a: Pow(Paren(row(ONE, "−", Func("abs", [a]))), TWO),
        ),
        onnx=onnx_op("Softsign"),
        # onnxruntime has no float64 Softsign: z / (1 + |z|) in elementary ops
        onnx_float64=OnnxGraph(
            (
                ("Abs", ("z",), "abs", {}),
                ("Add", ("abs", "one"), "den", {}),
                ("Div", ("z", "den"), "a", {}),
            ),
            (("one", 1.0),),
        ),
        torch=lambda nn: nn.Softsign(),
        label="ssign",
    )
    loss = dp.register_loss(
        "log_cosh",
        _log_cosh,
        _log_cosh_gradient,
        "Σ log cosh(o − t)",
        "tanh(o − t)",
        notation=LossNotation(
            Sum("k", _log_cosh_term(Sym("o", "k"), Sym("t", "k"))),
            lambda o, t: join([_log_cosh_term(a, b) for a, b in zip(o, t, strict=True)], "+"),
            lambda o, t, k: Func("tanh", [row(o, "−", t)]),
        ),
    )
    try:
        yield act, loss
    finally:
        activations._REGISTRY.pop("softsign", None)
        losses.LOSSES.pop("log_cosh", None)


def _data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3))
    t = np.stack([np.sin(x[:, 0]) + 0.5 * x[:, 1], x[:, 2] * x[:, 0]], axis=1)
    return x, t


def _torch_gradients(net, x, t):
    """∂E/∂θ of the same network and loss, built from torch's own softsign and log cosh."""
    params, a = [], torch.tensor(x)
    for layer in net.layers:
        W = torch.tensor(layer.W, requires_grad=True)
        b = torch.tensor(layer.b, requires_grad=True)
        params += [W, b]
        z = a @ W.T + b
        a = torch.nn.functional.softsign(z) if layer.activation.name == "softsign" else z
    E = torch.log(torch.cosh(a - torch.tensor(t))).sum(dim=1).mean()
    return dict(zip(net.params(), torch.autograd.grad(E, params), strict=True))


def test_registered_pair_is_known_everywhere(extended):
    act, loss = extended
    assert dp.get_activation("softsign") is act and dp.get_loss("log_cosh") is loss
    assert "softsign" in dp.available_activations() and "log_cosh" in dp.available_losses()


def test_fit_lowers_the_loss_and_gradients_pass_both_oracles(extended):
    x, t = _data()
    net = dp.Network.from_sizes([3, 8, 2], ["softsign", "identity"], seed=3)
    result = dp.gradcheck(net, x, t, "log_cosh")
    assert result.passed, str(result)
    assert result.max_error < 1e-7
    ours = net.gradients(x, t, "log_cosh").as_dict()
    for name, g in _torch_gradients(net, x, t).items():
        np.testing.assert_allclose(ours[name], g.numpy(), rtol=1e-12, atol=1e-15)
    history = net.fit(x, t, loss="log_cosh", optimizer="adam", learning_rate=0.02, epochs=60)
    assert history.loss[-1] < 0.5 * history.loss[0]
    assert net.loss(x, t, "log_cosh") == pytest.approx(
        float(np.mean(_log_cosh(net.predict(x), t))), rel=1e-14
    )


def _trace(steps=1):
    net = dp.Network.from_weights(
        [[[0.4, -0.7], [1.3, 0.2]], [[0.5, -0.9]]], [[0.1, -0.2], [0.05]], ["softsign", "identity"]
    )
    return net, dp.explain(net, [0.5, -1.5], [0.3], learning_rate=0.1, loss="log_cosh", steps=steps)


def test_explain_shows_their_formulas_with_the_engines_numbers(extended):
    net, trace = _trace()
    st = trace.steps[0]
    z, a = st.z[0][0], st.a[1][0]
    o, t = st.output[0, 0], st.t[0, 0]
    # the numbers, against torch: softsign, its derivative, log cosh and its gradient
    zt = torch.tensor(z, requires_grad=True)
    at = torch.nn.functional.softsign(zt)
    (fprime,) = torch.autograd.grad(at.sum(), zt)
    np.testing.assert_allclose(a, at.detach().numpy(), rtol=1e-15)
    np.testing.assert_allclose(st.fprime[0][0], fprime.numpy(), rtol=1e-14)
    assert st.loss == pytest.approx(float(np.log(np.cosh(o - t))), rel=1e-14)
    assert st.dJ_do[0, 0] == pytest.approx(float(np.tanh(o - t)), rel=1e-14)

    def n(v):
        return to_text(Num(float(v)))

    text = trace.to_text()
    for i in range(2):
        zi, ai = f"z{'₁₂'[i]}⁽¹⁾", f"a{'₁₂'[i]}⁽¹⁾"
        assert f"{ai} = {zi}/(1 + abs({zi})) = {n(z[i])}/(1 + abs({n(z[i])})) = {n(a[i])}" in text
        fp = st.fprime[0][0, i]
        f = f"f′({zi}) = (1 − abs(a))² = (1 − abs({n(a[i])}))² = {n(fp)}"
        assert f in text
    assert "Loss per sample: log_cosh, J = Σₖ log(cosh(oₖ − tₖ))." in text
    assert f"E = J = Σₖ log(cosh(oₖ − tₖ)) = log(cosh({n(o)} − {n(t)})) = {n(st.loss)}" in text
    assert f"∂J/∂o₁ = tanh(o₁ − t₁) = tanh({n(o)} − {n(t)}) = {n(st.dJ_do[0, 0])}" in text
    assert "with softsign" not in text and "(1 − |a|)²" in text  # the declared text formula
    markdown = trace.to_markdown()
    assert r"\frac{z_{1}^{(1)}}{1 + \mathrm{abs}\left(z_{1}^{(1)}\right)}" in markdown
    assert r"\sum_{k} \log\left(\mathrm{cosh}\left(o_{k} - t_{k}\right)\right)" in markdown
    html = trace.to_html()
    assert '<mi mathvariant="normal">cosh</mi>' in html and ">ssign</text>" in html
    assert '<mi mathvariant="normal">abs</mi>' in html
    record = json.loads(trace.to_json())
    assert record["activations"] == ["softsign", "identity"]
    assert record["loss_function"] == "log_cosh"
    assert record["a"][0] == a.tolist() and record["loss"] == st.loss


def test_explain_is_fit_for_them(extended):
    """Two worked steps end where two full-batch epochs of ``fit`` end."""
    net, trace = _trace(steps=2)
    history = net.fit([[0.5, -1.5]], [[0.3]], loss="log_cosh", learning_rate=0.1, epochs=2,
                      batch_size=None, shuffle=False)  # fmt: skip
    assert history.loss == pytest.approx([s.loss for s in trace.steps], rel=1e-13)
    for layer, W in zip(net.layers, trace.steps[-1].W_after, strict=True):
        np.testing.assert_allclose(layer.W, W, rtol=1e-13, atol=1e-16)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_onnx_and_torch_reproduce_predict(extended, dtype):
    net = dp.Network.from_sizes([3, 8, 5, 2], ["softsign", "softsign", "identity"], seed=4,
                                dtype=dtype)  # fmt: skip
    x = (np.random.default_rng(5).normal(size=(64, 3)) * 4).astype(dtype)
    expected = net.predict(x)
    tol = {np.float32: 1e-6, np.float64: 1e-13}[dtype]
    model = dp.to_onnx(net)
    ops = [node.op_type for node in model.graph.node]
    assert ops.count("Softsign") == (2 if dtype == np.float32 else 0)
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    out = session.run(None, {"x": x})[0]
    assert out.dtype == dtype
    np.testing.assert_allclose(out, expected, rtol=tol, atol=tol)
    seq = dp.to_torch(net)
    assert sum(isinstance(m, torch.nn.Softsign) for m in seq) == 2
    with torch.no_grad():
        np.testing.assert_allclose(seq(torch.from_numpy(x)).numpy(), expected, rtol=tol, atol=tol)


def test_register_loss_rejects_bad_arguments():
    with pytest.raises(ValueError, match="non-empty string"):
        dp.register_loss("", _log_cosh, _log_cosh_gradient)
    with pytest.raises(TypeError, match="callables"):
        dp.register_loss("broken_loss", _log_cosh, "not a function")
    assert "broken_loss" not in dp.available_losses()


def test_the_guide_runs():
    """docs/extending.md's two declarations, run as written (in a fresh process: they register)."""
    import re
    import subprocess
    import sys
    from pathlib import Path

    guide = Path(__file__).resolve().parents[1] / "docs" / "extending.md"
    code = "\n".join(re.findall(r"```python\n(.*?)```", guide.read_text(encoding="utf-8"), re.S))
    code += (
        "\nnet = dp.Network.from_sizes([2, 3, 1], ['softsign', 'identity'], seed=0)"
        "\nx, t = np.array([[0.5, -1.0], [1.0, 2.0]]), np.array([[0.3], [0.1]])"
        "\nassert dp.gradcheck(net, x, t, 'log_cosh').passed"
        "\nprint(dp.explain(net, x[:1], t[:1], 0.1, loss='log_cosh').to_text())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "a₁⁽¹⁾ = z₁⁽¹⁾/(1 + abs(z₁⁽¹⁾)) = " in out.stdout
    assert "∂J/∂o₁ = tanh(o₁ − t₁) = tanh(" in out.stdout
