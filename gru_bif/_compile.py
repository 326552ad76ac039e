"""How gru_bif asks XLA to compile its programs.

On CPU, XLA's default pipeline spends most of a first call's seconds in LLVM
optimisation and in its MLIR fusion emitters. gru_bif's programs are many small
operations in loops: they need neither. It compiles its own programs on CPU in one of
three modes (`set_compile_mode`, or the environment variable `GRU_BIF_COMPILE`):

- `"fast"` (default): `xla_backend_optimization_level=0`,
  `xla_cpu_use_fusion_emitters=False` — the quickest compilation;
- `"optimized"`: `xla_backend_optimization_level=1`, no fusion emitters — run time as
  good as XLA's defaults or better, compilation in between;
- `"xla"`: XLA's defaults.

Measured by `benchmarks/bench_latency.py` (2 cores, float64; first call / warm call):

| entry point | fast | optimized | xla |
|---|---|---|---|
| 2-D GRU diagram | 1.75 s / 2.43 ms | 2.84 s / 2.28 ms | 4.52 s / 2.19 ms |
| Hopf curve | 4.81 s / 16.9 ms | 6.49 s / 10.8 ms | 11.7 s / 22.1 ms |
| cycle branch (ntst 20) | 3.80 s / 58.7 ms | 4.59 s / 34.3 ms | 5.90 s / 36.0 ms |
| homoclinic orbit | 0.71 s / 4.67 ms | 0.92 s / 3.11 ms | 1.39 s / 3.00 ms |

So `"fast"` suits interactive work (a first answer in seconds), `"optimized"` long runs
of many calls (sweeps, training loops, long cycle branches). Results agree to rounding
(the same points to 1e-15). On other platforms (GPU) XLA's defaults are always used.

The options are resolved at the first compilation (after the user has chosen the
platform), and checked once with a tiny program: a jaxlib that does not know them gets
XLA's defaults. They only concern gru_bif's programs (`jit`, `filter_jit` below and the
engine's programs); a user's own `jax.jit` is untouched, and no global JAX setting is
changed.
"""

import functools
import os
import threading
import warnings

__all__ = ["set_compile_mode", "compile_mode", "compile_options", "options_key", "jit",
           "filter_jit"]

#: CPU compiler options per mode (the first entry that this jaxlib accepts is used)
_CPU_OPTIONS = {
    "fast": (("xla_backend_optimization_level", 0), ("xla_cpu_use_fusion_emitters", False)),
    "optimized": (("xla_backend_optimization_level", 1),
                  ("xla_cpu_use_fusion_emitters", False)),
    "xla": (),
}
_MODES = tuple(_CPU_OPTIONS)
_mode = os.environ.get("GRU_BIF_COMPILE", "fast").strip().lower() or "fast"
if _mode not in _MODES:
    warnings.warn(f"GRU_BIF_COMPILE={_mode!r} is not a compile mode (use one of "
                  f"{', '.join(_MODES)}); using 'fast'.", stacklevel=2)
    _mode = "fast"
_resolved: "tuple | None" = None
_lock = threading.Lock()


def set_compile_mode(mode: str) -> None:
    """How gru_bif compiles its programs on CPU: `"fast"` (default: the quickest
    compilation), `"optimized"` (faster runs, slower compilation: for long runs of many
    calls) or `"xla"` (XLA's defaults); see `gru_bif._compile` for measurements.
    Programs already compiled are kept; new ones use the new mode (and new disk-cache
    keys)."""
    global _mode, _resolved
    if mode not in _MODES:
        raise ValueError(f"compile mode {mode!r}: use one of {', '.join(_MODES)}.")
    with _lock:
        _mode, _resolved = mode, None


def compile_mode() -> str:
    """The current compile mode (`"fast"`, `"optimized"` or `"xla"`)."""
    return _mode


def _probe(options: tuple) -> bool:
    import jax
    import numpy as np

    try:
        jax.jit(lambda x: x + 1, compiler_options=dict(options)).lower(np.float32(0)).compile()
    except Exception:  # an option this jaxlib does not know
        return False
    return True


def _options() -> tuple:
    global _resolved
    out = _resolved
    if out is not None:
        return out
    with _lock:
        if _resolved is None:
            options = ()
            if _mode != "xla":
                import jax

                wanted = _CPU_OPTIONS[_mode]
                if wanted and jax.default_backend() == "cpu":
                    for candidate in (wanted, wanted[:1]):
                        if _probe(candidate):
                            options = candidate
                            break
            _resolved = options
        return _resolved


def options_key() -> tuple:
    """The current options as a hashable key (for caches of compiled programs)."""
    return _options()


def compile_options() -> dict:
    """The XLA compiler options gru_bif passes for its programs now (empty: XLA's
    defaults)."""
    return dict(_options())


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

    def __init__(self, make, fun):
        functools.update_wrapper(self, fun)
        self._make = make
        self._built = {}

    def _get(self):
        key = _options() if _top_level() else ()
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


def jit(fun=None, /, **kwargs):
    """`jax.jit` with gru_bif's compiler options (usable as a decorator factory)."""
    if fun is None:
        return functools.partial(jit, **kwargs)
    import jax

    return _Lazy(lambda options: jax.jit(fun, compiler_options=options, **kwargs), fun)


def filter_jit(fun=None, /, **kwargs):
    """`equinox.filter_jit` with gru_bif's compiler options."""
    if fun is None:
        return functools.partial(filter_jit, **kwargs)

    def make(options):
        import equinox as eqx

        if options is None:
            return eqx.filter_jit(fun, **kwargs)
        return eqx.filter_jit(fun, compiler_options=options, **kwargs)

    return _Lazy(make, fun)
