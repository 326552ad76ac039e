"""Two-parameter bifurcation diagrams (matplotlib, imported lazily): fold, Hopf and other
curves in the parameter plane, codim-2 points labelled, and optionally the regions
coloured by the number of equilibria and how many of them are stable (counted by
`region_counts`, from `gru_bif.curves.regions`)."""

from collections.abc import Sequence

import numpy as np

from ..branch import Branch, SpecialKind
from .style import CODIM2_STYLE, CURVE_STYLE, NEUTRAL_SADDLE_STYLE, special_style


def plot_parameter_plane(
    curves: "Sequence[tuple[str, Branch]] | Sequence[Branch]",
    *,
    ax=None,
    kinds: "Sequence[str] | None" = None,
    regions=None,
    labels: bool = True,
    legend: bool = True,
    xlabel: str | None = None,
    ylabel: str | None = None,
    xlim=None,
    ylim=None,
    title: str | None = None,
    transpose: bool = False,
):
    """Draw fold / Hopf (and other) curves in the parameter plane `(p1, p2)` with their
    codim-2 points marked and labelled (CP, BT, GH, ZH, HH).

    **Arguments:**

    - `curves`: a list of `(kind, branch)` pairs (`kind` one of `"fold"`, `"hopf"`,
        `"homoclinic"`, `"fold_cycle"`), or of branches with `kinds` given separately.
        Each branch is a curve from `fold_curve` / `hopf_curve` (`p1` in the last
        column of `branch.x`, `p2` in `branch.p`). Hopf curves are drawn solid where
        they are Hopf curves and dotted where they continue as neutral saddles (found
        from their stored stability: on the neutral-saddle part the equilibrium is a
        saddle), when that is known.
    - `ax`: a matplotlib Axes (a new figure if omitted).
    - `regions`: optional `(xs, ys, number, number_stable)` in plot coordinates
        (horizontal grid, vertical grid, arrays of shape `(len(ys), len(xs))`, e.g. from
        `region_counts`): the plane is coloured by the pair (number of equilibria,
        number stable), with a legend entry per pair; each region is filled by the
        half-level contour of its indicator (boundaries to within a grid cell).
    - `transpose`: draw `p2` on the horizontal axis and `p1` on the vertical one.
    - `labels`, `legend`, `xlabel`, `ylabel`, `xlim`, `ylim`, `title`: as usual; special
        points outside `xlim` × `ylim` are left out of the picture and of the legend.

    **Returns:** the Axes.
    """
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    pairs = []
    for i, c in enumerate(curves):
        if isinstance(c, Branch):
            if kinds is None:
                raise ValueError("Give `kinds` (one per curve) or pass (kind, branch) pairs.")
            pairs.append((kinds[i], c))
        else:
            pairs.append(tuple(c))
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4.5))
    handles = []
    if regions is not None:
        p1s, p2s, num, nst = regions
        keys = sorted({(int(a), int(b)) for a, b in zip(np.ravel(num), np.ravel(nst))})
        code = np.zeros(np.shape(num), int)
        for k, key in enumerate(keys):
            code[(np.asarray(num) == key[0]) & (np.asarray(nst) == key[1])] = k
        cmap = plt.get_cmap("Pastel2" if len(keys) <= 8 else "tab20", max(len(keys), 1))
        # each region filled by the 1/2-contour of its indicator on the grid: boundaries
        # follow the (exactly drawn) curves to within a grid cell, without the grid's
        # staircase
        g1, g2 = np.meshgrid(np.asarray(p1s, float), np.asarray(p2s, float))
        for k in range(len(keys)):
            ind = (code == k).astype(float)
            ax.contourf(g1, g2, ind, levels=[0.5, 1.5], colors=[cmap(k)], alpha=0.7,
                        zorder=0, antialiased=True)
        for k, key in enumerate(keys):
            handles.append(Patch(color=cmap(k), alpha=0.7,
                                 label=f"{key[0]} equilibri{'um' if key[0] == 1 else 'a'}, {key[1]} stable"))
    kinds_seen = set()
    drawn = set()
    name1 = name2 = None
    for kind, br in pairs:
        n = int(br.num_points)
        x = np.asarray(br.x[:n])
        p1, p2 = x[:, -1], np.asarray(br.p[:n])
        if transpose:
            p1, p2 = p2, p1
        nu = np.asarray(br.n_unstable[:n])
        style = CURVE_STYLE.get(kind, dict(color="k", label=kind))
        name2 = br.param_name
        ls = np.full(n, "-", object)
        if kind == "hopf" and n:
            # neutral-saddle part: the equilibrium is a saddle (one unstable eigenvalue
            # in 2-D); use the frequency when the curve carries it instead
            d = x.shape[1] - 1
            if d == 2:
                ls[nu == 1] = ":"
        start = 0
        for i in range(1, n + 1):
            if i == n or ls[i] != ls[start]:
                seg = slice(start, min(i + 1, n))
                ax.plot(p1[seg], p2[seg], ls[start], color=style["color"], lw=1.6, zorder=2)
                start = i
        if kind not in drawn:
            handles.append(Line2D([], [], color=style["color"], label=style["label"]))
            drawn.add(kind)
        for s in br.special.to_list():
            k = SpecialKind.from_label(s["kind"])
            st = CODIM2_STYLE.get(k) or special_style(k, s["kind"])
            q1, q2 = s.get("p1", s["x"][-1]), s["p"]
            if transpose:
                q1, q2 = q2, q1
            if (xlim is not None and not min(xlim) <= q1 <= max(xlim)) or (
                    ylim is not None and not min(ylim) <= q2 <= max(ylim)):
                continue  # outside the picture: neither drawn nor in the legend
            ax.plot(q1, q2, st["marker"], color=st["color"], ms=9, zorder=5,
                    markeredgecolor="k", markeredgewidth=0.6)
            if labels:
                text = st["abbrev"] + (" (degenerate)" if s.get("degenerate") else "")
                ax.annotate(text, (q1, q2), textcoords="offset points",
                            xytext=(6, 6), fontsize=9, color=st["color"])
            if k not in kinds_seen:
                handles.append(Line2D([], [], ls="", marker=st["marker"], color=st["color"],
                                      markeredgecolor="k", label=st["name"]))
                kinds_seen.add(k)
    if any(k == "hopf" for k, _ in pairs):
        handles.append(Line2D([], [], **NEUTRAL_SADDLE_STYLE, label="neutral saddle"))
    if legend and handles:
        ax.legend(handles=handles, loc="best", fontsize=7, framealpha=0.85)
    if transpose:
        name1, name2 = name2, name1
    ax.set_xlabel(xlabel or name1 or "p1")
    ax.set_ylabel(ylabel or name2 or "p2")
    if xlim is not None:
        ax.set_xlim(*xlim)
    if ylim is not None:
        ax.set_ylim(*ylim)
    if title:
        ax.set_title(title)
    return ax
