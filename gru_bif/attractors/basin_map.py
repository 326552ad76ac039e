"""Basin maps: a grid of initial states on a 2-D slice of state space, each coloured by
the attractor it reaches."""

from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from .._custom_types import Args, Array, Float, Int
from ..models.gru import GRU
from ..problem import Problem
from ..simulate import resolve_field
from .find import _check_states, find_attractors
from .results import Attractors


class BasinMap(eqx.Module):
    """The result of [`gru_bif.attractors.basin_map`][].

    **Fields:**

    - `labels`: `(m, n)` the attractor reached from each grid state (`-1`: none; see
        `attractors.reason`), row `i` at `y[i]`, column `j` at `x[j]` (the layout of
        `matplotlib`'s `pcolormesh(x, y, labels)`).
    - `x`: `(n,)` and `y`: `(m,)` the grid's coordinates along the slice's two axes.
    - `axes`: the two state coordinates the slice spans; `base`: `(d,)` the state the
        other coordinates are taken from.
    - `attractors`: the [`gru_bif.attractors.Attractors`][] found from the grid's states
        (sample `i·n + j` is grid point `(i, j)`).
    """

    labels: Int[Array, "m n"]
    x: Float[Array, " n"]
    y: Float[Array, " m"]
    base: Float[Array, " d"]
    attractors: Attractors
    axes: tuple[int, int] = eqx.field(static=True)


def basin_map(
    field: "Callable | GRU | Problem",
    args: Args = None,
    lo: Any = None,
    hi: Any = None,
    *,
    shape: tuple[int, int] = (101, 101),
    axes: tuple[int, int] = (0, 1),
    base: Any = None,
    **find_kwargs,
) -> BasinMap:
    """Colour a grid of initial states on a 2-D slice by the attractor each reaches.

    **Arguments:**

    - `field`, `args`: as for [`gru_bif.attractors.find_attractors`][].
    - `lo`, `hi`: the slice's corners, pairs `(lo_x, lo_y)`, `(hi_x, hi_y)` along
        `axes`.
    - `shape`: `(n, m)`: `n` points along the first axis, `m` along the second
        (default 101 × 101; both at least 2).
    - `axes`: the two state coordinates the slice spans (default `(0, 1)`).
    - `base`: `(d,)` the state the other coordinates are taken from (required when
        `d > 2`; ignored entries along `axes`).
    - `**find_kwargs`: passed to `find_attractors`.

    **Returns:** a [`gru_bif.attractors.BasinMap`][].

    **Raises:** `ValueError` for a bad slice: corners that are not pairs with `lo < hi`,
    a grid with fewer than 2 points per axis, axes that are not two different
    coordinates of the state, or a missing/ill-shaped `base` for `d > 2`.
    """
    f, args_ = resolve_field(field, args)
    if lo is None or hi is None:
        raise ValueError("Give the slice's corners `lo` and `hi`, pairs (x, y).")
    lo = np.asarray(lo, float).reshape(-1)
    hi = np.asarray(hi, float).reshape(-1)
    if lo.shape != (2,) or hi.shape != (2,):
        raise ValueError(
            f"`lo` and `hi` must be pairs (x, y) along `axes`; got shapes {lo.shape}, "
            f"{hi.shape}."
        )
    if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi)) and np.all(lo < hi)):
        raise ValueError(f"the slice needs finite corners with lo < hi; got {lo}, {hi}.")
    try:
        n, m = (int(v) for v in shape)
    except (TypeError, ValueError):
        raise ValueError(f"`shape` must be a pair (n, m) of ints; got {shape!r}.") from None
    if n < 2 or m < 2:
        raise ValueError(
            f"shape={shape}: the grid needs at least 2 points along each axis."
        )
    a0, a1 = (int(v) for v in axes)
    if base is None:
        d = 2
        base_ = np.zeros(2)
    else:
        base_ = np.asarray(base, float).reshape(-1)
        if not np.all(np.isfinite(base_)):
            raise ValueError(f"`base` contains NaN or inf: {base_}.")
        d = base_.shape[0]
    if a0 == a1 or not (0 <= a0 < d and 0 <= a1 < d):
        raise ValueError(
            f"axes={axes}: two different state coordinates in 0..{d - 1} are needed"
            + (" (give `base` of shape (d,) for a state of more than 2 dimensions)."
               if base is None else ".")
        )
    xs = np.linspace(lo[0], hi[0], n)
    ys = np.linspace(lo[1], hi[1], m)
    X, Y = np.meshgrid(xs, ys)  # (m, n)
    states = np.tile(base_, (m * n, 1))
    states[:, a0] = X.reshape(-1)
    states[:, a1] = Y.reshape(-1)
    dtype = jnp.result_type(float)
    try:
        states = _check_states(f, args_, jnp.asarray(states, dtype))
    except ValueError as e:
        raise ValueError(
            f"{e} The slice's states have d = {d} entries "
            + ("(no `base` given: a 2-D system is assumed); for a system of more "
               "dimensions give `base`, a state of shape (d,) the other coordinates are "
               "taken from." if base is None else
               "(the length of `base`): give `base` of the system's dimension.")
        ) from e
    att = find_attractors(f, args_, states, **find_kwargs)
    return BasinMap(
        labels=att.labels.reshape(m, n),
        x=jnp.asarray(xs, dtype),
        y=jnp.asarray(ys, dtype),
        base=jnp.asarray(base_, dtype),
        attractors=att,
        axes=(a0, a1),
    )
