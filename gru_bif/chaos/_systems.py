"""Reference chaotic systems with published Lyapunov spectra (used by the tests and the
benchmarks).

- Lorenz: `x' = σ (y − x)`, `y' = x (ρ − z) − y`, `z' = x y − β z`. At the classic
    parameters `σ = 10, ρ = 28, β = 8/3` its spectrum is about `(0.9056, 0, −14.5723)`
    (Sprott, *Chaos and Time-Series Analysis*, 2003; Viswanath 1998 gives `λ1 ≈ 0.9056`),
    and the sum is exactly the (constant) trace `−(σ + 1 + β) ≈ −13.6667`.
"""

import jax.numpy as jnp

LORENZ_PARAMS = {"sigma": 10.0, "rho": 28.0, "beta": 8.0 / 3.0}

#: Published spectrum at `LORENZ_PARAMS` (Sprott 2003), for comparison.
LORENZ_SPECTRUM = (0.9056, 0.0, -14.5723)


def lorenz_field(t, x, args):
    """The Lorenz system; `args`: dict with `sigma`, `rho`, `beta` (defaults
    `LORENZ_PARAMS`)."""
    sigma, rho, beta = args["sigma"], args["rho"], args["beta"]
    return jnp.stack(
        [sigma * (x[1] - x[0]), x[0] * (rho - x[2]) - x[1], x[0] * x[1] - beta * x[2]]
    )
