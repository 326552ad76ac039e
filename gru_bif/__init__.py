"""gru_bif: recurrent neural networks as continuous-time dynamical systems, and their
bifurcation diagrams, in JAX."""

__version__ = "0.1.0"

from ._results import RESULTS as RESULTS
from .models.gru import GRU as GRU, gru_vector_field as gru_vector_field
from .problem import AbstractParam as AbstractParam, Param as Param, Problem as Problem
