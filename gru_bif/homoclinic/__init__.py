"""Homoclinic orbits: the projection-boundary-condition BVP (location and two-parameter
continuation on the engine), starts from long-period cycles and Bogdanov–Takens points,
and detection on cycle branches; implicit-function-theorem derivatives of located orbits
(`homoclinic_point`, `homoclinic_values`); heteroclinic connections (the same BVP from a
saddle to another equilibrium: location, continuation, gradients) and the graph of every
connection between a network's saddles and sinks (`connection_graph`)."""


from .._lazy import lazy_exports

#: public name -> (module, attribute), imported on first use
_LAZY = {
    "HomoclinicBranch": (".locate", "HomoclinicBranch"),
    "HomoclinicProblem": (".bvp", "HomoclinicProblem"),
    "HomoclinicSolution": (".locate", "HomoclinicSolution"),
    "homoclinic_problem": (".bvp", "homoclinic_problem"),
    "locate_homoclinic": (".locate", "locate_homoclinic"),
    "matrix_sign": (".bvp", "matrix_sign"),
    "homoclinic_curve_to_dict": (".locate", "homoclinic_curve_to_dict"),
    "remesh_homoclinic": (".bvp", "remesh_homoclinic"),
    "saddle_quantity": (".bvp", "saddle_quantity"),
    "spectral_projectors": (".bvp", "spectral_projectors"),
    "HomoclinicPoint": (".differentiate", "HomoclinicPoint"),
    "homoclinic_point": (".differentiate", "homoclinic_point"),
    "homoclinic_values": (".differentiate", "homoclinic_values"),
    "BTNormalForm": (".start", "BTNormalForm"),
    "CycleEnd": (".start", "CycleEnd"),
    "classify_cycle_end": (".start", "classify_cycle_end"),
    "detect_homoclinic": (".start", "detect_homoclinic"),
    "homoclinic_from_cycle": (".start", "homoclinic_from_cycle"),
    "BTPoint": (".start", "BTPoint"),
    "bt_normal_form": (".start", "bt_normal_form"),
    "homoclinic_from_bt": (".start", "homoclinic_from_bt"),
    "locate_bt": (".start", "locate_bt"),
    "HeteroclinicProblem": (".heteroclinic", "HeteroclinicProblem"),
    "heteroclinic_problem": (".heteroclinic", "heteroclinic_problem"),
    "heteroclinic_from_simulation": (".heteroclinic", "heteroclinic_from_simulation"),
    "orbit_guess_from_trajectory": (".heteroclinic", "orbit_guess_from_trajectory"),
    "HeteroclinicSolution": (".heteroclinic_locate", "HeteroclinicSolution"),
    "HeteroclinicBranch": (".heteroclinic_locate", "HeteroclinicBranch"),
    "locate_heteroclinic": (".heteroclinic_locate", "locate_heteroclinic"),
    "remesh_heteroclinic": (".heteroclinic_locate", "remesh_heteroclinic"),
    "heteroclinic_point": (".heteroclinic_locate", "heteroclinic_point"),
    "ConnectionGraph": (".connections", "ConnectionGraph"),
    "connection_graph": (".connections", "connection_graph"),
}
__getattr__, __dir__ = lazy_exports(__name__, _LAZY)
__all__ = sorted(_LAZY)
