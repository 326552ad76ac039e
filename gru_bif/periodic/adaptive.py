"""Cycle branches that go all the way: `continue_cycles`, the adaptive front door.

A branch of cycles is continued in short compiled runs of the engine (`adapt_every`
steps each, one program for the whole branch: the mesh is data, not a shape). Between
two runs, as AUTO does every few steps (its `IAD`):

1. **the collocation error** of every new cycle is estimated
    (`CollocationProblem.collocation_error`); cycles above `error_tol` are dropped and
    the run is repeated from the last good cycle with a smaller step;
2. **the mesh moves**: it equidistributes the error monitor on the last cycle
    (`adapt_mesh`), the phase reference becomes that cycle, and the tangent is carried
    over to the new mesh; if a moved mesh still cannot meet `error_tol`, `ntst` doubles
    (rows already computed are split exactly: a piecewise polynomial on a mesh is the
    same polynomial on its halves), up to `ntst_max`;
3. **the end is recognised**: a branch that shrinks back onto an equilibrium (the
    orbit passes through zero amplitude) stops at the last cycle before it and the Hopf
    point there is located (`end.kind == "hopf"`); a branch whose period passes
    `max_period` stops and its end is classified and located — a saddle (or
    saddle-focus) homoclinic orbit by the projection boundary-value problem
    (`gru_bif.homoclinic.locate_homoclinic` from the longest cycle), a SNIC by the fold
    of equilibria on the orbit;
4. **special points are genuine**: folds of cycles, period doublings and
    Neimark–Sacker points are kept only when the located point has its critical
    multiplier (1, −1, a pair `e^{±iθ}`) within `multiplier_tol` and is not at a Hopf
    end.

Steps are measured in the problem's integral norm (`CollocationProblem(norm=
"integral")`): the orbit by `∫|δx|²dt`, the period relatively, the parameter as is.

This module is long because `continue_cycles` is one driver — continuation on a
moving mesh with step control in the integral norm — and the location of how its
branch ends (Hopf point, homoclinic orbit, SNIC, period bound) shares its state.
"""

import dataclasses
import math
import sys
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np

from .._compile import filter_jit
from .._results import RESULTS
from ..branch import Branch, SpecialKind, SpecialPoints
from ..problem import AbstractParam
from ..collocation.mesh import node_times
from .collocation import CollocationProblem, _error_monitor, _max_error
from .mesh import _adapt, adapt_mesh, with_mesh
from .views import CycleBranch

__all__ = ["CycleBranchEnd", "continue_cycles"]


@dataclasses.dataclass(frozen=True)
class CycleBranchEnd:
    """How a branch of cycles ended (`CycleBranch.end`).

    - `kind`: `"hopf"` (the cycles shrank onto an equilibrium: the Hopf point at `p`),
        `"homoclinic"` (the period grew without bound at a saddle or saddle-focus:
        the homoclinic orbit at `p`), `"snic"` (at a fold of equilibria on the orbit),
        `"period_bound"` (the period passed `max_period` but the end could not be
        classified), `"none"`.
    - `p`: the located parameter value (or, when `located` is False, that of the last
        cycle); `located`: whether `p` is the solution of the end's defining system;
    - `period`: Hopf: `2π/ω`; homoclinic or SNIC: the last cycle's period;
    - `x`: the equilibrium (Hopf point, saddle, fold; for `"period_bound"` the
        equilibrium nearest the last cycle, at `distance` from it);
    - `omega`, `l1`: Hopf data; `saddle_quantity`, `saddle_type` (`"saddle"` or
        `"saddle-focus"`), `eigenvalues`: the saddle's; `last_cycle_p`: the parameter
        of the last computed cycle; `message`: why a location failed (empty if fine).
    """

    kind: str
    p: float
    located: bool
    period: float
    x: tuple
    last_cycle_p: float
    omega: float = float("nan")
    l1: float = float("nan")
    saddle_quantity: float = float("nan")
    saddle_type: str = ""
    eigenvalues: tuple = ()
    distance: float = float("nan")
    orbit: tuple = ()
    message: str = ""

    def to_dict(self) -> dict:
        """A JSON-ready dict (NaN entries left out)."""
        out = {"kind": self.kind, "p": self.p, "located": self.located,
               "period": self.period, "equilibrium": list(self.x),
               "last_cycle_p": self.last_cycle_p}
        for k in ("omega", "l1", "saddle_quantity", "distance"):
            v = getattr(self, k)
            if np.isfinite(v):
                out[k] = v
        if self.saddle_type:
            out["saddle_type"] = self.saddle_type
        if self.eigenvalues:
            out["eigenvalues"] = [[float(e.real), float(e.imag)] for e in self.eigenvalues]
        if self.message:
            out["message"] = self.message
        return out


# --------------------------------------------------------------------------- helpers
# The helpers below run once per segment of a branch, on a few vectors: compiled as
# small programs (`gru_bif._compile`: the quickest pipeline in mode "auto").
@filter_jit(small=True)
def _row_info(cp: CollocationProblem, x_rows, p_rows):
    """Per row (on `cp`'s mesh): collocation error, amplitude and the centred orbit
    (node deviations from the mean, weighted) for the zero-amplitude test."""
    u = jnp.concatenate([x_rows, p_rows[:, None]], axis=1)
    safe = jnp.all(jnp.isfinite(u), axis=1)
    u = jnp.where(safe[:, None], u, cp.pack(cp.reference, 1.0, 0.0).astype(u.dtype))
    err = jax.vmap(lambda uu: jnp.max(_error_monitor(cp, uu)[0]))(u)
    X = jax.vmap(lambda uu: cp.split(uu)[0])(u)
    err = err / (1 + jnp.max(jnp.abs(X), axis=(1, 2)))
    w = cp.node_weights(u.dtype)
    mean = jnp.einsum("n,knd->kd", w, X)
    dev = X - mean[:, None, :]
    amp = jnp.max(jnp.linalg.norm(dev, axis=-1), axis=-1)
    return jnp.where(safe, err, jnp.nan), jnp.where(safe, amp, jnp.nan), dev, mean


@filter_jit(small=True)
def _rel_error(cp, u):
    X, _, _ = cp.split(u)
    return _max_error(cp, u) / (1 + jnp.max(jnp.abs(X)))


@filter_jit(small=True)
def _refine_exact(cp: CollocationProblem, X, mesh, factor: int):
    """Node values of the orbit `X` (on `mesh`, `cp.ntst` intervals) on the mesh with
    every interval split into `factor` equal parts: the same piecewise polynomial."""
    mesh = jnp.asarray(mesh)
    h = jnp.diff(mesh)
    frac = jnp.arange(factor, dtype=mesh.dtype) / factor
    fine = (mesh[:-1, None] + h[:, None] * frac[None, :]).reshape(-1)
    fine = jnp.concatenate([fine, mesh[-1:]])
    u = cp.pack(X, 1.0, 0.0)
    vals = with_mesh(cp, mesh).evaluate(u, node_times(fine, cp.ncol))
    return fine, vals


@filter_jit(small=True)
def _transfer(cp_old, cp_new, v):
    """A vector `v = (nodes, T, p)` (a solution or a tangent) carried from `cp_old`'s
    mesh to `cp_new`'s by evaluating its node part as a piecewise polynomial."""
    X, T, p = cp_old.split(v)
    Xn = cp_old.evaluate(cp_old.pack(X, 0.0, 0.0), node_times(cp_new.mesh, cp_old.ncol))
    return cp_new.pack(Xn, T, p)


@filter_jit(small=True)
def _jacobian(cp, u):
    return jax.jacfwd(cp.residual)(u)


@filter_jit(small=True)
def _null_vector(cp, u):
    """The null vector of `H_u` (the branch's tangent, unnormalised orientation)."""
    J = jax.jacfwd(cp.residual)(u)
    return jnp.linalg.svd(J)[2][-1].astype(u.dtype)


def _orient(cp, u, t, ref):
    """`t` or `−t`, whichever has a positive step-norm product with `ref`."""
    w = cp.arclength_weights(u)
    w = jnp.ones_like(t) if w is None else w
    return jnp.where(jnp.dot(w * t, ref) < 0, -t, t)


def _growth_sign(cp, u, t):
    X, _, _ = cp.split(u)
    tX, _, _ = cp.split(t)
    w = cp.node_weights(u.dtype)[:, None]
    mean = jnp.sum(w * X, 0)
    growth = jnp.sum(w * (X - mean) * (tX - jnp.sum(w * tX, 0)))
    return jnp.where(growth < 0, -t, t)


def _bordered_tangent(cp, u, ref):
    """The tangent at `u` from the bordered system `[H_u; refᵀ] t = e_last` (the
    problem's own, condensed, solve), with a positive product with `ref`."""
    _, lin = cp.linearize(u)
    e = jnp.zeros_like(u).at[-1].set(1.0)
    t = cp.bordered_solve(u, lin, ref, e)
    return t / jnp.linalg.norm(t)


def _prefetch(cp, u, built, adapt_every: int) -> None:
    """Compile, in background threads, what a first `continue_cycles` call will run
    with these shapes: the continuation loop and location programs
    (`prefetch_programs`), and the per-segment helpers (`_row_info`, the tangent, the
    mesh move, the error and the transfer), so that a first call waits for the slowest
    of them rather than for their sum. Only with a spare core, and only when the loop
    was not compiled yet; the compiled code is what later calls find in the caches."""
    import threading

    from ..continuation.programs import prefetch_programs

    c, settings, static = built
    if not prefetch_programs(c, u, settings, static, (1.0,), u):
        return  # not a first call with these shapes (or no spare core): all compiled
    x_rows = np.zeros((adapt_every + 1, u.shape[0] - 1), u.dtype)
    p_rows = np.zeros(adapt_every + 1, u.dtype)
    floor = np.asarray(0.05, u.dtype)
    jobs = ((_row_info, (cp, x_rows, p_rows)), (_oriented_tangent, (c, u, u)),
            (_adapt, (cp, u, cp.ntst, floor)), (_rel_error, (cp, u)),
            (_transfer, (cp, cp, u)))

    def work():
        for fn, args in jobs:
            try:  # compiled, not run: a later call with these shapes reuses it
                fn.lower(*args).compile()
            except Exception:  # noqa: BLE001 - the call itself will compile (and say)
                pass

    # not a daemon: a process exits only after it (a compile cut off at exit can crash)
    threading.Thread(target=work, name="gru_bif-prefetch").start()


def _tangent_at(cp, u, orient=None):
    """A tangent of the branch at `u` (null vector of `H_u`), oriented to have a
    positive step-norm product with `orient` if given (then found by one bordered
    solve with `orient` as the border; else by an SVD of the dense Jacobian)."""
    if orient is None:
        return _null_vector(cp, u)
    return _oriented_tangent(cp, u, orient)


@filter_jit(small=True)
def _oriented_tangent(cp, u, orient):
    return _orient(cp, u, _bordered_tangent(cp, u, orient), orient)


@filter_jit(small=True)
def _first_tangent(cp, u):
    return _growth_sign(cp, u, _bordered_tangent(cp, u, _start_border(cp, u)))


@filter_jit(small=True)
def _signed_null_vector(cp, u):
    return _growth_sign(cp, u, _null_vector(cp, u))


def _start_border(cp, u):
    """A border for the first tangent: the amplitude-growth direction of the orbit plus a
    fixed random vector (so that its product with the tangent is generically nonzero)."""
    X, _, _ = cp.split(u)
    w = cp.node_weights(u.dtype)[:, None]
    g = cp.pack(X - jnp.sum(w * X, 0), jnp.zeros((), u.dtype), jnp.zeros((), u.dtype))
    r = jax.random.normal(jax.random.PRNGKey(0), u.shape, u.dtype)
    g = g / jnp.maximum(jnp.linalg.norm(g), jnp.finfo(u.dtype).tiny)
    return g + r / jnp.linalg.norm(r)


def _auto_tangent(cp, u):
    """The tangent at `u` oriented so that the cycle's amplitude grows (away from the
    Hopf point it started at): one bordered (condensed, `O(ntst)`) solve; the SVD of the
    dense `H_u` only if that fails (it costs `O((ntst·ncol·d)³)`: more than 10 minutes
    on one core at d = 64, ntst = 40, ncol = 4)."""
    t = _first_tangent(cp, u)  # one program
    if not np.all(np.isfinite(np.asarray(t))):
        t = _signed_null_vector(cp, u)
    return t


def _locate_hopf(problem, x, p, omega):
    """Newton on the Hopf system `F = 0`, `J v = iωv`, `c·v = 1` from `(x, p, ω)`;
    returns `(x, p, ω, l1)` or `None` if Newton fails."""
    x = jnp.asarray(x)
    A = np.asarray(_jac_x(problem, x, jnp.asarray(p, x.dtype)))
    ev, V = np.linalg.eig(A)
    i = int(np.argmin(np.where(ev.imag > 0, np.abs(ev - 1j * omega), np.inf)))
    if not np.isfinite(ev[i]) or ev[i].imag <= 0:
        return None
    q = V[:, i] / V[:, i][np.argmax(np.abs(V[:, i]))]
    c = q.real / np.dot(q.real, q.real)
    qn = q / complex(np.dot(c, q))
    dt = x.dtype
    y0 = jnp.concatenate([x, jnp.asarray([p, ev[i].imag], dt),
                          jnp.asarray(qn.real, dt), jnp.asarray(qn.imag, dt)])
    y, ok, l1 = _hopf_solve(problem, y0, jnp.asarray(c, dt))
    if not bool(ok):
        return None
    d = x.shape[0]
    return np.asarray(y[:d]), float(y[d]), abs(float(y[d + 1])), float(l1)


@filter_jit(small=True)
def _jac_x(problem, x, p):
    return jax.jacfwd(lambda y: problem.F(y, p))(x)


@filter_jit(small=True)
def _hopf_solve(problem, y0, c):
    import optimistix as optx

    from .._linalg import null_vector
    from ..bifurcations.normal_form import first_lyapunov

    d = c.shape[0]

    def G(y, c):
        xx, pp, w = y[:d], y[d], y[d + 1]
        vr, vi = y[d + 2:2 * d + 2], y[2 * d + 2:]
        Fx = lambda z: problem.F(z, pp)  # noqa: E731
        Jvr = jax.jvp(Fx, (xx,), (vr,))[1]
        Jvi = jax.jvp(Fx, (xx,), (vi,))[1]
        return jnp.concatenate([Fx(xx), Jvr + w * vi, Jvi - w * vr,
                                (jnp.dot(c, vr) - 1)[None], jnp.dot(c, vi)[None]])

    tol = 1e-13 if jnp.finfo(y0.dtype).bits >= 64 else 1e-6
    sol = optx.root_find(G, optx.Newton(rtol=tol, atol=tol), y0, args=c, throw=False,
                         max_steps=50)
    y = sol.value
    ok = (sol.result == optx.RESULTS.successful) & jnp.all(jnp.isfinite(y))
    xh, ph, wh = y[:d], y[d], y[d + 1]
    Jh = jax.jacfwd(lambda z: problem.F(z, ph))(xh)
    qv = y[d + 2:2 * d + 2] + 1j * y[2 * d + 2:]
    qv = qv / jnp.linalg.norm(qv)
    cdt = qv.dtype
    pl = null_vector(Jh.T.astype(cdt) + 1j * wh * jnp.eye(d, dtype=cdt), qv, jnp.conj(qv))
    l1 = first_lyapunov(lambda z: problem.F(z, ph), xh, Jh, jnp.abs(wh), qv, pl)
    return y, ok, l1


class FixedParam(AbstractParam):
    """A stand-in second parameter for locating a homoclinic orbit in one parameter: it
    reads 0 and changes nothing. One class at module level, so every location shares
    one compiled program (a class made per call would be a new static value)."""

    def get(self, args):
        return jnp.zeros(())

    def set(self, args, value):
        return args

    @property
    def label(self) -> str:
        return "(fixed)"


def _end_at_long_cycle(cp, u, last_p, homoclinic_ntst):
    """Classify and locate what the long-period cycle `u` approaches."""
    from ..homoclinic.start import classify_cycle_end, homoclinic_from_cycle
    from ..homoclinic.locate import locate_homoclinic

    end = classify_cycle_end(cp, u)
    ev = tuple(complex(e) for e in np.asarray(end.eigenvalues))
    x = tuple(float(v) for v in np.asarray(end.x_eq))
    if end.kind == "homoclinic":
        stype = ("saddle-focus" if any(abs(e.imag) > 1e-8 * max(1.0, abs(e)) for e in ev)
                 else "saddle")
        base = dict(period=float(end.period), x=x, last_cycle_p=last_p,
                    saddle_quantity=float(end.saddle_quantity), saddle_type=stype,
                    eigenvalues=ev)
        # truncation: each half long enough for the orbit to come within ~1e-6 of the
        # saddle (|e^{λT/2}|), so the projection conditions cost O(1e-12) in p
        rate = min(abs(e.real) for e in ev)
        T_hom = max(float(end.period), 2 * math.log(1e6) / max(rate, 1e-12))
        try:
            hp, h0 = homoclinic_from_cycle(cp, u, FixedParam(), T=T_hom,
                                           ntst=homoclinic_ntst)
            sol = locate_homoclinic(hp, h0, throw=False, remesh=1)
        except (ValueError, RuntimeError) as e:
            return CycleBranchEnd("homoclinic", float(end.p), False, message=str(e), **base)
        if sol.result != RESULTS.successful:
            return CycleBranchEnd("homoclinic", float(end.p), False,
                                  message=RESULTS[sol.result], **base)
        _, oxs = sol.orbit(400)
        base.update(x=tuple(float(v) for v in np.asarray(sol.saddle)),
                    orbit=tuple(tuple(float(v) for v in row) for row in np.asarray(oxs)),
                    saddle_quantity=float(sol.saddle_quantity),
                    eigenvalues=tuple(complex(e) for e in np.asarray(sol.eigenvalues)))
        return CycleBranchEnd("homoclinic", float(sol.p1), True, **base)
    if end.kind == "snic":
        loc = _locate_fold(cp.problem, np.asarray(end.x_eq), float(end.p))
        if loc is not None:
            xf, pf = loc
            return CycleBranchEnd("snic", pf, True, float(end.period),
                                  tuple(float(v) for v in xf), last_p, eigenvalues=ev)
        return CycleBranchEnd("snic", float(end.p), False, float(end.period), x, last_p,
                              eigenvalues=ev, message="the fold of equilibria on the "
                              "orbit could not be located")
    from ..equilibria import find_equilibria

    X, _, p = cp.split(u)
    orb = np.asarray(X)
    guesses = np.concatenate([orb[:: max(1, orb.shape[0] // 16)], orb.mean(0)[None]])
    eq = find_equilibria(cp.problem.with_p(p), guesses=guesses, throw=False)
    xs = np.asarray(eq.x)[: int(eq.count)]
    dist = float("nan")
    if len(xs):
        dists = [float(np.min(np.linalg.norm(orb - xe, axis=1))) for xe in xs]
        j = int(np.argmin(dists))
        x, dist = tuple(float(v) for v in xs[j]), dists[j]
    return CycleBranchEnd("period_bound", float(end.p), False, float(end.period), x,
                          last_p, distance=dist,
                          message="the period passed the bound, but no saddle or fold "
                          "lies on the last cycle")


def _locate_fold(problem, x, p):
    """Newton on the fold system `F = 0`, `J v = 0`, `c·v = 1` from `(x, p)`."""
    import optimistix as optx

    x = jnp.asarray(x)
    d = x.shape[0]
    A = np.asarray(jax.jacfwd(lambda y: problem.F(y, p))(x))
    ev, V = np.linalg.eig(A)
    v0 = np.real(V[:, int(np.argmin(np.abs(ev)))])
    c = jnp.asarray(v0 / np.dot(v0, v0))

    def G(y, _):
        xx, pp, v = y[:d], y[d], y[d + 1:]
        Fx = lambda z: problem.F(z, pp)  # noqa: E731
        return jnp.concatenate([Fx(xx), jax.jvp(Fx, (xx,), (v,))[1],
                                (jnp.dot(c, v) - 1)[None]])

    y0 = jnp.concatenate([x, jnp.asarray([p], x.dtype), jnp.asarray(v0, x.dtype)])
    tol = 1e-13 if jnp.finfo(x.dtype).bits >= 64 else 1e-6
    sol = optx.root_find(G, optx.Newton(rtol=tol, atol=tol), y0, throw=False,
                         max_steps=50)
    if sol.result != optx.RESULTS.successful or not bool(jnp.all(jnp.isfinite(sol.value))):
        return None
    return np.asarray(sol.value[:d]), float(sol.value[d])


def _genuine(kind, rec, tol):
    """Does a located special point carry its critical multiplier?"""
    mu = complex(rec.get("mu_re", np.nan), rec.get("mu_im", 0.0))
    if kind == SpecialKind.FOLD_CYCLE:
        return abs(mu - 1) <= tol
    if kind == SpecialKind.PERIOD_DOUBLING:
        return abs(mu + 1) <= tol
    if kind == SpecialKind.NEIMARK_SACKER:
        return abs(abs(mu) - 1) <= tol and abs(mu.imag) > tol
    return True


# --------------------------------------------------------------------------- driver
def continue_cycles(
    cp: CollocationProblem,
    u0,
    *,
    p_min,
    p_max,
    ds: float = 0.02,
    ds_min: "float | None" = None,
    ds_max: float = 0.5,
    max_steps: int = 500,
    direction="auto",
    error_tol: "float | None" = None,
    adapt_every: int = 5,
    max_period: float = 1e4,
    homoclinic_factor: float = 8.0,
    ntst_max: "int | None" = None,
    multiplier_tol: float = 1e-6,
    locate_ends: bool = True,
    homoclinic_ntst: int = 80,
    tol=None,
    max_special_points: int = 8,
    progress: bool = False,
    throw: bool = True,
) -> CycleBranch:
    """Continue a branch of cycles from `u0` with mesh adaptation, integral-norm step
    control, genuine special points and located ends (see the module docstring).

    **Arguments:**

    - `cp`, `u0`: a `CollocationProblem` and a (nearly) periodic solution of it, as
        returned by `cycle_from_hopf` or `cycle_from_simulation`.
    - `p_min`, `p_max`: the parameter range.
    - `ds`, `ds_min`, `ds_max`: steps in the problem's norm (integral norm of the
        orbit, relative period, parameter).
    - `max_steps`: the most accepted steps in all.
    - `direction`: `"auto"` (default: the way the cycles grow, away from the Hopf point
        or the small cycle `u0` is near), `"forward"` (increasing `p`) or `"backward"`.
    - `error_tol`: the relative collocation error every reported cycle meets:
        `collocation_error / (1 + max|x|)` (default 1e-5 in float64, 1e-3 in float32;
        see `CollocationProblem.collocation_error`, which over-estimates the true error
        2–5×). Mesh values, the period and the parameter are far more accurate
        (`O(h^{2 ncol})`).
    - `adapt_every`: steps between mesh adaptations (AUTO's `IAD`; default 5).
    - `max_period`: the branch stops where the period passes this and its end is
        classified and located.
    - `homoclinic_factor`: once the period has grown this many times over the
        branch's smallest (and again at every doubling), the longest cycle is
        classified (`gru_bif.homoclinic.classify_cycle_end`); if it runs through a
        saddle (or a fold of equilibria) and the homoclinic orbit (or SNIC) is located
        from it, the branch ends there, well before `max_period`.
    - `ntst_max`: the largest mesh `ntst` may double to (default `4 cp.ntst`); each new
        size compiles once.
    - `multiplier_tol`: how close to 1 (−1, the unit circle) a located fold of cycles
        (period doubling, Neimark–Sacker) must have its critical multiplier.
    - `locate_ends`: locate the Hopf point, homoclinic orbit or SNIC that ends the
        branch (`end.located`); `homoclinic_ntst`: the mesh of that homoclinic BVP.
    - `tol`, `max_special_points`: as in `gru_bif.continuation` (per run).
    - `progress`: print a line per run to stderr.
    - `throw`: raise if the branch cannot start (else return it with one row and
        `stop_reason` saying why).

    **Returns:** a `CycleBranch` (every row on its own mesh, `errors` filled in), with
    `end` (a `CycleBranchEnd` or `None`) and `stop_reason`.

    **Raises:** `ValueError` for bad arguments; `RuntimeError` if `throw` and the first
    cycle does not converge.

    !!! example

        ```python
        cp, u0 = gru_bif.periodic.cycle_from_hopf(problem, eq_branch, dp=1e-3)
        cycles = gru_bif.periodic.continue_cycles(cp, u0, p_min=0.0, p_max=0.15)
        cycles.end.kind, cycles.end.p     # e.g. "homoclinic", 0.1055...
        ```
    """
    from ..continuation.api import build_continuation
    from ..continuation.engine import PseudoArclength
    from ..continuation.programs import continuation_programs

    if not isinstance(cp, CollocationProblem):
        raise ValueError(
            "`cp` must be a CollocationProblem (from cycle_from_hopf or "
            f"cycle_from_simulation); got {type(cp).__name__}."
        )
    u = np.asarray(u0)  # the driver works on the host: no eager device operations
    if u.shape != (cp.size,):
        raise ValueError(
            f"u0 has shape {u.shape}; this problem's unknowns have shape ({cp.size},) "
            "(ntst·ncol·d nodes, period, parameter): pass the u0 made with this cp."
        )
    if not np.all(np.isfinite(u)):
        raise ValueError("u0 contains NaN or inf; start from a finite cycle guess.")
    p_min, p_max = float(p_min), float(p_max)
    if not p_min < p_max:
        raise ValueError(f"p_min={p_min} must be below p_max={p_max}.")
    if not p_min <= float(u[-1]) <= p_max:
        raise ValueError(
            f"The start cycle's parameter {float(u[-1])} lies outside [p_min, p_max] = "
            f"[{p_min}, {p_max}]; widen the range."
        )
    if not (ds > 0 and ds_max >= ds and max_period > 0 and adapt_every >= 2
            and max_steps >= 1):
        raise ValueError(
            f"ds={ds}, ds_max={ds_max}, max_period={max_period}, adapt_every="
            f"{adapt_every}, max_steps={max_steps}: use 0 < ds <= ds_max, a positive "
            "max_period, adapt_every >= 2 and max_steps >= 1."
        )
    if direction not in ("auto", "forward", "backward"):
        raise ValueError(f"direction={direction!r}; use 'auto', 'forward' or 'backward'.")
    dtype = u.dtype
    f64 = np.finfo(dtype).bits >= 64
    if error_tol is None:
        error_tol = 1e-5 if f64 else 1e-3
    if ds_min is None:
        ds_min = 1e-6 * ds if f64 else 1e-3 * ds
    ntst_max = 4 * cp.ntst if ntst_max is None else int(ntst_max)
    adapt_every = int(adapt_every)

    def build(cp_, u_, ds_):
        c, u_full, settings, static = build_continuation(
            cp_, u_[:-1], u_[-1], p_min=p_min, p_max=p_max, ds=ds_, ds_min=ds_min,
            ds_max=ds_max, max_steps=adapt_every, tol=tol, max_newton=8,
            target_newton=3, max_angle=0.6, max_special_points=max_special_points,
            algorithm=PseudoArclength(), hopf="off", stability=True)
        return c, settings, static

    # first calls: the loop program and the helpers compile on the other core while
    # this thread finds the first tangent and compiles the loop
    _prefetch(cp, u, build(cp, u, float(ds)), adapt_every)
    # the start: on the problem's mesh, adapted to the start cycle
    t = np.asarray(_auto_tangent(cp, u))
    if direction == "forward" and float(t[-1]) < 0 or direction == "backward" and float(
            t[-1]) > 0:
        t = -t

    rows = []        # (x_row, p, stable, n_unstable, err, mesh, ntst)
    specials = []    # (kind, p, x_row, mesh, ntst, index, precision, located, data)
    steps = 0
    cur_ds = float(ds)
    stop, end = "", None
    failures = 0
    t_start = time.perf_counter()
    amp_max = 0.0
    per_min = np.inf
    next_try = float(homoclinic_factor)
    last_dev = None
    first = True
    while True:
        c, settings, static = build(cp, u, cur_ds)
        br = continuation_programs(c, u, settings, static, (1.0,), t, warm=False)
        n = int(br.num_points)
        res = int(np.asarray(br.result._value))  # compared on the host
        if n == 0 or (n == 1 and first and res in _codes(RESULTS.start_not_converged,
                                                        RESULTS.singular_start,
                                                        RESULTS.nonfinite_vector_field)):
            msg = RESULTS[RESULTS.cycle_start_not_converged]
            if throw and first:
                raise RuntimeError(f"continue_cycles could not start: {msg}")
            stop = msg
            break
        X_all, P_all = np.asarray(br.x), np.asarray(br.p)
        X, P = X_all[:n], P_all[:n]
        stable_h, nu_h = np.asarray(br.stable), np.asarray(br.n_unstable)
        # on the whole (fixed-size) row buffer: one compiled shape for every run
        err, amp, dev, _ = (np.asarray(a)[:n] for a in _row_info(cp, X_all, P_all))
        per = cp.split(np.concatenate([X, P[:, None]], 1))[1] if n else []
        # which rows to keep: row 0 repeats the previous run's last row (after moving
        # the mesh), so it is kept only for the first run
        keep = n
        reason = ""
        bad = np.nonzero(~(err <= error_tol))[0]
        bad = bad[bad >= (0 if first else 1)]
        if len(bad):
            keep = int(bad[0])
            reason = "error"
        # passing through zero amplitude: the orbit flips sign against its predecessor
        flip = None
        for i in range(max(1, 0), n):
            prev = dev[i - 1] if i >= 1 else last_dev
            if prev is None:
                continue
            if float(np.sum(dev[i] * prev)) < 0:
                flip = i
                break
        if flip is not None and flip < keep:
            keep = flip
            reason = "hopf"
        over = np.nonzero(per > max_period)[0]
        if len(over) and int(over[0]) < keep:
            keep = int(over[0]) + 1
            reason = "period"
        start_row = 0 if first else 1
        for i in range(start_row, keep):
            rows.append((X[i], float(P[i]), bool(stable_h[i]), int(nu_h[i]), float(err[i]),
                         np.asarray(cp.mesh), cp.ntst))
            amp_max = max(amp_max, float(amp[i]))
        base = len(rows) - keep  # global index of this run's row 0
        sp = br.special
        for k in range(int(sp.count)):
            idx = int(sp.index[k])
            if idx + 1 > keep - 1 or idx < 0:
                continue  # the bracket reaches past the kept rows
            kind = SpecialKind(int(sp.kind[k]))
            rec = {name: float(sp.data[name][k]) for name in sp.data}
            if not _genuine(kind, rec, multiplier_tol):
                continue
            specials.append((kind, float(sp.p[k]), np.asarray(sp.x[k]), np.asarray(cp.mesh),
                             cp.ntst, base + idx, float(sp.precision[k]),
                             bool(sp.located[k]), rec))
        steps += max(keep - start_row, 0)
        if progress:
            print(f"cycles: {len(rows)} cycles, {cp.param_name} = {rows[-1][1]:.8g}, "
                  f"period {per[keep - 1] if keep else float('nan'):.5g}, "
                  f"ntst {cp.ntst}, {time.perf_counter() - t_start:.1f} s",
                  file=sys.stderr)
        if keep == 0:  # the start cycle itself misses error_tol: move the mesh first
            failures += 1
            if failures > 3:
                stop = (f"the start cycle's collocation error {err[0]:.3g} is above "
                        f"error_tol = {error_tol:g} even on a moved mesh; raise ntst")
                break
            u0c = np.append(X[0], P[0])
            nt = min(2 * cp.ntst, ntst_max) if failures > 1 else cp.ntst
            cp_new, u = adapt_mesh(cp, u0c, ntst=nt)
            t = np.asarray(_transfer(cp, cp_new, t))
            cp, u = cp_new, np.asarray(u)
            continue
        first = False
        last = keep - 1
        u_last = np.append(X[last], P[last])
        if reason == "hopf":
            stop = "the cycles shrank onto an equilibrium (Hopf point)"
            if locate_ends:
                end = _hopf_end(cp, u_last, np.append(X[flip], P[flip]), dev, last, flip)
            break
        if reason == "period":
            stop = f"the period passed max_period = {max_period:g}"
            if locate_ends:
                end = _end_at_long_cycle(cp, u_last, float(P[last]), homoclinic_ntst)
            break
        per_min = min(per_min, float(np.min(per[:keep])))
        if locate_ends and float(per[last]) >= next_try * per_min:
            next_try *= 2
            trial = _end_at_long_cycle(cp, u_last, float(P[last]), homoclinic_ntst)
            if trial.kind in ("homoclinic", "snic") and trial.located:
                end = trial
                stop = (f"the period grew to {float(per[last]):.4g} at a "
                        f"{'saddle' if trial.kind == 'homoclinic' else 'fold'}: "
                        f"{trial.kind} orbit located")
                break
        if res in _codes(RESULTS.reached_parameter_bound) and keep == n:
            stop = "reached the parameter bound"
            break
        if steps >= max_steps:
            stop = f"used all max_steps = {max_steps} steps"
            break
        # move the mesh onto the last good cycle, carry the tangent over
        t_last = _tangent_at(c, u_last, t)
        cp_new, u_new = adapt_mesh(cp, u_last)
        e_new = float(_rel_error(cp_new, u_new))
        if e_new > 0.5 * error_tol and 2 * cp.ntst <= ntst_max and (
                reason == "error" or e_new > error_tol):
            cp_new, u_new = adapt_mesh(cp, u_last, ntst=2 * cp.ntst)
        t = np.asarray(_transfer(cp, cp_new, t_last))
        cp, u = cp_new, np.asarray(u_new)
        rows_u = np.full((X_all.shape[0], u.shape[0]), np.nan, u.dtype)  # one shape
        rows_u[0] = u
        last_dev = np.asarray(_row_info(cp, rows_u[:, :-1], rows_u[:, -1])[2])[0]
        ds_h = np.asarray(br.ds)
        cur_ds = float(ds_h[last]) if last > 0 and np.isfinite(ds_h[last]) else cur_ds
        if reason == "error" or keep < 2 or res in _codes(RESULTS.corrector_failed):
            failures += 1
            cur_ds = max(cur_ds / 2, float(ds_min))
            if failures > 6:
                if reason == "error":
                    stop = (f"the collocation error could not be kept below error_tol = "
                            f"{error_tol:g} with ntst up to {ntst_max} (raise ntst_max)")
                else:
                    stop = RESULTS[RESULTS.corrector_failed]
                if locate_ends and float(per[last]) >= 2 * per_min:
                    trial = _end_at_long_cycle(cp, u_last, float(P[last]),
                                               homoclinic_ntst)
                    if trial.kind != "period_bound":
                        end = trial
                break
        else:
            failures = 0
            cur_ds = min(cur_ds * 1.5, ds_max)
    out = _assemble(cp, rows, specials, end, stop)
    from .. import _programs

    # repeated calls that have earned it: better code compiled in the background
    _programs.settle(time.perf_counter() - t_start)
    return out


def _codes(*items) -> tuple:
    """The integer codes of `RESULTS` items (compared on the host, not by eager device
    operations)."""
    return tuple(int(np.asarray(item._value)) for item in items)


def _hopf_end(cp, u_a, u_b, dev, ia, ib):
    """Locate the Hopf point the branch passed between rows `ia` (last kept) and `ib`."""
    X, T, p = cp.split(u_a)
    _, _, p_b = cp.split(u_b)
    w = np.asarray(cp.node_weights(u_a.dtype))
    xa = np.sum(w[:, None] * np.asarray(X), 0)
    na, nb = np.linalg.norm(dev[ia]), np.linalg.norm(dev[ib])
    frac = na / (na + nb) if na + nb > 0 else 0.5
    p0 = float(p) + frac * (float(p_b) - float(p))
    omega = 2 * math.pi / float(T)
    loc = _locate_hopf(cp.problem, xa, p0, omega)
    if loc is None:
        return CycleBranchEnd("hopf", p0, False, float(T), tuple(float(v) for v in xa),
                              float(p), message="the Hopf point could not be located")
    xh, ph, wh, l1 = loc
    return CycleBranchEnd("hopf", ph, True, 2 * math.pi / wh,
                          tuple(float(v) for v in xh), float(p), omega=wh, l1=l1)


def _assemble(cp, rows, specials, end, stop) -> CycleBranch:
    """One `CycleBranch` from the kept rows (refined exactly to the largest `ntst`)."""
    ntst = max([r[6] for r in rows] + [s[4] for s in specials] + [cp.ntst])
    m, d = cp.ncol, cp.dim
    dtype = cp.reference.dtype

    def on_final(x_row, mesh, nt):
        if nt == ntst:
            return np.asarray(x_row), np.asarray(mesh)
        cpr = _at_size(cp, nt, mesh)
        X, T, _ = cpr.split(jnp.asarray(x_row))
        fine, vals = _refine_exact(cpr, X, mesh, ntst // nt)
        return np.append(np.asarray(vals).reshape(-1), float(T)), np.asarray(fine)

    N = max(len(rows), 1)
    n_state = ntst * m * d + 1
    Xs = np.full((N, n_state), np.nan)
    Ms = np.tile(np.linspace(0.0, 1.0, ntst + 1), (N, 1))
    P = np.full((N,), np.nan)
    S = np.zeros((N,), bool)
    NU = np.full((N,), -1, np.int32)
    E = np.full((N,), np.nan)
    for i, (x_row, p, st, nu, e, mesh, nt) in enumerate(rows):
        Xs[i], Ms[i] = on_final(x_row, mesh, nt)
        P[i], S[i], NU[i], E[i] = p, st, nu, e
    K = max(len(specials), 1)
    keys = ("period", "mu_re", "mu_im")
    sp_kind = np.zeros((K,), np.int32)
    sp_p = np.full((K,), np.nan)
    sp_x = np.full((K, n_state), np.nan)
    sp_m = np.tile(np.linspace(0.0, 1.0, ntst + 1), (K, 1))
    sp_idx = np.full((K,), -1, np.int32)
    sp_prec = np.full((K,), np.nan)
    sp_loc = np.zeros((K,), bool)
    sp_data = {k: np.full((K,), np.nan) for k in keys}
    order = sorted(range(len(specials)), key=lambda j: specials[j][5])
    for k, j in enumerate(order):
        kind, p, x_row, mesh, nt, idx, prec, loc, rec = specials[j]
        sp_kind[k], sp_p[k], sp_idx[k], sp_prec[k], sp_loc[k] = int(kind), p, idx, prec, loc
        sp_x[k], sp_m[k] = on_final(x_row, mesh, nt)
        for key in keys:
            sp_data[key][k] = rec.get(key, np.nan)
    # built on the host, moved to the device in one transfer (no eager device operations)
    special = SpecialPoints(**jax.device_put(dict(
        kind=sp_kind, p=sp_p.astype(dtype), x=sp_x.astype(dtype), index=sp_idx,
        precision=sp_prec.astype(dtype), located=sp_loc,
        tangent=np.full((K, n_state + 1), np.nan, dtype),
        data={k: v.astype(dtype) for k, v in sp_data.items()},
        count=np.asarray(len(specials), np.int32))))
    cp_final = _at_size(cp, ntst, Ms[0])
    if rows:
        Xr = jax.device_put(Xs[0, :-1].astype(dtype).reshape(ntst * m, d))
        cp_final = eqx.tree_at(lambda c: c.reference, cp_final, Xr)
    rows_d = jax.device_put(dict(
        x=Xs.astype(dtype), p=P.astype(dtype), stable=S, n_unstable=NU,
        ds=np.full((N,), np.nan, dtype), newton_iterations=np.full((N,), -1, np.int32),
        num_points=np.asarray(len(rows), np.int32)))
    branch = Branch(**rows_d, special=special, result=RESULTS.successful, stats={},
                    param_name=cp.param_name)
    return CycleBranch(cp_final, branch, meshes=Ms, special_meshes=sp_m, errors=E,
                       end=end, stop_reason=stop)


def _at_size(cp, ntst, mesh):
    """`cp` with `ntst` intervals on `mesh` (reference: zeros)."""
    if ntst == cp.ntst:
        return with_mesh(cp, jnp.asarray(mesh, cp.mesh.dtype))
    return CollocationProblem(cp.problem, jnp.zeros((ntst * cp.ncol, cp.dim),
                                                    cp.reference.dtype),
                              ntst=ntst, ncol=cp.ncol, mesh=jnp.asarray(mesh),
                              stability=cp.stability, detect=cp.detect, norm=cp.norm)
