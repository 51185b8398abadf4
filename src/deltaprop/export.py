"""Export a network to the tools users graduate to: ONNX and PyTorch.

Both compute what :meth:`Network.predict` computes: per layer ``z = a Wᵀ + b``, then ``a = f(z)``,
with the same weights in the same dtype. ``onnx`` and ``torch`` are optional extras
(``deltaprop[onnx]``, ``deltaprop[torch]``), imported only when these functions are called.
"""

from __future__ import annotations

import importlib
import os
from typing import TYPE_CHECKING

import numpy as np

from .network import Network

if TYPE_CHECKING:
    import onnx
    import torch

ONNX_OPSET = 17
ONNX_IR_VERSION = 8  # the IR version of opset 17: readable by every onnxruntime since 1.11


def _require(module: str, extra: str, caller: str):
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(
            f"{caller} needs {module.split('.')[0]}: pip install 'deltaprop[{extra}]'"
        ) from None


def _check_exportable(network: Network, target: str) -> None:
    if not isinstance(network, Network):
        raise TypeError(f"expected a deltaprop Network, got {type(network).__name__}")
    for i, layer in enumerate(network.layers, start=1):
        if layer.activation.name not in _ONNX_OPS:
            raise ValueError(
                f"layer {i} uses the activation {layer.activation.name!r}, which has no "
                f"{target} equivalent; only built-in activations export"
            )


# --- ONNX ---------------------------------------------------------------------------------------

# Activation → (op, attributes) for float32. onnxruntime has no float64 kernel for LeakyRelu,
# Elu or Softplus, so for float64 those three are spelled out in elementary ops (_decomposed).
_ONNX_OPS = {
    "identity": None,
    "sigmoid": ("Sigmoid", {}),
    "tanh": ("Tanh", {}),
    "relu": ("Relu", {}),
    "leaky_relu": ("LeakyRelu", {"alpha": 0.01}),
    "elu": ("Elu", {"alpha": 1.0}),
    "softplus": ("Softplus", {}),
    "softmax": ("Softmax", {"axis": 1}),
}


def to_onnx(
    network: Network,
    path: str | os.PathLike | None = None,
    *,
    input_name: str = "x",
    output_name: str = "y",
) -> onnx.ModelProto:
    """An ``onnx.ModelProto`` computing ``network.predict`` (opset 17), saved to ``path`` if given.

    Input ``input_name`` is ``(n, inputs)``, output ``output_name`` is ``(n, outputs)``, both of
    the network's dtype (float32 → ``FLOAT``, float64 → ``DOUBLE``). Each layer is one ``Gemm``
    (``transB=1``, so ``W`` keeps deltaprop's ``(units, inputs)`` layout) and its activation op.
    """
    onnx = _require("onnx", "onnx", "to_onnx")
    from onnx import helper, numpy_helper

    _check_exportable(network, "ONNX")
    double = network.dtype == np.float64
    elem = onnx.TensorProto.DOUBLE if double else onnx.TensorProto.FLOAT
    nodes, inits = [], []
    a = input_name
    for i, layer in enumerate(network.layers, start=1):
        inits.append(numpy_helper.from_array(layer.W, f"W{i}"))
        inputs = [a, f"W{i}"]
        if layer.b is not None:
            inits.append(numpy_helper.from_array(layer.b, f"b{i}"))
            inputs.append(f"b{i}")
        z = f"z{i}"
        nodes.append(helper.make_node("Gemm", inputs, [z], name=f"dense{i}", transB=1))
        name = layer.activation.name
        if name == "identity":
            a = z
            continue
        a = f"a{i}"
        if double and name in _DECOMPOSED:
            _DECOMPOSED[name](helper, nodes, inits, z, a, network.dtype)
        else:
            op, attrs = _ONNX_OPS[name]
            nodes.append(helper.make_node(op, [z], [a], name=f"{name}{i}", **attrs))
    nodes.append(helper.make_node("Identity", [a], [output_name], name="output"))
    sizes = network.sizes
    graph = helper.make_graph(
        nodes,
        "deltaprop",
        [helper.make_tensor_value_info(input_name, elem, ["n", sizes[0]])],
        [helper.make_tensor_value_info(output_name, elem, ["n", sizes[-1]])],
        initializer=inits,
    )
    from . import __version__

    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", ONNX_OPSET)],
        producer_name="deltaprop",
        producer_version=__version__,
    )
    model.ir_version = ONNX_IR_VERSION
    onnx.checker.check_model(model)
    if path is not None:
        onnx.save_model(model, os.fspath(path))
    return model


def _const(inits, name: str, value: float, dtype) -> str:
    from onnx import numpy_helper

    if not any(t.name == name for t in inits):
        inits.append(numpy_helper.from_array(np.array(value, dtype=dtype), name))
    return name


def _leaky_relu64(helper, nodes, inits, z, a, dtype):
    # max(z, 0.01 z): deltaprop's own formula
    slope = _const(inits, "leaky_slope", 0.01, dtype)
    nodes += [
        helper.make_node("Mul", [z, slope], [z + "_scaled"]),
        helper.make_node("Max", [z, z + "_scaled"], [a]),
    ]


def _elu64(helper, nodes, inits, z, a, dtype):
    # z if z > 0 else e^min(z, 0) − 1
    zero, one = _const(inits, "zero", 0.0, dtype), _const(inits, "one", 1.0, dtype)
    nodes += [
        helper.make_node("Min", [z, zero], [z + "_neg"]),
        helper.make_node("Exp", [z + "_neg"], [z + "_exp"]),
        helper.make_node("Sub", [z + "_exp", one], [z + "_expm1"]),
        helper.make_node("Greater", [z, zero], [z + "_pos"]),
        helper.make_node("Where", [z + "_pos", z, z + "_expm1"], [a]),
    ]


def _softplus64(helper, nodes, inits, z, a, dtype):
    # max(z, 0) + log(1 + e^−|z|): stable for any z
    one = _const(inits, "one", 1.0, dtype)
    nodes += [
        helper.make_node("Abs", [z], [z + "_abs"]),
        helper.make_node("Neg", [z + "_abs"], [z + "_nabs"]),
        helper.make_node("Exp", [z + "_nabs"], [z + "_exp"]),
        helper.make_node("Add", [z + "_exp", one], [z + "_1p"]),
        helper.make_node("Log", [z + "_1p"], [z + "_log1p"]),
        helper.make_node("Relu", [z], [z + "_relu"]),
        helper.make_node("Add", [z + "_relu", z + "_log1p"], [a]),
    ]


_DECOMPOSED = {"leaky_relu": _leaky_relu64, "elu": _elu64, "softplus": _softplus64}


# --- PyTorch ------------------------------------------------------------------------------------


def to_torch(network: Network) -> torch.nn.Sequential:
    """An equivalent ``torch.nn.Sequential``: ``nn.Linear`` layers and activation modules.

    Weights are copied (same values, same dtype); a bias-free layer is ``nn.Linear(bias=False)``;
    identity layers add no module. Softplus uses ``threshold=40`` rather than PyTorch's 20, past
    which ``log(1 + eᶻ)`` and ``z`` agree to the last bit of float64.
    """
    torch = _require("torch", "torch", "to_torch")
    nn = torch.nn
    _check_exportable(network, "PyTorch")
    dtype = torch.float64 if network.dtype == np.float64 else torch.float32
    make = {
        "sigmoid": nn.Sigmoid,
        "tanh": nn.Tanh,
        "relu": nn.ReLU,
        "leaky_relu": lambda: nn.LeakyReLU(0.01),
        "elu": lambda: nn.ELU(alpha=1.0),
        "softplus": lambda: nn.Softplus(beta=1.0, threshold=40.0),
        "softmax": lambda: nn.Softmax(dim=1),
    }
    modules = []
    for layer in network.layers:
        linear = nn.Linear(layer.inputs, layer.units, bias=layer.b is not None, dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(layer.W))
            if layer.b is not None:
                linear.bias.copy_(torch.from_numpy(layer.b))
        modules.append(linear)
        if layer.activation.name != "identity":
            modules.append(make[layer.activation.name]())
    return nn.Sequential(*modules)
