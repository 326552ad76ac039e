"""gru_bif: recurrent neural networks as continuous-time dynamical systems, and their
bifurcation diagrams, in JAX."""

__version__ = "0.1.0"

from ._results import RESULTS as RESULTS
from .bifurcations.switching import (
    bifurcation_diagram as bifurcation_diagram,
    branch_direction as branch_direction,
    switch_branch as switch_branch,
)
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
from .models.gru import GRU as GRU, gru_vector_field as gru_vector_field
from .problem import AbstractParam as AbstractParam, Param as Param, Problem as Problem
from .systems import SystemFile as SystemFile, load_system as load_system
