"""`gru-bif continue`: a branch of equilibria in one parameter.

    gru-bif continue SYSTEM --param NAME --from A --to B [--set k=v ...] [--x0 ...]
                     [--out branch.json] [--plot fig.png]

Prints a summary of each branch (one per start state) and writes the branch as JSON
(`Branch.to_dict`; several branches: `{"format": "gru_bif.branches", "branches": [...]}`).
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
    c = sub.add_parser("continue", parents=[common], help="continue a branch of equilibria")
    c.add_argument("system", help="system file (.py) or saved GRU model (.json/.npz)")
    c.add_argument("--param", required=True, help="parameter name: 'b', 'bh[0]', 'Uh[0,1]', 'u[0]'")
    c.add_argument("--from", dest="from_", type=float, required=True, help="start value")
    c.add_argument("--to", type=float, required=True, help="end value")
    c.add_argument("--set", action="append", help="override a parameter: k=v (repeatable)")
    c.add_argument("--x0", help="start state, comma-separated (default: X0, or every equilibrium of a GRU)")
    c.add_argument("--input", help="constant GRU input u, comma-separated")
    c.add_argument("--ds", type=float, default=0.01, help="initial step (default 0.01)")
    c.add_argument("--max-steps", type=int, default=1000)
    c.add_argument("--both", action="store_true", help="continue in both directions from the start")
    c.add_argument("--coord", default="0", help="plotted coordinate: an index or 'norm'")
    c.add_argument("--out", help="write the branch as JSON here")
    c.add_argument("--plot", help="draw the bifurcation diagram here (PNG/PDF/SVG)")
    c.set_defaults(func=cmd_continue)
    return c


def cmd_continue(args) -> int:
    check_outputs(args)
    _setup_jax(args)
    import jax

    from ..continuation import continuation

    sets = _parse_sets(args.set)
    try:
        problem, x0, kind = load_target(args.system, args.param, sets, _floats(args.input, "--input"))
    except ValueError as e:
        raise SystemExit(f"error: {e}")
    p_from, p_to = args.from_, args.to
    problem = problem.with_p(p_from)
    starts = _start_states(args, problem, kind, x0)
    lo, hi = min(p_from, p_to), max(p_from, p_to)
    ds = abs(args.ds) if p_to >= p_from else -abs(args.ds)
    branches, reasons = [], []
    t0 = time.perf_counter()
    import warnings

    for x in starts:
        xs = _fmt(x)
        try:
            with warnings.catch_warnings(record=True):
                warnings.simplefilter("always")  # said below in the CLI's own terms
                br = continuation(
                    problem, x, p_from, p_min=lo, p_max=hi, ds=ds,
                    max_steps=args.max_steps,
                    direction="both" if args.both else "forward",
                )
        except (ValueError, RuntimeError) as e:
            reasons.append(_one_line(e))
            print(f"note: no branch from the start state {xs}: {reasons[-1]}",
                  file=sys.stderr)
            continue
        reason = br.stop_reason
        if reason.startswith("max steps"):
            print(f"note: the branch from {xs} used all --max-steps {args.max_steps} "
                  f"steps ({int(br.num_points)} points) before reaching --to; raise "
                  "--max-steps (or --ds) to go further", file=sys.stderr)
        elif reason.startswith("corrector"):
            print(f"note: the branch from {xs} stopped after {int(br.num_points)} points: "
                  "the corrector failed at the smallest step (a sharp turn or a "
                  "singular point); try a smaller --ds", file=sys.stderr)
        # on the host once: printing, saving and plotting then index NumPy arrays
        # (indexing device arrays would compile a small program per operation)
        branches.append(jax.device_get(br))
    elapsed = time.perf_counter() - t0
    if not branches:
        why = f" ({reasons[0]})" if len(set(reasons)) == 1 else ""
        raise SystemExit(f"error: {args.system}: no branch could be started{why}; check "
                         "--x0 (or X0) and --from")
    for i, br in enumerate(branches):
        if len(branches) > 1:
            print(f"== branch {i} ==")
        print(br.summary())
    print(f"({elapsed:.2f} s)")
    if args.out:
        payload = branches[0].to_dict() if len(branches) == 1 else {
            "format": "gru_bif.branches",
            "branches": [b.to_dict() for b in branches],
        }
        write_atomic(args.out, json.dumps(payload, indent=1))
        print(f"wrote {args.out}")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        from ..plotting import plot_bifurcation_diagram

        ax = plot_bifurcation_diagram(branches, coord=args.coord if args.coord != "norm" else "norm")
        ax.figure.tight_layout()
        savefig_atomic(ax.figure, args.plot, dpi=120)
        print(f"wrote {args.plot}")
    return 0
