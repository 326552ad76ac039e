"""Fingerprints of programs for the disk cache of `gru_bif._programs`: a key that
changes whenever anything that determines a compiled program changes — the code of
the functions inside its arguments (bytecode, constants, closures and the globals they
read, recursively), the array shapes and dtypes, the program's name and options,
gru_bif's source, the versions of jax, jaxlib, numpy and the JAX libraries, the device
and CPU, `XLA_FLAGS` and the x64 flag. What it cannot see through (an object of an
unknown class, a user's module) makes the program uncacheable (`None`)."""

import functools
import hashlib
import importlib.metadata
import json
import os
import pathlib
import platform
import types

import equinox as eqx
import jax
import numpy as np

#: the format of program files (part of every key)
FORMAT = 3


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
    return json.dumps([FORMAT, src.hexdigest(), versions, cpu, dev.platform,
                       dev.device_kind, jax.device_count(),
                       os.environ.get("XLA_FLAGS", ""),
                       bool(jax.config.read("jax_enable_x64"))])


def disk_key(name: str, args, options: tuple = ()) -> "str | None":
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
