"""`gru-bif reproduce --out DIR`: the paper's figures, each computed by the library, and a
report (`REPORT.md`, `report.json`) that sets every claim beside the number measured.

Each figure is an independent function in `FIGURES` (name -> function), so
`gru-bif reproduce --only NAME` redoes one of them and merges its rows into the report
already in `DIR`. A figure that fails is reported as failed (and the exit code is 1);
the others still run.

The networks are those of `gru_bif/data/paper_reference.md` ("built" networks that show each
phenomenon; the pseudo-line attractor's weights are reconstructed from the paper's
figure), not the paper's own weights, which are not known.

Modules: `_common` (report rows, saving, checked library calls), `networks`, one module
per group of figures (`portraits`, `one_parameter`, `homoclinic_network`, `plane`,
`applications`), and `runner` (`FIGURES`, `run`, `write_report`).
"""

from .applications import (
    CENSUS_N as CENSUS_N,
    CENSUS_SCALES as CENSUS_SCALES,
    RETRAIN as RETRAIN,
    fig_census as fig_census,
    fig_trained as fig_trained,
)
from .homoclinic_network import fig_homoclinic_network as fig_homoclinic_network
from .networks import (
    BSTAR as BSTAR,
    coupling_field as coupling_field,
    net_1d as net_1d,
    net_homoclinic as net_homoclinic,
    net_hopf as net_hopf,
    ring_field as ring_field,
)
from .one_parameter import (
    fig_1d_saddle_node as fig_1d_saddle_node,
    fig_hopf_gru as fig_hopf_gru,
    fig_pseudo_line as fig_pseudo_line,
    fig_ring as fig_ring,
)
from .plane import (
    B1_RANGE as B1_RANGE,
    PAPER_BT as PAPER_BT,
    bt_points as bt_points,
    fig_parameter_plane as fig_parameter_plane,
    homoclinic_curve_from_bt as homoclinic_curve_from_bt,
    network4_curves as network4_curves,
)
from .portraits import fig_1d_flows as fig_1d_flows, fig_2d_portraits as fig_2d_portraits
from .runner import (
    FIGURES as FIGURES,
    HEADER as HEADER,
    run as run,
    write_report as write_report,
)
