"""`fig_homoclinic_network` of `gru-bif reproduce`: network 4 of paper_reference.md
(U_h = [[3, −1.5], [1.5, 3]], b_h = (0.1, b2)): saddle-node, supercritical Hopf, the cycle
that grows into a homoclinic loop (located by the projection BVP and bracketed by
simulation), the SNIC, and the Bogdanov–Takens point of its parameter plane."""

import pathlib

import numpy as np

from ..plotting import plot_bifurcation_diagram, plot_cycle_branch, plot_phase_portrait
from ._common import (
    _add_legend_entry,
    _continuation,
    _cycle_stats,
    _dedup_specials,
    _find_equilibria,
    _jax,
    _problem,
    _rounds_to,
    _row,
    _save,
    _specials,
    _speed_tail,
    _times,
)
from .networks import net_homoclinic
from .plane import bt_points


def _cycle_branches(pr, branches, p_lo, p_hi):
    """The cycles of the network, continued (`continue_cycles`): from the (first) Hopf
    point until their period grows at the saddle, where the homoclinic orbit is located
    (projection-BC boundary-value problem); and the large cycles born at the SNIC,
    started from a simulation at b2 = −0.45 and continued both ways (down to the SNIC,
    located, and up to the end of the range). Returns `(hopf_view, [snic views])`."""
    jax, jnp = _jax()
    from ..periodic import continue_cycles, cycle_from_hopf, cycle_from_simulation

    hopf_view = None
    for br in branches:
        if hopf_view is not None or not _specials(br, "hopf"):
            continue
        k = [s["kind"] for s in br.special.to_list()].index("hopf")
        for sgn in (1.0, -1.0):
            try:
                cp, u0 = cycle_from_hopf(pr, br, k, dp=sgn * 1e-4)
                break
            except ValueError:
                continue
        hopf_view = continue_cycles(cp, u0, p_min=p_lo, p_max=p_hi)
    cp, u = cycle_from_simulation(pr.with_p(-0.45), jnp.array([0.9, -0.5]), 300.0)
    snic_views = [continue_cycles(cp, u, p_min=p_lo, p_max=p_hi, direction=d)
                  for d in ("backward", "forward")]
    return hopf_view, snic_views


def _homoclinic_by_simulation(lo=-0.712, hi=-0.69, iterations=22):
    """Bisect b2 between the Hopf point and beyond: start next to the unstable focus and
    integrate; if the orbit comes to rest (on the node) no cycle surrounds the focus, so
    the homoclinic loop has been passed. Returns (lo, hi) bracketing it."""
    jax, jnp = _jax()
    from ..models.gru import gru_vector_field
    from ..simulate import simulate

    ts = _times(3000.0)
    focus = jnp.array([0.7392, 0.3468])

    def rests(b2):
        nonlocal focus
        g = net_homoclinic(b2)
        focus = _find_equilibria(g, None, focus[None]).x[0]
        tr = simulate(g, None, focus + jnp.array([1e-3, 0.0]), ts)
        return _speed_tail(gru_vector_field, {"gru": g, "u": jnp.zeros((0,))}, tr.xs) < 1e-6

    if rests(lo) or not rests(hi):
        return float("nan"), float("nan")
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        if rests(mid):
            hi = mid
        else:
            lo = mid
    return lo, hi


def fig_homoclinic_network(out: pathlib.Path) -> dict:
    import matplotlib.pyplot as plt

    from ..simulate import simulate

    jax, jnp = _jax()
    name = "fig_homoclinic_network"
    p_lo, p_hi = -0.8, -0.4
    pr = _problem(net_homoclinic(p_lo), "bh[1]")
    eq = _find_equilibria(pr)
    branches = []
    for x in np.asarray(eq.x):
        branches.append(_continuation(pr, jnp.asarray(x), p_lo, p_min=p_lo, p_max=p_hi,
                                     ds=0.005, direction="both"))
    specials = {k: _dedup_specials([s for b in branches for s in _specials(b, k)])
                for k in ("fold", "hopf")}
    folds, hopfs = specials["fold"], specials["hopf"]
    hc_lo, hc_hi = _homoclinic_by_simulation()
    hc = 0.5 * (hc_lo + hc_hi)
    hopf_view, snic_views = _cycle_branches(pr, branches, p_lo, p_hi)
    hom = hopf_view.end if hopf_view is not None else None
    if hom is not None and not (hom.kind == "homoclinic" and hom.located):
        hom = None
    snic_end = snic_views[0].end

    # SNIC: past the second fold a large cycle; its period grows like (b2 - b_SN)^(-1/2)
    snic = folds[-1]["p"] if folds else float("nan")
    ts = _times(6000.0)
    periods = {}
    big = {}
    for d in (0.01, 0.0025, 0.000625):
        g = net_homoclinic(snic + d)
        tr = simulate(g, None, jnp.array([0.9, -0.5]), ts)
        st = _cycle_stats(ts, tr.xs, 0)
        periods[d] = st["period"]
        big[d] = st
    ds_ = sorted(periods)
    slope = float(np.polyfit(np.log(ds_), np.log([periods[d] for d in ds_]), 1)[0])
    fig = plt.figure(figsize=(14, 8.4))
    gs = fig.add_gridspec(2, 3, height_ratios=[1.25, 1])
    ax = fig.add_subplot(gs[0, :2])
    plot_bifurcation_diagram(branches, coord=1, ax=ax, xlabel="b_h[1] = b2", ylabel="h[1]",
                             title="U_h = [[3, −1.5], [1.5, 3]], b_h = (0.1, b2)")

    # zoom on the local story
    axz = fig.add_subplot(gs[0, 2])
    plot_bifurcation_diagram(branches, coord=1, ax=axz, xlabel="b2", ylabel="h[1]",
                             legend=False, title="zoom: SN, Hopf, homoclinic")
    for a_ in (ax, axz):
        for v in [hopf_view] + snic_views:
            if v is not None and len(v):
                plot_cycle_branch(v, 1, ax=a_, color="tab:green", legend=False,
                                  labels=a_ is axz)
        a_.set_ylabel("h[1]")
        a_.set_xlabel("b2")
    from matplotlib.lines import Line2D

    _add_legend_entry(ax, Line2D([], [], color="tab:green", lw=1.6),
                      "cycles: max/min h[1] (continued; stable solid, unstable dashed)",
                      loc="center right")
    if hom is not None:
        (hcl,) = [ax.axvline(hom.p, color="tab:pink", ls="--", lw=1)]
        axz.axvline(hom.p, color="tab:pink", ls="--", lw=1)
        _add_legend_entry(ax, hcl, f"homoclinic at {hom.p:.8f} (located)",
                          loc="center right")
    axz.set_xlim(-0.735, -0.695)
    axz.set_ylim(0.1, 0.5)
    from matplotlib.ticker import MaxNLocator

    axz.xaxis.set_major_locator(MaxNLocator(5))
    full = dict(xlim=(-1.5, 1.5))
    for i, (b2, title, x0, win) in enumerate([
            (-0.709, "b2 = −0.709 (zoom; the node lies below): small stable cycle (red, "
             "simulation) around the focus", "focus", dict(xlim=(0.55, 1.05), ylim=(-0.05, 0.55))),
            (-0.60, "b2 = −0.60: node, saddle, source", None, full),
            (-0.45, "b2 = −0.45: large stable cycle past the SNIC (red, simulation)",
             [0.9, -0.5], full)]):
        axp = fig.add_subplot(gs[1, i])
        g = net_homoclinic(b2)
        plot_phase_portrait(_problem(g, "bh[1]"), ax=axp, **win)
        axp.set_title(title, fontsize=8 if len(title) > 60 else 9, wrap=True)
        if x0 is not None:
            if x0 == "focus":
                x0 = _find_equilibria(g, None, jnp.array([[0.735, 0.35]])).x[0] + jnp.array(
                    [1e-3, 0.0])
            # the last ~4 periods of a long run (near the Hopf point the cycle attracts
            # slowly)
            xs = np.asarray(simulate(g, None, jnp.asarray(x0), _times(4000.0)).xs)
            axp.plot(xs[-600:, 0], xs[-600:, 1], color="tab:red", lw=2, zorder=4)
        if i == 0 and hom is not None and hom.orbit:
            hxs = np.asarray(hom.orbit)
            axp.plot(hxs[:, 0], hxs[:, 1], color="tab:pink", lw=1.5, ls="--", zorder=5,
                     label=f"homoclinic loop (BVP) at b2 = {hom.p:.6f}")
            axp.legend(loc="lower left", fontsize=7)
    fig.tight_layout()
    files = [_save(fig, out, name)]

    rows = []
    sn1 = folds[0]["p"] if folds else float("nan")
    rows.append(_row(name, "saddle-node creates a saddle and a stable point", "near −0.728",
                     f"fold at b2 = {sn1:.12f}", bool(folds) and _rounds_to(sn1, "-0.728"),
                     p=sn1, a=folds[0].get("a") if folds else None))
    if hopfs:
        h = hopfs[0]
        rows.append(_row(name, "supercritical Hopf: a small stable cycle (bistable with a node)",
                         "near −0.713, supercritical",
                         f"Hopf at b2 = {h['p']:.12f}, ω = {h['omega']:.6f}, "
                         f"l1 = {h['l1']:.4g} ({h['criticality']})",
                         _rounds_to(h["p"], "-0.713") and h["l1"] < 0, p=h["p"],
                         omega=h["omega"], l1=h["l1"]))
    else:
        rows.append(_row(name, "supercritical Hopf", "near −0.713", "no Hopf point found", False))
    if hom is not None:
        hb2 = float(hom.p)
        in_bracket = hc_lo - 1e-6 <= hb2 <= hc_hi + 1e-6
        rows.append(_row(
            name, "homoclinic (saddle-loop) bifurcation: the cycle hits the saddle",
            "near −0.705",
            f"homoclinic at b2 = {hb2:.10f} (the end of the continued cycle branch: "
            f"projection-BC BVP started from its cycle of period {hom.period:.1f}); saddle "
            f"({hom.x[0]:.6f}, {hom.x[1]:.6f}), saddle quantity σ = "
            f"{hom.saddle_quantity:.4f} < 0 (a stable cycle, as in the paper); "
            f"simulation bisection [{hc_lo:.9f}, {hc_hi:.9f}] "
            f"{'contains' if in_bracket else 'does NOT contain'} it",
            _rounds_to(hb2, "-0.705") and in_bracket and hom.saddle_quantity < 0,
            p=hb2, saddle=np.asarray(hom.x), saddle_quantity=hom.saddle_quantity,
            simulation_estimate=hc, bracket=[hc_lo, hc_hi]))
    else:
        rows.append(_row(name, "homoclinic (saddle-loop) bifurcation: the cycle hits the saddle",
                         "near −0.705",
                         "not found by the BVP (the cycle branch did not reach a saddle); "
                         f"simulation estimate b2 ≈ {hc:.6f}", False, simulation_estimate=hc,
                         bracket=[hc_lo, hc_hi]))
    rows.append(_row(
        name, "saddle and node merge on an invariant circle (SNIC): a large cycle appears",
        "near −0.514",
        f"fold at b2 = {snic:.12f}"
        + (f" (also the located end of the continued branch of large cycles: "
           f"{snic_end.kind} at {snic_end.p:.12f})" if snic_end is not None
           and snic_end.located else "")
        + f"; past it a large cycle (h[0] ∈ [{big[0.01]['min']:.3f}, "
        f"{big[0.01]['max']:.3f}]) with period " + ", ".join(
            f"{periods[d]:.1f}" for d in ds_[::-1]) + " at b2 − b_SN = "
        + ", ".join(f"{d:g}" for d in ds_[::-1]) + f": T ∝ (b2 − b_SN)^{slope:.2f} "
        "(SNIC: → −1/2) *(simulation)*",
        bool(folds) and _rounds_to(snic, "-0.514") and -0.6 < slope < -0.35,
        p=snic, periods={str(d): periods[d] for d in ds_}, exponent=slope))
    bt_f, _ = bt_points()  # two-parameter fold curve (fig_parameter_plane draws it)
    if bt_f:
        bt = bt_f[0]
        rows.append(_row(name, "Bogdanov–Takens point in the (b1, b2) plane",
                         "near (0.033, −0.688)",
                         f"BT at ({bt['p']:.10f}, {bt['p1']:.10f}) on the computed fold "
                         f"curve (a = {bt['a']:.4g}, b = {bt['b']:.4g}; see fig_parameter_plane)",
                         _rounds_to(bt["p"], "0.033") and _rounds_to(bt["p1"], "-0.688"),
                         b1=bt["p"], b2=bt["p1"], a=bt["a"], b=bt["b"]))
    else:
        rows.append(_row(name, "Bogdanov–Takens point in the (b1, b2) plane",
                         "near (0.033, −0.688)", "no BT point on the computed fold curve",
                         False))
    return {"files": files, "rows": rows}
