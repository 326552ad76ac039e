"""Equilibria from many starts, their classification, and slow points.

- [`gru_bif.find_equilibria`][]: root finding from thousands of starts in one vmapped
  call (optimistix's Newton, falling back to the trust-region Dogleg where Newton
  fails), a Newton polish on the true vector field, a residual check, deduplication,
  Jacobians, eigenvalues and a type for each point.
- [`gru_bif.classify`][]: the type of an equilibrium from its Jacobian.
- [`gru_bif.find_slow_points`][]: local minima of the speed `q(x) = |f(x)|²/2`
  (Sussillo & Barak 2013), both true zeros and "ghosts" where the flow is slow.

For a GRU the root finder works on `ĥ(h) − h` instead of the vector field
`(1 − z) ⊙ (ĥ − h)`: the zeros are the same (`1 − z > 0`), but where the update gate
saturates (`1 − z ≈ 0`, common in wide trained networks) the full field is nearly flat
and Newton-type methods stall on it. The residual that decides whether a point is an
equilibrium is always the true vector field's.
"""

from .classify import (
    classify as classify,
    INVALID as INVALID,
    NON_HYPERBOLIC as NON_HYPERBOLIC,
    SADDLE as SADDLE,
    STABLE_FOCUS as STABLE_FOCUS,
    STABLE_NODE as STABLE_NODE,
    UNSTABLE_FOCUS as UNSTABLE_FOCUS,
    UNSTABLE_NODE as UNSTABLE_NODE,
    classify_eigenvalues as classify_eigenvalues,
    EQUILIBRIUM_TYPES as EQUILIBRIUM_TYPES,
    kind_name as kind_name,
)
from .find import (
    DampedNewton as DampedNewton,
    default_solvers as default_solvers,
    find_equilibria as find_equilibria,
)
from .results import Equilibria as Equilibria, SlowPoints as SlowPoints
from .slow import find_slow_points as find_slow_points
