"""Derivatives of cycles by the implicit function theorem: period, extent and Floquet
multipliers of a periodic orbit, and the parameter value of a cycle bifurcation, as
differentiable functions of every array leaf of the problem (its `args`, and the
parameter value).

A cycle `u = (orbit, T, p)` solves `H(orbit, T; p, θ) = 0` (collocation or shooting
equations and the phase condition; `θ` = the problem's array leaves). Away from cycle
folds `H_{(orbit, T)}` is invertible and

    d(orbit, T)/dθ = −H_{(orbit, T)}⁻¹ H_θ,

one linear solve per tangent (`gru_bif.differentiate.implicit_root`, a `custom_jvp`;
reverse mode by JAX's transposition). The loop that found `u` is never differentiated:
pass a converged cycle (`correct_cycle`, a row of a branch, a special point) — the
functions return the same values with derivatives attached. Functions of the cycle
(period, extrema, monodromy) are then ordinary JAX functions of the differentiable
cycle.

Located cycle bifurcations are differentiated through their defining systems, with the
parameter as an unknown:

- period doubling: `[H(u); det(D(u) + I)] = 0`, and Neimark–Sacker:
    `[H(u); det(D(u) ⊙ D(u) − I)] = 0` (`D` the deflated monodromy matrix; the test
    functions of `gru_bif.periodic.floquet`, eigenvalue-free);
- fold of cycles: `[H(u); g(u)] = 0` with `g` the bordered determinant of
    `H_{(orbit, T)}` (borders: its left and right null vectors at the located point).

Multipliers are eigenvalues of `D`: their values come from an eigen-decomposition
under `stop_gradient` (none for `d = 2`, where `D` is `1 × 1`), their derivatives from
first-order perturbation theory `dμ = wᴴ dD v / wᴴ v`, so no eigen-decomposition is
differentiated.
"""

import equinox as eqx
import jax
import jax.numpy as jnp

from .._custom_types import Array, Float
from ..branch import SpecialKind
from ..differentiate import implicit_root
from .floquet import neimark_sacker_test, period_doubling_test


def _partition(cp):
    return eqx.partition(cp, eqx.is_inexact_array)


def _check_u(cp, u):
    u = jnp.asarray(u)
    if u.shape != (cp.size,):
        raise ValueError(
            f"u has shape {u.shape}; this problem's unknowns have shape ({cp.size},) "
            "(orbit, T, p). For a branch row use `jnp.append(branch.x[i], branch.p[i])`."
        )
    return u


def cycle_point(cp, u) -> Float[Array, " n"]:
    """The cycle `u = (orbit, T, p)` with implicit derivatives of `(orbit, T)` w.r.t.
    the array leaves of `cp` (e.g. `cp.problem.args`) and w.r.t. `p = u[-1]` (if it
    carries derivatives), at fixed `p`.

    **Arguments:** `cp`: a `CollocationProblem` or `ShootingProblem`; `u`: a solution
    of it (a corrected cycle; not checked — a non-converged `u` gives wrong
    derivatives).

    **Returns:** `u`, with derivatives attached. Period: `u[-2]`; orbit:
    `cp.split(u)[0]`.
    """
    u = _check_u(cp, u)
    dyn, static = _partition(cp)

    def G(y, theta, aux):
        d, p = theta
        c = eqx.combine(d, static)
        return c.residual(jnp.concatenate([y, p[None]])).astype(y.dtype)

    p = u[-1]
    y = implicit_root(G, u[:-1], (dyn, p), None)
    return jnp.concatenate([y, p[None]])


def cycle_period(cp, u) -> Float[Array, ""]:
    """The period of the cycle `u`, differentiable w.r.t. `cp`'s array leaves and
    `u[-1]` (see `cycle_point`)."""
    return cycle_point(cp, u)[-2]


def _refine_extremum(cp, u, coordinate: int, sign: float, samples: int):
    """Normalised time of the maximum of `sign · x_coordinate(t)` (sampled, then a few
    Newton steps on the derivative of the piecewise polynomial). No derivatives."""
    u = jax.lax.stop_gradient(u)
    n = cp.ntst * samples
    s = jnp.arange(n, dtype=u.dtype) / n
    vals = sign * cp.evaluate(u, s)[:, coordinate]
    t = s[jnp.argmax(vals)]

    def g(tt):
        return sign * cp.evaluate(u, tt)[coordinate]

    dg = jax.grad(g)
    ddg = jax.grad(dg)
    half = 1.0 / n

    def body(_, tt):
        step = dg(tt) / ddg(tt)
        step = jnp.where(jnp.isfinite(step) & (ddg(tt) < 0), step, 0.0)
        return jnp.clip(tt - step, t - half, t + half)

    return jax.lax.fori_loop(0, 8, body, t)


def cycle_extrema(
    cp, u, coordinate: int = 0, *, samples: int = 8
) -> tuple[Float[Array, ""], Float[Array, ""]]:
    """`(min, max)` of coordinate `coordinate` over the collocation cycle `u`,
    differentiable like `cycle_point` (the extremum's time is found on the
    non-differentiated orbit — sampled `samples` times per mesh interval, then refined
    by Newton on the piecewise polynomial — and, by the envelope theorem, held fixed in
    the derivative).

    **Raises:** `ValueError` if `cp` is not a `CollocationProblem` or `coordinate` is
    out of range.
    """
    from .collocation import CollocationProblem

    if not isinstance(cp, CollocationProblem):
        raise ValueError(
            "cycle_extrema needs a CollocationProblem (the orbit between shooting "
            "points is not represented); convert with `correct_cycle` on a "
            f"collocation problem. Got {type(cp).__name__}."
        )
    if not 0 <= int(coordinate) < cp.dim:
        raise ValueError(f"coordinate={coordinate}; use 0 to {cp.dim - 1}.")
    u = _check_u(cp, u)
    ud = cycle_point(cp, u)
    t_max = _refine_extremum(cp, u, int(coordinate), 1.0, int(samples))
    t_min = _refine_extremum(cp, u, int(coordinate), -1.0, int(samples))
    return (cp.evaluate(ud, t_min)[coordinate], cp.evaluate(ud, t_max)[coordinate])


def cycle_amplitude(cp, u, coordinate: int = 0, *, samples: int = 8) -> Float[Array, ""]:
    """Half the peak-to-peak extent `(max − min)/2` of coordinate `coordinate` over the
    collocation cycle `u` (the radius, for a circle), differentiable (see
    `cycle_extrema`)."""
    lo, hi = cycle_extrema(cp, u, coordinate, samples=samples)
    return (hi - lo) / 2


def _eigvals_first_order(D):
    """Eigenvalues of `D` whose derivatives are `wᴴ dD v / wᴴ v` (the eigen-decomposition
    itself runs under `stop_gradient`)."""
    n = D.shape[0]
    cdt = jnp.result_type(D.dtype, jnp.complex64)
    if n == 1:
        return D[0].astype(cdt)
    Ds = jax.lax.stop_gradient(D)
    mu, V = jnp.linalg.eig(Ds)
    W = jnp.linalg.inv(V)  # rows: left eigenvectors with W V = I
    dD = (D - Ds).astype(cdt)
    return mu + jnp.einsum("ij,jk,ki->i", W, dD, V)


def cycle_multipliers(cp, u) -> Array:
    """The `d − 1` non-trivial Floquet multipliers (complex, by decreasing modulus) of
    the cycle `u`, differentiable w.r.t. `cp`'s array leaves and `u[-1]` (simple
    multipliers; see the module docstring). `cp`: a `CollocationProblem` or
    `ShootingProblem`."""
    ud = cycle_point(cp, _check_u(cp, u))
    mu = jnp.atleast_1d(_eigvals_first_order(cp.deflated_monodromy(ud)))
    order = jnp.argsort(-jnp.abs(jax.lax.stop_gradient(mu)))
    return mu[order]


def _fold_borders(cp, u):
    J = jax.jacfwd(cp.residual)(jax.lax.stop_gradient(u))[:, :-1]
    U, _, Vt = jnp.linalg.svd(jax.lax.stop_gradient(J))
    return U[:, -1], Vt[-1]


def cycle_bifurcation_point(cp, u, kind) -> Float[Array, " n"]:
    """A located cycle bifurcation `u = (orbit, T, p)` (fold of cycles, period doubling
    or Neimark–Sacker: e.g. `jnp.append(branch.special.x[k], branch.special.p[k])`)
    with implicit derivatives of all of `u` — the parameter value included — w.r.t.
    `cp`'s array leaves, from its defining system (module docstring).

    **Arguments:** `cp`: the `CollocationProblem` or `ShootingProblem` of the branch;
    `u`: the located point; `kind`: `SpecialKind.FOLD_CYCLE` (or `FOLD`),
    `PERIOD_DOUBLING` or `NEIMARK_SACKER` (or their labels).

    **Raises:** `ValueError` for another kind, or PD/NS with `d < 3`.
    """
    if isinstance(kind, str):
        kind = SpecialKind.from_label(kind)
    kind = SpecialKind(int(kind))
    u = _check_u(cp, u)
    if kind in (SpecialKind.PERIOD_DOUBLING, SpecialKind.NEIMARK_SACKER) and cp.dim < 3:
        raise ValueError(
            f"{kind.label} needs d >= 3 (in the plane the multiplier is positive); "
            f"this problem has d = {cp.dim}."
        )
    dyn, static = _partition(cp)
    if kind in (SpecialKind.FOLD_CYCLE, SpecialKind.FOLD):
        aux = _fold_borders(cp, u)

        def extra(c, uu, aux):
            psi, phi = aux
            J = jax.jacfwd(c.residual)(uu)[:, :-1]
            n = J.shape[0]
            A = jnp.block([[J, psi[:, None]], [phi[None, :], jnp.zeros((1, 1), J.dtype)]])
            rhs = jnp.zeros((n + 1,), J.dtype).at[-1].set(1.0)
            return jnp.linalg.solve(A, rhs)[-1]
    elif kind == SpecialKind.PERIOD_DOUBLING:
        aux = None

        def extra(c, uu, aux):
            return period_doubling_test(c.deflated_monodromy(uu))
    elif kind == SpecialKind.NEIMARK_SACKER:
        aux = None

        def extra(c, uu, aux):
            return neimark_sacker_test(c.deflated_monodromy(uu))
    else:
        raise ValueError(
            f"kind={kind.label}; use 'fold_cycle', 'period_doubling' or "
            "'neimark_sacker'."
        )

    def G(y, theta, aux):
        c = eqx.combine(theta, static)
        r = c.residual(y).astype(y.dtype)
        return jnp.concatenate([r, jnp.reshape(extra(c, y, aux), (1,)).astype(y.dtype)])

    return implicit_root(G, u, dyn, aux)
