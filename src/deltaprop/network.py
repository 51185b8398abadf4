"""A multi-layer network of dense layers: the forward pass, and the backward pass by the delta rule.

Notation (the tutorials'), for layers ``l = 1 … L`` and a batch of ``n`` samples in rows:

- ``Wˡ`` has shape ``(units_l, units_{l−1})``; ``Wˡ[i, j]`` joins neuron ``j`` of layer ``l − 1``
  to neuron ``i`` of layer ``l``. ``bˡ`` has shape ``(units_l,)`` or is absent.
- forward:  ``zˡ = Wˡ aˡ⁻¹ + bˡ``,  ``aˡ = f(zˡ)``,  ``a⁰ = x``.  In rows: ``Z = A Wᵀ + b``.
- output delta: ``δᴸ = ∂J/∂zᴸ`` (see :func:`deltaprop.losses.output_delta`).
- delta rule:  ``δˡ = f'(zˡ) ⊙ (Wˡ⁺¹)ᵀ δˡ⁺¹``.  In rows: ``Δˡ = (Δˡ⁺¹ Wˡ⁺¹) ⊙ f'(Zˡ)``.
- gradients of the batch error ``E = (1/n) Σᵢ J(oᵢ, tᵢ)``:
  ``∂E/∂Wˡ = (1/n) Σᵢ δˡᵢ (aˡ⁻¹ᵢ)ᵀ = (1/n) (Δˡ)ᵀ Aˡ⁻¹`` and ``∂E/∂bˡ = (1/n) Σᵢ δˡᵢ``.

Deltas are per sample (not divided by ``n``), as the tutorials show them; the ``1/n`` of the batch
mean enters the gradients. ``backward`` overwrites, never accumulates: calling it twice gives the
same gradients.

Memory layout (for speed; invisible to the math): every ``Wˡ`` and ``bˡ`` is a view into one flat
parameter vector θ (``Network.flat_params()``), in the order ``W1, b1, W2, …``; a workspace's
gradients are views into one flat vector laid out the same way. An optimizer then updates all
layers with one call per element-wise operation instead of one per parameter. Each ``Wˡ`` is
stored transposed: ``Wˡᵀ`` is C-contiguous, so ``Wˡ`` (shape still ``(units, inputs)``) is
F-contiguous. The products ``A Wᵀ`` and ``(∂E/∂W)ᵀ = Aᵀ Δ`` then read and write row-major
operands, which NumPy's BLAS runs 5–10 % faster at these shapes than the C-contiguous ``W``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .activations import Activation, get_activation
from .initializers import default_initializer, get_initializer
from .losses import Loss, get_loss, output_delta
from .validation import as_2d_float, check_dtype, check_int, check_sample_weight

Array = np.ndarray


@dataclass
class Dense:
    """A dense layer ``z = W a + b``, ``a = f(z)``; ``W`` is (units, inputs), ``b`` optional."""

    W: Array
    b: Array | None
    activation: Activation

    @property
    def units(self) -> int:
        return self.W.shape[0]

    @property
    def inputs(self) -> int:
        return self.W.shape[1]


@dataclass
class ForwardPass:
    """What the forward pass keeps: ``a[0] = x`` and, for ``l = 1 … L``, ``z[l-1]`` and ``a[l]``.

    ``z[i]`` and ``a[i + 1]`` are ``(n, units)`` arrays; ``output`` is ``a[-1]``. In the training
    loop's buffers ``z[i]`` may be the very array ``a[i + 1]`` (activation computed in place).
    """

    z: list[Array]
    a: list[Array]

    @property
    def output(self) -> Array:
        return self.a[-1]


@dataclass
class Gradients:
    """The backward pass: per-sample ``deltas[l-1]`` (n, units) and the batch gradients.

    ``weights[l-1] = ∂E/∂Wˡ`` (units, inputs), ``biases[l-1] = ∂E/∂bˡ`` (units,) or None.
    ``delta_scale`` is 1, or ``1/n`` when the training loop asked ``backward`` to fold the batch
    mean into the deltas (``scale_deltas=True``): the stored deltas are then ``delta_scale · δ``.
    """

    deltas: list[Array]
    weights: list[Array]
    biases: list[Array | None]
    delta_scale: float = 1.0

    def as_dict(self) -> dict[str, Array]:
        """Gradients keyed like :meth:`Network.params`: ``W1, b1, W2, …``."""
        out: dict[str, Array] = {}
        for i, (gW, gb) in enumerate(zip(self.weights, self.biases, strict=True), start=1):
            out[f"W{i}"] = gW
            if gb is not None:
                out[f"b{i}"] = gb
        return out


@dataclass
class Workspace:
    """Buffers reused by every batch of one size, so that training allocates nothing per batch.

    ``flat_grads`` is one vector holding every gradient, laid out like ``Network.flat_params()``;
    ``gradients.weights``/``biases`` and ``grads_by_name`` are views into it. ``ones`` is ``(n,)``
    of ones: ``∂E/∂b = 1ᵀ Δ`` as a matrix-vector product.
    """

    n: int
    x: Array
    t: Array
    forward: ForwardPass
    gradients: Gradients
    grads_by_name: dict[str, Array] = field(default_factory=dict)
    flat_grads: Array | None = None
    ones: Array | None = None


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
            layer.W = np.ascontiguousarray(layer.W, dtype=dt)
            if layer.b is not None:
                layer.b = np.ascontiguousarray(layer.b, dtype=dt)
            if not np.isfinite(layer.W).all() or (
                layer.b is not None and not np.isfinite(layer.b).all()
            ):
                raise ValueError(f"layer {i} has NaN or infinite weights")
        self.layers: list[Dense] = layers
        self.dtype: np.dtype = dt
        self._workspaces: dict[int, Workspace] = {}
        self._flat: Array = np.empty(0, dtype=dt)
        self._views: list[tuple[Array, Array | None]] = []
        self._pack()

    # --- the flat parameter vector -----------------------------------------------------------

    def _pack(self) -> None:
        """Copy every ``W`` and ``b`` into one new flat vector and make the layers hold views."""
        flat = np.empty(_flat_size(self.layers), dtype=self.dtype)
        views = _flat_views(flat, self.layers)
        for layer, (W, b) in zip(self.layers, views, strict=True):
            np.copyto(W, layer.W, casting="same_kind")
            layer.W = W
            if b is not None:
                np.copyto(b, layer.b, casting="same_kind")
                layer.b = b
        self._flat, self._views = flat, views

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
        He for the ReLU family and Glorot otherwise; biases start at zero.
        """
        sizes = list(sizes)
        if len(sizes) < 2 or any(
            isinstance(s, bool) or not isinstance(s, int | np.integer) or s < 1 for s in sizes
        ):
            raise ValueError(
                f"sizes must be at least two positive whole numbers (inputs first), got {sizes}"
            )
        n = len(sizes) - 1
        acts = _per_layer(activations, n, "activations")
        biases = _per_layer(bias, n, "bias")
        inits = _per_layer(init, n, "init")
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
        acts = _per_layer(activations, n, "activations")
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
        return Network(
            [
                Dense(ly.W.copy(), None if ly.b is None else ly.b.copy(), ly.activation)
                for ly in self.layers
            ],
            dtype=self.dtype,
        )

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

    def __repr__(self) -> str:
        acts = ", ".join(layer.activation.name for layer in self.layers)
        return f"Network(sizes={self.sizes}, activations=[{acts}], dtype={self.dtype})"

    # --- forward -----------------------------------------------------------------------------

    def check_input(self, x, name: str = "x") -> Array:
        """``x`` as an ``(n, inputs)`` array of the network's dtype, or a clear error."""
        return as_2d_float(x, name, self.dtype, n_columns=self.layers[0].inputs)

    def forward(self, x, workspace: Workspace | None = None) -> ForwardPass:
        """``zˡ = aˡ⁻¹ (Wˡ)ᵀ + bˡ``, ``aˡ = f(zˡ)`` for every layer, keeping each ``z`` and ``a``.

        Without a workspace, fresh arrays (``z`` and ``a`` distinct). With one, its buffers are
        filled (``x`` must then be ``workspace.x``) and ``a`` may overwrite ``z``.
        """
        if workspace is None:
            a = self.check_input(x)
            zs, activations = [], [a]
            for layer in self.layers:
                z = a @ layer.W.T
                if layer.b is not None:
                    z += layer.b
                a = layer.activation.forward(z)
                zs.append(z)
                activations.append(a)
            return ForwardPass(zs, activations)
        fp = workspace.forward
        a = fp.a[0]
        for layer, z, a_next in zip(self.layers, fp.z, fp.a[1:], strict=True):
            np.matmul(a, layer.W.T, out=z)
            if layer.b is not None:
                z += layer.b
            layer.activation.function(z, a_next)  # a = f(z), into the buffer (maybe z itself)
            a = a_next
        return fp

    def predict(self, x, batch_size: int | None = 4096) -> Array:
        """The network's output ``aᴸ`` for ``x`` (n, inputs), shape ``(n, outputs)``.

        ``batch_size`` rows at a time (None: all at once), each layer's ``a = f(z)`` written over
        its ``z``: besides the output it needs one batch-sized buffer per hidden layer, however
        many rows ``x`` has. The numbers are :meth:`forward`'s up to the last bits: BLAS may
        round a product of a few rows (a small last batch) differently from a larger one.
        """
        x = self.check_input(x)
        n = x.shape[0]
        rows = n if batch_size is None else check_int(batch_size, "batch_size", 1)
        rows = max(1, min(rows, n))
        out = np.empty((n, self.layers[-1].units), dtype=self.dtype)
        hidden = [np.empty((rows, layer.units), dtype=self.dtype) for layer in self.layers[:-1]]
        for start in range(0, n, rows):
            stop = min(start + rows, n)
            a = x[start:stop]
            for i, layer in enumerate(self.layers):
                z = out[start:stop] if i == len(hidden) else hidden[i][: stop - start]
                np.matmul(a, layer.W.T, out=z)
                if layer.b is not None:
                    z += layer.b
                a = layer.activation.function(z, z)
                if a is not z:  # an activation that returned a new array instead of writing z
                    np.copyto(z, a)
                    a = z
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
        scale_deltas: bool = False,
        target_rows_sum_to_one: bool | None = None,
    ) -> Gradients:
        """Deltas and gradients of ``E = (1/n) Σᵢ J(oᵢ, tᵢ)`` by the delta rule.

        ``δᴸ = ∂J/∂zᴸ``; ``δˡ = f'(zˡ) ⊙ (Wˡ⁺¹)ᵀ δˡ⁺¹``; ``∂E/∂Wˡ = (1/n) Σᵢ δˡᵢ (aˡ⁻¹ᵢ)ᵀ``;
        ``∂E/∂bˡ = (1/n) Σᵢ δˡᵢ``. ``use_shortcut=False`` forces the general chain-rule output
        delta even where ``o − t`` is valid. With ``sample_weight`` w the error is
        ``Σᵢ wᵢ Jᵢ / Σᵢ wᵢ``: every delta row is scaled by ``n wᵢ / Σ w`` (the rule is linear in δ).
        ``scale_deltas`` (workspace only) stores ``δ/n`` instead of ``δ`` (``Gradients.delta_scale``
        says so), which saves a pass over the gradients; the gradients are the same.
        ``target_rows_sum_to_one`` passes on a check of the targets already made (see
        :func:`deltaprop.losses.output_delta`).
        """
        loss = get_loss(loss)
        out = fp.output
        n = out.shape[0]
        if workspace is None:
            t = self.check_target(target, n)
            L = self.n_layers
            deltas: list[Array] = [None] * L  # type: ignore[list-item]
            g_w: list[Array] = [None] * L  # type: ignore[list-item]
            g_b: list[Array | None] = [None] * L
            last = self.layers[-1]
            deltas[-1] = output_delta(
                loss,
                last.activation,
                fp.z[-1],
                out,
                t,
                None,
                use_shortcut,
                target_rows_sum_to_one=target_rows_sum_to_one,
            )
            if sample_weight is not None:
                deltas[-1] *= _row_scale(sample_weight, n)
            for i in range(L - 1, -1, -1):
                layer = self.layers[i]
                g_w[i] = deltas[i].T @ fp.a[i] / n
                if layer.b is not None:
                    g_b[i] = deltas[i].sum(axis=0) / n
                if i > 0:
                    below = self.layers[i - 1]
                    back = deltas[i] @ layer.W  # (Wˡ⁺¹)ᵀ δˡ⁺¹, one row per sample
                    deltas[i - 1] = below.activation.vjp(fp.z[i - 1], fp.a[i], back, out=back)
            return Gradients(deltas, g_w, g_b)
        g = workspace.gradients
        t = workspace.t
        inv_n = 1.0 / n
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
        # The batch mean's 1/n, applied once: to δᴸ (n × k numbers; the delta rule and the
        # products are linear in δ, so every delta and gradient inherits it), or else to the
        # flat gradient vector after the loop.
        g.delta_scale = inv_n if scale_deltas else 1.0
        if scale_deltas:
            delta *= inv_n
        for i in range(self.n_layers - 1, -1, -1):
            layer = self.layers[i]
            gW = g.weights[i]
            if gW.flags.c_contiguous:
                np.matmul(delta.T, fp.a[i], out=gW)  # ∂E/∂Wˡ = Δˡᵀ Aˡ⁻¹
            else:
                np.matmul(fp.a[i].T, delta, out=gW.T)  # the transposed layout: (∂E/∂Wˡ)ᵀ
            if layer.b is not None:
                np.matmul(workspace.ones, delta, out=g.biases[i])  # ∂E/∂bˡ = 1ᵀ Δˡ
            if i > 0:
                back = g.deltas[i - 1]
                np.matmul(delta, layer.W, out=back)  # δˡ = f'(zˡ) ⊙ (Wˡ⁺¹)ᵀ δˡ⁺¹
                self.layers[i - 1].activation.vjp(fp.z[i - 1], fp.a[i], back, out=back)
                delta = back
        if not scale_deltas:
            workspace.flat_grads *= inv_n
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

    def workspace(self, n: int) -> Workspace:
        """Buffers for batches of ``n`` samples, made once and reused."""
        ws = self._workspaces.get(n)
        if ws is not None and ws.gradients.weights[0].shape == self.layers[0].W.shape:
            return ws
        dt = self.dtype
        x = np.empty((n, self.layers[0].inputs), dtype=dt)
        t = np.empty((n, self.layers[-1].units), dtype=dt)
        zs, acts = [], [x]
        for layer in self.layers:
            z = np.empty((n, layer.units), dtype=dt)
            in_place = layer.activation.derivative_from_output
            acts.append(z if in_place else np.empty_like(z))
            zs.append(z)
        flat_grads = np.zeros(_flat_size(self.layers), dtype=dt)
        views = _flat_views(flat_grads, self.layers)
        grads = Gradients(
            deltas=[np.empty((n, layer.units), dtype=dt) for layer in self.layers],
            weights=[gW for gW, _ in views],
            biases=[gb for _, gb in views],
        )
        ws = Workspace(
            n, x, t, ForwardPass(zs, acts), grads, flat_grads=flat_grads, ones=np.ones(n, dtype=dt)
        )
        ws.grads_by_name = grads.as_dict()
        self._workspaces[n] = ws
        return ws

    # --- Keras-like training -------------------------------------------------------------------

    def fit(self, x, y, **kwargs):
        """Train in place (arguments of :func:`deltaprop.training.fit`); returns the history."""
        from .training import fit

        return fit(self, x, y, **kwargs)


def _flat_size(layers: Sequence[Dense]) -> int:
    return sum(ly.W.size + (0 if ly.b is None else ly.b.size) for ly in layers)


def _flat_views(flat: Array, layers: Sequence[Dense]) -> list[tuple[Array, Array | None]]:
    """``(W, b)`` views into ``flat`` for every layer, in the order ``W1, b1, W2, …``.

    Each ``W`` is laid out transposed (see the module docstring).
    """
    views: list[tuple[Array, Array | None]] = []
    offset = 0
    for layer in layers:
        units, inputs = layer.W.shape
        chunk = flat[offset : offset + units * inputs]
        W = chunk.reshape(inputs, units).T  # Wᵀ row-major: W is F-contiguous
        offset += units * inputs
        b = None
        if layer.b is not None:
            b = flat[offset : offset + units]
            offset += units
        views.append((W, b))
    return views


def _row_scale(sample_weight: Array, n: int) -> Array:
    return (sample_weight * (n / np.sum(sample_weight)))[:, None]


def _per_layer(value, n: int, name: str) -> list:
    if isinstance(value, str | bool) or value is None or callable(value):
        return [value] * n
    try:
        value = list(value)
    except TypeError:
        raise TypeError(
            f"{name} must be a name or one per layer, got {type(value).__name__}"
        ) from None
    if len(value) != n:
        raise ValueError(f"{name} has {len(value)} entries, expected one per layer ({n})")
    return value
