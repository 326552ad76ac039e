"""`gru-bif portrait`: the phase portrait of a 1-D or 2-D system or GRU.

    gru-bif portrait MODEL_OR_SYSTEM --out fig.png [--set k=v ...] [--input u ...]
"""

from .._io import savefig_atomic
from ._common import _floats, _parse_sets, _setup_jax, check_outputs, load_target


def add_parser(sub, common):
    p = sub.add_parser("portrait", parents=[common], help="phase portrait (1-D or 2-D)")
    p.add_argument("system", help="system file (.py) or saved GRU model (.json/.npz)")
    p.add_argument("--out", required=True, help="image file")
    p.add_argument("--set", action="append", help="override a parameter: k=v (repeatable)")
    p.add_argument("--input", help="constant GRU input u, comma-separated")
    p.add_argument("--xlim", help="x window, e.g. -2,2 (default: around X0, or (-1.5, 1.5) for a GRU)")
    p.add_argument("--ylim", help="y window (2-D)")
    p.add_argument("--trajectories", type=int, default=6, help="simulated trajectories (2-D)")
    p.set_defaults(func=cmd_portrait)
    return p


def cmd_portrait(args) -> int:
    check_outputs(args, figures=("out",), files=())
    _setup_jax(args)
    import matplotlib

    matplotlib.use("Agg")
    import numpy as np

    from ..plotting import plot_flow_1d, plot_phase_portrait

    sets = _parse_sets(args.set)
    try:
        problem, x0, kind = load_target(args.system, None, sets, _floats(args.input, "--input"))
    except ValueError as e:
        raise SystemExit(f"error: {e}")
    if kind == "gru":
        d = problem.args["gru"].hidden_size
        centre, half = np.zeros(d), 1.5
    else:
        if x0 is None:
            raise SystemExit(
                "error: the system file needs X0 (a state) so the portrait knows the "
                "dimension and where to look"
            )
        d = int(x0.shape[0])
        centre = np.asarray(x0)
        half = max(1.5, 1.5 * float(np.max(np.abs(centre))))
    xlim = tuple(_floats(args.xlim, "--xlim")) if args.xlim else (centre[0] - half, centre[0] + half)
    if d == 1:
        ax = plot_flow_1d(problem, xlim=xlim)
    elif d == 2:
        ylim = tuple(_floats(args.ylim, "--ylim")) if args.ylim else (centre[1] - half, centre[1] + half)
        ax = plot_phase_portrait(problem, xlim=xlim, ylim=ylim, trajectories=args.trajectories)
    else:
        raise SystemExit(f"error: portraits are for 1-D and 2-D systems; this one has d={d}")
    savefig_atomic(ax.figure, args.out, dpi=120, bbox_inches="tight")
    print(f"wrote {args.out}")
    return 0
