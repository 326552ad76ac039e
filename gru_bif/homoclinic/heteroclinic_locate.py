"""Located heteroclinic connections: `locate_heteroclinic` (Newton on the BVP of
`gru_bif.homoclinic.heteroclinic` at fixed `p2`), its result `HeteroclinicSolution`,
`remesh_heteroclinic`, implicit derivatives (`heteroclinic_point`) and the per-point view
`HeteroclinicBranch` of a continued connection curve."""

import equinox as eqx
import jax.numpy as jnp
import numpy as np

from .._compile import filter_jit
from .._custom_types import Array, Float, Int
from .._results import RESULTS
from ..continuation.engine import corrector
from ..differentiate import implicit_root
from .differentiate import _with_args
from .heteroclinic import HeteroclinicProblem, heteroclinic_problem

__all__ = ["HeteroclinicSolution", "locate_heteroclinic", "remesh_heteroclinic",
           "heteroclinic_point", "HeteroclinicBranch"]


# --------------------------------------------------------------------------- location
class HeteroclinicSolution(eqx.Module):
    """A located connection. **Fields:** `problem` (after any re-mesh), `u`, `p1`, `p2`,
    `x_minus`, `x_plus`, `eigenvalues_minus`, `eigenvalues_plus`, `end_distance`
    (max of `|x(0) − x_−|`, `|x(1) − x_+|`), `residual` (max-norm of the BVP residual),
    `iterations`, `result`."""

    problem: HeteroclinicProblem
    u: Float[Array, " n"]
    p1: Float[Array, ""]
    p2: Float[Array, ""]
    x_minus: Float[Array, " d"]
    x_plus: Float[Array, " d"]
    eigenvalues_minus: Array
    eigenvalues_plus: Array
    end_distance: Float[Array, ""]
    residual: Float[Array, ""]
    iterations: Int[Array, ""]
    result: RESULTS

    @property
    def T(self):
        return self.problem.T

    def orbit(self, n: int = 600):
        return self.problem.orbit(self.u, n)

    def to_dict(self) -> dict:
        def ev(e):
            return [[float(z.real), float(z.imag)] for z in np.asarray(e)]

        hp = self.problem
        return {"p1": float(self.p1), "p2": float(self.p2),
                "param1": hp.problem.param.label, "param2": hp.param_name,
                "free_parameter": hp.free_parameter,
                "x_minus": np.asarray(self.x_minus).tolist(),
                "x_plus": np.asarray(self.x_plus).tolist(),
                "eigenvalues_minus": ev(self.eigenvalues_minus),
                "eigenvalues_plus": ev(self.eigenvalues_plus), "T": float(self.T),
                "end_distance": float(self.end_distance),
                "residual": float(self.residual), "iterations": int(self.iterations),
                "message": RESULTS[self.result] if self.result != RESULTS.successful
                else ""}


def locate_heteroclinic(hp: HeteroclinicProblem, u0, *, tol=None, max_iter: int = 30,
                        throw: bool = True, end_tolerance: float = 0.05,
                        remesh: int = 0) -> HeteroclinicSolution:
    """Newton (the engine's corrector) on the heteroclinic BVP at fixed `p2 = u0[-1]`:
    the orbit, both equilibria and — for a codimension-one connection — `p1`.

    **Arguments:** as `locate_homoclinic` (`tol` default 1e-11 in float64;
    `end_tolerance`: largest acceptable end distance as a fraction of `|x_+ − x_−|`;
    `remesh`: rounds of `remesh_heteroclinic` + Newton after convergence).

    **Returns:** a `HeteroclinicSolution`; `result` is `successful`,
    `heteroclinic_not_converged`, `heteroclinic_wrong_equilibria` or
    `heteroclinic_truncation_too_short`.

    **Raises:** `ValueError` for a bad `u0`; `RuntimeError` with the message when
    `throw=True` and the result is not `successful`.
    """
    u0 = jnp.asarray(u0)
    if u0.shape != (hp.size,):
        raise ValueError(f"u0 has shape {u0.shape}; expected ({hp.size},).")
    if not bool(jnp.all(jnp.isfinite(u0))):
        raise ValueError("u0 contains NaN or inf; start from a finite guess.")
    if tol is None:
        tol = 1e-11 if jnp.finfo(u0.dtype).bits >= 64 else 1e-5
    tol, end_tol = jnp.asarray(tol, u0.dtype), jnp.asarray(end_tolerance, u0.dtype)
    sol = _locate(hp, u0, tol, int(max_iter), end_tol)
    for _ in range(int(remesh)):
        if sol.result != RESULTS.successful:
            break
        hp, u1 = remesh_heteroclinic(hp, sol.u)
        sol = _locate(hp, u1, tol, int(max_iter), end_tol)
    if throw and sol.result != RESULTS.successful:
        raise RuntimeError(RESULTS[sol.result] + f" (p1 = {float(sol.p1)}, p2 = "
                           f"{float(sol.p2)}, end distance {float(sol.end_distance):.3g})")
    return sol


@filter_jit
def _locate(hp, u0, tol, max_iter, end_tol):
    e = jnp.zeros_like(u0).at[-1].set(1.0)
    u, it, ok = corrector(hp, u0, e, u0[-1], tol, max_iter)
    X, xm, xp, p1, p2 = hp.split(u)
    safe = jnp.where(jnp.all(jnp.isfinite(u)), u, jnp.zeros_like(u))
    ev_m, ev_p = hp.eigenvalues(safe)

    def hyperbolic(ev, n):
        re = jnp.real(ev)
        return (jnp.sum(re > 0) == n) & (jnp.min(jnp.abs(re)) > 1e-8 * jnp.maximum(
            1.0, jnp.max(jnp.abs(ev))))

    gap = jnp.linalg.norm(xp - xm)
    eq_ok = hyperbolic(ev_m, hp.n_minus) & hyperbolic(ev_p, hp.n_plus) & (
        gap > 1e3 * jnp.finfo(u.dtype).eps ** 0.5 * (1 + jnp.max(jnp.abs(xm))))
    end = jnp.maximum(jnp.linalg.norm(X[0] - xm), jnp.linalg.norm(X[-1] - xp))
    res = jnp.max(jnp.abs(hp.residual(safe)))
    result = RESULTS.where(
        ~ok, RESULTS.heteroclinic_not_converged,
        RESULTS.where(~eq_ok, RESULTS.heteroclinic_wrong_equilibria,
                      RESULTS.where(end > end_tol * gap,
                                    RESULTS.heteroclinic_truncation_too_short,
                                    RESULTS.successful)))
    return HeteroclinicSolution(problem=hp, u=u, p1=p1, p2=p2, x_minus=xm, x_plus=xp,
                                eigenvalues_minus=ev_m, eigenvalues_plus=ev_p,
                                end_distance=end, residual=res, iterations=it,
                                result=result)


@filter_jit
def _evaluate_shifted(hp, u, s, T_new, shift):
    return hp.evaluate(u, jnp.clip(s * T_new - shift, 0.0, hp.T) / hp.T)


def remesh_heteroclinic(hp: HeteroclinicProblem, u, *, ntst=None, T=None,
                        floor: float = 0.3):
    """Rebuild the problem around a solution `u`: a mesh adapted to the orbit, optional
    new `ntst` and truncation time `T` (time added or removed equally at both ends),
    the reference reset and the bases recomputed. **Returns:** `(hp_new, u_new)`."""
    u = jnp.asarray(u)
    _, xm, xp, p1, p2 = hp.split(u)
    T_old = float(hp.T)
    T_new = T_old if T is None else float(T)
    shift = 0.5 * (T_new - T_old)

    def orbit_fn(s):
        return _evaluate_shifted(hp, u, s, jnp.asarray(T_new), jnp.asarray(shift))

    return heteroclinic_problem(hp.problem, hp.param2, orbit_fn, np.asarray(xm),
                                np.asarray(xp), float(p1), float(p2), T_new,
                                ntst=hp.ntst if ntst is None else ntst, ncol=hp.ncol,
                                floor=floor)


# --------------------------------------------------------------------------- gradients
def heteroclinic_point(hp: HeteroclinicProblem, u, *, args=None) -> Float[Array, " n"]:
    """The located connection `u = (nodes, x_−, x_+, p1, p2)` with implicit derivatives
    of `(nodes, x_−, x_+, p1)` w.r.t. every array leaf of `hp` (or `args`, replacing
    `hp.problem.args`) and `p2 = u[-1]` — the rule of `homoclinic_point`
    (`gru_bif.differentiate.implicit_root` on `HeteroclinicProblem.residual`). `p1 =
    u[-2]`: for a codimension-one connection its gradient is the sensitivity of the
    connection's parameter (e.g. `jax.grad(lambda a: heteroclinic_point(hp, u,
    args=a)[-2])(args)`); for a persistent orbit `p1` is pinned to `args`.

    **Raises:** `ValueError` for another problem type, a `u` of the wrong shape or
    `args` of another structure.
    """
    if not isinstance(hp, HeteroclinicProblem):
        raise ValueError(f"`hp` must be a HeteroclinicProblem; got {type(hp).__name__} "
                         "(use the solution's `sol.problem`).")
    u = jnp.asarray(u)
    if u.shape != (hp.size,):
        raise ValueError(f"u has shape {u.shape}; expected ({hp.size},).")
    hp = _with_args(hp, args)
    dyn, static = eqx.partition(hp, eqx.is_inexact_array)

    def G(y, theta, aux):
        d, p2 = theta
        return eqx.combine(d, static).residual(jnp.concatenate([y, p2[None]])).astype(
            y.dtype)

    p2 = u[-1]
    y = implicit_root(G, u[:-1], (dyn, p2), None)
    return jnp.concatenate([y, p2[None]])


class HeteroclinicBranch(eqx.Module):
    """A per-point view of a continued connection curve (`gru_bif.continuation` on a
    `HeteroclinicProblem`): `p1`, `p2` `(N,)`, `x_minus`, `x_plus` `(N, d)`, `nodes`
    `(N, ntst ncol + 1, d)`, NaN-padded, `num_points` real rows."""

    problem: HeteroclinicProblem
    p1: Float[Array, " N"]
    p2: Float[Array, " N"]
    x_minus: Float[Array, "N d"]
    x_plus: Float[Array, "N d"]
    nodes: Float[Array, "N nodes d"]
    num_points: Int[Array, ""]

    def __init__(self, problem: HeteroclinicProblem, branch):
        if branch.x.shape[-1] != problem.size - 1:
            raise ValueError(
                f"branch.x rows have length {branch.x.shape[-1]}, this problem's state "
                f"{problem.size - 1}: pass the problem the branch came from.")
        X, xm, xp, p1, _ = problem.split(branch.x)
        self.problem, self.p1, self.p2 = problem, p1, branch.p
        self.x_minus, self.x_plus, self.nodes = xm, xp, X
        self.num_points = branch.num_points

    def __len__(self):
        return int(self.num_points)

    def u(self, i: int):
        return self.problem.pack(self.nodes[i], self.x_minus[i], self.x_plus[i],
                                 self.p1[i], self.p2[i])
