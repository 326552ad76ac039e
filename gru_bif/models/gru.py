"""The continuous-time GRU.

A discrete GRU step `h⁺ = z ⊙ h + (1 − z) ⊙ ĥ` is the Euler step (Δt = 1) of

    dh/dt = (1 − z) ⊙ (ĥ − h),
    z = σ(W_z u + U_z h + b_z),  r = σ(W_r u + U_r h + b_r),
    ĥ = tanh(W_h u + U_h (r ⊙ h) + b_h)              (reset="before", Cho et al. 2014)
    ĥ = tanh(W_h u + b_h + r ⊙ (U_h h + b_hh))       (reset="after", PyTorch/cuDNN/Keras)

so `h_next − h` of the discrete library step equals the vector field exactly.
"""

from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._custom_types import Array, Float

_RESETS = ("before", "after")


def _check_finite(name: str, x) -> None:
    try:
        arr = np.asarray(x)
    except Exception:  # traced values: cannot check here
        return
    if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
        bad = int(np.size(arr) - np.count_nonzero(np.isfinite(arr)))
        raise ValueError(
            f"GRU weight {name!r} contains {bad} NaN or inf entries; pass finite weights "
            "(check the trained model or the file it was loaded from)."
        )


def _nonzero(x) -> bool:
    try:
        return bool(np.any(np.asarray(x) != 0))
    except Exception:  # traced
        return False


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
    `reset`.
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
        u = self._input(u)
        z = jax.nn.sigmoid(self.Wz @ u + self.Uz @ h + self.bz)
        r = jax.nn.sigmoid(self.Wr @ u + self.Ur @ h + self.br)
        if self.reset == "before":
            hhat = jnp.tanh(self.Wh @ u + self.Uh @ (r * h) + self.bh)
        else:
            hhat = jnp.tanh(self.Wh @ u + self.bh + r * (self.Uh @ h + self.bhh))
        return z, r, hhat

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


def gru_vector_field(t, h, args):
    """Vector field of a GRU problem: `args = {"gru": GRU, "u": input}`."""
    return args["gru"](t, h, args["u"])


def gru_candidate_residual(t, h, args):
    """`ĥ − h` for a GRU problem (same zeros as `gru_vector_field`)."""
    return args["gru"].candidate_residual(h, args["u"])
