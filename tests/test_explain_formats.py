"""Every format renders every example; the trace is the engine's own arrays; CLI options work."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import deltaprop as dp
from deltaprop.cli import main
from deltaprop.losses import get_loss, output_delta
from deltaprop.notation import Frac, Lit, Num, Pow, Sym, number_parts, row, to_latex, to_text
from deltaprop.render import FORMATS
from deltaprop.spec import spec_from_dict
from deltaprop.trace import StepTrace

EXAMPLES = sorted((Path(__file__).resolve().parents[1] / "examples").glob("*.[tj][os][mo]*"))
KEYS = ["z", "a", "output", "loss", "deltas", "grad_weights", "grad_biases", "weights_after"]
KEYS += ["biases_after", "output_after", "loss_after"]


def cli(capsys, *args) -> str:
    capsys.readouterr()
    assert main(["explain", *map(str, args)]) == 0
    return capsys.readouterr().out


def test_there_are_four_examples():
    assert [p.name for p in EXAMPLES] == [
        "seed001.toml", "softmax.json", "tanh_no_bias.toml", "xor.toml"
    ]  # fmt: skip


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_every_format_renders_every_example(capsys, example, fmt):
    out = cli(capsys, example, "--format", fmt, "--steps", "2")
    trace = dp.load_spec(example).explain(steps=2)
    last = trace.steps[-1]
    final_loss = f"{last.loss_after:.4f}"
    if fmt == "json":
        records = json.loads(out)
        assert out == trace.to_json() + "\n"
        assert isinstance(records, list) and [r["step"] for r in records] == [1, 2]
        for rec in records:
            for key in KEYS:
                assert key in rec
            for key in ("z", "a", "deltas", "grad_weights", "grad_biases", "weights_after"):
                assert len(rec[key]) == len(trace.sizes) - 1  # one entry per non-input layer
        assert records[1]["loss_after"] == last.loss_after  # full precision
        assert records[1]["weights"] == records[0]["weights_after"]
        return
    assert final_loss in out
    for dW in last.dW:  # every gradient appears, at 4 decimals
        for v in dW.ravel():
            assert to_text(Num(v)) in out or to_latex(Num(v)) in out
    if fmt == "text":
        assert "Step 2 of 2\n===========" in out and "Loss and output per step" in out
    elif fmt == "markdown":
        assert "## Step 2 of 2" in out and "| step | E before |" in out
        for line in out.splitlines():
            assert line.count("$") % 2 == 0, line  # every math span is closed
    else:
        assert out.startswith("<!DOCTYPE html>") and out.count('<svg class="net"') == 2 * last.n


def test_single_step_json_is_one_record_of_vectors(capsys):
    rec = json.loads(cli(capsys, EXAMPLES[0], "--format", "json"))
    assert isinstance(rec, dict)
    assert rec["input"] == [0.5] and rec["output"] == [pytest.approx(0.372332755)]
    assert rec["z"] == [[pytest.approx(0.3)], [pytest.approx(0.372332755)]]
    assert rec["grad_weights"][1] == [[pytest.approx(-0.13078174518838964, rel=1e-14)]]
    assert rec["optimizer"] == {
        "name": "sgd", "learning_rate": 0.1, "weight_decay": 0.0, "momentum": 0.0,
        "nesterov": False,
    }  # fmt: skip


def test_decimals_govern_human_formats_only(capsys):
    two = cli(capsys, EXAMPLES[0], "--decimals", "2")
    assert "σ(0.30) = 0.57" in two and "0.5744" not in two
    six = cli(capsys, EXAMPLES[0], "--decimals", "6")
    assert "σ(0.300000) = 0.574443" in six
    j1 = cli(capsys, EXAMPLES[0], "--format", "json", "--decimals", "1")
    assert j1 == cli(capsys, EXAMPLES[0], "--format", "json")


def test_output_file_format_follows_the_suffix(tmp_path, capsys):
    for name, start in [("a.html", "<!DOCTYPE html>"), ("a.md", "# Worked"), ("a.json", "{")]:
        cli(capsys, EXAMPLES[0], "-o", tmp_path / name)
        assert (tmp_path / name).read_text(encoding="utf-8").startswith(start)
    cli(capsys, EXAMPLES[0], "-o", tmp_path / "b.html", "--format", "text")
    assert (tmp_path / "b.html").read_text(encoding="utf-8").startswith("Worked solution")
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_explain_is_the_training_loop(example):
    """Three worked steps end where three full-batch epochs of ``fit`` end."""
    spec = dp.load_spec(example)
    records = spec.explain(steps=3).steps
    net = spec.network.copy()
    history = net.fit(spec.input, spec.target, loss=spec.loss, optimizer=spec.optimizer,
                      learning_rate=spec.learning_rate, epochs=3, batch_size=None,
                      shuffle=False)  # fmt: skip
    assert history.loss == pytest.approx([r.loss for r in records], rel=1e-12)
    for layer, W, b in zip(net.layers, records[-1].W_after, records[-1].b_after, strict=True):
        np.testing.assert_allclose(layer.W, W, rtol=1e-12, atol=1e-15)
        if b is not None:
            np.testing.assert_allclose(layer.b, b, rtol=1e-12, atol=1e-15)
    # the spec's own network is untouched: explain trains a copy
    assert spec.network.layers[0].W.tolist() == records[0].W[0].tolist()


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_trace_holds_the_engines_arrays(example):
    spec = dp.load_spec(example)
    st: StepTrace = spec.explain().steps[0]
    net, loss = spec.network, get_loss(spec.loss)
    g = net.gradients(st.x, st.t, loss)  # the same kernels: equal to the last bit
    for mine, theirs in zip(st.deltas + st.dW, g.deltas + g.weights, strict=True):
        assert np.array_equal(mine, theirs)
    last = net.layers[-1].activation
    general = output_delta(loss, last, st.z[-1], st.output, st.t, use_shortcut=False)
    assert np.array_equal(st.delta_general, general)
    for i, layer in enumerate(net.layers[:-1]):  # the shown delta-rule sums give the deltas
        d = layer.activation.vjp(st.z[i], st.a[i + 1], st.back[i])
        np.testing.assert_allclose(d, st.deltas[i], rtol=1e-13, atol=1e-16)


def test_output_delta_forms(capsys):
    soft = cli(capsys, EXAMPLES[1])  # softmax + cross-entropy: Jacobian form and shortcut
    assert "the softmax Jacobian" in soft and "(shortcut)" in soft
    assert "The general form and the shortcut agree" in soft
    xor = cli(capsys, EXAMPLES[3])  # sigmoid + squared error: no shortcut
    assert "The shortcut δ = o − t is not valid for a sigmoid output" in xor
    assert "(shortcut)" not in xor
    net = dp.Network.from_weights([[[0.5, -0.5], [0.2, 0.1], [0.0, 0.3]]], None, "softmax")
    mse = dp.explain(net, [1.0, 2.0], [0, 1, 0], learning_rate=0.1, loss="mse").to_text()
    assert "the softmax Jacobian" in mse and "(shortcut)" not in mse
    bad = dp.explain(net, [1.0, 2.0], [0, 0.5, 0], 0.1, loss="cross_entropy").to_text()
    # The engine itself then uses the general form (the shortcut would be wrong), and says why.
    assert "the targets do not sum to 1" in bad and "(shortcut)" not in bad


def test_batches_say_how_they_are_averaged(capsys):
    xor = cli(capsys, EXAMPLES[3])
    assert "The batch has n = 4 samples. Its error is the mean E = (1/n)·Σₛ Jₛ" in xor
    assert "E = (1/4)·Σₛ Jₛ = (1/4)·(0.1135 + 0.1196 + 0.1258 + 0.1299) = 0.1222" in xor
    assert re.search(r"∂E/∂b₁⁽²⁾ = \(1/4\)·Σₛ δ₁⁽²⁾ = \(1/4\)·\(0\.1188 \+ \(−0\.1222\)", xor)


def test_optimizer_state_before_and_after(capsys):
    tanh = cli(capsys, EXAMPLES[2], "--steps", "2")
    assert "velocity before  velocity after" in tanh
    assert "v₁₁⁽¹⁾ ← 0.9·0.0862 + 0.0601 = 0.1376" in tanh  # step 2 uses step 1's velocity
    soft = cli(capsys, EXAMPLES[1])
    assert re.search(r"m before +v before +m after +v after +θ after", soft)
    assert "step counter t: 0 → 1" in soft


def test_math_rendering_rules():
    e = row(Sym("z", "1", "(1)"), "=", Num(0.4), "·", Num(-0.5), "+", Num(-0.1), "=", Num(-0.3))
    assert to_text(e) == "z₁⁽¹⁾ = 0.4000·(−0.5000) + (−0.1000) = −0.3000"
    assert to_latex(e) == "z_{1}^{(1)} = 0.4000 \\cdot (-0.5000) + (-0.1000) = -0.3000"
    assert to_text(Pow(Num(-0.2), Lit("2"))) == "(−0.2000)²"
    assert to_text(row(Frac(Lit("1"), Lit("4")), "·", Sym("J"))) == "(1/4)·J"
    assert number_parts(1.234e-7, 4) == ("1.234", -7)  # tiny values never print as 0.0000
    assert number_parts(-0.00001, 4) == ("-1.000", -5)
    assert number_parts(-0.0, 4) == ("0.0000", None) and number_parts(-4e-5, 4)[1] == -5


def test_render_rejects_unknown_format_and_decimals():
    trace = dp.load_spec(EXAMPLES[0]).explain()
    with pytest.raises(ValueError, match="unknown format 'pdf'"):
        trace.render("pdf")
    with pytest.raises(ValueError, match="decimals must be a whole number from 0 to 15"):
        trace.render("text", 16)


def test_large_networks_get_a_note(tmp_path, capsys):
    rng = np.random.default_rng(0)
    spec = {
        "layers": [40, 30, 2],
        "activations": ["relu", "softmax"],
        "loss": "cross_entropy",
        "weights": [rng.normal(size=(30, 40)).tolist(), rng.normal(size=(2, 30)).tolist()],
        "input": rng.normal(size=40).tolist(),
        "target": [1, 0],
        "learning_rate": 0.1,
    }
    path = tmp_path / "big.json"
    path.write_text(json.dumps(spec))
    capsys.readouterr()
    assert main(["explain", str(path)]) == 0
    out, err = capsys.readouterr()
    assert err == (
        "note: 1260 parameters, each with its own lines: worked solutions are meant for small "
        "networks\n"
    )
    assert out.count("∂E/∂w") > 1260


def test_softmax_targets_not_summing_to_one_show_the_engines_exact_delta():
    """δⱼ = oⱼ Σₖ tₖ − tⱼ with its numbers, and at a saturated output the general form's
    difference is explained rather than passed off as agreement."""
    spec = {
        "layers": [2, 3],
        "activations": ["softmax"],
        "loss": "cross_entropy",
        "weights": [[[40.0, 0.0], [0.0, 0.0], [-40.0, 0.0]]],
        "biases": [[0.0, 0.0, 0.0]],
        "input": [[1.0, 0.0]],
        "target": [[0.0, 0.0, 2.0]],
        "learning_rate": 0.1,
    }
    text = spec_from_dict(spec).explain().to_text()
    net = dp.Network.from_weights(spec["weights"], spec["biases"], activations="softmax")
    delta = net.gradients(np.array(spec["input"]), np.array(spec["target"]), "cross_entropy")
    engine = delta.deltas[-1][0]
    np.testing.assert_allclose(engine, [2.0, 0.0, -2.0], atol=1e-15)  # o·Σt − t, o ≈ (1, 0, 0)
    lines = [ln for ln in text.splitlines() if ln.endswith("(the engine's δ)")]
    assert len(lines) == 3
    for line, value in zip(lines, engine, strict=True):
        assert line.split("=")[-1].split()[0] == f"{value:.4f}".replace("-", "−")
    prose = " ".join(text.split())  # paragraphs are wrapped
    assert "The general form differs from it by up to 2.0e+00" in prose
    assert "clipped to ε" in prose


def test_silu_and_gelu_explain_in_every_format_with_torchs_numbers():
    """Their formulas, symbolic and with the engine's numbers, which torch's F.silu and
    F.gelu(approximate="tanh") and their autograd derivatives reproduce."""
    import torch

    net = dp.Network.from_weights(
        [[[0.4, -0.7], [1.3, 0.2]], [[0.5, -0.9]]], [[0.1, -0.2], [0.05]], ["gelu", "silu"]
    )
    trace = dp.explain(net, [0.5, -1.5], [0.3], learning_rate=0.1)
    st = trace.steps[0]
    for layer, fn in ((0, lambda z: torch.nn.functional.gelu(z, approximate="tanh")),
                      (1, torch.nn.functional.silu)):  # fmt: skip
        zt = torch.tensor(st.z[layer], requires_grad=True)
        a = fn(zt)
        (fprime,) = torch.autograd.grad(a.sum(), zt)
        np.testing.assert_allclose(st.a[layer + 1], a.detach().numpy(), rtol=1e-14)
        np.testing.assert_allclose(st.fprime[layer], fprime.numpy(), rtol=1e-13)

    def n(v):
        return to_text(Num(float(v)))

    z1, a1, z2, a2 = st.z[0][0, 0], st.a[1][0, 0], st.z[1][0, 0], st.a[2][0, 0]
    text = trace.to_text()
    u = f"√(2/π)·({n(z1)} + 0.044715·{n(z1)}³)"
    assert "a₁⁽¹⁾ = ½·z₁⁽¹⁾·(1 + tanh(√(2/π)·(z₁⁽¹⁾ + 0.044715·z₁⁽¹⁾³))) = " in text
    assert f"= ½·{n(z1)}·(1 + tanh({u})) = {n(a1)}" in text
    assert f"a₁⁽²⁾ = z₁⁽²⁾·σ(z₁⁽²⁾) = {n(z2)}·σ({n(z2)}) = {n(a2)}" in text
    silu_prime = f"σ({n(z2)})·(1 + {n(z2)}·(1 − σ({n(z2)}))) = {n(st.fprime[1][0, 0])}"
    assert f"f′(z₁⁽²⁾) = σ(z)·(1 + z·(1 − σ(z))) = {silu_prime}" in text
    gelu_prime = f"·√(2/π)·(1 + 0.134145·{n(z1)}²) = {n(st.fprime[0][0, 0])}"
    assert gelu_prime in text
    markdown = trace.to_markdown()
    assert r"\sqrt{\frac{2}{\pi}}" in markdown and r"\sigma\left(z_{1}^{(2)}\right)" in markdown
    html = trace.to_html()
    assert "<msqrt>" in html and ">GELU</text>" in html and ">SiLU</text>" in html
    record = json.loads(trace.to_json())
    assert record["activations"] == ["gelu", "silu"] and record["a"][1] == st.a[2][0].tolist()


def test_a_shortcut_pair_without_a_declared_reason_renders():
    """MLPRegressor(loss="poisson")'s exp output and Poisson loss share δ = o − t but declare no
    reason text (explain raised KeyError: 'exp'); the worked solution names the pair instead."""
    import warnings

    x = np.random.default_rng(0).normal(size=(20, 2))
    y = np.abs(x[:, 0]) + 0.1
    est = dp.MLPRegressor(loss="poisson", hidden_layer_sizes=(3,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # not converged in 5 iterations: not the point here
        est.fit(x, y)
    trace = est.explain(x[:2], y[:2])
    text = " ".join(trace.to_text().split())
    assert "Shortcut δ = o − t: valid for exp output, poisson loss." in text
    st = trace.steps[0]
    np.testing.assert_array_equal(st.deltas[-1], st.output - st.t)
    for fmt in ("markdown", "html"):
        assert "valid for exp output, poisson loss" in trace.render(fmt)


@pytest.mark.parametrize("act", ["relu", "leaky_relu", "elu"])
def test_piecewise_derivatives_name_the_piece_that_holds(act):
    """z₁ > 0 and z₂ ≤ 0: each f′ line says which piece of f it is on; ELU's negative piece
    has a formula, f′ = a + 1, with its number substituted."""
    net = dp.Network.from_weights(
        [[[1.0], [-1.0]], [[0.5, 0.5]]], [[0.0, 0.0], [0.0]], [act, "identity"]
    )
    trace = dp.explain(net, [0.7], [0.2], 0.1)
    st = trace.steps[0]
    text = trace.to_text()
    assert f"f′(z₁⁽¹⁾) = {to_text(Num(st.fprime[0][0, 0]))}    (as z > 0)" in text
    if act == "elu":
        a2 = to_text(Num(st.a[1][0, 1]))
        assert (
            f"f′(z₂⁽¹⁾) = a + 1 = {a2} + 1 = {to_text(Num(st.fprime[0][0, 1]))}    (as z ≤ 0)"
            in text
        )
    else:
        assert f"f′(z₂⁽¹⁾) = {to_text(Num(st.fprime[0][0, 1]))}    (as z ≤ 0)" in text
