"""The JSON of ``deltaprop explain`` equals ``torch.autograd`` and ``torch.optim`` on random specs.

Each example writes a random spec file (sizes, activations, loss, biases or none, one sample or a
batch, an optimizer), runs the command line with ``--format json --steps 2``, and rebuilds every
number in PyTorch (float64): z, a, the loss, the per-sample deltas ∂J/∂z = n·∂E/∂z, the gradients,
the updated parameters and the loss after the step.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from deltaprop.cli import main

HIDDEN = ["sigmoid", "tanh", "relu", "identity", "leaky_relu", "elu", "softplus"]
TORCH_ACT = {
    "sigmoid": torch.sigmoid,
    "tanh": torch.tanh,
    "relu": torch.relu,
    "identity": lambda z: z,
    "leaky_relu": lambda z: torch.nn.functional.leaky_relu(z, 0.01),
    "elu": torch.nn.functional.elu,
    "softplus": torch.nn.functional.softplus,
    "softmax": lambda z: torch.softmax(z, dim=1),
}


def torch_loss(name: str, o: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """The batch mean of the per-sample loss, as the README defines each one."""
    if name == "squared_error":
        j = 0.5 * ((o - t) ** 2).sum(1)
    elif name == "mse":
        j = ((o - t) ** 2).mean(1)
    elif name == "log_loss":
        j = -(t * torch.log(o) + (1 - t) * torch.log(1 - o)).sum(1)
    else:
        j = -(t * torch.log(o)).sum(1)
    return j.mean()


@st.composite
def specs(draw):
    n_layers = draw(st.integers(1, 3))
    sizes = [draw(st.integers(1, 3)) for _ in range(n_layers + 1)]
    out = draw(st.sampled_from(["sigmoid", "softmax", "identity", "tanh"]))
    if out == "softmax" and sizes[-1] == 1:
        sizes[-1] = 2
    acts = [draw(st.sampled_from(HIDDEN)) for _ in range(n_layers - 1)] + [out]
    losses = ["squared_error", "mse"]
    if out in ("sigmoid", "softmax"):
        losses += ["log_loss", "cross_entropy"]
    loss = draw(st.sampled_from(losses))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    weights = [rng.normal(0, 0.8, (sizes[i + 1], sizes[i])).tolist() for i in range(n_layers)]
    spec = {"layers": sizes, "activations": acts, "loss": loss, "weights": weights}
    bias_kind = draw(st.sampled_from(["all", "none", "some"]))
    if bias_kind != "none":
        spec["biases"] = [
            None if bias_kind == "some" and i % 2 else rng.normal(0, 0.5, sizes[i + 1]).tolist()
            for i in range(n_layers)
        ]
    n = draw(st.integers(1, 3))
    x = rng.normal(0, 1, (n, sizes[0]))
    if out == "softmax":
        t = rng.dirichlet(np.ones(sizes[-1]), n)  # targets that sum to 1
    elif out == "sigmoid":
        t = rng.uniform(0, 1, (n, sizes[-1]))
    else:
        t = rng.normal(0, 1, (n, sizes[-1]))
    single = n == 1 and draw(st.booleans())
    spec["input"] = x[0].tolist() if single else x.tolist()
    spec["target"] = t[0].tolist() if single else t.tolist()
    spec["learning_rate"] = draw(st.sampled_from([0.05, 0.1, 0.5]))
    spec["optimizer"] = draw(
        st.sampled_from(
            [
                {"name": "sgd"},
                {"name": "momentum", "momentum": 0.9},
                {"name": "nesterov", "momentum": 0.5},
                {"name": "adam", "beta1": 0.8, "beta2": 0.99},
                {"name": "rmsprop"},
                {"name": "adagrad"},
            ]
        )
    )
    return spec


def torch_optimizer(spec: dict, params: list[torch.Tensor]) -> torch.optim.Optimizer:
    opt, lr = spec["optimizer"], spec["learning_rate"]
    name = opt["name"]
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr)
    if name in ("momentum", "nesterov"):
        return torch.optim.SGD(params, lr=lr, momentum=opt["momentum"], nesterov=name == "nesterov")
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, betas=(opt["beta1"], opt["beta2"]))
    if name == "rmsprop":
        return torch.optim.RMSprop(params, lr=lr)
    return torch.optim.Adagrad(params, lr=lr)


def run_cli_json(spec: dict, steps: int) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        path, out = Path(tmp) / "spec.json", Path(tmp) / "trace.json"
        path.write_text(json.dumps(spec))
        assert main(["explain", str(path), "--steps", str(steps), "-o", str(out)]) == 0
        records = json.loads(out.read_text())  # the format follows the suffix: JSON
    return records if steps > 1 else [records]


def as_rows(v) -> np.ndarray:
    a = np.asarray(v, dtype=np.float64)
    return a[None, :] if a.ndim == 1 else a


@given(spec=specs())
def test_json_equals_torch_autograd_and_optim(spec):
    records = run_cli_json(spec, 2)
    L = len(spec["activations"])
    Ws = [torch.tensor(w, dtype=torch.float64, requires_grad=True) for w in spec["weights"]]
    biases = spec.get("biases", [None] * L)
    bs = [
        None if b is None else torch.tensor(b, dtype=torch.float64, requires_grad=True)
        for b in biases
    ]
    params = Ws + [b for b in bs if b is not None]
    opt = torch_optimizer(spec, params)
    x = torch.tensor(as_rows(spec["input"]))
    t = torch.tensor(as_rows(spec["target"]))
    n = x.shape[0]
    for rec in records:
        opt.zero_grad()
        a, zs = x, []
        for W, b, act in zip(Ws, bs, spec["activations"], strict=True):
            z = a @ W.T + (b if b is not None else 0)
            z.retain_grad()
            zs.append(z)
            a = TORCH_ACT[act](z)
        loss = torch_loss(spec["loss"], a, t)
        loss.backward()
        assert np.isclose(rec["loss"], loss.item(), rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(as_rows(rec["output"]), a.detach().numpy(), rtol=1e-10)
        for i in range(L):
            np.testing.assert_allclose(as_rows(rec["z"][i]), zs[i].detach(), rtol=1e-9, atol=1e-12)
            # deltas are per sample: δ = ∂J/∂z = n·∂E/∂z
            np.testing.assert_allclose(
                as_rows(rec["deltas"][i]), n * zs[i].grad.numpy(), rtol=1e-8, atol=1e-11
            )
            np.testing.assert_allclose(rec["grad_weights"][i], Ws[i].grad, rtol=1e-8, atol=1e-11)
            if bs[i] is None:
                assert rec["grad_biases"][i] is None and rec["biases_after"][i] is None
            else:
                np.testing.assert_allclose(rec["grad_biases"][i], bs[i].grad, rtol=1e-8, atol=1e-11)
        opt.step()
        for i in range(L):
            np.testing.assert_allclose(
                rec["weights_after"][i], Ws[i].detach(), rtol=1e-8, atol=1e-10
            )
            if bs[i] is not None:
                np.testing.assert_allclose(
                    rec["biases_after"][i], bs[i].detach(), rtol=1e-8, atol=1e-10
                )
        with torch.no_grad():
            a = x
            for W, b, act in zip(Ws, bs, spec["activations"], strict=True):
                a = TORCH_ACT[act](a @ W.T + (b if b is not None else 0))
            assert np.isclose(rec["loss_after"], torch_loss(spec["loss"], a, t).item(), rtol=1e-9)
            np.testing.assert_allclose(as_rows(rec["output_after"]), a.numpy(), rtol=1e-9)
