"""Pictures of cycle branches (matplotlib, imported lazily inside each function): the
cycles in a bifurcation diagram (max and min of a coordinate), the period against the
parameter, and the orbits in the phase plane. Stable cycles solid, unstable dashed (by
their Floquet multipliers); folds of cycles (LPC), period doublings (PD) and
Neimark–Sacker points (NS) marked and labelled as in every diagram of the package
(`gru_bif.plotting.style`)."""

from typing import TYPE_CHECKING

import numpy as np

from ..branch import SpecialKind
from . import _compute
from .diagram import Readout
from .style import (
    CYCLE_COLOR,
    CYCLE_END_STYLE,
    SPECIAL_STYLE,
    special_style,
    stability_linestyle,
)

if TYPE_CHECKING:
    from ..periodic import CycleBranch


def _check_view(view):
    from ..periodic import CycleBranch

    if not isinstance(view, CycleBranch):
        raise ValueError(
            "Pass a gru_bif.periodic.CycleBranch (`CycleBranch(cycle_problem, branch)`); "
            f"got {type(view).__name__}."
        )


def _runs(p, ys, stable, ax, color, label=None):
    """One polyline per run of equal stability (solid stable, dashed unstable)."""
    if not len(p):
        return
    start = 0
    for i in range(1, len(p) + 1):
        if i == len(p) or stable[i] != stable[start]:
            j = min(i + 1, len(p))  # overlap one point so the curve is continuous
            fmt, lw = stability_linestyle(bool(stable[start]))
            ax.plot(p[start:j], ys[start:j], fmt, color=color, lw=lw,
                    label=label if start == 0 else None)
            start = i


def _specials(view):
    n = int(view.special.count)
    kinds = np.asarray(view.special.kind)[:n]
    out = []
    for k in range(n):
        kind = SpecialKind(int(kinds[k]))
        if kind == SpecialKind.FOLD:
            kind = SpecialKind.FOLD_CYCLE
        style = SPECIAL_STYLE.get(kind) or dict(special_style(kind), abbrev="?")
        out.append((k, kind, style))
    return out


def _draw_end(view, coord, ax, labels, seen, y_of=None):
    """Mark the located end of the branch (Hopf point, homoclinic orbit, SNIC) at its
    parameter value and equilibrium (or at `y_of(end)`)."""
    end = view.end
    if end is None or end.kind not in CYCLE_END_STYLE or not end.located:
        return
    st = CYCLE_END_STYLE[end.kind]
    y = end.x[coord] if y_of is None else y_of(end)
    ax.plot(end.p, y, marker=st["marker"], color=st["color"], ls="none", ms=9, zorder=6,
            markeredgecolor="k")
    if labels:
        ax.annotate(st["abbrev"], (end.p, y), textcoords="offset points", xytext=(4, -10),
                    fontsize=8)
    seen["end:" + end.kind] = st


def _legend(ax, seen, color="k"):
    from matplotlib.lines import Line2D

    handles = [
        Line2D([], [], color=color, lw=1.6, label="stable cycles"),
        Line2D([], [], color=color, lw=1.2, ls="--", label="unstable cycles"),
    ] + [
        Line2D([], [], marker=st["marker"], color=st["color"], ls="none", label=st["name"])
        for st in seen.values()
    ]
    ax.legend(handles=handles, fontsize=8, loc="best")


def plot_cycle_branch(
    view: "CycleBranch",
    coord: int = 0,
    *,
    ax=None,
    color: str = CYCLE_COLOR,
    labels: bool = True,
    legend: bool = True,
):
    """The cycles of a branch in a bifurcation diagram: the maximum and the minimum of
    coordinate `coord` over each cycle against the parameter (add the equilibria with
    `gru_bif.plotting.plot_bifurcation_diagram(branch, ax=ax)`).

    **Arguments:** `view`: a `CycleBranch`; `coord`: the state coordinate, or a
    `gru_bif.plotting.Readout` (the cycles in a trained network's output space); `ax`: a
    matplotlib Axes (new figure if omitted); `color`: the cycles' colour; `labels`:
    write LPC/PD/NS next to special points; `legend`: add a legend. A located end of
    the branch (`view.end`: Hopf point, homoclinic orbit, SNIC) is marked at its
    parameter value and equilibrium.

    **Returns:** the Axes.
    """
    import matplotlib.pyplot as plt

    _check_view(view)
    readout = coord if isinstance(coord, Readout) else None
    if readout is None and not 0 <= int(coord) < view.problem.dim:
        raise ValueError(f"coord={coord}; use 0 to {view.problem.dim - 1}, or a Readout.")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    t = view.trimmed()
    p, st = t["p"], t["stable"]
    if readout is None:
        y_max, y_min = t["x_max"][:, coord], t["x_min"][:, coord]
    else:  # the output over every cycle (200 phases each)
        ys = readout.project(np.asarray(view.orbits(200))[: len(p)])
        y_max, y_min = ys.max(axis=1), ys.min(axis=1)
    _runs(p, y_max, st, ax, color)
    _runs(p, y_min, st, ax, color)
    seen = {}
    for k, kind, style in _specials(view):
        fine = _compute.cycle_profile(view, k, 8)
        col = fine[:, coord] if readout is None else readout.project(fine)
        pk = float(view.special.p[k])
        for y in (col.max(), col.min()):
            ax.plot(pk, y, marker=style["marker"], color=style["color"], ls="none",
                    zorder=5)
        if labels:
            ax.annotate(style["abbrev"], (pk, col.max()),
                        textcoords="offset points", xytext=(4, 4), fontsize=8)
        seen[kind] = style
    _draw_end(view, coord, ax, labels, seen,
              y_of=None if readout is None else (lambda e: readout.project(e.x)))
    ax.set_xlabel(view.param_name)
    ax.set_ylabel(f"max / min x[{coord}] over the cycle" if readout is None
                  else f"max / min {readout.label} over the cycle")
    if legend:
        _legend(ax, seen, color)
    return ax


def plot_period(
    view: "CycleBranch", *, ax=None, color: str = CYCLE_COLOR, labels: bool = True,
    legend: bool = True, log: bool = False,
):
    """The period of the cycles against the parameter (stable solid, unstable dashed,
    special points marked; a Hopf end at its period `2π/ω`; a homoclinic end has
    infinite period and is not drawn here). `log=True`: a logarithmic period axis (periods that grow
    without bound near a homoclinic orbit).

    **Returns:** the Axes.
    """
    import matplotlib.pyplot as plt

    _check_view(view)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    t = view.trimmed()
    _runs(t["p"], t["period"], t["stable"], ax, color)
    seen = {}
    for k, kind, style in _specials(view):
        pk = float(view.special.p[k])
        Tk = float(view.problem.split(np.asarray(view.special.x[k]))[1])
        ax.plot(pk, Tk, marker=style["marker"], color=style["color"], ls="none", zorder=5)
        if labels:
            ax.annotate(style["abbrev"], (pk, Tk), textcoords="offset points",
                        xytext=(4, 4), fontsize=8)
        seen[kind] = style
    if view.end is not None and view.end.kind == "hopf":
        _draw_end(view, 0, ax, labels, seen, y_of=lambda e: e.period)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel(view.param_name)
    ax.set_ylabel("period")
    if legend:
        _legend(ax, seen, color)
    return ax


def plot_cycles(
    view: "CycleBranch",
    coords: tuple[int, int] = (0, 1),
    *,
    every: int = 1,
    ax=None,
    cmap: str = "viridis",
    n: int = 300,
    colorbar: bool = True,
):
    """The cycles of a branch in the phase plane of coordinates `coords`, coloured by
    the parameter (stable solid, unstable dashed); special cycles drawn thick in their
    kind's colour.

    **Arguments:** `view`: a `CycleBranch`; `coords`: the two coordinates; `every`:
    draw every `every`-th cycle; `ax`; `cmap`: the colour map of the parameter; `n`:
    points per orbit; `colorbar`: add a colour bar.

    **Returns:** the Axes.
    """
    import matplotlib.pyplot as plt
    from matplotlib import cm, colors

    _check_view(view)
    i, j = (int(c) for c in coords)
    d = view.problem.dim
    if not (0 <= i < d and 0 <= j < d and i != j):
        raise ValueError(f"coords={coords}; use two different coordinates in 0..{d - 1}.")
    if int(every) < 1:
        raise ValueError(f"every={every}; it must be at least 1.")
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    t = view.trimmed()
    npts = len(t["p"])
    orbits = np.asarray(view.orbits(n))[:npts]
    norm = colors.Normalize(vmin=float(np.min(t["p"])), vmax=float(np.max(t["p"])))
    mapper = cm.ScalarMappable(norm=norm, cmap=cmap)
    for k in range(0, npts, int(every)):
        ax.plot(orbits[k, :, i], orbits[k, :, j], "-" if t["stable"][k] else "--",
                color=mapper.to_rgba(t["p"][k]), lw=1.0)
    seen = {}
    for k, kind, style in _specials(view):
        _, xs = view.special_orbit(k, n)
        xs = np.asarray(xs)
        ax.plot(xs[:, i], xs[:, j], color=style["color"], lw=2.2, zorder=5)
        seen[kind] = style
    ax.set_xlabel(f"x[{i}]")
    ax.set_ylabel(f"x[{j}]")
    if colorbar:
        plt.colorbar(mapper, ax=ax, label=view.param_name)
    if seen:
        from matplotlib.lines import Line2D

        ax.legend(handles=[Line2D([], [], color=s["color"], lw=2.2, label=s["name"])
                           for s in seen.values()], fontsize=8, loc="best")
    return ax
