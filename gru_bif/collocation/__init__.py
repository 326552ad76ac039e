"""Orthogonal collocation on meshes, shared by the boundary-value problems of periodic
and connecting orbits: the local basis and meshes (`mesh`) and condensation of the
block-structured collocation Jacobian (`condense`)."""

from .condense import condensed_solve as condensed_solve
from .mesh import (
    basis as basis,
    block_index as block_index,
    lagrange as lagrange,
    MAX_NCOL as MAX_NCOL,
    node_times as node_times,
    uniform_mesh as uniform_mesh,
)
