"""gru_bif: recurrent neural networks as continuous-time dynamical systems, and their
bifurcation diagrams, in JAX.

`import gru_bif` loads the core (problems, branches, the continuation engine); every
other name is imported on first use (PEP 562), so that a script that only continues
equilibria does not pay for Diffrax, the periodic-orbit solvers or matplotlib.
"""

__version__ = "0.8.0"

from ._compile import compile_mode as compile_mode, set_compile_mode as set_compile_mode
from ._lazy import lazy_exports as _lazy_exports
from ._programs import (
    clear_program_cache as clear_program_cache,
    default_program_cache as default_program_cache,
    program_cache_dir as program_cache_dir,
    set_program_cache as set_program_cache,
)
from ._results import RESULTS as RESULTS
from .branch import Branch as Branch, SpecialKind as SpecialKind, SpecialPoints as SpecialPoints
from .continuation import (
    AbstractContinuationAlgorithm as AbstractContinuationAlgorithm,
    AbstractContinuationProblem as AbstractContinuationProblem,
    ContinuationIterator as ContinuationIterator,
    EquilibriumProblem as EquilibriumProblem,
    Natural as Natural,
    PseudoArclength as PseudoArclength,
    continuation as continuation,
)
from .problem import AbstractParam as AbstractParam, Param as Param, Problem as Problem

#: public name -> (module, attribute; None: the module itself), imported on first use
_LAZY = {
    "FoldCurveProblem": (".curves.equilibrium", "FoldCurveProblem"),
    "HopfCurveProblem": (".curves.equilibrium", "HopfCurveProblem"),
    "bt_normal_form": (".curves.equilibrium", "bt_normal_form"),
    "curve_parameters": (".curves.equilibrium", "curve_parameters"),
    "fold_curve": (".curves.equilibrium", "fold_curve"),
    "hopf_curve": (".curves.equilibrium", "hopf_curve"),
    "hopf_frequency": (".curves.equilibrium", "hopf_frequency"),
    "bifurcation_diagram": (".continuation.switching", "bifurcation_diagram"),
    "branch_direction": (".continuation.switching", "branch_direction"),
    "switch_branch": (".continuation.switching", "switch_branch"),
    "batched": (".batch", "batched"),
    "shard_batch": (".batch", "shard_batch"),
    "EQUILIBRIUM_TYPES": (".equilibria", "EQUILIBRIUM_TYPES"),
    "Equilibria": (".equilibria", "Equilibria"),
    "SlowPoints": (".equilibria", "SlowPoints"),
    "classify": (".equilibria", "classify"),
    "classify_eigenvalues": (".equilibria", "classify_eigenvalues"),
    "find_equilibria": (".equilibria", "find_equilibria"),
    "find_slow_points": (".equilibria", "find_slow_points"),
    "GRU": (".models.gru", "GRU"),
    "gru_candidate_residual": (".models.gru", "gru_candidate_residual"),
    "gru_vector_field": (".models.gru", "gru_vector_field"),
    "Trajectory": (".simulate", "Trajectory"),
    "simulate": (".simulate", "simulate"),
    "SystemFile": (".systems", "SystemFile"),
    "load_system": (".systems", "load_system"),
    "find_attractors": (".attractors", "find_attractors"),
    "continue_attractors": (".attractors", "continue_attractors"),
    "basin_map": (".attractors", "basin_map"),
    "examples": (".examples", None),
    "models": (".models", None),
    "curves": (".curves", None),
    "periodic": (".periodic", None),
    "attractors": (".attractors", None),
    "homoclinic": (".homoclinic", None),
    "census": (".census", None),
    "chaos": (".chaos", None),
    "trained": (".trained", None),
    "dissect": (".dissect", None),
    "differentiate": (".differentiate", None),
    "losses": (".losses", None),
    "training": (".training", None),
}

__all__ = sorted(
    ["RESULTS", "Branch", "SpecialKind", "SpecialPoints", "AbstractContinuationAlgorithm",
     "AbstractContinuationProblem", "ContinuationIterator", "EquilibriumProblem",
     "Natural", "PseudoArclength", "continuation", "AbstractParam", "Param", "Problem",
     "compile_mode", "set_compile_mode",
     "set_program_cache", "program_cache_dir", "clear_program_cache",
     "default_program_cache", *_LAZY]
)


__getattr__, __dir__ = _lazy_exports(__name__, _LAZY)
