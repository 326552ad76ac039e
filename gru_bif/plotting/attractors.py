"""Pictures of attractors and basins (matplotlib, imported lazily): stacked basin
fractions over a parameter with the tied bifurcations marked, and basin maps on a 2-D
slice of state space. Computes nothing: pass the results of
`gru_bif.attractors.continue_attractors` and `gru_bif.attractors.basin_map`."""

import numpy as np


# one colour per bifurcation kind, as in the bifurcation diagrams
EVENT_STYLE = {
    "fold": dict(color="tab:red", label="fold (LP)"),
    "hopf": dict(color="tab:blue", label="Hopf (H)"),
    "branch_point": dict(color="tab:green", label="branch point (BP)"),
}


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def plot_basin_fractions(gc, *, ax=None, colors=None, show_events: bool = True,
                         show_errors: bool = False, legend: bool = True):
    """Stacked areas of the basin fractions of every attractor over the parameter (in
    the order of their global ids, the unlabelled fraction on top in grey), with a
    vertical line at each located bifurcation that ties a birth or death and a shaded
    band over the grid interval of each untied one.

    **Arguments:** `gc`: a `gru_bif.attractors.GlobalContinuation`; `ax`: a matplotlib
    axes (default: a new figure); `colors`: one colour per attractor (default: the
    `tab10` cycle); `show_events`: mark births and deaths; `show_errors`: draw ±1
    standard error bars at the top of each band; `legend`: add a legend.

    **Returns:** the axes.
    """
    from ..attractors.results import ATTRACTOR_KINDS

    ax = _axes(ax)
    p = np.asarray(gc.p)
    frac = np.asarray(gc.fractions)
    order = np.argsort(p)
    p, frac = p[order], frac[order]
    se = np.asarray(gc.standard_errors)[order]
    G = frac.shape[1]
    if colors is None:
        import matplotlib

        cmap = matplotlib.colormaps["tab10"]
        colors = [cmap(g % 10) for g in range(G)]
    labels = [f"#{g} {ATTRACTOR_KINDS[int(k)]}" for g, k in enumerate(np.asarray(gc.kind))]
    unl = np.asarray(gc.unlabelled)[order]
    ax.stackplot(p, *frac.T, unl, colors=list(colors) + ["0.8"],
                 labels=labels + ["none"], alpha=0.85)
    if show_errors:
        top = np.cumsum(frac, axis=1)
        for g in range(G):
            ax.errorbar(p, top[:, g], yerr=se[:, g], fmt="none", ecolor="k", lw=0.6)
    if show_events:
        drawn = set()
        for e in gc.events:
            if e.tied:
                style = EVENT_STYLE.get(e.tied_to, dict(color="k", label=e.tied_to))
                lab = style["label"] if e.tied_to not in drawn else None
                drawn.add(e.tied_to)
                ax.axvline(e.p, color=style["color"], ls="--", lw=1.2, label=lab)
                ax.annotate(f"{e.tied_to} {e.p:.6g}", (e.p, 1.0), xycoords=("data", "axes fraction"),
                            rotation=90, va="top", ha="right", fontsize=7)
            else:
                lo, hi = sorted((e.p_exists, e.p_gone))
                lab = "untied birth/death" if "untied" not in drawn else None
                drawn.add("untied")
                ax.axvspan(lo, hi, color="k", alpha=0.08, label=lab)
    ax.set_xlim(p[0], p[-1])
    ax.set_ylim(0, 1)
    ax.set_xlabel(gc.param_name)
    ax.set_ylabel("basin fraction")
    if legend:
        ax.legend(fontsize=7, loc="best")
    return ax


def plot_basin_map(bm, *, ax=None, colors=None, show_attractors: bool = True,
                   legend: bool = True):
    """A basin map: every grid state coloured by the attractor it reaches (white: none),
    with the attractors drawn on top (fixed points as dots, cycles as closed curves,
    other attractors as their tails), projected on the slice's axes.

    **Arguments:** `bm`: a `gru_bif.attractors.BasinMap`; `ax`: a matplotlib axes
    (default: a new figure); `colors`: one colour per attractor (default `tab10`);
    `show_attractors`: draw them; `legend`: add a legend.

    **Returns:** the axes.
    """
    from ..attractors.results import ATTRACTOR_KINDS, CYCLE, FIXED_POINT

    from matplotlib.colors import ListedColormap

    ax = _axes(ax)
    att = bm.attractors
    n = int(att.count)
    if colors is None:
        import matplotlib

        cmap = matplotlib.colormaps["tab10"]
        colors = [cmap(g % 10) for g in range(max(n, 1))]
    lab = np.asarray(bm.labels).astype(float)
    lab[lab < 0] = np.nan
    cm = ListedColormap(list(colors)[: max(n, 1)]).with_extremes(bad="white")
    ax.pcolormesh(np.asarray(bm.x), np.asarray(bm.y), lab, cmap=cm, vmin=-0.5,
                  vmax=max(n, 1) - 0.5, shading="nearest", alpha=0.6)
    a0, a1 = bm.axes
    if show_attractors:
        kinds = np.asarray(att.kind)
        for i in range(n):
            name = f"#{i} {ATTRACTOR_KINDS[int(kinds[i])]}"
            if kinds[i] == FIXED_POINT:
                x = np.asarray(att.x[i])
                ax.plot(x[a0], x[a1], "o", color="k", mfc=colors[i], ms=7, label=name)
            else:
                o = np.asarray(att.orbit[i])
                if kinds[i] == CYCLE:
                    o = np.vstack([o, o[:1]])
                ax.plot(o[:, a0], o[:, a1], "-" if kinds[i] == CYCLE else ".",
                        color="k", lw=1.5, ms=2, label=name)
    ax.set_xlabel(f"x[{a0}]")
    ax.set_ylabel(f"x[{a1}]")
    ax.set_aspect("auto")
    if legend and show_attractors and n:
        ax.legend(fontsize=7, loc="best")
    return ax
