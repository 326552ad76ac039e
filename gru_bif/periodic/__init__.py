"""Periodic orbits: collocation problems for the continuation engine, Floquet
multipliers, and starting cycles from Hopf points or simulations.

!!! example

    ```python
    from gru_bif.periodic import continue_cycles, cycle_from_hopf

    eq = gru_bif.continuation(problem, x0, p0, p_min=-1, p_max=1)
    cp, u0 = cycle_from_hopf(problem, eq, dp=1e-3)
    cycles = continue_cycles(cp, u0, p_min=-1, p_max=1)   # a CycleBranch
    cycles.period, cycles.x_min, cycles.x_max, cycles.orbit(i), cycles.end
    ```

`continue_cycles` adapts the mesh every few steps, measures steps in the orbit's
integral norm and locates the Hopf point, homoclinic orbit or SNIC that ends the
branch; `gru_bif.continuation(cp, ...)` continues on the fixed mesh of `cp`.
"""

from .adaptive import (
    CycleBranchEnd as CycleBranchEnd,
    continue_cycles as continue_cycles,
)
from .collocation import (
    CollocationProblem as CollocationProblem,
    CycleBranch as CycleBranch,
    adapt_mesh as adapt_mesh,
    correct_cycle as correct_cycle,
    node_times as node_times,
    uniform_mesh as uniform_mesh,
)
from .floquet import (
    floquet_multipliers as floquet_multipliers,
    monodromy as monodromy,
    monodromy_by_integration as monodromy_by_integration,
    nontrivial_multipliers as nontrivial_multipliers,
)
from .diagnose import (
    check_cycles as check_cycles,
    CycleCheck as CycleCheck,
)
from .differentiate import (
    cycle_amplitude as cycle_amplitude,
    cycle_bifurcation_point as cycle_bifurcation_point,
    cycle_extrema as cycle_extrema,
    cycle_multipliers as cycle_multipliers,
    cycle_period as cycle_period,
    cycle_point as cycle_point,
)
from .lpc_curve import (
    LPCCurveProblem as LPCCurveProblem,
    lpc_curve as lpc_curve,
    lpc_from_bautin as lpc_from_bautin,
    lpc_parameters as lpc_parameters,
)
from .shooting import (
    ShootingProblem as ShootingProblem,
    shooting_from_collocation as shooting_from_collocation,
    shooting_multipliers as shooting_multipliers,
)
from .start import (
    cycle_from_hopf as cycle_from_hopf,
    cycle_from_simulation as cycle_from_simulation,
)
