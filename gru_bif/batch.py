"""Many systems at once: a function of one system, vmapped over a batch, compiled once,
and — given a `jax.sharding.Mesh` — split over devices.

The library's functions (`continuation`, `find_equilibria` with a fixed capacity, the
located-point and loss functions) are written for one system and work under `jax.vmap`.
`batched(fn, mesh=...)` is the one place where a batch meets devices:

- without a mesh it is `jax.jit(jax.vmap(fn))`;
- with a mesh, the batch axis is split over the mesh's devices and every device runs
  the vmapped function on its own shard (`jax.shard_map`); each device's `while_loop`s
  stop when *its* systems are done, with no cross-device traffic per step. The batch
  is padded to a multiple of the number of devices (with copies of its last entry) and
  the padding is removed from the outputs, so any batch size works.

Nothing else changes in user code: the same `fn`, the same outputs, on 1 or 1000
devices. On several hosts, call `jax.distributed.initialize()` first (once per
process; `gru_bif.distributed.initialize`), build the mesh over `jax.devices()` (all
hosts' devices: `gru_bif.distributed.global_mesh()`) and give every process the same
global inputs; the outputs are then NumPy arrays, the same on every process. See the
README's "Many systems, many devices" section.

!!! example

    ```python
    import jax, numpy as np
    from jax.sharding import Mesh

    def diagram(gru):
        branch = gru_bif.continuation(gru_bif.Problem.from_gru(gru, "bh[0]"),
                                      jnp.zeros(2), -1.0, p_min=-1, p_max=1, throw=False)
        return branch.special                         # fixed-size arrays

    keys = jax.random.split(jax.random.PRNGKey(0), 10_000)
    grus = jax.vmap(lambda k: gru_bif.GRU.random(k, 2, bias_scale=0.3))(keys)  # a batch
    mesh = Mesh(np.array(jax.devices()), ("batch",))
    special = gru_bif.batched(diagram, mesh=mesh)(grus)   # leading axis 10_000
    ```
"""

from __future__ import annotations

from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec

from ._compile import jit
from .distributed import gather, is_multiprocess

__all__ = ["batched", "batch_size", "pad_batch", "shard_batch"]


def _axes(args: tuple, in_axes) -> tuple:
    axes = in_axes if isinstance(in_axes, (tuple, list)) else (in_axes,) * len(args)
    if len(axes) != len(args):
        raise ValueError(
            f"in_axes has {len(axes)} entries for {len(args)} arguments; give one per "
            "argument (0: batched along the leading axis, None: shared) or a single one."
        )
    for ax in axes:
        if ax not in (0, None):
            raise ValueError(
                f"batched supports in_axes of 0 or None per argument, got {ax!r}; move "
                "the batch axis to the front (jnp.moveaxis) first."
            )
    return tuple(axes)


def batch_size(args: tuple, in_axes=0) -> int:
    """The common length of the leading axis of the batched arguments (raises if the
    lengths differ)."""
    sizes = set()
    for a, ax in zip(args, _axes(args, in_axes)):
        if ax is not None:
            for leaf in jax.tree.leaves(a):
                if np.ndim(leaf) == 0:
                    raise ValueError(
                        "A batched argument has a scalar leaf; every leaf of a batched "
                        "argument needs the batch as its leading axis (or pass that "
                        "argument with in_axes None)."
                    )
                sizes.add(int(np.shape(leaf)[0]))
    if not sizes:
        raise ValueError("No batched argument: pass at least one array with a batch axis.")
    if len(sizes) > 1:
        raise ValueError(
            f"Batched arguments disagree on the batch size: {sorted(sizes)}. Every batched "
            "leaf needs the same length along its leading axis."
        )
    return sizes.pop()


def pad_batch(x, n_pad: int):
    """Append `n_pad` copies of the last entry along the leading axis (on the host when
    several processes take part: every process then holds the same global input)."""
    xp = np if is_multiprocess() else jnp
    x = xp.asarray(x)
    if n_pad == 0:
        return x
    return xp.concatenate([x, xp.repeat(x[-1:], n_pad, axis=0)], axis=0)


def shard_batch(tree, mesh: Mesh, *, axis_name: str | None = None):
    """Place every array leaf of `tree` on `mesh`, its leading axis split over the mesh
    axis `axis_name` (default: the mesh's first axis). The leading size must be a
    multiple of the number of devices on that axis (`batched` pads for you)."""
    name = axis_name or mesh.axis_names[0]
    sharding = NamedSharding(mesh, PartitionSpec(name))
    # several processes: each gives the same host array and keeps its own devices' rows
    as_array = np.asarray if is_multiprocess() else jnp.asarray
    return jax.tree.map(lambda x: jax.device_put(as_array(x), sharding), tree)


def _chunked(fn: Callable, in_axes, chunk_size: int) -> Callable:
    """`jax.vmap(fn, in_axes)` evaluated in consecutive chunks of `chunk_size`."""

    def run(*args):
        axes = _axes(args, in_axes)
        batched_args = tuple(a for a, ax in zip(args, axes) if ax is not None)

        def one(bs):
            it = iter(bs)
            return fn(*(next(it) if ax is not None else a for a, ax in zip(args, axes)))

        return jax.lax.map(one, batched_args, batch_size=chunk_size)

    return run


def batched(
    fn: Callable,
    *,
    mesh: Mesh | None = None,
    in_axes=0,
    axis_name: str | None = None,
    mode: str = "auto",
    chunk_size: int | None = None,
) -> Callable:
    """`fn` of one system, as a compiled function of a batch of systems.

    **Arguments:**

    - `fn`: a function of one system's arguments, returning a pytree of arrays (e.g. a
        `Branch`, its `special` points, an `Equilibria` with a fixed capacity, a loss).
        It must be vmappable: no Python control flow on values, fixed output shapes.
    - `mesh`: optional `jax.sharding.Mesh`. Given, the batch is split over the devices
        of its axis `axis_name` (default: its first axis) and each device runs
        `jax.vmap(fn)` on its shard (`jax.shard_map`). Without it:
        `jax.jit(jax.vmap(fn))` on the default device.
    - `in_axes`: `0` (every leaf batched along its leading axis) or `None` (shared by
        every system), for all arguments or one per argument.
    - `mode` (with a mesh): `"shard_map"` — every device runs its own vmapped loops
        (fastest: no cross-device step); `"jit"` — `jax.jit` of the vmapped function on
        inputs sharded over the mesh (XLA partitions the batch; loops advance in
        lockstep across devices); `"auto"` (default) — `"shard_map"`, falling back to
        `"jit"` for functions that cannot be traced under `shard_map` (lineax and
        optimistix solvers, as in `find_equilibria`, cannot at present). The mode used
        is recorded on the returned function's `.mode_used` after the first call.
    - `chunk_size`: optional. Run each device's batch as consecutive chunks of this many
        systems (`jax.lax.map(..., batch_size=chunk_size)`) instead of one vmap over all
        of it. On a CPU, large batches overflow the caches: 10,000 2-D GRU diagrams took
        0.74 ms each in one vmap and 0.34 ms each in chunks of 1,000 (see
        `benchmarks/RESULTS.md`). On a GPU, leave it `None` unless memory runs short.

    **Returns:** a function of the batched arguments whose outputs have the batch as
    their leading axis, equal (to rounding) to `fn` applied to each system in turn.
    Compiled once per batch size and device layout.
    """
    if mesh is not None and not isinstance(mesh, Mesh):
        raise TypeError(
            f"mesh must be a jax.sharding.Mesh, got {type(mesh).__name__}; build one "
            "with Mesh(np.array(jax.devices()), ('batch',))."
        )
    if mode not in ("auto", "shard_map", "jit"):
        raise ValueError(f"mode must be 'auto', 'shard_map' or 'jit', got {mode!r}.")
    if not isinstance(in_axes, (tuple, list)) and in_axes not in (0, None):
        _axes((None,), in_axes)  # raises the message
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(f"chunk_size must be a positive int or None, got {chunk_size!r}.")
    if chunk_size is None:
        vfn = jax.vmap(fn, in_axes=tuple(in_axes) if isinstance(in_axes, list) else in_axes)
    else:
        vfn = _chunked(fn, in_axes, chunk_size)
    if mesh is None:
        return jit(vfn)

    name = axis_name or mesh.axis_names[0]
    if name not in mesh.axis_names:
        raise ValueError(f"axis_name {name!r} is not an axis of the mesh {mesh.axis_names}.")
    n_dev = int(mesh.shape[name])
    cache: dict = {}
    jitted = jit(vfn)

    def run(*args):
        axes = _axes(args, in_axes)
        n = batch_size(args, axes)
        n_pad = -(-n // n_dev) * n_dev - n
        placed = tuple(
            a if ax is None else shard_batch(jax.tree.map(lambda x: pad_batch(x, n_pad), a), mesh,
                                             axis_name=name)
            for a, ax in zip(args, axes)
        )
        in_specs = tuple(PartitionSpec() if ax is None else PartitionSpec(name) for ax in axes)
        out = None
        if run.mode_used in ("auto", "shard_map"):
            if in_specs not in cache:
                # check_vma=False: the systems are independent, so nothing crosses
                # devices; the library's loops carry device-invariant constants
                # (counters, flags) next to device-varying data, which the check rejects.
                f = jit(jax.shard_map(vfn, mesh=mesh, in_specs=in_specs,
                                          out_specs=PartitionSpec(name), check_vma=False))
                try:
                    f.lower(*placed)  # trace once: does `fn` trace under shard_map?
                except (ValueError, TypeError, RuntimeError):
                    # The documented fallback of mode "auto": tracing under `shard_map`
                    # fails for some functions (lineax / optimistix solves raise one of
                    # these); the partitioned `jit` below traces them. Only tracing is
                    # tried here, so errors of the computation itself are never hidden.
                    if mode == "shard_map":
                        raise
                    f = None
                cache[in_specs] = f
            f = cache[in_specs]
            if f is not None:
                out = f(*placed)
                run.mode_used = "shard_map"
            else:
                run.mode_used = "jit"
        if out is None:
            out = jitted(*placed)
        if is_multiprocess():  # spread over processes: every process gets all of it
            out = gather(out)
        if n_pad:
            out = jax.tree.map(lambda x: x[:n], out)
        return out

    run.mode_used = mode
    return run
