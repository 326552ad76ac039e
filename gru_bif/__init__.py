"""gru_bif: recurrent neural networks as continuous-time dynamical systems, and their
bifurcation diagrams, in JAX."""

__version__ = "0.3.0"

from ._results import RESULTS as RESULTS
from .bifurcations.curves import (
    FoldCurveProblem as FoldCurveProblem,
    HopfCurveProblem as HopfCurveProblem,
    bt_normal_form as bt_normal_form,
    curve_parameters as curve_parameters,
    fold_curve as fold_curve,
    hopf_curve as hopf_curve,
    hopf_frequency as hopf_frequency,
)
from .bifurcations.switching import (
    bifurcation_diagram as bifurcation_diagram,
    branch_direction as branch_direction,
    switch_branch as switch_branch,
)
from .batch import batched as batched, shard_batch as shard_batch
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
from .equilibria import (
    EQUILIBRIUM_TYPES as EQUILIBRIUM_TYPES,
    Equilibria as Equilibria,
    SlowPoints as SlowPoints,
    classify as classify,
    classify_eigenvalues as classify_eigenvalues,
    find_equilibria as find_equilibria,
    find_slow_points as find_slow_points,
)
from .models.gru import (
    GRU as GRU,
    gru_candidate_residual as gru_candidate_residual,
    gru_vector_field as gru_vector_field,
)
from .simulate import Trajectory as Trajectory, simulate as simulate
from .problem import AbstractParam as AbstractParam, Param as Param, Problem as Problem
from .systems import SystemFile as SystemFile, load_system as load_system
from . import examples as examples, models as models, periodic as periodic
from . import homoclinic as homoclinic
from . import census as census, trained as trained
from . import differentiate as differentiate, losses as losses, training as training
