"""`gru-bif homoclinic`: continue a homoclinic curve in two parameters.

    gru-bif homoclinic SYSTEM --params P1 P2 --to P2_END
        (--from-bt P1 P2 [--eps E] | --range A B)
        [--set k=v ...] [--x0 ...] [--T T] [--ntst N] [--ds DS] [--max-steps M]
        [--out curve.json] [--plot fig.png]

Start either near a Bogdanov–Takens point (`--from-bt`: a guess of its (P1, P2); the
point is located, its normal form computed, and the orbit predicted at distance `--eps`),
or from cycles (`--range A B`: equilibria are continued in P1 over [A, B] at the P2 of
the system, cycles are started at the first Hopf point and continued until the period
grows; the longest cycle, if it ends at a saddle, seeds the homoclinic orbit). The
orbit is located (Newton on the BVP, P1 free), then continued with P2 as the parameter
up to `--to`.
"""

import json
import time

from .._io import savefig_atomic, write_atomic
from ._common import _floats, _parse_sets, _setup_jax, check_outputs, check_state, load_target


def add_parser(sub, common):
    h = sub.add_parser("homoclinic", parents=[common],
                       help="continue a homoclinic curve in two parameters")
    h.add_argument("system", help="system file (.py) or saved GRU model (.json/.npz)")
    h.add_argument("--params", nargs=2, required=True, metavar=("P1", "P2"),
                   help="P1: solved for when locating; P2: continuation parameter")
    h.add_argument("--to", type=float, required=True, help="end value of P2")
    h.add_argument("--from-bt", nargs=2, type=float, metavar=("P1", "P2"),
                   help="start near a Bogdanov-Takens point (guess of its parameters)")
    h.add_argument("--eps", type=float, default=0.3, help="distance from the BT point (default 0.3)")
    h.add_argument("--range", nargs=2, type=float, metavar=("A", "B"),
                   help="start from cycles: P1 range for equilibria and cycles")
    h.add_argument("--set", action="append", help="override a parameter: k=v (repeatable)")
    h.add_argument("--x0", help="start state (equilibrium or BT point guess), comma-separated")
    h.add_argument("--input", help="constant GRU input u, comma-separated")
    h.add_argument("--T", type=float, default=None, help="truncation time (default: automatic)")
    h.add_argument("--ntst", type=int, default=40, help="mesh intervals (default 40)")
    h.add_argument("--ds", type=float, default=0.3, help="continuation step (default 0.3)")
    h.add_argument("--max-steps", type=int, default=200)
    h.add_argument("--out", help="write the curve as JSON here")
    h.add_argument("--plot", help="draw the curve (and the start orbit) here")
    h.set_defaults(func=cmd_homoclinic)
    return h


def cmd_homoclinic(args) -> int:
    check_outputs(args)
    _setup_jax(args)
    import jax.numpy as jnp
    import numpy as np

    from ..continuation import continuation
    from ..homoclinic import HomoclinicBranch, homoclinic_curve_to_dict, locate_homoclinic

    p1name, p2name = args.params
    if (args.from_bt is None) == (args.range is None):
        raise SystemExit("error: give exactly one start: --from-bt P1 P2 or --range A B")
    sets = _parse_sets(args.set)
    try:
        problem, x0, kind = load_target(args.system, p1name, sets,
                                        _floats(args.input, "--input"))
        from ..problem import Param

        P2 = Param.from_name(problem.args, p2name)
    except ValueError as e:
        raise SystemExit(f"error: {e}")
    x0_cli = _floats(args.x0, "--x0")
    if x0_cli is not None:
        check_state(problem, x0_cli, "--x0")
        x0 = jnp.asarray(x0_cli)
    t0 = time.perf_counter()
    try:
        if args.from_bt is not None:
            from ..homoclinic import homoclinic_from_bt, locate_bt

            if x0 is None:
                raise SystemExit("error: give a guess of the BT point's state with --x0")
            p1g, p2g = args.from_bt
            bt = locate_bt(problem, P2, jnp.asarray(x0), p1g, p2g)
            if not bool(bt.converged):
                raise SystemExit("error: no Bogdanov-Takens point found from this guess; "
                                 "improve --from-bt / --x0")
            print(f"BT point: {p1name} = {float(bt.p1):.12g}, {p2name} = {float(bt.p2):.12g}, "
                  f"x = {np.asarray(bt.x)}")
            hp, u0 = homoclinic_from_bt(problem, P2, bt, eps=args.eps, T=args.T,
                                        ntst=args.ntst)
        else:
            hp, u0 = _start_from_cycles(problem, P2, x0, kind, args)
        sol = locate_homoclinic(hp, u0, remesh=1)
    except (ValueError, RuntimeError) as e:
        raise SystemExit(f"error: {e}")
    print(f"homoclinic orbit: {p1name} = {float(sol.p1):.12g} at {p2name} = "
          f"{float(sol.p2):.12g}; saddle {np.asarray(sol.saddle)}, saddle quantity "
          f"{float(sol.saddle_quantity):.6g}")
    hp = sol.problem.with_reference(sol.u)
    p2s = float(sol.p2)
    lo, hi = min(p2s, args.to), max(p2s, args.to)
    if lo == hi:
        raise SystemExit(f"error: --to {args.to} equals the start value of {p2name}")
    ds = abs(args.ds) if args.to > p2s else -abs(args.ds)
    br = continuation(hp, sol.u[:-1], sol.u[-1], p_min=lo, p_max=hi, ds=ds,
                      ds_max=10 * abs(ds), max_steps=args.max_steps, throw=False)
    view = HomoclinicBranch(hp, br)
    print(br.summary())
    d = view.trimmed()
    if len(d["p1"]):
        print(f"curve: {len(d['p1'])} points, {p2name} from {d['p2'].min():.6g} to "
              f"{d['p2'].max():.6g}; saddle quantity from {d['saddle_quantity'][0]:.4g} "
              f"to {d['saddle_quantity'][-1]:.4g}")
    print(f"({time.perf_counter() - t0:.2f} s)")
    if args.out:
        payload = homoclinic_curve_to_dict(view, br, sol)
        write_atomic(args.out, json.dumps(payload, indent=1))
        print(f"wrote {args.out}")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from ..plotting import plot_homoclinic_curve, plot_homoclinic_orbit

        fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4.5))
        plot_homoclinic_curve(view, ax=a1)
        plot_homoclinic_orbit(sol, ax=a2)
        fig.tight_layout()
        savefig_atomic(fig, args.plot, dpi=120)
        print(f"wrote {args.plot}")
    return 0


def _start_from_cycles(problem, P2, x0, kind, args):
    import jax.numpy as jnp
    import numpy as np

    from ..branch import SpecialKind
    from ..continuation import continuation
    from ..periodic import CycleBranch, cycle_from_hopf
    from ..homoclinic import detect_homoclinic, homoclinic_from_cycle

    a, b = args.range
    lo, hi = min(a, b), max(a, b)
    problem = problem.with_p(a)
    if x0 is None:
        from ..equilibria import find_equilibria

        eq = find_equilibria(problem)
        starts = [jnp.asarray(x) for x in np.asarray(eq.x)[: int(eq.count)]]
    else:
        starts = [jnp.asarray(x0)]
    for x in starts:
        eqb = continuation(problem, x, a, p_min=lo, p_max=hi, ds=0.002 * (hi - lo) / 0.1 *
                           (1 if b > a else -1), throw=False)
        kinds = np.asarray(eqb.special.kind)[: int(eqb.special.count)]
        for k in np.nonzero(kinds == int(SpecialKind.HOPF))[0]:
            sp = eqb.special.to_list()[int(k)]
            l1 = sp.get("l1", float("nan"))
            if not np.isfinite(l1) or sp.get("criticality") == "degenerate":
                continue
            # cycles exist on the side where the equilibrium is unstable for l1 < 0
            for sgn in (1.0, -1.0):
                try:
                    cp, u0 = cycle_from_hopf(problem, eqb, int(k), dp=sgn * 1e-3 * (hi - lo))
                except ValueError:
                    continue
                cyc = continuation(cp, u0[:-1], u0[-1], p_min=lo, p_max=hi, ds=0.02,
                                   ds_max=0.5, max_steps=args.max_steps, throw=False)
                view = CycleBranch(cp, cyc)
                pts, end = detect_homoclinic(view)
                if end is not None and end.kind == "snic":
                    print(f"cycles from the Hopf point at {sp['p']:.6g} end at a SNIC near "
                          f"{end.p:.6g} (not a saddle homoclinic)")
                if int(pts.count):
                    print(f"homoclinic detected on the cycles from the Hopf point at "
                          f"{sp['p']:.6g}: near {end.p:.8g}, period {end.period:.4g}, "
                          f"saddle {np.asarray(end.x_eq)}")
                    return homoclinic_from_cycle(cp, view.u(len(view) - 1), P2,
                                                 T=args.T, ntst=args.ntst)
                break
    raise SystemExit("error: no cycle branch in --range ends at a saddle homoclinic orbit; "
                     "widen --range or start from a BT point (--from-bt)")
