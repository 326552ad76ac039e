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

`switch_period_doubling(cp, branch, k)` starts the doubled cycles at a located period
doubling; `period_doubling_cascade(cp, u0, levels=4, p_min=..., p_max=...)` repeats it
along a cascade and reports the PD values and Feigenbaum's ratios.

`continue_cycles` adapts the mesh every few steps, measures steps in the orbit's
integral norm and locates the Hopf point, homoclinic orbit or SNIC that ends the
branch; `gru_bif.continuation(cp, ...)` continues on the fixed mesh of `cp`.
"""


from .._lazy import lazy_exports

#: public name -> (module, attribute), imported on first use
_LAZY = {
    "CycleBranchEnd": (".adaptive", "CycleBranchEnd"),
    "continue_cycles": (".adaptive", "continue_cycles"),
    "CollocationProblem": (".collocation", "CollocationProblem"),
    "CycleBranch": (".views", "CycleBranch"),
    "adapt_mesh": (".mesh", "adapt_mesh"),
    "correct_cycle": (".collocation", "correct_cycle"),
    "node_times": (".collocation", "node_times"),
    "uniform_mesh": (".collocation", "uniform_mesh"),
    "floquet_multipliers": (".floquet", "floquet_multipliers"),
    "monodromy": (".floquet", "monodromy"),
    "monodromy_by_integration": (".floquet", "monodromy_by_integration"),
    "nontrivial_multipliers": (".floquet", "nontrivial_multipliers"),
    "check_cycles": (".diagnose", "check_cycles"),
    "CycleCheck": (".diagnose", "CycleCheck"),
    "cycle_amplitude": (".differentiate", "cycle_amplitude"),
    "cycle_bifurcation_point": (".differentiate", "cycle_bifurcation_point"),
    "cycle_extrema": (".differentiate", "cycle_extrema"),
    "cycle_multipliers": (".differentiate", "cycle_multipliers"),
    "cycle_period": (".differentiate", "cycle_period"),
    "cycle_point": (".differentiate", "cycle_point"),
    "LPCCurveProblem": (".lpc_curve", "LPCCurveProblem"),
    "lpc_curve": (".lpc_curve", "lpc_curve"),
    "lpc_from_bautin": (".lpc_curve", "lpc_from_bautin"),
    "lpc_parameters": (".lpc_curve", "lpc_parameters"),
    "ShootingProblem": (".shooting", "ShootingProblem"),
    "shooting_from_collocation": (".shooting", "shooting_from_collocation"),
    "shooting_multipliers": (".shooting", "shooting_multipliers"),
    "cycle_from_hopf": (".start", "cycle_from_hopf"),
    "FEIGENBAUM_DELTA": (".doubling", "FEIGENBAUM_DELTA"),
    "PeriodDoublingCascade": (".doubling", "PeriodDoublingCascade"),
    "pd_eigenfunction": (".doubling", "pd_eigenfunction"),
    "period_doubling_cascade": (".doubling", "period_doubling_cascade"),
    "refine_period_doubling": (".doubling", "refine_period_doubling"),
    "switch_period_doubling": (".doubling", "switch_period_doubling"),
    "cycle_from_simulation": (".start", "cycle_from_simulation"),
}
__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
__all__ = sorted(_LAZY)
