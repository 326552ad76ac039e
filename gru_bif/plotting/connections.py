"""The graph of connections between a network's equilibria on its phase portrait
(matplotlib, imported lazily).

- `plot_connection_graph`: every edge of a `gru_bif.homoclinic.ConnectionGraph` as an
    orbit with an arrow at its midpoint (from the saddle to the equilibrium it reaches),
    the equilibria in the library's markers (`gru_bif.plotting.style.EQUILIBRIUM_STYLE`),
    optionally their indices.
"""

import numpy as np

from .style import EQUILIBRIUM_STYLE, HOMOCLINIC_COLOR


def plot_connection_graph(graph, *, ax=None, portrait=None, coords=(0, 1),
                          color=HOMOCLINIC_COLOR, unmatched_color="0.6",
                          labels: bool = True, arrows: bool = True, legend: bool = True):
    """Draw a connection graph in the phase plane (draws only: compute the graph with
    `gru_bif.homoclinic.connection_graph`; put it on a phase portrait with `portrait=`,
    or draw one first with `plot_phase_portrait(..., ax=ax)`).

    **Arguments:** `graph`: a `ConnectionGraph`; `ax`: axes (new figure if `None`);
    `portrait`: a 2-D `gru_bif.Problem` or `GRU` whose streamlines to draw underneath
    (`plot_phase_portrait` on the graph's window, no nullclines: they would hide the
    connections), or `None`; `coords`: which two state coordinates; `color`: the
    connections' colour;
    `unmatched_color`: branches that reached no equilibrium (dotted); `labels`: write
    each equilibrium's index; `arrows`: an arrow at each orbit's midpoint; `legend`.

    **Returns:** the axes.
    """
    import matplotlib.pyplot as plt

    from ..equilibria import kind_name

    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    i, j = coords
    X = np.asarray(graph.equilibria)
    orbits = np.asarray(graph.orbit)
    if portrait is not None:
        from .portrait import plot_phase_portrait

        pts = np.concatenate([X, orbits.reshape(-1, X.shape[1])])[:, [i, j]]
        pts = pts[np.all(np.isfinite(pts), axis=-1)]
        lo, hi = pts.min(0), pts.max(0)
        pad = 0.15 * float(np.max(hi - lo)) + 1e-9
        plot_phase_portrait(portrait, ax=ax, xlim=(lo[0] - pad, hi[0] + pad),
                            ylim=(lo[1] - pad, hi[1] + pad), equilibria=False,
                            nullclines=False, legend=False, title="")
    targets = np.asarray(graph.target)
    first = True
    for e in range(orbits.shape[0]):
        xs = orbits[e][np.all(np.isfinite(orbits[e]), axis=-1)]
        if xs.shape[0] < 2:
            continue
        matched = targets[e] >= 0
        c = color if matched else unmatched_color
        ax.plot(xs[:, i], xs[:, j], color=c, lw=1.8, ls="-" if matched else ":",
                zorder=4, label="connection" if first and matched else None)
        if matched:
            first = False
        if arrows:
            # the midpoint by arclength, where the orbit is drawn clearly
            seg = np.linalg.norm(np.diff(xs[:, [i, j]], axis=0), axis=-1)
            s = np.concatenate([[0.0], np.cumsum(seg)])
            k = min(int(np.searchsorted(s, 0.5 * s[-1])), xs.shape[0] - 2)
            ax.annotate("", xy=(xs[k + 1, i], xs[k + 1, j]), xytext=(xs[k, i], xs[k, j]),
                        arrowprops=dict(arrowstyle="-|>", color=c, lw=1.5), zorder=5)
    seen = set()
    for k, code in enumerate(np.asarray(graph.kind)):
        name = kind_name(int(code))
        style = dict(EQUILIBRIUM_STYLE.get(name, dict(marker="o", color="k")))
        style.setdefault("linestyle", "none")
        ax.plot([X[k, i]], [X[k, j]], **style, label=None if name in seen else name)
        seen.add(name)
        if labels:
            ax.annotate(str(k), (X[k, i], X[k, j]), textcoords="offset points",
                        xytext=(6, 6), fontsize=8, zorder=7)
    ax.set_xlabel(f"x[{i}]")
    ax.set_ylabel(f"x[{j}]")
    ax.set_title(f"{len(graph.edges())} connections")
    if legend:
        ax.legend(loc="best", fontsize=8)
    return ax
