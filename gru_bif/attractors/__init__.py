"""Attractors from samples: basins, basin fractions, basin maps and their global
continuation over a parameter (issue #20)."""

from .find import (
    ATTRACTOR_KINDS as ATTRACTOR_KINDS,
    LABEL_REASONS as LABEL_REASONS,
    Attractors as Attractors,
    basin_fractions as basin_fractions,
    find_attractors as find_attractors,
    orbit_distance as orbit_distance,
    sample_box as sample_box,
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
