"""`gru-bif census`: random 2-D GRUs at several weight scales, their fixed points,
topologies and limit cycles (`gru_bif.census.census`), on one machine or over several
processes, resumable from a checkpoint folder.

    gru-bif census [--scales S ...] [--num-networks N] [--seed K] [--bias-scale B]
                   [--fixed-gates] [--grid G] [--out census.json]
                   [--checkpoint DIR [--chunk-size C]]
                   [--coordinator HOST:PORT --num-processes P --process-id I]
"""

import sys

from ._common import _setup_jax, add_distributed_args, check_outputs, setup_distributed


def add_parser(sub, common):
    c = sub.add_parser("census", parents=[common],
                       help="fixed points and cycles of many random 2-D GRUs")
    c.add_argument("--scales", type=float, nargs="+", default=[0.5, 1.0, 2.0, 3.0, 4.0, 6.0],
                   help="weight scales s (recurrent weights N(0, s²/2))")
    c.add_argument("--num-networks", type=int, default=200, help="networks per scale")
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--bias-scale", type=float, default=0.5)
    c.add_argument("--fixed-gates", action="store_true",
                   help="U_z = U_r = 0, b_z = b_r = 0 (the paper's topology catalogue)")
    c.add_argument("--grid", type=int, default=16, help="fixed-point starts per axis")
    c.add_argument("--out", default=None, help="write the table as JSON")
    c.add_argument("--checkpoint", default=None, metavar="DIR",
                   help="write each finished chunk here; run again to resume")
    c.add_argument("--chunk-size", type=int, default=1000, help="networks per chunk")
    add_distributed_args(c)
    c.set_defaults(func=cmd_census)
    return c


def cmd_census(args) -> int:
    check_outputs(args, figures=())
    if args.num_networks < 1 or args.chunk_size < 1 or args.grid < 2:
        raise SystemExit("error: --num-networks and --chunk-size must be >= 1, --grid >= 2")
    multi = setup_distributed(args)
    _setup_jax(args)
    import jax

    from ..census import census
    from ..distributed import global_mesh

    first = jax.process_index() == 0

    def progress(done, total, computed):
        if first:
            print(f"chunk {done}/{total} {'computed' if computed else 'read'}",
                  file=sys.stderr, flush=True)

    table = census(
        scales=args.scales, num_networks=args.num_networks, seed=args.seed,
        bias_scale=args.bias_scale, fixed_gates=args.fixed_gates, grid=args.grid,
        mesh=global_mesh() if (multi or jax.device_count() > 1) else None,
        checkpoint_dir=args.checkpoint, chunk_size=args.chunk_size,
        progress=progress if args.checkpoint else None,
    )
    if first:
        print(table.summary())
        if args.out:
            table.to_json(args.out)
            print(f"wrote {args.out}")
    return 0
