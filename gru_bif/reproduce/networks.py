"""The networks of the paper's figures (`gru_bif/data/paper_reference.md`): "built"
networks that show each phenomenon, and the pseudo-line attractor's weights reconstructed
from the paper's figure."""

import math

from ._common import _jax

# Module-level vector fields (a function defined once compiles once).


def ring_field(t, h, args):
    """Network 7 of paper_reference.md: a GRU with U_h = [[a, -c], [c, a]] (z = r = 1/2); `args`
    holds the scalars `a` and `c`, so both off-diagonal entries move together."""
    _, jnp = _jax()
    from ..models.gru import GRU

    a, c = args["a"], args["c"]
    Uh = jnp.stack([jnp.stack([a, -c]), jnp.stack([c, a])])
    return GRU(Uh)(t, h)


def coupling_field(t, h, args):
    """Network 6 of paper_reference.md with the coupling scaled by `s`: U_h = s·[[0, -2], [-2, 0]]
    (s = 1: the pseudo-line attractor; s = 0.95 / 1.05: the ±5 % perturbations)."""
    _, jnp = _jax()
    from ..models.gru import GRU

    return GRU(args["s"] * jnp.array([[0.0, -2.0], [-2.0, 0.0]]))(t, h)


def _ex(name, *args, **kwargs):
    """`(gru, facts)` of an example network of `gru_bif.examples`."""
    from .. import examples

    return examples.EXAMPLES[name](*args, **kwargs)


def net_1d(b=0.0):
    return _ex("saddle_node_1d", b)[0]


def net_hopf(p=0.0):
    """The reference 2-D GRU for Hopf points: U_h = 3·R(π/4), b_h = (p, 0)."""
    from ..examples import rotation
    from ..models.gru import GRU

    _, jnp = _jax()
    return GRU(3.0 * rotation(math.pi / 4), jnp.array([float(p), 0.0]))


def net_homoclinic(b2=-0.8):
    return _ex("homoclinic", b2)[0]


BSTAR = math.atanh(1.0 / math.sqrt(3.0)) - 1.5 / math.sqrt(3.0)  # -0.2075...
"""The fold of h = tanh(1.5 h + b): 1.5 sech²(1.5h + b) = 1 and h = tanh(1.5h + b) give
h² = 1/3, so the folds are at h = ∓1/√3, b = ±|atanh(1/√3) − 1.5/√3|."""
