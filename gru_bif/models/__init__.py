"""Models: the continuous-time GRU and analytic normal forms."""

from .gru import GRU as GRU, gru_vector_field as gru_vector_field
