"""Attractors from samples: basins, basin fractions, basin maps and their global
continuation over a parameter.

- `results`: `Attractors`, the kinds and the reasons a sample gets no attractor;
- `sample`: the analysis of one sample (vmapped over chunks);
- `group`: grouping samples into attractors, their representatives;
- `find`: `find_attractors`, `sample_box`, `basin_fractions`;
- `global_continuation`: `continue_attractors` (births and deaths tied to the located
  bifurcations); `basin_map`: basins on a 2-D slice of state space.
"""

from .find import (
    basin_fractions as basin_fractions,
    find_attractors as find_attractors,
    sample_box as sample_box,
)
from .group import orbit_distance as orbit_distance
from .results import (
    ATTRACTOR_KINDS as ATTRACTOR_KINDS,
    Attractors as Attractors,
    LABEL_REASONS as LABEL_REASONS,
)
from .global_continuation import (
    AttractorEvent as AttractorEvent,
    GlobalContinuation as GlobalContinuation,
    continue_attractors as continue_attractors,
)
from .basin_map import BasinMap as BasinMap, basin_map as basin_map

__all__ = [
    "ATTRACTOR_KINDS",
    "LABEL_REASONS",
    "AttractorEvent",
    "Attractors",
    "BasinMap",
    "GlobalContinuation",
    "basin_fractions",
    "basin_map",
    "continue_attractors",
    "find_attractors",
    "orbit_distance",
    "sample_box",
]
