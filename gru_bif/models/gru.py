"""The continuous-time GRU.

A discrete GRU step `h⁺ = z ⊙ h + (1 − z) ⊙ ĥ` is the Euler step (Δt = 1) of

    dh/dt = (1 − z) ⊙ (ĥ − h),
    z = σ(W_z u + U_z h + b_z),  r = σ(W_r u + U_r h + b_r),
    ĥ = tanh(W_h u + U_h (r ⊙ h) + b_h)              (reset="before", Cho et al. 2014)
    ĥ = tanh(W_h u + b_h + r ⊙ (U_h h + b_hh))       (reset="after", PyTorch/cuDNN/Keras)

so `h_next − h` of the discrete library step equals the vector field exactly.

Converters (`GRU.from_torch`, `GRU.from_keras`, `GRU.from_flax`, `GRU.from_equinox`) map
each library's weight layout and gate order onto these fields; `GRU.random` draws seeded
Gaussian weights; `save`/`load` (`.json`, `.npz`) and `to_dict`/`from_dict` round-trip
bit for bit. Library gate orders, for reference:

| library                | gate order        | reset  | biases                                   |
|------------------------|-------------------|--------|------------------------------------------|
| torch.nn.GRU / GRUCell | r, z, n (rows)    | after  | bias_ih, bias_hh (3d each)               |
| equinox.nn.GRUCell     | r, z, n (rows)    | after  | bias (3d, input side), bias_n (d)        |
| Keras GRU              | z, r, h (columns) | either | (2, 3d) if reset_after else (3d,)        |
| flax.linen.GRUCell     | ir, iz, in, hr..  | after  | ir, iz, in, hn have biases; hr, hz not   |
"""

import functools
import json
import os
from collections.abc import Mapping
from typing import Any, Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._compile import jit
from .._custom_types import Array, Float
from ._checks import (
    _check_finite,
    _check_scale,
    _check_shape,
    _check_size,
    _is_traced,
    _nonzero,
    _source_array,
    _weight_array,
)

_RESETS = ("before", "after")
_FIELDS = ("Wz", "Wr", "Wh", "Uz", "Ur", "Uh", "bz", "br", "bh", "bhh")
_FORMAT = "gru_bif.GRU"
_FORMAT_VERSION = 1


@functools.partial(jit, static_argnums=(4, 5, 6, 7))
def _random_weights(key, scale, input_scale, bias_scale, d, m, reset, dtype):
    """The Gaussian weights of `GRU.random`: one standard-normal draw, cut into pieces
    (one random-number call keeps the compiled graph small)."""
    u_std = scale / np.sqrt(d)
    w_std = input_scale / np.sqrt(max(m, 1))
    pieces = [
        ("Uh", (d, d), u_std), ("Uz", (d, d), u_std), ("Ur", (d, d), u_std),
        ("Wz", (d, m), w_std), ("Wr", (d, m), w_std), ("Wh", (d, m), w_std),
        ("bz", (d,), bias_scale), ("br", (d,), bias_scale), ("bh", (d,), bias_scale),
    ]
    if reset == "after":
        pieces.append(("bhh", (d,), bias_scale))
    sizes = [int(np.prod(shape)) for _, shape, _ in pieces]
    z = jax.random.normal(key, (sum(sizes),), dtype)
    out, start = {}, 0
    for (name, shape, std), size in zip(pieces, sizes):
        out[name] = (std * z[start : start + size].reshape(shape)).astype(dtype)
        start += size
    return out


@jit
def _gates(gru, h, u):
    """`(z, r, ĥ)`: a nested `jit`, so that JAX traces, differentiates and batches the
    gates once per shape and transformation rather than at every call site (XLA inlines
    it again)."""
    z = jax.nn.sigmoid(gru.Wz @ u + gru.Uz @ h + gru.bz)
    r = jax.nn.sigmoid(gru.Wr @ u + gru.Ur @ h + gru.br)
    if gru.reset == "before":
        hhat = jnp.tanh(gru.Wh @ u + gru.Uh @ (r * h) + gru.bh)
    else:
        hhat = jnp.tanh(gru.Wh @ u + gru.bh + r * (gru.Uh @ h + gru.bhh))
    return z, r, hhat


class GRU(eqx.Module):
    """A continuous-time gated recurrent unit of hidden size `d` and input size `m`.

    Called as `gru(t, h, u)`, a Diffrax vector field (`u` is the constant input, shape
    `(m,)`; `None` or an empty array when `m = 0`).

    **Arguments:**

    - `Wz, Wr, Wh`: input weights, shape `(d, m)`.
    - `Uz, Ur, Uh`: recurrent weights, shape `(d, d)`.
    - `bz, br, bh`: biases, shape `(d,)` (for `reset="after"`, `bh` is the input-side
        candidate bias `b_ih`).
    - `bhh`: recurrent-side candidate bias `b_hh`, shape `(d,)`, used only with
        `reset="after"` (zeros otherwise).
    - `reset`: `"before"` (the paper's convention, reset applied to h before `U_h`) or
        `"after"` (PyTorch/cuDNN/Keras default, reset applied to `U_h h + b_hh`).

    **Raises:** `ValueError` for inconsistent shapes, NaN/inf weights or an unknown
    `reset`. (Under `jit`/`vmap` the weights are tracers and only shapes are checked.)

    Other constructors: `GRU.random` (seeded Gaussian weights), `GRU.from_torch`,
    `GRU.from_keras`, `GRU.from_flax`, `GRU.from_equinox` (trained weights; one discrete
    step of the library equals `h + gru(0, h, u)`), `GRU.load` / `GRU.from_dict`.

    !!! example

        ```python
        gru = GRU.random(jax.random.key(0), hidden_size=3, scale=2.0)
        gru(0.0, jnp.zeros(3))                    # dh/dt at h = 0 (no input, m = 0)
        gru = GRU.from_torch(torch.nn.GRU(2, 3))  # reset="after"
        gru.save("gru.json"); GRU.load("gru.json")
        ```
    """

    Wz: Float[Array, "d m"]
    Wr: Float[Array, "d m"]
    Wh: Float[Array, "d m"]
    Uz: Float[Array, "d d"]
    Ur: Float[Array, "d d"]
    Uh: Float[Array, "d d"]
    bz: Float[Array, " d"]
    br: Float[Array, " d"]
    bh: Float[Array, " d"]
    bhh: Float[Array, " d"]
    reset: str = eqx.field(static=True)

    def __init__(
        self,
        Uh,
        bh=None,
        *,
        Uz=None,
        Ur=None,
        bz=None,
        br=None,
        Wz=None,
        Wr=None,
        Wh=None,
        bhh=None,
        reset: Literal["before", "after"] = "before",
        dtype=None,
    ):
        if reset not in _RESETS:
            raise ValueError(
                f"Unknown reset convention {reset!r}; use 'before' (reset applied to h "
                "before U_h, the paper's and Cho et al.'s) or 'after' (PyTorch/Keras)."
            )
        dtype = jnp.result_type(float) if dtype is None else dtype
        Uh_ = jnp.asarray(Uh, dtype=dtype)
        if Uh_.ndim != 2 or Uh_.shape[0] != Uh_.shape[1]:
            raise ValueError(
                f"Uh must be a square (d, d) matrix; got shape {Uh_.shape}."
            )
        d = Uh_.shape[0]
        m = None
        for name, W in (("Wz", Wz), ("Wr", Wr), ("Wh", Wh)):
            if W is not None:
                shape = np.shape(W)
                if len(shape) != 2 or shape[0] != d:
                    raise ValueError(
                        f"{name} must have shape (d, m) = ({d}, m); got {shape}."
                    )
                if m is not None and shape[1] != m:
                    raise ValueError(
                        f"Input weights disagree on the input size m: {name} has "
                        f"{shape[1]} columns, another has {m}."
                    )
                m = shape[1]
        m = 0 if m is None else m

        def mat(name, x, shape):
            if x is None:
                return jnp.zeros(shape, dtype)
            x = jnp.asarray(x, dtype=dtype)
            if x.shape != shape:
                raise ValueError(f"{name} must have shape {shape}; got {x.shape}.")
            _check_finite(name, x)
            return x

        _check_finite("Uh", Uh_)
        self.Uh = Uh_
        self.Uz = mat("Uz", Uz, (d, d))
        self.Ur = mat("Ur", Ur, (d, d))
        self.Wz = mat("Wz", Wz, (d, m))
        self.Wr = mat("Wr", Wr, (d, m))
        self.Wh = mat("Wh", Wh, (d, m))
        self.bz = mat("bz", bz, (d,))
        self.br = mat("br", br, (d,))
        self.bh = mat("bh", bh, (d,))
        self.bhh = mat("bhh", bhh, (d,))
        if reset == "before" and bhh is not None and _nonzero(bhh):
            raise ValueError(
                "bhh (the recurrent candidate bias) is only used with reset='after'; with "
                "reset='before' fold it into bh."
            )
        self.reset = reset

    # ----------------------------------------------------------------- properties
    @property
    def hidden_size(self) -> int:
        return self.Uh.shape[0]

    @property
    def input_size(self) -> int:
        return self.Wz.shape[1]

    # ----------------------------------------------------------------- dynamics
    def _input(self, u):
        m = self.input_size
        if u is None:
            if m:
                raise ValueError(
                    f"This GRU has input size {m}; pass an input u of shape ({m},)."
                )
            return jnp.zeros((0,), self.Uh.dtype)
        u = jnp.asarray(u)
        if u.shape != (m,):
            raise ValueError(
                f"Input u has shape {u.shape}; this GRU expects shape ({m},)."
            )
        return u

    def gates(self, h, u=None):
        """Return `(z, r, ĥ)` at state `h` and input `u`."""
        return _gates(self, h, self._input(u))

    def __call__(self, t, h, u=None):
        z, _, hhat = self.gates(h, u)
        return (1 - z) * (hhat - h)

    def candidate_residual(self, h, u=None):
        """`ĥ(h) − h`: the same zeros as the vector field (since 1 − z > 0) but without
        the update gate's saturation, so Newton converges far more reliably on it."""
        _, _, hhat = self.gates(h, u)
        return hhat - h

    def step(self, h, u=None):
        """One discrete GRU step `h⁺ = z ⊙ h + (1 − z) ⊙ ĥ` (equals `h + gru(0, h, u)`)."""
        z, _, hhat = self.gates(h, u)
        return z * h + (1 - z) * hhat

    # ----------------------------------------------------------------- construction
    @classmethod
    def random(
        cls,
        key,
        hidden_size: int,
        input_size: int = 0,
        *,
        scale=1.0,
        input_scale=1.0,
        bias_scale=0.0,
        reset: Literal["before", "after"] = "before",
        dtype=None,
    ) -> "GRU":
        """A GRU with independent Gaussian weights.

        Recurrent weights `U_z, U_r, U_h` have entries `N(0, scale² / d)` (so the
        spectral radius of `U_h` is about `scale` for large `d`); input weights
        `W_z, W_r, W_h` have entries `N(0, input_scale² / m)`; biases `b_z, b_r, b_h`
        (and `b_hh` for `reset="after"`) have entries `N(0, bias_scale²)`, so the
        default biases are zero.

        Traceable in `key` and the scales: `jax.vmap(lambda k: GRU.random(k, 3))(keys)`
        gives a batch of GRUs.

        **Arguments:**

        - `key`: a JAX PRNG key.
        - `hidden_size`: `d ≥ 1`.
        - `input_size`: `m ≥ 0`.
        - `scale`, `input_scale`, `bias_scale`: standard-deviation factors (≥ 0).
        - `reset`: `"before"` or `"after"`.
        - `dtype`: floating dtype (default: JAX's default float).

        **Returns:** a `GRU`.

        **Raises:** `ValueError` for a non-integer or too small size, a negative or
        non-finite scale, or an unknown `reset`.
        """
        d = _check_size("hidden_size", hidden_size, 1)
        m = _check_size("input_size", input_size, 0)
        for name, value in (
            ("scale", scale),
            ("input_scale", input_scale),
            ("bias_scale", bias_scale),
        ):
            _check_scale(name, value)
        if reset not in _RESETS:
            raise ValueError(
                f"Unknown reset convention {reset!r}; use 'before' or 'after'."
            )
        dtype = jnp.dtype(jnp.result_type(float) if dtype is None else dtype)
        weights = _random_weights(key, scale, input_scale, bias_scale, d, m, reset, dtype)
        return cls(**weights, reset=reset, dtype=dtype)

    @classmethod
    def from_torch(cls, module_or_state_dict, *, layer: int | None = None, dtype=None) -> "GRU":
        """Convert a PyTorch GRU.

        PyTorch computes (gates stacked in the order `r, z, n` in `weight_ih`,
        `weight_hh`, `bias_ih`, `bias_hh`)

            r = σ(W_ir x + b_ir + W_hr h + b_hr)
            z = σ(W_iz x + b_iz + W_hz h + b_hz)
            n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
            h' = (1 − z) ⊙ n + z ⊙ h

        which is `reset="after"` with `b_z = b_iz + b_hz`, `b_r = b_ir + b_hr`,
        `b_h = b_in`, `b_hh = b_hn`; `h' − h` equals the vector field.

        **Arguments:**

        - `module_or_state_dict`: a `torch.nn.GRU` (unidirectional), a
            `torch.nn.GRUCell`, or a state dict of either (keys `weight_ih_l0`,
            `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, or `weight_ih`, `weight_hh`,
            `bias_ih`, `bias_hh`; bias keys may be absent for `bias=False`). Tensors are
            read with `.detach().cpu().numpy()`; NumPy arrays work too.
        - `layer`: for a multi-layer `torch.nn.GRU`, which layer to convert (its input
            is the previous layer's output). Required when there is more than one layer.
        - `dtype`: floating dtype of the result (default: JAX's default float).

        **Returns:** a `GRU` with `reset="after"`.

        **Raises:** `ValueError` for another type of module, bidirectional GRUs, several
        layers without `layer`, missing or unknown state-dict keys, inconsistent shapes,
        or NaN/inf weights.

        torch is imported only when a module (not a dict) is passed.
        """
        from .gru_io import from_torch

        return from_torch(cls, module_or_state_dict, layer=layer, dtype=dtype)

    @classmethod
    def from_keras(
        cls, kernel, recurrent_kernel=None, bias=None, *, reset_after: bool = True, dtype=None
    ) -> "GRU":
        """Convert Keras GRU weights (`keras.layers.GRU` / `GRUCell`, Keras 2 and 3).

        Keras stacks the gates in the order `z, r, h` along the last axis of
        `kernel` (shape `(m, 3d)`) and `recurrent_kernel` (shape `(d, 3d)`), multiplies
        row vectors from the right (`x @ kernel`), and updates
        `h' = z ⊙ h + (1 − z) ⊙ ĥ` — the same convention as ours. With
        `reset_after=True` (the Keras 2.3+/cuDNN default) `bias` has shape `(2, 3d)`:
        row 0 the input bias, row 1 the recurrent bias, and
        `ĥ = tanh(x W_h + b_ih + r ⊙ (h U_h + b_hh))` (our `reset="after"`, with
        `b_z`, `b_r` the sums of the two rows). With `reset_after=False`, `bias` has shape
        `(3d,)` and `ĥ = tanh(x W_h + b_h + (r ⊙ h) U_h)` (our `reset="before"`).

        **Arguments:**

        - `kernel`: input kernel, shape `(m, 3d)`; or a built Keras GRU layer or cell
            (anything with `get_weights()`; then `reset_after` is read from it and its
            activations must be `tanh` and `sigmoid`).
        - `recurrent_kernel`: shape `(d, 3d)`.
        - `bias`: shape `(2, 3d)` (`reset_after=True`), `(3d,)` (`reset_after=False`), or
            `None` for `use_bias=False`.
        - `reset_after`: the layer's `reset_after` setting.
        - `dtype`: floating dtype of the result (default: JAX's default float).

        **Returns:** a `GRU` with `reset="after"` if `reset_after` else `"before"`.

        **Raises:** `ValueError` for inconsistent shapes (including a bias whose shape
        belongs to the other `reset_after`), NaN/inf weights, an unbuilt layer, or other
        activations than `tanh`/`sigmoid`.
        """
        from .gru_io import from_keras

        return from_keras(cls, kernel, recurrent_kernel, bias, reset_after=reset_after, dtype=dtype)

    @classmethod
    def from_flax(cls, params, *, dtype=None) -> "GRU":
        """Convert the parameters of a `flax.linen.GRUCell`.

        Flax computes (`Dense` kernels have shape `(in, out)` and act as `x @ kernel`)

            r = σ(x W_ir + b_ir + h W_hr)
            z = σ(x W_iz + b_iz + h W_hz)
            n = tanh(x W_in + b_in + r ⊙ (h W_hn + b_hn))
            h' = (1 − z) ⊙ n + z ⊙ h

        which is `reset="after"` with `W = kernel.T`, `b_z = b_iz`, `b_r = b_ir`,
        `b_h = b_in`, `b_hh = b_hn`.

        **Arguments:**

        - `params`: `{"ir": {"kernel", "bias"}, "iz": {...}, "in": {...},
            "hr": {"kernel"}, "hz": {"kernel"}, "hn": {"kernel", "bias"}}`, or the same
            wrapped as `{"params": {...}}` (what `GRUCell.init` returns).
        - `dtype`: floating dtype of the result (default: JAX's default float).

        **Returns:** a `GRU` with `reset="after"`.

        **Raises:** `ValueError` for missing or unknown entries, inconsistent shapes or
        NaN/inf weights.
        """
        from .gru_io import from_flax

        return from_flax(cls, params, dtype=dtype)

    @classmethod
    def from_equinox(cls, cell: eqx.nn.GRUCell, *, dtype=None) -> "GRU":
        """Convert an `equinox.nn.GRUCell`.

        Equinox stacks the gates in the order `r, z, n` along the first axis of
        `weight_ih` `(3d, m)` and `weight_hh` `(3d, d)`; `bias` `(3d,)` is added on the
        input side of all three gates and `bias_n` `(d,)` inside the reset product:

            r = σ(W_ir x + b_r + W_hr h),  z = σ(W_iz x + b_z + W_hz h)
            n = tanh(W_in x + b_n + r ⊙ (W_hn h + bias_n)),  h' = n + z ⊙ (h − n)

        i.e. `reset="after"` with `b_hh = bias_n`. Works on traced cells (e.g. inside
        `vmap`).

        **Arguments:**

        - `cell`: an `equinox.nn.GRUCell` (with or without bias).
        - `dtype`: floating dtype of the result (default: JAX's default float).

        **Returns:** a `GRU` with `reset="after"`.

        **Raises:** `ValueError` for another type or NaN/inf weights.
        """
        from .gru_io import from_equinox

        return from_equinox(cls, cell, dtype=dtype)

    # ----------------------------------------------------------------- serialisation
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict: `format`, `version`, `reset`, `hidden_size`, `input_size`,
        `dtype`, and each weight as nested lists of Python floats (which `json` writes
        with `repr`, so reading them back is exact). Inverse: `GRU.from_dict`."""
        if any(_is_traced(getattr(self, f)) for f in _FIELDS):
            raise ValueError("GRU.to_dict needs concrete weights; call it outside jit/vmap.")
        out: dict[str, Any] = {
            "format": _FORMAT,
            "version": _FORMAT_VERSION,
            "reset": self.reset,
            "hidden_size": self.hidden_size,
            "input_size": self.input_size,
            "dtype": str(self.Uh.dtype),
        }
        for f in _FIELDS:
            out[f] = np.asarray(getattr(self, f)).tolist()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str | None = None) -> "GRU":
        """Inverse of `to_dict` (also accepts arrays in place of nested lists).

        **Raises:** `ValueError` for another format or version, missing or unknown keys,
        a weight entry that is not a number (named: `'Uh'[0][1] is 'abc'`), or weights
        of the wrong shape. `source` (a file name, say) starts every message; default
        `"GRU.from_dict"`.
        """
        source = source or "GRU.from_dict"
        if not isinstance(data, Mapping):
            raise ValueError(f"{source} expects a dict; got a {type(data).__name__}.")
        if data.get("format") != _FORMAT:
            raise ValueError(
                f"{source}: 'format' is {data.get('format')!r}; expected {_FORMAT!r} (a dict "
                "written by GRU.to_dict / GRU.save)."
            )
        version = data.get("version")
        if version != _FORMAT_VERSION:
            raise ValueError(
                f"{source}: format version {version!r} is not supported (this gru_bif reads "
                f"version {_FORMAT_VERSION}); upgrade gru_bif."
            )
        expected = {"format", "version", "reset", "hidden_size", "input_size", "dtype", *_FIELDS}
        unknown = sorted(set(map(str, data)) - expected)
        missing = sorted(expected - set(map(str, data)))
        if unknown or missing:
            raise ValueError(
                f"{source}: unknown keys {unknown}, missing keys {missing}; expected "
                f"{sorted(expected)}."
            )
        try:
            d = _check_size("hidden_size", data["hidden_size"], 1)
            m = _check_size("input_size", data["input_size"], 0)
        except ValueError as e:
            raise ValueError(f"{source}: {e}") from None
        try:
            dtype = np.dtype(str(data["dtype"]))
        except TypeError as e:
            raise ValueError(f"{source}: unknown dtype {data['dtype']!r}.") from e
        if dtype.kind != "f":
            raise ValueError(
                f"{source}: 'dtype' is {data['dtype']!r}; GRU weights are floating point "
                "('float32' or 'float64')."
            )
        shapes = {
            "Wz": (d, m), "Wr": (d, m), "Wh": (d, m),
            "Uz": (d, d), "Ur": (d, d), "Uh": (d, d),
            "bz": (d,), "br": (d,), "bh": (d,), "bhh": (d,),
        }
        arrays = {}
        for f in _FIELDS:
            arr = _source_array(source, f, _weight_array(source, f, data[f], dtype, shapes[f]))
            if arr.size == 0 and int(np.prod(shapes[f])) == 0:
                arr = arr.reshape(shapes[f])
            _check_shape(source, f, arr, shapes[f])
            arrays[f] = arr
        try:
            reset = data["reset"]
            return cls(**arrays, reset=str(reset) if isinstance(reset, str) else reset,
                       dtype=dtype)
        except ValueError as e:  # e.g. a non-zero bhh with reset='before'
            raise ValueError(f"{source}: {e}") from None

    def save(self, path: str | os.PathLike) -> None:
        """Write to `path`: `.json` (the `to_dict` dict; floats written with `repr`, read
        back exactly) or `.npz` (the arrays, bit for bit, plus the same metadata). The
        file is written whole or not at all (a temporary file, then a rename).

        **Raises:** `ValueError` for another suffix.
        """
        from .._io import atomic_path

        path = os.fspath(path)
        suffix = os.path.splitext(path)[1].lower()
        if suffix == ".json":
            with atomic_path(path) as tmp, open(tmp, "w") as f:
                json.dump(self.to_dict(), f)
                f.write("\n")
        elif suffix == ".npz":
            meta = self.to_dict()
            arrays = {k: np.asarray(getattr(self, k)) for k in _FIELDS}
            scalars = {k: np.asarray(v) for k, v in meta.items() if k not in _FIELDS}
            with atomic_path(path) as tmp, open(tmp, "wb") as f:
                np.savez(f, **scalars, **arrays)
        else:
            raise ValueError(
                f"GRU.save: unknown file suffix {suffix!r} in {path!r}; use '.json' or '.npz'."
            )

    @classmethod
    def load(cls, path: str | os.PathLike) -> "GRU":
        """Read a GRU written by `save` (`.json` or `.npz`); exact round trip.

        **Raises:** `ValueError` naming the file (and the entry) for another suffix or a
        file not written by `save` (not valid JSON, a truncated archive, a weight that
        is not a number, ...); `FileNotFoundError` for a missing file.
        """
        from .._io import read_json

        path = os.fspath(path)
        suffix = os.path.splitext(path)[1].lower()
        if suffix == ".json":
            data = read_json(path, "a GRU written by GRU.save")
        elif suffix == ".npz":
            if not os.path.exists(path):
                raise FileNotFoundError(f"No such file: {path!r}.")
            try:
                with np.load(path, allow_pickle=False) as f:
                    data = {k: f[k] for k in f.files}
            except Exception as e:  # zipfile.BadZipFile, zlib.error, EOFError, ...
                raise ValueError(
                    f"{path}: not a readable .npz file ({type(e).__name__}: {e}); it may "
                    "be truncated. Expected a GRU written by GRU.save."
                ) from e
            for k in ("format", "reset", "dtype"):
                if k in data:
                    data[k] = str(data[k])
            for k in ("version", "hidden_size", "input_size"):
                if k in data:
                    v = data[k]
                    if np.shape(v) != () or np.asarray(v).dtype.kind not in "iu":
                        raise ValueError(
                            f"{path}: array {k!r} is {v!r}; expected an integer."
                        )
                    data[k] = int(v)
        else:
            raise ValueError(
                f"GRU.load: unknown file suffix {suffix!r} in {path!r}; use '.json' or '.npz'."
            )
        return cls.from_dict(data, source=path)


def gru_vector_field(t, h, args):
    """Vector field of a GRU problem: `args = {"gru": GRU, "u": input}`."""
    return args["gru"](t, h, args["u"])


def gru_candidate_residual(t, h, args):
    """`ĥ − h` for a GRU problem (same zeros as `gru_vector_field`)."""
    return args["gru"].candidate_residual(h, args["u"])
