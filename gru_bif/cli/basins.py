"""`gru-bif basins`: the attractors of a system or GRU and their basins on a 2-D slice of
state space (`gru_bif.attractors.basin_map`), on one machine or over several processes.

    gru-bif basins MODEL_OR_SYSTEM [--set k=v ...] [--input u ...] [--lo X Y] [--hi X Y]
                   [--grid N M] [--axes I J] [--base x1,...,xd] [--t-transient T]
                   [--out basins.json] [--plot basins.png]
                   [--coordinator HOST:PORT --num-processes P --process-id I]
"""

import json

from .._io import savefig_atomic, write_atomic
from ._common import (
    _floats, _parse_sets, _setup_jax, add_distributed_args, check_outputs, load_target,
    setup_distributed,
)


def add_parser(sub, common):
    b = sub.add_parser("basins", parents=[common],
                       help="attractors and their basins on a 2-D slice of state space")
    b.add_argument("system", help="system file (.py) or saved GRU model (.json/.npz)")
    b.add_argument("--set", action="append", help="override a parameter: k=v (repeatable)")
    b.add_argument("--input", help="constant GRU input u, comma-separated")
    b.add_argument("--lo", type=float, nargs=2, default=None, metavar=("X", "Y"),
                   help="lower corner of the slice (default -1.5 -1.5 for a GRU, "
                        "around X0 for a system)")
    b.add_argument("--hi", type=float, nargs=2, default=None, metavar=("X", "Y"),
                   help="upper corner of the slice")
    b.add_argument("--grid", type=int, nargs=2, default=[101, 101], metavar=("N", "M"),
                   help="grid points along the two axes (default 101 101)")
    b.add_argument("--axes", type=int, nargs=2, default=[0, 1], metavar=("I", "J"),
                   help="the state coordinates the slice spans (default 0 1)")
    b.add_argument("--base", default=None,
                   help="state the other coordinates are taken from (d > 2), comma-separated")
    b.add_argument("--t-transient", type=float, default=200.0,
                   help="time integrated before a trajectory's end is examined")
    b.add_argument("--out", default=None, help="write the attractors and labels as JSON")
    b.add_argument("--plot", default=None, help="draw the basin map (image file)")
    add_distributed_args(b)
    b.set_defaults(func=cmd_basins)
    return b


def cmd_basins(args) -> int:
    check_outputs(args)
    if min(args.grid) < 2:
        raise SystemExit("error: --grid needs at least 2 points along each axis")
    multi = setup_distributed(args)
    _setup_jax(args)
    import jax
    import numpy as np

    from ..attractors import basin_map
    from ..distributed import global_mesh

    sets = _parse_sets(args.set)
    problem, x0, kind = load_target(args.system, None, sets, _floats(args.input, "--input"))
    d = (problem.args["gru"].hidden_size if kind == "gru"
         else None if x0 is None else int(np.asarray(x0).shape[0]))
    if d is None:
        raise SystemExit("error: the system file needs X0 (a state) so that the slice "
                         "knows the dimension; or give a saved GRU model")
    if d < 2:
        raise SystemExit(f"error: a basin map needs a state of dimension >= 2; this one has {d}")
    i, j = args.axes
    if not (0 <= i < d and 0 <= j < d and i != j):
        raise SystemExit(f"error: --axes {i} {j}: two different coordinates in 0..{d - 1}")
    base = _floats(args.base, "--base")
    if base is None:
        base = np.zeros(d) if kind == "gru" else np.asarray(x0, float)
    elif len(base) != d:
        raise SystemExit(f"error: --base has {len(base)} numbers; the state has {d}")
    centre = np.asarray(base, float)[[i, j]]
    half = 1.5 if kind == "gru" else max(1.5, 1.5 * float(np.max(np.abs(centre))))
    lo = args.lo if args.lo is not None else (centre - half).tolist()
    hi = args.hi if args.hi is not None else (centre + half).tolist()
    if not all(a < b for a, b in zip(lo, hi)):
        raise SystemExit(f"error: --lo {lo} must be below --hi {hi} in both coordinates")
    bm = basin_map(problem, None, lo, hi, shape=tuple(args.grid), axes=(i, j), base=base,
                   t_transient=args.t_transient,
                   mesh=global_mesh() if (multi or jax.device_count() > 1) else None)
    if jax.process_index() != 0:
        return 0
    print(bm.attractors.summary())
    if args.out:
        data = {"format": "gru_bif.basin_map", "axes": [i, j], "base": np.asarray(base).tolist(),
                "x": np.asarray(bm.x).tolist(), "y": np.asarray(bm.y).tolist(),
                "labels": np.asarray(bm.labels).tolist(),
                "attractors": bm.attractors.to_dict()}
        write_atomic(args.out, json.dumps(data))
        print(f"wrote {args.out}")
    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        from ..plotting import plot_basin_map

        ax = plot_basin_map(bm)
        savefig_atomic(ax.figure, args.plot, dpi=120, bbox_inches="tight")
        print(f"wrote {args.plot}")
    return 0
