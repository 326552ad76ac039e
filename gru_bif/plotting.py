"""Phase portraits and 1-D flows (matplotlib, imported lazily inside each function).

All style constants live at the top of this module so that every figure of the
package (phase portraits, 1-D flows, bifurcation diagrams) marks an equilibrium type the
same way:

- stable: filled circles (node black, focus blue);
- unstable: open circles (node black, focus red);
- saddle: an orange cross; non-hyperbolic: a purple diamond;
- half-stable (1-D): a half-filled circle, filled on the side it attracts from.
"""

from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ._custom_types import Args

# --------------------------------------------------------------------------- style

EQUILIBRIUM_STYLE: dict[str, dict[str, Any]] = {
    "stable node": dict(
        marker="o", markersize=8, color="black", markerfacecolor="black",
        markeredgecolor="black", linestyle="none", zorder=6,
    ),
    "stable focus": dict(
        marker="o", markersize=8, color="tab:blue", markerfacecolor="tab:blue",
        markeredgecolor="tab:blue", linestyle="none", zorder=6,
    ),
    "unstable node": dict(
        marker="o", markersize=8, color="black", markerfacecolor="white",
        markeredgecolor="black", markeredgewidth=1.5, linestyle="none", zorder=6,
    ),
    "unstable focus": dict(
        marker="o", markersize=8, color="tab:red", markerfacecolor="white",
        markeredgecolor="tab:red", markeredgewidth=1.5, linestyle="none", zorder=6,
    ),
    "saddle": dict(
        marker="X", markersize=9, color="tab:orange", markerfacecolor="tab:orange",
        markeredgecolor="black", markeredgewidth=0.5, linestyle="none", zorder=6,
    ),
    "non-hyperbolic": dict(
        marker="D", markersize=7, color="tab:purple", markerfacecolor="tab:purple",
        markeredgecolor="black", markeredgewidth=0.5, linestyle="none", zorder=6,
    ),
    "half-stable": dict(
        marker="o", markersize=8, color="black", markerfacecolor="black",
        markerfacecoloralt="white", markeredgecolor="black", fillstyle="left",
        linestyle="none", zorder=6,
    ),
}
"""Marker keyword arguments (for `Axes.plot`) per equilibrium type; keys are
`gru_bif.EQUILIBRIUM_TYPES` plus `"half-stable"` (1-D)."""

NULLCLINE_COLOURS: tuple[str, ...] = ("tab:green", "tab:cyan")
"""Colours of the nullclines `f_0 = 0` and `f_1 = 0`."""

NULLCLINE_STYLE: dict[str, Any] = dict(linewidths=1.8)
TRAJECTORY_STYLE: dict[str, Any] = dict(color="0.15", linewidth=1.0, alpha=0.8, zorder=4)
TRAJECTORY_START_STYLE: dict[str, Any] = dict(
    marker=".", markersize=4, color="0.15", linestyle="none", zorder=4
)
STREAM_STYLE: dict[str, Any] = dict(color="0.55", linewidth=0.6, density=1.2, arrowsize=0.8)
QUIVER_STYLE: dict[str, Any] = dict(color="0.45", pivot="mid", width=0.003)
SPEED_CMAP: str = "viridis"
SPEED_LEVELS: tuple[float, ...] = tuple(float(v) for v in range(-9, 1))
"""log10-speed contour levels −9, …, 0 (the paper's pseudo-line-attractor figure)."""

FLOW_1D_STYLE: dict[str, Any] = dict(color="tab:blue", linewidth=1.8)
FLOW_1D_ARROW_STYLE: dict[str, Any] = dict(markersize=9, color="0.3", linestyle="none", zorder=5)
ZERO_LINE_STYLE: dict[str, Any] = dict(color="0.4", linewidth=0.8)

BRANCH_STYLE: dict[str, dict[str, Any]] = {
    "stable": dict(linestyle="-", linewidth=1.8, color="black"),
    "unstable": dict(linestyle="--", linewidth=1.4, color="black"),
}
"""Line styles for bifurcation-diagram branches: stable solid, unstable dashed."""

LABELS_1D = {"stable node": "stable", "unstable node": "unstable", "half-stable": "half-stable"}


# --------------------------------------------------------------------------- helpers


def _pyplot():
    import matplotlib.pyplot as plt

    return plt


def _resolve(f_or_problem_or_gru, args) -> tuple[Callable, Args]:
    from .simulate import _resolve_field

    return _resolve_field(f_or_problem_or_gru, args)


def _is_gru_field(f) -> bool:
    from .models.gru import gru_vector_field
    from .problem import field_function

    return field_function(f) is gru_vector_field


def _probe(f, args, d: int):
    """The output shape of f at a state of shape (d,), or None if f fails there."""
    try:
        return jax.eval_shape(
            lambda x: f(0.0, x, args), jax.ShapeDtypeStruct((d,), jnp.result_type(float))
        )
    except Exception:
        return None


def _grid_field(f, args, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """The vector field on the grid `xs × ys`: shape (len(ys), len(xs), 2)."""
    X, Y = np.meshgrid(xs, ys)
    pts = jnp.asarray(np.stack([X.ravel(), Y.ravel()], axis=1), dtype=jnp.result_type(float))
    V = jax.jit(jax.vmap(lambda p: f(0.0, p, args)))(pts)
    return np.asarray(V).reshape(len(ys), len(xs), 2)


def _equilibrium_label(eq, i: int) -> str:
    from .equilibria import kind_name

    return kind_name(int(np.asarray(eq.kind)[i]))


def _legend(ax, handles, **kw):
    if handles:
        ax.legend(handles=handles, **kw)


# --------------------------------------------------------------------------- 2-D


def plot_phase_portrait(
    f_or_problem_or_gru: Any,
    args: Args = None,
    *,
    xlim: tuple[float, float] = (-1.5, 1.5),
    ylim: tuple[float, float] | None = None,
    ax: Any = None,
    equilibria: Any = None,
    nullclines: bool = True,
    trajectories: int | Any = 0,
    t_max: float = 60.0,
    key: Any = None,
    arrows: str | None = "stream",
    speed_colour: bool = False,
    colorbar: bool = True,
    resolution: int = 201,
    legend: bool = True,
    title: str | None = None,
) -> Any:
    """Phase portrait of a 2-D vector field.

    **Arguments:**

    - `f_or_problem_or_gru`: a vector field `f(t, x, args)`, a `gru_bif.Problem` or a
        2-D `gru_bif.GRU` (then `args` is its input `u`).
    - `args`: the vector field's args.
    - `xlim`, `ylim`: the window (`ylim` defaults to `xlim`).
    - `ax`: a matplotlib Axes to draw on (default: a new figure).
    - `equilibria`: a `gru_bif.Equilibria` to mark; `None` computes them with
        [`gru_bif.find_equilibria`][] (starts in `(−1, 1)²` for a GRU, else in the
        window); `False` marks none.
    - `nullclines`: draw the nullclines `f_0 = 0` and `f_1 = 0`.
    - `trajectories`: a number `K` of trajectories from random starts in the window
        (drawn with `key`), or starts of shape `(K, 2)`; integrated with
        [`gru_bif.simulate`][] up to `t_max`.
    - `arrows`: `"stream"` (streamlines), `"quiver"` (unit arrows on a grid) or `None`.
    - `speed_colour`: colour the background by `log10 |f|` with levels −9 … 0 (as in
        the paper's pseudo-line-attractor figure); `colorbar` adds its colour bar.
    - `resolution`: grid points per axis for nullclines and speed.
    - `legend`: add a legend of equilibrium types and nullclines.
    - `title`: the Axes title.

    **Returns:**

    The matplotlib Axes. Equilibria are drawn as one `Line2D` per type, labelled with
    the type name (see `EQUILIBRIUM_STYLE`).
    """
    plt = _pyplot()
    from matplotlib.lines import Line2D

    from .equilibria import Equilibria, find_equilibria
    from .simulate import simulate

    f, args = _resolve(f_or_problem_or_gru, args)
    ylim = xlim if ylim is None else ylim
    for name, lim in (("xlim", xlim), ("ylim", ylim)):
        if len(lim) != 2 or not lim[0] < lim[1]:
            raise ValueError(f"`{name}` must be (lo, hi) with lo < hi; got {lim!r}.")
    if arrows not in ("stream", "quiver", None):
        raise ValueError(f"`arrows` must be 'stream', 'quiver' or None; got {arrows!r}.")
    dim_probe = _probe(f, args, 2)
    if getattr(dim_probe, "shape", None) != (2,):
        raise ValueError(
            "plot_phase_portrait needs a 2-D system; the vector field returns shape "
            f"{getattr(dim_probe, 'shape', None)} for a state of shape (2,). Use "
            "plot_flow_1d for 1-D systems."
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 5.8), layout="constrained")
    handles = []

    xs = np.linspace(xlim[0], xlim[1], resolution)
    ys = np.linspace(ylim[0], ylim[1], resolution)
    V = _grid_field(f, args, xs, ys)

    if speed_colour:
        speed = np.linalg.norm(V, axis=-1)
        with np.errstate(divide="ignore"):
            logspeed = np.log10(np.maximum(speed, 1e-300))
        cs = ax.contourf(
            xs, ys, logspeed, levels=list(SPEED_LEVELS), cmap=SPEED_CMAP, extend="both",
            zorder=0,
        )
        if colorbar:
            cb = ax.figure.colorbar(cs, ax=ax, fraction=0.046, pad=0.04)
            cb.set_label(r"$\log_{10}\,|\dot h|$")

    if arrows == "stream":
        ax.streamplot(xs, ys, V[..., 0], V[..., 1], zorder=1, **STREAM_STYLE)
    elif arrows == "quiver":
        step = max(1, resolution // 20)
        Vq = V[::step, ::step]
        n = np.linalg.norm(Vq, axis=-1, keepdims=True)
        Vq = np.where(n > 0, Vq / np.maximum(n, 1e-300), 0.0)
        ax.quiver(xs[::step], ys[::step], Vq[..., 0], Vq[..., 1], zorder=1, **QUIVER_STYLE)

    if nullclines:
        for i, colour in enumerate(NULLCLINE_COLOURS):
            comp = V[..., i]
            if np.nanmin(comp) < 0 < np.nanmax(comp):
                ax.contour(xs, ys, comp, levels=[0.0], colors=[colour], zorder=2, **NULLCLINE_STYLE)
            name = r"$\dot x = 0$" if i == 0 else r"$\dot y = 0$"
            handles.append(Line2D([], [], color=colour, lw=1.8, label=f"nullcline {name}"))

    if trajectories is not None and not (
        isinstance(trajectories, (int, np.integer)) and int(trajectories) == 0
    ):
        if isinstance(trajectories, (int, np.integer)):
            k = int(trajectories)
            if k < 0:
                raise ValueError(f"`trajectories` must be >= 0; got {k}.")
            key = jax.random.PRNGKey(1) if key is None else key
            lo = jnp.array([xlim[0], ylim[0]])
            hi = jnp.array([xlim[1], ylim[1]])
            starts = jax.random.uniform(key, (k, 2), minval=lo, maxval=hi)
        else:
            starts = jnp.asarray(trajectories, dtype=jnp.result_type(float))
            if starts.ndim == 1:
                starts = starts[None]
            if starts.ndim != 2 or starts.shape[1] != 2:
                raise ValueError(
                    f"`trajectories` must be an int or starts of shape (K, 2); got "
                    f"shape {starts.shape}."
                )
        ts = jnp.linspace(0.0, float(t_max), 1201)
        traj = simulate(f, args, starts, ts, throw=False, rtol=1e-6, atol=1e-9)
        xs_t = np.asarray(traj.xs)
        for path in xs_t:
            ax.plot(path[:, 0], path[:, 1], **TRAJECTORY_STYLE)
        ax.plot(np.asarray(starts)[:, 0], np.asarray(starts)[:, 1], **TRAJECTORY_START_STYLE)
        handles.append(Line2D([], [], label="trajectory", **{k: v for k, v in TRAJECTORY_STYLE.items() if k != "zorder"}))

    if equilibria is None:
        if _is_gru_field(f):
            equilibria = find_equilibria(f, args, throw=False)
        else:
            equilibria = find_equilibria(
                f, args, box=(jnp.array([xlim[0], ylim[0]]), jnp.array([xlim[1], ylim[1]])),
                throw=False,
            )
    if equilibria is not False:
        if not isinstance(equilibria, Equilibria):
            raise ValueError(
                "`equilibria` must be a gru_bif.Equilibria, None (compute them) or False "
                f"(mark none); got {type(equilibria).__name__}."
            )
        _mark_equilibria(ax, equilibria, xlim, ylim, handles)

    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel(r"$h_1$")
    ax.set_ylabel(r"$h_2$")
    if title is not None:
        ax.set_title(title)
    if legend:
        # Below the axes, so that it never hides a fixed point.
        _legend(
            ax, handles, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=3,
            fontsize=7, frameon=False,
        )
    return ax


def _mark_equilibria(ax, eq, xlim, ylim, handles) -> None:
    x = np.asarray(eq.x)
    valid = np.asarray(eq.valid)
    inside = (
        valid
        & np.all(np.isfinite(x), axis=1)
        & (x[:, 0] >= xlim[0]) & (x[:, 0] <= xlim[1])
        & (x[:, 1] >= ylim[0]) & (x[:, 1] <= ylim[1])
    )
    by_type: dict[str, list[int]] = {}
    for i in np.nonzero(inside)[0]:
        by_type.setdefault(_equilibrium_label(eq, i), []).append(i)
    for name in EQUILIBRIUM_STYLE:
        idx = by_type.get(name)
        if not idx:
            continue
        (line,) = ax.plot(x[idx, 0], x[idx, 1], label=name, **EQUILIBRIUM_STYLE[name])
        line.set_gid(f"equilibria:{name}")
        handles.append(line)


# --------------------------------------------------------------------------- 1-D


def _classify_1d(f, args, x: float, kind: str, span: float) -> str:
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


def plot_flow_1d(
    f_or_problem_or_gru: Any,
    args: Args = None,
    *,
    xlim: tuple[float, float] = (-1.5, 1.5),
    ax: Any = None,
    equilibria: Any = None,
    arrows: bool = True,
    resolution: int = 1001,
    legend: bool = True,
    title: str | None = None,
) -> Any:
    """The flow of a 1-D system: `f(h)` against `h`, the zero line, the fixed points on
    it (stable filled, unstable open, half-stable half-filled on the side it attracts
    from) and arrows along the line showing the direction of flow.

    **Arguments:**

    - `f_or_problem_or_gru`: a vector field, a `gru_bif.Problem` or a 1-D `gru_bif.GRU`.
    - `args`: the vector field's args.
    - `xlim`: the range of `h`.
    - `ax`: a matplotlib Axes (default: a new figure).
    - `equilibria`: a `gru_bif.Equilibria`, `None` (computed, starts in the window), or
        `False`.
    - `arrows`: draw flow arrows on the axis between fixed points.
    - `resolution`: points on the curve.
    - `legend`, `title`: as for [`gru_bif.plot_phase_portrait`][].

    **Returns:**

    The matplotlib Axes. Fixed points are one `Line2D` per type, with gid
    `"equilibria:<type>"`; arrows have gid `"flow-arrows"`.
    """
    plt = _pyplot()

    from .equilibria import Equilibria, find_equilibria

    f, args = _resolve(f_or_problem_or_gru, args)
    if len(xlim) != 2 or not xlim[0] < xlim[1]:
        raise ValueError(f"`xlim` must be (lo, hi) with lo < hi; got {xlim!r}.")
    probe = _probe(f, args, 1)
    if getattr(probe, "shape", None) != (1,):
        raise ValueError(
            "plot_flow_1d needs a 1-D system; the vector field returns shape "
            f"{getattr(probe, 'shape', None)} for a state of shape (1,)."
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.5))
    hs = np.linspace(xlim[0], xlim[1], resolution)
    fh = np.asarray(
        jax.jit(jax.vmap(lambda h: f(0.0, h[None], args)[0]))(jnp.asarray(hs))
    )
    ax.axhline(0.0, **ZERO_LINE_STYLE)
    ax.plot(hs, fh, label=r"$\dot h = f(h)$", **FLOW_1D_STYLE)

    if equilibria is None:
        lo, hi = (-1.0, 1.0) if _is_gru_field(f) else xlim
        equilibria = find_equilibria(
            f, args, box=(jnp.array([lo]), jnp.array([hi])), throw=False
        )
    points: list[tuple[float, str]] = []
    if equilibria is not False:
        if not isinstance(equilibria, Equilibria):
            raise ValueError(
                "`equilibria` must be a gru_bif.Equilibria, None or False; got "
                f"{type(equilibria).__name__}."
            )
        x = np.asarray(equilibria.x)
        valid = np.asarray(equilibria.valid)
        span = xlim[1] - xlim[0]
        for i in np.nonzero(valid)[0]:
            xi = float(x[i, 0])
            if not xlim[0] <= xi <= xlim[1]:
                continue
            points.append((xi, _classify_1d(f, args, xi, _equilibrium_label(equilibria, i), span)))
    points.sort()

    groups: dict[str, list[float]] = {}
    for xi, name in points:
        groups.setdefault(name, []).append(xi)
    for name in ("stable node", "unstable node", "half-stable:left", "half-stable:right"):
        xs_ = groups.get(name)
        if not xs_:
            continue
        base = "half-stable" if name.startswith("half-stable") else name
        style = dict(EQUILIBRIUM_STYLE[base])
        if name == "half-stable:right":
            style["fillstyle"] = "right"
        label = LABELS_1D[base]
        (line,) = ax.plot(xs_, np.zeros(len(xs_)), label=label, **style)
        line.set_gid(f"equilibria:{base}")

    if arrows:
        edges = [xlim[0]] + [p for p, _ in points] + [xlim[1]]
        ax_x, ax_m = [], []
        for a, b in zip(edges[:-1], edges[1:]):
            if b - a < 1e-9 * (xlim[1] - xlim[0]):
                continue
            mid = 0.5 * (a + b)
            v = float(f(0.0, jnp.array([mid]), args)[0])
            if v == 0.0:
                continue
            ax_x.append(mid)
            ax_m.append(">" if v > 0 else "<")
        for m in (">", "<"):
            xs_ = [xx for xx, mm in zip(ax_x, ax_m) if mm == m]
            if xs_:
                (line,) = ax.plot(xs_, np.zeros(len(xs_)), marker=m, **FLOW_1D_ARROW_STYLE)
                line.set_gid("flow-arrows")

    ax.set_xlim(*xlim)
    ax.set_xlabel(r"$h$")
    ax.set_ylabel(r"$\dot h$")
    if title is not None:
        ax.set_title(title)
    if legend:
        # One legend entry per label (the half-stable sides share one).
        seen, handles = set(), []
        for line in ax.get_lines():
            lab = line.get_label()
            if lab.startswith("_") or lab in seen:
                continue
            seen.add(lab)
            handles.append(line)
        _legend(ax, handles, loc="best", fontsize=8)
    return ax


def plot_output_portrait(problem, readout, x0s, *, t1: float = 50.0, n: int = 400, ax=None,
                         equilibria=None, color: str = "tab:gray", title: str | None = None):
    """A phase portrait in a trained network's output space: trajectories of
    `problem` (a `gru_bif.Problem` at its current parameter value, any dimension `d`)
    from the states `x0s` `(N, d)`, drawn through a two-output readout `y = W h + b`,
    with the equilibria (a `find_equilibria` result, optional) marked by stability.

    **Arguments:** `readout`: `(W, b)` with `W` of shape `(2, d)` (or more rows: the
    first two are drawn) and `b` of shape `(rows,)`; `t1`: integration time; `n`:
    samples per trajectory; `ax`, `color`, `title` as usual.

    **Returns:** the Axes.
    """
    import jax.numpy as jnp

    from ._plot_diagram import Readout
    from .simulate import simulate

    plt = _pyplot()
    W, b = readout
    W = np.atleast_2d(np.asarray(W, float))
    if W.shape[0] < 2:
        raise ValueError(f"the readout has {W.shape[0]} output(s); a portrait needs two "
                         "(use plot_bifurcation_diagram with a Readout for one).")
    r0, r1 = Readout(W, b, 0), Readout(W, b, 1)
    x0s = np.atleast_2d(np.asarray(x0s, float))
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    ts = jnp.linspace(0.0, float(t1), int(n))
    tr = simulate(problem, None, jnp.asarray(x0s), ts)
    xs = np.asarray(tr.xs)  # (N, n, d)
    for k in range(xs.shape[0]):
        ax.plot(r0.project(xs[k]), r1.project(xs[k]), color=color, lw=0.9)
        ax.plot(r0.project(xs[k, :1]), r1.project(xs[k, :1]), "o", color=color, ms=2.5)
    if equilibria is not None:
        m = int(equilibria.count)
        X = np.asarray(equilibria.x)[:m]
        ev = np.asarray(equilibria.eigenvalues)[:m]
        stable = np.all(ev.real < 0, axis=-1)
        ax.plot(r0.project(X[stable]), r1.project(X[stable]), "o", color="k", ms=7,
                ls="none", label="stable equilibrium", zorder=5)
        ax.plot(r0.project(X[~stable]), r1.project(X[~stable]), "o", mfc="white",
                color="tab:red", ms=7, ls="none", label="unstable equilibrium", zorder=5)
        ax.legend(loc="best", fontsize=8)
    ax.set_xlabel(r0.label)
    ax.set_ylabel(r1.label)
    if title:
        ax.set_title(title)
    return ax


from ._plot_diagram import (  # noqa: E402  (bifurcation diagrams share this module)
    Readout as Readout,
    SPECIAL_STYLE as SPECIAL_STYLE,
    plot_bifurcation_diagram as plot_bifurcation_diagram,
)
from ._plot_plane import (  # noqa: E402  (two-parameter diagrams)
    plot_parameter_plane as plot_parameter_plane,
    region_counts as region_counts,
)
from .periodic.plot import (  # noqa: E402  (cycle branches)
    plot_cycle_branch as plot_cycle_branch,
    plot_cycles as plot_cycles,
    plot_period as plot_period,
)
from .homoclinic.plot import (  # noqa: E402  (homoclinic orbits and curves)
    plot_homoclinic_curve as plot_homoclinic_curve,
    plot_homoclinic_orbit as plot_homoclinic_orbit,
)
