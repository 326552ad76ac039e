"""The `gru-bif` command line.

    gru-bif reproduce --out DIR            the paper's figures and REPORT.md
    gru-bif continue SYSTEM --param NAME --from A --to B [--set k=v ...] [--x0 ...]
                     [--out branch.json] [--plot fig.png]
    gru-bif curve SYSTEM --kind fold|hopf --params P1 P2 --range MIN MAX
                     (--from-point x1,...,xd,p1 | --scan FROM TO) [--out curve.json]
    gru-bif portrait MODEL_OR_SYSTEM --out fig.png [--set k=v ...] [--input u ...]
    gru-bif cycles SYSTEM --param NAME --from A --to B [--max-period T] [--ntst N]
                     [--out cycles.json] [--plot fig.png]   (see gru_bif.cli.cycles)
    gru-bif homoclinic SYSTEM --params P1 P2 --to P2_END (--from-bt P1 P2 | --range A B)
                     [--out curve.json] [--plot fig.png]   (see gru_bif.cli.homoclinic)
    gru-bif census [--scales S ...] [--num-networks N] [--out census.json]
                     [--checkpoint DIR] [--coordinator HOST:PORT --num-processes P
                     --process-id I]                       (see gru_bif.cli.census)
    gru-bif basins MODEL_OR_SYSTEM [--lo X Y --hi X Y] [--grid N M] [--out basins.json]
                     [--plot basins.png] [--coordinator ...]  (see gru_bif.cli.basins)
    gru-bif dissect MODEL [--task flipflop|sine] [--channel I --range A B]
                     [--out dissect.json] [--plot pca.png]    (see gru_bif.cli.dissect)

SYSTEM is a Python system file (PARAMS, X0, vector_field) or a saved GRU model (.json or
.npz from `GRU.save`). Computations run in float64 unless `--float32` is given, and
compiled code is kept on disk (`--cache-dir`, default `$GRU_BIF_CACHE_DIR` or
`~/.cache/gru_bif`: gru_bif's own programs in `programs/`, loaded by a new process
without tracing or compiling, and JAX's persistent compilation cache in `jax/`;
`--no-cache` or the environment variable GRU_BIF_NO_CACHE=1 turn it off), so a second
run starts in a fraction of a second.

One module per family of sub-commands (`continue_`, `curve`, `portrait`, `reproduce`,
`cycles`, `homoclinic`, `census`, `basins`, `dissect`), each with `add_parser(sub, common)` and its `cmd_*`; what they
share is in `_common`.
"""

import argparse
import sys

from . import basins, census, continue_, dissect, curve, cycles, homoclinic, portrait, reproduce
from ._common import (
    _one_line,
    check_outputs as check_outputs,
    check_state as check_state,
    join_negative_values as join_negative_values,
    load_target as load_target,
)
from .continue_ import cmd_continue as cmd_continue
from .curve import cmd_curve as cmd_curve
from .portrait import cmd_portrait as cmd_portrait
from .reproduce import cmd_reproduce as cmd_reproduce

_FAMILIES = (continue_, curve, portrait, reproduce, cycles, homoclinic, census, basins,
             dissect)
"""The sub-command modules, in the order `gru-bif --help` lists them."""


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="gru-bif",
        description="Bifurcation analysis of continuous-time GRUs and other ODEs (JAX).",
    )
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--float32", action="store_true", help="compute in float32 (default float64)")
    common.add_argument("--cache-dir", default=None,
                        help="folder for compiled programs (default ~/.cache/gru_bif)")
    common.add_argument("--no-cache", action="store_true", help="do not use the compilation cache")
    sub = ap.add_subparsers(dest="command", required=True)
    for family in _FAMILIES:
        family.add_parser(sub, common)
    return ap


def main(argv=None) -> int:
    """Run `gru-bif` with `argv` (default: the command line). Bad input ends the run
    with a one-line `error: ...` (a `SystemExit`) that names the file, the entry and
    what is expected; every file the command writes is written whole or not at all."""
    argv = join_negative_values(list(sys.argv[1:] if argv is None else argv))
    args = build_parser().parse_args(argv)
    if getattr(args, "coord", None) not in (None, "norm"):
        try:
            args.coord = int(args.coord)
        except ValueError:
            raise SystemExit("error: --coord must be an integer index or 'norm'")
    try:
        return args.func(args)
    except (ValueError, OSError) as e:
        # the library's bad-input errors (and unreadable or unwritable files): one line
        raise SystemExit(f"error: {_one_line(e)}") from e
