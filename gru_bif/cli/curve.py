"""`gru-bif curve`: a fold or Hopf curve in two parameters.

    gru-bif curve SYSTEM --kind fold|hopf --params P1 P2 --range MIN MAX
                  (--from-point x1,...,xd,p1 | --scan FROM TO [--index I])
                  [--out curve.json] [--plot fig.png]

The JSON has the shape of `continue`'s, plus `curve` (kind, param1, param2, state_dim)
and `p1` in every point.
"""

import json
import sys
import time

from .._io import savefig_atomic, write_atomic
from ._common import (
    _floats,
    _parse_sets,
    _setup_jax,
    _start_states,
    check_outputs,
    check_state,
    load_target,
)


def add_parser(sub, common):
    k = sub.add_parser("curve", parents=[common], help="a fold or Hopf curve in two parameters")
    k.add_argument("system", help="system file (.py) or saved GRU model (.json/.npz)")
    k.add_argument("--kind", choices=("fold", "hopf"), required=True, help="which curve")
    k.add_argument("--params", nargs=2, required=True, metavar=("P1", "P2"),
                   help="the two parameters; P2 is continued within --range, P1 is free")
    k.add_argument("--range", nargs=2, type=float, required=True, metavar=("MIN", "MAX"),
                   help="range of P2 (the curve stops when P2 leaves it)")
    k.add_argument("--from-point", help="a fold/Hopf point: x1,...,xd,p1 (P2 from PARAMS/--set)")
    k.add_argument("--scan", nargs=2, type=float, metavar=("FROM", "TO"),
                   help="continue in P1 from FROM to TO first and start at its fold/Hopf point")
    k.add_argument("--index", type=int, default=0, help="with --scan: which fold/Hopf point (default 0)")
    k.add_argument("--set", action="append", help="override a parameter: k=v (repeatable)")
    k.add_argument("--x0", help="with --scan: start state (default: X0, or every equilibrium of a GRU)")
    k.add_argument("--input", help="constant GRU input u, comma-separated")
    k.add_argument("--ds", type=float, default=0.01, help="initial step (default 0.01)")
    k.add_argument("--max-steps", type=int, default=500)
    k.add_argument("--out", help="write the curve as JSON here (the shape of `continue`, plus p1)")
    k.add_argument("--plot", help="draw the curve in the parameter plane here")
    k.set_defaults(func=cmd_curve)
    return k


def cmd_curve(args) -> int:
    """`gru-bif curve`: a fold or Hopf curve in two parameters (see --help)."""
    check_outputs(args)
    _setup_jax(args)
    import jax.numpy as jnp
    import numpy as np

    from .. import fold_curve, hopf_curve
    from ..branch import SpecialKind
    from ..continuation import continuation

    p1_name, p2_name = args.params
    sets = _parse_sets(args.set)
    try:
        problem, x0, kind = load_target(args.system, p1_name, sets, _floats(args.input, "--input"))
    except ValueError as e:
        raise SystemExit(f"error: {e}")
    lo, hi = args.range
    if not lo < hi:
        raise SystemExit(f"error: --range {lo} {hi}: the first value must be below the second")
    run = fold_curve if args.kind == "fold" else hopf_curve
    want = SpecialKind.FOLD if args.kind == "fold" else SpecialKind.HOPF
    t0 = time.perf_counter()
    if args.from_point is not None:
        vals = _floats(args.from_point, "--from-point")
        if len(vals) < 2:
            raise SystemExit(f"error: --from-point {args.from_point}: give the state and "
                             f"then {p1_name}: x1,...,xd,p1 (at least two numbers)")
        check_state(problem, vals[:-1], "--from-point (its first d numbers, the state)")
        start, p1 = jnp.asarray(vals[:-1]), float(vals[-1])
        index = None
        source = None
    else:
        if args.scan is None:
            raise SystemExit(
                "error: give --from-point x1,...,xd,p1 (a fold/Hopf point) or --scan FROM TO "
                f"(continue in {p1_name} first and start from its first {args.kind} point)"
            )
        a, b = args.scan
        problem = problem.with_p(a)
        starts = _start_states(args, problem, kind, x0)
        source = None
        for x in starts:
            try:
                br = continuation(problem, x, a, p_min=min(a, b), p_max=max(a, b),
                                  ds=abs(args.ds) if b >= a else -abs(args.ds),
                                  max_steps=args.max_steps)
            except Exception as e:  # noqa: BLE001 - try the next start
                print(f"start {np.asarray(x)}: {str(e).splitlines()[0]}", file=sys.stderr)
                continue
            found = [i for i in range(int(br.special.count)) if int(br.special.kind[i]) == want]
            if len(found) > args.index:
                source, index = br, found[args.index]
                break
        if source is None:
            raise SystemExit(
                f"error: no {args.kind} point (number {args.index}) found continuing in "
                f"{p1_name} from {a} to {b}; widen --scan or give --from-point"
            )
        print(f"start: {args.kind} at {p1_name} = {float(source.special.p[index]):.12g}")
        start, p1 = source, None
    try:
        curve = run(problem, start, p2_name, index=index, p1=p1, p_min=lo, p_max=hi,
                    ds=args.ds, max_steps=args.max_steps)
    except (ValueError, RuntimeError) as e:
        raise SystemExit(f"error: {e}")
    elapsed = time.perf_counter() - t0
    print(f"{args.kind} curve in ({p1_name}, {p2_name}); {p1_name} is the last entry of x")
    print(curve.summary())
    print(f"({elapsed:.2f} s)")
    if args.out:
        payload = curve.to_dict()
        payload["curve"] = {"kind": args.kind, "param1": p1_name, "param2": p2_name,
                            "state_dim": int(curve.x.shape[1]) - 1}
        for pt in payload["points"]:
            pt["p1"] = pt["x"][-1]
        write_atomic(args.out, json.dumps(payload, indent=1))
        print(f"wrote {args.out}")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        from ..plotting import plot_parameter_plane

        ax = plot_parameter_plane([(args.kind, curve)], xlabel=p1_name, ylabel=p2_name)
        ax.figure.tight_layout()
        savefig_atomic(ax.figure, args.plot, dpi=120)
        print(f"wrote {args.plot}")
    return 0
