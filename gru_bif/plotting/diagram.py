"""Bifurcation diagrams of branches of equilibria, with matplotlib (imported lazily):
stable solid, unstable dashed, special points marked and labelled by kind (AUTO/MatCont
abbreviations; `gru_bif.plotting.style`); `Readout` draws them in a trained network's
output space."""

from collections.abc import Callable, Sequence

import numpy as np

from ..branch import Branch, SpecialKind
from .style import BRANCH_COLOR, SPECIAL_STYLE, special_style, stability_linestyle


class Readout:
    """A trained network's readout as a diagram coordinate: `y_k = (W h + b)_k`, what
    the network's users think in. Pass it as `coord` to `plot_bifurcation_diagram` or
    `plot_cycle_branch` to draw the diagram in output space.

    **Arguments:** `W`: `(m_out, d)` readout weights (PyTorch's `nn.Linear.weight`);
    `b`: `(m_out,)` bias (default 0); `index`: which output; `name`: axis label stem.
    """

    def __init__(self, W, b=None, index: int = 0, name: str = "y"):
        W = np.atleast_2d(np.asarray(W, float))
        b = np.zeros(W.shape[0]) if b is None else np.asarray(b, float).reshape(-1)
        if b.shape != (W.shape[0],):
            raise ValueError(f"readout bias has shape {b.shape}; W has {W.shape[0]} rows, "
                             f"so b needs shape ({W.shape[0]},).")
        if not 0 <= int(index) < W.shape[0]:
            raise ValueError(f"index={index}; the readout has {W.shape[0]} outputs.")
        self.w, self.b0, self.index = W[int(index)], float(b[int(index)]), int(index)
        self.label = f"{name}[{int(index)}] = (W h + b)[{int(index)}]"

    def project(self, X):
        """`(..., d) -> (...)`: the output of states `X`."""
        X = np.asarray(X, float)
        if X.shape[-1] != self.w.shape[0]:
            raise ValueError(f"states have dimension {X.shape[-1]}; the readout expects "
                             f"{self.w.shape[0]}.")
        return X @ self.w + self.b0

    def __call__(self, h):
        return float(self.project(h))


def _coordinate(coord, x):
    if isinstance(coord, Readout):
        return coord.project(x)
    if callable(coord):
        return np.asarray([coord(xi) for xi in x])
    if coord == "norm":
        return np.linalg.norm(x, axis=-1)
    return x[..., int(coord)]


def plot_bifurcation_diagram(
    branches: "Branch | Sequence[Branch]",
    *,
    coord: "int | str | Callable" = 0,
    ax=None,
    color: str | None = None,
    labels: bool = True,
    legend: bool = True,
    xlabel: str | None = None,
    ylabel: str | None = None,
    title: str | None = None,
):
    """Plot one or several branches: parameter on the x axis, a state coordinate on the
    y axis; stable parts solid, unstable parts dashed; special points marked with one
    marker per kind, labelled (LP, H, BP, ...) and listed in a legend.

    **Arguments:**

    - `branches`: a `Branch` or a list of them.
    - `coord`: which state coordinate (`int`), `"norm"` (Euclidean norm), a
        `Readout` (a trained network's output `(W h + b)_k`: the diagram in output
        space), or a function of the state.
    - `ax`: a matplotlib Axes (a new figure if omitted).
    - `color`: line colour (default black).
    - `labels`: write the abbreviation next to each special point (with
        "(degenerate)" where a normal-form coefficient vanishes, e.g. a Hopf point
        with `l1 = 0`; see `gru_bif.branch.is_degenerate`).

    **Returns:** the Axes.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D

    if isinstance(branches, Branch):
        branches = [branches]
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    color = color or BRANCH_COLOR
    kinds_seen = set()
    param_name = "p"
    for br in branches:
        t = br.trimmed()
        param_name = br.param_name
        p, x, nu = t["p"], t["x"], t["n_unstable"]
        y = _coordinate(coord, x)
        stable = nu == 0
        known = nu >= 0
        specials = br.special.to_list()
        split_at = {}
        for s in specials:  # where stability changes, switch style at the special point
            split_at.setdefault(s["index"], (s["p"], _coordinate(coord, np.asarray(s["x"])[None])[0]))

        def seg(ps, ys, st):
            fmt, lw = stability_linestyle(st)
            ax.plot(ps, ys, fmt, color=color, lw=lw)

        # One polyline per run of equal stability (drawing point-to-point segments one
        # by one restarts the dash pattern at every point, so densely sampled unstable
        # parts would look solid).
        if len(p):
            run_p, run_y = [p[0]], [y[0]]
            run_st = stable[0] or not known[0]
            for i in range(len(p) - 1):
                b_st = stable[i + 1] or not known[i + 1]
                if b_st != run_st:
                    pm, ym = split_at.get(i, (0.5 * (p[i] + p[i + 1]), 0.5 * (y[i] + y[i + 1])))
                    seg(run_p + [pm], run_y + [ym], run_st)
                    run_p, run_y, run_st = [pm], [ym], b_st
                run_p.append(p[i + 1])
                run_y.append(y[i + 1])
            seg(run_p, run_y, run_st)
        for s in specials:
            k = SpecialKind.from_label(s["kind"])
            style = special_style(k, s["kind"])
            ys = _coordinate(coord, np.asarray(s["x"])[None])[0]
            ax.plot(
                s["p"], ys, style["marker"], color=style["color"], ms=7, zorder=5,
                markeredgecolor="k", markeredgewidth=0.6,
            )
            if labels:
                text = style["abbrev"] + (" (degenerate)" if s.get("degenerate") else "")
                ax.annotate(
                    text, (s["p"], ys), textcoords="offset points",
                    xytext=(5, 5), fontsize=9, color=style["color"],
                )
            kinds_seen.add(k)
    if legend:
        handles = [
            Line2D([], [], color=color, ls="-", label="stable"),
            Line2D([], [], color=color, ls="--", label="unstable"),
        ]
        for k in sorted(kinds_seen):
            st = SPECIAL_STYLE.get(k)
            if st:
                handles.append(
                    Line2D([], [], ls="", marker=st["marker"], color=st["color"],
                           markeredgecolor="k", label=st["name"])
                )
        ax.legend(handles=handles, loc="best", fontsize=8, framealpha=0.8)
    ax.set_xlabel(xlabel or param_name)
    if ylabel is None:
        ylabel = ("|x|" if isinstance(coord, str) and coord == "norm"
                  else f"x[{coord}]" if isinstance(coord, int)
                  else getattr(coord, "label", ""))
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return ax
