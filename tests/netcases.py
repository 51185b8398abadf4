"""Random networks for the oracle tests, and the same function built independently in PyTorch.

A :class:`NetCase` is drawn by hypothesis as a handful of small choices (depth, widths, activations,
loss, biases, batch size, an integer seed); its floats come from ``np.random.default_rng(seed)``,
so hypothesis shrinks the structure while the numbers stay normal draws (ReLU-family inputs hit
z = 0 exactly only with probability zero).

The PyTorch side is written from the definitions, not from deltaprop: each activation is a
``torch`` function (softplus as ``logaddexp(z, 0)``, without torch's linear threshold), and each
loss is written out per sample; silu and gelu are torch's own ``F.silu`` and
``F.gelu(approximate="tanh")``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from hypothesis import strategies as st

import deltaprop as dp

ACTIVATIONS = ["identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "softmax"]
ACTIVATIONS += ["silu", "gelu"]
LOSSES = ["squared_error", "mse", "log_loss", "cross_entropy"]
# Output activations whose outputs are valid for the loss: log loss and cross-entropy take
# logarithms of the outputs, so those must lie in (0, 1).
OUTPUT_ACTIVATIONS = {
    "squared_error": ACTIVATIONS,
    "mse": ACTIVATIONS,
    "log_loss": ["sigmoid", "softmax"],
    "cross_entropy": ["softmax", "sigmoid"],
}
SHORTCUT_PAIRS = [
    ("identity", "squared_error"),
    ("sigmoid", "log_loss"),
    ("softmax", "cross_entropy"),
]

TORCH_ACTIVATIONS = {
    "identity": lambda z: z,
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "leaky_relu": lambda z: F.leaky_relu(z, negative_slope=0.01),
    "elu": lambda z: F.elu(z, alpha=1.0),
    "softplus": lambda z: torch.logaddexp(z, torch.zeros_like(z)),
    "softmax": lambda z: torch.softmax(z, dim=1),
    "silu": F.silu,
    "gelu": lambda z: F.gelu(z, approximate="tanh"),
}

# J(o, t) for one sample (one row), from the textbook definitions.
TORCH_LOSSES = {
    "squared_error": lambda o, t: 0.5 * ((o - t) ** 2).sum(dim=1),
    "mse": lambda o, t: ((o - t) ** 2).mean(dim=1),
    "log_loss": lambda o, t: -(t * torch.log(o) + (1 - t) * torch.log(1 - o)).sum(dim=1),
    "cross_entropy": lambda o, t: -(t * torch.log(o)).sum(dim=1),
}


@dataclass
class NetCase:
    sizes: list[int]
    activations: list[str]
    biases: list[bool]
    loss: str
    n: int
    seed: int
    scale: float = 1.0
    weighted: bool = False

    def build(self, dtype=np.float64):
        """Weights, biases, inputs, targets (and sample weights) from the seed."""
        rng = np.random.default_rng(self.seed)
        Ws, bs = [], []
        for fan_in, fan_out, has_b in zip(self.sizes, self.sizes[1:], self.biases, strict=False):
            Ws.append(rng.normal(0.0, self.scale / np.sqrt(fan_in), size=(fan_out, fan_in)))
            bs.append(rng.normal(0.0, 0.5, size=fan_out) if has_b else None)
        x = rng.normal(0.0, 1.0, size=(self.n, self.sizes[0]))
        k = self.sizes[-1]
        if self.loss == "log_loss":
            t = rng.uniform(0.05, 0.95, size=(self.n, k))
        elif self.loss == "cross_entropy":
            t = rng.dirichlet(np.ones(k), size=self.n)
        else:
            t = rng.normal(0.0, 1.0, size=(self.n, k))
        w = rng.uniform(0.1, 2.0, size=self.n) if self.weighted else None
        net = dp.Network.from_weights(Ws, bs, self.activations, dtype=dtype)
        return net, x.astype(dtype), t.astype(dtype), w


@st.composite
def net_cases(draw, max_depth=5, max_width=6, weighted=False, min_n=1, pair=None):
    """A random network, loss and batch; ``pair`` fixes the (output activation, loss)."""
    depth = draw(st.integers(1, max_depth))
    if pair is None:
        loss = draw(st.sampled_from(LOSSES))
        out_act = draw(st.sampled_from(OUTPUT_ACTIVATIONS[loss]))
    else:
        out_act, loss = pair
    hidden = draw(st.lists(st.sampled_from(ACTIVATIONS), min_size=depth - 1, max_size=depth - 1))
    widths = draw(st.lists(st.integers(1, max_width), min_size=depth, max_size=depth))
    # Softmax over one output is constantly 1: the log of it sits in the clip region.
    min_k = 2 if out_act == "softmax" and loss in ("log_loss", "cross_entropy") else 1
    k = draw(st.integers(min_k, max_width))
    biases = draw(st.lists(st.booleans(), min_size=depth, max_size=depth))
    n = draw(st.one_of(st.just(max(1, min_n)), st.integers(max(2, min_n), 16)))
    seed = draw(st.integers(0, 2**32 - 1))
    scale = draw(st.sampled_from([0.5, 1.0, 2.0]))
    return NetCase(widths + [k], hidden + [out_act], biases, loss, n, seed, scale, weighted)


def outputs_in_open_unit_interval(net: dp.Network, x, margin: float = 1e-6) -> bool:
    o = net.predict(x)
    return bool(((o > margin) & (o < 1 - margin)).all())


def valid_for_loss(case: NetCase, net: dp.Network, x) -> bool:
    """Outputs away from the loss's clip region (only the logarithmic losses have one)."""
    if case.loss in ("log_loss", "cross_entropy"):
        return outputs_in_open_unit_interval(net, x)
    return True


@dataclass
class TorchResult:
    z: list[np.ndarray]
    output: np.ndarray
    loss: float
    deltas: list[np.ndarray]
    grads: dict[str, np.ndarray]


def torch_reference(net: dp.Network, x, t, loss: str, sample_weight=None) -> TorchResult:
    """The same network evaluated and differentiated by torch.autograd, in float64.

    Deltas are ``δˡ = ∂(n E)/∂zˡ`` (so ``∂Jᵢ/∂zᵢˡ`` per sample without weights, and
    ``n wᵢ/Σw · ∂Jᵢ/∂zᵢˡ`` with them); gradients are ``∂E/∂θ``.
    """
    params, order = {}, []
    a = torch.tensor(np.asarray(x, dtype=np.float64))
    zs = []
    for i, layer in enumerate(net.layers, start=1):
        W = torch.tensor(layer.W.astype(np.float64), requires_grad=True)
        params[f"W{i}"] = W
        order.append(f"W{i}")
        z = a @ W.T
        if layer.b is not None:
            b = torch.tensor(layer.b.astype(np.float64), requires_grad=True)
            params[f"b{i}"] = b
            order.append(f"b{i}")
            z = z + b
        z.retain_grad()
        zs.append(z)
        a = TORCH_ACTIVATIONS[layer.activation.name](z)
    tt = torch.tensor(np.asarray(t, dtype=np.float64))
    J = TORCH_LOSSES[loss](a, tt)
    n = J.shape[0]
    if sample_weight is None:
        E = J.mean()
    else:
        w = torch.tensor(np.asarray(sample_weight, dtype=np.float64))
        E = (w * J).sum() / w.sum()
    (n * E).backward()
    return TorchResult(
        z=[z.detach().numpy() for z in zs],
        output=a.detach().numpy(),
        loss=float(E.detach()),
        deltas=[z.grad.numpy().copy() for z in zs],
        grads={k: (params[k].grad / n).numpy() for k in order},
    )


def assert_close(actual, desired, rtol=1e-9, what=""):
    """Equal to ``rtol`` relative to each entry, or to ``rtol``·1e-3 of the array's largest entry.

    The absolute floor keeps entries produced by cancellation (a sum of terms far larger than
    itself) from demanding more relative precision than float64 has.
    """
    actual, desired = np.asarray(actual, dtype=np.float64), np.asarray(desired, dtype=np.float64)
    assert actual.shape == desired.shape, f"{what}: shape {actual.shape} != {desired.shape}"
    scale = float(np.max(np.abs(desired))) if desired.size else 0.0
    np.testing.assert_allclose(
        actual, desired, rtol=rtol, atol=rtol * 1e-3 * max(scale, 1e-3), err_msg=what
    )
