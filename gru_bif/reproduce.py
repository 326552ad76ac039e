"""`gru-bif reproduce --out DIR`: the paper's figures, each computed by the library, and a
report (`REPORT.md`, `report.json`) that sets every claim beside the number measured.

Each figure is an independent function in `FIGURES` (name -> function), so
`gru-bif reproduce --only NAME` redoes one of them and merges its rows into the report
already in `DIR`. A figure that fails is reported as failed (and the exit code is 1);
the others still run.

The networks are those of `gru_bif/data/paper_reference.md` ("built" networks that show each
phenomenon; the pseudo-line attractor's weights are reconstructed from the paper's
figure), not the paper's own weights, which are not known.
"""

import json
import math
import pathlib
import sys
import time
import traceback
from collections.abc import Callable

import numpy as np

from ._io import savefig_atomic, write_atomic

HEADER = """\
# gru_bif: reproduction of Jordan, Sokół & Park (2021)

*Gated recurrent units viewed through the lens of continuous time dynamical systems*
(arXiv 1906.01005; Front. Comput. Neurosci. 15:678158).

**Which weights.** The paper's own weights are not known here. Every network below is a
*built* network from `gru_bif/data/paper_reference.md` (constructed and checked for this project to show
the phenomenon the paper describes), except the pseudo-line attractor, whose weights are
*reconstructed* from the nullclines of the paper's figure (x = tanh(−y), y = tanh(−x)).
All use U_z = 0, b_z = 0 (z = 1/2), U_r = 0, b_r = 0 (r = 1/2) unless stated, no input,
reset "before". Numbers stated "near" a value in paper_reference.md are compared to the digits stated
(the measured value must round to them). Values marked *(simulation)* come from
integrating the ODE (Diffrax), not from a located bifurcation point.
"""

# --------------------------------------------------------------------------- helpers


def _jax():
    import jax
    import jax.numpy as jnp

    return jax, jnp


def _x64() -> bool:
    import jax

    return bool(jax.config.jax_enable_x64)


def _tol_exact() -> float:
    """Agreement tolerance for values known in closed form or to 15 digits."""
    return 1e-8 if _x64() else 2e-4


def _rounds_to(measured: float, stated: str) -> bool:
    """Whether `measured` rounds to the decimal string `stated` (e.g. "-0.728")."""
    digits = len(stated.split(".")[1]) if "." in stated else 0
    return bool(np.isfinite(measured)) and round(measured, digits) == round(float(stated), digits)


def _row(figure, claim, paper, measured, agrees, **values) -> dict:
    if isinstance(agrees, (bool, np.bool_)):
        agrees = "yes" if agrees else "no"
    return {
        "figure": figure,
        "claim": claim,
        "paper": paper,
        "measured": measured,
        "agrees": agrees,
        "values": {k: _plain(v) for k, v in values.items()},
    }


def _plain(v):
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, (np.bool_, bool)):
        return bool(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return float(v) if np.isfinite(v) else None
    if hasattr(v, "tolist"):
        return _plain(np.asarray(v).tolist())
    return v


def _diagram_plotter():
    """`plot_bifurcation_diagram` from the public plotting module (or its home module)."""
    try:
        from .plotting import plot_bifurcation_diagram
    except ImportError:
        from ._plot_diagram import plot_bifurcation_diagram
    return plot_bifurcation_diagram


def _add_legend_entry(ax, handle, label=None, **kw):
    """Append `handle` to the Axes' existing legend (or start one)."""
    leg = ax.get_legend()
    handles, labels = [], []
    if leg is not None:
        handles = list(leg.legend_handles)
        labels = [t.get_text() for t in leg.get_texts()]
    handles.append(handle)
    labels.append(label if label is not None else handle.get_label())
    kw.setdefault("fontsize", 8)
    kw.setdefault("loc", "best")
    ax.legend(handles, labels, **kw)


def _save(fig, out: pathlib.Path, name: str) -> str:
    path = out / f"{name}.png"
    savefig_atomic(fig, path, dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return str(path)


def _counts(eq) -> dict:
    return {k: int(v) for k, v in eq.counts().items()}


def _fmt_counts(c: dict) -> str:
    short = {
        "stable node": "sink",
        "stable focus": "stable focus",
        "unstable node": "source",
        "unstable focus": "unstable focus",
        "saddle": "saddle",
        "non-hyperbolic": "non-hyperbolic",
    }
    parts = [f"{n} {short.get(k, k)}{'s' if n != 1 else ''}" for k, n in c.items() if n]
    return f"{sum(c.values())}: " + ", ".join(parts)


def _specials(branch, kind: str) -> list[dict]:
    return sorted(
        (s for s in branch.special.to_list() if s["kind"] == kind), key=lambda s: s["p"]
    )


def _dedup_specials(specials: list[dict], tol: float = 1e-6) -> list[dict]:
    out: list[dict] = []
    for s in specials:
        if not any(
            abs(s["p"] - o["p"]) < tol and np.allclose(s["x"], o["x"], atol=1e-5) for o in out
        ):
            out.append(s)
    return out


def _cycle_stats(ts, xs, coord: int = 0) -> dict:
    """Period (mean time between upward crossings of the mid level, second half of the
    run) and extrema of an oscillation; period NaN if it does not oscillate."""
    t = np.asarray(ts)
    y = np.asarray(xs)[:, coord]
    half = len(t) // 2
    t, y = t[half:], y[half:]
    lo, hi = float(y.min()), float(y.max())
    if hi - lo < 1e-6:
        return {"period": float("nan"), "min": lo, "max": hi, "crossings": 0}
    s = y - 0.5 * (lo + hi)
    idx = np.nonzero((s[:-1] < 0) & (s[1:] >= 0))[0]
    tc = t[idx] - s[idx] * (t[idx + 1] - t[idx]) / (s[idx + 1] - s[idx])
    period = float(np.diff(tc).mean()) if len(tc) > 1 else float("nan")
    return {"period": period, "min": lo, "max": hi, "crossings": int(len(tc))}


_NT = 6001
"""Output times per simulation: one shape everywhere, so one compiled solver per system."""


def _times(t_end: float):
    _, jnp = _jax()
    return jnp.linspace(0.0, float(t_end), _NT)


def _speed_tail(f, args, xs, frac: float = 0.2) -> float:
    """Largest speed |f| over the last `frac` of a trajectory."""
    jax, jnp = _jax()
    tail = jnp.asarray(np.asarray(xs)[-max(2, int(frac * len(xs))) :])
    v = jax.vmap(lambda x: f(0.0, x, args))(tail)
    return float(jnp.max(jnp.linalg.norm(v, axis=-1)))


# Library calls with `throw=False`, checked here on the host: an executable that can
# raise from inside (a host callback) is never stored in JAX's persistent compilation
# cache, so with `throw=True` every run would compile the continuation loop again.


def _find_equilibria(*args, **kwargs):
    from .equilibria import find_equilibria

    eq = find_equilibria(*args, throw=False, **kwargs)
    if int(eq.count) == 0:
        raise RuntimeError("find_equilibria: no start converged to an equilibrium")
    return eq


def _checked(branch):
    from .continuation.api import _fatal

    if bool(_fatal(branch.result)):
        raise RuntimeError(f"continuation could not start: {branch.message}")
    return branch


def _continuation(*args, **kwargs):
    from .continuation import continuation

    return _checked(continuation(*args, throw=False, **kwargs))


# --------------------------------------------------------------------------- networks
# Module-level vector fields (a function defined once compiles once).


def ring_field(t, h, args):
    """Network 7 of paper_reference.md: a GRU with U_h = [[a, -c], [c, a]] (z = r = 1/2); `args`
    holds the scalars `a` and `c`, so both off-diagonal entries move together."""
    _, jnp = _jax()
    from .models.gru import GRU

    a, c = args["a"], args["c"]
    Uh = jnp.stack([jnp.stack([a, -c]), jnp.stack([c, a])])
    return GRU(Uh)(t, h)


def coupling_field(t, h, args):
    """Network 6 of paper_reference.md with the coupling scaled by `s`: U_h = s·[[0, -2], [-2, 0]]
    (s = 1: the pseudo-line attractor; s = 0.95 / 1.05: the ±5 % perturbations)."""
    _, jnp = _jax()
    from .models.gru import GRU

    return GRU(args["s"] * jnp.array([[0.0, -2.0], [-2.0, 0.0]]))(t, h)


def _ex(name, *args, **kwargs):
    """`(gru, facts)` of an example network of `gru_bif.examples`."""
    from . import examples

    return examples.EXAMPLES[name](*args, **kwargs)


def net_1d(b=0.0):
    return _ex("saddle_node_1d", b)[0]


def net_hopf(p=0.0):
    """The reference 2-D GRU for Hopf points: U_h = 3·R(π/4), b_h = (p, 0)."""
    from .examples import rotation
    from .models.gru import GRU

    _, jnp = _jax()
    return GRU(3.0 * rotation(math.pi / 4), jnp.array([float(p), 0.0]))


def net_homoclinic(b2=-0.8):
    return _ex("homoclinic", b2)[0]


def _problem(gru, param="bh[0]"):
    from .problem import Problem

    return Problem.from_gru(gru, param)


BSTAR = math.atanh(1.0 / math.sqrt(3.0)) - 1.5 / math.sqrt(3.0)  # -0.2075...
"""The fold of h = tanh(1.5 h + b): 1.5 sech²(1.5h + b) = 1 and h = tanh(1.5h + b) give
h² = 1/3, so the folds are at h = ∓1/√3, b = ±|atanh(1/√3) − 1.5/√3|."""

# --------------------------------------------------------------------------- figures


def fig_1d_flows(out: pathlib.Path) -> dict:
    import matplotlib.pyplot as plt

    from .plotting import plot_flow_1d

    name = "fig_1d_flows"
    bstar = abs(BSTAR)
    cases = [("b = 0: bistable (one bit)", 0.0), (f"b = b* = {bstar:.4f}: saddle-node", bstar),
             ("b = 0.4: one stable point", 0.4)]
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.6))
    found = {}
    for ax, (title, b) in zip(axes, cases):
        pr = _problem(net_1d(b))
        plot_flow_1d(pr, ax=ax)
        ax.set_title(f"1-D GRU, U_h = 3, {title}", fontsize=9)
        eq = _find_equilibria(pr)
        found[b] = eq
    files = [_save(fig, out, name)]
    rows = []
    eq0 = found[0.0]
    xs = np.sort(np.asarray(eq0.x)[:, 0])
    labels = dict(zip(np.asarray(eq0.x)[:, 0].tolist(), eq0.labels))
    ok0 = (
        len(xs) == 3
        and abs(xs[2] - 0.85856) < 5e-6
        and abs(xs[0] + 0.85856) < 5e-6
        and abs(xs[1]) < 1e-9
        and labels[xs[1]] == "unstable node"
        and labels[xs[0]] == labels[xs[2]] == "stable node"
    )
    rows.append(_row(
        name, "b = 0: two stable points and an unstable one",
        "stable ±0.85856, unstable 0",
        f"{_fmt_counts(_counts(eq0))} at h = " + ", ".join(f"{v:+.6f}" for v in xs),
        ok0, h=xs, counts=_counts(eq0)))
    eqs = found[bstar]
    c = _counts(eqs)
    ok = len(eqs.labels) == 2 and c.get("stable node", 0) == 1 and c.get("non-hyperbolic", 0) == 1
    rows.append(_row(
        name, "b = b*: a stable point and a half-stable one (saddle-node)",
        "1 stable + 1 half-stable", _fmt_counts(c) + " at h = "
        + ", ".join(f"{v:+.6f}" for v in np.sort(np.asarray(eqs.x)[:, 0])), ok, counts=c))
    eq4 = found[0.4]
    c = _counts(eq4)
    rows.append(_row(name, "beyond b*: one stable point", "1 stable", _fmt_counts(c),
                     c == {"stable node": 1}, counts=c))
    # at most three fixed points, over a scan of b
    nmax = 0
    for b in np.linspace(-1.0, 1.0, 41):
        nmax = max(nmax, int(_find_equilibria(_problem(net_1d(float(b)))).count))
    rows.append(_row(name, "at most three fixed points in 1-D (scan b ∈ [−1, 1], 41 values)",
                     "≤ 3", f"max {nmax}", nmax == 3, max_count=nmax))
    return {"files": files, "rows": rows}


def fig_1d_saddle_node(out: pathlib.Path) -> dict:
    import matplotlib.pyplot as plt

    plot_bifurcation_diagram = _diagram_plotter()

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


def fig_2d_portraits(out: pathlib.Path) -> dict:
    import matplotlib.pyplot as plt

    from .plotting import plot_phase_portrait
    from .simulate import simulate

    jax, jnp = _jax()
    name = "fig_2d_portraits"
    fig, axes = plt.subplots(2, 2, figsize=(11, 10.5))
    rows = []

    # (a) four-state machine
    g, facts = _ex("four_state_machine")
    pr = _problem(g)
    plot_phase_portrait(pr, ax=axes[0, 0])
    axes[0, 0].set_title("(a) four-state machine, U_h = 3·I", fontsize=10)
    eq = _find_equilibria(pr)
    c = _counts(eq)
    sinks = np.asarray(eq.of_type("stable node"))
    ok = c == {"stable node": 4, "saddle": 4, "unstable node": 1} and np.allclose(
        np.abs(sinks), 0.85856, atol=5e-6)
    rows.append(_row(name, "(a) U_h = 3·I: 9 fixed points, sinks at (±0.85856, ±0.85856)",
                     "9: 4 sinks, 4 saddles, 1 source", _fmt_counts(c)
                     + f"; sinks at |h_i| = {np.abs(sinks).mean():.6f}", ok, counts=c))

    # (b) limit cycle
    g, facts = _ex("limit_cycle")
    pr = _problem(g)
    plot_phase_portrait(pr, ax=axes[0, 1])
    eq = _find_equilibria(pr)
    c = _counts(eq)
    ts = _times(600.0)
    tr = simulate(g, None, jnp.array([0.1, 0.0]), ts)
    st = _cycle_stats(ts, tr.xs, 0)
    xs = np.asarray(tr.xs)
    axes[0, 1].plot(xs[_NT // 2 :, 0], xs[_NT // 2 :, 1], color="tab:red", lw=2.0, zorder=4)
    axes[0, 1].set_title("(b) limit cycle, U_h = 3·R(π/6); red: the stable cycle, "
                         f"T ≈ {st['period']:.2f} (simulation)", fontsize=10)
    ok = c == {"unstable focus": 1} and abs(st["period"] - facts["period"]) < 1.0
    rows.append(_row(name, "(b) U_h = 3·R(π/6): one unstable focus and a stable limit cycle",
                     "unstable focus at 0; cycle period ≈ 22",
                     f"{_fmt_counts(c)} at ({float(eq.x[0, 0]):.1e}, {float(eq.x[0, 1]):.1e});"
                     f" cycle period {st['period']:.3f} *(simulation)*",
                     ok, counts=c, period=st["period"]))

    # (c) eleven fixed points (needs the reset gate)
    g, facts = _ex("eleven_fixed_points")
    pr = _problem(g)
    plot_phase_portrait(pr, ax=axes[1, 0])
    axes[1, 0].set_title("(c) 11 fixed points (with reset gate U_r ≠ 0)", fontsize=10)
    eq = _find_equilibria(pr)
    c = _counts(eq)
    ok = c == {"stable node": 5, "saddle": 5, "unstable node": 1}
    hyper = bool(np.all(np.abs(np.real(np.asarray(eq.eigenvalues))) > 1e-3))
    rows.append(_row(name, "(c) reset-gate network: 11 hyperbolic fixed points",
                     "11: 5 sinks, 5 saddles, 1 source",
                     _fmt_counts(c) + ("; all hyperbolic" if hyper else "; NOT all hyperbolic"),
                     ok and hyper, counts=c))

    # (d) pseudo-line attractor, full view with log speed
    pr = _problem(_ex("pseudo_line_attractor", 1.0)[0])
    plot_phase_portrait(pr, ax=axes[1, 1], speed_colour=True, trajectories=10, t_max=40.0)
    axes[1, 1].set_title("(d) pseudo-line attractor, U_h = [[0, −2], [−2, 0]]", fontsize=10)
    eq = _find_equilibria(pr)
    c = _counts(eq)
    J = np.asarray(eq.jacobian[0])
    w, v = np.linalg.eig(J)
    order = np.argsort(-np.real(w))
    w, v = np.real(w[order]), np.real(v[:, order])
    slow_dir = v[:, 0] / np.linalg.norm(v[:, 0])
    ok = (c == {"non-hyperbolic": 1} and abs(w[0]) < 1e-8 and abs(w[1] + 1) < 1e-8
          and abs(abs(slow_dir @ np.array([1, -1]) / math.sqrt(2)) - 1) < 1e-8)
    rows.append(_row(name, "(d) pseudo-line attractor: one non-hyperbolic fixed point at 0",
                     "1 fixed point, eigenvalues 0 along (1, −1) and −1 along (1, 1)",
                     f"{_fmt_counts(c)}; eigenvalues {w[0]:.1e}, {w[1]:.6f}; null direction "
                     f"({slow_dir[0]:+.4f}, {slow_dir[1]:+.4f})", ok, counts=c,
                     eigenvalues=w))
    fig.tight_layout()
    files = [_save(fig, out, name)]
    return {"files": files, "rows": rows}


def fig_hopf_gru(out: pathlib.Path) -> dict:
    import matplotlib.pyplot as plt

    plot_bifurcation_diagram = _diagram_plotter()
    from .simulate import simulate

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


def _cycle_branches(pr, branches, p_lo, p_hi):
    """The cycles of the network, continued (`continue_cycles`): from the (first) Hopf
    point until their period grows at the saddle, where the homoclinic orbit is located
    (projection-BC boundary-value problem); and the large cycles born at the SNIC,
    started from a simulation at b2 = −0.45 and continued both ways (down to the SNIC,
    located, and up to the end of the range). Returns `(hopf_view, [snic views])`."""
    jax, jnp = _jax()
    from .periodic import continue_cycles, cycle_from_hopf, cycle_from_simulation

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
    from .models.gru import gru_vector_field
    from .simulate import simulate

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

    plot_bifurcation_diagram = _diagram_plotter()
    from .plotting import plot_phase_portrait
    from .simulate import simulate

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
    from .plotting import plot_cycle_branch

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
    from ._reproduce_plane import bt_points

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


def fig_ring(out: pathlib.Path) -> dict:
    import matplotlib.pyplot as plt

    plot_bifurcation_diagram = _diagram_plotter()
    from .plotting import plot_phase_portrait
    from .problem import Problem
    from .simulate import simulate

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

    plot_bifurcation_diagram = _diagram_plotter()
    from .bifurcations.switching import switch_branch
    from .plotting import plot_phase_portrait
    from .problem import Problem

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


FIGURES: dict[str, Callable[[pathlib.Path], dict]] = {
    "fig_1d_flows": fig_1d_flows,
    "fig_1d_saddle_node": fig_1d_saddle_node,
    "fig_2d_portraits": fig_2d_portraits,
    "fig_hopf_gru": fig_hopf_gru,
    "fig_homoclinic_network": fig_homoclinic_network,
    "fig_ring": fig_ring,
    "fig_pseudo_line": fig_pseudo_line,
}
from ._reproduce_extra import fig_census, fig_trained  # noqa: E402 (they use the helpers above)

FIGURES["fig_census"] = fig_census
FIGURES["fig_trained"] = fig_trained
from ._reproduce_plane import fig_parameter_plane  # noqa: E402

FIGURES["fig_parameter_plane"] = fig_parameter_plane
"""The figures, in order: name -> function(out_dir) -> {"files": [...], "rows": [...]}."""


# --------------------------------------------------------------------------- report


def _md_cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def write_report(out: pathlib.Path, results: dict) -> None:
    """Write `REPORT.md` and `report.json` from `results` (name -> figure record)."""
    import jax

    meta = {
        "format": "gru_bif.report",
        "version": 1,
        "precision": "float64" if _x64() else "float32",
        "jax": jax.__version__,
        "backend": jax.default_backend(),
    }
    ordered = {k: results[k] for k in FIGURES if k in results}
    payload = dict(meta, figures=ordered)
    write_atomic(out / "report.json", json.dumps(_plain(payload), indent=1))
    lines = [HEADER, f"Precision: {meta['precision']}; JAX {meta['jax']} on {meta['backend']}.\n"]
    lines.append("| figure | claim | paper states | measured | agrees |")
    lines.append("|---|---|---|---|---|")
    for fname, rec in ordered.items():
        if rec["status"] != "ok":
            lines.append(f"| {fname} | (figure failed) | — | {_md_cell(rec.get('error', ''))} "
                         "| failed |")
            continue
        for r in rec["rows"]:
            lines.append(
                f"| {fname} | {_md_cell(r['claim'])} | {_md_cell(r['paper'])} | "
                f"{_md_cell(r['measured'])} | {r['agrees']} |"
            )
    lines.append("")
    lines.append("## Files\n")
    for fname, rec in ordered.items():
        files = ", ".join(f"`{pathlib.Path(f).name}`" for f in rec.get("files", [])) or "—"
        lines.append(f"- {fname}: {files} ({rec['status']}, {rec.get('seconds', 0):.1f} s)")
    tally = {}
    for rec in ordered.values():
        for r in rec.get("rows", []):
            tally[r["agrees"]] = tally.get(r["agrees"], 0) + 1
    lines.append("")
    lines.append("Summary: " + ", ".join(f"{v} {k}" for k, v in sorted(tally.items()))
                 + f"; {sum(r['status'] != 'ok' for r in ordered.values())} figure(s) failed.")
    write_atomic(out / "REPORT.md", "\n".join(lines) + "\n")


def run(out_dir, only: "str | None" = None, retrain: bool = False) -> int:
    """Compute the figures into `out_dir` (all, or just `only`), write `REPORT.md` and
    `report.json` there, and return an exit code (0 if every figure ran, else 1; 2 for
    an unknown figure name)."""
    import matplotlib

    matplotlib.use("Agg")
    out = pathlib.Path(out_dir)
    if only is not None and only not in FIGURES:
        print(f"error: unknown figure {only!r}; choose one of: {', '.join(FIGURES)}",
              file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    from . import _reproduce_extra

    _reproduce_extra.RETRAIN["on"] = bool(retrain)
    if retrain:
        print("note: --retrain: fig_trained trains its three networks again (about a minute "
              "each) and writes their weights to the output folder.")
    names = [only] if only else list(FIGURES)
    results: dict = {}
    old = out / "report.json"
    if only and old.exists():  # keep the other figures' rows
        try:
            results = json.loads(old.read_text()).get("figures", {})
        except Exception:  # noqa: BLE001 - a damaged report is rewritten from scratch
            results = {}
    t_all = time.perf_counter()
    failed = 0
    for i, name in enumerate(names, 1):
        print(f"[{i}/{len(names)}] {name} ...", end=" ", flush=True)
        t0 = time.perf_counter()
        try:
            rec = FIGURES[name](out)
            rec = {"status": "ok", **rec}
        except Exception as e:  # noqa: BLE001 - report the failure, go on with the rest
            rec = {"status": "failed", "files": [], "rows": [],
                   "error": f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}",
                   "traceback": traceback.format_exc()}
            failed += 1
        rec["seconds"] = time.perf_counter() - t0
        results[name] = rec
        if rec["status"] == "ok":
            agree = [r["agrees"] for r in rec["rows"]]
            tally = ", ".join(f"{agree.count(k)} {k}" for k in ("yes", "no", "pending")
                              if agree.count(k))
            print(f"{rec['seconds']:.1f} s  ({tally})  -> "
                  + ", ".join(rec["files"]), flush=True)
        else:
            print(f"FAILED after {rec['seconds']:.1f} s: {rec['error']}", flush=True)
            print(rec["traceback"], file=sys.stderr, flush=True)
    write_report(out, results)
    print(f"wrote {out / 'REPORT.md'} and {out / 'report.json'} "
          f"({time.perf_counter() - t_all:.1f} s in all)")
    if failed:
        print(f"{failed} figure(s) failed; see REPORT.md", file=sys.stderr)
    return 1 if failed else 0
