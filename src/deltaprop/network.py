"""A multi-layer network of dense layers: the forward pass, and the backward pass by the delta rule.

Notation (the tutorials'), for layers ``l = 1 … L`` and a batch of ``n`` samples in rows:

- ``Wˡ`` has shape ``(units_l, units_{l−1})``; ``Wˡ[i, j]`` joins neuron ``j`` of layer ``l − 1``
  to neuron ``i`` of layer ``l``. ``bˡ`` has shape ``(units_l,)`` or is absent.
- forward:  ``zˡ = Wˡ aˡ⁻¹ + bˡ``,  ``aˡ = f(zˡ)``,  ``a⁰ = x``.  In rows: ``Z = A Wᵀ + b``.
- output delta: ``δᴸ = ∂J/∂zᴸ`` (see :func:`deltaprop.losses.output_delta`).
- delta rule:  ``δˡ = f'(zˡ) ⊙ (Wˡ⁺¹)ᵀ δˡ⁺¹``.  In rows: ``Δˡ = (Δˡ⁺¹ Wˡ⁺¹) ⊙ f'(Zˡ)``.
- gradients of the batch error ``E = (1/n) Σᵢ J(oᵢ, tᵢ)``:
  ``∂E/∂Wˡ = (1/n) Σᵢ δˡᵢ (aˡ⁻¹ᵢ)ᵀ = (1/n) (Δˡ)ᵀ Aˡ⁻¹`` and ``∂E/∂bˡ = (1/n) Σᵢ δˡᵢ``.

Each equation is written once, in :mod:`deltaprop.layers`; :meth:`Network.forward` and
:meth:`Network.backward` run them layer by layer, into fresh arrays or into a training
workspace's (:mod:`deltaprop.buffers`). Deltas are per sample, as the tutorials show them; the
``1/n`` of the batch mean enters the gradients. ``backward`` overwrites, never accumulates.

Every ``Wˡ`` and ``bˡ`` is a view into one flat parameter vector θ (``Network.flat_params()``),
in the order ``W1, b1, W2, …`` (each ``W`` stored transposed: :func:`deltaprop.buffers.flat_views`).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from . import layers as eq
from .activations import get_activation
from .buffers import (
    ForwardPass,
    Gradients,
    Workspace,
    back_buffer,
    forward_buffers,
    gradient_buffers,
    pack,
    workspace,
)
from .initializers import default_initializer, get_initializer
from .layers import Dense
from .losses import Loss, get_loss, output_delta
from .summary import Summary, summarise
from .validation import (
    as_2d_float,
    check_dtype,
    check_int,
    check_sample_weight,
    non_finite_outputs,
    per_layer,
)

Array = np.ndarray

__all__ = ["Dense", "ForwardPass", "Gradients", "Network", "Workspace"]


class Network:
    """A stack of :class:`Dense` layers, trained by explicit backpropagation.

    Build one from sizes and initialise it (``Network.from_sizes``), or give every weight
    (``Network.from_weights``) to reproduce a worked example.
    """

    def __init__(self, layers: Sequence[Dense], dtype=None):
        if not layers:
            raise ValueError("a network needs at least one layer")
        layers = list(layers)
        dt = check_dtype(dtype if dtype is not None else layers[0].W.dtype)
        for i, layer in enumerate(layers, start=1):
            if layer.W.ndim != 2:
                raise ValueError(f"W{i} must be 2-D (units × inputs), got shape {layer.W.shape}")
            if i > 1 and layer.inputs != layers[i - 2].units:
                raise ValueError(
                    f"W{i} has {layer.inputs} columns but layer {i - 1} has "
                    f"{layers[i - 2].units} units"
                )
            if layer.b is not None and layer.b.shape != (layer.units,):
                raise ValueError(f"b{i} must have shape ({layer.units},), got {layer.b.shape}")
            with np.errstate(over="ignore"):  # a value past the dtype's range: refused below
                layer.W = np.ascontiguousarray(layer.W, dtype=dt)
                layer.b = None if layer.b is None else np.ascontiguousarray(layer.b, dtype=dt)
            if not np.isfinite(layer.W).all() or (
                layer.b is not None and not np.isfinite(layer.b).all()
            ):
                raise ValueError(f"layer {i} has NaN or infinite weights")
        self.layers: list[Dense] = layers
        self.dtype: np.dtype = dt
        self._workspaces: dict[tuple[int, bool], Workspace] = {}
        self._flat: Array  # θ, and the (W, b) views of it the layers hold: set by _pack
        self._views: list[tuple[Array, Array | None]]
        self._pack()

    # --- the flat parameter vector -----------------------------------------------------------

    def _pack(self) -> None:
        """Copy every ``W`` and ``b`` into one new flat vector and make the layers hold views."""
        self._flat, self._views = pack(self.layers, self.dtype)

    def flat_params(self) -> Array:
        """θ: every parameter in one live 1-D vector (``W1, b1, W2, …``); ``params()`` are views.

        If a layer's ``W`` or ``b`` was replaced by another array, or the views were cut from the
        vector (``copy.deepcopy`` and pickling copy views as separate arrays), the vector is
        rebuilt first.
        """
        flat = self._flat
        for layer, (W, b) in zip(self.layers, self._views, strict=True):
            if layer.W is not W or layer.b is not b or W.base is not flat:
                self._pack()
                break
        return self._flat

    # --- construction ------------------------------------------------------------------------

    @classmethod
    def from_sizes(
        cls,
        sizes: Sequence[int],
        activations: Sequence[str] | str = "sigmoid",
        bias: bool | Sequence[bool] = True,
        init: str | Sequence[str] | None = None,
        seed: int | np.random.Generator | None = None,
        dtype=np.float64,
    ) -> Network:
        """A network with ``sizes = [inputs, hidden…, outputs]``, weights drawn from ``init``.

        ``activations`` is one name per non-input layer (or one name for all). ``init`` defaults to
        the one each activation declares (He for ReLU-like ones, Glorot otherwise); biases are 0.
        """
        sizes = list(sizes)
        if len(sizes) < 2 or any(
            isinstance(s, bool) or not isinstance(s, int | np.integer) or s < 1 for s in sizes
        ):
            raise ValueError(
                f"sizes must be at least two positive whole numbers (inputs first), got {sizes}"
            )
        n = len(sizes) - 1
        acts = per_layer(activations, n, "activations")
        biases = per_layer(bias, n, "bias")
        inits = per_layer(init, n, "init")
        rng = np.random.default_rng(seed)
        dt = check_dtype(dtype)
        layers = []
        for i in range(n):
            act = get_activation(acts[i])
            initializer = get_initializer(inits[i] or default_initializer(act.name))
            W = initializer(sizes[i], sizes[i + 1], rng, dt)
            b = np.zeros(sizes[i + 1], dtype=dt) if biases[i] else None
            layers.append(Dense(W, b, act))
        return cls(layers, dtype=dt)

    @classmethod
    def from_weights(
        cls,
        weights: Sequence,
        biases: Sequence | None = None,
        activations: Sequence[str] | str = "sigmoid",
        dtype=np.float64,
    ) -> Network:
        """A network with the given ``weights[l][i][j]`` (neuron ``j`` of layer ``l−1`` to ``i``).

        ``biases`` is one vector per layer or None for a bias-free layer; omitted, no layer has one.
        """
        n = len(weights)
        acts = per_layer(activations, n, "activations")
        if biases is None:
            biases = [None] * n
        if len(biases) != n:
            raise ValueError(f"biases has {len(biases)} entries, expected one per layer ({n})")
        layers = []
        for i, (W, b) in enumerate(zip(weights, biases, strict=True), start=1):
            W = as_2d_float(W, f"weights[{i - 1}]", dtype)
            bb = None if b is None else np.asarray(b, dtype=dtype).reshape(-1)
            layers.append(Dense(W, bb, get_activation(acts[i - 1])))
        return cls(layers, dtype=dtype)

    # --- inspection --------------------------------------------------------------------------

    @property
    def sizes(self) -> list[int]:
        """Neurons per layer, inputs first."""
        return [self.layers[0].inputs] + [layer.units for layer in self.layers]

    @property
    def n_layers(self) -> int:
        """Number of weight layers ``L``."""
        return len(self.layers)

    def params(self) -> dict[str, Array]:
        """The live parameter arrays, keyed ``W1, b1, W2, …`` (bias-free layers have no ``b``)."""
        out: dict[str, Array] = {}
        for i, layer in enumerate(self.layers, start=1):
            out[f"W{i}"] = layer.W
            if layer.b is not None:
                out[f"b{i}"] = layer.b
        return out

    def get_weights(self) -> dict[str, Array]:
        """A copy of every parameter."""
        return {k: v.copy() for k, v in self.params().items()}

    def set_weights(self, weights: dict[str, Array]) -> None:
        """Copy values into the live parameters (shapes must match)."""
        params = self.params()
        if set(weights) != set(params):
            raise ValueError(f"expected parameters {sorted(params)}, got {sorted(weights)}")
        for k, v in weights.items():
            v = np.asarray(v)
            if v.shape != params[k].shape:
                raise ValueError(f"{k} must have shape {params[k].shape}, got {v.shape}")
            np.copyto(params[k], v, casting="same_kind")

    def copy(self) -> Network:
        """An independent deep copy."""
        return self.astype(self.dtype)  # astype copies every array, even to the same dtype

    def astype(self, dtype) -> Network:
        """A copy in another float dtype."""
        dt = check_dtype(dtype)
        return Network(
            [
                Dense(ly.W.astype(dt), None if ly.b is None else ly.b.astype(dt), ly.activation)
                for ly in self.layers
            ],
            dtype=dt,
        )

    def summary(self) -> Summary:
        """The parameter table (layer, units, activation, weights, biases, parameters; total):
        prints as text, and holds ``rows`` and ``total`` (:class:`deltaprop.summary.Summary`)."""
        return summarise(self)

    def __repr__(self) -> str:
        acts = ", ".join(layer.activation.name for layer in self.layers)
        return f"Network(sizes={self.sizes}, activations=[{acts}], dtype={self.dtype})"

    # --- forward -----------------------------------------------------------------------------

    def check_input(self, x, name: str = "x") -> Array:
        """``x`` as an ``(n, inputs)`` array of the network's dtype, or a clear error."""
        return as_2d_float(x, name, self.dtype, n_columns=self.layers[0].inputs)

    def forward(self, x, workspace: Workspace | None = None) -> ForwardPass:
        """``zˡ = aˡ⁻¹ (Wˡ)ᵀ + bˡ``, ``aˡ = f(zˡ)`` for every layer, keeping each ``z`` and ``a``.

        Without a workspace, into fresh arrays (``z`` and ``a`` distinct). With one, into its
        buffers (``x`` must then be ``workspace.x``), where ``a`` may overwrite ``z``.
        """
        if workspace is None:
            fp = forward_buffers(self.layers, self.check_input(x), keep_all=True)
        else:
            fp = workspace.forward
        self._run_forward(fp)
        return fp

    def _run_forward(self, fp: ForwardPass) -> None:
        """Fill ``fp`` from its ``a[0]``, layer after layer (:func:`deltaprop.layers.forward`)."""
        for i, layer in enumerate(self.layers):
            eq.forward(layer, fp.a[i], fp.z[i], fp.a[i + 1])

    def predict(self, x, batch_size: int | None = 4096, check_finite: bool = True) -> Array:
        """The network's output ``aᴸ`` for ``x`` (n, inputs), shape ``(n, outputs)``.

        :meth:`forward`, ``batch_size`` rows at a time (None: all at once), each layer's
        ``a = f(z)`` written over its ``z``: besides the output it needs one batch-sized buffer per
        hidden layer, however many rows ``x`` has. BLAS may round a product of a few rows (a
        small last batch) differently from a larger one, in the last bits. Outputs are finite or
        an ``OverflowError`` names the rows whose inputs overflowed (``check_finite=False``
        returns them as they are: training scores a diverging run's validation data so).
        """
        x = self.check_input(x)
        n = x.shape[0]
        rows = n if batch_size is None else check_int(batch_size, "batch_size", 1)
        rows = max(1, min(rows, n))
        out = np.empty((n, self.layers[-1].units), dtype=self.dtype)
        hidden = [np.empty((rows, layer.units), dtype=self.dtype) for layer in self.layers[:-1]]
        with np.errstate(over="ignore", invalid="ignore"):  # reported below, by row
            for start in range(0, n, rows):
                stop = min(start + rows, n)
                zs = [h[: stop - start] for h in hidden] + [out[start:stop]]
                self._run_forward(ForwardPass(zs, [x[start:stop], *zs]))
        if check_finite and not np.isfinite(out).all():
            raise non_finite_outputs(x, ~np.isfinite(out).all(axis=1), self.dtype)
        return out

    # --- backward ----------------------------------------------------------------------------

    def backward(
        self,
        fp: ForwardPass,
        target,
        loss: str | Loss,
        workspace: Workspace | None = None,
        use_shortcut: bool = True,
        sample_weight: Array | None = None,
        scale_deltas: bool | None = None,
        target_rows_sum_to_one: bool | None = None,
    ) -> Gradients:
        """Deltas and gradients of ``E = (1/n) Σᵢ J(oᵢ, tᵢ)`` by the delta rule.

        ``δᴸ = ∂J/∂zᴸ``; ``δˡ = f'(zˡ) ⊙ (Wˡ⁺¹)ᵀ δˡ⁺¹``; ``∂E/∂Wˡ = (1/n) Σᵢ δˡᵢ (aˡ⁻¹ᵢ)ᵀ``;
        ``∂E/∂bˡ = (1/n) Σᵢ δˡᵢ`` (:mod:`deltaprop.layers`). Without a workspace, into fresh
        arrays; with one, into its buffers (``target`` must then be ``workspace.t``).
        ``use_shortcut=False`` forces the general chain-rule output delta even where ``o − t``
        is valid. With ``sample_weight`` w the error is ``Σᵢ wᵢ Jᵢ / Σᵢ wᵢ``: every delta row is
        scaled by ``n wᵢ / Σ w`` (the rule is linear in δ). ``target_rows_sum_to_one`` passes on
        a check of the targets already made (see :func:`deltaprop.losses.output_delta`).
        ``scale_deltas`` is deprecated and ignored: deltas are always per sample.
        """
        if scale_deltas is not None:
            warnings.warn(
                "backward(scale_deltas=...) is deprecated and has no effect: deltas are per "
                "sample and the batch mean's 1/n enters the gradients",
                DeprecationWarning,
                stacklevel=2,
            )
        loss = get_loss(loss)
        out = fp.output
        n = out.shape[0]
        if workspace is None:
            t = self.check_target(target, n)
            g = gradient_buffers(self.layers, n, self.dtype, keep_all=True)
        else:
            t, g = target, workspace.gradients
        last = self.layers[-1]
        delta = output_delta(
            loss,
            last.activation,
            fp.z[-1],
            out,
            t,
            g.deltas[-1],
            use_shortcut,
            target_rows_sum_to_one=target_rows_sum_to_one,
        )
        if sample_weight is not None:
            delta *= _row_scale(sample_weight, n)
        for i in range(self.n_layers - 1, -1, -1):
            layer = self.layers[i]
            scaled = g.scaled[i] if g.scaled else delta
            eq.gradients(layer, fp.a[i], delta, g.weights[i], g.biases[i], scaled, g.mean)
            if i > 0:
                back = back_buffer(g, i - 1)
                below = self.layers[i - 1]
                z, a = fp.z[i - 1], fp.a[i]
                delta = eq.delta_rule(layer, below, z, a, delta, back, out=g.deltas[i - 1])
        return g

    def check_target(self, target, n: int) -> Array:
        """Targets as ``(n, outputs)`` of the network's dtype, or a clear error."""
        k = self.layers[-1].units
        t = as_2d_float(target, "target", self.dtype, allow_1d_as="column" if k == 1 else "sample")
        if t.shape != (n, k):
            raise ValueError(f"target has shape {t.shape}, expected ({n}, {k}) to match the output")
        return t

    def gradients(
        self, x, target, loss: str | Loss, use_shortcut: bool = True, sample_weight=None
    ) -> Gradients:
        """Forward then backward on ``(x, target)``: fresh deltas and gradients."""
        fp = self.forward(x)
        w = (
            None
            if sample_weight is None
            else check_sample_weight(sample_weight, fp.output.shape[0])
        )
        return self.backward(fp, target, loss, use_shortcut=use_shortcut, sample_weight=w)

    def loss(self, x, target, loss: str | Loss, sample_weight=None) -> float:
        """The batch error ``E = (1/n) Σᵢ J(oᵢ, tᵢ)`` (or its weighted mean) on ``(x, target)``."""
        o = self.predict(x)
        w = None if sample_weight is None else check_sample_weight(sample_weight, o.shape[0])
        return get_loss(loss).value(o, self.check_target(target, o.shape[0]), w)

    # --- buffers for the training loop ---------------------------------------------------------

    def workspace(self, n: int, keep_all: bool = False) -> Workspace:
        """Buffers for batches of ``n`` samples, made once and reused (see
        :mod:`deltaprop.buffers`); ``keep_all`` keeps every ``z``, ``a`` and ``(Wˡ⁺¹)ᵀ δˡ⁺¹``
        apart, for a worked solution of a training step."""
        ws = self._workspaces.get((n, keep_all))
        if ws is not None and ws.gradients.weights[0].shape == self.layers[0].W.shape:
            return ws
        ws = workspace(self.layers, n, self.dtype, keep_all)
        self._workspaces[(n, keep_all)] = ws
        return ws

    # --- Keras-like training -------------------------------------------------------------------

    def fit(self, x, y, **kwargs):
        """Train in place (arguments of :func:`deltaprop.training.fit`); returns the history."""
        from .training import fit

        return fit(self, x, y, **kwargs)


def _row_scale(sample_weight: Array, n: int) -> Array:
    return (sample_weight * (n / np.sum(sample_weight)))[:, None]
