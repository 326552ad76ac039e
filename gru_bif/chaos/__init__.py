"""Chaos: Lyapunov spectra of trajectories (Benettin's method with Diffrax) and chaos
maps over parameter grids.

- [`gru_bif.chaos.lyapunov_spectrum`][]: the `k` largest exponents of one trajectory,
    with a convergence estimate; `jit`/`vmap`/`grad`-safe.
- [`gru_bif.chaos.largest_lyapunov`][]: `λ1` as a differentiable scalar.
- [`gru_bif.chaos.chaos_map`][]: `λ1` (or more) over a grid of parameters, vmapped in
    chunks, with a "chaotic" mask.
- `lorenz_field`, `LORENZ_PARAMS`, `LORENZ_SPECTRUM`: the reference chaotic system.
- `chaotic_gru(3)`, `chaotic_gru(4)`, `CHAOTIC_GRU_X0`: continuous-time GRUs with chaotic
    attractors (λ1 ≈ 0.054 and 0.118), found with `chaos_map`.
"""

from ._networks import (
    CHAOTIC_GRU_X0 as CHAOTIC_GRU_X0,
    chaotic_gru as chaotic_gru,
)
from ._systems import (
    LORENZ_PARAMS as LORENZ_PARAMS,
    LORENZ_SPECTRUM as LORENZ_SPECTRUM,
    lorenz_field as lorenz_field,
)
from .lyapunov import (
    largest_lyapunov as largest_lyapunov,
    LyapunovSpectrum as LyapunovSpectrum,
    lyapunov_spectrum as lyapunov_spectrum,
    RESULTS as RESULTS,
)
from .maps import ChaosMap as ChaosMap, chaos_map as chaos_map
