"""Classic low-dimensional test systems with cycle bifurcations (no closed forms: their
reference values are computed independently in the tests).

- Rössler: `x' = −y − z`, `y' = x + a y`, `z' = b + z (x − c)`. For `a = b = 0.2` the
    period-1 cycle (period ≈ 5.8 at `c = 2.5`) loses stability in a period doubling
    near `c ≈ 2.8324` (the first step of the cascade to the chaotic attractor at
    `c = 5.7`).
"""

import jax.numpy as jnp

ROSSLER_PARAMS = {"a": 0.2, "b": 0.2, "c": 2.5}


def rossler_field(t, x, args):
    """The Rössler system; `args`: dict with `a`, `b`, `c` (default values
    `ROSSLER_PARAMS`)."""
    a, b, c = args["a"], args["b"], args["c"]
    return jnp.stack([-x[1] - x[2], x[0] + a * x[1], b + x[2] * (x[0] - c)])
