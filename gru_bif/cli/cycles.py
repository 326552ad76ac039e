"""`gru-bif cycles`: equilibria, then a branch of cycles from every Hopf point.

    gru-bif cycles SYSTEM --param NAME --from A --to B [--set k=v ...] [--x0 ...]
                   [--max-period 1e4] [--ntst 40] [--ncol 4] [--error-tol 1e-5]
                   [--out cycles.json] [--plot fig.png]

Continues the equilibria from the start state(s) over [A, B]; at each Hopf point (with
`l1 ≠ 0`) starts a branch of cycles on the side where they exist and follows it with
`gru_bif.periodic.continue_cycles` (the mesh moves every few steps and grows where the
error tolerance needs it; steps in the orbit's integral norm) until it leaves the
range, shrinks back onto a Hopf point (located), or its period grows without bound at
a saddle (the homoclinic orbit located) or a fold (SNIC). Folds of cycles (LPC),
period doublings (PD) and Neimark–Sacker points (NS) are located and reported only
where the critical multiplier is there.

JSON (`--out`): `{"format": "gru_bif.cycles", "version": 2, "param", "equilibria":
[branch dicts as written by `continue`], "cycles": [cycle-branch dicts]}`; a
cycle-branch dict has `points` (p, period, stable, n_unstable, x_min, x_max, x: the
state at phase 0, error: the relative collocation error), `special_points` (kind, p,
period, mu_re, mu_im, x), `stop_reason`, `hopf` (the Hopf point it starts from),
`max_collocation_error`, `ntst`, and `end`: `null` or the end record of
`CycleBranchEnd.to_dict` — kind `hopf` / `homoclinic` / `snic` / `period_bound`, `p`
(located), `located`, `period`, `equilibrium`, and (Hopf) `omega`, `l1` or (saddle)
`saddle_quantity`, `saddle_type`, `eigenvalues`.
"""

import json
import sys
import time

from .._io import savefig_atomic, write_atomic
from ._common import (
    _floats,
    _fmt,
    _one_line,
    _parse_sets,
    _setup_jax,
    _start_states,
    check_outputs,
    load_target,
)


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
    c.add_argument("--cycle-steps", type=int, default=500,
                   help="cycles: max steps per branch (default 500)")
    c.add_argument("--cycle-ds", type=float, default=0.02, help="cycles: initial step")
    c.add_argument("--cycle-ds-max", type=float, default=0.5,
                   help="cycles: largest step, in the orbit's integral norm, the relative "
                   "period and the parameter (default 0.5)")
    c.add_argument("--ntst", type=int, default=40, help="mesh intervals at the start "
                   "(default 40; doubled where the error tolerance needs it)")
    c.add_argument("--ntst-max", type=int, default=None,
                   help="largest number of mesh intervals (default 4 x --ntst)")
    c.add_argument("--ncol", type=int, default=4, help="collocation points per interval")
    c.add_argument("--dp", type=float, default=1e-3,
                   help="start distance from the Hopf point, as a fraction of |B - A|")
    c.add_argument("--max-period", type=float, default=1e4,
                   help="stop a cycle branch where its period exceeds this")
    c.add_argument("--error-tol", type=float, default=1e-5,
                   help="relative collocation error every reported cycle meets (default "
                   "1e-5)")
    c.add_argument("--coord", type=int, default=0, help="plotted coordinate")
    c.add_argument("--out", help="write equilibria and cycles as JSON here")
    c.add_argument("--plot", help="draw the diagram (equilibria and cycles) here")
    c.set_defaults(func=cmd_cycles)
    return c


def _state0(cp, x_row):
    import numpy as np

    X, _, _ = cp.split(np.asarray(x_row))
    return [float(v) for v in np.asarray(X[0])]


def cycle_branch_to_dict(view, *, hopf=None) -> dict:
    """A JSON-ready dict of a `CycleBranch` (see the module docstring)."""
    import numpy as np

    from ..branch import SpecialKind

    cp = view.problem
    n = len(view)
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
            "error": float(t["errors"][i]),
        }
        for i in range(n)
    ]
    specials = []
    sp = view.special
    for k in range(int(sp.count)):
        kind = SpecialKind(int(sp.kind[k]))
        if kind == SpecialKind.FOLD:
            kind = SpecialKind.FOLD_CYCLE
        rec = {"kind": kind.label, "p": float(sp.p[k]), "x": _state0(cp, sp.x[k]),
               "index": int(sp.index[k]), "located": bool(sp.located[k])}
        for name in ("period", "mu_re", "mu_im"):
            if name in sp.data and np.isfinite(float(sp.data[name][k])):
                rec[name] = float(sp.data[name][k])
        specials.append(rec)
    err = t["errors"][np.isfinite(t["errors"])]
    out = {
        "format": "gru_bif.cycle_branch",
        "version": 2,
        "param": view.param_name,
        "num_points": len(points),
        "stop_reason": view.stop_reason,
        "points": points,
        "special_points": specials,
        "ntst": cp.ntst,
        "ncol": cp.ncol,
        "max_collocation_error": float(np.max(err)) if len(err) else None,
        "end": view.end.to_dict() if view.end is not None else None,
    }
    if hopf is not None:
        out["hopf"] = hopf
    return out


def cmd_cycles(args) -> int:
    check_outputs(args)
    _setup_jax(args)
    import warnings

    import numpy as np

    from ..continuation import continuation
    from ..periodic import continue_cycles, cycle_from_hopf

    if not args.max_period > 0:
        raise SystemExit(f"error: --max-period {args.max_period}: it must be positive")
    if not 0 < args.dp < 1:
        raise SystemExit(f"error: --dp {args.dp}: use a small fraction of the range, e.g. 1e-3")
    if not args.error_tol > 0:
        raise SystemExit(f"error: --error-tol {args.error_tol}: it must be positive")
    if not 0 < args.cycle_ds <= args.cycle_ds_max:
        raise SystemExit(f"error: --cycle-ds {args.cycle_ds}, --cycle-ds-max "
                         f"{args.cycle_ds_max}: use 0 < --cycle-ds <= --cycle-ds-max")
    if args.cycle_steps < 1:
        raise SystemExit(f"error: --cycle-steps {args.cycle_steps}: use at least 1")
    sets = _parse_sets(args.set)
    try:
        problem, x0, kind = load_target(args.system, args.param, sets,
                                        _floats(args.input, "--input"))
    except ValueError as e:
        raise SystemExit(f"error: {e}")
    a, b = args.from_, args.to
    if a == b:
        raise SystemExit(f"error: --from and --to are both {a}; give a range")
    lo, hi = min(a, b), max(a, b)
    problem = problem.with_p(a)
    starts = _start_states(args, problem, kind, x0)
    t0 = time.perf_counter()
    eq_branches, reasons = [], []
    for x in starts:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                br = continuation(problem, x, a, p_min=lo, p_max=hi,
                                  ds=abs(args.ds) if b >= a else -abs(args.ds),
                                  max_steps=args.max_steps)
        except (ValueError, RuntimeError) as e:
            reasons.append(_one_line(e))
            print(f"note: no branch from the start state {_fmt(x)}: {reasons[-1]}",
                  file=sys.stderr)
            continue
        if caught and br.stop_reason.startswith("max steps"):
            print(f"note: the branch of equilibria from {_fmt(x)} used all --max-steps "
                  f"{args.max_steps} steps before reaching --to; raise --max-steps (or "
                  "--ds) to go further", file=sys.stderr)
        eq_branches.append(br)
    if not eq_branches:
        why = f" ({reasons[0]})" if len(set(reasons)) == 1 else ""
        raise SystemExit(f"error: {args.system}: no branch of equilibria could be "
                         f"started{why}; check --x0 (or X0) and --from")
    cycles, views, seen = [], [], []
    for br in eq_branches:
        print(br.summary())
        sps = br.special.to_list()
        for k, s in enumerate(sps):
            if s["kind"] != "hopf" or any(abs(s["p"] - q) < 1e-8 * (1 + abs(q)) for q in seen):
                continue
            l1 = s.get("l1", float("nan"))
            if not np.isfinite(l1) or s.get("criticality") == "degenerate":
                print(f"Hopf point at {s['p']:.8g}: degenerate (l1 = {l1:.3g}); no cycles "
                      "started (start them in Python with gru_bif.periodic.cycle_from_hopf "
                      "and an explicit amplitude)")
                seen.append(s["p"])
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
            if cp is None or not lo <= float(u0[-1]) <= hi:
                continue
            try:
                view = continue_cycles(
                    cp, u0, p_min=lo, p_max=hi, ds=args.cycle_ds, ds_max=args.cycle_ds_max,
                    max_steps=args.cycle_steps, error_tol=args.error_tol,
                    max_period=args.max_period, ntst_max=args.ntst_max)
            except (ValueError, RuntimeError) as e:
                print(f"note: no cycles from the Hopf point at {s['p']:.10g}: "
                      f"{str(e).splitlines()[0]}", file=sys.stderr)
                continue
            seen.append(s["p"])
            end = view.end
            if end is not None and end.kind == "hopf" and end.located:
                seen.append(end.p)  # the other end of a Hopf-to-Hopf branch
            rec = cycle_branch_to_dict(
                view, hopf={"p": s["p"], "x": s["x"], "l1": l1, "omega": s.get("omega")})
            cycles.append(rec)
            views.append(view)
            _print_cycles(rec)
    elapsed = time.perf_counter() - t0
    print(f"({elapsed:.2f} s)")
    if args.out:
        payload = {"format": "gru_bif.cycles", "version": 2, "param": eq_branches[0].param_name,
                   "equilibria": [b_.to_dict() for b_ in eq_branches], "cycles": cycles}
        write_atomic(args.out, json.dumps(payload, indent=1))
        print(f"wrote {args.out}")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        from ..plotting import plot_bifurcation_diagram, plot_cycle_branch

        ax = plot_bifurcation_diagram(eq_branches, coord=args.coord)
        for view in views:
            plot_cycle_branch(view, args.coord, ax=ax, legend=False)
        ax.figure.tight_layout()
        savefig_atomic(ax.figure, args.plot, dpi=120)
        print(f"wrote {args.plot}")
    return 0


def _print_cycles(rec):
    pts = rec["points"]
    h = rec["hopf"]
    name = rec["param"]
    print(f"== cycles from the Hopf point at {name} = {h['p']:.10g} ==")
    if not pts:
        print(f"no cycles ({rec['stop_reason']})")
        return
    print(f"{len(pts)} cycles, {name} from {pts[0]['p']:.6g} to {pts[-1]['p']:.6g}, "
          f"period {pts[0]['period']:.6g} to {pts[-1]['period']:.6g}, ntst up to "
          f"{rec['ntst']}, max relative collocation error "
          f"{rec['max_collocation_error']:.2g}; stopped: {rec['stop_reason']}")
    for s in rec["special_points"]:
        mu = s.get("mu_re", float("nan")), s.get("mu_im", 0.0)
        print(f"  {s['kind']:<16} {name} = {s['p']:.12g}  period "
              f"{s.get('period', float('nan')):.8g}  multiplier {mu[0]:.9f}{mu[1]:+.2g}i")
    e = rec.get("end")
    if e:
        where = "located" if e["located"] else "not located"
        line = f"  end: {e['kind']:<12} {name} = {e['p']:.12g} ({where})"
        if e["kind"] == "hopf":
            line += f", omega {e.get('omega', float('nan')):.8g}"
        elif e["kind"] in ("homoclinic", "snic", "period_bound"):
            eq = ", ".join(f"{v:.6g}" for v in e["equilibrium"])
            line += f", last period {e['period']:.5g}, equilibrium ({eq})"
            if "saddle_quantity" in e:
                line += f", {e.get('saddle_type', 'saddle')}, saddle quantity " \
                        f"{e['saddle_quantity']:.6g}"
        print(line)
        if e.get("message"):
            print(f"  note: {e['message']}")
