"""Pictures of the library's results (matplotlib, imported inside each function, never at
import time). One module per kind of picture, one style for all:

- `style`: colours, markers and line styles (stable solid, unstable dashed; one marker
  and abbreviation per special-point kind);
- `portrait`: phase portraits (nullclines, vector field, speed, trajectories,
  equilibria), 1-D flows, portraits in a trained network's output space;
- `diagram`: bifurcation diagrams of branches of equilibria, `Readout` coordinates;
- `plane`: two-parameter diagrams (fold / Hopf / homoclinic curves, codim-2 points,
  regions by number of equilibria);
- `cycles`: branches of limit cycles (extrema, period, orbits);
- `homoclinic`: homoclinic orbits and curves;
- `connections`: the graph of connections between equilibria (`plot_connection_graph`);
- `chaos`: running Lyapunov estimates and chaos maps;
- `attractors`: basin fractions over a parameter and basin maps;
- `dissect`: a trained network's fixed points in its principal components, and the
  diagram of its memories in an input.

The plot functions draw; the numbers they need (a field on a grid, default equilibria,
trajectories, equilibria counted over a parameter grid) come from `_compute`.
"""

from .attractors import plot_basin_fractions as plot_basin_fractions, plot_basin_map as plot_basin_map
from .chaos import plot_chaos_map as plot_chaos_map, plot_lyapunov_history as plot_lyapunov_history
from .connections import plot_connection_graph as plot_connection_graph
from .cycles import (
    plot_cycle_branch as plot_cycle_branch,
    plot_cycles as plot_cycles,
    plot_period as plot_period,
)
from .dissect import (
    pca_basis as pca_basis,
    plot_fixed_points_pca as plot_fixed_points_pca,
    plot_input_diagram as plot_input_diagram,
)
from .diagram import Readout as Readout, plot_bifurcation_diagram as plot_bifurcation_diagram
from .homoclinic import (
    plot_homoclinic_curve as plot_homoclinic_curve,
    plot_homoclinic_orbit as plot_homoclinic_orbit,
)
from .plane import plot_parameter_plane as plot_parameter_plane
from ..curves.regions import region_counts as region_counts
from .portrait import (
    plot_flow_1d as plot_flow_1d,
    plot_output_portrait as plot_output_portrait,
    plot_phase_portrait as plot_phase_portrait,
)
from .style import (
    BRANCH_STYLE as BRANCH_STYLE,
    EQUILIBRIUM_STYLE as EQUILIBRIUM_STYLE,
    FLOW_1D_ARROW_STYLE as FLOW_1D_ARROW_STYLE,
    FLOW_1D_STYLE as FLOW_1D_STYLE,
    LABELS_1D as LABELS_1D,
    NULLCLINE_COLOURS as NULLCLINE_COLOURS,
    NULLCLINE_STYLE as NULLCLINE_STYLE,
    QUIVER_STYLE as QUIVER_STYLE,
    SPECIAL_STYLE as SPECIAL_STYLE,
    SPEED_CMAP as SPEED_CMAP,
    SPEED_LEVELS as SPEED_LEVELS,
    STREAM_STYLE as STREAM_STYLE,
    TRAJECTORY_START_STYLE as TRAJECTORY_START_STYLE,
    TRAJECTORY_STYLE as TRAJECTORY_STYLE,
    ZERO_LINE_STYLE as ZERO_LINE_STYLE,
)
