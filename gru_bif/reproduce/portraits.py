"""Figures of `gru-bif reproduce` drawn as phase portraits: 1-D flows of the one-unit GRU
(`fig_1d_flows`) and the 2-D portraits of the paper (`fig_2d_portraits`: four-state
machine, limit cycle, eleven fixed points, pseudo-line attractor)."""

import math
import pathlib

import numpy as np

from ..plotting import plot_flow_1d, plot_phase_portrait
from ._common import (
    _counts,
    _cycle_stats,
    _find_equilibria,
    _fmt_counts,
    _jax,
    _NT,
    _problem,
    _row,
    _save,
    _times,
)
from .networks import (
    BSTAR,
    _ex,
    net_1d,
)


def fig_1d_flows(out: pathlib.Path) -> dict:
    import matplotlib.pyplot as plt

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


def fig_2d_portraits(out: pathlib.Path) -> dict:
    import matplotlib.pyplot as plt

    from ..simulate import simulate

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
