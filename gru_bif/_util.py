"""Small helpers shared by every floor of the library (imported from anywhere, they
import nothing of gru_bif): stopping gradients through a pytree, telling concrete
values from tracers, and the default tolerances."""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np


def stop_gradient_tree(tree):
    """`tree` with `jax.lax.stop_gradient` applied to every array leaf (other leaves,
    e.g. static fields and callables, pass through). Used where a computation is
    deliberately not differentiated: the continuation loop, normal-form data, borders."""
    return jax.tree.map(lambda a: jax.lax.stop_gradient(a) if eqx.is_array(a) else a, tree)


def concrete(x):
    """`x` as a NumPy array when it is concrete, `None` when it is a tracer (inside
    `jit`/`vmap`/`grad`, where checks become run-time result codes instead)."""
    try:
        return np.asarray(x)
    except Exception:  # a tracer
        return None


def is_concrete(tree) -> bool:
    """Whether no leaf of `tree` is a JAX tracer."""
    return not any(isinstance(x, jax.core.Tracer) for x in jax.tree.leaves(tree))


def default_tol(dtype) -> float:
    """The default Newton tolerance of continuation in `dtype`: `1e-10` in float64,
    `1e-5` in float32."""
    return 1e-10 if jnp.finfo(dtype).bits >= 64 else 1e-5
