"""Example networks: two-dimensional (and one 1-D) continuous-time GRUs that show each
phenomenon of Jordan, Sokół & Park, *Gated recurrent units viewed through the lens of
continuous time dynamical systems* (Front. Comput. Neurosci. 2021).

Each function returns `(gru, facts)`: a [`gru_bif.GRU`][] and a dict of what is stated
about it. The paper's own weights are not published with it; these are networks built
for this project to show the same phenomena (the pseudo-line attractor's weights are
reconstructed from the nullclines of the paper's figure). `facts["source"]` says which.

All use `reset="before"` (the paper's convention), no input, and unless stated
`U_z = 0, b_z = 0` (so `z = 1/2`: the update gate only halves the speed) and
`U_r = 0, b_r = 0` (`r = 1/2`).

Counts in `facts["equilibria"]` use sinks (all eigenvalues with negative real part),
sources (all positive), saddles (mixed) and non-hyperbolic points.
"""

import math

import jax.numpy as jnp

from .models.gru import GRU

__all__ = [
    "EXAMPLES",
    "FOLD_B_1D",
    "eleven_fixed_points",
    "fold_b_1d",
    "four_state_machine",
    "homoclinic",
    "limit_cycle",
    "pseudo_line_attractor",
    "ring",
    "rotation",
    "saddle_node_1d",
]


def rotation(theta: float) -> jnp.ndarray:
    """The rotation matrix `R(θ) = [[cos θ, −sin θ], [sin θ, cos θ]]`."""
    c, s = math.cos(theta), math.sin(theta)
    return jnp.array([[c, -s], [s, c]])


def fold_b_1d(w: float = 3.0) -> float:
    """The bias `b_c > 0` at which the 1-D GRU with `U_h = w` (`r = 1/2`) has its
    saddle-node: fixed points solve `h = tanh(a h + b)` with `a = w/2`. The fold needs
    also `a·sech²(a h + b) = 1`, so `h² = tanh²(a h + b) = 1 − 1/a` and

        b_c = a·h* − artanh(h*),   h* = sqrt(1 − 1/a)

    (for `w = 3`: `h* = 1/√3`, `b_c = √3/2 − artanh(1/√3) ≈ 0.2075`; the folds are at
    `b = ±b_c`). Needs `a > 1`."""
    a = w / 2.0
    if a <= 1.0:
        raise ValueError(
            f"A 1-D GRU with U_h = {w} (a = U_h/2 = {a} <= 1) has no fold: it always has "
            "exactly one fixed point. Use U_h > 2."
        )
    h = math.sqrt(1.0 - 1.0 / a)
    return a * h - math.atanh(h)


FOLD_B_1D: float = fold_b_1d(3.0)
"""`√3/2 − artanh(1/√3) ≈ 0.207546`: the saddle-node bias of `saddle_node_1d`."""


def _gru(Uh, bh=None, **kw) -> GRU:
    return GRU(jnp.asarray(Uh, dtype=float), None if bh is None else jnp.asarray(bh, float), **kw)


def saddle_node_1d(b: float = 0.0) -> tuple[GRU, dict]:
    """Network 1: a single unit, `U_h = 3`, bias `b_h = b`.

    At `b = 0` it is bistable: stable points `±0.85856` and an unstable one at 0. A
    stable point and the unstable one merge in a saddle-node at `|b| = b_c ≈ 0.2075`
    ([`gru_bif.examples.fold_b_1d`][]); beyond, one stable point remains.
    """
    b = float(b)
    if abs(b) < FOLD_B_1D:
        eq = {"count": 3, "sinks": 2, "saddles": 0, "sources": 1, "non_hyperbolic": 0}
    elif abs(b) > FOLD_B_1D:
        eq = {"count": 1, "sinks": 1, "saddles": 0, "sources": 0, "non_hyperbolic": 0}
    else:
        eq = {"count": 2, "sinks": 1, "saddles": 0, "sources": 0, "non_hyperbolic": 1}
    facts = {
        "name": "saddle_node_1d",
        "source": "built",
        "description": "1-D GRU: bistable memory of one bit; saddle-node at |b| = b_c",
        "parameters": {"b": b},
        "param": "bh[0]",
        "equilibria": eq,
        "stable_points_at_b0": (-0.85856, 0.85856),
        "unstable_point_at_b0": 0.0,
        "fold_b": FOLD_B_1D,
        "fold_h": 1.0 / math.sqrt(3.0),
    }
    return _gru([[3.0]], [b]), facts


def four_state_machine() -> tuple[GRU, dict]:
    """Network 2: two uncoupled bistable units, `U_h = 3·I₂`, `b_h = 0`: 9 fixed points,
    sinks at `(±0.85856, ±0.85856)`, 4 saddles and a source at 0 (the paper's
    continuous-time finite-state machine with 4 states)."""
    facts = {
        "name": "four_state_machine",
        "source": "built (the paper's picture)",
        "description": "two uncoupled bistable units: 4 sinks, 4 saddles, 1 source",
        "parameters": {},
        "equilibria": {"count": 9, "sinks": 4, "saddles": 4, "sources": 1, "non_hyperbolic": 0},
        "sinks": tuple((sx * 0.85856, sy * 0.85856) for sx in (-1, 1) for sy in (-1, 1)),
        "source_point": (0.0, 0.0),
    }
    return _gru(3.0 * jnp.eye(2)), facts


def limit_cycle() -> tuple[GRU, dict]:
    """Network 3: `U_h = 3·R(π/6)`, `b_h = 0`: one unstable focus at 0 inside a stable
    limit cycle of period about 22 (recipe: `U_h = 2s·R(θ)` with `s·cos θ > 1`)."""
    facts = {
        "name": "limit_cycle",
        "source": "built",
        "description": "unstable focus at 0 and a stable limit cycle",
        "parameters": {},
        "equilibria": {
            "count": 1,
            "sinks": 0,
            "saddles": 0,
            "sources": 1,
            "non_hyperbolic": 0,
            "types": {"unstable focus": 1},
        },
        "period": 22.0,
    }
    return _gru(3.0 * rotation(math.pi / 6)), facts


_HOMOCLINIC_STORY = {
    "saddle_node_b2": -0.728,
    "hopf_b2": -0.713,
    "homoclinic_b2": -0.705,
    "snic_b2": -0.514,
    "bogdanov_takens": (0.033, -0.688),
}


def homoclinic(b2: float = -0.6, b1: float = 0.1) -> tuple[GRU, dict]:
    """Network 4: `U_h = [[3, −1.5], [1.5, 3]]`, `b_h = (b1, b2)` with `b2` the
    parameter (`b1 = 0.1`). As `b2` increases from −0.8: a saddle-node creates a saddle
    and a stable point near −0.728; a supercritical Hopf near −0.713 makes a small
    stable cycle; it grows into a homoclinic (saddle-loop) bifurcation near −0.705; near
    −0.514 the saddle and the node merge on an invariant circle (SNIC) and a large
    stable cycle appears. Fold, Hopf and homoclinic curves meet at a Bogdanov–Takens
    point near `(b1, b2) = (0.033, −0.688)`.

    `facts["equilibria"]` (at `b1 = 0.1` only) follows from that story: it is `None`
    within 0.005 of a stated bifurcation value, where the count is not stated.
    """
    b1, b2 = float(b1), float(b2)
    story = _HOMOCLINIC_STORY
    eq = None
    if b1 == 0.1:
        near = min(
            abs(b2 - story[k]) for k in ("saddle_node_b2", "hopf_b2", "snic_b2")
        )
        if near > 0.005:
            if b2 < story["saddle_node_b2"]:
                eq = {"count": 1, "sinks": 1, "saddles": 0, "sources": 0}
            elif b2 < story["hopf_b2"]:
                eq = {"count": 3, "sinks": 2, "saddles": 1, "sources": 0}
            elif b2 < story["snic_b2"]:
                eq = {"count": 3, "sinks": 1, "saddles": 1, "sources": 1}
            else:
                eq = {"count": 1, "sinks": 0, "saddles": 0, "sources": 1}
            eq["non_hyperbolic"] = 0
    facts = {
        "name": "homoclinic",
        "source": "built",
        "description": "saddle-node, Hopf, homoclinic and SNIC bifurcations in b2",
        "parameters": {"b1": b1, "b2": b2},
        "param": "bh[1]",
        "equilibria": eq,
        **story,
    }
    return _gru([[3.0, -1.5], [1.5, 3.0]], [b1, b2]), facts


def eleven_fixed_points() -> tuple[GRU, dict]:
    """Network 5: 11 hyperbolic fixed points (5 sinks, 5 saddles, 1 source), which
    needs the reset gate: with `U_r = 0` a 2-D GRU has at most 9."""
    facts = {
        "name": "eleven_fixed_points",
        "source": "built",
        "description": "11 fixed points thanks to the reset gate",
        "parameters": {},
        "equilibria": {"count": 11, "sinks": 5, "saddles": 5, "sources": 1, "non_hyperbolic": 0},
    }
    gru = _gru(
        [[4.712, -1.4265], [-0.5093, 3.2309]],
        [1.2737, 0.3861],
        Ur=jnp.array([[-14.3441, -9.0576], [-8.6441, -3.5118]]),
        br=jnp.array([1.9448, 7.1291]),
    )
    return gru, facts


def pseudo_line_attractor(scale: float = 1.0) -> tuple[GRU, dict]:
    """Network 6: `U_h = scale·[[0, −2], [−2, 0]]`, `b_h = 0` (weights reconstructed
    from the nullclines `x = tanh(−y)`, `y = tanh(−x)` of the paper's figure).

    At `scale = 1` one non-hyperbolic fixed point at 0, with eigenvalues 0 along
    `(1, −1)` and −1 along `(1, 1)` (of the vector field's Jacobian `J_f`, with
    `z = r = 1/2`), fast attraction onto `y = −x`, then a cubically slow drift along
    it. `scale = 1.05` gives three fixed points (pitchfork: two sinks and a saddle),
    `scale = 0.95` one hyperbolic sink: a line attractor is not structurally stable.
    """
    scale = float(scale)
    if scale == 1.0:
        eq = {"count": 1, "sinks": 0, "saddles": 0, "sources": 0, "non_hyperbolic": 1}
    elif scale > 1.0:
        eq = {"count": 3, "sinks": 2, "saddles": 1, "sources": 0, "non_hyperbolic": 0}
    else:
        eq = {"count": 1, "sinks": 1, "saddles": 0, "sources": 0, "non_hyperbolic": 0}
    facts = {
        "name": "pseudo_line_attractor",
        "source": "paper figure (weights reconstructed from its nullclines)",
        "description": "one non-hyperbolic point; slow drift along y = -x",
        "parameters": {"scale": scale},
        "equilibria": eq,
        "eigenvalues_at_0": (0.0, -1.0),
        "eigenvectors_at_0": ((1.0, -1.0), (1.0, 1.0)),
        "xlim": (-1.5, 1.5),
        "zoom": (-0.2, 0.2),
        "speed_levels": tuple(range(0, -10, -1)),
    }
    return _gru(scale * jnp.array([[0.0, -2.0], [-2.0, 0.0]])), facts


def ring(c: float = 0.0, a: float = 3.0) -> tuple[GRU, dict]:
    """Network 7: `U_h = [[a, −c], [c, a]]`, `b_h = 0`. At `c = 0` (network 2) a ring of
    4 sinks and 4 saddles joined by heteroclinic orbits around a source; growing the
    rotation `c` makes the sink–saddle pairs annihilate in saddle-node bifurcations and
    the ring becomes a limit cycle (SNIC)."""
    c, a = float(c), float(a)
    facts = {
        "name": "ring",
        "source": "built",
        "description": "ring of sinks and saddles; with rotation c it becomes a cycle",
        "parameters": {"a": a, "c": c},
        # c enters two entries (Uh[0,1] = -c, Uh[1,0] = c): continue it with a custom
        # gru_bif.AbstractParam, not a single-entry name.
        "equilibria": (
            {"count": 9, "sinks": 4, "saddles": 4, "sources": 1, "non_hyperbolic": 0}
            if c == 0.0 and a == 3.0
            else None
        ),
    }
    return _gru([[a, -c], [c, a]]), facts


EXAMPLES = {
    "saddle_node_1d": saddle_node_1d,
    "four_state_machine": four_state_machine,
    "limit_cycle": limit_cycle,
    "homoclinic": homoclinic,
    "eleven_fixed_points": eleven_fixed_points,
    "pseudo_line_attractor": pseudo_line_attractor,
    "ring": ring,
}
"""Every example by name: `gru, facts = EXAMPLES[name]()`."""
