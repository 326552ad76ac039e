"""Reference networks of /work/shared/reference/paper.md with their stated truth.

Written independently of `gru_bif.examples` (a test checks that the two agree), so that
a typo in the library's examples cannot hide behind the same typo in the tests. Weights
and facts are copied from paper.md; the 1-D fold value is derived in closed form.

Counts are of sinks (all Re λ < 0), saddles (mixed signs), sources (all Re λ > 0) and
non-hyperbolic points. With z = r = 1/2 (U_z = U_r = 0, zero biases) unless stated.
"""

import math

import jax.numpy as jnp

from gru_bif.models.gru import GRU


def R(theta):
    c, s = math.cos(theta), math.sin(theta)
    return jnp.array([[c, -s], [s, c]])


# Fold of h = tanh(1.5 h + b): 1.5 sech²(1.5 h + b) = 1 ⇒ tanh²(1.5h + b) = 1/3 ⇒
# h = ±1/√3 (h = tanh(...) at a fixed point) ⇒ b = ∓(1.5/√3 − artanh(1/√3)).
FOLD_H = 1.0 / math.sqrt(3.0)
FOLD_B = 1.5 / math.sqrt(3.0) - math.atanh(1.0 / math.sqrt(3.0))  # ≈ 0.207546
BISTABLE_H = 0.85856  # stated to 5 digits in paper.md


def counts(count, sinks, saddles, sources, nonhyp=0):
    return {
        "count": count,
        "sinks": sinks,
        "saddles": saddles,
        "sources": sources,
        "non_hyperbolic": nonhyp,
    }


def net1(b=0.0):
    """1-D saddle-node network: U_h = 3, b_h = b."""
    return GRU(jnp.array([[3.0]]), jnp.array([b]))


def net2():
    """Four-state machine: U_h = 3·I₂."""
    return GRU(3.0 * jnp.eye(2))


def net3():
    """Limit cycle: U_h = 3·R(π/6)."""
    return GRU(3.0 * R(math.pi / 6))


def net4(b2, b1=0.1):
    """Homoclinic network: U_h = [[3, −1.5], [1.5, 3]], b_h = (b1, b2)."""
    return GRU(jnp.array([[3.0, -1.5], [1.5, 3.0]]), jnp.array([b1, b2]))


def net5():
    """Eleven fixed points (needs the reset gate)."""
    return GRU(
        jnp.array([[4.712, -1.4265], [-0.5093, 3.2309]]),
        jnp.array([1.2737, 0.3861]),
        Ur=jnp.array([[-14.3441, -9.0576], [-8.6441, -3.5118]]),
        br=jnp.array([1.9448, 7.1291]),
    )


def net6(scale=1.0):
    """Pseudo-line attractor: U_h = scale·[[0, −2], [−2, 0]]."""
    return GRU(scale * jnp.array([[0.0, -2.0], [-2.0, 0.0]]))


# Stated truth -------------------------------------------------------------------------

TRUTH = {
    "net1_b0": counts(3, 2, 0, 1),
    "net1_beyond_fold": counts(1, 1, 0, 0),
    "net2": counts(9, 4, 4, 1),
    "net3": counts(1, 0, 0, 1),
    "net5": counts(11, 5, 5, 1),
    "net6": counts(1, 0, 0, 0, nonhyp=1),
    "net6_plus5": counts(3, 2, 1, 0),
    "net6_minus5": counts(1, 1, 0, 0),
}

# Homoclinic network at b1 = 0.1, from the story in paper.md: saddle-node near −0.728
# (creates a saddle and a stable point), supercritical Hopf near −0.713 (the old stable
# focus turns unstable), homoclinic near −0.705 (no change in equilibria), SNIC near
# −0.514 (saddle and node merge; only the unstable focus remains).
NET4_B2 = {
    -0.80: counts(1, 1, 0, 0),
    -0.72: counts(3, 2, 1, 0),
    -0.70: counts(3, 1, 1, 1),
    -0.60: counts(3, 1, 1, 1),
    -0.40: counts(1, 0, 0, 1),
}

LIMIT_CYCLE_PERIOD = 22.0  # "about 22"
