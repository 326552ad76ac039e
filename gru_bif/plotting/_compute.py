"""The numbers the pictures need, computed apart from the drawing: the vector field on a
plotting grid, equilibria in a plotting window, trajectories from the starts of a
portrait, the flow on a 1-D line, a saddle's eigen-directions. Each function returns NumPy arrays (or library results); none draws.

(`gru_bif.plotting.region_counts` is `gru_bif.curves.region_counts`, re-exported.)
"""

from collections.abc import Callable
import jax
import jax.numpy as jnp
import numpy as np

from .._compile import jit
from .._custom_types import Args


def resolve_field(f_or_problem_or_gru, args) -> tuple[Callable, Args]:
    """`(f, args)` from a vector field, a `Problem` or a `GRU` (and its input)."""
    from ..simulate import resolve_field

    return resolve_field(f_or_problem_or_gru, args)


def is_gru_field(f) -> bool:
    """Whether `f` is the GRU vector field (whose equilibria lie in the cube (−1, 1)^d)."""
    from ..models.gru import gru_vector_field
    from ..problem import field_function

    return field_function(f) is gru_vector_field


def probe(f, args, d: int):
    """The output shape of f at a state of shape (d,), or None if f fails there."""
    try:
        return jax.eval_shape(
            lambda x: f(0.0, x, args), jax.ShapeDtypeStruct((d,), jnp.result_type(float))
        )
    except Exception:
        return None


def grid_field(f, args, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """The vector field on the grid `xs × ys`: shape (len(ys), len(xs), 2)."""
    X, Y = np.meshgrid(xs, ys)
    pts = jnp.asarray(np.stack([X.ravel(), Y.ravel()], axis=1), dtype=jnp.result_type(float))
    V = jit(jax.vmap(lambda p: f(0.0, p, args)))(pts)
    return np.asarray(V).reshape(len(ys), len(xs), 2)


def line_field(f, args, hs: np.ndarray) -> np.ndarray:
    """A 1-D vector field at the points `hs`: shape (len(hs),)."""
    return np.asarray(jit(jax.vmap(lambda h: f(0.0, h[None], args)[0]))(jnp.asarray(hs)))


def window_equilibria(f, args, xlim, ylim=None):
    """The equilibria a portrait marks by default: `find_equilibria` from its default
    starts for a GRU (its equilibria lie in the cube), else from starts in the window
    (`xlim` × `ylim`, or the interval `xlim` when `ylim` is None: a 1-D flow, where a
    GRU's starts are taken in (−1, 1))."""
    from ..equilibria import find_equilibria

    gru = is_gru_field(f)
    if ylim is None:
        lo, hi = (-1.0, 1.0) if gru else xlim
        return find_equilibria(f, args, box=(jnp.array([lo]), jnp.array([hi])), throw=False)
    if gru:
        return find_equilibria(f, args, throw=False)
    return find_equilibria(
        f, args, box=(jnp.array([xlim[0], ylim[0]]), jnp.array([xlim[1], ylim[1]])),
        throw=False,
    )


def equilibrium_label(eq, i: int) -> str:
    """The type name (`gru_bif.EQUILIBRIUM_TYPES`) of equilibrium `i` of `eq`."""
    from ..equilibria import kind_name

    return kind_name(int(np.asarray(eq.kind)[i]))


def portrait_starts(trajectories, xlim, ylim, key):
    """The starts `(K, 2)` of a portrait's trajectories: `trajectories` random points in
    the window (drawn with `key`) for an int, else the given starts (checked)."""
    if isinstance(trajectories, (int, np.integer)):
        k = int(trajectories)
        if k < 0:
            raise ValueError(f"`trajectories` must be >= 0; got {k}.")
        key = jax.random.PRNGKey(1) if key is None else key
        lo = jnp.array([xlim[0], ylim[0]])
        hi = jnp.array([xlim[1], ylim[1]])
        return jax.random.uniform(key, (k, 2), minval=lo, maxval=hi)
    starts = jnp.asarray(trajectories, dtype=jnp.result_type(float))
    if starts.ndim == 1:
        starts = starts[None]
    if starts.ndim != 2 or starts.shape[1] != 2:
        raise ValueError(
            f"`trajectories` must be an int or starts of shape (K, 2); got "
            f"shape {starts.shape}."
        )
    return starts


def trajectories(f, args, starts, t_max: float, n: int = 1201, **kwargs) -> np.ndarray:
    """Trajectories of `f` from `starts` `(K, d)` over `[0, t_max]` at `n` times:
    `(K, n, d)` (`gru_bif.simulate`; `kwargs` go to it)."""
    from ..simulate import simulate

    ts = jnp.linspace(0.0, float(t_max), int(n))
    return np.asarray(simulate(f, args, jnp.asarray(starts), ts, **kwargs).xs)


def classify_1d(f, args, x: float, kind: str, span: float) -> str:
    """'stable node' / 'unstable node' / 'half-stable' (with side) for a 1-D point."""
    if kind in ("stable node", "stable focus"):
        return "stable node"
    if kind in ("unstable node", "unstable focus"):
        return "unstable node"
    # Non-hyperbolic: look at the sign of f on either side.
    delta = 1e-3 * span
    fl = float(f(0.0, jnp.array([x - delta]), args)[0])
    fr = float(f(0.0, jnp.array([x + delta]), args)[0])
    if fl > 0 and fr < 0:
        return "stable node"
    if fl < 0 and fr > 0:
        return "unstable node"
    if fl > 0 and fr > 0:
        return "half-stable:left"  # attracts from the left
    if fl < 0 and fr < 0:
        return "half-stable:right"
    return "half-stable:left"


def points_1d(f, args, equilibria, xlim) -> list[tuple[float, str]]:
    """The fixed points of a 1-D flow in `xlim`, sorted: `(h, type)` with type as
    `classify_1d` gives it."""
    x = np.asarray(equilibria.x)
    valid = np.asarray(equilibria.valid)
    span = xlim[1] - xlim[0]
    points = []
    for i in np.nonzero(valid)[0]:
        xi = float(x[i, 0])
        if not xlim[0] <= xi <= xlim[1]:
            continue
        points.append((xi, classify_1d(f, args, xi, equilibrium_label(equilibria, i), span)))
    points.sort()
    return points


def flow_arrows_1d(f, args, points, xlim) -> list[tuple[float, str]]:
    """Where to draw the direction of a 1-D flow: `(h, ">" or "<")` at the middle of each
    interval between fixed points where the flow moves."""
    edges = [xlim[0]] + [p for p, _ in points] + [xlim[1]]
    out = []
    for a, b in zip(edges[:-1], edges[1:]):
        if b - a < 1e-9 * (xlim[1] - xlim[0]):
            continue
        mid = 0.5 * (a + b)
        v = float(f(0.0, jnp.array([mid]), args)[0])
        if v == 0.0:
            continue
        out.append((mid, ">" if v > 0 else "<"))
    return out


def cycle_profile(view, k: int, n: int = 8) -> np.ndarray:
    """The states of special cycle `k` of a `CycleBranch` at `n` points per mesh interval
    (for its extrema): `(ntst·n, d)`."""
    u = np.append(np.asarray(view.special.x[k]), float(view.special.p[k]))
    return np.asarray(view.problem.interval_samples(view.problem.split(u)[0], n))


def saddle_directions(hp, u, coords, size: float) -> list[tuple[np.ndarray, bool]]:
    """The real eigen-directions of the saddle of a homoclinic orbit `(hp, u)`, scaled to
    length `size` in the plane of `coords`: `[(v, unstable), ...]`."""
    i, j = coords
    _, xsad, p1, p2 = hp.split(u)
    xsad = np.asarray(xsad)
    A = np.asarray(jax.jacfwd(lambda x: hp.F(x, p1, p2))(xsad))
    ev, V = np.linalg.eig(A)
    out = []
    for k in range(len(ev)):
        if abs(ev[k].imag) > 0:
            continue
        v = np.real(V[:, k])
        v = v / max(np.linalg.norm(v[[i, j]]), 1e-300) * size
        out.append((v, bool(ev[k].real > 0)))
    return out

