"""`gru-bif reproduce`: the paper's figures and REPORT.md (`gru_bif.reproduce.run`).

    gru-bif reproduce --out DIR [--only NAME] [--retrain]
"""

from ._common import _setup_jax


def add_parser(sub, common):
    r = sub.add_parser("reproduce", parents=[common], help="reproduce the paper's figures and REPORT.md")
    r.add_argument("--out", default="figures", help="output directory (default: figures)")
    r.add_argument("--only", default=None, help="redo one figure by name (see REPORT.md)")
    r.add_argument("--retrain", action="store_true", help="retrain the small networks instead of loading shipped weights")
    r.set_defaults(func=cmd_reproduce)
    return r


def cmd_reproduce(args) -> int:
    _setup_jax(args)
    from ..reproduce import run

    return run(args.out, only=args.only, retrain=args.retrain)
