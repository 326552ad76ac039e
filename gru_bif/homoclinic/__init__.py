"""Homoclinic orbits: the projection-boundary-condition BVP (location and two-parameter
continuation on the engine), starts from long-period cycles and Bogdanov–Takens points,
and detection on cycle branches; implicit-function-theorem derivatives of located orbits
(`homoclinic_point`, `homoclinic_values`)."""

from .bvp import (
    HomoclinicBranch as HomoclinicBranch,
    HomoclinicProblem as HomoclinicProblem,
    HomoclinicSolution as HomoclinicSolution,
    homoclinic_problem as homoclinic_problem,
    locate_homoclinic as locate_homoclinic,
    matrix_sign as matrix_sign,
    homoclinic_curve_to_dict as homoclinic_curve_to_dict,
    remesh_homoclinic as remesh_homoclinic,
    saddle_quantity as saddle_quantity,
    spectral_projectors as spectral_projectors,
)
from .differentiate import (
    HomoclinicPoint as HomoclinicPoint,
    homoclinic_point as homoclinic_point,
    homoclinic_values as homoclinic_values,
)
from .start import (
    BTNormalForm as BTNormalForm,
    CycleEnd as CycleEnd,
    classify_cycle_end as classify_cycle_end,
    detect_homoclinic as detect_homoclinic,
    homoclinic_from_cycle as homoclinic_from_cycle,
    BTPoint as BTPoint,
    bt_normal_form as bt_normal_form,
    homoclinic_from_bt as homoclinic_from_bt,
    locate_bt as locate_bt,
)
