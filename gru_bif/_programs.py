"""Compiled programs, kept in memory and (optionally) on disk across processes.

The engine runs a call with concrete inputs as a few small compiled programs (the
continuation loop, the location of flagged points, the data of each kind of point).
`compiled(fn, *args)` returns the program of the module-level function `fn` for the
array shapes and static contents of `args`:

- **in memory**: keyed like `jax.jit` (static contents, array shapes and dtypes), so a
  call with new values reuses it;
- **on disk** (`set_program_cache(directory)`; the `gru-bif` command line turns it on):
  the compiled executable is serialised under a key that fingerprints everything that
  determines it — the code of the functions inside `args` (their bytecode, constants,
  closures and the globals they read, recursively), the array shapes and dtypes, the
  program's name, gru_bif's source, the versions of jax, jaxlib and numpy, the device
  and CPU, and `XLA_FLAGS`. A new process with a known system loads the executable
  (milliseconds) instead of tracing, lowering and compiling it (seconds).

Anything the fingerprint cannot see through (an object of an unknown class in user
code, a module of the user's own) makes the program uncacheable on disk: it is compiled
as usual, never looked up. A file that fails its checksum, does not deserialise or was
written for another key is deleted and recompiled, never trusted.

`prefetch(fn, *args)` compiles in a background thread (XLA compiles without holding
Python's lock), so that on two cores the location program compiles while the
continuation loop does.

Repeated calls get better code in the background, when a core is idle (`spare_core`)
and warm programs are on (`gru_bif._compile.warm_options`):

- `warm(fn, *args)`: the whole of a call as one program with XLA's full pipeline,
  compiled once its key has been asked for repeatedly and used once ready;
- tiered compilation: a program compiled with the quickest pipeline keeps its lowered
  module; once it has run in repeated calls, `settle` (called as entry points return)
  recompiles it at optimisation level 1 and swaps the executable in (and onto disk).

Both start only once the repeated calls have taken `AMORTIZE_S` seconds (after their
first): a process waits at exit for a compilation under way, and a short script must
not pay for code it will not use.

`wait()` waits for all background work (benchmarks, tests).
"""

import concurrent.futures
import functools
import hashlib
import json
import os
import pathlib
import threading
import warnings

import equinox as eqx
import jax
import numpy as np

from ._compile import SMALL_PROGRAM, options_key, upgrade_options, warm_options
from ._fingerprint import FORMAT as _FORMAT, disk_key as _disk_key

__all__ = ["set_program_cache", "program_cache_dir", "clear_program_cache", "cache_root",
           "default_program_cache", "compiled", "prefetch", "warm", "wait", "settle"]

_MAGIC = b"GRUBIFPROG"
_cache_dir: "pathlib.Path | None" = None
_memory: dict = {}
_lock = threading.Lock()
_pending: dict = {}
_pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="gru_bif-compile")
# warm programs (see `warm`) compile in their own thread: seconds of work that must not
# hold up a first call's prefetched location program
_warm_pool = concurrent.futures.ThreadPoolExecutor(max_workers=1,
                                                   thread_name_prefix="gru_bif-warm")


def _drop_queued_work() -> None:
    """At interpreter exit, nothing queued in the background is needed any more: drop
    what has not started, so that a script's exit waits at most for the compilation
    under way (Python joins these threads at exit)."""
    for pool in (_pool, _warm_pool):
        pool.shutdown(wait=False, cancel_futures=True)


try:  # runs before concurrent.futures joins its threads (Python ≥ 3.9)
    threading._register_atexit(_drop_queued_work)
except AttributeError:  # pragma: no cover - another Python: queued work runs out
    pass
#: how often each warm program's key was asked for (bounded like `_memory`)
_asked: dict = {}
#: background recompilations of quick programs (`_upgrade`) not yet waited for
_upgrades: set = set()
#: how many quick programs were recompiled so far (for benchmarks and tests)
_upgraded = 0
#: quick programs that ran since the last `settle` (their upgrade pending)
_ran: set = set()
#: the warm-program key asked for by the call under way (per thread), and seconds of
#: calls charged to each key (see `settle`)
_asking = threading.local()
_warm_spent: dict = {}


def set_program_cache(directory: "str | os.PathLike | None") -> None:
    """Keep compiled programs in `directory` across processes (created if missing);
    `None` turns the disk cache off (the default for library calls; `gru-bif` turns it
    on, in `$GRU_BIF_CACHE_DIR` or `~/.cache/gru_bif`). Safe to delete at any time."""
    global _cache_dir
    if directory is None:
        _cache_dir = None
        return
    path = pathlib.Path(directory).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    _cache_dir = path


def cache_root() -> "pathlib.Path | None":
    """Where gru_bif keeps compiled code by default: `$GRU_BIF_CACHE_DIR`, else
    `~/.cache/gru_bif`; `None` when the environment variable `GRU_BIF_NO_CACHE` is set.
    The command line uses `programs/` (gru_bif's programs) and `jax/` (JAX's persistent
    compilation cache) in it; notebooks call
    `gru_bif.set_program_cache(gru_bif.default_program_cache())`."""
    if os.environ.get("GRU_BIF_NO_CACHE"):
        return None
    root = os.environ.get("GRU_BIF_CACHE_DIR") or pathlib.Path.home() / ".cache" / "gru_bif"
    return pathlib.Path(root).expanduser()


def default_program_cache() -> "pathlib.Path | None":
    """`cache_root() / "programs"` (or `None`: caching switched off)."""
    root = cache_root()
    return None if root is None else root / "programs"


def program_cache_dir() -> "pathlib.Path | None":
    """The directory `set_program_cache` chose (`None`: no disk cache)."""
    return _cache_dir


def clear_program_cache(memory: bool = True, disk: bool = True) -> int:
    """Forget compiled programs; returns the number of files removed from disk."""
    removed = 0
    if memory:
        with _lock:
            _memory.clear()
            _asked.clear()
            _ran.clear()
            _warm_spent.clear()
    if disk and _cache_dir is not None:
        for f in _cache_dir.glob("*.prog"):
            try:
                f.unlink()
                removed += 1
            except OSError:
                pass
    return removed


# --------------------------------------------------------------------------- programs
class _Program:
    """A compiled program: flat array inputs, flat array outputs arranged as
    `skeleton` (nested lists and dicts whose leaves are the outputs' positions)."""

    def __init__(self, executable, skeleton, lapack=True, storable=False):
        self.executable = executable
        self.skeleton = skeleton
        self.out_def = jax.tree.structure(skeleton)
        self.lapack = lapack  # calls LAPACK (a loading process must prepare it first)
        self.storable = storable  # may be serialised (see `_build`)
        # tiered compilation: a quickly compiled program keeps its lowered module and
        # the options to recompile it with once repeated calls earned it (`settle`)
        self.lowered = None
        self.upgrade = None
        self.epochs = 0  # entry-point calls it ran in (see `settle`)
        self.spent = 0.0  # seconds of those calls after its first
        self.store = None  # writes it to the disk cache (set by `_get`)

    def __call__(self, leaves):
        if self.upgrade is not None:
            with _lock:
                _ran.add(self)
        return jax.tree.unflatten(self.out_def, self.executable(*leaves))


#: background work starts only once the calls that would gain from it have taken this
#: many seconds (after their first call, which compiled): it then costs at most a few
#: times the work already done — a process that exits waits for a compilation under
#: way, so a script of two quick calls must not start one
AMORTIZE_S = 1.0


def settle(elapsed: float) -> None:
    """Called by entry points as they return, with the call's duration `elapsed`: start
    the background work repeated calls have earned (never competing with a call).

    - A quickly compiled program that ran in this call and in an earlier one is
      charged the call's time; once charged `AMORTIZE_S`, it is recompiled with its
      better options (`gru_bif._compile.upgrade_options`) from its kept lowered module
      (no tracing: XLA compiles without Python's lock), and the new executable is
      swapped in when ready (and replaces the one on disk).
    - A warm program asked for in this call (`warm`) and in an earlier one is charged
      likewise; once charged `AMORTIZE_S`, it compiles in the background.

    Only when a core is spare (`spare_core`; else at a later call)."""
    with _lock:
        ran = list(_ran)
        _ran.clear()
    asked = getattr(_asking, "now", None)
    _asking.now = None
    for program in ran:
        program.epochs += 1
        if program.epochs >= 2:
            program.spent += elapsed
    warm_job = None
    if asked is not None:
        mkey, job = asked
        if _asked.get(mkey, 0) >= 2:
            with _lock:
                _warm_spent[mkey] = spent = _warm_spent.get(mkey, 0.0) + elapsed
                while len(_warm_spent) > MAX_PROGRAMS:  # bounded like `_asked`
                    _warm_spent.pop(next(iter(_warm_spent)))
            if spent >= AMORTIZE_S:
                warm_job = job
    due = [p for p in ran
           if p.epochs >= 2 and p.spent >= AMORTIZE_S and p.upgrade is not None]
    if not (due or warm_job) or not spare_core():
        return  # they stay due: a later call tries again
    for program in due:
        _upgrade(program)
    if warm_job is not None:
        warm_job()


def _upgrade(program: _Program) -> None:
    options, lowered = program.upgrade, program.lowered
    if options is None or lowered is None:
        return
    program.upgrade = None

    def work():
        global _upgraded
        _watch_cache_hits()
        _hits.count = 0
        try:
            executable = lowered.compile(compiler_options=dict(options) or None)
        except Exception:  # the quick executable stays
            return
        program.executable, program.lowered = executable, None
        with _lock:
            _upgraded += 1
        if program.store is not None and _hits.count == 0:
            try:
                program.store()
            except Exception:  # a read-only cache: the program still runs
                pass

    with _lock:
        _upgrades.add(_warm_pool.submit(work))
        _upgrades.difference_update([f for f in _upgrades if f.done()])


def _split(args):
    """`(arrays, structure, statics)`: the array leaves of `args` (the program's
    inputs), the tree structure with a mask of which leaves are arrays, and the other
    leaves (part of the program's identity)."""
    leaves, treedef = jax.tree.flatten(args)
    mask = tuple(eqx.is_array(x) for x in leaves)
    arrays = [x for x, a in zip(leaves, mask) if a]
    statics = tuple(x for x, a in zip(leaves, mask) if not a)
    return arrays, (treedef, mask), statics


def _combine(arrays, structure, statics):
    treedef, mask = structure
    it_a, it_s = iter(arrays), iter(statics)
    return jax.tree.unflatten(treedef, [next(it_a) if a else next(it_s) for a in mask])


def _options_of(leaves, small) -> tuple:
    """The compiler options of a program (`gru_bif._compile`): in mode "auto" the
    quickest pipeline for a small system's program (`small`; by default: every input
    array has at most `SMALL_PROGRAM` elements)."""
    if small is None:
        small = all(np.size(x) <= SMALL_PROGRAM for x in leaves)
    return options_key(small=bool(small))


def _memory_key(fn, leaves, dyn_def, stat, options=()):
    avals = tuple((x.dtype, np.shape(x)) for x in leaves)
    return (fn, dyn_def, avals, stat, options)


def _build(fn, leaves, dyn_def, stat, options, fresh=False):
    skeleton = []

    def flat(*dyn_leaves):
        out = fn(*_combine(dyn_leaves, dyn_def, stat))
        leaves, out_def = jax.tree.flatten(out)
        skeleton.append(_skeleton(jax.tree.unflatten(out_def, range(len(leaves)))))
        return leaves

    if fresh:
        # a name no earlier compilation had: JAX's own persistent cache cannot answer
        # it with an executable loaded from disk (which could not be stored again)
        flat.__name__ = flat.__qualname__ = f"program_{os.urandom(8).hex()}"
    avals = [jax.ShapeDtypeStruct(np.shape(x), x.dtype) for x in leaves]
    lowered = jax.jit(flat).lower(*avals)
    _watch_cache_hits()
    _hits.count = 0
    executable = lowered.compile(compiler_options=dict(options) or None)
    # An executable that JAX's own persistent cache loaded cannot be serialised again
    # (seen with jaxlib 0.10.2 on CPU: the copy fails with "Function ... not found" when
    # run in another process): such a program is used, never stored.
    program = _Program(executable, skeleton[0], lapack="lapack" in lowered.as_text(),
                       storable=_hits.count == 0)
    upgrade = upgrade_options(options)
    if upgrade is not None:
        program.lowered, program.upgrade = lowered, upgrade
    return program


_hits = threading.local()


@functools.cache
def _watch_cache_hits() -> None:
    def listener(event, **kwargs):
        if event == "/jax/compilation_cache/cache_hits":
            _hits.count = getattr(_hits, "count", 0) + 1

    jax.monitoring.register_event_listener(listener)


def _skeleton(tree):
    """`tree` (leaves replaced by their positions) as nested lists and string-keyed
    dicts: a structure that survives JSON (outputs must be tuples, lists, dicts)."""
    if isinstance(tree, (tuple, list)):
        return [_skeleton(x) for x in tree]
    if isinstance(tree, dict):
        if not all(isinstance(k, str) for k in tree):
            raise TypeError("program outputs: dict keys must be strings")
        return {k: _skeleton(v) for k, v in tree.items()}
    if isinstance(tree, int):
        return tree
    raise TypeError(f"program outputs must be tuples, lists and dicts of arrays, not "
                    f"{type(tree).__name__}")


@functools.cache
def _prepare_runtime() -> None:
    """Load what compiled programs call into but only lowering loads: LAPACK's
    function table (a program with `eig` or `svd` loaded before any lowering in this
    process would otherwise call through null pointers)."""
    try:
        from jax._src.lax import linalg

        linalg.initialize_lapack()
    except Exception as e:  # noqa: BLE001 - without it, do not load programs at all
        raise RuntimeError(f"cannot prepare LAPACK for loaded programs ({e})") from e


def _load(path: pathlib.Path, key: str, n_in: int):
    from jax.experimental import serialize_executable

    blob = path.read_bytes()
    if not blob.startswith(_MAGIC):
        raise ValueError("not a program file")
    rest = blob[len(_MAGIC):]
    n = int.from_bytes(rest[:8], "little")
    header = json.loads(rest[8 : 8 + n])
    payload = rest[8 + n :]
    if header.get("key") != key or header.get("format") != _FORMAT:
        raise ValueError("written for another key")
    if hashlib.sha256(payload).hexdigest() != header.get("sha256"):
        raise ValueError("checksum mismatch")
    if header.get("n_in") != n_in:
        raise ValueError("wrong number of inputs")
    program = _Program(None, header["skeleton"], lapack=header.get("lapack", True))
    if program.lapack:
        _prepare_runtime()
    in_tree = jax.tree.structure((tuple(range(n_in)), {}))
    out_tree = jax.tree.structure(list(range(program.out_def.num_leaves)))
    program.executable = serialize_executable.deserialize_and_load(payload, in_tree, out_tree)
    return program


def _store(path: pathlib.Path, key: str, program: _Program, n_in: int) -> None:
    from jax.experimental import serialize_executable

    payload, _, _ = serialize_executable.serialize(program.executable)
    from ._io import write_atomic

    header = json.dumps({"format": _FORMAT, "key": key, "n_in": n_in,
                         "skeleton": program.skeleton, "lapack": program.lapack,
                         "sha256": hashlib.sha256(payload).hexdigest()}).encode()
    write_atomic(path, _MAGIC + len(header).to_bytes(8, "little") + header + payload)


def _get(fn, leaves, dyn_def, stat, name, options, build=True):
    """The program from disk, or compiled (and stored); with `build=False` only from
    disk (None when it is not there)."""
    key = None
    if _cache_dir is not None:
        key = _disk_key(name, _combine(leaves, dyn_def, stat), options)
    path = _cache_dir / f"{key}.prog" if key is not None else None
    if path is not None and path.exists():
        try:
            return _load(path, key, len(leaves))
        except Exception as e:  # a stale or corrupt file is recompiled, never trusted
            warnings.warn(f"gru_bif: recompiling a cached program ({e}); {path} replaced.",
                          stacklevel=4)
            try:
                path.unlink()
            except OSError:
                pass
    if not build:
        return None
    program = _build(fn, leaves, dyn_def, stat, options, fresh=path is not None)
    if path is not None:
        n_in = len(leaves)
        program.store = lambda: _store(path, key, program, n_in)
    if path is not None and program.storable:
        try:
            _store(path, key, program, len(leaves))
        except Exception as e:  # e.g. a read-only cache: the program still runs
            warnings.warn(f"gru_bif: could not write the program cache ({e}).", stacklevel=4)
    return program


def _program(fn, leaves, dyn_def, stat, name, background=False, small=None,
             options=None, pool=None):
    if options is None:
        options = _options_of(leaves, small)
    mkey = _memory_key(fn, leaves, dyn_def, stat, options)
    with _lock:
        program = _memory.get(mkey)
        future = _pending.get(mkey) if program is None else None
        if program is None and future is None and background:
            def work():
                try:
                    prog = _get(fn, leaves, dyn_def, stat, name, options)
                except BaseException:
                    with _lock:  # not sticky: the next call compiles (and raises) itself
                        _pending.pop(mkey, None)
                    raise
                _remember(mkey, prog)
                return prog

            _pending[mkey] = (pool or _pool).submit(work)
            return None
    if program is not None or background:
        return program
    if future is not None:
        return future.result()
    program = _get(fn, leaves, dyn_def, stat, name, options)
    _remember(mkey, program)
    return program


#: programs kept in memory (each holds compiled code and its memory mappings); the
#: oldest are dropped beyond this (they are reloaded from disk, or compiled again)
MAX_PROGRAMS = 512


def _remember(mkey, program):
    with _lock:
        _memory[mkey] = program
        _pending.pop(mkey, None)
        while len(_memory) > MAX_PROGRAMS:
            _memory.pop(next(iter(_memory)))


#: [(monotonic time, idle ticks, total ticks) of the last look, idle cores then]
_cpu_sample: list = []


def _idle_cores() -> "float | None":
    """Idle cores, on average, over the last interval of at least 0.1 s between two
    looks (from `/proc/stat`, Linux); None before there are two looks or without
    `/proc/stat`."""
    import time

    try:
        with open("/proc/stat") as fh:
            fields = fh.readline().split()[1:]
    except OSError:
        return None
    ticks = [int(v) for v in fields]
    idle, total = ticks[3] + (ticks[4] if len(ticks) > 4 else 0), sum(ticks)
    now = time.monotonic()
    with _lock:
        if not _cpu_sample:
            _cpu_sample[:] = [(now, idle, total), None]
        prev, last = _cpu_sample
        if now - prev[0] >= 0.1 and total > prev[2]:
            last = _cores() * (idle - prev[1]) / (total - prev[2])
            _cpu_sample[:] = [(now, idle, total), last]
    return last


_idle_cores()  # the first sample: a first call measures from the import on


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def spare_core() -> bool:
    """Whether a background compilation would find an idle core (at least two cores,
    and about one of them idle since the last look: from `/proc/stat` where there is
    one, else a load average below the number of cores minus one): on a busy machine
    it would only slow the main thread down."""
    cores = _cores()
    if cores < 2:
        return False
    idle = _idle_cores()
    if idle is not None:
        return idle >= 0.75
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = 0.0
    return load < cores - 1


def _label(fn, name):
    return name or f"{fn.__module__}.{fn.__qualname__}"


def compiled(fn, *args, name: "str | None" = None, small: "bool | None" = None):
    """Run the module-level function `fn(*args)` as a compiled program (see the module
    docstring) and return its outputs. `fn` returns tuples, lists and string-keyed dicts
    of arrays (returned as lists and dicts); `args` may hold arrays (the program's
    inputs) and anything hashable (static, part of the key)."""
    leaves, dyn_def, stat = _split(args)
    return _program(fn, leaves, dyn_def, stat, _label(fn, name), small=small)(leaves)


def prefetch(fn, *args, name: "str | None" = None, small: "bool | None" = None) -> bool:
    """Compile `fn`'s program for `args` (arrays or `jax.ShapeDtypeStruct`s) in a
    background thread; a later `compiled` call with the same shapes waits for it.
    Returns whether it was not compiled yet (False: it is in memory)."""
    args = jax.tree.map(
        lambda x: np.zeros(x.shape, x.dtype) if isinstance(x, jax.ShapeDtypeStruct) else x,
        args,
    )
    leaves, dyn_def, stat = _split(args)
    return _program(fn, leaves, dyn_def, stat, _label(fn, name), background=True,
                    small=small) is None


def warm(fn, *args, name: "str | None" = None):
    """The outputs of `fn(*args)` from its *warm* program, or None while there is none.

    A warm program is the whole of a call as one program compiled with XLA's full
    pipeline (`gru_bif._compile.warm_options`): seconds more to compile than the small
    quick-compiled programs a first call runs, but one dispatch and the fastest code
    when it runs. It is compiled in a background thread once the calls of its key after
    the first have taken `AMORTIZE_S` seconds (`settle`) and a core is spare
    (`spare_core`); the first time a key is asked for, a copy on disk (written by an
    earlier process) is loaded if there is one. Until it is ready the caller runs
    its quick programs: the two give the same results to rounding. Never in compile
    mode "fast"."""
    options = warm_options()
    if options is None:
        return None
    leaves, dyn_def, stat = _split(args)
    mkey = _memory_key(fn, leaves, dyn_def, stat, options)
    label = _label(fn, name)
    with _lock:
        program = _memory.get(mkey)
        asked = _asked.get(mkey, 0)
        if program is None:
            _asked[mkey] = asked + 1
            while len(_asked) > MAX_PROGRAMS:
                _asked.pop(next(iter(_asked)))
    if program is None and asked == 0 and _cache_dir is not None:
        program = _get(fn, leaves, dyn_def, stat, label, options, build=False)
        if program is not None:
            _remember(mkey, program)
    if program is None:
        # charged by `settle` at the end of this call; compiled once it has earned it
        _asking.now = (mkey, lambda: _program(fn, leaves, dyn_def, stat, label,
                                              background=True, options=options,
                                              pool=_warm_pool))
    return None if program is None else program(leaves)


def wait(timeout: "float | None" = None) -> None:
    """Wait for the programs compiling in the background (prefetched and warm ones)."""
    with _lock:
        futures = list(_pending.values()) + list(_upgrades)
    concurrent.futures.wait(futures, timeout=timeout)
