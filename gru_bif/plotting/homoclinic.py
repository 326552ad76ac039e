"""Pictures of homoclinic orbits (matplotlib, imported lazily).

- `plot_homoclinic_orbit`: the loop in the phase plane with its saddle (orange cross, as
    in `gru_bif.plotting.style.EQUILIBRIUM_STYLE`) and the saddle's eigen-directions;
- `plot_homoclinic_curve`: a continued homoclinic curve in the two-parameter plane, solid
    where the saddle quantity σ < 0 (the cycle born is stable), dashed where σ > 0.
"""

import numpy as np

from . import _compute
from .style import EIGENDIRECTION_COLORS, EQUILIBRIUM_STYLE, HOMOCLINIC_COLOR


def _pyplot():
    import matplotlib.pyplot as plt

    return plt


def plot_homoclinic_orbit(solution, *, ax=None, coords=(0, 1), color=HOMOCLINIC_COLOR,
                          label=None, n: int = 1200, directions: bool = True):
    """Draw a homoclinic orbit in the phase plane.

    **Arguments:** `solution`: a `HomoclinicSolution` (from `locate_homoclinic`), or a
    pair `(problem, u)` (`HomoclinicProblem` and its unknowns, e.g.
    `(view.problem, view.u(i))`); `ax`: axes to draw into (new figure if `None`);
    `coords`: which two state coordinates; `label`: legend text (default: the parameter
    values); `directions`: draw short segments along the saddle's stable (blue) and
    unstable (red) eigenvectors.

    **Returns:** the axes.
    """
    if isinstance(solution, tuple):
        hp, u = solution
    else:
        hp, u = solution.problem, solution.u
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4.5))
    i, j = coords
    _, xs = hp.orbit(u, n)
    xs = np.asarray(xs)
    _, xsad, p1, p2 = hp.split(u)
    xsad = np.asarray(xsad)
    if label is None:
        label = (f"homoclinic orbit, {hp.problem.param.label} = {float(p1):.6g}, "
                 f"{hp.param2.label} = {float(p2):.6g}")
    ax.plot(xs[:, i], xs[:, j], color=color, lw=2, label=label, zorder=4)
    style = dict(EQUILIBRIUM_STYLE.get("saddle", dict(marker="x", color="tab:orange")))
    style.setdefault("linestyle", "none")
    ax.plot([xsad[i]], [xsad[j]], **{**style, "label": "saddle"})
    if directions:
        size = 0.15 * float(np.max(np.ptp(xs[:, [i, j]], axis=0)))
        for v, unstable in _compute.saddle_directions(hp, u, (i, j), size):
            c = EIGENDIRECTION_COLORS["unstable" if unstable else "stable"]
            ax.plot([xsad[i] - v[i], xsad[i] + v[i]], [xsad[j] - v[j], xsad[j] + v[j]],
                    color=c, lw=1, ls=":", zorder=3)
    ax.set_xlabel(f"x[{i}]")
    ax.set_ylabel(f"x[{j}]")
    ax.legend(loc="best", fontsize=8)
    return ax


def plot_homoclinic_curve(curves, *, ax=None, color=HOMOCLINIC_COLOR, label="homoclinic",
                          other=None):
    """Draw continued homoclinic curves in the `(p1, p2)` plane.

    **Arguments:** `curves`: a `HomoclinicBranch` or a list of them; `ax`: axes (new
    figure if `None`); `label`: legend text; `other`: optional dict `{label: (p1s,
    p2s)}` of further curves to draw for reference (e.g. fold and Hopf curves, or an
    asymptote), thin grey-scale lines.

    Solid where `σ < 0` (a stable cycle is born from the loop), dashed where `σ > 0`.

    **Returns:** the axes.
    """
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4.5))
    if not isinstance(curves, (list, tuple)):
        curves = [curves]
    first_s, first_u = True, True
    names = ("p1", "p2")
    for c in curves:
        d = c.trimmed()
        names = c.param_names
        p1, p2, sig = d["p1"], d["p2"], d["saddle_quantity"]
        stable = sig < 0
        # split into runs of equal stability (joined at the boundaries)
        start = 0
        for k in range(1, len(p1) + 1):
            if k == len(p1) or stable[k] != stable[start]:
                seg = slice(start, min(k + 1, len(p1)))
                st = bool(stable[start])
                lab = None
                if st and first_s:
                    lab, first_s = f"{label} (σ < 0: stable cycle)", False
                elif not st and first_u:
                    lab, first_u = f"{label} (σ > 0: unstable cycle)", False
                ax.plot(p1[seg], p2[seg], color=color, lw=2, ls="-" if st else "--",
                        label=lab)
                start = k
    for k, (lab, (a, b)) in enumerate((other or {}).items()):
        ax.plot(a, b, lw=1, color=str(0.2 + 0.25 * (k % 3)), ls="-.", label=lab)
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.legend(loc="best", fontsize=8)
    return ax
