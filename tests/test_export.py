"""Export: onnxruntime and torch.nn.Sequential compute what Network.predict computes."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch
from netcases import ACTIVATIONS

import deltaprop as dp
from deltaprop.datasets import make_moons
from deltaprop.export import ONNX_IR_VERSION, ONNX_OPSET, to_onnx, to_torch

TOLERANCE = {np.float32: 1e-6, np.float64: 1e-12}


def assert_close(out, ref):
    """Equal to ``tol`` times the outputs' scale: a few ulps of three layers' dot products."""
    tol = TOLERANCE[ref.dtype.type] * max(1.0, float(np.abs(ref).max()))
    np.testing.assert_allclose(out, ref, rtol=10 * TOLERANCE[ref.dtype.type], atol=tol)


def _network(act, dtype):
    """Three layers of ``act``, the middle one bias-free, with non-zero biases."""
    net = dp.Network.from_sizes([5, 16, 7, 3], act, bias=[True, False, True], seed=1, dtype=dtype)
    rng = np.random.default_rng(2)
    for layer in net.layers:
        if layer.b is not None:
            layer.b[:] = rng.normal(size=layer.b.shape)
    return net


def _x(dtype, n=200):
    # scale 6: pre-activations reach well into saturation and the negative branches
    return (np.random.default_rng(0).normal(size=(n, 5)) * 6).astype(dtype)


def _run_onnx(model, x):
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return session.run(None, {"x": x})[0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("act", ACTIVATIONS)
def test_onnxruntime_matches_predict(act, dtype):
    net, x = _network(act, dtype), _x(dtype)
    model = to_onnx(net)
    out = _run_onnx(model, x)
    assert out.dtype == dtype and out.shape == (200, 3)
    assert_close(out, net.predict(x))
    ops = [node.op_type for node in model.graph.node]
    assert ops.count("Gemm") == 3
    # Each layer's activation is the graph it declares (float64: its decomposition, if any) ...
    f = dp.get_activation(act)
    graph = f.onnx_float64 if dtype == np.float64 and f.onnx_float64 is not None else f.onnx
    for op in {op for op, *_ in graph.nodes}:
        assert ops.count(op) == 3 * [node[0] for node in graph.nodes].count(op)
    # ... in opset 17's operators: GELU has no op there, SiLU none anywhere
    assert not {"Gelu", "Swish", "SiLU"} & set(ops)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("act", ACTIVATIONS)
def test_torch_sequential_matches_predict(act, dtype):
    net, x = _network(act, dtype), _x(dtype)
    seq = to_torch(net)
    linears = [m for m in seq if isinstance(m, torch.nn.Linear)]
    assert len(seq) == (3 if act == "identity" else 6) and len(linears) == 3
    for layer, linear in zip(net.layers, linears, strict=True):
        assert linear.weight.dtype == (torch.float64 if dtype == np.float64 else torch.float32)
        assert linear.weight.detach().numpy().tobytes() == layer.W.tobytes()
        assert (linear.bias is None) == (layer.b is None)
    with torch.no_grad():
        out = seq(torch.from_numpy(x)).numpy()
    assert_close(out, net.predict(x))


def test_trained_network_exports_both_ways(tmp_path):
    x, y = make_moons(200, noise=0.2, seed=0)
    net = dp.Network.from_sizes([2, 12, 2], ["tanh", "softmax"], seed=0, dtype=np.float32)
    history = net.fit(x, y, optimizer="adam", learning_rate=0.05, epochs=30, seed=0)
    assert history.accuracy[-1] > 0.9  # a network worth exporting
    to_onnx(net, tmp_path / "moons.onnx")
    loaded = onnx.load(tmp_path / "moons.onnx")
    assert loaded.opset_import[0].version == ONNX_OPSET and loaded.ir_version == ONNX_IR_VERSION
    x32 = x.astype(np.float32)
    assert_close(_run_onnx(loaded, x32), net.predict(x32))
    with torch.no_grad():
        out = to_torch(net)(torch.from_numpy(x32)).numpy()
    assert_close(out, net.predict(x32))


def test_graph_declares_dynamic_batch_and_types():
    model = to_onnx(_network("relu", np.float64), input_name="features", output_name="scores")
    (inp,), (out,) = model.graph.input, model.graph.output
    assert (inp.name, out.name) == ("features", "scores")
    assert inp.type.tensor_type.elem_type == onnx.TensorProto.DOUBLE
    dims = [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim]
    assert dims == ["n", 5]


def test_custom_activation_is_refused(monkeypatch):
    dp.register_activation("square_export", lambda z: z * z, lambda z, a: 2 * z)
    net = dp.Network.from_sizes([2, 3, 1], ["square_export", "identity"], seed=0)
    with pytest.raises(ValueError, match="'square_export'.*no ONNX equivalent"):
        to_onnx(net)
    with pytest.raises(ValueError, match="no PyTorch equivalent"):
        to_torch(net)


@pytest.mark.parametrize(
    ("module", "fn", "extra"), [("onnx", to_onnx, "onnx"), ("torch", to_torch, "torch")]
)
def test_missing_extra_names_it(monkeypatch, module, fn, extra):
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` raise ImportError
    with pytest.raises(ImportError, match=rf"pip install 'deltaprop\[{extra}\]'"):
        fn(_network("relu", np.float32))


def test_importing_deltaprop_imports_no_optional_extra():
    code = (
        "import sys, deltaprop; "
        "print(sorted(m for m in ('onnx', 'onnxruntime', 'torch', 'click', 'tqdm') "
        "if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
