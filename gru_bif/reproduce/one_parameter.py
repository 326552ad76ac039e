"""Figures of `gru-bif reproduce` drawn as one-parameter bifurcation diagrams: the 1-D
saddle-node (`fig_1d_saddle_node`), the Hopf points of a rotation network
(`fig_hopf_gru`), the ring of sinks that becomes a limit cycle (`fig_ring`) and the
pitchfork at the pseudo-line attractor (`fig_pseudo_line`)."""

import math
import pathlib

import numpy as np

from ..plotting import plot_bifurcation_diagram, plot_phase_portrait
from ._common import (
    _add_legend_entry,
    _checked,
    _continuation,
    _counts,
    _cycle_stats,
    _dedup_specials,
    _find_equilibria,
    _fmt_counts,
    _jax,
    _NT,
    _problem,
    _row,
    _save,
    _specials,
    _times,
    _tol_exact,
)
from .networks import (
    BSTAR,
    coupling_field,
    net_1d,
    net_hopf,
    ring_field,
)


def fig_1d_saddle_node(out: pathlib.Path) -> dict:
    import matplotlib.pyplot as plt

    _, jnp = _jax()
    name = "fig_1d_saddle_node"
    pr = _problem(net_1d(-0.5))
    br = _continuation(pr, jnp.array([-0.95]), -0.5, p_min=-0.5, p_max=0.5, ds=0.01,
                      direction="both")
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    plot_bifurcation_diagram(br, coord=0, ax=ax, xlabel="b_h", ylabel="h",
                             title="1-D GRU (U_h = 3, z = r = 1/2): saddle-node bifurcations")
    bstar = abs(BSTAR)
    for b in (-bstar, bstar):
        ax.axvline(b, color="0.6", lw=0.8, ls=":")
    ax.text(bstar, -1.0, " ±b* (closed form)", fontsize=8, color="0.4", va="bottom")
    files = [_save(fig, out, name)]
    folds = _specials(br, "fold")
    tol = _tol_exact()
    rows = []
    hstar = 1.0 / math.sqrt(3.0)
    if len(folds) != 2:
        rows.append(_row(name, "two folds at ±b*", f"±{bstar:.10f}",
                         f"{len(folds)} folds found", False))
        return {"files": files, "rows": rows}
    err_p = max(abs(folds[0]["p"] + bstar), abs(folds[1]["p"] - bstar))
    err_h = max(abs(folds[0]["x"][0] - hstar), abs(folds[1]["x"][0] + hstar))
    rows.append(_row(
        name, "two saddle-node (fold) points at b = ±b*, b* = |atanh(1/√3) − 1.5/√3|",
        f"|b*| ≈ 0.2075; closed form ±{bstar:.15f}",
        f"{folds[0]['p']:.15f}, {folds[1]['p']:+.15f} (error {err_p:.1e})",
        err_p < tol, p=[f["p"] for f in folds], closed_form=[-bstar, bstar], error=err_p))
    rows.append(_row(
        name, "fold states h = ∓1/√3", f"∓{hstar:.15f}",
        f"{folds[0]['x'][0]:+.15f}, {folds[1]['x'][0]:+.15f} (error {err_h:.1e})",
        err_h < tol, h=[f["x"][0] for f in folds], error=err_h))
    a = [f.get("a", float("nan")) for f in folds]
    # closed form: a = f''(h*)/2 = -(1/2)(1/2)(2)(1.5²) tanh·sech² = ∓√3/4 at h = ±1/√3
    a_ref = [-math.sqrt(3) / 4, math.sqrt(3) / 4]
    err_a = max(abs(u - v) for u, v in zip(a, a_ref))
    rows.append(_row(name, "fold normal-form coefficient a = f''(h*)/2 (closed form ∓√3/4)",
                     f"{a_ref[0]:+.12f}, {a_ref[1]:+.12f}",
                     "a = " + ", ".join(f"{v:+.12f}" for v in a) + f" (error {err_a:.1e})",
                     err_a < 1e-6, a=a, closed_form=a_ref, error=err_a))
    return {"files": files, "rows": rows}


def fig_hopf_gru(out: pathlib.Path) -> dict:
    import matplotlib.pyplot as plt

    from ..simulate import simulate

    jax, jnp = _jax()
    name = "fig_hopf_gru"
    ref = 0.359038459564185
    pr = _problem(net_hopf(-1.0))
    eq = _find_equilibria(pr)
    br = _continuation(pr, eq.x[0], -1.0, p_min=-1.0, p_max=1.0, ds=0.01, direction="both")
    fig, ax = plt.subplots(figsize=(6.8, 4.6))
    plot_bifurcation_diagram(br, coord=1, ax=ax, xlabel="b_h[0] = p", ylabel="h[1]",
                             title="2-D GRU, U_h = 3·R(π/4): Hopf bifurcations")
    # the stable cycle between the Hopf points, by simulation: extrema of h[1]
    ps = np.linspace(-0.34, 0.34, 13)
    ts = _times(400.0)
    lo, hi = [], []
    for p in ps:
        g = net_hopf(float(p))
        tr = simulate(g, None, jnp.array([0.05, 0.05]), ts)
        st = _cycle_stats(ts, tr.xs, 1)
        lo.append(st["min"])
        hi.append(st["max"])
    (dots,) = ax.plot(ps, lo, "o", color="tab:green", ms=3.5)
    ax.plot(ps, hi, "o", color="tab:green", ms=3.5)
    _add_legend_entry(ax, dots, "stable cycle: min/max h[1] (simulation)", loc="upper left")
    files = [_save(fig, out, name)]
    hopf = _specials(br, "hopf")
    rows = []
    if len(hopf) != 2:
        rows.append(_row(name, "two Hopf points at ±0.359038459564185", f"±{ref}",
                         f"{len(hopf)} Hopf points found", False))
        return {"files": files, "rows": rows}
    err = max(abs(hopf[0]["p"] + ref), abs(hopf[1]["p"] - ref))
    rows.append(_row(name, "two Hopf points at p = ±0.359038459564185 (reference value)",
                     f"±{ref}", f"{hopf[0]['p']:.15f}, {hopf[1]['p']:+.15f} (error {err:.1e})",
                     err < _tol_exact(), p=[h["p"] for h in hopf], error=err))
    # frequency: check against the eigenvalues at the located point
    om = [h["omega"] for h in hopf]
    eig_om = []
    for h in hopf:
        J = jax.jacfwd(lambda x: pr.F(x, h["p"]))(jnp.asarray(h["x"]))
        eig_om.append(float(np.max(np.abs(np.imag(np.linalg.eigvals(np.asarray(J)))))))
    rows.append(_row(name, "Hopf frequency ω (checked against eig of the Jacobian)", "—",
                     f"ω = {om[0]:.10f}, {om[1]:.10f}; eig: {eig_om[0]:.10f}",
                     max(abs(a - b) for a, b in zip(om, eig_om)) < 1e-6, omega=om,
                     omega_eig=eig_om))
    l1 = [h.get("l1", float("nan")) for h in hopf]
    cyc_ok = all(h_ - l_ > 1e-3 for l_, h_ in zip(lo, hi))
    rows.append(_row(name, "both Hopf points supercritical (l1 < 0): a stable cycle between them",
                     "supercritical",
                     f"l1 = {l1[0]:.6g}, {l1[1]:.6g}; stable cycle at all {len(ps)} simulated p "
                     "in (−0.34, 0.34) *(simulation)*",
                     all(v < 0 for v in l1) and cyc_ok, l1=l1))
    return {"files": files, "rows": rows}


def fig_ring(out: pathlib.Path) -> dict:
    import matplotlib.pyplot as plt

    from ..problem import Problem
    from ..simulate import simulate

    jax, jnp = _jax()
    name = "fig_ring"
    a = 3.0
    pr = Problem(ring_field, {"a": a, "c": 0.0}, "c")
    box = (-jnp.ones(2), jnp.ones(2))
    eq0 = _find_equilibria(pr, box=box)
    c0 = _counts(eq0)
    branches = []  # from each sink (through its fold into the saddle branch) and the source
    for x, kind in zip(np.asarray(eq0.x), eq0.labels):
        if kind == "saddle":
            continue
        branches.append(_continuation(pr, jnp.asarray(x), 0.0, p_min=0.0, p_max=1.0, ds=0.02,
                                     direction="both"))
    folds = _dedup_specials([s for b in branches for s in _specials(b, "fold")])
    cstar = [f["p"] for f in folds]
    cs = float(np.mean(cstar)) if cstar else float("nan")
    c_after = round(cs + 0.05, 2) if cstar else 0.55
    eq1 = _find_equilibria(pr.with_p(c_after), box=box)
    c1 = _counts(eq1)
    ts = _times(1500.0)
    tr = simulate(ring_field, {"a": jnp.asarray(a), "c": jnp.asarray(c_after)},
                  jnp.array([0.5, 0.5]), ts)
    st = _cycle_stats(ts, tr.xs, 0)

    fig, axes = plt.subplots(1, 4, figsize=(18, 4.4))
    plot_bifurcation_diagram(branches, coord=0, ax=axes[0], xlabel="c (rotation)",
                             ylabel="h[0]", title=f"U_h = [[{a:g}, −c], [c, {a:g}]]")
    for ax, c, title, leg in [(axes[1], 0.0, "c = 0: ring of 4 sinks and 4 saddles", True),
                              (axes[2], round(cs - 0.02, 2) if cstar else 0.4,
                               "just before the saddle-nodes", False),
                              (axes[3], c_after, "after: a limit cycle", True)]:
        plot_phase_portrait(pr.with_p(c), ax=ax, legend=leg)
        ax.set_title(f"c = {c:g}: {title.split(': ')[-1]}", fontsize=9)
    xs = np.asarray(tr.xs)
    axes[3].plot(xs[_NT // 2 :, 0], xs[_NT // 2 :, 1], color="tab:red", lw=2, zorder=4)
    axes[3].set_title(f"c = {c_after:g}: a limit cycle (red, simulation, T ≈ {st['period']:.0f})",
                      fontsize=9)
    fig.tight_layout()
    files = [_save(fig, out, name)]
    rows = [
        _row(name, "c = 0 (network 2): a ring of 4 sinks and 4 saddles (plus a source)",
             "4 sinks, 4 saddles", _fmt_counts(c0),
             c0 == {"stable node": 4, "saddle": 4, "unstable node": 1}, counts=c0),
        _row(name, "growing rotation c: sink/saddle pairs annihilate in saddle-nodes",
             "saddle-node bifurcations (value not stated)",
             f"{len(folds)} folds (one per sink/saddle pair, equal by the 90° symmetry) at c = "
             + ", ".join(f"{v:.12f}" for v in cstar),
             len(folds) == 4 and np.ptp(cstar) < 1e-8, c=cstar),
        _row(name, "past the saddle-nodes the ring becomes a limit cycle (SNIC)",
             "limit cycle", f"c = {c_after:g}: {_fmt_counts(c1)}; stable cycle of period "
             f"{st['period']:.2f} *(simulation)*",
             sum(c1.values()) == 1 and set(c1) <= {"unstable node", "unstable focus"}
             and np.isfinite(st["period"]), counts=c1,
             period=st["period"]),
    ]
    return {"files": files, "rows": rows}


def fig_pseudo_line(out: pathlib.Path) -> dict:
    import matplotlib.pyplot as plt

    from .. import switch_branch
    from ..problem import Problem

    jax, jnp = _jax()
    name = "fig_pseudo_line"
    pr = Problem(coupling_field, {"s": 1.0}, "s")
    box = (-jnp.ones(2), jnp.ones(2))
    found = {s: _find_equilibria(pr.with_p(s), box=box) for s in (0.95, 1.0, 1.05)}
    # The trivial branch h = 0, started along the parameter axis (tangent0), so that it
    # and the switched branch share one compiled continuation; then the other branch
    # through its branch point (gru_bif.switch_branch).
    opts = dict(p_min=0.9, p_max=1.1, ds=0.005, direction="both")
    trivial = _continuation(pr, jnp.zeros(2), 0.9, tangent0=jnp.array([0.0, 0.0, 1.0]), **opts)
    brs = [trivial]
    for i, s in enumerate(trivial.special.to_list()):
        if s["kind"] == "branch_point":
            brs.append(_checked(switch_branch(pr, trivial, i, throw=False, **opts)))
    bps = _dedup_specials([s for b in brs for s in _specials(b, "branch_point")], tol=1e-4)

    fig, axes = plt.subplots(1, 4, figsize=(19, 4.5))
    zoom = dict(xlim=(-0.2, 0.2), ylim=(-0.2, 0.2))
    plot_phase_portrait(pr.with_p(1.0), ax=axes[0], speed_colour=True, trajectories=8,
                        t_max=40.0, **zoom)
    axes[0].set_title("pseudo-line attractor, zoom [−0.2, 0.2]² (log10 speed)", fontsize=9)
    for ax, s in ((axes[1], 0.95), (axes[2], 1.05)):
        plot_phase_portrait(pr.with_p(s), ax=ax, speed_colour=True, xlim=(-0.6, 0.6),
                            ylim=(-0.6, 0.6))
        ax.set_title(f"coupling ×{s:g}: {int(found[s].count)} fixed point(s)", fontsize=9)
    plot_bifurcation_diagram(brs, coord=0, ax=axes[3], xlabel="coupling scale s",
                             ylabel="h[0]", title="pitchfork at s = 1")
    fig.tight_layout()
    files = [_save(fig, out, name)]
    c = {s: _counts(e) for s, e in found.items()}
    rows = [
        _row(name, "coupling −5 %: one hyperbolic sink", "1 sink", _fmt_counts(c[0.95]),
             c[0.95] == {"stable node": 1}, counts=c[0.95]),
        _row(name, "coupling +5 %: three fixed points (pitchfork)", "3 fixed points",
             _fmt_counts(c[1.05]), c[1.05] == {"stable node": 2, "saddle": 1}, counts=c[1.05]),
        _row(name, "the line attractor is not structurally stable: pitchfork at the pseudo-line "
             "network (s = 1)", "pitchfork", "branch point(s) at s = "
             + ", ".join(f"{b['p']:.8f}" for b in bps) + f"; {len(brs)} branches",
             bool(bps) and abs(bps[0]["p"] - 1) < 1e-4, s=[b["p"] for b in bps]),
    ]
    # cubic slowness along y = -x
    f = pr.with_p(1.0)
    sp = [float(jnp.linalg.norm(f.F(jnp.array([d, -d]), 1.0))) for d in (1e-2, 1e-3)]
    expo = math.log(sp[0] / sp[1]) / math.log(10.0)
    rows.append(_row(name, "slow drift along y = −x is cubic: |f(δ, −δ)| ∝ δ³", "cubic",
                     f"exponent {expo:.4f}", abs(expo - 3) < 0.01, exponent=expo))
    return {"files": files, "rows": rows}
