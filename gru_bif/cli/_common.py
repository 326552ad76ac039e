"""What every sub-command of `gru-bif` shares: JAX set-up (precision, compilation
cache), checks of output paths and start states, parsing of `--set`, number lists and
negative values, loading a system file or saved GRU model, start states, and the one-line
error text. The sub-commands (one module per family) import from here, never from each
other.
"""

import os
import pathlib
import re
import sys

# JAX's CPU LAPACK calls go through SciPy's OpenBLAS, whose threads fight XLA's own for
# the cores on the small dense solves of continuation (measured: a collocation branch
# up to 74x slower on a busy 2-core machine). One BLAS thread, unless the user set it.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def _setup_jax(args) -> None:
    import jax

    if "GRU_BIF_WARM" not in os.environ:
        # a command is one short process: no background compilation for calls that
        # come again (a warm program would only delay the exit; `GRU_BIF_WARM=1` asks)
        from .._compile import set_compile_mode

        set_compile_mode(warm=False)

    if not getattr(args, "float32", False):
        jax.config.update("jax_enable_x64", True)
    if not getattr(args, "no_cache", False) and not os.environ.get("GRU_BIF_NO_CACHE"):
        from .._programs import cache_root, set_program_cache

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

    from ..continuation.problems import EquilibriumProblem, check_residual_shape

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

    from ..problem import Problem
    from ..systems import load_system

    p = pathlib.Path(path)
    if p.suffix in (".json", ".npz"):
        from ..models.gru import GRU

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
        from ..equilibria import find_equilibria

        eq = find_equilibria(problem)
        return [jnp.asarray(x) for x in np.asarray(eq.x)[: int(eq.count)]]
    if x0 is not None:
        return [x0]
    raise SystemExit("error: give a start state with --x0 (the system file has no X0)")


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


def _one_line(e: BaseException) -> str:
    text = " ".join(line.strip() for line in str(e).splitlines() if line.strip())
    return text or type(e).__name__


def _fmt(x) -> str:
    """A state as `(x1, x2, ...)`, six significant digits."""
    import numpy as np

    return "(" + ", ".join(f"{float(v):.6g}" for v in np.asarray(x).reshape(-1)) + ")"


def add_distributed_args(parser) -> None:
    """`--coordinator`, `--num-processes`, `--process-id`: run over several processes
    (`gru_bif.distributed.initialize`); without them, the environment decides
    (`GRU_BIF_COORDINATOR_ADDRESS` / `_NUM_PROCESSES` / `_PROCESS_ID`, JAX's `JAX_*`
    variables, Slurm or Open MPI), else one process."""
    g = parser.add_argument_group("several processes (jax.distributed)")
    g.add_argument("--coordinator", default=None, metavar="HOST:PORT",
                   help="address of process 0 (with --num-processes and --process-id)")
    g.add_argument("--num-processes", type=int, default=None, metavar="N",
                   help="number of processes taking part")
    g.add_argument("--process-id", type=int, default=None, metavar="I",
                   help="this process's id, 0 .. N-1")


def setup_distributed(args) -> bool:
    """Join the other processes before any JAX computation (CPU collectives by gloo).
    Returns whether several processes take part; `SystemExit` with one line for an
    incomplete setting."""
    from .. import distributed

    given = (args.coordinator, args.num_processes, args.process_id)
    try:
        if all(v is None for v in given) and distributed.cluster_environment() is None:
            return False
        import jax

        jax.config.update("jax_cpu_collectives_implementation", "gloo")
        return distributed.initialize(*given)
    except ValueError as e:
        raise SystemExit(f"error: {_one_line(e)}") from e
    except RuntimeError as e:  # the coordinator cannot be reached, a backend started first
        raise SystemExit(f"error: could not join the other processes ({_one_line(e)}); "
                         "check --coordinator (process 0's host:port) and that every "
                         "process was started") from e
