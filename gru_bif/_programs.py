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
"""

import concurrent.futures
import functools
import hashlib
import importlib.metadata
import json
import os
import pathlib
import platform
import threading
import types
import warnings

import equinox as eqx
import jax
import numpy as np

from ._compile import SMALL_PROGRAM, options_key, warm_options

__all__ = ["set_program_cache", "program_cache_dir", "clear_program_cache", "cache_root",
           "default_program_cache", "compiled", "prefetch", "warm", "wait"]

_FORMAT = 3
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
#: how often each warm program's key was asked for (bounded like `_memory`)
_asked: dict = {}


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
    if disk and _cache_dir is not None:
        for f in _cache_dir.glob("*.prog"):
            try:
                f.unlink()
                removed += 1
            except OSError:
                pass
    return removed


# --------------------------------------------------------------------------- fingerprints
class _Uncacheable(Exception):
    pass


_TRUSTED = ("jax", "jaxlib", "numpy", "equinox", "lineax", "optimistix", "diffrax",
            "gru_bif", "math", "builtins", "operator", "functools", "cmath", "typing",
            "abc", "enum", "collections", "dataclasses", "jaxtyping")
_PLAIN = (type(None), bool, int, float, complex, str, bytes, type(Ellipsis))


def _trusted(module: "str | None") -> bool:
    return bool(module) and module.split(".")[0] in _TRUSTED


def _array_value(a) -> tuple:
    a = np.asarray(a)
    return ("const", a.dtype.str, a.shape, hashlib.sha256(a.tobytes()).hexdigest())


def _code(code: types.CodeType, memo, depth) -> tuple:
    consts = tuple(
        _code(c, memo, depth) if isinstance(c, types.CodeType) else _fp(c, memo, depth, False)
        for c in code.co_consts
    )
    return ("code", code.co_code.hex(), consts, code.co_names, code.co_varnames,
            code.co_freevars, code.co_argcount, code.co_kwonlyargcount, code.co_flags)


def _names(code: types.CodeType) -> set:
    out = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            out |= _names(c)
    return out


def _function(f: types.FunctionType, memo, depth) -> tuple:
    if _trusted(f.__module__):
        return ("lib", f.__module__, f.__qualname__)
    key = id(f)
    if key in memo:
        return ("recursive", f.__qualname__)
    memo[key] = True
    if depth > 20:
        raise _Uncacheable("functions nested too deeply")
    globs = {}
    for name in sorted(_names(f.__code__)):
        if name in f.__globals__:
            globs[name] = _fp(f.__globals__[name], memo, depth + 1, False)
    closure = tuple(
        _fp(c.cell_contents, memo, depth + 1, False) for c in (f.__closure__ or ())
    )
    return ("function", f.__qualname__, _code(f.__code__, memo, depth), globs, closure,
            _fp(f.__defaults__, memo, depth + 1, False),
            _fp(f.__kwdefaults__, memo, depth + 1, False))


def _fp(obj, memo, depth, arrays_dynamic):
    """A hashable description of `obj` that changes whenever the program built from it
    could. Arrays are described by shape and dtype where they are the program's inputs
    (`arrays_dynamic`), by value where they are constants (closures, globals)."""
    if isinstance(obj, _PLAIN):
        return (type(obj).__name__, repr(obj))
    if isinstance(obj, (np.ndarray, np.generic, jax.Array)):
        if arrays_dynamic and eqx.is_array(obj):
            return ("array", np.dtype(obj.dtype).str, tuple(obj.shape))
        if isinstance(obj, jax.core.Tracer):
            raise _Uncacheable("a traced value")
        return _array_value(obj)
    if isinstance(obj, (tuple, list)):
        return (type(obj).__name__, tuple(_fp(x, memo, depth, arrays_dynamic) for x in obj))
    if isinstance(obj, dict):
        items = sorted(obj.items(), key=lambda kv: repr(kv[0]))
        return ("dict", tuple((repr(k), _fp(v, memo, depth, arrays_dynamic)) for k, v in items))
    if isinstance(obj, types.ModuleType):
        if not _trusted(obj.__name__):
            raise _Uncacheable(f"module {obj.__name__}")
        return ("module", obj.__name__)
    if isinstance(obj, functools.partial):
        return ("partial", _fp(obj.func, memo, depth + 1, False),
                _fp(obj.args, memo, depth, arrays_dynamic),
                _fp(obj.keywords, memo, depth, arrays_dynamic))
    if isinstance(obj, types.FunctionType):
        return _function(obj, memo, depth)
    if isinstance(obj, types.MethodType):
        return ("method", _fp(obj.__func__, memo, depth + 1, False),
                _fp(obj.__self__, memo, depth + 1, arrays_dynamic))
    if isinstance(obj, type):
        if _trusted(obj.__module__):
            return ("class", obj.__module__, obj.__qualname__)
        return ("class", obj.__qualname__,
                tuple(_fp(b, memo, depth + 1, False) for b in obj.__bases__),
                tuple((k, _fp(v, memo, depth + 1, False)) for k, v in sorted(vars(obj).items())
                      if isinstance(v, (types.FunctionType, _PLAIN, property, staticmethod,
                                        classmethod))))
    if isinstance(obj, (property, staticmethod, classmethod)):
        return (type(obj).__name__, _fp(getattr(obj, "fget", None) or obj.__func__, memo,
                                        depth + 1, False))
    if isinstance(obj, eqx.Module) or hasattr(obj, "__dataclass_fields__"):
        cls = type(obj)
        stack = memo.setdefault("objects on the path", set())
        if id(obj) in stack:  # a cycle (e.g. a bound method's __self__)
            return ("cycle", cls.__qualname__)
        if depth > 60:
            raise _Uncacheable("objects nested too deeply")
        stack.add(id(obj))
        try:
            fields = tuple(
                (name, _fp(getattr(obj, name), memo, depth + 1, arrays_dynamic))
                for name in sorted(getattr(obj, "__dataclass_fields__", {}))
            )
        finally:
            stack.discard(id(obj))
        return ("object", _fp(cls, memo, depth + 1, False), fields)
    module = getattr(obj, "__module__", None) or type(obj).__module__
    if _trusted(module) and _trusted(type(obj).__module__):
        # library callables (ufuncs, jitted and custom-derivative functions, enum items)
        name = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
        if name is not None:
            return ("lib", module, name)
        if isinstance(obj, (np.dtype,)) or type(obj).__name__ in ("dtype",):
            return ("dtype", str(obj))
        r = repr(obj)
        if " at 0x" not in r:
            return ("repr", type(obj).__qualname__, r)
    raise _Uncacheable(f"an object of type {type(obj).__qualname__}")


@functools.cache
def _environment() -> str:
    src = hashlib.sha256()
    root = pathlib.Path(__file__).resolve().parent
    for f in sorted(root.rglob("*.py")):
        src.update(str(f.relative_to(root)).encode())
        src.update(f.read_bytes())
    versions = {}
    for dist in ("jax", "jaxlib", "numpy", "equinox", "lineax", "optimistix", "diffrax"):
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            versions[dist] = None
    cpu = platform.machine()
    try:
        for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("model name", "flags")):
                cpu += line
    except OSError:
        pass
    dev = jax.devices()[0]
    return json.dumps([_FORMAT, src.hexdigest(), versions, cpu, dev.platform,
                       dev.device_kind, jax.device_count(),
                       os.environ.get("XLA_FLAGS", ""),
                       bool(jax.config.read("jax_enable_x64"))])


def _disk_key(name: str, args, options: tuple = ()) -> "str | None":
    try:
        fp = _fp(args, {}, 0, True)
    except _Uncacheable:
        return None
    h = hashlib.sha256()
    h.update(_environment().encode())
    h.update(repr(options).encode())
    h.update(name.encode())
    h.update(repr(fp).encode())
    return h.hexdigest()


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

    def __call__(self, leaves):
        return jax.tree.unflatten(self.out_def, self.executable(*leaves))


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
    return _Program(executable, skeleton[0], lapack="lapack" in lowered.as_text(),
                    storable=_hits.count == 0)


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


def spare_core() -> bool:
    """Whether a background compilation would find an idle core (at least two cores,
    and a load average below the number of cores minus one): on a busy machine it
    would only slow the main thread down."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:
        cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except OSError:
        load = 0.0
    return cores >= 2 and load < cores - 1


def _label(fn, name):
    return name or f"{fn.__module__}.{fn.__qualname__}"


def compiled(fn, *args, name: "str | None" = None, small: "bool | None" = None):
    """Run the module-level function `fn(*args)` as a compiled program (see the module
    docstring) and return its outputs. `fn` returns tuples, lists and string-keyed dicts
    of arrays (returned as lists and dicts); `args` may hold arrays (the program's
    inputs) and anything hashable (static, part of the key)."""
    leaves, dyn_def, stat = _split(args)
    return _program(fn, leaves, dyn_def, stat, _label(fn, name), small=small)(leaves)


def prefetch(fn, *args, name: "str | None" = None, small: "bool | None" = None) -> None:
    """Compile `fn`'s program for `args` (arrays or `jax.ShapeDtypeStruct`s) in a
    background thread; a later `compiled` call with the same shapes waits for it."""
    args = jax.tree.map(
        lambda x: np.zeros(x.shape, x.dtype) if isinstance(x, jax.ShapeDtypeStruct) else x,
        args,
    )
    leaves, dyn_def, stat = _split(args)
    _program(fn, leaves, dyn_def, stat, _label(fn, name), background=True, small=small)


def warm(fn, *args, name: "str | None" = None):
    """The outputs of `fn(*args)` from its *warm* program, or None while there is none.

    A warm program is the whole of a call as one program compiled with XLA's full
    pipeline (`gru_bif._compile.warm_options`): seconds more to compile than the small
    quick-compiled programs a first call runs, but one dispatch and the fastest code
    when it runs. It is compiled in a background thread when its key is asked for a
    second time (a system called again is likely called many times) and a core is
    spare (`spare_core`); the first time a key is asked for, a copy on disk (written by
    an earlier process) is loaded if there is one. Until it is ready the caller runs
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
    elif program is None and asked >= 1 and spare_core():
        _program(fn, leaves, dyn_def, stat, label, background=True, options=options,
                 pool=_warm_pool)
    return None if program is None else program(leaves)


def wait(timeout: "float | None" = None) -> None:
    """Wait for the programs compiling in the background (prefetched and warm ones)."""
    with _lock:
        futures = list(_pending.values())
    concurrent.futures.wait(futures, timeout=timeout)
