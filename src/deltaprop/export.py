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

    from .activations import OnnxGraph

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
        act = layer.activation
        keyword = "onnx" if target == "ONNX" else "torch"
        if getattr(act, keyword) is None:
            raise ValueError(
                f"layer {i} uses the activation {act.name!r}, which has no {target} equivalent; "
                f"declare one with register_activation(..., {keyword}=...)"
            )


# --- ONNX ---------------------------------------------------------------------------------------


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
    (``transB=1``, so ``W`` keeps deltaprop's ``(units, inputs)`` layout) and the nodes its
    activation declares (``Activation.onnx``, or ``onnx_float64`` for a float64 network where
    onnxruntime lacks a float64 kernel of the op).
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
        act = layer.activation
        graph = act.onnx_float64 if double and act.onnx_float64 is not None else act.onnx
        a = _add_activation(graph, f"{act.name}{i}", z, f"a{i}", nodes, inits, network.dtype)
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


def _add_activation(graph: OnnxGraph, prefix: str, z: str, a: str, nodes, inits, dtype) -> str:
    """Append an activation's :class:`~deltaprop.activations.OnnxGraph` from the tensor ``z`` to
    ``a`` (local names and constants prefixed with ``prefix``); return the output's name."""
    from onnx import helper, numpy_helper

    if not graph.nodes:
        return z  # a = z: nothing to add
    names = {"z": z, "a": a}
    for local, value in graph.constants:
        names[local] = f"{prefix}_{local}"
        inits.append(numpy_helper.from_array(np.array(value, dtype=dtype), names[local]))
    for k, (op, inputs, output, attributes) in enumerate(graph.nodes):
        for local in (*inputs, output):
            names.setdefault(local, f"{prefix}_{local}")
        node = prefix if len(graph.nodes) == 1 else f"{prefix}_{k}"
        ins = [names[t] for t in inputs]
        nodes.append(helper.make_node(op, ins, [names[output]], name=node, **attributes))
    return a


# --- PyTorch ------------------------------------------------------------------------------------


def to_torch(network: Network) -> torch.nn.Sequential:
    """An equivalent ``torch.nn.Sequential``: ``nn.Linear`` layers and activation modules.

    Weights are copied (same values, same dtype); a bias-free layer is ``nn.Linear(bias=False)``;
    each activation's module is the one it declares (``Activation.torch``; identity adds none).
    """
    torch = _require("torch", "torch", "to_torch")
    nn = torch.nn
    _check_exportable(network, "PyTorch")
    dtype = torch.float64 if network.dtype == np.float64 else torch.float32
    modules = []
    for layer in network.layers:
        linear = nn.Linear(layer.inputs, layer.units, bias=layer.b is not None, dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(layer.W))
            if layer.b is not None:
                linear.bias.copy_(torch.from_numpy(layer.b))
        modules.append(linear)
        module = layer.activation.torch(nn)  # None: a = z, no module
        if module is not None:
            modules.append(module)
    return nn.Sequential(*modules)
