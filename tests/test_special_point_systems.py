"""Property: every located fold and Hopf point of random 2-D and 3-D GRUs satisfies its
defining system to 1e-10.

Fold: `F(x, p) = 0` and `F_x` singular, with a null vector `v` (`|F_x v| ≤ 1e-10`).
Hopf: `F(x, p) = 0` and `F_x` has the eigenvalues `±iω`, with `ω` the reported frequency.

Ten GRUs from a seeded generator (`hypothesis` is not a dependency): rotations (Hopf
points) and scaled identities (folds, from bistability) with random perturbations,
continued in `bh[0]` over [-2.5, 2.5] from their first fixed point. One compiled
continuation per dimension, so the cost is two compilations.
"""

import jax
import jax.numpy as jnp
import numpy as np

from gru_bif import GRU, Problem, continuation, find_equilibria
from gru_bif.branch import SpecialKind
from gru_bif.examples import rotation

TOL = 1e-10


def _random_gru(rng, k: int) -> GRU:
    d = 2 if k % 2 == 0 else 3
    scale = 2.5 + rng.random()
    base = np.eye(d)
    if k % 4 < 2:  # a rotation in the first two coordinates: Hopf points
        base[:2, :2] = np.asarray(rotation(rng.uniform(0.3, 0.9)))
    Uh = scale * base + 0.3 * rng.standard_normal((d, d))
    return GRU(jnp.asarray(Uh), jnp.asarray(0.2 * rng.standard_normal(d)),
               Uz=jnp.asarray(0.3 * rng.standard_normal((d, d))))


def test_located_points_satisfy_their_defining_systems():
    rng = np.random.default_rng(11)
    checked = {(2, "fold"): 0, (2, "hopf"): 0, (3, "fold"): 0, (3, "hopf"): 0}
    for k in range(10):
        gru = _random_gru(rng, k)
        d = gru.hidden_size
        problem = Problem.from_gru(gru, "bh[0]").with_p(-2.5)
        eq = find_equilibria(problem)
        assert int(eq.count) >= 1
        br = continuation(problem, jnp.asarray(np.asarray(eq.x)[0]), -2.5, p_min=-2.5,
                          p_max=2.5, ds=0.02, max_steps=600, throw=False)
        sp = br.special
        for i in range(int(sp.count)):
            kind = SpecialKind(int(sp.kind[i]))
            if kind not in (SpecialKind.FOLD, SpecialKind.HOPF):
                continue
            assert bool(sp.located[i]), (k, kind, float(sp.p[i]))
            x, p = sp.x[i], sp.p[i]
            F = np.asarray(problem.F(x, p))
            J = np.asarray(jax.jacfwd(lambda y: problem.F(y, p))(x))
            assert np.max(np.abs(F)) <= TOL, (k, kind.label, F)
            if kind == SpecialKind.FOLD:
                v = np.linalg.svd(J)[2][-1]  # unit right singular vector of σ_min
                assert np.max(np.abs(J @ v)) <= TOL, (k, np.linalg.svd(J)[1])
            else:
                omega = float(sp.data["omega"][i])
                ev = np.linalg.eigvals(J)
                assert omega > 0
                for target in (1j * omega, -1j * omega):
                    assert np.min(np.abs(ev - target)) <= TOL * max(1.0, omega), (k, ev, omega)
            checked[(d, kind.label)] += 1
    assert all(n >= 1 for n in checked.values()), checked
    assert sum(checked.values()) >= 20, checked
