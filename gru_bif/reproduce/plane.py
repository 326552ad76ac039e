"""`fig_parameter_plane` of `gru-bif reproduce`: the (b1, b2) plane of network 4 of
paper_reference.md (U_h = [[3, −1.5], [1.5, 3]], b_h = (b1, b2)), drawn from computed fold and
Hopf curves, with the Bogdanov–Takens point where they meet and the regions coloured by
the number of equilibria and how many are stable. Registered in
`gru_bif.reproduce.FIGURES`."""

import functools
import pathlib

import numpy as np

from ..plotting import plot_parameter_plane, region_counts
from ._common import _continuation, _find_equilibria, _problem, _rounds_to, _row, _save
from .networks import net_homoclinic

B1_RANGE = (-0.3, 0.4)
"""The range of b1 = b_h[0] over which the curves are continued."""


@functools.lru_cache(maxsize=1)
def network4_curves():
    """Fold and Hopf curves of network 4 in (b2, b1) = (p1, p2), started from the fold
    and Hopf points of the one-parameter branch in b2 at b1 = 0.1 (cached: the figure
    and the BT row of `fig_homoclinic_network` share them)."""
    import jax.numpy as jnp

    from .. import fold_curve, hopf_curve

    pr = _problem(net_homoclinic(-0.8), "bh[1]")
    eq = _find_equilibria(pr)
    folds, hopfs = [], []
    for x in np.asarray(eq.x):
        br = _continuation(pr, jnp.asarray(x), -0.8, p_min=-0.8, p_max=0.8, ds=0.01,
                           direction="both")
        for i, s in enumerate(br.special.to_list()):
            if s["kind"] == "fold":
                folds.append((br, i, s["p"]))
            elif s["kind"] == "hopf":
                hopfs.append((br, i, s["p"]))
    kw = dict(p_min=B1_RANGE[0], p_max=B1_RANGE[1], ds=0.01, ds_max=0.05, max_steps=400,
              throw=False)
    curves = []
    seen = []
    for kind, fn, pts in (("fold", fold_curve, folds), ("hopf", hopf_curve, hopfs)):
        for br, i, p in pts:
            if any(k == kind and abs(p - q) < 1e-6 for k, q in seen):
                continue
            c = fn(pr, br, "bh[0]", index=i, **kw)
            curves.append((kind, c))
            # every point of the curve at b1 = 0.1 is the same curve: skip them
            X, P = np.asarray(c.x[: int(c.num_points)]), np.asarray(c.p[: int(c.num_points)])
            for q in (s[2] for s in pts):
                near = np.abs(P - 0.1) < 0.05
                if np.any(near) and np.min(np.abs(X[near, -1] - q)) < 2e-2:
                    seen.append((kind, q))
            seen.append((kind, p))
    return pr, curves


PAPER_BT = (0.033, -0.688)
"""paper_reference.md: the fold, Hopf and homoclinic curves meet at a BT point near (b1, b2)."""


def bt_points():
    """The BT points of network 4's fold and Hopf curves: `(from_fold, from_hopf)` lists
    of special-point dicts, each sorted by distance from the paper's BT point."""
    _, curves = network4_curves()
    out = {"fold": [], "hopf": []}
    for kind, c in curves:
        out[kind] += [s for s in c.special.to_list() if s["kind"] == "bt"]

    def dist(s):
        return abs(s["p"] - PAPER_BT[0]) + abs(s["p1"] - PAPER_BT[1])

    return sorted(out["fold"], key=dist), sorted(out["hopf"], key=dist)


def homoclinic_curve_from_bt(pr, bt):
    """The homoclinic curve of network 4 from its BT point (normal-form predictor,
    located by the projection BVP, continued in b1 = bh[0] over `B1_RANGE`); a
    `HomoclinicBranch` or `None`."""
    import jax.numpy as jnp

    from .._results import RESULTS
    from ..continuation import continuation
    from ..homoclinic import HomoclinicBranch, homoclinic_from_bt, locate_homoclinic

    x = jnp.asarray(bt["x"][:-1])
    hp, u0 = homoclinic_from_bt(pr, "bh[0]", (x, bt["p1"], bt["p"]), eps=0.15)
    sol = locate_homoclinic(hp, u0, remesh=1, throw=False)
    if sol.result != RESULTS.successful:
        return None
    import warnings

    with warnings.catch_warnings():  # stopping at max_steps (b1 ≈ 0.26) is the plan
        warnings.simplefilter("ignore", UserWarning)
        curve = continuation(sol.problem.with_reference(sol.u), sol.u[:-1], sol.u[-1],
                             p_min=B1_RANGE[0], p_max=B1_RANGE[1], ds=0.01, ds_max=0.05,
                             max_steps=300, throw=False)
    return HomoclinicBranch(sol.problem, curve)


def _draw_homoclinic(ax, view, label):
    """The homoclinic curve in the (b1, b2) plane: solid where σ < 0 (a stable cycle is
    born from the loop), dashed where σ > 0."""
    d = view.trimmed()
    b1, b2, stable = d["p2"], d["p1"], d["saddle_quantity"] < 0
    start = 0
    for k in range(1, len(b1) + 1):
        if k == len(b1) or stable[k] != stable[start]:
            seg = slice(start, min(k + 1, len(b1)))
            ax.plot(b1[seg], b2[seg], "-" if stable[start] else "--", color="tab:pink",
                    lw=1.6, zorder=2, label=label if start == 0 else None)
            start = k


def fig_parameter_plane(out: pathlib.Path) -> dict:
    import matplotlib.pyplot as plt

    from .. import hopf_frequency

    name = "fig_parameter_plane"
    pr, curves = network4_curves()
    bt_f, bt_h = bt_points()
    # regions: equilibria on a grid (b1 horizontal, b2 vertical)
    b1s = np.linspace(B1_RANGE[0], B1_RANGE[1], 43)
    b2s = np.linspace(-0.9, -0.4, 41)
    num, nst = region_counts(_problem(net_homoclinic(-0.8), "bh[0]"), "bh[1]", b1s, b2s)

    hom = homoclinic_curve_from_bt(pr, bt_f[0]) if bt_f else None
    fig, axes = plt.subplots(1, 2, figsize=(13, 5.2))
    for ax, lim, title in (
            (axes[0], None, "U_h = [[3, −1.5], [1.5, 3]], b_h = (b1, b2): fold, Hopf and "
             "homoclinic curves"),
            (axes[1], ((-0.02, 0.09), (-0.74, -0.66)), "zoom: the Bogdanov–Takens point")):
        xlim = lim[0] if lim else B1_RANGE
        ylim = lim[1] if lim else (-0.9, -0.4)
        # regions on the full view only: the zoom spans a few cells of their grid
        plot_parameter_plane(curves, ax=ax, transpose=True,
                             regions=(b1s, b2s, num, nst) if lim is None else None,
                             xlabel="b1 = b_h[0]", ylabel="b2 = b_h[1]", title=title,
                             legend=lim is None, xlim=xlim, ylim=ylim)
        if hom is not None:
            label = "homoclinic (from the BT point; dashed: σ > 0)"
            _draw_homoclinic(ax, hom, label)
            leg = ax.get_legend()
            if leg is not None:
                from matplotlib.lines import Line2D

                handles = list(leg.legend_handles)
                for h, t in zip(handles, leg.get_texts()):
                    h.set_label(t.get_text())
                handles.append(Line2D([], [], color="tab:pink", lw=1.6, label=label))
                ax.legend(handles=handles, loc="best", fontsize=7, framealpha=0.85)
        ax.set_xlim(*xlim)
        ax.set_ylim(*ylim)
    fig.tight_layout()
    files = [_save(fig, out, name)]

    rows = []
    if bt_f:
        bt = bt_f[0]
        meet = min((abs(bt["p"] - h["p"]) + abs(bt["p1"] - h["p1"]) for h in bt_h),
                   default=float("nan"))
        rows.append(_row(
            name, "fold, Hopf (and homoclinic) curves meet at a Bogdanov–Takens point",
            "near (0.033, −0.688)",
            f"BT at (b1, b2) = ({bt['p']:.10f}, {bt['p1']:.10f}) on the fold curve; the "
            f"Hopf curve's BT point is {meet:.1e} away; a = {bt['a']:.6g}, b = {bt['b']:.6g}"
            + "".join(f"; another BT at ({o['p']:.6f}, {o['p1']:.6f})" for o in bt_f[1:]),
            _rounds_to(bt["p"], "0.033") and _rounds_to(bt["p1"], "-0.688") and meet < 1e-8,
            b1=bt["p"], b2=bt["p1"], a=bt["a"], b=bt["b"], distance_to_hopf_bt=meet))
    else:
        rows.append(_row(name, "Bogdanov–Takens point", "near (0.033, −0.688)",
                         "no BT point found on the fold curves", False))
    if hom is not None:
        d = hom.trimmed()
        order = np.argsort(d["p2"])
        b2_at = float(np.interp(0.1, d["p2"][order], d["p1"][order]))
        ok = bool(np.min(d["p2"]) <= 0.1 <= np.max(d["p2"]))
        rows.append(_row(
            name, "a homoclinic curve leaves the BT point (the saddle loop of the b2 "
            "branch at b1 = 0.1 lies on it)", "near (0.1, −0.705)",
            f"continued from the BT point: b2 = {b2_at:.8f} at b1 = 0.1 (interpolated "
            f"between computed points; {len(d['p2'])} points, b1 from {d['p2'][0]:.4f} to "
            f"{d['p2'][-1]:.4f}); compare the located saddle loop of "
            "fig_homoclinic_network", ok and _rounds_to(b2_at, "-0.705"), b2=b2_at))
    else:
        rows.append(_row(name, "a homoclinic curve leaves the BT point", "near (0.1, −0.705)",
                         "the homoclinic orbit could not be located from the BT point",
                         False))
    # the Hopf curve at b1 = 0.1 passes through the one-parameter Hopf point (b2 ≈ −0.713)
    for kind, c in curves:
        if kind != "hopf":
            continue
        n = int(c.num_points)
        P, X = np.asarray(c.p[:n]), np.asarray(c.x[:n])
        om = np.asarray(hopf_frequency(pr, "bh[0]", c))[:n]
        j = int(np.argmin(np.abs(P - 0.1)))
        rows.append(_row(name, "Hopf curve through the Hopf point of the b2 branch at b1 = 0.1",
                         "near −0.713", f"b2 = {X[j, -1]:.10f} at b1 = {P[j]:.4g}, "
                         f"ω = {om[j]:.6f}; a Hopf curve for b1 above the BT point, neutral saddles "
                         "below it",
                         _rounds_to(X[j, -1], "-0.713"), b2=X[j, -1], omega=om[j]))
        others = [s for s in c.special.to_list() if s["kind"] == "bautin"]
        if others:
            s = others[0]
            rows.append(_row(name, "Bautin point on the Hopf curve (l1 changes sign)", "—",
                             f"(b1, b2) = ({s['p']:.8f}, {s['p1']:.8f}), l2 = {s['l2']:.4g}",
                             "—", b1=s["p"], b2=s["p1"], l2=s["l2"]))
        break
    cusps = [s for k, c in curves for s in c.special.to_list() if s["kind"] == "cusp"]
    counts = sorted({(int(a), int(b)) for a, b in zip(num.ravel(), nst.ravel())})
    rows.append(_row(name, "regions of the plane by number of equilibria (stable)", "—",
                     ", ".join(f"{a} ({b} stable)" for a, b in counts)
                     + (f"; cusp points at b1 = {[round(s['p'], 6) for s in cusps]}" if cusps
                        else "; no cusp point in range"),
                     "—", regions=[list(c) for c in counts]))
    return {"files": files, "rows": rows}
