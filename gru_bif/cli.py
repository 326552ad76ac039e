"""The `gru-bif` command line.

    gru-bif reproduce --out DIR            the paper's figures and REPORT.md
    gru-bif continue SYSTEM --param NAME --from A --to B [--set k=v ...] [--x0 ...]
                     [--out branch.json] [--plot fig.png]
    gru-bif portrait MODEL_OR_SYSTEM --out fig.png [--set k=v ...] [--input u ...]
    gru-bif cycles SYSTEM --param NAME --from A --to B [--max-period T] [--ntst N]
                     [--out cycles.json] [--plot fig.png]   (see gru_bif.periodic.cli)
    gru-bif homoclinic SYSTEM --params P1 P2 --to P2_END (--from-bt P1 P2 | --range A B)
                     [--out curve.json] [--plot fig.png]   (see gru_bif.homoclinic.cli)

SYSTEM is a Python system file (PARAMS, X0, vector_field) or a saved GRU model (.json or
.npz from `GRU.save`). Computations run in float64 unless `--float32` is given, and
compiled code is kept on disk (`--cache-dir`, default `$GRU_BIF_CACHE_DIR` or
`~/.cache/gru_bif`: gru_bif's own programs in `programs/`, loaded by a new process
without tracing or compiling, and JAX's persistent compilation cache in `jax/`;
`--no-cache` or the environment variable GRU_BIF_NO_CACHE=1 turn it off), so a second
run starts in a fraction of a second.
"""

import argparse
import json
import re
import os
import pathlib
import sys
import time

from ._io import savefig_atomic, write_atomic

# JAX's CPU LAPACK calls go through SciPy's OpenBLAS, whose threads fight XLA's own for
# the cores on the small dense solves of continuation (measured: a collocation branch
# up to 74x slower on a busy 2-core machine). One BLAS thread, unless the user set it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def _setup_jax(args) -> None:
    import jax

    if not getattr(args, "float32", False):
        jax.config.update("jax_enable_x64", True)
    if not getattr(args, "no_cache", False) and not os.environ.get("GRU_BIF_NO_CACHE"):
        from ._programs import cache_root, set_program_cache

        root = pathlib.Path(args.cache_dir).expanduser() if args.cache_dir else cache_root()
        try:

            (root / "jax").mkdir(parents=True, exist_ok=True)
            # gru_bif's own programs (loaded without tracing or compiling) ...
            set_program_cache(root / "programs")
            # ... and everything else JAX compiles
            jax.config.update("jax_compilation_cache_dir", str(root / "jax"))
            jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
            jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
        except Exception as e:  # a read-only home, say: run without the cache
            print(f"note: compilation cache disabled ({e})", file=sys.stderr)


def check_outputs(args, figures=("plot",), files=("out",)) -> None:
    """Before any computation: each output option given (`--out`, `--plot`) must name a
    file in an existing folder, and a figure a format matplotlib writes (by its suffix),
    so that a long run does not end in an error with nothing written."""
    for name in (*figures, *files):
        value = getattr(args, name, None)
        if value is None:
            continue
        path = pathlib.Path(value)
        option = f"--{name}"
        if path.is_dir():
            raise SystemExit(f"error: {option} {value}: this is a folder; give a file name")
        if not path.parent.is_dir():
            raise SystemExit(f"error: {option} {value}: the folder {str(path.parent)!r} "
                             "does not exist")
        if name in figures and path.suffix:
            from matplotlib.backend_bases import FigureCanvasBase

            known = FigureCanvasBase.get_supported_filetypes()
            if path.suffix[1:].lower() not in known:
                raise SystemExit(
                    f"error: {option} {value}: unknown figure format "
                    f"{path.suffix!r}; use one of {', '.join('.' + k for k in sorted(known))}"
                )


def check_state(problem, x, option: str) -> None:
    """`SystemExit` naming `option` if the state `x` does not fit the problem's vector
    field (a length the field cannot take, or one it does not return)."""
    import jax.numpy as jnp

    from .continuation.problems import EquilibriumProblem, check_residual_shape

    x = jnp.asarray(x)
    if x.ndim != 1 or x.shape[0] == 0:
        raise SystemExit(f"error: {option}: give the state as numbers separated by commas")
    try:
        check_residual_shape(EquilibriumProblem(problem), int(x.shape[0]),
                             jnp.result_type(float))
    except ValueError as e:
        raise SystemExit(f"error: {option}: {_one_line(e)}") from None


def _parse_sets(items) -> dict:
    out = {}
    for item in items or []:
        if "=" not in item:
            raise SystemExit(f"error: --set expects key=value, got {item!r}")
        k, v = item.split("=", 1)
        try:
            out[k.strip()] = float(v)
        except ValueError:
            raise SystemExit(f"error: --set {item!r}: {v!r} is not a number")
    return out


def _floats(text, name):
    if text is None:
        return None
    try:
        return [float(v) for v in text.replace(",", " ").split()]
    except ValueError:
        raise SystemExit(f"error: {name} expects numbers separated by commas, got {text!r}")


def load_target(path: str, param: "str | None", sets: dict, inputs=None):
    """Return `(problem, x0s)` for a system file or a saved GRU model; `x0s` is a list
    of start states (for a GRU: every equilibrium found at the start)."""
    import jax.numpy as jnp

    from .problem import Problem
    from .systems import load_system

    p = pathlib.Path(path)
    if p.suffix in (".json", ".npz"):
        from .models.gru import GRU

        gru = GRU.load(p)
        u = jnp.zeros((gru.input_size,)) if inputs is None else jnp.asarray(inputs)
        problem = Problem.from_gru(gru, param or "bh[0]", u)
        for k, v in sets.items():
            sub = Problem(problem.f, problem.args, k)
            problem = Problem(problem.f, sub.with_p(v).args, problem.param)
        return problem, None, "gru"
    sf = load_system(p)
    if param is None:
        if not sf.params:
            raise SystemExit(f"error: system {sf.name} has no PARAMS to vary")
        param = next(iter(sf.params))
    problem = sf.problem(param, sets)
    return problem, sf.x0, "system"


def _start_states(args, problem, kind, x0) -> list:
    """Start states at the problem's current parameter value: `--x0`, else every fixed
    point of a GRU model, else the system file's `X0`."""
    import jax.numpy as jnp
    import numpy as np

    x_cli = _floats(args.x0, "--x0")
    if x_cli is not None:
        check_state(problem, x_cli, "--x0")
        return [jnp.asarray(x_cli)]
    if kind == "gru":
        from .equilibria import find_equilibria

        eq = find_equilibria(problem)
        return [jnp.asarray(x) for x in np.asarray(eq.x)[: int(eq.count)]]
    if x0 is not None:
        return [x0]
    raise SystemExit("error: give a start state with --x0 (the system file has no X0)")


def cmd_continue(args) -> int:
    check_outputs(args)
    _setup_jax(args)
    import jax
    import jax.numpy as jnp
    import numpy as np

    from .continuation import continuation

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
        xs = "(" + ", ".join(f"{float(v):.6g}" for v in np.asarray(x).reshape(-1)) + ")"
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
        from .plotting import plot_bifurcation_diagram

        ax = plot_bifurcation_diagram(branches, coord=args.coord if args.coord != "norm" else "norm")
        ax.figure.tight_layout()
        savefig_atomic(ax.figure, args.plot, dpi=120)
        print(f"wrote {args.plot}")
    return 0


def cmd_curve(args) -> int:
    """`gru-bif curve`: a fold or Hopf curve in two parameters (see --help)."""
    check_outputs(args)
    _setup_jax(args)
    import jax.numpy as jnp
    import numpy as np

    from .bifurcations.curves import fold_curve, hopf_curve
    from .branch import SpecialKind
    from .continuation import continuation

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
        from .plotting import plot_parameter_plane

        ax = plot_parameter_plane([(args.kind, curve)], xlabel=p1_name, ylabel=p2_name)
        ax.figure.tight_layout()
        savefig_atomic(ax.figure, args.plot, dpi=120)
        print(f"wrote {args.plot}")
    return 0


def cmd_portrait(args) -> int:
    check_outputs(args, figures=("out",), files=())
    _setup_jax(args)
    import matplotlib

    matplotlib.use("Agg")
    import numpy as np

    from .plotting import plot_flow_1d, plot_phase_portrait

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


def cmd_reproduce(args) -> int:
    _setup_jax(args)
    from .reproduce import run

    return run(args.out, only=args.only, retrain=args.retrain)


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

    p = sub.add_parser("portrait", parents=[common], help="phase portrait (1-D or 2-D)")
    p.add_argument("system", help="system file (.py) or saved GRU model (.json/.npz)")
    p.add_argument("--out", required=True, help="image file")
    p.add_argument("--set", action="append", help="override a parameter: k=v (repeatable)")
    p.add_argument("--input", help="constant GRU input u, comma-separated")
    p.add_argument("--xlim", help="x window, e.g. -2,2 (default: around X0, or (-1.5, 1.5) for a GRU)")
    p.add_argument("--ylim", help="y window (2-D)")
    p.add_argument("--trajectories", type=int, default=6, help="simulated trajectories (2-D)")
    p.set_defaults(func=cmd_portrait)

    r = sub.add_parser("reproduce", parents=[common], help="reproduce the paper's figures and REPORT.md")
    r.add_argument("--out", default="figures", help="output directory (default: figures)")
    r.add_argument("--only", default=None, help="redo one figure by name (see REPORT.md)")
    r.add_argument("--retrain", action="store_true", help="retrain the small networks instead of loading shipped weights")
    r.set_defaults(func=cmd_reproduce)

    from .periodic.cli import add_parser as _add_cycles

    _add_cycles(sub, common)
    from .homoclinic.cli import add_parser as _add_homoclinic

    _add_homoclinic(sub, common)
    return ap


_NUMBERS = re.compile(r"-\s*[0-9.]+([eE][-+]?[0-9]+)?(\s*[, ]\s*-?\s*[0-9.]+([eE][-+]?[0-9]+)?)*,?")


def join_negative_values(argv: list) -> list:
    """`["--x0", "-0.6,-0.3"]` → `["--x0=-0.6,-0.3"]`: argparse takes a value that starts
    with `-` and is not a single number for an option; a list of numbers after an
    option is its value (`--x0`, `--input`, `--from`, `--set` alike)."""
    out, i = [], 0
    while i < len(argv):
        a = argv[i]
        # a single number is left alone: argparse reads it, and options such as
        # `--range MIN MAX` take several
        if (a.startswith("--") and "=" not in a and i + 1 < len(argv)
                and "," in argv[i + 1] and argv[i + 1].lstrip().startswith("-")
                and _NUMBERS.fullmatch(argv[i + 1].strip())):
            out.append(f"{a}={argv[i + 1]}")
            i += 2
            continue
        out.append(a)
        i += 1
    return out


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


def _one_line(e: BaseException) -> str:
    text = " ".join(line.strip() for line in str(e).splitlines() if line.strip())
    return text or type(e).__name__


if __name__ == "__main__":
    sys.exit(main())
