"""Two-parameter curves of equilibria's bifurcations: fold and Hopf curves continued by
the engine, their codim-2 points (cusp, Bogdanov–Takens, Bautin, zero-Hopf,
double-Hopf), and implicit-function-theorem gradients of curve and codim-2 points.

- `base`: the curve contract shared with the curve of folds of cycles
    (`gru_bif.periodic.lpc_curve`).
- `equilibrium`: `FoldCurveProblem`, `HopfCurveProblem`, `fold_curve`, `hopf_curve`.
- `gradients`: `curve_points`, `codim2_point`;
- `regions`: `region_counts` (equilibria counted over a grid of the plane).
"""

from .base import (
    AbstractCurveProblem as AbstractCurveProblem,
    branch_point_genuine as branch_point_genuine,
    resolve_param2 as resolve_param2,
)
from .equilibrium import (
    bt_normal_form as bt_normal_form,
    curve_parameters as curve_parameters,
    fold_curve as fold_curve,
    FoldCurveProblem as FoldCurveProblem,
    hopf_curve as hopf_curve,
    hopf_frequency as hopf_frequency,
    HopfCurveProblem as HopfCurveProblem,
)
from .gradients import codim2_point as codim2_point, curve_points as curve_points
from .regions import region_counts as region_counts
