"""How gru_bif asks XLA to compile its programs.

On CPU, XLA's default pipeline spends most of a first call's seconds in LLVM
optimisation and in its MLIR fusion emitters. A small system's continuation programs
are many tiny operations in loops, whose run time is dispatch, not arithmetic: they
need neither. Larger or batched programs (cycles, many starts, vmapped diagrams) do
benefit from some optimisation. gru_bif compiles its own programs on CPU in one of four
modes (`set_compile_mode`, or the environment variable `GRU_BIF_COMPILE`):

- `"auto"` (default): the quickest pipeline (`xla_backend_optimization_level=0`,
  `xla_cpu_use_fusion_emitters=False`) for the continuation programs of systems with
  at most 16 unknowns, optimisation level 1 without fusion emitters for every other
  program;
- `"fast"`: the quickest pipeline everywhere;
- `"optimized"`: optimisation level 1 without fusion emitters everywhere (run time as
  good as XLA's defaults or better, compilation in between);
- `"xla"`: XLA's defaults.

`benchmarks/bench_latency.py --compile-mode` measures each (`benchmarks/RESULTS.md` §9:
in "auto" first calls are 1.2-2.1x faster than with XLA's defaults; the quickest
pipeline everywhere costs up to 85 % more warm run time on arithmetic-heavy programs
(a cycle branch 49 against 31 ms, homoclinic location 5.4 against 3.0 ms), and a
vmapped batch of 1,000 diagrams ran 5.7x slower with it, hence "auto"). Results agree to rounding. On other
platforms (GPU) XLA's defaults are always used.

The options are resolved at the first compilation (after the user has chosen the
platform), and checked once with a tiny program: a jaxlib that does not know them gets
XLA's defaults. They only concern gru_bif's programs (`jit`, `filter_jit` below and the
engine's programs); a user's own `jax.jit` is untouched, and no global JAX setting is
changed. A gru_bif function traced inside a user's `jit` is compiled with the user's
program and its options.
"""

import functools
import os
import threading
import warnings

__all__ = ["set_compile_mode", "compile_mode", "compile_options", "options_key", "jit",
           "filter_jit", "SMALL_PROGRAM", "warm_options", "upgrade_options"]

_FAST = (("xla_backend_optimization_level", 0), ("xla_cpu_use_fusion_emitters", False))
_OPTIMIZED = (("xla_backend_optimization_level", 1), ("xla_cpu_use_fusion_emitters", False))
#: CPU compiler options per mode: (small programs, all others)
_CPU_OPTIONS = {
    "auto": (_FAST, _OPTIMIZED),
    "fast": (_FAST, _FAST),
    "optimized": (_OPTIMIZED, _OPTIMIZED),
    "xla": ((), ()),
}
_MODES = tuple(_CPU_OPTIONS)
_mode = os.environ.get("GRU_BIF_COMPILE", "auto").strip().lower() or "auto"
if _mode not in _MODES:
    warnings.warn(f"GRU_BIF_COMPILE={_mode!r} is not a compile mode (use one of "
                  f"{', '.join(_MODES)}); using 'auto'.", stacklevel=2)
    _mode = "auto"
_resolved: "tuple | None" = None
_lock = threading.Lock()
#: whether repeated calls get better code in the background (see `warm_options`)
_warm = os.environ.get("GRU_BIF_WARM", "1").strip() != "0"


def set_compile_mode(mode: "str | None" = None, *, warm: "bool | None" = None) -> None:
    """How gru_bif compiles its programs on CPU: `"auto"` (default: the quickest
    compilation for small systems' continuation programs, optimisation level 1 for the
    rest), `"fast"` (the quickest everywhere: first calls), `"optimized"` (level 1
    everywhere: long runs of many calls) or `"xla"` (XLA's defaults); see
    `gru_bif._compile`. `None` keeps the mode.

    `warm` (default on; the environment variable `GRU_BIF_WARM=0` turns it off):
    repeated calls get better code compiled in the background once they have taken a
    second (`gru_bif._programs.settle`): a system's whole continuation as one *warm*
    program with XLA's full pipeline, and quickly compiled programs recompiled at
    optimisation level 1 (never in mode `"fast"`).

    Programs already compiled are kept; new ones use the new mode (and new disk-cache
    keys)."""
    global _mode, _resolved, _warm
    if mode is not None and mode not in _MODES:
        raise ValueError(f"compile mode {mode!r}: use one of {', '.join(_MODES)}.")
    with _lock:
        if mode is not None:
            _mode, _resolved = mode, None
        if warm is not None:
            _warm = bool(warm)


def compile_mode() -> str:
    """The current compile mode (`"auto"`, `"fast"`, `"optimized"` or `"xla"`)."""
    return _mode


def _probe(options: tuple) -> bool:
    import jax
    import numpy as np

    try:
        jax.jit(lambda x: x + 1, compiler_options=dict(options)).lower(np.float32(0)).compile()
    except Exception:  # an option this jaxlib does not know
        return False
    return True


def _accepted(wanted: tuple) -> tuple:
    for candidate in (wanted, wanted[:1]):
        if candidate and _probe(candidate):
            return candidate
    return ()


def _options(small: bool = False) -> tuple:
    global _resolved
    out = _resolved
    if out is None:
        with _lock:
            if _resolved is None:
                import jax

                pair = _CPU_OPTIONS[_mode]
                if jax.default_backend() != "cpu":
                    pair = ((), ())
                _resolved = tuple(_accepted(o) for o in pair)
            out = _resolved
    return out[0] if small else out[1]


def warm_options() -> "tuple | None":
    """The options of *warm* programs (`gru_bif._programs.warm`: a whole call as one
    program, compiled in the background once repeated calls have earned it, for the fastest
    repeated calls): XLA's defaults; None when they are off (`set_compile_mode(warm=
    False)`) and in mode "fast", which compiles nothing twice."""
    return None if _mode == "fast" or not _warm else ()


def upgrade_options(options: tuple) -> "tuple | None":
    """The options a program compiled with `options` is recompiled with in the
    background once repeated calls have earned it (tiered compilation,
    `gru_bif._programs.settle`):
    in mode "auto", a program compiled with the quickest pipeline gets the options of
    the mode's other programs (optimisation level 1: a warm cycle branch took 31 ms
    with it, 39 ms with XLA's defaults and 49 ms quick; `benchmarks/RESULTS.md` §9,
    0.7.0); None for every other
    program and mode, and when warm programs are off (`warm_options`)."""
    if _mode != "auto" or warm_options() is None or not options or options != _options(True):
        return None
    return _options(False)


def options_key(small: bool = False) -> tuple:
    """The current options for a small program (`small`: every input array has at most
    `SMALL_PROGRAM` elements) or any other, as a hashable key."""
    return _options(small)


def compile_options(small: bool = False) -> dict:
    """The XLA compiler options gru_bif passes now for a small program or any other
    (empty: XLA's defaults)."""
    return dict(_options(small))


#: a program whose every input array has at most this many elements is "small": in
#: mode "auto" it is compiled with the quickest pipeline
SMALL_PROGRAM = 64


def _top_level() -> bool:
    """Whether a jitted call now would be compiled on its own (JAX refuses compiler
    options on a jit nested in another trace: `jit`, `grad`, `vmap`, ...)."""
    try:
        from jax._src import core

        return isinstance(core.trace_ctx.trace, core.EvalTrace)
    except Exception:  # another JAX: stay on the safe side
        return False


class _Lazy:
    """A jitted function whose compiler options are chosen at call time: gru_bif's
    options when it is compiled on its own, none when it is traced into another
    program (whose options are its owner's)."""

    def __init__(self, make, fun, small=False):
        functools.update_wrapper(self, fun)
        self._make = make
        self._built = {}
        self._small = small

    def _get(self):
        key = _options(self._small) if _top_level() else ()
        built = self._built.get(key)
        if built is None:
            built = self._built[key] = self._make(dict(key) or None)
        return built

    def __call__(self, *args, **kwargs):
        return self._get()(*args, **kwargs)

    def __getattr__(self, name):  # lower, trace, eval_shape, clear_cache, ...
        if name.startswith("__") or name == "_built":
            raise AttributeError(name)
        return getattr(self._get(), name)


def jit(fun=None, /, *, small: bool = False, **kwargs):
    """`jax.jit` with gru_bif's compiler options (usable as a decorator factory);
    `small`: compiled as a small program (the quickest pipeline in mode "auto")."""
    if fun is None:
        return functools.partial(jit, small=small, **kwargs)
    import jax

    return _Lazy(lambda options: jax.jit(fun, compiler_options=options, **kwargs), fun,
                 small)


def filter_jit(fun=None, /, *, small: bool = False, **kwargs):
    """`equinox.filter_jit` with gru_bif's compiler options (`small` as for `jit`)."""
    if fun is None:
        return functools.partial(filter_jit, small=small, **kwargs)

    def make(options):
        import equinox as eqx

        if options is None:
            return eqx.filter_jit(fun, **kwargs)
        return eqx.filter_jit(fun, compiler_options=options, **kwargs)

    return _Lazy(make, fun, small)
