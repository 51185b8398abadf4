"""Full-batch L-BFGS (``scipy.optimize.minimize(method="L-BFGS-B")``) over the engine's gradients.

The objective is scikit-learn's: ``E = Σᵢ wᵢ J(oᵢ, tᵢ) / Σ w + α/(2 Σ w) Σₗ ‖Wˡ‖²``, its gradient
from one forward and one backward pass of the network. Parameters travel as one float64 vector
(``W1, b1, W2, …`` flattened); scipy needs float64 even when the network computes in float32.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np

from ..batches import gather
from ..losses import Loss
from ..network import Network
from ..norms import EpochNorms
from ..step import TrainingStep

Array = np.ndarray


@dataclass
class LbfgsResult:
    """Per-iteration records and the final state of an L-BFGS run."""

    n_iter: int
    loss: float
    losses: list[float] = field(default_factory=list)
    layer_grad_norms: list[list[float]] = field(default_factory=list)
    layer_delta_norms: list[list[float]] = field(default_factory=list)


def fit_lbfgs(
    network: Network,
    X,
    T: Array,
    sample_weight: Array | None,
    alpha: float,
    loss: Loss,
    loss_scale: float,
    max_iter: int,
    max_fun: int,
    tol: float,
    verbose: bool = False,
) -> LbfgsResult:
    """Minimise the batch error over all of ``(X, T)``; the network ends at the solution.

    ``max_iter``, ``max_fun`` and ``tol`` are L-BFGS-B's ``maxiter``, ``maxfun`` and ``gtol``. A
    run that stops for any reason but convergence warns with ``ConvergenceWarning``.
    """
    try:
        import scipy.optimize
    except ImportError as exc:  # pragma: no cover - scipy comes with scikit-learn
        raise ImportError("solver='lbfgs' needs scipy: pip install scipy") from exc
    from sklearn.exceptions import ConvergenceWarning

    step = TrainingStep(network, loss)
    params = step.params
    names = list(params)
    norms = EpochNorms(network)
    bounds = np.cumsum([0] + [params[k].size for k in names])
    n = X.shape[0]
    lam = alpha / (float(n) if sample_weight is None else float(sample_weight.sum()))
    ws = network.workspace(n)
    gather(X, slice(None), ws.x)  # a sparse X is densified once, here
    gather(T, slice(None), ws.t)
    grad = np.empty(bounds[-1], dtype=np.float64)
    last: dict = {}

    def objective(theta: Array) -> tuple[float, Array]:
        for k, lo, hi in zip(names, bounds[:-1], bounds[1:], strict=True):
            np.copyto(params[k], theta[lo:hi].reshape(params[k].shape), casting="unsafe")
        r = step.gradients(ws, sample_weight, lam)
        for k, lo, hi in zip(names, bounds[:-1], bounds[1:], strict=True):
            grad[lo:hi] = ws.grads_by_name[k].ravel()
        norms.reset()
        norms.add(ws)
        grad_norms, _, delta_norms = norms.epoch(1)
        last.update(
            theta=theta.copy(),
            reported=loss_scale * r.data_loss + r.penalty,
            grad_norms=grad_norms,
            delta_norms=delta_norms,
        )
        return r.loss, grad.copy()

    result = LbfgsResult(0, float("nan"))

    def record(intermediate_result) -> None:
        if not np.array_equal(last.get("theta"), intermediate_result.x):
            objective(intermediate_result.x)
        result.losses.append(last["reported"])
        result.layer_grad_norms.append(last["grad_norms"])
        result.layer_delta_norms.append(last["delta_norms"])
        if verbose:
            print(f"Iteration {len(result.losses)}, loss = {last['reported']:.8f}")

    theta0 = np.concatenate([params[k].ravel() for k in names]).astype(np.float64)
    res = scipy.optimize.minimize(
        objective,
        theta0,
        method="L-BFGS-B",
        jac=True,
        callback=record,
        options={"maxfun": max_fun, "maxiter": max_iter, "gtol": tol},
    )
    if res.status != 0:
        message = res.message.decode() if isinstance(res.message, bytes) else res.message
        warnings.warn(
            f"lbfgs failed to converge after {res.nit} iteration(s) (status={res.status}): "
            f"{message}. Increase the number of iterations (max_iter={max_iter}) or the number "
            f"of function calls (max_fun={max_fun}), or scale the data.",
            ConvergenceWarning,
            stacklevel=5,
        )
    if not np.array_equal(last.get("theta"), res.x):
        objective(res.x)  # leave the network at the solution
    result.n_iter = min(int(res.nit), max_iter)
    result.loss = float(last["reported"])
    return result
