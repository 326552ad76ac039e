"""`Problem`: a vector field, its arguments, and which scalar of the arguments is the
continuation parameter.

A parameter is a *path* into the args pytree plus an optional index into the array found
there. It is written the same way in Python and on the command line:

- `"b"`: a dict key, a Module field, or the only leaf of that name anywhere in args;
- `"bh[0]"`, `"Uh[0,1]"`: an entry of a named array field;
- `"u[0]"`: an entry of the input (for GRU problems, `args["u"]`).

For anything else pass a `Param` built with `Param.from_path(...)` or your own
`AbstractParam` subclass (a small get/set object on the args pytree).
"""

import abc
import re
from collections.abc import Callable
from typing import Any

import equinox as eqx
import jax
import jax.numpy as jnp
import jax.tree_util as jtu

from ._custom_types import Args, Array, Scalar

_NAME_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(?:\[\s*([-0-9,\s]*)\s*\])?\s*$")


class AbstractParam(eqx.Module):
    """Selects one scalar of an args pytree: `get(args) -> scalar`, `set(args, value) ->
    args`. Implementations must be hashable (compared by value) so that two equal
    selectors do not cause a recompilation."""

    @abc.abstractmethod
    def get(self, args: Args) -> Scalar:
        """Return the selected scalar."""

    @abc.abstractmethod
    def set(self, args: Args, value: Scalar) -> Args:
        """Return a copy of `args` with the selected scalar replaced by `value`."""

    @property
    @abc.abstractmethod
    def label(self) -> str:
        """A human-readable name, e.g. for axis labels and JSON."""


def _child(node: Any, key: Any) -> Any:
    if isinstance(key, jtu.DictKey):
        return node[key.key]
    if isinstance(key, jtu.GetAttrKey):
        return getattr(node, key.name)
    if isinstance(key, jtu.SequenceKey):
        return node[key.idx]
    if isinstance(key, jtu.FlattenedIndexKey):
        return jtu.tree_leaves(node)[key.key]
    raise ValueError(f"Unsupported pytree key {key!r} in a parameter path.")


def _key_name(key: Any) -> str | None:
    if isinstance(key, jtu.DictKey):
        return str(key.key)
    if isinstance(key, jtu.GetAttrKey):
        return key.name
    return None


class Param(AbstractParam):
    """A parameter given by a pytree key path into args and an index into that leaf.

    **Arguments:**

    - `path`: a tuple of `jax.tree_util` keys (`DictKey`, `GetAttrKey`, `SequenceKey`)
        leading from args to one array leaf.
    - `index`: a tuple of ints indexing that leaf (empty for a scalar leaf).
    - `name`: the label used in plots and JSON.
    """

    path: tuple = eqx.field(static=True)
    index: tuple[int, ...] = eqx.field(static=True)
    name: str = eqx.field(static=True)

    def _leaf(self, args: Args) -> Any:
        node = args
        for key in self.path:
            node = _child(node, key)
        return node

    def get(self, args: Args) -> Scalar:
        leaf = jnp.asarray(self._leaf(args))
        return leaf[self.index] if self.index else leaf.reshape(())

    def set(self, args: Args, value: Scalar) -> Args:
        def replace(leaf):
            leaf = jnp.asarray(leaf)
            value_ = jnp.asarray(value, dtype=leaf.dtype)
            if self.index:
                return leaf.at[self.index].set(value_)
            return jnp.reshape(value_, leaf.shape)

        return eqx.tree_at(self._leaf, args, replace_fn=replace)

    @property
    def label(self) -> str:
        return self.name

    @classmethod
    def from_name(cls, args: Args, name: str) -> "Param":
        """Resolve a name like `"b"`, `"bh[0]"`, `"Uh[0,1]"`, `"u[0]"` or `"gru.bh[1]"`
        against `args`. Raises `ValueError` naming the available names on failure."""
        m = _NAME_RE.match(name)
        if m is None:
            raise ValueError(
                f"Cannot parse parameter name {name!r}. Use `key`, `key[i]` or "
                "`key[i,j]`, e.g. 'b', 'bh[0]', 'Uh[0,1]', 'u[0]'."
            )
        dotted, index_str = m.group(1), m.group(2)
        index = (
            tuple(int(s) for s in index_str.split(",") if s.strip())
            if index_str is not None
            else ()
        )
        parts = dotted.split(".")
        leaves_with_path = jtu.tree_flatten_with_path(args)[0]
        matches = []
        for path, leaf in leaves_with_path:
            names = [_key_name(k) for k in path]
            # match a suffix of named keys
            if len(names) >= len(parts) and names[len(names) - len(parts) :] == parts:
                matches.append((path, leaf))
        if not matches:
            available = _short_names(
                [[n for n in (_key_name(k) for k in p) if n is not None]
                 for p, _ in leaves_with_path])
            raise ValueError(
                f"Unknown parameter {name!r}: no entry called {dotted!r} in args. "
                f"Available names: {available}."
            )
        if len(matches) > 1:
            full = [
                ".".join(n for n in (_key_name(k) for k in p) if n is not None)
                for p, _ in matches
            ]
            raise ValueError(
                f"Parameter name {dotted!r} is ambiguous: it matches {full}. Use a dotted "
                "path to pick one."
            )
        path, leaf = matches[0]
        shape = jnp.shape(leaf)
        if len(index) != len(shape):
            if not index and shape in {(1,)}:
                index = (0,)
            else:
                raise ValueError(
                    f"Parameter {name!r}: the entry {dotted!r} has shape {shape}, so it "
                    f"needs {len(shape)} indices (e.g. '{dotted}"
                    f"[{','.join('0' * len(shape))}]'), got {len(index)}."
                    if shape
                    else f"Parameter {name!r}: {dotted!r} is a scalar; drop the index."
                )
        for i, (k, n) in enumerate(zip(index, shape)):
            if not -n <= k < n:
                raise ValueError(
                    f"Parameter {name!r}: index {k} out of range for axis {i} of "
                    f"{dotted!r} with shape {shape}."
                )
        index = tuple(k % n for k, n in zip(index, shape))
        return cls(path=tuple(path), index=index, name=name.strip())


def _short_names(paths: list) -> list:
    """The shortest dotted suffix of each path that no other path ends with (what a
    user types: `"bh"` rather than `"gru.bh"`), sorted and without duplicates."""
    full = [tuple(p) for p in paths if p]
    out = set()
    for p in full:
        for k in range(1, len(p) + 1):
            suffix = p[-k:]
            if sum(1 for q in full if q[-k:] == suffix) == 1 or k == len(p):
                out.add(".".join(suffix))
                break
    return sorted(out)


def _as_array_leaves(args: Args) -> Args:
    """Turn Python and NumPy numbers into JAX arrays so that jit treats them as traced
    (no recompilation when only values change)."""

    def convert(x):
        if isinstance(x, bool):
            return x
        if isinstance(x, (int, float)):
            return jnp.asarray(x, dtype=jnp.result_type(float))
        if hasattr(x, "dtype") and hasattr(x, "shape") and not isinstance(x, jax.Array):
            arr = jnp.asarray(x)
            if jnp.issubdtype(arr.dtype, jnp.integer):
                arr = arr.astype(jnp.result_type(float))
            return arr
        return x

    return jtu.tree_map(convert, args)


class VectorField(eqx.Module):
    """A user's vector field `fn(t, x, args)` whose result is always a JAX array (a
    field written to return a list or a tuple of numbers works as well). Equal when the
    wrapped functions are equal, so it does not cause recompilation."""

    fn: Callable

    def __call__(self, t, x, args):
        out = self.fn(t, x, args)
        if isinstance(out, (list, tuple)):
            out = jnp.stack([jnp.asarray(v) for v in out])
        return jnp.asarray(out)


def field_function(f: Callable) -> Callable:
    """The user's function inside a `VectorField` (else `f` itself): for identity
    checks such as `field_function(problem.f) is gru_vector_field`."""
    return f.fn if isinstance(f, VectorField) else f


class Problem(eqx.Module):
    """A one-parameter family of vector fields `x' = f(t, x, args)`.

    **Arguments:**

    - `f`: the vector field with Diffrax's signature `f(t, x, args) -> dx/dt` (an
        array, or a list of numbers). Pass a function defined once (at module level) or
        an `equinox.Module`: a new lambda per call is a new static value and triggers
        recompilation. A plain function is kept as `VectorField(f)` (`problem.f.fn` is
        your function).
    - `args`: any pytree; numeric leaves are turned into JAX arrays.
    - `param`: which scalar of `args` is the parameter: a name (`"b"`, `"bh[0]"`,
        `"Uh[0,1]"`, `"u[0]"`) or an `AbstractParam`.

    `problem.p` is the current parameter value, `problem.with_p(p)` a copy at another
    value, and `problem.F(x, p)` the vector field at time 0.
    """

    f: Callable
    args: Args
    param: AbstractParam = eqx.field(static=True)

    def __init__(self, f: Callable, args: Args, param: "str | AbstractParam"):
        if not callable(f):
            raise ValueError(
                f"`f` must be a callable f(t, x, args); got {type(f).__name__}."
            )
        args = _as_array_leaves(args)
        if isinstance(param, str):
            param = Param.from_name(args, param)
        elif not isinstance(param, AbstractParam):
            raise ValueError(
                "`param` must be a name such as 'b' or 'bh[0]', or a "
                f"gru_bif.AbstractParam; got {type(param).__name__}."
            )
        self.f = f if isinstance(f, (VectorField, eqx.Module)) else VectorField(f)
        self.args = args
        self.param = param

    @property
    def p(self) -> Scalar:
        return self.param.get(self.args)

    @property
    def state_size(self) -> "int | None":
        """The state dimension `d` where the problem knows it (a GRU problem: the
        hidden size), else `None` (a plain vector field says nothing of its `d`)."""
        if isinstance(self.args, dict) and "gru" in self.args:
            size = getattr(self.args["gru"], "hidden_size", None)
            if isinstance(size, int):
                return size
        return None

    def with_p(self, p) -> "Problem":
        return eqx.tree_at(lambda pr: pr.args, self, self.param.set(self.args, p))

    def with_args(self, args: Args) -> "Problem":
        return eqx.tree_at(lambda pr: pr.args, self, _as_array_leaves(args))

    def F(self, x: Array, p: Scalar) -> Array:
        """The vector field at state `x` and parameter value `p` (time 0)."""
        return self.f(0.0, x, self.param.set(self.args, p))

    @classmethod
    def from_gru(cls, gru, param: "str | AbstractParam", u=None) -> "Problem":
        """A problem for a continuous-time GRU with constant input `u` (zeros of the
        input size if omitted). Weights are addressed by name (`"bh[0]"`, `"Uh[0,1]"`)
        and inputs as `"u[i]"`; gradients flow to every weight."""
        from .models.gru import gru_vector_field

        dtype = jnp.result_type(gru.Uh)
        if u is None:
            u = jnp.zeros((gru.input_size,), dtype)  # the weights' precision
        u = jnp.asarray(u)
        if u.shape != (gru.input_size,):
            raise ValueError(
                f"Input `u` has shape {u.shape}; this GRU has input size "
                f"{gru.input_size}, so pass an array of shape ({gru.input_size},)."
            )
        return cls(gru_vector_field, {"gru": gru, "u": u}, param)
