"""Benchmark worker: a PyTorch CPU loop (nn.Sequential, 2 threads) trains the same MLP."""

from __future__ import annotations

import numpy as np
import torch
from common import LEARNING_RATES, MOMENTUM, Timer, base_parser, emit, result_record, rss_mb, setup
from torch import nn
from torch.nn import functional as F  # noqa: N812


def main() -> None:
    args = base_parser(__doc__).parse_args()
    torch.set_num_threads(2)
    torch.manual_seed(args.seed)
    x, y, xt, yt, sizes, weights, biases = setup(args)
    layers: list[nn.Module] = []
    for i, (W, b) in enumerate(zip(weights, biases, strict=True)):
        lin = nn.Linear(W.shape[1], W.shape[0])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W))
            lin.bias.copy_(torch.from_numpy(b))
        layers.append(lin)
        if i < len(weights) - 1:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)  # softmax is fused into the cross-entropy loss
    lr = LEARNING_RATES[args.optimizer]
    if args.optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=lr)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=MOMENTUM)
    X, Y = torch.from_numpy(x), torch.from_numpy(y)
    n, bs = X.shape[0], args.batch_size
    gen = torch.Generator().manual_seed(args.seed)
    rss_before = rss_mb()
    losses = []
    with Timer() as t:
        for _ in range(args.epochs):
            order = torch.randperm(n, generator=gen)
            total = 0.0
            for start in range(0, n, bs):
                idx = order[start : start + bs]
                xb, yb = X[idx], Y[idx]
                opt.zero_grad(set_to_none=True)
                loss = F.cross_entropy(model(xb), yb)
                loss.backward()
                opt.step()
                total += loss.item() * len(idx)
            losses.append(total / n)
    with torch.no_grad():
        acc = float((model(torch.from_numpy(xt)).argmax(1).numpy() == yt).mean())
    record = result_record("torch", args, sizes, x, t.seconds, acc, rss_before_fit_mb=rss_before)
    record["final_loss"] = losses[-1]
    record["torch"] = torch.__version__
    record["torch_threads"] = torch.get_num_threads()
    emit(record)


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
