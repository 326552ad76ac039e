"""Phase portraits: the flow of a 2-D system (nullclines, streamlines or arrows, speed,
trajectories, equilibria marked by type), the flow of a 1-D system, and a trained
network's portrait in its output space. Matplotlib is imported inside each function;
styles come from `gru_bif.plotting.style`, numbers from `gru_bif.plotting._compute`.
"""

from typing import Any

import numpy as np

from .._custom_types import Args
from . import _compute
from .diagram import Readout
from .style import (
    EQUILIBRIUM_STYLE,
    FLOW_1D_ARROW_STYLE,
    FLOW_1D_STYLE,
    LABELS_1D,
    NULLCLINE_COLOURS,
    NULLCLINE_STYLE,
    QUIVER_STYLE,
    SPEED_CMAP,
    SPEED_LEVELS,
    STREAM_STYLE,
    TRAJECTORY_START_STYLE,
    TRAJECTORY_STYLE,
    ZERO_LINE_STYLE,
)


def _pyplot():
    import matplotlib.pyplot as plt

    return plt


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

    from ..equilibria import Equilibria

    f, args = _compute.resolve_field(f_or_problem_or_gru, args)
    ylim = xlim if ylim is None else ylim
    for name, lim in (("xlim", xlim), ("ylim", ylim)):
        if len(lim) != 2 or not lim[0] < lim[1]:
            raise ValueError(f"`{name}` must be (lo, hi) with lo < hi; got {lim!r}.")
    if arrows not in ("stream", "quiver", None):
        raise ValueError(f"`arrows` must be 'stream', 'quiver' or None; got {arrows!r}.")
    dim_probe = _compute.probe(f, args, 2)
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
    V = _compute.grid_field(f, args, xs, ys)

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
        starts = _compute.portrait_starts(trajectories, xlim, ylim, key)
        xs_t = _compute.trajectories(f, args, starts, t_max, throw=False, rtol=1e-6,
                                     atol=1e-9)
        for path in xs_t:
            ax.plot(path[:, 0], path[:, 1], **TRAJECTORY_STYLE)
        ax.plot(np.asarray(starts)[:, 0], np.asarray(starts)[:, 1], **TRAJECTORY_START_STYLE)
        handles.append(Line2D([], [], label="trajectory", **{k: v for k, v in TRAJECTORY_STYLE.items() if k != "zorder"}))

    if equilibria is None:
        equilibria = _compute.window_equilibria(f, args, xlim, ylim)
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
        by_type.setdefault(_compute.equilibrium_label(eq, i), []).append(i)
    for name in EQUILIBRIUM_STYLE:
        idx = by_type.get(name)
        if not idx:
            continue
        (line,) = ax.plot(x[idx, 0], x[idx, 1], label=name, **EQUILIBRIUM_STYLE[name])
        line.set_gid(f"equilibria:{name}")
        handles.append(line)


# --------------------------------------------------------------------------- 1-D


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

    from ..equilibria import Equilibria

    f, args = _compute.resolve_field(f_or_problem_or_gru, args)
    if len(xlim) != 2 or not xlim[0] < xlim[1]:
        raise ValueError(f"`xlim` must be (lo, hi) with lo < hi; got {xlim!r}.")
    probe = _compute.probe(f, args, 1)
    if getattr(probe, "shape", None) != (1,):
        raise ValueError(
            "plot_flow_1d needs a 1-D system; the vector field returns shape "
            f"{getattr(probe, 'shape', None)} for a state of shape (1,)."
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 3.5))
    hs = np.linspace(xlim[0], xlim[1], resolution)
    fh = _compute.line_field(f, args, hs)
    ax.axhline(0.0, **ZERO_LINE_STYLE)
    ax.plot(hs, fh, label=r"$\dot h = f(h)$", **FLOW_1D_STYLE)

    if equilibria is None:
        equilibria = _compute.window_equilibria(f, args, xlim)
    points: list[tuple[float, str]] = []
    if equilibria is not False:
        if not isinstance(equilibria, Equilibria):
            raise ValueError(
                "`equilibria` must be a gru_bif.Equilibria, None or False; got "
                f"{type(equilibria).__name__}."
            )
        points = _compute.points_1d(f, args, equilibria, xlim)

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
        marks = _compute.flow_arrows_1d(f, args, points, xlim)
        for m in (">", "<"):
            xs_ = [xx for xx, mm in marks if mm == m]
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
    xs = _compute.trajectories(problem, None, x0s, t1, n)  # (N, n, d)
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
