"""`gru-bif cycles`: equilibria, then a branch of cycles from every Hopf point.

    gru-bif cycles SYSTEM --param NAME --from A --to B [--set k=v ...] [--x0 ...]
                   [--max-period 500] [--ntst 40] [--ncol 4] [--dp 1e-3]
                   [--out cycles.json] [--plot fig.png]

Continues the equilibria from the start state(s) over [A, B]; at each Hopf point (with
`l1 ≠ 0`) starts a branch of cycles on the side where they exist and follows it within
[A, B] by collocation until it leaves the range, collapses onto a Hopf point, or its
period exceeds `--max-period`. Folds of cycles (LPC), period doublings (PD) and
Neimark–Sacker points (NS) are located; when the period grows without bound next to a
saddle, the homoclinic orbit it approaches is reported (`gru_bif.homoclinic`), else the
nearest equilibrium.

JSON (`--out`): `{"format": "gru_bif.cycles", "param", "equilibria": [branch dicts as
written by `continue`], "cycles": [cycle-branch dicts]}`; a cycle-branch dict has the
shape of a branch — `points` (p, period, stable, n_unstable, x_min, x_max, x: the
state at phase 0), `special_points` (kind, p, period, mu_re, mu_im, x: the state at
phase 0), `stop_reason` — plus `hopf` (the Hopf point it starts from), `check` (the
message of `check_cycles`, empty if fine), `max_collocation_error`, and `end` (what a
branch whose period grew approaches: kind `homoclinic` / `snic` / `period bound`,
parameter, equilibrium, period, saddle quantity).
"""

import json
import pathlib
import sys
import time


def add_parser(sub, common):
    c = sub.add_parser("cycles", parents=[common],
                       help="branches of limit cycles from the Hopf points of a branch")
    c.add_argument("system", help="system file (.py) or saved GRU model (.json/.npz)")
    c.add_argument("--param", required=True, help="parameter name: 'b', 'bh[0]', 'u[0]'")
    c.add_argument("--from", dest="from_", type=float, required=True, help="start value")
    c.add_argument("--to", type=float, required=True, help="end value")
    c.add_argument("--set", action="append", help="override a parameter: k=v (repeatable)")
    c.add_argument("--x0", help="start state, comma-separated (default: X0, or every "
                   "equilibrium of a GRU)")
    c.add_argument("--input", help="constant GRU input u, comma-separated")
    c.add_argument("--ds", type=float, default=0.01, help="equilibria: initial step")
    c.add_argument("--max-steps", type=int, default=1000, help="equilibria: max steps")
    c.add_argument("--cycle-steps", type=int, default=200, help="cycles: max steps per branch")
    c.add_argument("--cycle-ds", type=float, default=0.05, help="cycles: initial step")
    c.add_argument("--cycle-ds-max", type=float, default=2.0,
                   help="cycles: largest step (arclength in (orbit, period, p))")
    c.add_argument("--ntst", type=int, default=40, help="mesh intervals (default 40)")
    c.add_argument("--ncol", type=int, default=4, help="collocation points per interval")
    c.add_argument("--dp", type=float, default=1e-3,
                   help="start distance from the Hopf point, as a fraction of |B - A|")
    c.add_argument("--max-period", type=float, default=1000.0,
                   help="stop a cycle branch where its period exceeds this")
    c.add_argument("--error-tol", type=float, default=1e-6,
                   help="collocation error above which a finer mesh is advised")
    c.add_argument("--coord", type=int, default=0, help="plotted coordinate")
    c.add_argument("--out", help="write equilibria and cycles as JSON here")
    c.add_argument("--plot", help="draw the diagram (equilibria and cycles) here")
    c.set_defaults(func=cmd_cycles)
    return c


def _state0(cp, x_row):
    import numpy as np

    X, _, _ = cp.split(np.asarray(x_row))
    return [float(v) for v in np.asarray(X[0])]


def cycle_branch_to_dict(view, *, check=None, hopf=None, end=None, stop=None) -> dict:
    """A JSON-ready dict of a `CycleBranch` (see the module docstring)."""
    import numpy as np

    from ..branch import SpecialKind

    cp = view.problem
    n = len(view)
    if check is not None:
        n = min(n, int(check.index))
    t = view.trimmed()
    points = [
        {
            "p": float(t["p"][i]),
            "period": float(t["period"][i]),
            "stable": bool(t["stable"][i]),
            "n_unstable": int(np.asarray(view.n_unstable)[i]),
            "x_min": [float(v) for v in t["x_min"][i]],
            "x_max": [float(v) for v in t["x_max"][i]],
            "x": [float(v) for v in np.asarray(view.nodes[i, 0])],
        }
        for i in range(n)
    ]
    specials = []
    sp = view.special
    for k in range(int(sp.count)):
        if int(sp.index[k]) >= n:
            continue
        kind = SpecialKind(int(sp.kind[k]))
        if kind == SpecialKind.FOLD:
            kind = SpecialKind.FOLD_CYCLE
        rec = {"kind": kind.label, "p": float(sp.p[k]), "x": _state0(cp, sp.x[k]),
               "index": int(sp.index[k]), "located": bool(sp.located[k])}
        for name in ("period", "mu_re", "mu_im"):
            if name in sp.data and np.isfinite(float(sp.data[name][k])):
                rec[name] = float(sp.data[name][k])
        specials.append(rec)
    out = {
        "format": "gru_bif.cycle_branch",
        "version": 1,
        "param": view.param_name,
        "num_points": len(points),
        "stop_reason": stop or "",
        "points": points,
        "special_points": specials,
        "ntst": cp.ntst,
        "ncol": cp.ncol,
    }
    if check is not None:
        from .._results import RESULTS

        msg = RESULTS[check.result]
        out["check"] = msg if "collocation" in msg or "shrank" in msg else ""
        out["max_collocation_error"] = float(check.max_error)
    if hopf is not None:
        out["hopf"] = hopf
    if end is not None:
        out["end"] = end
    return out


def _end_record(view, n, max_period):
    """What the branch approaches when its period grew (homoclinic, SNIC or just the
    period bound with the nearest equilibrium)."""
    import numpy as np

    per = np.asarray(view.period[:n])
    if n < 2 or not np.all(np.isfinite(per)):
        return None
    i = int(np.argmax(per))
    if per[i] < 1.5 * np.min(per) or i not in (0, n - 1):
        return None
    hit_bound = per[i] >= max_period
    try:
        from ..homoclinic import classify_cycle_end
    except ImportError:  # no homoclinic module: the nearest equilibrium only
        classify_cycle_end = None
    if classify_cycle_end is not None:
        end = classify_cycle_end(view.problem, view.u(i))
        if end.kind != "none":
            return {"kind": end.kind, "p": float(end.p), "period": float(end.period),
                    "equilibrium": [float(v) for v in np.asarray(end.x_eq)],
                    "distance": float(end.distance),
                    "saddle_quantity": float(end.saddle_quantity),
                    "period_bound_reached": bool(hit_bound)}
    if not hit_bound:
        return None
    from ..equilibria import find_equilibria

    cp = view.problem
    X, T, p = cp.split(view.u(i))
    orb = np.asarray(X)
    # the cycle's points and its centre (a planar cycle surrounds an equilibrium)
    guesses = np.concatenate([orb[:: max(1, orb.shape[0] // 16)], orb.mean(0)[None]])
    eq = find_equilibria(cp.problem.with_p(p), guesses=guesses, throw=False)
    xs = np.asarray(eq.x)[: int(eq.count)]
    dist = [float(np.min(np.linalg.norm(orb - x, axis=1))) for x in xs]
    j = int(np.argmin(dist)) if len(xs) else -1
    return {"kind": "period bound", "p": float(p), "period": float(T),
            "equilibrium": [float(v) for v in xs[j]] if j >= 0 else None,
            "distance": dist[j] if j >= 0 else None,
            "period_bound_reached": True}


def cmd_cycles(args) -> int:
    from ..cli import _floats, _parse_sets, _setup_jax, _start_states, load_target

    _setup_jax(args)
    import jax.numpy as jnp
    import numpy as np

    from ..branch import SpecialKind
    from ..continuation import continuation
    from .collocation import CycleBranch
    from .diagnose import check_cycles
    from .start import cycle_from_hopf

    if not args.max_period > 0:
        raise SystemExit(f"error: --max-period {args.max_period}: it must be positive")
    if not 0 < args.dp < 1:
        raise SystemExit(f"error: --dp {args.dp}: use a small fraction of the range, e.g. 1e-3")
    sets = _parse_sets(args.set)
    try:
        problem, x0, kind = load_target(args.system, args.param, sets,
                                        _floats(args.input, "--input"))
    except ValueError as e:
        raise SystemExit(f"error: {e}")
    a, b = args.from_, args.to
    lo, hi = min(a, b), max(a, b)
    problem = problem.with_p(a)
    starts = _start_states(args, problem, kind, x0)
    t0 = time.perf_counter()
    eq_branches = []
    for x in starts:
        try:
            br = continuation(problem, x, a, p_min=lo, p_max=hi,
                              ds=abs(args.ds) if b >= a else -abs(args.ds),
                              max_steps=args.max_steps)
        except Exception as e:  # noqa: BLE001 - report and go on
            print(f"start {np.asarray(x)}: {str(e).splitlines()[0]}", file=sys.stderr)
            continue
        eq_branches.append(br)
    if not eq_branches:
        raise SystemExit("error: no branch of equilibria could be started; check --x0/--from")
    cycles, views, seen = [], [], []
    for br in eq_branches:
        print(br.summary())
        sps = br.special.to_list()
        for k, s in enumerate(sps):
            if s["kind"] != "hopf" or any(abs(s["p"] - q) < 1e-8 * (1 + abs(q)) for q in seen):
                continue
            seen.append(s["p"])
            l1 = s.get("l1", float("nan"))
            if not np.isfinite(l1) or abs(l1) < 1e-10:
                print(f"Hopf point at {s['p']:.8g}: degenerate (l1 = {l1}); no cycles "
                      "started (use gru_bif.periodic.cycle_from_hopf with dp and amplitude)")
                continue
            dp0 = args.dp * (hi - lo)
            cp = u0 = None
            for sgn in (1.0, -1.0):
                try:
                    cp, u0 = cycle_from_hopf(problem, br, k, dp=sgn * dp0, ntst=args.ntst,
                                             ncol=args.ncol)
                    break
                except ValueError:
                    continue
            if cp is None:
                continue
            direction = "forward" if float(u0[-1]) > s["p"] else "backward"
            cyc = continuation(cp, u0[:-1], u0[-1], p_min=lo, p_max=hi, ds=args.cycle_ds,
                               ds_max=max(args.cycle_ds, args.cycle_ds_max), max_steps=args.cycle_steps,
                               direction=direction, throw=False)
            view = CycleBranch(cp, cyc)
            check = check_cycles(cp, cyc, error_tol=args.error_tol)
            n = min(len(view), int(check.index))
            per = np.asarray(view.period[:n])
            over = np.nonzero(per > args.max_period)[0]
            stop = cyc.stop_reason
            if len(over):
                n = int(over[0]) + 1
                stop = "period bound"
            if int(check.index) < len(view):
                stop = "collapsed onto a Hopf point"
            check = eqx_replace_index(check, n)
            end = _end_record(view, n, args.max_period)
            rec = cycle_branch_to_dict(view, check=check, stop=stop,
                                       hopf={"p": s["p"], "x": s["x"], "l1": l1,
                                             "omega": s.get("omega")},
                                       end=end)
            cycles.append(rec)
            views.append((view, n))
            _print_cycles(rec)
    elapsed = time.perf_counter() - t0
    print(f"({elapsed:.2f} s)")
    if args.out:
        payload = {"format": "gru_bif.cycles", "version": 1, "param": eq_branches[0].param_name,
                   "equilibria": [b_.to_dict() for b_ in eq_branches], "cycles": cycles}
        pathlib.Path(args.out).write_text(json.dumps(payload, indent=1))
        print(f"wrote {args.out}")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        from ..plotting import plot_bifurcation_diagram
        from .plot import plot_cycle_branch

        ax = plot_bifurcation_diagram(eq_branches, coord=args.coord)
        for view, _ in views:
            plot_cycle_branch(view, args.coord, ax=ax, legend=False)
        ax.figure.tight_layout()
        ax.figure.savefig(args.plot, dpi=120)
        print(f"wrote {args.plot}")
    return 0


def eqx_replace_index(check, n):
    """`check` with `index` lowered to `n` (the period bound)."""
    import equinox as eqx
    import jax.numpy as jnp

    return eqx.tree_at(lambda c: c.index, check, jnp.minimum(check.index, n))


def _print_cycles(rec):
    pts = rec["points"]
    h = rec["hopf"]
    print(f"== cycles from the Hopf point at {rec['param']} = {h['p']:.10g} ==")
    if not pts:
        print("no cycles")
        return
    print(f"{len(pts)} cycles, {rec['param']} from {pts[0]['p']:.6g} to {pts[-1]['p']:.6g}, "
          f"period {pts[0]['period']:.6g} to {pts[-1]['period']:.6g}; "
          f"stopped: {rec['stop_reason']}")
    for s in rec["special_points"]:
        mu = s.get("mu_re", float("nan")), s.get("mu_im", 0.0)
        print(f"  {s['kind']:<16} {rec['param']} = {s['p']:.12g}  period {s.get('period', float('nan')):.8g}"
              f"  multiplier {mu[0]:.6g}{mu[1]:+.6g}i")
    if rec.get("check"):
        print(f"  note: {rec['check']} (max collocation error {rec['max_collocation_error']:.2g})")
    if rec.get("end"):
        e = rec["end"]
        print(f"  period grows: {e['kind']} near {e['p']:.8g} (period {e['period']:.5g}), "
              f"equilibrium {e.get('equilibrium')}")
