"""Pseudo-arclength continuation: problems, algorithms, the compiled loop."""

from .api import ContinuationIterator as ContinuationIterator, continuation as continuation
from .engine import (
    AbstractContinuationAlgorithm as AbstractContinuationAlgorithm,
    ContinuationState as ContinuationState,
    Natural as Natural,
    PseudoArclength as PseudoArclength,
)
from .problems import (
    AbstractContinuationProblem as AbstractContinuationProblem,
    EquilibriumProblem as EquilibriumProblem,
)
