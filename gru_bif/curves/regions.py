"""Regions of a two-parameter plane by the number of equilibria (and of stable ones):
the picture that fold and Hopf curves bound, computed on a grid by `find_equilibria`."""

import jax
import jax.numpy as jnp
import numpy as np

from .._compile import jit
from ..equilibria import find_equilibria
from .base import resolve_param2


def region_counts(problem, param2, p1s, p2s, *, guesses=None, max_equilibria: int = 16):
    """Equilibria on the grid `p1s × p2s` (first parameter: `problem.param`):
    `(number, number stable)`, each of shape `(len(p2s), len(p1s))`, from one vmapped
    `find_equilibria` per grid row. `guesses` default: a 7^d grid in `(−1, 1)^d`
    (enough for GRUs, whose equilibria lie in the cube)."""
    param2 = resolve_param2(problem, param2)
    d = None
    if guesses is None:
        for dd in range(1, 65):
            try:
                out = jax.eval_shape(lambda y: problem.F(y, problem.p), jnp.zeros((dd,)))
            except Exception:  # noqa: BLE001
                continue
            if out.shape == (dd,):
                d = dd
                break
        g = np.linspace(-0.95, 0.95, 7)
        guesses = np.stack(np.meshgrid(*([g] * d), indexing="ij"), -1).reshape(-1, d)
    guesses = jnp.asarray(guesses, jnp.result_type(float))

    def at(p1, p2):
        args = param2.set(problem.param.set(problem.args, p1), p2)
        eq = find_equilibria(problem.f, args, guesses, max_equilibria=max_equilibria,
                             throw=False)
        stable = jnp.all(eq.eigenvalues.real < 0, axis=-1) & eq.valid
        return eq.count, jnp.sum(stable)

    P1, P2 = np.meshgrid(np.asarray(p1s, float), np.asarray(p2s, float))
    run = jit(jax.vmap(at))
    n, s = run(jnp.asarray(P1.ravel()), jnp.asarray(P2.ravel()))
    return np.asarray(n).reshape(P1.shape), np.asarray(s).reshape(P1.shape)
